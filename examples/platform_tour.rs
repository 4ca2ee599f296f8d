//! The hxb platform tour on the embedded default: no cluster, no daemon, no network.
//!
//! Run it with `cargo run --release -p hxb-examples --example platform_tour [report.html]`
//! (or set `HXB_TOUR_REPORT`).
//!
//! Two organizations (a shared-plan and a dedicated-plan workspace, nested projects, members
//! with different roles) run four applications through a simulated day of diurnal traffic on
//! a manual clock: the HPA and predictive scaling act every five minutes, an injected memory
//! leak and traffic spike are detected, grouped into incidents and remediated through the
//! guard (RBAC from the tenancy, four-eyes approval), usage is metered and costed per tenant.
//! A compact summary goes to stdout and `report.html` gets the charts.

mod tour;

use std::sync::Arc;
use std::time::Instant;

use hxb::prelude::*;
use hxb::{Clock, ManualClock};
use tour::progress::Progress;
use tour::{report, setup, sim};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tour failed: [{}] {e}", e.kind());
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let started = Instant::now();
    let out = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("HXB_TOUR_REPORT").ok())
        .unwrap_or_else(|| "report.html".into());
    let day: hxb::core::Timestamp = "2026-11-23T00:00:00Z"
        .parse()
        .map_err(|e| Error::internal(format!("{e}")))?;
    let clock = Arc::new(ManualClock::new(day));
    let engine = Engine::builder()
        .nodes(6)
        .seed(7)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build()
        .await?;
    println!(
        "hxb {} — embedded engine up (6 simulated nodes)",
        hxb::VERSION
    );

    let apps = setup::apps();
    setup::tenants(&engine, &apps).await?;
    println!(
        "tenants: acme (professional; workspaces shop [shared] and ml [dedicated]), globex (starter); {} apps",
        apps.len()
    );

    let mut progress = Progress::new("simulating 24 h", sim::MINUTES);
    let rec = sim::run(&engine, &clock, &apps, &mut progress).await?;
    let elapsed = started.elapsed();

    report::summary(&rec, &mut std::io::stdout().lock())
        .map_err(|e| Error::internal(e.to_string()))?;
    let html = report::html(&rec);
    std::fs::write(&out, html).map_err(|e| Error::internal(format!("writing {out}: {e}")))?;
    println!("report: {out}");
    println!("simulated 24 h in {:.1} s", elapsed.as_secs_f64());
    Ok(())
}
