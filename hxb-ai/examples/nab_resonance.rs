//! The resonance (window-shape novelty) stage on the NAB subset, next to the statistical
//! stage and the previous hinted detector: scores with their transfer checks, ways of
//! combining the stages, per-window detection positions and per-file memory use.
//!
//! ```text
//! cargo run --release -p hxb-ai --example nab_resonance -- [NAB_DIR] [diagnose|stats]
//! ```
//!
//! * no mode: each detector's subset score (standard / low FP / low FN), its
//!   leave-one-category-out transfer (standard; in parentheses the held-out category's own
//!   optimum) and the split-half threshold transfer on `realAWSCloudwatch`;
//! * `diagnose`: for each file and window, where the first detection lands (0 = window start,
//!   1 = end, `-` missed) and the detections outside windows, at each detector's optimum;
//! * `stats`: per file the block lengths, the categories stored per scale and the speed.
//!
//! "NAB protocol" means each file's range as the hint and its probationary period as the
//! learning period, as NAB's runner hands them to every detector.
#[allow(dead_code)]
mod nab_common;

use std::time::{Duration, Instant};

use hxb_ai::detect::{
    Composite, ContextOse, RangeHint, Resonance, ResonanceConfig, SHAPE_ALERT, score_points,
};
use hxb_ai::nab::{Corpus, DataFile, Evaluator, Profile, probationary_length, protocol_learning};

type Scores = Vec<Vec<f64>>;

/// Per file at `threshold`: the position of each window's first detection and the number of
/// detections outside windows.
fn diagnose(corpus: &Corpus, scores: &[Vec<f64>], threshold: f64) -> Vec<String> {
    corpus
        .files
        .iter()
        .zip(scores)
        .map(|(f, s)| {
            let probation = probationary_length(0.15, f.values.len()) as usize;
            let detected = |i: usize| i >= probation && s[i] >= threshold;
            let mut out = String::new();
            for &(a, b) in &f.windows {
                let hit = (0..f.values.len())
                    .find(|&i| detected(i) && (a..=b).contains(&f.timestamps[i]));
                match hit {
                    Some(i) => {
                        out += &format!("{:.2} ", (f.timestamps[i] - a) as f64 / (b - a) as f64)
                    }
                    None => out += "  -  ",
                }
            }
            let outside = (0..f.values.len())
                .filter(|&i| {
                    let t = f.timestamps[i];
                    detected(i) && !f.windows.iter().any(|&(a, b)| (a..=b).contains(&t))
                })
                .count();
            format!("{out}fp {outside}")
        })
        .collect()
}

/// Each file's own range (a constant file gets its value ± 1).
fn file_range(f: &DataFile) -> RangeHint {
    RangeHint::of(&f.values).unwrap_or_else(|| {
        RangeHint::new(f.values[0] - 1.0, f.values[0] + 1.0).expect("a finite value")
    })
}

/// The resonance stage alone, under NAB's protocol (`hinted`) or learning its range.
fn resonance(
    corpus: &Corpus,
    hinted: bool,
    c: impl Fn(ResonanceConfig) -> ResonanceConfig,
) -> Scores {
    corpus
        .files
        .iter()
        .map(|f| {
            let config = c(Resonance::builder()
                .learning(protocol_learning(f))
                .learning_time(Duration::ZERO));
            let mut d = config.build(hinted.then(|| file_range(f)));
            score_points(&mut d, &f.points())
        })
        .collect()
}

fn zip(a: &[Vec<f64>], b: &[Vec<f64>], f: impl Fn(f64, f64) -> f64) -> Scores {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(&p, &q)| f(p, q)).collect())
        .collect()
}

/// A resonance score on the statistical stage's scale (0.5 = alert), as the composite maps it.
fn lift(statistical: f64, shape: f64) -> f64 {
    let s = shape.clamp(0.0, 1.0);
    let mapped = if s <= SHAPE_ALERT {
        0.5 * s / SHAPE_ALERT
    } else {
        0.5 + 0.5 * (s - SHAPE_ALERT) / (1.0 - SHAPE_ALERT)
    };
    statistical.max(mapped)
}

fn main() -> hxb_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .find(|a| !matches!(a.as_str(), "diagnose" | "stats"))
        .cloned()
        .unwrap_or_else(|| "../shared/data/nab".into());
    let mode = args
        .iter()
        .find(|a| matches!(a.as_str(), "diagnose" | "stats"))
        .cloned();
    let corpus = Corpus::load(&dir)?;

    if mode.as_deref() == Some("stats") {
        for f in &corpus.files {
            let c = Resonance::builder()
                .learning(protocol_learning(f))
                .learning_time(Duration::ZERO);
            let mut d = c.build(Some(file_range(f)));
            let start = Instant::now();
            score_points(&mut d, &f.points());
            println!(
                "{:<44} rows {:>5} steps {:?} categories {:?} {:.2} M points/s",
                f.file_name(),
                f.values.len(),
                c.steps(),
                d.categories(),
                f.values.len() as f64 / start.elapsed().as_secs_f64() / 1e6
            );
        }
        return Ok(());
    }

    let statistical: Scores = corpus
        .files
        .iter()
        .map(|f| score_points(&mut Composite::builder().shapes(None).build(), &f.points()))
        .collect();
    let previous_hinted: Scores = corpus
        .files
        .iter()
        .zip(&statistical)
        .map(|(f, s)| {
            let h = file_range(f);
            let mut ose = ContextOse::new(3, 15, 7, 4096, 120, 0.75).with_range(h.min(), h.max());
            let o = score_points(&mut ose, &f.points());
            s.iter().zip(o).map(|(a, b)| a.max(b)).collect()
        })
        .collect();
    let hinted = resonance(&corpus, true, |c| c);
    let learnt = resonance(&corpus, false, |c| c);

    if mode.as_deref() == Some("diagnose") {
        let ev = Evaluator::new();
        let mut cols = Vec::new();
        for s in [&previous_hinted, &hinted, &learnt] {
            let t = ev.evaluate(&corpus, s, &Profile::STANDARD)?.best.threshold;
            cols.push(diagnose(&corpus, s, t));
        }
        println!("file | previous hinted | resonance, NAB protocol | resonance, learnt range");
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

    println!(
        "detector: standard / low FP / low FN, LOCO noAnomaly / withAnomaly / AWS, split A->B / B->A"
    );
    nab_common::summary(
        52,
        &corpus,
        "statistical stage (previous default), live",
        &statistical,
    )?;
    nab_common::summary(
        52,
        &corpus,
        "previous hinted (statistical or contextOSE)",
        &previous_hinted,
    )?;
    nab_common::summary(52, &corpus, "resonance, NAB protocol", &hinted)?;
    nab_common::summary(52, &corpus, "resonance, learnt range", &learnt)?;
    nab_common::summary(
        52,
        &corpus,
        "  max(statistical, resonance lifted), NAB",
        &zip(&statistical, &hinted, lift),
    )?;
    nab_common::summary(
        52,
        &corpus,
        "  max(statistical, resonance lifted), learnt",
        &zip(&statistical, &learnt, lift),
    )?;
    nab_common::summary(
        52,
        &corpus,
        "  max(previous hinted, resonance lifted), NAB",
        &zip(&previous_hinted, &hinted, lift),
    )?;
    Ok(())
}
