//! Hand-computed cases for the NAB scorer, plus NAB's own sweeper test cases ported.

use super::*;

/// 20 rows one second apart, probationary length 3, one window over rows 10..=13.
fn tiny() -> DataFile {
    DataFile {
        name: "cat/tiny.csv".into(),
        timestamps: (0..20).map(|i| i * 1000).collect(),
        values: vec![0.0; 20],
        windows: vec![(10_000, 13_000)],
    }
}

fn corpus_of(files: Vec<DataFile>) -> Corpus {
    Corpus { files }
}

fn scores_with(hits: &[(usize, f64)]) -> Vec<f64> {
    let mut s = vec![0.0; 20];
    for &(i, v) in hits {
        s[i] = v;
    }
    s
}

fn raw_at(file: &DataFile, scores: &[f64], profile: &Profile, threshold: f64) -> f64 {
    let mut rows = Vec::new();
    sweep_file(file, scores, profile, 0.15, 0, &mut rows).unwrap();
    score_rows_at(&rows, threshold, profile)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn probationary_length_follows_nab() {
    // NAB tests/integration/sweeper_test.py::testGetProbationaryLength
    for (rows, pct, want) in [
        (100, 0.0, 0.0),
        (100, 1.0, 100.0),
        (100, 0.1, 10.0),
        (100, 0.15, 15.0),
        (5000, 0.1, 500.0),
        (6000, 0.1, 500.0),
    ] {
        assert_eq!(probationary_length(pct, rows), want, "{rows} {pct}");
    }
    assert_eq!(probationary_length(0.15, 4032), 604.0);
    assert_eq!(probationary_length(0.15, 10_000), 750.0);
}

#[test]
fn scaled_sigmoid_reference_points() {
    assert!(close(scaled_sigmoid(-1.0), 0.986_614_298_151_430_3));
    assert!(close(scaled_sigmoid(0.0), 0.0));
    assert_eq!(scaled_sigmoid(3.0), -1.0);
    assert!((scaled_sigmoid(-0.5) - 0.848_283_639_957_512_9).abs() < 1e-12);
}

#[test]
fn detection_at_window_start_is_worth_tp_weight() {
    let f = tiny();
    assert!(close(
        raw_at(&f, &scores_with(&[(10, 1.0)]), &Profile::STANDARD, 0.5),
        1.0
    ));
}

#[test]
fn late_detection_earns_less() {
    // Row 13 is the last of a 4-row window: position -(13-13+1)/4 = -0.25.
    let f = tiny();
    let got = raw_at(&f, &scores_with(&[(13, 1.0)]), &Profile::STANDARD, 0.5);
    assert!(close(got, 0.562_124_148_604_482_7), "{got}");
}

#[test]
fn only_the_best_detection_in_a_window_counts_and_fps_cost() {
    // Row 5: FP before any window (-0.11). Rows 12 and 13: one TP at position -0.5 (0.85979...).
    // Row 15: FP 2 rows after the window end, position 2/3 (-0.10242...). Row 2 is probationary.
    let f = tiny();
    let s = scores_with(&[(2, 1.0), (5, 1.0), (12, 1.0), (13, 1.0), (15, 1.0)]);
    assert!(close(
        raw_at(&f, &s, &Profile::STANDARD, 0.5),
        0.647_370_509_956_350_1
    ));
    assert!(close(
        raw_at(&f, &s, &Profile::REWARD_LOW_FP, 0.5),
        0.434_948_453_002_916_6
    ));
    // A missed window costs fnWeight.
    assert!(close(
        raw_at(&f, &scores_with(&[]), &Profile::REWARD_LOW_FN, 0.5),
        -2.0
    ));
}

#[test]
fn threshold_curve_matches_nab_sweeper_test() {
    // NAB tests/integration/sweeper_test.py::testCalcScoreByThresholdReturnsExpectedScores
    let profile = Profile {
        fn_weight: 5.0,
        ..Profile::STANDARD
    };
    let rows = [
        SweepRow {
            anomaly_score: 0.0,
            sweep_score: -3.0,
            window: None,
        },
        SweepRow {
            anomaly_score: 0.2,
            sweep_score: 20.0,
            window: Some(0),
        },
        SweepRow {
            anomaly_score: 0.3,
            sweep_score: 10.0,
            window: Some(0),
        },
        SweepRow {
            anomaly_score: 0.5,
            sweep_score: 5.0,
            window: Some(1),
        },
        SweepRow {
            anomaly_score: 0.5,
            sweep_score: -3.0,
            window: None,
        },
    ];
    let got = threshold_curve(&rows, 2, &profile);
    let want = [
        (1.1, -10.0, 0, 2, 0, 3),
        (0.5, 5.0 - 3.0 - 5.0, 1, 1, 1, 2),
        (0.3, 5.0 - 3.0 + 10.0, 2, 1, 1, 1),
        (0.2, 5.0 - 3.0 + 20.0, 3, 1, 1, 0),
        (0.0, 5.0 - 3.0 + 20.0 - 3.0, 3, 0, 2, 0),
    ];
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            (g.threshold, g.tp, g.tn, g.fp, g.fn_),
            (w.0, w.2, w.3, w.4, w.5)
        );
        assert!(close(g.score, w.1), "{g:?}");
    }
    assert_eq!(best_threshold(&got).threshold, 0.2);
}

