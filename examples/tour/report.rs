//! The compact summary (stdout) and `report.html`: one self-contained file with inline SVG
//! charts (no script, no external resources).

use std::fmt::Write as _;
use std::io::Write;

use crate::tour::sim::{MINUTES, Recording};

const W: f64 = 860.0;
const H: f64 = 220.0;
const PAD: f64 = 40.0;
const COLORS: [&str; 6] = [
    "#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b",
];

/// Print the compact summary.
pub fn summary(rec: &Recording, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "\n== Applications (24 h)")?;
    for a in &rec.apps {
        let peak = a.rps.iter().copied().fold(0.0, f64::max);
        let rmin = a.replicas.iter().min().copied().unwrap_or(0);
        let rmax = a.replicas.iter().max().copied().unwrap_or(0);
        let anomalies = a.score.iter().filter(|s| **s > 0.5).count();
        writeln!(
            out,
            "  {:<26} peak {:>6.0} req/s  replicas {rmin}..{rmax}  saturated {:>3} min  anomalous {:>3} min",
            a.label, peak, a.saturated_minutes, anomalies
        )?;
    }
    writeln!(
        out,
        "  {} scale operations, {} quota refusals, {} metric samples",
        rec.scale_ops, rec.quota_refusals, rec.samples
    )?;
    writeln!(out, "\n== Alerts (rule MemoryNearLimit per workspace)")?;
    for a in &rec.alerts {
        writeln!(out, "  {a}")?;
    }
    for (scope, h) in &rec.health {
        writeln!(out, "  health {scope:<12} {h}")?;
    }
    writeln!(out, "\n== Incidents")?;
    for i in &rec.incidents {
        writeln!(
            out,
            "  #{} {} {}-{} ({} signals): {} on {}",
            i.id,
            i.scope,
            hhmm(i.start),
            hhmm(i.end),
            i.signals,
            i.cause,
            i.object
        )?;
        for r in &i.remediation {
            writeln!(out, "      {r}")?;
        }
    }
    writeln!(out, "\n== Usage and cost (this day)")?;
    for c in &rec.costs {
        let nodes: f64 = c.nodes.iter().map(|(_, v)| v).sum::<f64>() + 0.0;
        writeln!(
            out,
            "  {:<8} plan {:>6.2}  dedicated nodes {:>6.2}  total {:>6.2}",
            c.org, c.plan, nodes, c.total
        )?;
        for (p, cpu, mem) in &c.projects {
            writeln!(out, "    {p:<22} {cpu:>6.2} cpu-h  {mem:>6.2} GiB-h")?;
        }
    }
    Ok(())
}

fn hhmm(minute: usize) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// How a series is drawn.
#[derive(Clone, Copy)]
enum Style {
    Solid,
    Thin,
    Dashed,
}

