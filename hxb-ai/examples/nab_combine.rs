//! Ways of combining the default composite with a range-hinted contextOSE, each with its
//! subset score (standard / low FP / low FN), leave-one-category-out transfer (standard) and
//! the split-half threshold transfer on `realAWSCloudwatch`; also the context cap and a
//! range hint wider than the data (an operator's estimate rather than NAB's exact range).
//!
//! ```text
//! cargo run --release -p hxb-ai --example nab_combine -- [NAB_DIR]
//! ```
use std::time::Instant;

use hxb_ai::detect::{
    Composite, CompositeConfig, ContextMode, ContextOse, RangeHint, score_points,
};
use hxb_ai::nab::{Corpus, Evaluator, Profile};

fn range(f: &hxb_ai::nab::DataFile) -> (f64, f64) {
    let lo = f.values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = f.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

fn report(corpus: &Corpus, name: &str, scores: &[Vec<f64>]) -> hxb_core::Result<()> {
    let ev = Evaluator::new();
    let r = ev.evaluate_all(corpus, scores)?;
    let mut loco = String::new();
    for (_, t) in ev.leave_one_category_out(corpus, scores, &Profile::STANDARD)? {
        loco += &format!(" {:.1} ({:.1})", t.transferred.normalized, t.own.normalized);
    }
    let [ab, ba] = ev.split_half(corpus, scores, &Profile::STANDARD, "realAWSCloudwatch")?;
    println!(
        "{name:<40} {:>5.1} {:>5.1} {:>5.1}  thr {:.3}  loco{loco}  split A->B {:.1} B->A {:.1}",
        r[0].normalized,
        r[1].normalized,
        r[2].normalized,
        r[0].best.threshold,
        ab.transferred.normalized,
        ba.transferred.normalized
    );
    Ok(())
}

fn run(corpus: &Corpus, c: impl Fn(&hxb_ai::nab::DataFile) -> CompositeConfig) -> Vec<Vec<f64>> {
    corpus
        .files
        .iter()
        .map(|f| score_points(&mut c(f).build(), &f.points()))
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
    let comp = run(&corpus, |_| Composite::builder().shapes(None));
    report(&corpus, "composite", &comp)?;
    let start = Instant::now();
    let ose: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| {
            let (lo, hi) = range(f);
            let mut d = ContextOse::new(3, 15, 7, 4096, 120, 0.75).with_range(lo, hi);
            score_points(&mut d, &f.points())
        })
        .collect();
    println!("ose time {:.2}s", start.elapsed().as_secs_f64());
    report(&corpus, "contextOSE range 4096", &ose)?;
    report(&corpus, "max", &zip(&comp, &ose, f64::max))?;
    report(&corpus, "mean", &zip(&comp, &ose, |a, b| 0.5 * (a + b)))?;
    for w in [0.3, 0.7] {
        report(
            &corpus,
            &format!("mean w_comp {w}"),
            &zip(&comp, &ose, |a, b| w * a + (1.0 - w) * b),
        )?;
    }
    for cal in [true, false] {
        let s = run(&corpus, |f| {
            Composite::builder()
                .shapes(None)
                .context(Some(ContextMode {
                    max_contexts: 4096,
                    calibrated: cal,
                }))
                .range_hint(RangeHint::of(&f.values))
        });
        report(
            &corpus,
            &format!("top-two with ctx part, hint, cal={cal}"),
            &s,
        )?;
    }
    for cap in [512usize, 1024, 2048, 16384] {
        let start = Instant::now();
        let o: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| {
                let (lo, hi) = range(f);
                let mut d = ContextOse::new(3, 15, 7, cap, 120, 0.75).with_range(lo, hi);
                score_points(&mut d, &f.points())
            })
            .collect();
        let rate = corpus.row_count() as f64 / start.elapsed().as_secs_f64();
        report(&corpus, &format!("ose cap {cap} ({rate:.0} p/s)"), &o)?;
        report(
            &corpus,
            &format!("max comp, ose cap {cap}"),
            &zip(&comp, &o, f64::max),
        )?;
    }
    for widen in [0.1, 0.5] {
        let o: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| {
                let (lo, hi) = range(f);
                let w = widen * (hi - lo);
                let mut d = ContextOse::new(3, 15, 7, 4096, 120, 0.75).with_range(lo - w, hi + w);
                score_points(&mut d, &f.points())
            })
            .collect();
        report(&corpus, &format!("ose range widened {widen}"), &o)?;
        report(
            &corpus,
            &format!("max comp, ose widened {widen}"),
            &zip(&comp, &o, f64::max),
        )?;
    }
    Ok(())
}
