//! Tests of the VPA port; each names the upstream behaviour it checks.

use super::*;
use hxb_core::ErrorKind;

const MIB: f64 = 1024.0 * 1024.0;

fn at_min(minute: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + minute * 60).unwrap()
}

fn steady(days: i64, cpu: f64, mem: f64) -> ContainerHistory {
    let mut h = ContainerHistory::new(&RecommenderConfig::default()).unwrap();
    for m in 0..days * 24 * 60 {
        h.add_cpu_sample(cpu, 1.0, at_min(m)).unwrap();
        h.add_memory_sample(mem, at_min(m)).unwrap();
    }
    h
}

fn bucket_end(o: &HistogramOptions, v: f64) -> f64 {
    o.bucket_start(o.find_bucket(v) + 1)
}

#[test]
fn target_is_p90_bucket_end_plus_margin() {
    // percentileCPUEstimator + WithCPUMargin(0.15): constant usage lands in one bucket, whose
    // end is the percentile; the target adds 15 %.
    let h = steady(8, 0.2, 300.0 * MIB);
    let cfg = RecommenderConfig::default();
    let r = &recommend_pod(&[("app", &h)], &cfg).unwrap()[0];
    let cpu = (bucket_end(&cfg.cpu_histogram, 0.2) * 1000.0) as i64;
    assert_eq!(r.target.cpu_millicores, cpu + (cpu as f64 * 0.15) as i64);
    let mem = bucket_end(&cfg.memory_histogram, 300.0 * MIB) as i64;
    assert_eq!(r.target.memory_bytes, mem + (mem as f64 * 0.15) as i64);
}

#[test]
fn confidence_multipliers_follow_history_length() {
    // recommender.go comments: upper ×(1 + 1/days): 1 day → ×2, 1 week → ×1.14;
    // lower ×(1 + 0.001/days)^-2 converges to 1 quickly.
    let cfg = RecommenderConfig::default();
    let one_day = steady(1, 1.0, 1024.0 * MIB);
    let c = one_day.confidence();
    assert!((c - (1439.0 / 1440.0)).abs() < 1e-9, "{c}");
    let r = &recommend_pod(&[("a", &one_day)], &cfg).unwrap()[0];
    let p95 = (bucket_end(&cfg.cpu_histogram, 1.0) * 1000.0) as i64;
    let base = p95 + (p95 as f64 * 0.15) as i64;
    assert_eq!(
        r.upper_bound.cpu_millicores,
        (base as f64 * (1.0 + 1.0 / c)) as i64
    );
    assert!(
        r.lower_bound.cpu_millicores < base
            && r.lower_bound.cpu_millicores as f64 > base as f64 * 0.99
    );

    let week = steady(7, 1.0, 1024.0 * MIB);
    let rw = &recommend_pod(&[("a", &week)], &cfg).unwrap()[0];
    assert!(rw.upper_bound.cpu_millicores < r.upper_bound.cpu_millicores);
    let ratio = rw.upper_bound.cpu_millicores as f64 / base as f64;
    assert!(
        (ratio - (1.0 + 1.0 / week.confidence())).abs() < 1e-3,
        "{ratio}"
    );
}

#[test]
fn no_cpu_samples_means_infinite_upper_bound() {
    // "No history: *INF" for the upper bound and "*0" for the lower bound.
    let cfg = RecommenderConfig::default();
    let mut h = ContainerHistory::new(&cfg).unwrap();
    h.add_memory_sample(500.0 * MIB, at_min(0)).unwrap();
    let r = &recommend_pod(&[("a", &h)], &cfg).unwrap()[0];
    assert_eq!(h.confidence(), 0.0);
    assert_eq!(r.upper_bound.memory_bytes, MAX_RESOURCE_AMOUNT);
    assert_eq!(r.lower_bound.memory_bytes, (250.0 * MIB) as i64);
}

#[test]
fn pod_minimums_are_split_across_containers() {
    // GetRecommendedPodResources: fraction = 1 / containers per pod.
    let cfg = RecommenderConfig::default();
    let tiny = steady(2, 0.001, 1.0 * MIB);
    let one = &recommend_pod(&[("a", &tiny)], &cfg).unwrap()[0];
    assert_eq!(
        (one.target.cpu_millicores, one.target.memory_bytes),
        (25, (250.0 * MIB) as i64)
    );
    let two = recommend_pod(&[("a", &tiny), ("b", &tiny)], &cfg).unwrap();
    for r in &two {
        assert_eq!(
            (r.target.cpu_millicores, r.target.memory_bytes),
            (12, (125.0 * MIB) as i64)
        );
    }
}

#[test]
fn memory_keeps_one_peak_per_interval() {
    // ContainerState.addMemorySample: within an interval only the highest sample counts.
    let cfg = RecommenderConfig::default();
    let mut h = ContainerHistory::new(&cfg).unwrap();
    // Day 0: many low samples and one high one; the peaks histogram holds exactly one sample.
    h.add_memory_sample(100.0 * MIB, at_min(0)).unwrap();
    let one_peak = h.memory_histogram().histogram().total_weight();
    for m in 1..600 {
        h.add_memory_sample(100.0 * MIB, at_min(m)).unwrap();
    }
    h.add_memory_sample(800.0 * MIB, at_min(700)).unwrap();
    assert!((h.memory_histogram().histogram().total_weight() - one_peak).abs() < 1e-9);
    assert_eq!(
        h.memory_histogram().percentile(0.0),
        bucket_end(&cfg.memory_histogram, 800.0 * MIB)
    );
    // Older samples are ignored.
    assert!(!h.add_memory_sample(900.0 * MIB, at_min(10)).unwrap());
}

