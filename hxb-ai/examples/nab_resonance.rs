//! The resonance (window-shape novelty) detector on the NAB subset: alone and combined with
//! the composite, with NAB's protocol hint (each file's range) and learning period (its
//! probationary period), each with its subset score (standard / low FP / low FN),
//! leave-one-category-out transfer (standard) and the split-half threshold transfer on
//! `realAWSCloudwatch`.
//!
//! ```text
//! cargo run --release -p hxb-ai --example nab_resonance -- [NAB_DIR]
//! ```
use std::time::Instant;

use hxb_ai::detect::{Composite, Detector, RangeHint, Resonance, ResonanceConfig, score_points};
use hxb_ai::nab::{Corpus, DataFile, Evaluator, Profile, probationary_length};

fn report(corpus: &Corpus, name: &str, scores: &[Vec<f64>]) -> hxb_core::Result<f64> {
    let ev = Evaluator::new();
    let r = ev.evaluate_all(corpus, scores)?;
    let mut loco = String::new();
    let mut cats: Vec<&str> = corpus.files.iter().map(|f| f.category()).collect();
    cats.dedup();
    let pick = |idx: &[usize]| {
        (
            Corpus {
                files: idx.iter().map(|&i| corpus.files[i].clone()).collect(),
            },
            idx.iter().map(|&i| scores[i].clone()).collect::<Vec<_>>(),
        )
    };
    for cat in cats {
        let held: Vec<usize> = (0..corpus.files.len())
            .filter(|&i| corpus.files[i].category() == cat)
            .collect();
        let rest: Vec<usize> = (0..corpus.files.len())
            .filter(|&i| corpus.files[i].category() != cat)
            .collect();
        let (hc, hs) = pick(&held);
        let (rc, rs) = pick(&rest);
        let t = ev.evaluate(&rc, &rs, &Profile::STANDARD)?.best.threshold;
        let own = ev.evaluate(&hc, &hs, &Profile::STANDARD)?.normalized;
        loco += &format!(
            " {:.1} ({own:.1})",
            ev.evaluate_at(&hc, &hs, &Profile::STANDARD, t)?.normalized
        );
    }
    let aws: Vec<usize> = (0..corpus.files.len())
        .filter(|&i| corpus.files[i].category() == "realAWSCloudwatch")
        .collect();
    let half = |odd: usize| -> Vec<usize> {
        aws.iter()
            .enumerate()
            .filter(|(k, _)| k % 2 == odd)
            .map(|(_, &i)| i)
            .collect()
    };
    let (a, as_) = pick(&half(0));
    let (b, bs) = pick(&half(1));
    let ta = ev.evaluate(&a, &as_, &Profile::STANDARD)?.best.threshold;
    let tb = ev.evaluate(&b, &bs, &Profile::STANDARD)?.best.threshold;
    let ab = ev.evaluate_at(&b, &bs, &Profile::STANDARD, ta)?.normalized;
    let ba = ev.evaluate_at(&a, &as_, &Profile::STANDARD, tb)?.normalized;
    println!(
        "{name:<44} {:>5.1} {:>5.1} {:>5.1}  thr {:.3}  loco{loco}  split {ab:.1} / {ba:.1}",
        r[0].normalized, r[1].normalized, r[2].normalized, r[0].best.threshold
    );
    Ok(r[0].normalized)
}

/// Per file at `threshold`: for each window the position of its first detection (0 = window
/// start, 1 = end) or `-` when missed, then the number of detections outside windows.
fn diagnose(corpus: &Corpus, scores: &[Vec<f64>], threshold: f64) -> Vec<String> {
    corpus
        .files
        .iter()
        .zip(scores)
        .map(|(f, s)| {
            let probation = probationary_length(0.15, f.values.len()) as usize;
            let mut out = String::new();
            for &(a, b) in &f.windows {
                let hit = f
                    .timestamps
                    .iter()
                    .zip(s)
                    .enumerate()
                    .find(|&(i, (&t, &v))| i >= probation && t >= a && t <= b && v >= threshold);
                match hit {
                    Some((_, (&t, _))) => {
                        out += &format!("{:.2} ", (t - a) as f64 / (b - a) as f64)
                    }
                    None => out += "  -  ",
                }
            }
            let fp = f
                .timestamps
                .iter()
                .zip(s)
                .enumerate()
                .filter(|&(i, (&t, &v))| {
                    i >= probation
                        && v >= threshold
                        && !f.windows.iter().any(|&(a, b)| t >= a && t <= b)
                })
                .count();
            format!("{out}fp {fp}")
        })
        .collect()
}

