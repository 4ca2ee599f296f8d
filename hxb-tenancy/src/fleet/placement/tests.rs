use super::*;
use hxb_core::ErrorKind;
use proptest::prelude::*;

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn rl(cpu: &str, mem: &str, pods: &str) -> ResourceList {
    ResourceList::parse([("cpu", cpu), ("memory", mem), ("pods", pods)]).unwrap()
}

fn cluster(name: &str, region: &str, alloc: ResourceList, used: ResourceList) -> ClusterInfo {
    ClusterInfo {
        name: name.into(),
        labels: [(LABEL_REGION.to_owned(), region.to_owned())].into(),
        allocatable: alloc,
        used,
        dedicated_to: None,
        workspaces: vec![],
    }
}

fn fleet() -> Vec<ClusterInfo> {
    let mut ded = cluster("ded", "eu", rl("16", "64Gi", "330"), rl("0", "0", "0"));
    ded.dedicated_to = Some(n("acme"));
    vec![
        cluster("eu-1", "eu", rl("12", "48Gi", "330"), rl("8", "8Gi", "100")),
        cluster("eu-2", "eu", rl("12", "48Gi", "330"), rl("2", "8Gi", "100")),
        cluster("us-1", "us", rl("24", "96Gi", "330"), rl("0", "0", "0")),
        ded,
    ]
}

#[test]
fn demand_maps_quota_names_to_node_names() {
    let q = ResourceList::parse([
        ("requests.cpu", "4"),
        ("requests.memory", "8Gi"),
        ("requests.storage", "50Gi"),
        ("pods", "40"),
    ])
    .unwrap();
    assert_eq!(demand_of(&q), rl("4", "8Gi", "40"));
}

#[test]
fn table() {
    let f = fleet();
    let d = rl("4", "8Gi", "20");
    // (request, expected cluster or error kind)
    let cases: Vec<(PlacementRequest, std::result::Result<&str, ErrorKind>)> = vec![
        // least allocated wins: us-1 is empty
        (PlacementRequest::new(n("beta"), d.clone()), Ok("us-1")),
        // region eu: eu-2 has more room than eu-1 (8 of 12 cpu used there); ded is not beta's
        (
            PlacementRequest::new(n("beta"), d.clone()).region("eu"),
            Ok("eu-2"),
        ),
        // acme prefers its own dedicated cluster
        (
            PlacementRequest::new(n("acme"), d.clone()).region("eu"),
            Ok("ded"),
        ),
        // hard isolation: only the dedicated cluster
        (
            PlacementRequest::new(n("acme"), d.clone()).hard_isolation(true),
            Ok("ded"),
        ),
        // hard isolation for an organization without a dedicated cluster
        (
            PlacementRequest::new(n("beta"), d.clone()).hard_isolation(true),
            Err(ErrorKind::Unschedulable),
        ),
        // too big for every eu cluster beta may use (eu-2 has 10 cpu free)
        (
            PlacementRequest::new(n("beta"), rl("11", "8Gi", "1")).region("eu"),
            Err(ErrorKind::Unschedulable),
        ),
        // exactly the free capacity of eu-2 fits
        (
            PlacementRequest::new(n("beta"), rl("10", "40Gi", "230")).region("eu"),
            Ok("eu-2"),
        ),
        // preferred label beats capacity
        (
            PlacementRequest::new(n("beta"), d.clone())
                .prefer(Selector::parse(&format!("{LABEL_REGION}=eu")).unwrap()),
            Ok("eu-2"),
        ),
        // unknown region
        (
            PlacementRequest::new(n("beta"), d.clone()).region("ap"),
            Err(ErrorKind::Unschedulable),
        ),
    ];
    for (i, (req, want)) in cases.into_iter().enumerate() {
        let got = choose(&f, &req)
            .map(|c| c.name.as_str())
            .map_err(|e| e.kind());
        assert_eq!(got, want, "case {i}: {req:?}");
    }
}

