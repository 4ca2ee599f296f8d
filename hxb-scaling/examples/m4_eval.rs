//! Evaluates the forecasters on the M4 hourly data with the M4 protocol (h = 48, m = 24).
//!
//! ```text
//! cargo run --release -p hxb-scaling --example m4_eval -- [M4_DIR] [--holdout] [--variants]
//!     [--tsv] [--out FORECASTS.csv]
//! ```
//!
//! - `M4_DIR` (default `../shared/data/m4`) holds `Hourly-train.csv` and `Hourly-test.csv`.
//! - `--holdout`: score on the last 48 values of each history instead of the test file (the
//!   set used to choose the method's design without looking at the real future).
//! - `--variants`: also run variants of the ensemble (combination rules, two validation
//!   origins, daily period only) and leave-one-component-out ablations.
//! - `--tsv`: print the table as tab-separated values (for scripts).
//! - `--out`: write every method's forecasts as CSV rows `method,id,f1,...,f48`.
//!
//! Everything runs on the calling thread; the times are single-core wall times of fit +
//! forecast over all series.

use hxb_scaling::forecast::eval::{Evaluation, Series, holdout, pair_m4};
use hxb_scaling::forecast::{
    Combine, Component, FittedModel, Forecaster, Naive, SeasonalEnsemble, SeasonalEnsembleBuilder,
    SeasonalNaive,
};
use std::io::Write;

const H: usize = 48;
const M: usize = 24;

/// A forecaster under another name (two seasonal naives in one table).
struct Named<F>(&'static str, F);

impl<F: Forecaster> Forecaster for Named<F> {
    fn name(&self) -> &str {
        self.0
    }
    fn fit(&self, history: &[f64]) -> hxb_core::Result<Box<dyn FittedModel>> {
        self.1.fit(history)
    }
}

fn short_name(c: Component) -> String {
    match c {
        Component::SeasonalNaive { period } => format!("snaive{period}"),
        Component::ProfileMean { period, .. } => format!("prof{period}+mean"),
        Component::ProfileSes { period, .. } => format!("prof{period}+ses"),
        Component::ProfileDamped { period, .. } => format!("prof{period}+damped"),
        Component::Autoregressive { period, long: None } => format!("ar{period}"),
        Component::Autoregressive {
            period,
            long: Some(l),
        } => format!("ar{period}+{l}"),
        other => format!("{other:?}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut dir = String::from("../shared/data/m4");
    let (mut use_holdout, mut variants, mut tsv, mut out) = (false, false, false, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--holdout" => use_holdout = true,
            "--variants" => variants = true,
            "--tsv" => tsv = true,
            "--out" => out = Some(args.next().ok_or("--out needs a file")?),
            _ if a.starts_with("--") => return Err(format!("unknown flag {a}").into()),
            _ => dir = a,
        }
    }
    let train = std::fs::read_to_string(format!("{dir}/Hourly-train.csv"))?;
    let test = std::fs::read_to_string(format!("{dir}/Hourly-test.csv"))?;
    let mut series: Vec<Series> = pair_m4(&train, &test)?;
    if use_holdout {
        series = holdout(&series, H);
    }
    if let Some(bad) = series.iter().find(|s| s.test.len() != H) {
        return Err(format!(
            "series {} has {} test values, expected {H}",
            bad.id,
            bad.test.len()
        )
        .into());
    }

    let ensemble = SeasonalEnsemble::hourly();
    let snaive24 = Named("snaive24", SeasonalNaive::new(24));
    let snaive168 = Named("snaive168", SeasonalNaive::new(168));
    let naive = Naive;
    let mut methods: Vec<Box<dyn Forecaster>> =
        vec![Box::new(naive), Box::new(snaive24), Box::new(snaive168)];
    if variants {
        let v = |name: &str, b: SeasonalEnsembleBuilder| -> Box<dyn Forecaster> {
            let label: &'static str = Box::leak(name.to_string().into_boxed_str());
            Box::new(Named(label, b.build().expect("valid configuration")))
        };
        let hourly = || SeasonalEnsemble::builder().periods(&[24, 168]);
        methods.push(v("ens-median", hourly().combine(Combine::Median)));
        methods.push(v("ens-best1", hourly().combine(Combine::TopMean(1))));
        methods.push(v("ens-top3", hourly().combine(Combine::TopMean(3))));
        methods.push(v("ens-1origin", hourly().origins(1)));
        methods.push(v("ens-2origins", hourly().origins(2)));
        methods.push(v("ens-4origins", hourly().origins(4)));
        methods.push(v(
            "ens-4origins-k3",
            hourly().origins(4).combine(Combine::TopMean(3)),
        ));
        methods.push(v("ens-daily", SeasonalEnsemble::builder().periods(&[24])));
        // Leave-one-out: the default ensemble without each of its components.
        let all = ensemble.components_list().to_vec();
        for i in 0..all.len() {
            let mut rest = all.clone();
            let gone = rest.remove(i);
            methods.push(v(
                &format!("w/o {}", short_name(gone)),
                hourly().components(&rest),
            ));
        }
    }
    methods.push(Box::new(ensemble));
    let refs: Vec<&dyn Forecaster> = methods.iter().map(|m| m.as_ref()).collect();
    let eval = Evaluation::run(&refs, &series, M)?;

    println!(
        "M4 hourly, {} series{}, h = {H}, m = {M}",
        series.len(),
        if use_holdout {
            " (holdout: last 48 of each history)"
        } else {
            ""
        }
    );
    if tsv {
        println!("method\tsmape\tmase\towa\tseconds");
        for s in &eval.scores {
            println!(
                "{}\t{}\t{}\t{}\t{}",
                s.name,
                s.smape,
                s.mase,
                s.owa,
                s.elapsed.as_secs_f64()
            );
        }
    } else {
        print!("{}", eval.table());
    }
    if let Some(path) = out {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for (score, per_series) in eval.scores.iter().zip(&eval.forecasts) {
            for (s, fc) in series.iter().zip(per_series) {
                let vals: Vec<String> = fc.iter().map(|v| v.to_string()).collect();
                writeln!(f, "{},{},{}", score.name, s.id, vals.join(","))?;
            }
        }
    }
    Ok(())
}
