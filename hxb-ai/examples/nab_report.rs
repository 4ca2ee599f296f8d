//! Draws the default detector on the NAB corpus: one self-contained HTML page with a chart per
//! file (values, probationary period, labelled windows, scores, threshold, detections) under
//! NAB's protocol and live, and the corpus scores with the reference detectors.
//!
//! ```text
//! cargo run --release -p hxb-ai --example nab_report -- [NAB_DIR] [OUT.html]
//! ```
//!
//! * `NAB_DIR` defaults to `../shared/data/nab`, `OUT.html` to `nab-report.html`.
//! * The modes are those of `nab_eval`: **NAB protocol** (each file's minimum and maximum as a
//!   [`RangeHint`], its probationary period as the learning period) and **live** (the default
//!   configuration, told nothing). Each mode's threshold is optimised over the whole corpus
//!   per profile, as NAB does; the charts draw the standard profile's threshold.

#[allow(dead_code)]
mod nab_common;
mod nab_view;

use std::time::Instant;

use hxb_ai::detect::{Composite, Resonance, score_points};
use hxb_ai::nab::{Corpus, Evaluator, ProfileScore, probationary_length, protocol_config};

use nab_view::{FileView, Mode, Report};

fn mode(
    (name, short, about): (&str, &str, &str),
    color: &'static str,
    results: &[ProfileScore],
) -> hxb_core::Result<Mode> {
    let [standard, low_fp, low_fn] = results else {
        return Err(hxb_core::Error::internal("expected NAB's three profiles"));
    };
    Ok(Mode {
        name: name.into(),
        short: short.into(),
        about: about.into(),
        color,
        normalized: [standard.normalized, low_fp.normalized, low_fn.normalized],
        threshold: standard.best.threshold,
        inside: standard.best.tp,
        outside: standard.best.fp,
    })
}

fn main() -> hxb_core::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "../shared/data/nab".into());
    let out = args.next().unwrap_or_else(|| "nab-report.html".into());
    let started = Instant::now();
    let corpus = Corpus::load(&dir)?;
    let protocol: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| {
            score_points(
                &mut protocol_config(f, Composite::builder(), Resonance::builder()).build(),
                &f.points(),
            )
        })
        .collect();
    let live: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| score_points(&mut Composite::builder().build(), &f.points()))
        .collect();
    let scored = started.elapsed().as_secs_f64();
    let ev = Evaluator::new();
    let (rp, rl) = (
        ev.evaluate_all(&corpus, &protocol)?,
        ev.evaluate_all(&corpus, &live)?,
    );
    let modes = vec![
        mode(
            (
                "hxb default, NAB protocol (range + probationary period)",
                "protocol",
                "told what NAB's runner tells every detector: the file's minimum and maximum \
                 (as a range hint) and its probationary period (as the learning period)",
            ),
            "#2563eb",
            &rp,
        )?,
        mode(
            (
                "hxb default, live (told nothing)",
                "live",
                "the product default: the range is learnt over the first 600 points (at least a day)",
            ),
            "#9333ea",
            &rl,
        )?,
    ];
    let files = corpus
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| FileView {
            file: f,
            probation: probationary_length(0.15, f.values.len()).ceil() as usize,
            scores: vec![&protocol[i], &live[i]],
            raw: vec![rp[0].per_file[i].1, rl[0].per_file[i].1],
        })
        .collect();
    let report = Report {
        title: "hxb anomaly detection on NAB".into(),
        subtitle: format!(
            "Corpus {dir}: {} files, {} rows, {} labelled windows. Default detector \
             (hxb_ai::detect::Composite) under NAB's protocol and live.",
            corpus.files.len(),
            corpus.row_count(),
            corpus.window_count()
        ),
        modes,
        reference: nab_common::REFERENCE
            .iter()
            .map(|(n, s)| ((*n).to_string(), *s))
            .collect(),
        files,
    };
    let page = nab_view::html(&report);
    std::fs::write(&out, &page)
        .map_err(|e| hxb_core::Error::backend(format!("writing {out}"), e))?;
    for m in &report.modes {
        println!(
            "{:<58} {:>5.1} {:>5.1} {:>5.1}  threshold {:.4}  detections {} in / {} out",
            m.name,
            m.normalized[0],
            m.normalized[1],
            m.normalized[2],
            m.threshold,
            m.inside,
            m.outside
        );
    }
    println!(
        "wrote {out}: {} bytes, {} charts; scored in {scored:.1} s, {:.1} s in all",
        page.len(),
        report.files.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
