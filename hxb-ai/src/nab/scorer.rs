//! NAB's scoring rules, replicated from numenta/NAB v1.1 (`nab/sweeper.py`, `nab/scorer.py`,
//! `nab/optimizer.py`, `nab/runner.py::normalize`, `config/profiles.json`).
//!
//! * Probationary period: the first `min(floor(0.15 · n), 0.15 · 5000)` rows of each file are
//!   dropped before scoring (`Sweeper._getProbationaryLength`).
//! * Windows are entered when a row's timestamp equals the next window's start and left after
//!   the row whose timestamp equals its end (`Sweeper.calcSweepScore`).
//! * A row inside a window scores `tpWeight · σ̃(−(right − i + 1)/width) / σ̃(−1)` where
//!   `σ̃(x) = 2/(1 + e^{5x}) − 1` (−1 for `x ≥ 3`); only the best (earliest) detection per window
//!   counts, a window with no detection costs `−fnWeight`.
//! * A row outside windows scores `fpWeight · σ̃(|prevRight − i| / (prevWidth − 1))`, or
//!   `−fpWeight` before the first window.
//! * The threshold is swept over every distinct anomaly score of the whole corpus
//!   (`Sweeper.calcScoreByThreshold`, a row is a detection when `score ≥ threshold`), and the
//!   best corpus total is kept (`optimizer.optimizeThreshold`).
//! * Normalisation (`Runner.normalize`): `100 · (raw − null) / (perfect − null)` where `null` is
//!   the optimised score of the constant-0.5 null detector and `perfect = windows · tpWeight`.

use hxb_core::{Error, Result};

use super::corpus::{Corpus, DataFile};

/// A NAB cost profile (`config/profiles.json`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Profile name as NAB spells it.
    pub name: &'static str,
    /// Weight of a true positive (the reward of a detection at a window's start).
    pub tp_weight: f64,
    /// Weight of a false positive.
    pub fp_weight: f64,
    /// Weight of a missed window.
    pub fn_weight: f64,
    /// Weight of a true negative (unused by NAB's scoring, kept for completeness).
    pub tn_weight: f64,
}

impl Profile {
    /// `standard`: TP 1, FP 0.11, FN 1, TN 1.
    pub const STANDARD: Profile = Profile {
        name: "standard",
        tp_weight: 1.0,
        fp_weight: 0.11,
        fn_weight: 1.0,
        tn_weight: 1.0,
    };
    /// `reward_low_FP_rate`: TP 1, FP 0.22, FN 1, TN 1.
    pub const REWARD_LOW_FP: Profile = Profile {
        name: "reward_low_FP_rate",
        tp_weight: 1.0,
        fp_weight: 0.22,
        fn_weight: 1.0,
        tn_weight: 1.0,
    };
    /// `reward_low_FN_rate`: TP 1, FP 0.11, FN 2, TN 1.
    pub const REWARD_LOW_FN: Profile = Profile {
        name: "reward_low_FN_rate",
        tp_weight: 1.0,
        fp_weight: 0.11,
        fn_weight: 2.0,
        tn_weight: 1.0,
    };

    /// The three published profiles, in NAB's table order.
    pub const ALL: [Profile; 3] = [
        Profile::STANDARD,
        Profile::REWARD_LOW_FP,
        Profile::REWARD_LOW_FN,
    ];
}

/// NAB's scaled sigmoid: `2·sigmoid(−5x) − 1`, and exactly −1 for `x ≥ 3`.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x >= 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// Length of the probationary period of a file of `rows` rows (`probation_percent` = 0.15 in NAB).
pub fn probationary_length(probation_percent: f64, rows: usize) -> f64 {
    (probation_percent * rows as f64)
        .floor()
        .min(probation_percent * 5000.0)
}

/// One scorable row (outside the probationary period).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepRow {
    /// The detector's anomaly score.
    pub anomaly_score: f64,
    /// The weighted contribution this row makes if it is a detection.
    pub sweep_score: f64,
    /// Corpus-wide id of the window the row is in, if any.
    pub window: Option<u32>,
}

