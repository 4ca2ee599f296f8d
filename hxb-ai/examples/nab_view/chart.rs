//! One file's chart: inline SVG of the values (min/max per pixel column), the probationary
//! period, the labelled windows, each mode's score and threshold, and the detections.

use std::fmt::Write as _;

use hxb_ai::nab::format_timestamp;

use super::{FileView, Mode, detected_rows, esc};

/// Width of the whole chart, px.
const W: f64 = 960.0;
/// Left edge of the plot (room for the axis labels).
const LEFT: f64 = 78.0;
/// Width of the plot: one pixel column per x position.
const PLOT_W: usize = 866;
/// Top and bottom of the value panel.
const VAL_TOP: f64 = 24.0;
const VAL_BOTTOM: f64 = 164.0;
/// Top and bottom of the score panel (0 to 1).
const SCORE_TOP: f64 = 182.0;
const SCORE_BOTTOM: f64 = 258.0;
/// Centre of the first row of detection markers; one row per mode below it.
const MARK_TOP: f64 = 270.0;
const MARK_STEP: f64 = 13.0;

/// Colour of a detection inside a window (true positive) and outside (false positive).
pub const TP: &str = "#059669";
/// See [`TP`].
pub const FP: &str = "#dc2626";
/// Fill of the labelled anomaly windows.
pub const WINDOW: &str = "#f59e0b";
/// Fill of the probationary period.
pub const PROBATION: &str = "#6b7280";

/// A detection drawn as a marker: the highest-scoring detection of a pixel column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Row index.
    pub row: usize,
    /// The detector's score at the row.
    pub score: f64,
    /// Whether the row lies inside a labelled window.
    pub inside: bool,
}

/// Maps timestamps onto pixel columns.
struct Axis {
    t0: i64,
    t1: i64,
}

impl Axis {
    fn col(&self, t: i64) -> usize {
        if self.t1 <= self.t0 {
            return 0;
        }
        let f = (t.clamp(self.t0, self.t1) - self.t0) as f64 / (self.t1 - self.t0) as f64;
        ((f * (PLOT_W - 1) as f64).round() as usize).min(PLOT_W - 1)
    }
    fn x(&self, t: i64) -> f64 {
        LEFT + self.col(t) as f64
    }
}

/// Values panel scale: finite minimum and maximum, widened when the series is constant.
fn value_range(values: &[f64]) -> (f64, f64) {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi - lo <= f64::EPSILON * lo.abs().max(1.0) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    }
}

/// Per pixel column, the rows' minimum and maximum in the order they occur, so the path
/// keeps every spike of a file of any length at the cost of at most two points per column.
fn min_max_path(axis: &Axis, ts: &[i64], values: &[f64], y: impl Fn(f64) -> f64) -> String {
    /// A row and its value.
    type Extreme = (usize, f64);
    // (column, lowest, highest)
    let mut cols: Vec<(usize, Extreme, Extreme)> = Vec::new();
    for (i, (&t, &v)) in ts.iter().zip(values).enumerate() {
        if !v.is_finite() {
            continue;
        }
        let c = axis.col(t);
        match cols.last_mut() {
            Some((col, lo, hi)) if *col == c => {
                if v < lo.1 {
                    *lo = (i, v);
                }
                if v > hi.1 {
                    *hi = (i, v);
                }
            }
            _ => cols.push((c, (i, v), (i, v))),
        }
    }
    let mut d = String::with_capacity(cols.len() * 20);
    for (k, (c, lo, hi)) in cols.iter().enumerate() {
        let x = LEFT as usize + c;
        let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
        let _ = write!(d, "{}{x},{:.1}", if k == 0 { "M" } else { " " }, y(a.1));
        if b.0 != a.0 {
            let _ = write!(d, " {x},{:.1}", y(b.1));
        }
    }
    d
}

/// Date labels: day precision over long spans, minutes over short ones.
fn tick_label(t: i64, span_ms: i64) -> String {
    let s = format_timestamp(t);
    if span_ms > 3 * 86_400_000 {
        s[..10].to_string()
    } else {
        s[5..16].to_string()
    }
}

