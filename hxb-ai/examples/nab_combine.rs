//! Ways of combining the default composite with a range-hinted contextOSE, each with its
//! subset score (standard / low FP / low FN), leave-one-category-out transfer (standard) and
//! the split-half threshold transfer on `realAWSCloudwatch`; also the context cap and a
//! range hint wider than the data (an operator's estimate rather than NAB's exact range).
//!
//! ```text
//! cargo run --release -p hxb-ai --example nab_combine -- [NAB_DIR]
//! ```
#[allow(dead_code)]
mod nab_common;

use std::time::Instant;

use hxb_ai::detect::{
    Composite, CompositeConfig, ContextMode, ContextOse, RangeHint, score_points,
};
use hxb_ai::nab::Corpus;

fn range(f: &hxb_ai::nab::DataFile) -> (f64, f64) {
    let lo = f.values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = f.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
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
    nab_common::summary(40, &corpus, "composite", &comp)?;
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
    nab_common::summary(40, &corpus, "contextOSE range 4096", &ose)?;
    nab_common::summary(40, &corpus, "max", &zip(&comp, &ose, f64::max))?;
    nab_common::summary(40, &corpus, "mean", &zip(&comp, &ose, |a, b| 0.5 * (a + b)))?;
    for w in [0.3, 0.7] {
        nab_common::summary(
            40,
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
        nab_common::summary(
            40,
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
        nab_common::summary(40, &corpus, &format!("ose cap {cap} ({rate:.0} p/s)"), &o)?;
        nab_common::summary(
            40,
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
        nab_common::summary(40, &corpus, &format!("ose range widened {widen}"), &o)?;
        nab_common::summary(
            40,
            &corpus,
            &format!("max comp, ose widened {widen}"),
            &zip(&comp, &o, f64::max),
        )?;
    }
    Ok(())
}