/// The corpus score at one threshold, with NAB's row counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdScore {
    /// Rows with `anomaly_score >= threshold` are detections (1.1: none).
    pub threshold: f64,
    /// Raw (unnormalised) score.
    pub score: f64,
    /// Detected rows inside windows.
    pub tp: usize,
    /// Undetected rows outside windows.
    pub tn: usize,
    /// Detected rows outside windows.
    pub fp: usize,
    /// Undetected rows inside windows.
    pub fn_: usize,
}

/// Computes the scorable rows of one file (`Sweeper.calcSweepScore` minus probationary rows).
///
/// `first_window_id` offsets window ids so rows of several files can be pooled. Returns the
/// number of windows of the file. Errors (`InvalidInput`) when `scores` and the file differ in
/// length or a window end timestamp is not a row of the file.
pub fn sweep_file(
    file: &DataFile,
    scores: &[f64],
    profile: &Profile,
    probation_percent: f64,
    first_window_id: u32,
    out: &mut Vec<SweepRow>,
) -> Result<u32> {
    let ts = &file.timestamps;
    if scores.len() != ts.len() {
        return Err(Error::invalid(
            file.name.clone(),
            format!("{} anomaly scores for {} rows", scores.len(), ts.len()),
        ));
    }
    let max_tp = scaled_sigmoid(-1.0);
    let probation = probationary_length(probation_percent, ts.len());
    let mut next = 0usize;
    // (window id, right index, width, end timestamp)
    let mut cur: Option<(u32, usize, f64, i64)> = None;
    let mut prev: Option<(usize, f64)> = None;
    for (i, (&t, &s)) in ts.iter().zip(scores).enumerate() {
        if let Some(&(start, end)) = file.windows.get(next)
            && t == start
        {
            let right = ts.iter().position(|&x| x == end).ok_or_else(|| {
                Error::invalid(
                    file.name.clone(),
                    "window end is not a timestamp of the file",
                )
            })?;
            let left = ts.iter().position(|&x| x == start).unwrap_or(i);
            let width = right as f64 - left as f64 + 1.0;
            cur = Some((first_window_id + next as u32, right, width, end));
            next += 1;
        }
        let (sweep, window) = match cur {
            Some((id, right, width, _)) => {
                let pos = -(right as f64 - i as f64 + 1.0) / width;
                (scaled_sigmoid(pos) * profile.tp_weight / max_tp, Some(id))
            }
            None => {
                let pos = match prev {
                    None => 3.0,
                    // NAB divides by zero for a one-row window; treat it as "far behind".
                    Some((_, w)) if w <= 1.0 => 3.0,
                    Some((r, w)) => (r as f64 - i as f64).abs() / (w - 1.0),
                };
                (scaled_sigmoid(pos) * profile.fp_weight, None)
            }
        };
        if (i as f64) >= probation {
            out.push(SweepRow {
                anomaly_score: s,
                sweep_score: sweep,
                window,
            });
        }
        if let Some((_, _, width, end)) = cur
            && t == end
        {
            prev = Some((i, width));
            cur = None;
        }
    }
    Ok(file.windows.len() as u32)
}

/// The score for every threshold (`Sweeper.calcScoreByThreshold`), highest threshold first;
/// the first entry is threshold 1.1 (no detection).
pub fn threshold_curve(
    rows: &[SweepRow],
    window_count: u32,
    profile: &Profile,
) -> Vec<ThresholdScore> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| rows[b].anomaly_score.total_cmp(&rows[a].anomaly_score));
    // Windows that have scorable rows start at -fnWeight; the others are not counted.
    const UNSEEN: f64 = f64::NEG_INFINITY;
    let mut parts = vec![UNSEEN; window_count as usize];
    for r in rows {
        if let Some(w) = r.window {
            parts[w as usize] = -profile.fn_weight;
        }
    }
    let window_sum = |parts: &[f64]| parts.iter().filter(|p| p.is_finite()).sum::<f64>();
    let mut fp_sum = 0.0;
    let mut tn = rows.iter().filter(|r| r.window.is_none()).count();
    let mut fn_ = rows.len() - tn;
    let (mut tp, mut fp) = (0, 0);
    // The window part is kept incrementally: sum of finite parts.
    let mut win_total = window_sum(&parts);
    let mut out = Vec::new();
    let mut threshold = 1.1;
    for &k in &order {
        let r = rows[k];
        if r.anomaly_score != threshold {
            out.push(ThresholdScore {
                threshold,
                score: fp_sum + win_total,
                tp,
                tn,
                fp,
                fn_,
            });
            threshold = r.anomaly_score;
        }
        match r.window {
            Some(w) => {
                tp += 1;
                fn_ -= 1;
                let p = &mut parts[w as usize];
                if r.sweep_score > *p {
                    win_total += r.sweep_score - *p;
                    *p = r.sweep_score;
                }
            }
            None => {
                fp += 1;
                tn -= 1;
                fp_sum += r.sweep_score;
            }
        }
    }
    out.push(ThresholdScore {
        threshold,
        score: fp_sum + win_total,
        tp,
        tn,
        fp,
        fn_,
    });
    out
}

