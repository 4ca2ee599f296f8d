//! The Rust side of the binding benchmarks (bindings/bench.sh): the same calls the bindings
//! make, straight from Rust, printed as one JSON object.
//!
//! `cargo run --release -p hxb-bindings-common --example bench_native`

use std::hint::black_box;
use std::time::Instant;

use hxb_bindings_common::{ops, platform};

/// The batch of the benchmarks: 100,000 quantities in four notations (same in every language).
fn batch() -> Vec<String> {
    (0..100_000u64)
        .map(|i| {
            let n = (i * 7919) % 1000;
            match i % 4 {
                0 => format!("{n}m"),
                1 => format!("{n}Mi"),
                2 => format!("{n}"),
                _ => format!("{n}.5Gi"),
            }
        })
        .collect()
}

/// The series of the detection batch: 100,000 five-minute points (same in every language).
fn series() -> (Vec<i64>, Vec<f64>) {
    (0..100_000_i64)
        .map(|i| {
            let v = (i as f64 / 20.0).sin() + if i % 9973 == 0 { 8.0 } else { 0.0 };
            (i * 300_000, v)
        })
        .unzip()
}

/// Median over `runs` of the time per call of `f` run `iters` times, in nanoseconds.
fn per_call(runs: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() -> hxb::Result<()> {
    let name_ns = per_call(5, 200_000, || {
        black_box(ops::validate_name(black_box("team-a")).unwrap());
    });
    let parse_ns = per_call(5, 200_000, || {
        black_box(ops::parse_quantity(black_box("250m")).unwrap());
    });
    let items = batch();
    let mut total = String::new();
    let batch_ns = per_call(5, 10, || {
        total = ops::sum_quantities(items.iter().map(String::as_str))
            .unwrap()
            .to_string();
    });
    let (ts, vs) = series();
    let engine = hxb::Engine::embedded()?;
    // The timed region is the call alone (as in the bindings); the checksum comes after.
    let mut scores = Vec::new();
    let detect_ns = per_call(5, 3, || {
        scores = platform::detect_anomalies(&engine, &ts, &vs, None).unwrap();
    });
    let score_sum = scores.iter().sum::<f64>();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| hxb::Error::internal(e.to_string()))?;
    let get_ns = rt.block_on(async {
        let engine = hxb::Engine::embedded()?;
        engine
            .apply(serde_json::json!({
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}
            }))
            .await?;
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..20_000 {
                black_box(engine.get("Namespace", "team-a", None).await?);
            }
            times.push(t.elapsed().as_nanos() as f64 / 20_000.0);
        }
        times.sort_by(f64::total_cmp);
        Ok::<f64, hxb::Error>(times[2])
    })?;
    println!(
        "{}",
        serde_json::json!({
            "language": "rust",
            "validate_name_us": name_ns / 1000.0,
            "parse_quantity_us": parse_ns / 1000.0,
            "engine_get_us": get_ns / 1000.0,
            "batch_items": items.len(),
            "batch_ms": batch_ns / 1e6,
            "batch_items_per_s": items.len() as f64 / (batch_ns / 1e9),
            "batch_total": total,
            "detect_points": vs.len(),
            "detect_ms": detect_ns / 1e6,
            "detect_points_per_s": vs.len() as f64 / (detect_ns / 1e9),
            "detect_score_sum": score_sum,
        })
    );
    Ok(())
}