fn learning(f: &DataFile) -> u32 {
    probationary_length(0.15, f.values.len()) as u32
}

fn resonance(corpus: &Corpus, c: impl Fn(ResonanceConfig) -> ResonanceConfig) -> Vec<Vec<f64>> {
    corpus
        .files
        .iter()
        .map(|f| {
            // A constant file has no range; any range around its value will do.
            let hint = RangeHint::of(&f.values)
                .unwrap_or_else(|| RangeHint::new(f.values[0] - 1.0, f.values[0] + 1.0).unwrap());
            let mut d = c(Resonance::builder().learning(learning(f))).build(Some(hint));
            score_points(&mut d, &f.points())
        })
        .collect()
}

/// Like [`resonance`], with the range taken from `range(file)`.
fn resonance_in(
    corpus: &Corpus,
    range: impl Fn(&DataFile) -> RangeHint,
    c: impl Fn(ResonanceConfig) -> ResonanceConfig,
) -> Vec<Vec<f64>> {
    corpus
        .files
        .iter()
        .map(|f| {
            let mut d = c(Resonance::builder().learning(learning(f))).build(Some(range(f)));
            score_points(&mut d, &f.points())
        })
        .collect()
}

/// A range `widen` spans wider on each side than `values`' own (a constant gets ±1).
fn widened(values: &[f64], widen: f64) -> RangeHint {
    match RangeHint::of(values) {
        Some(h) => {
            let w = widen * (h.max() - h.min());
            RangeHint::new(h.min() - w, h.max() + w).expect("finite")
        }
        None => RangeHint::new(values[0] - 1.0, values[0] + 1.0).expect("finite"),
    }
}

/// Like [`resonance`], without a hint: the range is learnt over the learning period.
fn resonance_learnt(
    corpus: &Corpus,
    c: impl Fn(ResonanceConfig) -> ResonanceConfig,
) -> Vec<Vec<f64>> {
    corpus
        .files
        .iter()
        .map(|f| {
            let mut d = c(Resonance::builder().learning(learning(f))).build(None);
            score_points(&mut d, &f.points())
        })
        .collect()
}

fn zip(a: &[Vec<f64>], b: &[Vec<f64>], f: impl Fn(f64, f64) -> f64) -> Vec<Vec<f64>> {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(&p, &q)| f(p, q)).collect())
        .collect()
}