/// The best entry of a threshold curve (the highest threshold among equal scores, as NAB's
/// stable sort picks it).
pub fn best_threshold(curve: &[ThresholdScore]) -> ThresholdScore {
    let mut best = curve[0];
    for c in &curve[1..] {
        if c.score > best.score {
            best = *c;
        }
    }
    best
}

/// Raw score of one file's rows at a fixed threshold (`Sweeper.scoreDataSet`).
pub fn score_rows_at(rows: &[SweepRow], threshold: f64, profile: &Profile) -> f64 {
    let mut fp = 0.0;
    let mut windows: Vec<(u32, f64)> = Vec::new();
    for r in rows {
        if let Some(w) = r.window {
            let entry = match windows.iter_mut().find(|(id, _)| *id == w) {
                Some(e) => e,
                None => {
                    windows.push((w, -profile.fn_weight));
                    windows.last_mut().expect("just pushed")
                }
            };
            if r.anomaly_score >= threshold && r.sweep_score > entry.1 {
                entry.1 = r.sweep_score;
            }
        } else if r.anomaly_score >= threshold {
            fp += r.sweep_score;
        }
    }
    fp + windows.iter().map(|w| w.1).sum::<f64>()
}

/// The result of scoring a detector on a corpus under one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileScore {
    /// The cost profile.
    pub profile: Profile,
    /// The optimised threshold and the raw score and counts it gives.
    pub best: ThresholdScore,
    /// Raw score of NAB's null detector (constant 0.5) with its own optimised threshold.
    pub null: f64,
    /// Raw score of a perfect detector: `windows · tpWeight`.
    pub perfect: f64,
    /// `100 · (raw − null) / (perfect − null)`.
    pub normalized: f64,
    /// Raw score of each file at the optimised threshold, in corpus order.
    pub per_file: Vec<(String, f64)>,
}

/// `InvalidInput` unless there is one score series per corpus file.
pub(super) fn check_scores(corpus: &Corpus, scores: &[Vec<f64>]) -> Result<()> {
    if scores.len() == corpus.files.len() {
        return Ok(());
    }
    Err(Error::invalid(
        "scores",
        format!(
            "{} score series for {} files",
            scores.len(),
            corpus.files.len()
        ),
    ))
}

/// Scores detector output against a labelled corpus, NAB style.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluator {
    probation_percent: f64,
}

impl Default for Evaluator {
    fn default() -> Self {
        Evaluator {
            probation_percent: 0.15,
        }
    }
}

impl Evaluator {
    /// An evaluator with NAB's settings (probationary percent 0.15).
    pub fn new() -> Self {
        Self::default()
    }

    /// Overrides the probationary fraction (NAB: 0.15).
    pub fn probation_percent(mut self, p: f64) -> Self {
        self.probation_percent = p;
        self
    }

    /// Pools the scorable rows of every file; returns the rows per file and the window count.
    fn sweep(
        &self,
        corpus: &Corpus,
        scores: &[Vec<f64>],
        profile: &Profile,
    ) -> Result<(Vec<Vec<SweepRow>>, u32)> {
        check_scores(corpus, scores)?;
        let mut windows = 0u32;
        let mut per_file = Vec::with_capacity(scores.len());
        for (file, s) in corpus.files.iter().zip(scores) {
            let mut rows = Vec::with_capacity(s.len());
            windows += sweep_file(file, s, profile, self.probation_percent, windows, &mut rows)?;
            per_file.push(rows);
        }
        Ok((per_file, windows))
    }