#[test]
fn refusal_counts_reasons_per_cluster() {
    let f = fleet();
    let e = choose(&f, &PlacementRequest::new(n("beta"), rl("30", "1Gi", "1"))).unwrap_err();
    let Error::Unschedulable(u) = e else {
        panic!("{e:?}")
    };
    assert_eq!(u.nodes, 4);
    assert_eq!(
        u.reasons,
        vec![
            ("cluster(s) had insufficient cpu".to_owned(), 3),
            ("cluster(s) dedicated to another organization".to_owned(), 1),
        ]
    );
}

#[test]
fn check_names_the_exceeded_resources() {
    let f = fleet();
    let e = check(
        &f[0],
        &PlacementRequest::new(n("beta"), rl("5", "48Gi", "1")),
    )
    .unwrap_err();
    let Error::QuotaExceeded(q) = e else {
        panic!("{e:?}")
    };
    assert_eq!(q.quota, "cluster eu-1");
    let names: Vec<&str> = q.exceeded.iter().map(|x| x.resource.as_str()).collect();
    assert_eq!(names, vec!["cpu", "memory"]);
    assert_eq!(
        check(
            &f[3],
            &PlacementRequest::new(n("beta"), rl("1", "1Gi", "1"))
        )
        .unwrap_err()
        .kind(),
        ErrorKind::FailedPrecondition
    );
}

fn arb_cluster(i: usize) -> impl Strategy<Value = ClusterInfo> {
    (
        0u32..64,
        0u32..64,
        0u32..3,
        prop::option::of(prop::sample::select(vec!["acme", "beta"])),
    )
        .prop_map(move |(alloc, used, region, ded)| ClusterInfo {
            name: format!("c{i}"),
            labels: [(LABEL_REGION.to_owned(), format!("r{region}"))].into(),
            allocatable: rl(&alloc.to_string(), &format!("{alloc}Gi"), "110"),
            used: rl(&used.to_string(), &format!("{used}Gi"), "10"),
            dedicated_to: ded.map(n),
            workspaces: vec![],
        })
}

fn arb_fleet() -> impl Strategy<Value = Vec<ClusterInfo>> {
    (0usize..6).prop_flat_map(|k| (0..k).map(arb_cluster).collect::<Vec<_>>())
}

proptest! {
    /// The chosen cluster always has room and is allowed; a refusal means no cluster was.
    #[test]
    fn never_over_capacity(f in arb_fleet(), cpu in 0u32..40, hard in any::<bool>(),
                           org in prop::sample::select(vec!["acme", "beta", "gamma"])) {
        let req = PlacementRequest::new(n(org), rl(&cpu.to_string(), &format!("{cpu}Gi"), "5"))
            .hard_isolation(hard);
        match choose(&f, &req) {
            Ok(c) => {
                let after = c.used.checked_add(&req.demand).unwrap();
                prop_assert!(after.fits_within(&c.allocatable));
                prop_assert!(check(c, &req).is_ok());
                prop_assert!(c.dedicated_to.as_ref().is_none_or(|o| o.as_str() == org));
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::Unschedulable);
                prop_assert!(f.iter().all(|c| check(c, &req).is_err()));
            }
        }
    }

    /// The choice does not depend on the order clusters are listed in.
    #[test]
    fn deterministic_under_reordering(f in arb_fleet(), cpu in 0u32..20, seed in any::<u64>()) {
        let req = PlacementRequest::new(n("beta"), rl(&cpu.to_string(), "1Gi", "1"));
        let a = choose(&f, &req).map(|c| c.name.clone()).ok();
        let mut g = f.clone();
        let len = g.len().max(1);
        g.rotate_left((seed as usize) % len);
        g.reverse();
        let b = choose(&g, &req).map(|c| c.name.clone()).ok();
        prop_assert_eq!(a, b);
    }
}
