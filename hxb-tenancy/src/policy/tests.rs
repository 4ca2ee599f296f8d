use hxb_core::ErrorKind;
use serde_json::json;

use super::*;
use crate::plans::PlanCatalog;

fn deployment(containers: serde_json::Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "acme-dev-web"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
            "metadata": {"labels": {"a": "b"}}, "spec": {"containers": containers}}}
    }))
    .unwrap()
}

#[test]
fn defaults_follow_the_plan() {
    let c = PlanCatalog::defaults();
    for id in [
        "starter",
        "professional",
        "enterprise",
        "professional-dedicated",
    ] {
        assert_eq!(
            c.policy(id).unwrap().level,
            PodSecurityLevel::Baseline,
            "{id}"
        );
    }
    let ent = c.policy("enterprise-dedicated").unwrap();
    assert_eq!(ent.level, PodSecurityLevel::Privileged);
    assert!(ent.allow_privileged);
    assert_eq!(c.policy("nope").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn catalogue_policies_are_validated_and_serde() {
    let mut c = PlanCatalog::defaults();
    let mut p = PlanPolicy::new(PodSecurityLevel::Restricted);
    p.allowed_registries = vec!["ghcr.io/acme".into(), "registry.local:5000".into()];
    p.require_requests = true;
    c.set_policy("starter", p.clone()).unwrap();
    assert_eq!(c.policy("starter").unwrap(), p);
    let before = c.clone();
    let mut bad = p.clone();
    bad.allow_privileged = true; // needs level privileged
    assert_eq!(
        c.set_policy("starter", bad).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let mut bad = p.clone();
    bad.allowed_registries.push("not a registry".into());
    assert_eq!(
        c.set_policy("starter", bad).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        c.set_policy("nope", p.clone()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(c, before, "refusals change nothing");
    let back: PlanCatalog = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    // a catalogue without policies serialises as before
    let plain = serde_json::to_value(PlanCatalog::defaults()).unwrap();
    assert!(plain.get("policies").is_none());
    let yaml = "level: restricted\nallowed_registries: [ghcr.io]\n";
    let p: PlanPolicy = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(p.version.to_string(), "v1.34");
}

#[test]
fn labels_cover_enforce_warn_and_audit() {
    let l = PlanPolicy::new(PodSecurityLevel::Restricted).namespace_labels();
    assert_eq!(l["pod-security.kubernetes.io/enforce"], "restricted");
    assert_eq!(l["pod-security.kubernetes.io/enforce-version"], "v1.34");
    assert_eq!(l["pod-security.kubernetes.io/warn"], "restricted");
    assert_eq!(l["pod-security.kubernetes.io/audit"], "restricted");
    assert_eq!(l.len(), 6);
}

#[test]
fn admit_lists_every_violation() {
    let mut p = PlanPolicy::new(PodSecurityLevel::Baseline);
    p.allowed_registries = vec!["ghcr.io/acme".into()];
    p.require_requests = true;
    let d = deployment(json!([
        {"name": "a", "image": "ghcr.io/acme/web:1", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
        {"name": "b", "image": "nginx", "securityContext": {"privileged": true},
         "resources": {"requests": {"cpu": "1"}}}
    ]));
    let e = admit([&d], &p, "starter").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    let msg = e.to_string();
    for part in [
        "Deployment acme-dev-web/web: ",
        "spec.template.spec.containers[1].securityContext.privileged: true (privileged container), forbidden by baseline",
        "spec.template.spec.containers[1].image: docker.io/library/nginx is not from an allowed registry (ghcr.io/acme), forbidden by plan starter",
        "spec.template.spec.containers[1].resources.requests.memory: unset (a request is required), forbidden by plan starter",
    ] {
        assert!(msg.contains(part), "{part} not in {msg}");
    }
    assert!(!msg.contains("containers[0]"), "{msg}");
    assert!(!msg.contains("requests.cpu"), "{msg}");
}

#[test]
fn malformed_images_are_invalid_input() {
    let p = PlanPolicy::new(PodSecurityLevel::Baseline);
    let d = deployment(json!([{"name": "a", "image": "Bad Image"}, {"name": "b"}]));
    let e = admit([&d], &p, "starter").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let msg = e.to_string();
    assert!(msg.contains("containers[0].image"), "{msg}");
    assert!(msg.contains("containers[1].image: unset"), "{msg}");
}

#[test]
fn privileged_needs_the_plan_to_allow_it() {
    let d =
        deployment(json!([{"name": "a", "image": "x", "securityContext": {"privileged": true}}]));
    let mut p = PlanPolicy::new(PodSecurityLevel::Privileged);
    let e = admit([&d], &p, "custom").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    assert!(e.to_string().contains("forbidden by plan custom"), "{e}");
    p.allow_privileged = true;
    admit([&d], &p, "custom").unwrap();
    // objects without pods always pass
    let cm: DynamicObject = serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "n"}}))
    .unwrap();
    admit([&cm], &PlanPolicy::new(PodSecurityLevel::Restricted), "x").unwrap();
}

#[test]
fn review_gives_the_violations_admit_lists_as_data() {
    let mut p = PlanPolicy::new(PodSecurityLevel::Baseline);
    p.require_requests = true;
    let d = deployment(json!([
        {"name": "a", "image": "nginx", "securityContext": {"privileged": true},
         "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
        {"name": "b", "image": "nginx", "resources": {"requests": {"cpu": "1"}}}
    ]));
    let found = review([&d], &p, "starter").unwrap();
    let paths: Vec<&str> = found.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.template.spec.containers[0].securityContext.privileged",
            "spec.template.spec.containers[1].resources.requests.memory",
        ]
    );
    assert!(
        found
            .iter()
            .all(|v| v.object == "Deployment acme-dev-web/web")
    );
    assert_eq!(
        found[0].message,
        "true (privileged container), forbidden by baseline"
    );
    // admit's message is exactly these violations, object by object
    let msg = admit([&d], &p, "starter").unwrap_err().to_string();
    let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        msg.ends_with(&format!(
            "refuses Deployment acme-dev-web/web: {}",
            listed.join("; ")
        )),
        "{msg}"
    );
    // nothing to say: empty; malformed: InvalidInput, as admit
    let ok = deployment(json!([{"name": "a", "image": "nginx",
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]));
    assert!(review([&ok], &p, "starter").unwrap().is_empty());
    let bad = deployment(json!([{"name": "a", "image": "Bad Image"}]));
    assert_eq!(
        review([&bad], &p, "starter").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn a_review_carries_admits_refusal() {
    let p = PlanPolicy::new(PodSecurityLevel::Baseline);
    let review_of = |d: &DynamicObject| ManifestReview {
        organization: hxb_core::Name::new("acme").unwrap(),
        workspace: hxb_core::Name::new("dev").unwrap(),
        plan: "starter".into(),
        policy: p.clone(),
        violations: review([d], &p, "starter").unwrap(),
    };
    let refused = deployment(json!([
        {"name": "a", "image": "nginx", "securityContext": {"privileged": true}},
        {"name": "b", "image": "nginx", "securityContext": {"privileged": true}}
    ]));
    let r = review_of(&refused);
    assert!(!r.admitted());
    let (from_review, from_admit) = (
        r.refusal().unwrap(),
        admit([&refused], &p, "starter").unwrap_err(),
    );
    assert_eq!(from_review.kind(), ErrorKind::Forbidden);
    assert_eq!(from_review.to_string(), from_admit.to_string());
    // admitted: no refusal, as admit lets it through
    let ok = deployment(json!([{"name": "a", "image": "nginx"}]));
    let r = review_of(&ok);
    assert!(r.admitted() && r.refusal().is_none());
    admit([&ok], &p, "starter").unwrap();
}

#[test]
fn plan_rules_cover_init_and_ephemeral_containers() {
    let pod: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"},
        "spec": {
            "containers": [{"name": "a", "image": "x",
                            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
            "initContainers": [{"name": "i", "image": "x", "securityContext": {"privileged": true},
                                "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
            "ephemeralContainers": [{"name": "e", "image": "x",
                                     "securityContext": {"privileged": true}}]
        }
    }))
    .unwrap();
    let mut p = PlanPolicy::new(PodSecurityLevel::Privileged);
    p.require_requests = true;
    let found = review([&pod], &p, "custom").unwrap();
    let paths: Vec<&str> = found.iter().map(|v| v.path.as_str()).collect();
    // ephemeral containers cannot request resources, so only privileged is held against them
    assert_eq!(
        paths,
        [
            "spec.initContainers[0].securityContext.privileged",
            "spec.ephemeralContainers[0].securityContext.privileged",
        ]
    );
    p.allow_privileged = true;
    assert!(review([&pod], &p, "custom").unwrap().is_empty());
}
