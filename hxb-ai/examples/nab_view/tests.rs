use hxb_ai::nab::{DataFile, parse_timestamp};

use super::chart::detections;
use super::*;

const MIN: i64 = 60_000;

fn t0() -> i64 {
    parse_timestamp("2014-02-14 00:00:00").expect("valid timestamp")
}

/// `n` rows every 5 minutes; windows as row ranges.
fn file(name: &str, values: Vec<f64>, windows: &[(usize, usize)]) -> DataFile {
    let timestamps: Vec<i64> = (0..values.len() as i64)
        .map(|i| t0() + i * 5 * MIN)
        .collect();
    let windows = windows
        .iter()
        .map(|&(a, b)| (timestamps[a], timestamps[b]))
        .collect();
    DataFile {
        name: name.into(),
        timestamps,
        values,
        windows,
    }
}

fn mode(short: &str, threshold: f64) -> Mode {
    Mode {
        name: format!("mode {short}"),
        short: short.into(),
        about: "told <nothing>".into(),
        color: "#2563eb",
        normalized: [50.0, 40.0, 60.0],
        threshold,
        inside: 1,
        outside: 1,
    }
}

fn report<'a>(files: Vec<FileView<'a>>) -> Report<'a> {
    Report {
        title: "t".into(),
        subtitle: "s".into(),
        modes: vec![mode("a", 0.5), mode("b", 0.7)],
        reference: vec![("ref <x>".into(), [1.0, 2.0, 3.0])],
        files,
    }
}

fn view<'a>(f: &'a DataFile, probation: usize, a: &'a [f64], b: &'a [f64]) -> FileView<'a> {
    FileView {
        file: f,
        probation,
        scores: vec![a, b],
        raw: vec![0.5, -0.1],
    }
}

#[test]
fn one_chart_per_file_with_windows_and_detections() {
    let n = 20_000;
    let values: Vec<f64> = (0..n).map(|i| (i as f64 / 50.0).sin()).collect();
    let f1 = file("catA/one.csv", values.clone(), &[(10_000, 10_400)]);
    let f2 = file("catB/two.csv", values, &[(3_000, 3_100), (15_000, 15_100)]);
    let mut s1 = vec![0.1; n];
    s1[10_100] = 0.9; // inside the window: found at 25 %
    s1[5_000] = 0.8; // outside: a false positive
    s1[100] = 0.99; // in the probationary period: not counted
    let quiet = vec![0.1; n];
    let mut s2 = vec![0.1; n];
    s2[3_050] = 0.6; // inside for mode a (0.5), below mode b's threshold (0.7)
    let r = report(vec![view(&f1, 750, &s1, &quiet), view(&f2, 750, &s2, &s2)]);
    let page = html(&r);
    assert_eq!(
        page.matches("<svg").count(),
        2,
        "one SVG per file, nothing else"
    );
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 2);
    assert_eq!(page.matches("<rect class=\"window\"").count(), 3);
    // Both files appear under their category, in corpus order.
    let (a, b) = (page.find(">one.csv<"), page.find(">two.csv<"));
    assert!(a.is_some() && b.is_some() && a < b);
    // Mode a on file one: one TP and one FP; mode b: none; file two: one TP for mode a.
    assert_eq!(page.matches("<g class=\"tp\">").count(), 2);
    assert_eq!(page.matches("<g class=\"fp\">").count(), 1);
    assert!(page.contains("found at 25 %"), "window position reported");
    assert!(page.contains("<b>missed</b>"));
    assert!(page.contains("id=\"cat-catA\"") && page.contains("id=\"cat-catB\""));
    assert!(page.contains("ref &lt;x&gt; (published"));
    assert!(page.contains("told &lt;nothing&gt;"));
    // Size: min/max per pixel column keeps a 20,000-row file small.
    assert!(page.len() < 120_000, "page is {} bytes", page.len());

    let v = &r.files[0];
    assert_eq!(
        window_hits(v, &s1, 0.5),
        vec![WindowHit::Found(100.0 / 401.0)]
    );
    assert_eq!(window_hits(v, &quiet, 0.5), vec![WindowHit::Missed]);
    assert_eq!(detected_rows(v, &s1, 0.5), (1, 1));
    let d = detections(v, &s1, 0.5);
    assert_eq!(d.len(), 2);
    assert!(d.iter().any(|d| d.inside && d.row == 10_100));
    assert!(d.iter().any(|d| !d.inside && d.row == 5_000));
}

