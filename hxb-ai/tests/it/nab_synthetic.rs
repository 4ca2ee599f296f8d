//! The NAB evaluator and exporter end to end on a small synthetic corpus written to disk.

use std::fs;
use std::path::Path;

use hxb_ai::detect::{Composite, score_points, score_series};
use hxb_ai::nab::{Corpus, Evaluator, Profile, export_results, format_timestamp, perfect_scores};

const ROWS: i64 = 1500;
const STEP: i64 = 300_000;
const T0: i64 = 1_400_000_000_000 - 1_400_000_000_000 % STEP;

/// Deterministic noise in [-0.5, 0.5).
fn noise(seed: u64, i: i64) -> f64 {
    let mut x = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add((i as u64).wrapping_mul(1_442_695_040_888_963_407));
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

fn series(seed: u64, anomaly: impl Fn(i64) -> f64) -> String {
    let mut csv = String::from("timestamp,value\n");
    for i in 0..ROWS {
        let v = 50.0
            + 10.0 * (i as f64 * std::f64::consts::TAU / 288.0).sin()
            + noise(seed, i)
            + anomaly(i);
        csv.push_str(&format!("{},{v:.4}\n", format_timestamp(T0 + i * STEP)));
    }
    csv
}

fn window(center: i64) -> String {
    let ts = |i: i64| format!("\"{}.000000\"", format_timestamp(T0 + i * STEP));
    format!("[[{}, {}]]", ts(center - 60), ts(center + 60))
}

fn write_corpus(dir: &Path) {
    fs::create_dir_all(dir.join("synthetic")).unwrap();
    fs::create_dir_all(dir.join("labels")).unwrap();
    fs::write(
        dir.join("synthetic/spike.csv"),
        series(1, |i| if i == 1000 { 40.0 } else { 0.0 }),
    )
    .unwrap();
    fs::write(
        dir.join("synthetic/shift.csv"),
        series(2, |i| if i >= 1100 { 30.0 } else { 0.0 }),
    )
    .unwrap();
    fs::write(dir.join("synthetic/quiet.csv"), series(3, |_| 0.0)).unwrap();
    let labels = format!(
        "{{\"synthetic/spike.csv\": {}, \"synthetic/shift.csv\": {}, \"synthetic/quiet.csv\": []}}",
        window(1000),
        window(1100)
    );
    fs::write(dir.join("labels/combined_windows.json"), labels).unwrap();
}

#[test]
fn evaluator_and_exporter_on_a_synthetic_corpus() {
    let tmp = tempfile::tempdir().unwrap();
    write_corpus(tmp.path());
    let corpus = Corpus::load(tmp.path()).unwrap();
    assert_eq!(corpus.files.len(), 3);
    assert_eq!(corpus.window_count(), 2);
    assert_eq!(corpus.row_count(), 3 * ROWS as usize);

    let ev = Evaluator::new();
    let null: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| vec![0.5; f.values.len()])
        .collect();
    let perfect: Vec<Vec<f64>> = corpus.files.iter().map(perfect_scores).collect();
    for p in &Profile::ALL {
        assert_eq!(ev.evaluate(&corpus, &null, p).unwrap().normalized, 0.0);
        assert!((ev.evaluate(&corpus, &perfect, p).unwrap().normalized - 100.0).abs() < 1e-9);
    }

    let scores: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| score_series(&mut Composite::default(), &f.points()).unwrap())
        .collect();
    let results = ev.evaluate_all(&corpus, &scores).unwrap();
    // Both injected anomalies are found near their labelled point without false positives:
    // each is worth about 0.86 (detection mid-window) against a null of -2.
    for r in &results {
        assert!(
            r.normalized > 80.0,
            "{} {:.1}",
            r.profile.name,
            r.normalized
        );
        assert_eq!(r.best.fp, 0, "{r:?}");
    }

    let out = tmp.path().join("results");
    let written = export_results(&out, "hxb", &corpus, &scores).unwrap();
    assert_eq!(written.len(), 3);
    let spike = fs::read_to_string(out.join("hxb/synthetic/hxb_spike.csv")).unwrap();
    let mut lines = spike.lines();
    assert_eq!(lines.next(), Some("timestamp,value,anomaly_score,label"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), ROWS as usize);
    assert_eq!(rows.iter().filter(|r| r[3] == "1").count(), 121);
    let spike_scores = &scores[corpus
        .files
        .iter()
        .position(|f| f.name == "synthetic/spike.csv")
        .unwrap()];
    for (row, s) in rows.iter().zip(spike_scores) {
        assert_eq!(row[2].parse::<f64>().unwrap(), *s);
    }
    // The exported files load back as a results corpus with the same scores.
    let reread = Corpus::load(tmp.path()).unwrap();
    assert_eq!(reread, corpus);

    // A bad detector name writes nothing.
    let e = export_results(tmp.path().join("bad"), "my_detector", &corpus, &scores).unwrap_err();
    assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput);
    assert!(!tmp.path().join("bad").exists());
}

#[test]
fn missing_corpus_is_not_found_and_streaming_scores_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        Corpus::load(tmp.path()).unwrap_err().kind(),
        hxb_core::ErrorKind::NotFound
    );
    // Duplicate timestamps (as in two NAB files) are rejected by the batch API but scored
    // (0 for the duplicate) by the streaming helper.
    let pts = [(0, 1.0), (STEP, 1.0), (STEP, 2.0), (2 * STEP, 1.0)];
    assert!(score_series(&mut Composite::default(), &pts).is_err());
    assert_eq!(score_points(&mut Composite::default(), &pts).len(), 4);
}
