//! Scores the default detector on the NAB corpus with NAB's rules and measures throughput.
//!
//! ```text
//! cargo run --release -p hxb-ai --example nab_eval -- [NAB_DIR] [--export DIR] [--per-file] [--ablation] [--loco] [--split]
//! ```
//!
//! * `NAB_DIR` defaults to `../shared/data/nab`.
//! * Every score is reported for what the detector is told in advance:
//!   - **live**: nothing (the product default: the range is learnt over the first 600 points,
//!     at least a day);
//!   - **NAB protocol**: what NAB's runner hands every detector: each file's minimum and
//!     maximum (`inputMin`/`inputMax`, as a [`RangeHint`]) and its probationary period (15 %
//!     of the file, at most 750 rows, as the learning period). The reference rows were scored
//!     under this protocol.
//! * `--export DIR` writes the NAB-protocol scores as `DIR/hxb/<category>/hxb_<file>.csv`
//!   (NAB's results layout).
//! * `--per-file` prints each file's raw standard-profile score.
//! * `--ablation` scores variants of the resonance stage and of the statistical stage.
//! * `--loco` leave-one-category-out: the threshold is optimised on the other categories and
//!   applied to the held-out one.
//! * `--timing` scores the corpus re-timed (rows missing, steps jittered; values and labelled
//!   rows kept).
//! * `--shifts` scores the detector with its learning period shifted by a few points (how much
//!   of a figure is noise), and resonance variants by their mean over those shifts.
//! * `--split` split-half check on `realAWSCloudwatch`: files alternately in halves A and B
//!   (name order); a grid of resonance settings (emphasis x scales) and the threshold are
//!   tuned on one half and reported on the other.
//! * `--rank HORIZON,BLEND|gate[,ALERT_LEVEL]`, `--alert-level L` and `--rank-sweep` change
//!   the statistical stage (rank calibration, refractory alert level); `--rank-sweep` scores
//!   a grid of them with the statistical stage alone and exits.

use std::time::{Duration, Instant};

#[allow(dead_code)]
mod nab_common;

use hxb_ai::detect::{
    Combination, Composite, CompositeConfig, ContextMode, ContextOse, Detector, RangeHint,
    RankCalibration, Resonance, ResonanceConfig, score_points,
};
use hxb_ai::nab::{
    Corpus, DataFile, Evaluator, Profile, export_results, perfect_scores, protocol_config,
    protocol_learning,
};

fn run(corpus: &Corpus, config: CompositeConfig) -> hxb_core::Result<Vec<Vec<f64>>> {
    Ok(corpus
        .files
        .iter()
        .map(|f| score_points(&mut config.build(), &f.points()))
        .collect())
}

/// Like [`run`], under NAB's protocol.
fn run_nab(
    corpus: &Corpus,
    config: CompositeConfig,
    shapes: ResonanceConfig,
) -> hxb_core::Result<Vec<Vec<f64>>> {
    Ok(corpus
        .files
        .iter()
        .map(|f| score_points(&mut protocol_config(f, config, shapes).build(), &f.points()))
        .collect())
}

fn normalized(corpus: &Corpus, scores: &[Vec<f64>]) -> hxb_core::Result<[f64; 3]> {
    let r = Evaluator::new().evaluate_all(corpus, scores)?;
    Ok([r[0].normalized, r[1].normalized, r[2].normalized])
}

