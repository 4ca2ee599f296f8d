//! Table tests: one row per field that matters, checked at baseline and restricted.

use serde_json::{Value, json};

use super::*;
use crate::cluster::DynamicObject;

/// A pod that passes restricted.
fn compliant() -> Value {
    json!({
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "nginx", "securityContext": {
            "allowPrivilegeEscalation": false, "runAsNonRoot": true,
            "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}}]}
    })
}

fn paths(pod: &Value, level: PodSecurityLevel, version: PolicyVersion) -> Vec<String> {
    let meta = serde_json::from_value(pod["metadata"].clone()).unwrap();
    let spec = serde_json::from_value(pod["spec"].clone()).unwrap();
    check_pod(Some(&meta), &spec, level, version, "metadata.", "spec.")
        .into_iter()
        .map(|v| v.path)
        .collect()
}

fn c0(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["containers"][0]["securityContext"]
}

type Edit = fn(&mut Value);

const C0: &str = "spec.containers[0].securityContext";

#[test]
fn each_check_at_both_levels() {
    use PodSecurityLevel::{Baseline, Restricted};
    let rows: Vec<(&str, Edit, Vec<String>, Vec<String>)> = vec![
        ("compliant", |_| {}, vec![], vec![]),
        (
            "hostNetwork",
            |p| p["spec"]["hostNetwork"] = json!(true),
            vec!["spec.hostNetwork".into()],
            vec!["spec.hostNetwork".into()],
        ),
        (
            "hostPID",
            |p| p["spec"]["hostPID"] = json!(true),
            vec!["spec.hostPID".into()],
            vec!["spec.hostPID".into()],
        ),
        (
            "hostIPC",
            |p| p["spec"]["hostIPC"] = json!(true),
            vec!["spec.hostIPC".into()],
            vec!["spec.hostIPC".into()],
        ),
        (
            "hostNetwork false",
            |p| p["spec"]["hostNetwork"] = json!(false),
            vec![],
            vec![],
        ),
        (
            "privileged",
            |p| c0(p)["privileged"] = json!(true),
            vec![format!("{C0}.privileged")],
            vec![format!("{C0}.privileged")],
        ),
        (
            "privileged false",
            |p| c0(p)["privileged"] = json!(false),
            vec![],
            vec![],
        ),
        (
            "add SYS_ADMIN",
            |p| c0(p)["capabilities"]["add"] = json!(["SYS_ADMIN"]),
            vec![format!("{C0}.capabilities.add[0]")],
            vec![format!("{C0}.capabilities.add[0]")],
        ),
        (
            "add CHOWN",
            |p| c0(p)["capabilities"]["add"] = json!(["CHOWN"]),
            vec![],
            vec![format!("{C0}.capabilities.add[0]")],
        ),
        (
            "add NET_BIND_SERVICE",
            |p| c0(p)["capabilities"]["add"] = json!(["NET_BIND_SERVICE"]),
            vec![],
            vec![],
        ),
        (
            "hostPath",
            |p| p["spec"]["volumes"] = json!([{"name": "h", "hostPath": {"path": "/"}}]),
            vec!["spec.volumes[0].hostPath".into()],
            vec!["spec.volumes[0]".into()],
        ),
        (
            "nfs volume",
            |p| p["spec"]["volumes"] = json!([{"name": "n", "nfs": {"server": "s", "path": "/"}}]),
            vec![],
            vec!["spec.volumes[0]".into()],
        ),
        (
            "allowed volumes",
            |p| {
                p["spec"]["volumes"] = json!([
                {"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {"name": "c"}},
                {"name": "c", "secret": {"secretName": "s"}}, {"name": "d", "persistentVolumeClaim": {"claimName": "x"}},
                {"name": "e", "projected": {"sources": []}}, {"name": "f", "downwardAPI": {}}])
            },
            vec![],
            vec![],
        ),
        (
            "hostPort",
            |p| {
                p["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80, "hostPort": 80}])
            },
            vec!["spec.containers[0].ports[0].hostPort".into()],
            vec!["spec.containers[0].ports[0].hostPort".into()],
        ),
        (
            "hostPort 0",
            |p| p["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80, "hostPort": 0}]),
            vec![],
            vec![],
        ),
        (
            "apparmor annotation",
            |p| {
                p["metadata"]["annotations"] = json!({
                "container.apparmor.security.beta.kubernetes.io/app": "unconfined"})
            },
            vec!["metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]".into()],
            vec!["metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]".into()],
        ),
        (
            "apparmor localhost",
            |p| {
                p["metadata"]["annotations"] = json!({
                "container.apparmor.security.beta.kubernetes.io/app": "localhost/mine"})
            },
            vec![],
            vec![],
        ),
        (
            "apparmor empty",
            |p| {
                p["metadata"]["annotations"] =
                    json!({"container.apparmor.security.beta.kubernetes.io/app": ""})
            },
            vec![],
            vec![],
        ),
        (
            "appArmorProfile",
            |p| c0(p)["appArmorProfile"] = json!({"type": "Unconfined"}),
            vec![format!("{C0}.appArmorProfile.type")],
            vec![format!("{C0}.appArmorProfile.type")],
        ),
        (
            "pod appArmorProfile",
            |p| p["spec"]["securityContext"] = json!({"appArmorProfile": {"type": "Unconfined"}}),
            vec!["spec.securityContext.appArmorProfile.type".into()],
            vec!["spec.securityContext.appArmorProfile.type".into()],
        ),
        (
            "selinux type",
            |p| c0(p)["seLinuxOptions"] = json!({"type": "spc_t"}),
            vec![format!("{C0}.seLinuxOptions.type")],
            vec![format!("{C0}.seLinuxOptions.type")],
        ),
        (
            "selinux user+role",
            |p| {
                p["spec"]["securityContext"] =
                    json!({"seLinuxOptions": {"user": "u", "role": "r", "type": "container_t"}})
            },
            vec![
                "spec.securityContext.seLinuxOptions.user".into(),
                "spec.securityContext.seLinuxOptions.role".into(),
            ],
            vec![
                "spec.securityContext.seLinuxOptions.user".into(),
                "spec.securityContext.seLinuxOptions.role".into(),
            ],
        ),
        (
            "procMount",
            |p| c0(p)["procMount"] = json!("Unmasked"),
            vec![format!("{C0}.procMount")],
            vec![format!("{C0}.procMount")],
        ),
        (
            "seccomp Unconfined",
            |p| c0(p)["seccompProfile"] = json!({"type": "Unconfined"}),
            vec![format!("{C0}.seccompProfile.type")],
            vec![format!("{C0}.seccompProfile.type")],
        ),
        (
            "seccomp at pod level",
            |p| {
                c0(p).as_object_mut().unwrap().remove("seccompProfile");
                p["spec"]["securityContext"] =
                    json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "x"}});
            },
            vec![],
            vec![],
        ),
        (
            "seccomp unset",
            |p| {
                c0(p).as_object_mut().unwrap().remove("seccompProfile");
            },
            vec![],
            vec![format!("{C0}.seccompProfile.type")],
        ),
        (
            "unsafe sysctl",
            |p| {
                p["spec"]["securityContext"] = json!({"sysctls": [
                {"name": "kernel.shm_rmid_forced", "value": "1"}, {"name": "kernel.msgmax", "value": "1"}]})
            },
            vec!["spec.securityContext.sysctls[1].name".into()],
            vec!["spec.securityContext.sysctls[1].name".into()],
        ),
        (
            "hostProcess",
            |p| c0(p)["windowsOptions"] = json!({"hostProcess": true}),
            vec![format!("{C0}.windowsOptions.hostProcess")],
            vec![format!("{C0}.windowsOptions.hostProcess")],
        ),
        (
            "probe host",
            |p| {
                p["spec"]["containers"][0]["livenessProbe"] =
                    json!({"httpGet": {"port": 80, "host": "10.0.0.1"}})
            },
            vec!["spec.containers[0].livenessProbe.httpGet.host".into()],
            vec!["spec.containers[0].livenessProbe.httpGet.host".into()],
        ),
        (
            "lifecycle host",
            |p| {
                p["spec"]["containers"][0]["lifecycle"] =
                    json!({"preStop": {"tcpSocket": {"port": 80, "host": "h"}}})
            },
            vec!["spec.containers[0].lifecycle.preStop.tcpSocket.host".into()],
            vec!["spec.containers[0].lifecycle.preStop.tcpSocket.host".into()],
        ),
        (
            "allowPrivilegeEscalation unset",
            |p| {
                c0(p)
                    .as_object_mut()
                    .unwrap()
                    .remove("allowPrivilegeEscalation");
            },
            vec![],
            vec![format!("{C0}.allowPrivilegeEscalation")],
        ),
        (
            "allowPrivilegeEscalation true",
            |p| c0(p)["allowPrivilegeEscalation"] = json!(true),
            vec![],
            vec![format!("{C0}.allowPrivilegeEscalation")],
        ),
        (
            "runAsNonRoot unset",
            |p| {
                c0(p).as_object_mut().unwrap().remove("runAsNonRoot");
            },
            vec![],
            vec![format!("{C0}.runAsNonRoot")],
        ),
        (
            "runAsNonRoot at pod level",
            |p| {
                c0(p).as_object_mut().unwrap().remove("runAsNonRoot");
                p["spec"]["securityContext"] = json!({"runAsNonRoot": true});
            },
            vec![],
            vec![],
        ),
        (
            "runAsNonRoot false overrides pod",
            |p| {
                c0(p)["runAsNonRoot"] = json!(false);
                p["spec"]["securityContext"] = json!({"runAsNonRoot": true});
            },
            vec![],
            vec![format!("{C0}.runAsNonRoot")],
        ),
        (
            "runAsUser 0",
            |p| c0(p)["runAsUser"] = json!(0),
            vec![],
            vec![format!("{C0}.runAsUser")],
        ),
        (
            "pod runAsUser 0",
            |p| p["spec"]["securityContext"] = json!({"runAsUser": 0}),
            vec![],
            vec!["spec.securityContext.runAsUser".into()],
        ),
        (
            "runAsUser 1000",
            |p| c0(p)["runAsUser"] = json!(1000),
            vec![],
            vec![],
        ),
        (
            "drop missing",
            |p| {
                c0(p).as_object_mut().unwrap().remove("capabilities");
            },
            vec![],
            vec![format!("{C0}.capabilities.drop")],
        ),
        (
            "windows exemptions",
            |p| {
                *c0(p) = json!({"runAsNonRoot": true});
                p["spec"]["os"] = json!({"name": "windows"});
            },
            vec![],
            vec![],
        ),
        (
            // restricted's seccomp check replaces baseline's and exempts Windows pods
            "windows unconfined seccomp",
            |p| {
                *c0(p) = json!({"runAsNonRoot": true, "seccompProfile": {"type": "Unconfined"}});
                p["spec"]["os"] = json!({"name": "windows"});
            },
            vec![format!("{C0}.seccompProfile.type")],
            vec![],
        ),
        (
            "init container",
            |p| {
                p["spec"]["initContainers"] = json!([{"name": "i", "image": "x",
                "securityContext": {"privileged": true}}])
            },
            vec!["spec.initContainers[0].securityContext.privileged".into()],
            vec![
                "spec.initContainers[0].securityContext.privileged".into(),
                "spec.initContainers[0].securityContext.allowPrivilegeEscalation".into(),
                "spec.initContainers[0].securityContext.runAsNonRoot".into(),
                "spec.initContainers[0].securityContext.seccompProfile.type".into(),
                "spec.initContainers[0].securityContext.capabilities.drop".into(),
            ],
        ),
        (
            "ephemeral container",
            |p| {
                p["spec"]["ephemeralContainers"] = json!([{"name": "e", "image": "x",
                "securityContext": {"capabilities": {"add": ["NET_RAW"], "drop": ["ALL"]},
                "allowPrivilegeEscalation": false, "runAsNonRoot": true}}])
            },
            vec!["spec.ephemeralContainers[0].securityContext.capabilities.add[0]".into()],
            vec![
                "spec.ephemeralContainers[0].securityContext.seccompProfile.type".into(),
                "spec.ephemeralContainers[0].securityContext.capabilities.add[0]".into(),
            ],
        ),
    ];
    for (name, edit, base, restr) in rows {
        let mut pod = compliant();
        edit(&mut pod);
        assert_eq!(
            paths(&pod, Baseline, PolicyVersion::Latest),
            base,
            "{name} at baseline"
        );
        assert_eq!(
            paths(&pod, Restricted, PolicyVersion::Latest),
            restr,
            "{name} at restricted"
        );
        assert!(
            paths(&pod, PodSecurityLevel::Privileged, PolicyVersion::Latest).is_empty(),
            "{name} at privileged"
        );
    }
}

#[test]
fn versions_gate_the_newer_checks() {
    let mut pod = compliant();
    pod["spec"]["securityContext"] =
        json!({"sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}]});
    pod["spec"]["containers"][0]["readinessProbe"] =
        json!({"tcpSocket": {"port": 80, "host": "h"}});
    let b = PodSecurityLevel::Baseline;
    assert!(paths(&pod, b, PolicyVersion::Latest).len() == 1); // the probe host only
    assert_eq!(
        paths(&pod, b, PolicyVersion::Minor(28)),
        ["spec.securityContext.sysctls[0].name"]
    );
    assert!(paths(&pod, b, PolicyVersion::Minor(33)).is_empty());
    // runAsUser=0 is restricted from 1.23 only
    let mut pod = compliant();
    c0(&mut pod)["runAsUser"] = json!(0);
    assert!(paths(&pod, PodSecurityLevel::Restricted, PolicyVersion::Minor(22)).is_empty());
}

#[test]
fn violations_read_with_path_and_level() {
    let mut pod = compliant();
    c0(&mut pod)["privileged"] = json!(true);
    let spec = serde_json::from_value(pod["spec"].clone()).unwrap();
    let v = check_pod(
        None,
        &spec,
        PodSecurityLevel::Restricted,
        PolicyVersion::Latest,
        "metadata.",
        "spec.",
    );
    assert_eq!(
        v[0].to_string(),
        "spec.containers[0].securityContext.privileged: true (privileged container), forbidden by restricted"
    );
    assert_eq!(v[0].check, "privileged");
}

#[test]
fn templates_are_found_in_every_workload_kind() {
    let spec = json!({"containers": [{"name": "app", "image": "x", "securityContext": {"privileged": true}}]});
    let tpl = json!({"metadata": {"labels": {"a": "b"}}, "spec": spec});
    let cases = [
        ("v1", "Pod", json!({"spec": spec}), "spec."),
        (
            "v1",
            "PodTemplate",
            json!({"template": tpl}),
            "template.spec.",
        ),
        (
            "v1",
            "ReplicationController",
            json!({"spec": {"template": tpl}}),
            "spec.template.spec.",
        ),
        (
            "apps/v1",
            "Deployment",
            json!({"spec": {"template": tpl}}),
            "spec.template.spec.",
        ),
        (
            "apps/v1",
            "StatefulSet",
            json!({"spec": {"template": tpl}}),
            "spec.template.spec.",
        ),
        (
            "apps/v1",
            "DaemonSet",
            json!({"spec": {"template": tpl}}),
            "spec.template.spec.",
        ),
        (
            "apps/v1",
            "ReplicaSet",
            json!({"spec": {"template": tpl}}),
            "spec.template.spec.",
        ),
        (
            "batch/v1",
            "Job",
            json!({"spec": {"template": tpl}}),
            "spec.template.spec.",
        ),
        (
            "batch/v1",
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": tpl}}}}),
            "spec.jobTemplate.spec.template.spec.",
        ),
    ];
    for (api, kind, body, prefix) in cases {
        let mut v = body;
        v["apiVersion"] = json!(api);
        v["kind"] = json!(kind);
        v["metadata"] = json!({"name": "x", "namespace": "n"});
        let obj: DynamicObject = serde_json::from_value(v).unwrap();
        let found = check_object(&obj, PodSecurityLevel::Baseline, PolicyVersion::Latest).unwrap();
        assert_eq!(found.len(), 1, "{kind}");
        assert_eq!(
            found[0].path,
            format!("{prefix}containers[0].securityContext.privileged")
        );
    }
    let cm: DynamicObject = serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c"}, "data": {"spec": "x"}}))
    .unwrap();
    assert!(pod_templates(&cm).unwrap().is_empty());
    let broken: DynamicObject = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "c"}, "spec": {"containers": "no"}}))
    .unwrap();
    assert_eq!(
        pod_templates(&broken).unwrap_err().kind(),
        crate::ErrorKind::InvalidInput
    );
}