#[test]
fn sweep_signs_match_nab_window_interaction_test() {
    // NAB testCalcSweepScoreWindowScoreInteraction: 100 rows, windows 30..=39 and 75..=95.
    let f = DataFile {
        name: "c/f.csv".into(),
        timestamps: (0..100).collect(),
        values: vec![0.0; 100],
        windows: vec![(30, 39), (75, 95)],
    };
    let mut rows = Vec::new();
    sweep_file(&f, &[1.0; 100], &Profile::STANDARD, 0.1, 0, &mut rows).unwrap();
    assert_eq!(rows.len(), 90);
    assert_eq!(rows.iter().filter(|r| r.window.is_some()).count(), 10 + 21);
    for r in &rows {
        assert_eq!(r.window.is_some(), r.sweep_score > 0.0, "{r:?}");
    }
}

#[test]
fn null_scores_zero_and_perfect_scores_hundred() {
    let corpus = corpus_of(vec![
        tiny(),
        DataFile {
            name: "cat/quiet.csv".into(),
            windows: vec![],
            ..tiny()
        },
    ]);
    let ev = Evaluator::new();
    for p in &Profile::ALL {
        let null: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| vec![0.5; f.values.len()])
            .collect();
        assert!(close(
            ev.evaluate(&corpus, &null, p).unwrap().normalized,
            0.0
        ));
        let perfect: Vec<Vec<f64>> = corpus.files.iter().map(perfect_scores).collect();
        let r = ev.evaluate(&corpus, &perfect, p).unwrap();
        assert!(close(r.normalized, 100.0), "{p:?} {r:?}");
        assert_eq!(r.best.threshold, 1.0);
        // Per-file scores at the optimum add up to the corpus score.
        assert!(close(
            r.per_file.iter().map(|f| f.1).sum::<f64>(),
            r.best.score
        ));
    }
}

#[test]
fn evaluate_at_agrees_with_the_curve() {
    let corpus = corpus_of(vec![tiny()]);
    let s = vec![scores_with(&[(5, 0.7), (12, 0.9), (15, 0.6)])];
    let ev = Evaluator::new();
    let best = ev.evaluate(&corpus, &s, &Profile::STANDARD).unwrap();
    let at = ev
        .evaluate_at(&corpus, &s, &Profile::STANDARD, best.best.threshold)
        .unwrap();
    assert!(close(at.best.score, best.best.score));
    assert_eq!((at.best.tp, at.best.fp), (best.best.tp, best.best.fp));
}

#[test]
fn bad_input_is_invalid() {
    let corpus = corpus_of(vec![tiny()]);
    let ev = Evaluator::new();
    assert_eq!(
        ev.evaluate(&corpus, &[], &Profile::STANDARD)
            .unwrap_err()
            .kind(),
        hxb_core::ErrorKind::InvalidInput
    );
    assert!(
        ev.evaluate(&corpus, &[vec![0.0; 3]], &Profile::STANDARD)
            .is_err()
    );
    let mut f = tiny();
    f.windows = vec![(10_000, 13_500)];
    assert!(
        ev.evaluate(&corpus_of(vec![f]), &[vec![0.0; 20]], &Profile::STANDARD)
            .is_err()
    );
}