#[test]
fn oom_bumps_memory() {
    // RecordOOM: max(used + 100 MiB, 1.2 × used) with used = max(request, peak).
    let cfg = RecommenderConfig::default();
    let mut h = ContainerHistory::new(&cfg).unwrap();
    h.add_cpu_sample(0.1, 0.1, at_min(0)).unwrap();
    h.add_memory_sample(200.0 * MIB, at_min(0)).unwrap();
    h.record_oom(1000.0 * MIB, at_min(1)).unwrap();
    assert_eq!(
        h.memory_histogram().percentile(0.0),
        bucket_end(&cfg.memory_histogram, 1200.0 * MIB)
    );
    // A later, lower sample in the same interval does not displace the OOM peak.
    h.add_memory_sample(500.0 * MIB, at_min(2)).unwrap();
    assert_eq!(
        h.memory_histogram().percentile(0.0),
        bucket_end(&cfg.memory_histogram, 1200.0 * MIB)
    );
    // Small requests get the 100 MiB minimum bump instead of 20 %.
    let mut s = ContainerHistory::new(&cfg).unwrap();
    s.record_oom(100.0 * MIB, at_min(0)).unwrap();
    assert_eq!(
        s.memory_histogram().percentile(1.0),
        bucket_end(&cfg.memory_histogram, 200.0 * MIB)
    );
    // An OOM from before the previous interval is discarded with an error.
    let mut old = ContainerHistory::new(&cfg).unwrap();
    old.add_memory_sample(1.0 * MIB, at_min(3 * 24 * 60))
        .unwrap();
    assert_eq!(
        old.record_oom(1.0 * MIB, at_min(0)).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let cfg = RecommenderConfig::default();
    let mut h = ContainerHistory::new(&cfg).unwrap();
    h.add_cpu_sample(0.5, 1.0, at_min(0)).unwrap();
    let before = h.clone();
    for v in [f64::NAN, -0.1, f64::INFINITY] {
        assert_eq!(
            h.add_cpu_sample(v, 1.0, at_min(1)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            h.add_cpu_sample(0.1, v, at_min(1)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            h.add_memory_sample(v, at_min(1)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            h.record_oom(v, at_min(1)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    assert_eq!(h, before);
    let empty = ContainerHistory::new(&cfg).unwrap();
    assert_eq!(
        recommend_pod(&[("a", &empty)], &cfg).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        recommend_pod(&[], &cfg).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(recommend_pod(&[("a", &h), ("a", &h)], &cfg).is_err());
    let bad = RecommenderConfig {
        target_percentile: 1.5,
        ..cfg
    };
    assert!(ContainerHistory::new(&bad).is_err());
    assert!(recommend_pod(&[("a", &h)], &bad).is_err());
}

#[test]
fn recommendation_converts_to_resource_list() {
    let a = Amounts {
        cpu_millicores: 250,
        memory_bytes: 256 * 1024 * 1024,
    };
    assert_eq!(
        a.to_resource_list().to_string(),
        ResourceList::parse([("cpu", "250m"), ("memory", "256Mi")])
            .unwrap()
            .to_string()
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Bounds are ordered and every value meets the pod minimum, for arbitrary finite
        /// non-negative usage.
        #[test]
        fn bounds_are_ordered(samples in proptest::collection::vec((0.0f64..64.0, 0.0f64..1e11), 1..200)) {
            let cfg = RecommenderConfig::default();
            let mut h = ContainerHistory::new(&cfg).unwrap();
            for (i, (cpu, mem)) in samples.iter().enumerate() {
                h.add_cpu_sample(*cpu, 1.0, at_min(i as i64 * 7)).unwrap();
                h.add_memory_sample(*mem, at_min(i as i64 * 7)).unwrap();
            }
            let r = &recommend_pod(&[("a", &h)], &cfg).unwrap()[0];
            prop_assert!(r.lower_bound.cpu_millicores <= r.target.cpu_millicores);
            prop_assert!(r.target.cpu_millicores <= r.upper_bound.cpu_millicores);
            prop_assert!(r.lower_bound.memory_bytes <= r.target.memory_bytes);
            prop_assert!(r.target.memory_bytes <= r.upper_bound.memory_bytes);
            prop_assert!(r.lower_bound.cpu_millicores >= 25);
        }

        /// More usage never lowers the target (monotone in a uniform shift of the samples).
        #[test]
        fn target_is_monotone(base in 0.0f64..10.0, extra in 0.0f64..10.0) {
            let cfg = RecommenderConfig::default();
            let lo = steady_short(base);
            let hi = steady_short(base + extra);
            let a = recommend_pod(&[("a", &lo)], &cfg).unwrap()[0].target.cpu_millicores;
            let b = recommend_pod(&[("a", &hi)], &cfg).unwrap()[0].target.cpu_millicores;
            prop_assert!(a <= b);
        }
    }

    fn steady_short(cpu: f64) -> ContainerHistory {
        let mut h = ContainerHistory::new(&RecommenderConfig::default()).unwrap();
        for m in 0..30 {
            h.add_cpu_sample(cpu, 1.0, at_min(m)).unwrap();
        }
        h
    }
}