/// A compact number for axis labels.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The detections of one mode, one per pixel column (inside a window wins, then the
/// highest score), counted only outside the probationary period as NAB counts them.
pub fn detections(view: &FileView<'_>, scores: &[f64], threshold: f64) -> Vec<Detection> {
    let f = view.file;
    let axis = Axis {
        t0: f.timestamps.first().copied().unwrap_or(0),
        t1: f.timestamps.last().copied().unwrap_or(0),
    };
    let mut out: Vec<(usize, Detection)> = Vec::new();
    for (i, (&t, &s)) in f.timestamps.iter().zip(scores).enumerate() {
        if i < view.probation || s.is_nan() || s < threshold {
            continue;
        }
        let d = Detection {
            row: i,
            score: s,
            inside: f.windows.iter().any(|&(a, b)| a <= t && t <= b),
        };
        let c = axis.col(t);
        match out.last_mut() {
            Some((col, best)) if *col == c => {
                if (d.inside, d.score) > (best.inside, best.score) {
                    *best = d;
                }
            }
            _ => out.push((c, d)),
        }
    }
    out.into_iter().map(|(_, d)| d).collect()
}

/// The chart of one file (`id` makes the element ids unique in the page).
pub fn render(id: usize, view: &FileView<'_>, modes: &[Mode]) -> String {
    let f = view.file;
    let h = MARK_TOP + MARK_STEP * modes.len() as f64 + 26.0;
    let name = esc(&f.name);
    let mut s = String::new();
    let (Some(&t0), Some(&t1)) = (f.timestamps.first(), f.timestamps.last()) else {
        let _ = write!(
            s,
            r##"<svg class="chart-empty" role="img" aria-labelledby="c{id}t" viewBox="0 0 {W} 40" width="{W}" height="40"><title id="c{id}t">{name}: no rows</title><text x="{LEFT}" y="24" font-size="12" fill="#6b7280">no rows to draw</text></svg>"##
        );
        return s;
    };
    let axis = Axis { t0, t1 };
    let (lo, hi) = value_range(&f.values);
    let vy = |v: f64| VAL_BOTTOM - (v - lo) / (hi - lo) * (VAL_BOTTOM - VAL_TOP);
    let sy = |v: f64| SCORE_BOTTOM - v.clamp(0.0, 1.0) * (SCORE_BOTTOM - SCORE_TOP);
    let right = LEFT + (PLOT_W - 1) as f64;
    let bottom = MARK_TOP + MARK_STEP * (modes.len() as f64 - 0.5);

    let mut desc = format!(
        "{} rows from {} to {}; {} labelled window(s).",
        f.values.len(),
        format_timestamp(t0),
        format_timestamp(t1),
        f.windows.len()
    );
    for (m, mode) in modes.iter().enumerate() {
        let (inside, outside) = detected_rows(view, view.scores[m], mode.threshold);
        let _ = write!(
            desc,
            " {}: {inside} detected row(s) inside windows, {outside} outside.",
            mode.name
        );
    }
    let _ = write!(
        s,
        r##"<svg class="chart" role="img" aria-labelledby="c{id}t c{id}d" viewBox="0 0 {W} {h}" width="{W}" height="{h}" font-size="10"><title id="c{id}t">{name}: values, anomaly windows, scores and detections</title><desc id="c{id}d">{}</desc>"##,
        esc(&desc)
    );

    // Probationary period and windows, behind everything.
    if view.probation > 0 {
        let end = f.timestamps[view.probation.min(f.timestamps.len() - 1)];
        let x1 = axis.x(end);
        let _ = write!(
            s,
            r##"<rect x="{LEFT}" y="{VAL_TOP}" width="{:.0}" height="{:.0}" fill="{PROBATION}" fill-opacity="0.14"><title>probationary period: first {} rows, not scored</title></rect><text x="{:.0}" y="{:.0}" fill="#4b5563" stroke="#fff" stroke-width="3" paint-order="stroke">probation</text>"##,
            x1 - LEFT,
            bottom - VAL_TOP,
            view.probation,
            LEFT + 3.0,
            VAL_TOP + 10.0
        );
    }
    for (k, &(a, b)) in f.windows.iter().enumerate() {
        let (x0, x1) = (axis.x(a), axis.x(b));
        let _ = write!(
            s,
            r##"<rect class="window" x="{x0:.0}" y="{VAL_TOP}" width="{:.0}" height="{:.0}" fill="{WINDOW}" fill-opacity="0.22"><title>window {}: {} to {}</title></rect>"##,
            (x1 - x0).max(1.0),
            bottom - VAL_TOP,
            k + 1,
            format_timestamp(a),
            format_timestamp(b)
        );
    }

    // Axes: value labels, score labels, date ticks.
    let _ = write!(
        s,
        r##"<g fill="#6b7280" text-anchor="end"><text x="{:.0}" y="{:.1}">{}</text><text x="{:.0}" y="{:.1}">{}</text><text x="{:.0}" y="{:.1}">1</text><text x="{:.0}" y="{:.1}">0</text></g>"##,
        LEFT - 4.0,
        VAL_TOP + 3.5,
        esc(&fmt_num(hi)),
        LEFT - 4.0,
        VAL_BOTTOM + 3.5,
        esc(&fmt_num(lo)),
        LEFT - 4.0,
        SCORE_TOP + 3.5,
        LEFT - 4.0,
        SCORE_BOTTOM + 3.5,
    );
    let _ = write!(
        s,
        r##"<g fill="#374151"><text x="12" y="{:.0}" transform="rotate(-90 12 {:.0})" text-anchor="middle">value</text><text x="12" y="{:.0}" transform="rotate(-90 12 {:.0})" text-anchor="middle">score</text></g>"##,
        (VAL_TOP + VAL_BOTTOM) / 2.0,
        (VAL_TOP + VAL_BOTTOM) / 2.0,
        (SCORE_TOP + SCORE_BOTTOM) / 2.0,
        (SCORE_TOP + SCORE_BOTTOM) / 2.0,
    );
    let _ = write!(
        s,
        r##"<path d="M{LEFT},{VAL_TOP}V{VAL_BOTTOM}H{right}M{LEFT},{SCORE_TOP}V{SCORE_BOTTOM}H{right}" fill="none" stroke="#9ca3af"/>"##
    );
    let ticks = 6;
    for k in 0..=ticks {
        let t = t0 + ((t1 - t0) as f64 * k as f64 / ticks as f64) as i64;
        let x = axis.x(t);
        let anchor = match k {
            0 => "start",
            k if k == ticks => "end",
            _ => "middle",
        };
        let _ = write!(
            s,
            r##"<line x1="{x:.0}" y1="{VAL_BOTTOM}" x2="{x:.0}" y2="{:.0}" stroke="#d1d5db"/><text x="{x:.0}" y="{:.0}" text-anchor="{anchor}" fill="#4b5563">{}</text>"##,
            bottom + 6.0,
            bottom + 18.0,
            tick_label(t, t1 - t0)
        );
    }

    // Values, then each mode's score and threshold.
    let _ = write!(
        s,
        r##"<path class="series" d="{}" fill="none" stroke="#111827" stroke-width="1"><title>values (minimum and maximum per pixel column)</title></path>"##,
        min_max_path(&axis, &f.timestamps, &f.values, vy)
    );
    for (m, mode) in modes.iter().enumerate() {
        let scores: Vec<f64> = view.scores[m]
            .iter()
            .map(|v| if v.is_nan() { 0.0 } else { *v })
            .collect();
        let ty = sy(mode.threshold);
        let _ = write!(
            s,
            r##"<path class="series" d="{}" fill="none" stroke="{c}" stroke-width="1" stroke-opacity="0.75"><title>{n}: anomaly score</title></path><line x1="{LEFT}" y1="{ty:.1}" x2="{right}" y2="{ty:.1}" stroke="{c}" stroke-dasharray="5 3"><title>{n}: threshold {:.4}</title></line>"##,
            min_max_path(&axis, &f.timestamps, &scores, sy),
            mode.threshold,
            c = mode.color,
            n = esc(&mode.name),
        );
    }

    // Detection markers: one row per mode.
    for (m, mode) in modes.iter().enumerate() {
        let y = MARK_TOP + MARK_STEP * m as f64;
        let _ = write!(
            s,
            r##"<text x="{:.0}" y="{:.1}" text-anchor="end" fill="{}">{}</text>"##,
            LEFT - 4.0,
            y + 3.5,
            mode.color,
            esc(&mode.short)
        );
        for d in detections(view, view.scores[m], mode.threshold) {
            let x = axis.x(f.timestamps[d.row]);
            // Inside: a circle; outside: a square (shape as well as colour).
            let (class, color, kind, mark) = if d.inside {
                (
                    "tp",
                    TP,
                    "inside a window",
                    format!(r#"<circle cx="{x:.0}" cy="{y:.0}" r="4" fill="{TP}"/>"#),
                )
            } else {
                (
                    "fp",
                    FP,
                    "outside windows",
                    format!(
                        r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="{FP}"/>"#,
                        x - 3.5,
                        y - 3.5
                    ),
                )
            };
            let _ = write!(
                s,
                r##"<g class="{class}"><line x1="{x:.0}" y1="{VAL_TOP}" x2="{x:.0}" y2="{y:.0}" stroke="{color}" stroke-opacity="0.3"/>{mark}<title>{}: detection at {}, score {:.3}, {kind}</title></g>"##,
                esc(&mode.name),
                format_timestamp(f.timestamps[d.row]),
                d.score
            );
        }
    }
    s.push_str("</svg>");
    s
}
