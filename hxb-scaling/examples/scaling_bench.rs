//! Throughput of the scaling maths on one core.
//!
//! `cargo run --release -p hxb-scaling --example scaling_bench`

use std::hint::black_box;
use std::time::{Duration, Instant};

use hxb_core::{Quantity, ResourceList, Timestamp};
use hxb_scaling::hpa::{
    Behavior, ControllerConfig, HpaSpec, HpaState, MetricSource, MetricValues, Observation,
    PodInfo, PodMetricSample, recommend,
};
use hxb_scaling::nodepool::{NodeOption, PodGroup, size_node_pool};
use hxb_scaling::rightsizing::{ContainerHistory, RecommenderConfig, recommend_pod};

fn time<F: FnMut() -> u64>(name: &str, iters: u64, mut f: F) {
    let start = Instant::now();
    let mut acc = 0u64;
    for _ in 0..iters {
        acc = acc.wrapping_add(f());
    }
    let el = start.elapsed();
    black_box(acc);
    let per = el.as_secs_f64() / iters as f64;
    println!(
        "{name:<48} {:>12.1} µs/op {:>14.0} op/s",
        per * 1e6,
        1.0 / per
    );
}

fn main() -> hxb_core::Result<()> {
    let now = Timestamp::from_second(1_000_000).unwrap();
    let started = Timestamp::from_second(0).unwrap();
    let req = ResourceList::parse([("cpu", "500m")])?;
    for pods in [10usize, 100, 1000] {
        let obs = Observation {
            spec_replicas: pods as i32,
            status_replicas: pods as i32,
            pods: (0..pods)
                .map(|i| PodInfo::running(format!("p{i}"), started, req.clone()))
                .collect(),
            metrics: vec![MetricValues::PerPod(
                (0..pods)
                    .map(|i| PodMetricSample {
                        pod: format!("p{i}"),
                        value: 0.2 + (i % 7) as f64 * 0.05,
                        timestamp: now,
                        window: Duration::from_secs(30),
                    })
                    .collect(),
            )],
        };
        let spec = HpaSpec::builder(5000)
            .metric(MetricSource::cpu_utilization(50))
            .behavior(Behavior::default())
            .build()?;
        let cfg = ControllerConfig::default();
        let state = HpaState::default();
        time(
            &format!("hpa::recommend, {pods} pods, 1 cpu metric"),
            20_000 / pods as u64 * 10,
            || {
                recommend(&spec, &cfg, &obs, &state, now)
                    .unwrap()
                    .desired_replicas as u64
            },
        );
    }

    let rcfg = RecommenderConfig::default();
    let mut h = ContainerHistory::new(&rcfg)?;
    let mut minute = 0i64;
    time("rightsizing: add cpu + memory sample", 1_000_000, || {
        minute += 1;
        let at = Timestamp::from_second(minute * 60).unwrap();
        h.add_cpu_sample(0.1 + (minute % 13) as f64 * 0.01, 0.5, at)
            .unwrap();
        h.add_memory_sample(3e8 + (minute % 11) as f64 * 1e6, at)
            .unwrap() as u64
    });
    time("rightsizing: recommend_pod (1 container)", 100_000, || {
        recommend_pod(&[("app", &h)], &rcfg).unwrap()[0]
            .target
            .cpu_millicores as u64
    });

    let plans: Vec<NodeOption> = [
        ("s", "2", "8Gi", 50),
        ("m", "4", "16Gi", 95),
        ("l", "16", "64Gi", 360),
    ]
    .into_iter()
    .map(|(n, c, m, p)| {
        Ok(NodeOption::new(
            n,
            ResourceList::parse([("cpu", c), ("memory", m)])?,
            Quantity::from_int(p),
        ))
    })
    .collect::<hxb_core::Result<_>>()?;
    let groups: Vec<PodGroup> = (0..200)
        .map(|i| {
            let r = ResourceList::from_quantities([
                ("cpu", Quantity::from_milli(100 + (i * 37 % 1500))),
                (
                    "memory",
                    Quantity::from_bytes((256 + (i * 53 % 4000)) << 20),
                ),
            ])
            .unwrap();
            PodGroup::new(format!("g{i}"), r, 1 + (i % 50) as u32)
        })
        .collect();
    let total: u32 = groups.iter().map(|g| g.count).sum();
    time(
        &format!("nodepool: size {total} pods in 200 groups on 3 plans"),
        200,
        || size_node_pool(&groups, &plans, 20).unwrap().best().nodes as u64,
    );
    Ok(())
}