fn main() -> hxb_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = "../shared/data/nab".to_string();
    let (mut export, mut per_file, mut ablation, mut loco) = (None, false, false, false);
    let (mut split, mut rank, mut sweep, mut level) = (false, None, false, 0.5);
    let (mut timing, mut shifts) = (false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--export" => export = it.next().cloned(),
            "--per-file" => per_file = true,
            "--ablation" => ablation = true,
            "--loco" => loco = true,
            "--split" => split = true,
            "--timing" => timing = true,
            "--shifts" => shifts = true,
            "--rank-sweep" => sweep = true,
            "--alert-level" => {
                level = match it.next().and_then(|s| s.parse::<f64>().ok()) {
                    Some(l) => l,
                    None => {
                        return Err(hxb_core::Error::invalid(
                            "--alert-level",
                            "expected a number",
                        ));
                    }
                }
            }
            "--rank" => {
                let spec = it.next().map(String::as_str).unwrap_or("");
                let v: Vec<&str> = spec.split(',').collect();
                let num = |i: usize| v.get(i).and_then(|s| s.parse::<f64>().ok());
                let gate = v.get(1) == Some(&"gate");
                match (num(0), num(1).or(gate.then_some(0.0))) {
                    (Some(horizon), Some(blend)) => {
                        rank = Some(RankCalibration {
                            horizon,
                            blend,
                            gate,
                        });
                        level = num(2).unwrap_or(level);
                    }
                    _ => {
                        return Err(hxb_core::Error::invalid(
                            "--rank",
                            "expected HORIZON,BLEND|gate[,ALERT_LEVEL]",
                        ));
                    }
                }
            }
            other => dir = other.to_string(),
        }
    }
    let corpus = Corpus::load(&dir)?;
    println!(
        "corpus {dir}: {} files, {} rows, {} windows",
        corpus.files.len(),
        corpus.row_count(),
        corpus.window_count()
    );

    // Evaluator self-check on this corpus: the null detector scores 0, a perfect one 100.
    let null: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| vec![0.5; f.values.len()])
        .collect();
    let perfect: Vec<Vec<f64>> = corpus.files.iter().map(perfect_scores).collect();
    let (n, p) = (normalized(&corpus, &null)?, normalized(&corpus, &perfect)?);
    println!(
        "evaluator check: null detector {:.1}/{:.1}/{:.1}, perfect detector {:.1}/{:.1}/{:.1}",
        n[0], n[1], n[2], p[0], p[1], p[2]
    );

    if sweep {
        println!("\nrank calibration sweep (no hint; standard / low FP / low FN):");
        for level in [0.4, 0.5, 0.6, 0.7, 0.8] {
            println!("  alert level of the refractory period {level}:");
            for horizon in [300.0, 1000.0, 3000.0] {
                for (blend, gate) in [
                    (0.0, false),
                    (0.25, false),
                    (0.5, false),
                    (0.75, false),
                    (0.9, false),
                    (0.0, true),
                ] {
                    let c = Composite::builder()
                        .shapes(None)
                        .rank(Some(RankCalibration {
                            horizon,
                            blend,
                            gate,
                        }))
                        .refractory(100, level);
                    let s = normalized(&corpus, &run(&corpus, c)?)?;
                    let how = if gate {
                        "gate".to_string()
                    } else {
                        format!("blend {blend}")
                    };
                    println!(
                        "    horizon {horizon:>6} {how:<10}  {:>6.1} {:>6.1} {:>6.1}",
                        s[0], s[1], s[2]
                    );
                }
            }
        }
        rank_transfer(&corpus)?;
        return Ok(());
    }

    let config = Composite::builder().rank(rank).refractory(100, level);
    let shapes = Resonance::builder();
    if rank.is_some() || level != 0.5 {
        println!("statistical stage: refractory alert level {level}, rank calibration {rank:?}");
    }
    let started = Instant::now();
    let live = run(&corpus, config)?;
    let nab = run_nab(&corpus, config, shapes)?;
    let statistical = config.shapes(None);
    let stat_live = run(&corpus, statistical)?;
    // The previous detector with a hint: the statistical stage or a range-quantised
    // contextOSE part, whichever scores higher.
    let stat_ose: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .zip(&stat_live)
        .map(|(f, s)| {
            let mut ose = ContextOse::new(3, 15, 7, 4096, 120, 0.75);
            if let Some(h) = RangeHint::of(&f.values) {
                ose = ose.with_range(h.min(), h.max());
            }
            let o = score_points(&mut ose, &f.points());
            s.iter().zip(o).map(|(a, b)| a.max(b)).collect()
        })
        .collect();
    let only_learning: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| {
            let c = protocol_config(f, config, shapes).range_hint(None);
            score_points(&mut c.build(), &f.points())
        })
        .collect();
    let only_hint: Vec<Vec<f64>> = corpus
        .files
        .iter()
        .map(|f| {
            score_points(
                &mut config.range_hint(RangeHint::of(&f.values)).build(),
                &f.points(),
            )
        })
        .collect();
    println!("scored in {:.1} s", started.elapsed().as_secs_f64());

    let ev = Evaluator::new();
    let rows: [(&str, &Vec<Vec<f64>>); 6] = [
        (
            "**hxb default, NAB protocol (range + probationary period)**",
            &nab,
        ),
        ("**hxb default, live (told nothing)**", &live),
        ("hxb default, NAB range hint only", &only_hint),
        ("hxb default, NAB probationary period only", &only_learning),
        (
            "hxb statistical stage alone (previous default), live",
            &stat_live,
        ),
        (
            "hxb statistical stage or contextOSE (previous hinted), NAB range",
            &stat_ose,
        ),
    ];
    let mut results = Vec::new();
    println!("\n| detector | standard | low FP | low FN |\n|---|---|---|---|");
    for (name, scores) in rows {
        let r = ev.evaluate_all(&corpus, scores)?;
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            r[0].normalized, r[1].normalized, r[2].normalized
        );
        results.push(r);
    }
    for (name, s) in nab_common::REFERENCE {
        println!(
            "| {name} (README) | {:.1} | {:.1} | {:.1} |",
            s[0], s[1], s[2]
        );
    }
    println!();
    for (label, r) in [("NAB protocol", &results[0]), ("live", &results[1])] {
        for r in r {
            println!(
                "{label:<13} {:<20} threshold {:.4}  raw {:>8.3}  null {:>6.1}  perfect {:>5.1}  tp {} fp {} fn {}",
                r.profile.name,
                r.best.threshold,
                r.best.score,
                r.null,
                r.perfect,
                r.best.tp,
                r.best.fp,
                r.best.fn_
            );
        }
    }

    if per_file {
        println!(
            "\nper file (standard, raw score at the optimised threshold; NAB protocol / live):"
        );
        for ((name, n), (_, l)) in results[0][0].per_file.iter().zip(&results[1][0].per_file) {
            println!("  {n:>8.3} {l:>8.3}  {name}");
        }
    }

    if ablation {
        resonance_ablation(&corpus, config)?;
        println!("\nstatistical stage ablation, live (standard / low FP / low FN):");
        let base = statistical;
        let alone = base
            .value_z(false)
            .diff_z(false)
            .cusum(false)
            .neighbour(false)
            .seasonal(false);
        let variants: Vec<(&str, CompositeConfig)> = vec![
            ("value z only", alone.value_z(true)),
            ("diff z only", alone.diff_z(true)),
            ("cusum only", alone.cusum(true)),
            ("neighbour only", alone.neighbour(true)),
            ("time-of-day only", alone.seasonal(true)),
            ("without value z", base.value_z(false)),
            ("without cusum", base.cusum(false)),
            ("without neighbour", base.neighbour(false)),
            ("without time-of-day", base.seasonal(false)),
            ("with diff z", base.diff_z(true)),
            ("combination: mean", base.combination(Combination::Mean)),
            ("combination: max", base.combination(Combination::Max)),
            ("short average 8", base.calibration(1000.0, 8.0)),
            ("without refractory", base.refractory(0, 0.5)),
            ("evidence ceiling 1.5", base.ceiling(1.5)),
            (
                "with contextOSE part",
                base.context(Some(ContextMode {
                    max_contexts: 4096,
                    calibrated: true,
                })),
            ),
        ];
        for (name, c) in variants {
            let s = normalized(&corpus, &run(&corpus, c)?)?;
            println!("  {name:<20} {:>6.1} {:>6.1} {:>6.1}", s[0], s[1], s[2]);
        }
        context_ose(&corpus)?;
    }

    if loco {
        println!("\nleave-one-category-out (standard; threshold from the other categories):");
        for (label, scores) in [
            ("NAB protocol", &nab),
            ("live", &live),
            ("previous default, live", &stat_live),
            ("previous hinted, NAB range", &stat_ose),
        ] {
            loco_report(&corpus, label, scores)?;
        }
    }

    if split {
        split_half(&corpus, config)?;
    }

    if timing {
        retimed_report(&corpus, config)?;
    }

    if shifts {
        shifted_learning(&corpus, config)?;
    }

    throughput(&corpus, config, statistical)?;

    if let Some(out) = export {
        let written = export_results(&out, "hxb", &corpus, &nab)?;
        println!(
            "exported the NAB-protocol scores: {} files under {out}/hxb/",
            written.len()
        );
    }
    Ok(())
}

