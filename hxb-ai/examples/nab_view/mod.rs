//! The NAB report page: a pure function from scored files to one self-contained HTML string
//! (inline SVG, no external resources; a few lines of script only mark how many charts laid
//! out, for the headless check). Used by the `nab_report` example; its tests run in hxb-ai's
//! integration-test binary.

mod chart;

use std::fmt::Write as _;

use hxb_ai::nab::{DataFile, format_timestamp};

/// One way of running the detector (e.g. under NAB's protocol, or live) and its corpus result.
#[derive(Debug, Clone, PartialEq)]
pub struct Mode {
    /// Full name, e.g. "hxb default, NAB protocol".
    pub name: String,
    /// Short label beside the chart's marker row, e.g. "protocol".
    pub short: String,
    /// One sentence on what the detector is told in this mode.
    pub about: String,
    /// Colour of its score line, threshold and label.
    pub color: &'static str,
    /// Normalised scores: standard, reward low FP, reward low FN.
    pub normalized: [f64; 3],
    /// The standard profile's optimised threshold (what the charts draw).
    pub threshold: f64,
    /// Detected rows inside windows at that threshold, over the corpus.
    pub inside: usize,
    /// Detected rows outside windows at that threshold, over the corpus.
    pub outside: usize,
}

/// One data file with one score series per mode.
#[derive(Debug, Clone, PartialEq)]
pub struct FileView<'a> {
    /// The labelled file.
    pub file: &'a DataFile,
    /// Rows of the probationary period (not scored by NAB).
    pub probation: usize,
    /// One score per row, for each mode in [`Report::modes`] order.
    pub scores: Vec<&'a [f64]>,
    /// The file's raw standard-profile score at each mode's threshold.
    pub raw: Vec<f64>,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<'a> {
    /// Page title.
    pub title: String,
    /// One line under the title (corpus, rows, windows).
    pub subtitle: String,
    /// The modes, in display order.
    pub modes: Vec<Mode>,
    /// Reference detectors: name and normalised standard / low FP / low FN.
    pub reference: Vec<(String, [f64; 3])>,
    /// The files, in corpus order (grouped by category on the page).
    pub files: Vec<FileView<'a>>,
}

/// How a labelled window fared at a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WindowHit {
    /// First detection at this fraction of the window (0 = its start, 1 = its end).
    Found(f64),
    /// No detection inside the window.
    Missed,
    /// The window lies in the probationary period, which NAB does not score.
    Probation,
}

/// Each window's first detection (`score >= threshold`, outside the probationary period).
pub fn window_hits(view: &FileView<'_>, scores: &[f64], threshold: f64) -> Vec<WindowHit> {
    let ts = &view.file.timestamps;
    view.file
        .windows
        .iter()
        .map(|&(a, b)| {
            let rows: Vec<usize> = (0..ts.len().min(scores.len()))
                .filter(|&i| a <= ts[i] && ts[i] <= b)
                .collect();
            let (Some(&left), Some(&right)) = (rows.first(), rows.last()) else {
                return WindowHit::Missed;
            };
            if right < view.probation {
                return WindowHit::Probation;
            }
            let width = (right - left + 1) as f64;
            rows.iter()
                .find(|&&i| i >= view.probation && scores[i] >= threshold)
                .map_or(WindowHit::Missed, |&i| {
                    WindowHit::Found((i - left) as f64 / width)
                })
        })
        .collect()
}

/// Detected rows (outside the probationary period) inside and outside windows.
pub fn detected_rows(view: &FileView<'_>, scores: &[f64], threshold: f64) -> (usize, usize) {
    let f = view.file;
    f.timestamps
        .iter()
        .zip(scores)
        .enumerate()
        .filter(|(i, (_, s))| *i >= view.probation && **s >= threshold)
        .fold((0, 0), |(inside, outside), (_, (&t, _))| {
            if f.windows.iter().any(|&(a, b)| a <= t && t <= b) {
                (inside + 1, outside)
            } else {
                (inside, outside + 1)
            }
        })
}