#[test]
fn every_row_extreme_survives_downsampling() {
    // One spike among 20,000 rows must reach the chart's path as its maximum.
    let n = 20_000;
    let mut values = vec![1.0; n];
    values[12_345] = 100.0;
    values[0] = 0.0;
    let f = file("c/spike.csv", values, &[]);
    let s = vec![0.0; n];
    let page = html(&report(vec![view(&f, 0, &s, &s)]));
    // The value panel spans 0..100: its top (y = 24) is reached only by the spike.
    let path = page
        .split("<path class=\"series\" d=\"")
        .nth(1)
        .and_then(|p| p.split('"').next())
        .expect("values path");
    assert!(
        path.contains(",24.0"),
        "spike drawn at the top: {path:.200}"
    );
    assert!(path.split(' ').count() <= 2 * 866);
}

#[test]
fn names_are_escaped() {
    let f = file("cat<&>/we\"ird<script>.csv", vec![1.0, 2.0, 3.0], &[(1, 2)]);
    let s = [0.0, 0.0, 1.0];
    let mut r = report(vec![view(&f, 0, &s, &s)]);
    r.title = "a <b> & \"c\"".into();
    r.modes[0].name = "<i>mode</i>".into();
    let page = html(&r);
    assert!(!page.contains("<script>.csv"));
    assert!(!page.contains("<i>mode"));
    assert!(page.contains("we&quot;ird&lt;script&gt;.csv"));
    assert!(page.contains("cat&lt;&amp;&gt;"));
    assert!(page.contains("a &lt;b&gt; &amp; &quot;c&quot;"));
    assert_eq!(esc("'&'"), "&#39;&amp;&#39;");
    // The only script is the render check at the end of the page.
    assert_eq!(page.matches("<script>").count(), 1);
}

#[test]
fn empty_and_constant_files_render() {
    let empty = file("c/empty.csv", vec![], &[]);
    let constant = file("c/constant.csv", vec![7.0; 500], &[(100, 200)]);
    let zero = file("c/zero.csv", vec![0.0; 3], &[]);
    let nan = file("c/nan.csv", vec![f64::NAN; 4], &[]);
    let (e, c, z, x) = (vec![], vec![0.2; 500], vec![0.0; 3], vec![f64::NAN; 4]);
    let page = html(&report(vec![
        view(&empty, 0, &e, &e),
        view(&constant, 75, &c, &c),
        view(&zero, 0, &z, &z),
        view(&nan, 0, &x, &x),
    ]));
    assert!(page.contains("no rows to draw"));
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 3);
    assert!(!page.contains("NaN") && !page.contains("inf"));
    assert!(page.contains("found") || page.contains("missed"));
    // A constant series is drawn mid-panel with a widened scale.
    assert!(page.contains(">7.7<") && page.contains(">6.3<"));
}

#[test]
fn windows_in_the_probationary_period_are_not_scored() {
    let f = file("c/early.csv", vec![1.0; 100], &[(2, 5), (50, 60)]);
    let mut s = vec![0.0; 100];
    s[3] = 1.0;
    s[55] = 1.0;
    let v = view(&f, 15, &s, &s);
    assert_eq!(
        window_hits(&v, &s, 0.5),
        vec![WindowHit::Probation, WindowHit::Found(5.0 / 11.0)]
    );
    assert_eq!(detected_rows(&v, &s, 0.5), (1, 0));
}