/// Points per second on one thread over every file, ten passes, and the state per series.
fn throughput(
    corpus: &Corpus,
    config: CompositeConfig,
    statistical: CompositeConfig,
) -> hxb_core::Result<()> {
    let series: Vec<Vec<(i64, f64)>> = corpus.files.iter().map(|f| f.points()).collect();
    let points: usize = series.iter().map(Vec::len).sum();
    let reps = 10;
    println!("\nthroughput, one thread, {points} points x {reps}:");
    let nab: Vec<CompositeConfig> = corpus
        .files
        .iter()
        .map(|f| protocol_config(f, config, Resonance::builder()))
        .collect();
    let cases: [(&str, &dyn Fn(usize) -> CompositeConfig); 3] = [
        ("default, live", &|_| config),
        ("default, NAB protocol", &|i| nab[i]),
        ("statistical stage alone", &|_| statistical),
    ];
    for (name, make) in cases {
        let mut checksum = 0.0;
        let mut bytes = Vec::new();
        let start = Instant::now();
        for rep in 0..reps {
            for (i, s) in series.iter().enumerate() {
                let mut d = make(i).build();
                for &(t, v) in s {
                    checksum += d.update(t, v);
                }
                if rep == 0 {
                    bytes.push(d.state_bytes());
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        bytes.sort_unstable();
        println!(
            "  {name:<24} {:>10.0} points/s ({secs:.3} s; checksum {checksum:.1}); state per series at the end of a file: median {} bytes, largest {}",
            (points * reps) as f64 / secs,
            bytes[bytes.len() / 2],
            bytes[bytes.len() - 1]
        );
    }
    Ok(())
}

/// One-at-a-time variants of the resonance stage, under NAB's protocol and live.
fn resonance_ablation(corpus: &Corpus, config: CompositeConfig) -> hxb_core::Result<()> {
    println!(
        "\nresonance stage, one setting changed (standard / low FP / low FN; NAB protocol | live):"
    );
    let r = Resonance::builder();
    let variants: Vec<(&str, ResonanceConfig)> = vec![
        ("default", r),
        ("one scale", r.scales(1)),
        ("three scales", r.scales(3)),
        ("no emphasis of the newest level", r.emphasis(0)),
        ("emphasis 2", r.emphasis(2)),
        ("window 6", r.window(6)),
        ("window 7", r.window(7)),
        ("32 levels", r.levels(32)),
        ("128 levels", r.levels(128)),
        ("resonate at 0.9", r.resonate(0.9)),
        ("resonate at 0.98", r.resonate(0.98)),
        ("mask 6 blocks", r.mask(6)),
        ("mask 24 blocks", r.mask(24)),
        ("50 blocks per learning period", r.samples_per_learning(50)),
        (
            "200 blocks per learning period",
            r.samples_per_learning(200),
        ),
        ("256 categories", r.max_categories(256)),
        ("1,024 categories", r.max_categories(1024)),
        ("margin 0.5 (live only)", r.margin(0.5)),
        ("margin 0.1 (live only)", r.margin(0.1)),
    ];
    for (name, shapes) in variants {
        let n = normalized(corpus, &run_nab(corpus, config, shapes)?)?;
        let l = normalized(corpus, &run(corpus, config.shapes(Some(shapes)))?)?;
        println!(
            "  {name:<32} {:>5.1} {:>5.1} {:>5.1} | {:>5.1} {:>5.1} {:>5.1}",
            n[0], n[1], n[2], l[0], l[1], l[2]
        );
    }
    println!("\nNAB hint widened (an operator's estimate rather than the exact range):");
    for widen in [0.1, 0.25, 0.5] {
        let scores: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| {
                let hint = RangeHint::of(&f.values).map(|h| {
                    let w = widen * (h.max() - h.min());
                    RangeHint::new(h.min() - w, h.max() + w).expect("finite bounds")
                });
                let c = protocol_config(f, config, Resonance::builder()).range_hint(hint);
                score_points(&mut c.build(), &f.points())
            })
            .collect();
        let s = normalized(corpus, &scores)?;
        println!(
            "  widened by {widen} of the span each side {:>5.1} {:>5.1} {:>5.1}",
            s[0], s[1], s[2]
        );
    }
    Ok(())
}

/// Leave-one-category-out for one set of scores: threshold from the other categories.
fn loco_report(corpus: &Corpus, label: &str, scores: &[Vec<f64>]) -> hxb_core::Result<()> {
    println!("  {label}:");
    let ev = Evaluator::new();
    for (cat, t) in ev.leave_one_category_out(corpus, scores, &Profile::STANDARD)? {
        println!(
            "    {cat:<22} threshold {:.4}: normalised {:>6.1} (raw {:>7.3}); own optimum {:.4}: {:>6.1} (raw {:>7.3})",
            t.threshold(),
            t.transferred.normalized,
            t.transferred.best.score,
            t.own.best.threshold,
            t.own.normalized,
            t.own.best.score
        );
    }
    Ok(())
}

/// The contextOSE port on its own: with a streaming range (what a live stream allows) and,
/// to check the port against NAB's published detector, with each file's full range given in
/// advance as NAB does (a look-ahead).
fn context_ose(corpus: &Corpus) -> hxb_core::Result<()> {
    println!("\ncontextOSE port alone (3 bits, 15 neurons, rest 120 points after 0.75):");
    for (name, cap, lookahead) in [
        ("streaming range, 4096 contexts", 4096, false),
        ("streaming range, unbounded", usize::MAX, false),
        ("file range (look-ahead), 4096", 4096, true),
        ("file range (look-ahead), unbounded", usize::MAX, true),
    ] {
        let start = Instant::now();
        let (mut most, mut bytes) = (0, 0);
        let scores: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| {
                let mut d = ContextOse::new(3, 15, 7, cap, 120, 0.75);
                if lookahead {
                    let lo = f.values.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = f.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    d = d.with_range(lo, hi);
                }
                let s = score_points(&mut d, &f.points());
                most = most.max(d.contexts());
                bytes = bytes.max(d.state_bytes());
                s
            })
            .collect();
        let rate = corpus.row_count() as f64 / start.elapsed().as_secs_f64();
        let s = normalized(corpus, &scores)?;
        println!(
            "  {name:<36} {:>6.1} {:>6.1} {:>6.1}  ({rate:.0} points/s, up to {most} contexts, {bytes} bytes)",
            s[0], s[1], s[2]
        );
    }
    Ok(())
}

/// Tune on one half of the AWS files, report on the other (both ways): the threshold of the
/// default detector, then a grid of resonance settings with the threshold.
fn split_half(corpus: &Corpus, base: CompositeConfig) -> hxb_core::Result<()> {
    let [a, b] = corpus.halves("realAWSCloudwatch");
    let halves = [corpus.subset(&a)?, corpus.subset(&b)?];
    let names = ["A", "B"];
    let ev = Evaluator::new();
    println!(
        "\nsplit-half on realAWSCloudwatch ({} + {} files; standard profile):",
        halves[0].files.len(),
        halves[1].files.len()
    );
    type Runner<'a> = &'a dyn Fn(&Corpus, ResonanceConfig) -> hxb_core::Result<Vec<Vec<f64>>>;
    let nab: Runner<'_> = &|c, r| run_nab(c, base, r);
    let live: Runner<'_> = &|c, r| run(c, base.shapes(Some(r)));
    for (label, runner) in [("NAB protocol", nab), ("live", live)] {
        println!("  {label}, default detector (threshold transfer):");
        // The category alone, in corpus order, so that its halves are `a` and `b` again.
        let mut all = [a.as_slice(), b.as_slice()].concat();
        all.sort_unstable();
        let aws = corpus.subset(&all)?;
        let scores = runner(&aws, Resonance::builder())?;
        let transfers = ev.split_half(&aws, &scores, &Profile::STANDARD, "realAWSCloudwatch")?;
        for (t, (tune, report)) in transfers.iter().zip([(0, 1), (1, 0)]) {
            println!(
                "    threshold from {} ({:.1}, {:.4}): on {} {:.1}, at its own optimum {:.1}",
                names[tune],
                t.tuned.normalized,
                t.threshold(),
                names[report],
                t.transferred.normalized,
                t.own.normalized
            );
        }
        println!("  {label}, resonance settings (emphasis x scales) and threshold tuned:");
        let mut grid: Vec<(String, ResonanceConfig)> = Vec::new();
        for emphasis in [0, 4, 8] {
            for scales in [1, 2, 3] {
                grid.push((
                    format!("emphasis {emphasis}, {scales} scales"),
                    Resonance::builder().emphasis(emphasis).scales(scales),
                ));
            }
        }
        for (tune, report) in [(0, 1), (1, 0)] {
            let (t, r) = (&halves[tune], &halves[report]);
            let mut best: Option<(f64, f64, &str, ResonanceConfig)> = None;
            for (name, c) in &grid {
                let e = ev.evaluate(t, &runner(t, *c)?, &Profile::STANDARD)?;
                if best.as_ref().is_none_or(|b| e.normalized > b.0) {
                    best = Some((e.normalized, e.best.threshold, name, *c));
                }
            }
            let (tuned, threshold, name, c) = best.expect("grid is not empty");
            let rs = runner(r, c)?;
            let transferred = ev.evaluate_at(r, &rs, &Profile::STANDARD, threshold)?;
            let own = ev.evaluate(r, &rs, &Profile::STANDARD)?;
            let default = ev.evaluate(r, &runner(r, Resonance::builder())?, &Profile::STANDARD)?;
            println!(
                "    tuned on {} ({tuned:.1}): {name}, threshold {threshold:.4}; on {}: {:.1} at that threshold, {:.1} at its own optimum; default on {}: {:.1}",
                names[tune],
                names[report],
                transferred.normalized,
                own.normalized,
                names[report],
                default.normalized
            );
        }
    }
    Ok(())
}

/// Transfer check of the rank calibration: the configuration (rank off, or one of the
/// horizon x blend-or-gate cells, each at refractory alert level 0.4 or 0.5) and its threshold are chosen on one part of the corpus and applied
/// to the other, for each held-out category and each half of `realAWSCloudwatch`.
fn rank_transfer(corpus: &Corpus) -> hxb_core::Result<()> {
    let mut grid: Vec<(String, CompositeConfig)> = Vec::new();
    for level in [0.4, 0.5] {
        let base = Composite::builder().shapes(None).refractory(100, level);
        grid.push((format!("rank off, level {level}"), base));
        for horizon in [300.0, 1000.0, 3000.0] {
            for (blend, gate) in [(0.5, false), (0.75, false), (0.9, false), (0.0, true)] {
                let how = if gate {
                    "gate".to_string()
                } else {
                    format!("blend {blend}")
                };
                grid.push((
                    format!("horizon {horizon}, {how}, level {level}"),
                    base.rank(Some(RankCalibration {
                        horizon,
                        blend,
                        gate,
                    })),
                ));
            }
        }
    }
    let ev = Evaluator::new();
    let transfer = |label: &str, tune: &Corpus, report: &Corpus| -> hxb_core::Result<()> {
        let mut best: Option<(f64, f64, &str, CompositeConfig)> = None;
        for (name, c) in &grid {
            let e = ev.evaluate(tune, &run(tune, *c)?, &Profile::STANDARD)?;
            if best.as_ref().is_none_or(|b| e.normalized > b.0) {
                best = Some((e.normalized, e.best.threshold, name, *c));
            }
        }
        let (tuned, t, name, c) = best.expect("grid is not empty");
        let got = ev.evaluate_at(report, &run(report, c)?, &Profile::STANDARD, t)?;
        let stat = Composite::builder().shapes(None);
        let off = ev.evaluate(tune, &run(tune, stat)?, &Profile::STANDARD)?;
        let off_got = ev.evaluate_at(
            report,
            &run(report, stat)?,
            &Profile::STANDARD,
            off.best.threshold,
        )?;
        println!(
            "  {label:<34} chosen: {name} ({tuned:.1}, threshold {t:.4}) -> {:.1}; default -> {:.1}",
            got.normalized, off_got.normalized
        );
        Ok(())
    };
    println!(
        "\nrank calibration transfer (standard; configuration and threshold from the other part):"
    );
    for cat in corpus.categories() {
        let (held, rest): (Vec<usize>, Vec<usize>) =
            (0..corpus.files.len()).partition(|&i| corpus.files[i].category() == cat);
        let (held, rest) = (corpus.subset(&held)?, corpus.subset(&rest)?);
        transfer(&format!("held out {cat}"), &rest, &held)?;
    }
    let [a, b] = corpus.halves("realAWSCloudwatch");
    let (a, b) = (corpus.subset(&a)?, corpus.subset(&b)?);
    transfer("realAWSCloudwatch half A -> B", &a, &b)?;
    transfer("realAWSCloudwatch half B -> A", &b, &a)?;
    Ok(())
}

/// The corpus with its timestamps changed and its values and labels kept (windows stay on the
/// same rows): `missing` spreads rows apart as if a fifth of the samples between them were
/// lost (now and then for hours), `jitter` draws every step between half and one and a half
/// of the usual one.
fn retimed(corpus: &Corpus, missing: bool, seed: u64) -> Corpus {
    let mut state = seed;
    let mut next = move || {
        // xorshift64*: deterministic, good enough to spread timestamps.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    };
    let files = corpus
        .files
        .iter()
        .map(|f| {
            let step = f.timestamps.get(1).map_or(300_000, |t| t - f.timestamps[0]) as f64;
            let mut ts = Vec::with_capacity(f.timestamps.len());
            let mut t = f.timestamps.first().copied().unwrap_or(0);
            for i in 0..f.timestamps.len() {
                if i > 0 {
                    let u = next();
                    let k = if !missing {
                        0.5 + u
                    } else if u < 0.8 {
                        1.0
                    } else if u < 0.99 {
                        (2.0 + 5.0 * next()).floor()
                    } else {
                        (20.0 + 80.0 * next()).floor()
                    };
                    t += ((k * step / 1000.0).round() as i64).max(1) * 1000;
                }
                ts.push(t);
            }
            let row = |at: i64| f.timestamps.partition_point(|&x| x < at);
            let windows = f
                .windows
                .iter()
                .map(|&(a, b)| {
                    let (i, j) = (row(a), f.timestamps.partition_point(|&x| x <= b));
                    let j = j.saturating_sub(1).max(i).min(ts.len() - 1);
                    (ts[i.min(ts.len() - 1)], ts[j])
                })
                .collect();
            DataFile {
                name: f.name.clone(),
                timestamps: ts,
                values: f.values.clone(),
                windows,
            }
        })
        .collect();
    Corpus { files }
}

/// The default detector on the corpus re-timed: irregular sampling should not cost much.
fn retimed_report(corpus: &Corpus, config: CompositeConfig) -> hxb_core::Result<()> {
    println!(
        "\nre-timed corpus, same values and labelled rows (standard / low FP / low FN; NAB protocol | live):"
    );
    for (name, c) in [
        ("as recorded", corpus.clone()),
        (
            "rows missing (a fifth, now and then for hours), seed 7",
            retimed(corpus, true, 7),
        ),
        ("rows missing, seed 2", retimed(corpus, true, 2)),
        ("rows missing, seed 3", retimed(corpus, true, 3)),
        (
            "steps jittered (0.5-1.5 of the usual)",
            retimed(corpus, false, 11),
        ),
    ] {
        let n = normalized(&c, &run_nab(&c, config, Resonance::builder())?)?;
        let l = normalized(&c, &run(&c, config)?)?;
        println!(
            "  {name:<56} {:>5.1} {:>5.1} {:>5.1} | {:>5.1} {:>5.1} {:>5.1}",
            n[0], n[1], n[2], l[0], l[1], l[2]
        );
    }
    Ok(())
}

/// The default detector and a few resonance variants with the learning period shifted by a
/// few points: under NAB's protocol (around each file's probationary period) and live (around
/// 600 points, at least a day). A single alert more or less moves the score by points, so a
/// figure is read against the spread of its shifts.
fn shifted_learning(corpus: &Corpus, config: CompositeConfig) -> hxb_core::Result<()> {
    let shifts = [-30_i32, -8, -4, -2, 0, 2, 4, 8, 30];
    let score = |shapes: ResonanceConfig, delta: i32, protocol: bool| {
        let scores: Vec<Vec<f64>> = corpus
            .files
            .iter()
            .map(|f| {
                let c = if protocol {
                    let c = protocol_config(f, config, shapes);
                    let l = protocol_learning(f).saturating_add_signed(delta);
                    c.shapes(Some(shapes.learning(l).learning_time(Duration::ZERO)))
                } else {
                    config.shapes(Some(shapes.learning(600_u32.saturating_add_signed(delta))))
                };
                score_points(&mut c.build(), &f.points())
            })
            .collect();
        normalized(corpus, &scores)
    };
    println!(
        "\nlearning period shifted (standard / low FP / low FN; NAB protocol | live, around 600 points):"
    );
    for &delta in &shifts {
        let n = score(Resonance::builder(), delta, true)?;
        let l = score(Resonance::builder(), delta, false)?;
        println!(
            "  {delta:+4} points  {:>5.1} {:>5.1} {:>5.1} | {:>5.1} {:>5.1} {:>5.1}",
            n[0], n[1], n[2], l[0], l[1], l[2]
        );
    }
    println!(
        "resonance variants over those shifts (standard; mean and lowest; NAB protocol | live):"
    );
    let r = Resonance::builder();
    for (name, v) in [
        ("default", r),
        ("emphasis 2", r.emphasis(2)),
        ("resonate at 0.9", r.resonate(0.9)),
        ("256 categories", r.max_categories(256)),
        ("mask 24 blocks", r.mask(24)),
        ("window 7", r.window(7)),
        ("three scales", r.scales(3)),
    ] {
        let mut cells = Vec::new();
        for protocol in [true, false] {
            let got: Vec<f64> = shifts
                .iter()
                .map(|&d| score(v, d, protocol).map(|s| s[0]))
                .collect::<hxb_core::Result<_>>()?;
            let mean = got.iter().sum::<f64>() / got.len() as f64;
            let low = got.iter().copied().fold(f64::INFINITY, f64::min);
            cells.push(format!("mean {mean:>5.1} lowest {low:>5.1}"));
        }
        println!("  {name:<18} {} | {}", cells[0], cells[1]);
    }
    Ok(())
}