/// A line chart of several series over the day (x = minute), on one y scale.
struct Chart {
    title: String,
    y_max: f64,
    body: String,
    legend: Vec<(String, &'static str)>,
}

impl Chart {
    fn new(title: &str, y_max: f64) -> Self {
        Chart {
            title: title.into(),
            y_max: if y_max > 0.0 { y_max * 1.05 } else { 1.0 },
            body: String::new(),
            legend: Vec::new(),
        }
    }
    fn x(m: f64) -> f64 {
        PAD + m / MINUTES as f64 * (W - 2.0 * PAD)
    }
    fn y(&self, v: f64) -> f64 {
        H - PAD - (v / self.y_max) * (H - 2.0 * PAD)
    }
    fn line(&mut self, name: &str, color: &'static str, pts: &[(f64, f64)], style: Style) {
        if pts.is_empty() {
            return;
        }
        let mut d = String::new();
        for (i, (m, v)) in pts.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                Self::x(*m),
                self.y(*v)
            );
        }
        let attrs = match style {
            Style::Solid => r#"stroke-width="1.5""#,
            Style::Thin => r#"stroke-width="1" stroke-opacity="0.6""#,
            Style::Dashed => r#"stroke-width="2" stroke-dasharray="6 3""#,
        };
        let _ = write!(
            self.body,
            r#"<path class="series" d="{d}" fill="none" stroke="{color}" {attrs}/>"#
        );
        self.legend.push((name.into(), color));
    }
    fn span(&mut self, from: usize, to: usize, label: &str, row: usize) {
        let (x0, x1) = (Self::x(from as f64), Self::x(to.max(from + 5) as f64));
        let ty = PAD - 4.0 - 11.0 * (row % 3) as f64;
        let _ = write!(
            self.body,
            r##"<rect class="incident" x="{x0:.1}" y="{PAD}" width="{:.1}" height="{:.1}" fill="#ef4444" fill-opacity="0.12"><title>{}</title></rect><text x="{x0:.1}" y="{:.1}" font-size="10" fill="#b91c1c">{}</text>"##,
            x1 - x0,
            H - 2.0 * PAD,
            esc(label),
            ty,
            esc(label)
        );
    }
    fn render(&self) -> String {
        let mut s = format!(
            r##"<figure><figcaption>{}</figcaption><svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}">"##,
            esc(&self.title)
        );
        // axes and grid
        for h in (0..=24).step_by(3) {
            let x = Self::x(h as f64 * 60.0);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{PAD}" x2="{x:.1}" y2="{:.1}" stroke="#e5e7eb"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#6b7280">{h:02}:00</text>"##,
                H - PAD,
                H - PAD + 14.0
            );
        }
        for k in 0..=4 {
            let v = self.y_max * k as f64 / 4.0;
            let y = self.y(v);
            let _ = write!(
                s,
                r##"<line x1="{PAD}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#f3f4f6"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="#6b7280">{}</text>"##,
                W - PAD,
                PAD - 4.0,
                y + 3.0,
                fmt_num(v)
            );
        }
        s.push_str(&self.body);
        let mut lx = PAD;
        for (name, color) in &self.legend {
            let _ = write!(
                s,
                r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                H - 14.0,
                lx + 14.0,
                H - 5.0,
                esc(name)
            );
            lx += 14.0 + 7.0 * name.len() as f64 + 16.0;
        }
        s.push_str("</svg></figure>");
        s
    }
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A horizontal bar chart.
fn bars(title: &str, rows: &[(String, f64, String)], color: &str) -> String {
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let row_h = 24.0;
    let h = PAD + row_h * rows.len() as f64;
    let mut s = format!(
        r##"<figure><figcaption>{}</figcaption><svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}">"##,
        esc(title)
    );
    for (i, (label, v, text)) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        let w = v / max * (W - 520.0);
        let _ = write!(
            s,
            r##"<text x="200" y="{:.1}" font-size="12" text-anchor="end">{}</text><rect class="bar" x="210" y="{y:.1}" width="{w:.1}" height="16" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#374151">{}</text>"##,
            y + 12.0,
            esc(label),
            214.0 + w,
            y + 12.0,
            esc(text)
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// Runs in the browser as the page loads: marks `<body data-rendered="ok/total">` with how
/// many charts laid out every series with a non-empty box (what the headless check reads).
const CHECK: &str = "(function(){var c=document.querySelectorAll('svg.chart'),ok=0;\
for(var i=0;i<c.length;i++){var s=c[i].querySelectorAll('path.series,rect.bar'),good=s.length>0;\
for(var j=0;j<s.length;j++){var b=s[j].getBBox();if(!(b.width>0||b.height>0))good=false;}\
if(good)ok++;}document.body.setAttribute('data-rendered',ok+'/'+c.length);})();";

/// The whole report.
pub fn html(rec: &Recording) -> String {
    let mut body = String::new();
    body.push_str("<h2>Load, forecast and replicas</h2>");
    for a in &rec.apps {
        let rps: Vec<(f64, f64)> = a
            .rps
            .iter()
            .enumerate()
            .map(|(m, v)| (m as f64, *v))
            .collect();
        let peak = a.rps.iter().copied().fold(0.0, f64::max);
        let rmax = a.replicas.iter().copied().max().unwrap_or(1).max(1);
        let scale = peak / f64::from(rmax);
        let mut c = Chart::new(
            &format!(
                "{}: requests/s, forecast ({} min ahead) and replicas (× {:.1} req/s)",
                a.label,
                crate::tour::sim::PERIOD,
                scale
            ),
            peak.max(a.forecast.iter().map(|f| f.1).fold(0.0, f64::max)),
        );
        c.line("requests/s", COLORS[0], &rps, Style::Thin);
        let fc: Vec<(f64, f64)> = a
            .forecast
            .iter()
            .filter(|(m, _)| *m < MINUTES)
            .map(|(m, v)| (*m as f64, *v))
            .collect();
        c.line("forecast", COLORS[1], &fc, Style::Dashed);
        let reps: Vec<(f64, f64)> = a
            .replicas
            .iter()
            .enumerate()
            .map(|(m, r)| (m as f64, f64::from(*r) * scale))
            .collect();
        c.line("replicas", COLORS[2], &reps, Style::Solid);
        let hpa: Vec<(f64, f64)> = a
            .hpa
            .iter()
            .map(|(m, r)| (*m as f64, f64::from(*r) * scale))
            .collect();
        c.line("HPA desired", COLORS[5], &hpa, Style::Dashed);
        body.push_str(&c.render());
    }

    body.push_str("<h2>Anomalies and incidents</h2>");
    let mut c = Chart::new("anomaly score per application (shaded: incidents)", 1.0);
    for (i, a) in rec.apps.iter().enumerate() {
        let pts: Vec<(f64, f64)> = a
            .score
            .iter()
            .enumerate()
            .map(|(m, v)| (m as f64, *v))
            .collect();
        c.line(&a.label, COLORS[i % COLORS.len()], &pts, Style::Solid);
    }
    for (row, i) in rec.incidents.iter().enumerate() {
        c.span(i.start, i.end, &format!("#{} {}", i.id, i.cause), row);
    }
    body.push_str(&c.render());
    let mem_max = rec
        .apps
        .iter()
        .flat_map(|a| a.memory.iter().copied())
        .fold(0.0, f64::max);
    let mut c = Chart::new("memory working set per replica, MiB", mem_max);
    for (i, a) in rec.apps.iter().enumerate() {
        let pts: Vec<(f64, f64)> = a
            .memory
            .iter()
            .enumerate()
            .map(|(m, v)| (m as f64, *v))
            .collect();
        c.line(&a.label, COLORS[i % COLORS.len()], &pts, Style::Solid);
    }
    for (row, i) in rec.incidents.iter().enumerate() {
        c.span(i.start, i.end, &format!("#{}", i.id), row);
    }
    body.push_str(&c.render());
    body.push_str("<table><tr><th>#</th><th>scope</th><th>time</th><th>signals</th><th>top cause</th><th>remediation</th></tr>");
    for i in &rec.incidents {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td><td>{} on {}</td><td>{}</td></tr>",
            i.id,
            esc(&i.scope),
            hhmm(i.start),
            hhmm(i.end),
            i.signals,
            esc(&i.cause),
            esc(&i.object),
            i.remediation
                .iter()
                .map(|r| esc(r))
                .collect::<Vec<_>>()
                .join("<br>")
        );
    }
    body.push_str("</table>");

    body.push_str("<h2>Quota use</h2>");
    let qmax = rec
        .quotas
        .iter()
        .flat_map(|q| q.cpu.iter().map(|c| c.1 / c.2.max(1e-9) * 100.0))
        .fold(100.0, f64::max);
    let mut c = Chart::new("requests.cpu used, % of the project's quota", qmax);
    for (i, q) in rec.quotas.iter().enumerate() {
        let pts: Vec<(f64, f64)> = q
            .cpu
            .iter()
            .map(|(m, u, h)| (*m as f64, u / h.max(1e-9) * 100.0))
            .collect();
        c.line(&q.label, COLORS[i % COLORS.len()], &pts, Style::Solid);
    }
    body.push_str(&c.render());

    body.push_str("<h2>Usage and cost per tenant</h2>");
    let rows: Vec<(String, f64, String)> = rec
        .costs
        .iter()
        .map(|c| {
            let nodes: f64 = c.nodes.iter().map(|(_, v)| v).sum::<f64>() + 0.0;
            (
                c.org.clone(),
                c.total,
                format!(
                    "{:.2} (plan {:.2}, dedicated nodes {:.2})",
                    c.total, c.plan, nodes
                ),
            )
        })
        .collect();
    body.push_str(&bars("cost of the day per organization", &rows, COLORS[4]));
    let rows: Vec<(String, f64, String)> = rec
        .costs
        .iter()
        .flat_map(|c| {
            c.projects.iter().map(move |(p, cpu, mem)| {
                (
                    format!("{}/{p}", c.org),
                    *cpu,
                    format!("{cpu:.2} cpu-h, {mem:.2} GiB-h"),
                )
            })
        })
        .collect();
    body.push_str(&bars("cpu-hours per project", &rows, COLORS[0]));

    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hxb platform tour</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;color:#111827}}figure{{margin:12px 0}}figcaption{{font-size:13px;color:#374151}}table{{border-collapse:collapse;font-size:12px}}td,th{{border:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}}</style>
</head><body><h1>hxb platform tour — one simulated day</h1>{body}<script>{CHECK}</script></body></html>
"#
    )
}