/// Escapes text for HTML and SVG content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Runs as the page loads: marks `<body data-rendered="ok/total">` with how many charts laid
/// out every series with a non-empty box (what `scripts/report-check.sh` reads).
const CHECK: &str = "(function(){var c=document.querySelectorAll('svg.chart'),ok=0;\
for(var i=0;i<c.length;i++){var s=c[i].querySelectorAll('path.series'),good=s.length>0;\
for(var j=0;j<s.length;j++){var b=s[j].getBBox();if(!(b.width>0||b.height>0))good=false;}\
if(good)ok++;}document.body.setAttribute('data-rendered',ok+'/'+c.length);})();";

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#111827;max-width:1000px}\
h2{margin-top:32px;border-bottom:1px solid #e5e7eb}h3{font-size:15px;margin:20px 0 4px}\
table{border-collapse:collapse;font-size:12px;margin:6px 0}\
td,th{border:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.ref td{color:#4b5563}\
.key{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-1px}\
.legend{font-size:12px}.item{white-space:nowrap}caption{text-align:left;font-size:12px;color:#374151}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}nav a{margin-right:8px}svg{display:block}";

fn legend(modes: &[Mode]) -> String {
    let mut s = String::from(r#"<p class="legend">"#);
    let mut key = |style: &str, text: &str| {
        let _ = write!(
            s,
            r#"<span class="item"><span class="key" style="{style}"></span>{}</span> "#,
            esc(text)
        );
    };
    key("background:#111827;height:2px", "values");
    let probation = format!("background:{};opacity:0.3", chart::PROBATION);
    key(&probation, "probationary period (not scored)");
    let window = format!("background:{};opacity:0.4", chart::WINDOW);
    key(&window, "labelled anomaly window");
    for m in modes {
        let line = format!("border-top:2px dashed {};height:0", m.color);
        key(&line, &format!("{}: score, dashed threshold", m.short));
    }
    let tp = format!("background:{};border-radius:50%", chart::TP);
    key(&tp, "detection inside a window");
    key(
        &format!("background:{}", chart::FP),
        "detection outside windows",
    );
    s.push_str("</p>");
    s
}

fn summary(r: &Report<'_>) -> String {
    let mut s = String::from(
        "<table><caption>Normalised NAB scores on this corpus (threshold optimised over the \
         corpus per profile, as NAB does; the charts use the standard profile's threshold; \
         detections are rows at or above it, outside the probationary periods)</caption><tr>",
    );
    for h in [
        "detector",
        "standard",
        "low FP",
        "low FN",
        "threshold (standard)",
        "detections inside windows",
        "detections outside windows",
    ] {
        let _ = write!(s, r#"<th scope="col">{h}</th>"#);
    }
    s.push_str("</tr>");
    for m in &r.modes {
        let [a, b, c] = m.normalized;
        let _ = write!(
            s,
            r#"<tr><td><span class="key" style="background:{}"></span><b>{}</b><br><small>{}</small></td><td class="n"><b>{a:.1}</b></td><td class="n">{b:.1}</td><td class="n">{c:.1}</td><td class="n">{:.4}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            m.color,
            esc(&m.name),
            esc(&m.about),
            m.threshold,
            m.inside,
            m.outside
        );
    }
    for (name, [a, b, c]) in &r.reference {
        let _ = write!(
            s,
            r#"<tr class="ref"><td>{} (published, this subset)</td><td class="n">{a:.1}</td><td class="n">{b:.1}</td><td class="n">{c:.1}</td><td></td><td></td><td></td></tr>"#,
            esc(name)
        );
    }
    s.push_str("</table>");
    s
}

fn file_table(view: &FileView<'_>, modes: &[Mode]) -> String {
    let mut s = format!(
        "<table><caption class=\"sr\">{}: scores per mode</caption><tr><th scope=\"col\">mode</th>\
         <th scope=\"col\">raw standard score</th><th scope=\"col\">detections in / out</th>\
         <th scope=\"col\">windows (first detection, % of the window)</th></tr>",
        esc(view.file.file_name())
    );
    for (m, mode) in modes.iter().enumerate() {
        let scores = view.scores[m];
        let (inside, outside) = detected_rows(view, scores, mode.threshold);
        let hits: Vec<String> = window_hits(view, scores, mode.threshold)
            .iter()
            .enumerate()
            .map(|(k, h)| {
                let (a, _) = view.file.windows[k];
                let what = match h {
                    WindowHit::Found(f) => format!("found at {:.0} %", f * 100.0),
                    WindowHit::Missed => "<b>missed</b>".to_string(),
                    WindowHit::Probation => "in the probationary period".to_string(),
                };
                format!("{} ({}): {what}", k + 1, &format_timestamp(a)[..10])
            })
            .collect();
        let _ = write!(
            s,
            r#"<tr><td style="color:{}">{}</td><td class="n">{:.3}</td><td class="n">{inside} / {outside}</td><td>{}</td></tr>"#,
            mode.color,
            esc(&mode.name),
            view.raw.get(m).copied().unwrap_or(f64::NAN),
            if hits.is_empty() {
                "none labelled".to_string()
            } else {
                hits.join("; ")
            }
        );
    }
    s.push_str("</table>");
    s
}

/// The whole page.
pub fn html(r: &Report<'_>) -> String {
    let mut cats: Vec<&str> = Vec::new();
    for v in &r.files {
        if !cats.contains(&v.file.category()) {
            cats.push(v.file.category());
        }
    }
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1><p>{}</p>",
        esc(&r.title),
        esc(&r.subtitle)
    );
    body.push_str(&summary(r));
    body.push_str(
        "<p>Each chart: the values over time (minimum and maximum of every pixel column, so \
         spikes stay visible), under them each mode's anomaly score (0 to 1) with its threshold \
         dashed, and one row of markers per mode at the detections (score at or above the \
         threshold, outside the probationary period; one marker per pixel column). Hover a \
         marker, window or line for details.</p>",
    );
    body.push_str(&legend(&r.modes));
    body.push_str("<nav>");
    for c in &cats {
        let _ = write!(body, "<a href=\"#cat-{0}\">{0}</a>", esc(c));
    }
    body.push_str("</nav>");
    let mut id = 0;
    for c in &cats {
        let _ = write!(body, "<h2 id=\"cat-{0}\">{0}</h2>", esc(c));
        for v in r.files.iter().filter(|v| v.file.category() == *c) {
            let _ = write!(
                body,
                "<section><h3 id=\"f{id}\">{}</h3>",
                esc(v.file.file_name())
            );
            body.push_str(&chart::render(id, v, &r.modes));
            body.push_str(&file_table(v, &r.modes));
            body.push_str("</section>");
            id += 1;
        }
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body>{body}<script>{CHECK}</script></body></html>\n",
        esc(&r.title)
    )
}

#[cfg(test)]
mod tests;