    /// The optimised raw score of `scores` (one series per corpus file, same order).
    pub fn optimize(
        &self,
        corpus: &Corpus,
        scores: &[Vec<f64>],
        profile: &Profile,
    ) -> Result<ThresholdScore> {
        let (rows, windows) = self.sweep(corpus, scores, profile)?;
        let all: Vec<SweepRow> = rows.into_iter().flatten().collect();
        Ok(best_threshold(&threshold_curve(&all, windows, profile)))
    }

    /// Optimises the threshold for `profile` and normalises against the null and perfect detectors.
    pub fn evaluate(
        &self,
        corpus: &Corpus,
        scores: &[Vec<f64>],
        profile: &Profile,
    ) -> Result<ProfileScore> {
        let (rows, windows) = self.sweep(corpus, scores, profile)?;
        let all: Vec<SweepRow> = rows.iter().flatten().copied().collect();
        let best = best_threshold(&threshold_curve(&all, windows, profile));
        let null_scores: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| vec![0.5; f.values.len()])
            .collect();
        let null = self.optimize(corpus, &null_scores, profile)?.score;
        let perfect = corpus.window_count() as f64 * profile.tp_weight;
        let normalized = if perfect > null {
            100.0 * (best.score - null) / (perfect - null)
        } else {
            0.0
        };
        let per_file = corpus
            .files
            .iter()
            .zip(&rows)
            .map(|(f, r)| (f.name.clone(), score_rows_at(r, best.threshold, profile)))
            .collect();
        Ok(ProfileScore {
            profile: *profile,
            best,
            null,
            perfect,
            normalized,
            per_file,
        })
    }

    /// Like [`Evaluator::evaluate`] but at a given threshold instead of the optimised one
    /// (to check how a threshold chosen on one corpus transfers to another).
    pub fn evaluate_at(
        &self,
        corpus: &Corpus,
        scores: &[Vec<f64>],
        profile: &Profile,
        threshold: f64,
    ) -> Result<ProfileScore> {
        let (rows, _) = self.sweep(corpus, scores, profile)?;
        let per_file: Vec<(String, f64)> = corpus
            .files
            .iter()
            .zip(&rows)
            .map(|(f, r)| (f.name.clone(), score_rows_at(r, threshold, profile)))
            .collect();
        let raw: f64 = per_file.iter().map(|p| p.1).sum();
        let all: Vec<SweepRow> = rows.into_iter().flatten().collect();
        let (tp, fp) =
            all.iter()
                .filter(|r| r.anomaly_score >= threshold)
                .fold((0, 0), |(tp, fp), r| {
                    if r.window.is_some() {
                        (tp + 1, fp)
                    } else {
                        (tp, fp + 1)
                    }
                });
        let inside = all.iter().filter(|r| r.window.is_some()).count();
        let best = ThresholdScore {
            threshold,
            score: raw,
            tp,
            tn: all.len() - inside - fp,
            fp,
            fn_: inside - tp,
        };
        let null_scores: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| vec![0.5; f.values.len()])
            .collect();
        let null = self.optimize(corpus, &null_scores, profile)?.score;
        let perfect = corpus.window_count() as f64 * profile.tp_weight;
        let normalized = if perfect > null {
            100.0 * (raw - null) / (perfect - null)
        } else {
            0.0
        };
        Ok(ProfileScore {
            profile: *profile,
            best,
            null,
            perfect,
            normalized,
            per_file,
        })
    }

    /// [`Evaluator::evaluate`] for each of NAB's three profiles.
    pub fn evaluate_all(&self, corpus: &Corpus, scores: &[Vec<f64>]) -> Result<Vec<ProfileScore>> {
        Profile::ALL
            .iter()
            .map(|p| self.evaluate(corpus, scores, p))
            .collect()
    }
}

/// Scores that fire exactly at the first row of every window (the "perfect" detector).
pub fn perfect_scores(file: &DataFile) -> Vec<f64> {
    let mut s = vec![0.0; file.timestamps.len()];
    for &(start, _) in &file.windows {
        if let Some(i) = file.timestamps.iter().position(|&t| t == start) {
            s[i] = 1.0;
        }
    }
    s
}

#[cfg(test)]
#[path = "scorer_tests.rs"]
mod tests;