fn main() -> hxb_core::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/data/nab".into());
    let corpus = Corpus::load(&dir)?;
    let comp: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| score_points(&mut Composite::default(), &f.points()))
        .collect();
    report(&corpus, "composite (no hint)", &comp)?;
    let hinted: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| {
            let mut d = Composite::builder()
                .range_hint(RangeHint::of(&f.values))
                .build();
            score_points(&mut d, &f.points())
        })
        .collect();
    report(&corpus, "composite + NAB hint", &hinted)?;
    let start = Instant::now();
    let res = resonance(&corpus, |c| c);
    let rate = corpus.row_count() as f64 / start.elapsed().as_secs_f64();
    report(
        &corpus,
        &format!("resonance ({:.2} M p/s)", rate / 1e6),
        &res,
    )?;
    report(
        &corpus,
        "max(composite, resonance)",
        &zip(&comp, &res, f64::max),
    )?;
    report(
        &corpus,
        "max(hinted composite, resonance)",
        &zip(&hinted, &res, f64::max),
    )?;
    if std::env::args().nth(2).as_deref() == Some("speed") {
        let files: Vec<(Vec<(i64, f64)>, u32, RangeHint)> = corpus
            .files
            .iter()
            .map(|f| {
                let hint = RangeHint::of(&f.values).unwrap_or_else(|| {
                    RangeHint::new(f.values[0] - 1.0, f.values[0] + 1.0).unwrap()
                });
                (f.points(), learning(f), hint)
            })
            .collect();
        for hinted in [true, false] {
            let start = Instant::now();
            let mut sum = 0.0;
            for _ in 0..10 {
                for (points, learning, hint) in &files {
                    let mut d = Resonance::builder()
                        .learning(*learning)
                        .build(hinted.then_some(*hint));
                    sum += points.iter().map(|&(t, v)| d.update(t, v)).sum::<f64>();
                }
            }
            let rate = 10.0 * corpus.row_count() as f64 / start.elapsed().as_secs_f64();
            println!(
                "resonance (hint {hinted}) {:.2} M p/s (checksum {sum:.3})",
                rate / 1e6
            );
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("stats") {
        for f in &corpus.files {
            let hint = RangeHint::of(&f.values)
                .unwrap_or_else(|| RangeHint::new(f.values[0] - 1.0, f.values[0] + 1.0).unwrap());
            let c = Resonance::builder().learning(learning(f));
            let mut d = c.build(Some(hint));
            let start = Instant::now();
            score_points(&mut d, &f.points());
            println!(
                "{:<44} rows {:>5} steps {:?} categories {:?} {:.2} M p/s",
                f.file_name(),
                f.values.len(),
                c.steps(),
                d.categories(),
                f.values.len() as f64 / start.elapsed().as_secs_f64() / 1e6
            );
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("diagnose") {
        let ev = Evaluator::new();
        let spl = resonance(&corpus, |c| c.scales(1));
        let mut cols = Vec::new();
        for s in [&hinted, &res, &spl] {
            let t = ev.evaluate(&corpus, s, &Profile::STANDARD)?.best.threshold;
            cols.push(diagnose(&corpus, s, t));
        }
        println!("file | hinted composite | resonance | resonance, one scale");
        for (i, f) in corpus.files.iter().enumerate() {
            println!(
                "{:<44} | {:<22} | {:<22} | {}",
                f.file_name(),
                cols[0][i],
                cols[1][i],
                cols[2][i]
            );
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("scales") {
        let lift = |x: f64, y: f64| x.max(if y > 0.0 { 0.5 + 0.5 * y } else { 0.0 });
        for (scales, cap) in [(2u32, 512usize), (2, 1024), (3, 1024)] {
            let s = resonance_learnt(&corpus, |c| c.scales(scales).max_categories(cap));
            report(&corpus, &format!("learnt, scales {scales} cap {cap}"), &s)?;
            report(
                &corpus,
                "  lifted, max with composite",
                &zip(&comp, &s, lift),
            )?;
            let s = resonance(&corpus, |c| c.scales(scales).max_categories(cap));
            report(&corpus, &format!("NAB hint, scales {scales} cap {cap}"), &s)?;
            report(
                &corpus,
                "  lifted, max with composite",
                &zip(&comp, &s, lift),
            )?;
            report(
                &corpus,
                "  lifted, max with hinted composite",
                &zip(&hinted, &s, lift),
            )?;
            for widen in [0.1, 0.5] {
                let s = resonance_in(
                    &corpus,
                    |f| widened(&f.values, widen),
                    |c| c.scales(scales).max_categories(cap),
                );
                report(
                    &corpus,
                    &format!("  NAB hint widened {widen}, lifted, max with composite"),
                    &zip(&comp, &s, lift),
                )?;
            }
        }
        return Ok(());
    }
    let only = std::env::args().nth(2);
    if only.as_deref() == Some("quick") {
        return Ok(());
    }
    let variants: Vec<(String, Box<dyn Fn(ResonanceConfig) -> ResonanceConfig>)> = vec![
        ("default".into(), Box::new(|c| c)),
        ("spl 200".into(), Box::new(|c| c.samples_per_learning(200))),
        ("spl 600".into(), Box::new(|c| c.samples_per_learning(600))),
    ];
    for (name, f) in &variants {
        let s = resonance(&corpus, f);
        report(&corpus, &format!("resonance {name}"), &s)?;
        report(&corpus, "  max with composite", &zip(&comp, &s, f64::max))?;
        report(
            &corpus,
            "  max with hinted composite",
            &zip(&hinted, &s, f64::max),
        )?;
        for base in [0.5, 0.75] {
            let lift = |a: f64, b: f64| {
                a.max(if b > 0.0 {
                    base + (1.0 - base) * b
                } else {
                    0.0
                })
            };
            report(
                &corpus,
                &format!("  lifted {base}, max with composite"),
                &zip(&comp, &s, lift),
            )?;
            report(
                &corpus,
                &format!("  lifted {base}, max with hinted"),
                &zip(&hinted, &s, lift),
            )?;
        }
    }
    Ok(())
}
