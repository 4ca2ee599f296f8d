//! Shared by the NAB example programs (not an example itself).

use hxb_ai::nab::{Corpus, Evaluator, Profile};

/// NAB's reference detectors on this subset (standard, low FP, low FN), from the subset's
/// README: NAB's own scorer on NAB's bundled result files, thresholds re-optimised.
pub const REFERENCE: &[(&str, [f64; 3])] = &[
    ("numenta (HTM)", [72.3, 69.1, 76.0]),
    ("contextOSE", [71.6, 67.2, 75.5]),
    ("ARTime", [69.8, 60.0, 75.2]),
    ("knncad", [57.0, 46.6, 62.1]),
    ("earthgeckoSkyline", [55.1, 43.2, 60.8]),
    ("randomCutForest", [53.7, 44.9, 60.1]),
    ("relativeEntropy", [50.1, 42.9, 53.7]),
    ("twitterADVec", [41.2, 23.5, 49.7]),
    ("windowedGaussian", [26.5, 2.2, 37.1]),
    ("random", [20.8, 7.7, 29.5]),
    ("null", [0.0, 0.0, 0.0]),
];

/// One line per detector: its subset score in the three profiles, its optimised standard
/// threshold, leave-one-category-out transfer (the held-out category's own optimum in
/// parentheses) and the split-half threshold transfer on `realAWSCloudwatch`.
pub fn summary(
    width: usize,
    corpus: &Corpus,
    name: &str,
    scores: &[Vec<f64>],
) -> hxb_core::Result<()> {
    let ev = Evaluator::new();
    let r = ev.evaluate_all(corpus, scores)?;
    let mut loco = String::new();
    for (_, t) in ev.leave_one_category_out(corpus, scores, &Profile::STANDARD)? {
        loco += &format!(" {:.1} ({:.1})", t.transferred.normalized, t.own.normalized);
    }
    let [ab, ba] = ev.split_half(corpus, scores, &Profile::STANDARD, "realAWSCloudwatch")?;
    println!(
        "{name:<width$} {:>5.1} {:>5.1} {:>5.1}  thr {:.3}  loco{loco}  split A->B {:.1} B->A {:.1}",
        r[0].normalized,
        r[1].normalized,
        r[2].normalized,
        r[0].best.threshold,
        ab.transferred.normalized,
        ba.transferred.normalized
    );
    Ok(())
}
