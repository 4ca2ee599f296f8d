//! The Pod Security Standards checks (baseline and restricted), as the Kubernetes
//! PodSecurity admission (`k8s.io/pod-security-admission/policy`) defines them, over typed
//! pod specs. Every violation names the exact field path.

use std::fmt;

use k8s_openapi::api::core::v1::{
    Capabilities, ContainerPort, Lifecycle, PodSpec, Probe, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::level::{PodSecurityLevel, PolicyVersion};

/// One field that breaks a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Field path, e.g. `spec.containers[0].securityContext.privileged`.
    pub path: String,
    /// What is wrong there, e.g. `true (privileged container)`.
    pub message: String,
    /// The upstream check id (`privileged`, `runAsNonRoot`, …).
    pub check: &'static str,
    /// The level in force that forbids it.
    pub level: PodSecurityLevel,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}, forbidden by {}",
            self.path, self.message, self.level
        )
    }
}

/// Capabilities baseline allows adding (Docker's default set).
pub const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls baseline allows, with the minor version that admitted each.
pub const SAFE_SYSCTLS: [(&str, u32); 10] = [
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
];

const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// A container of any of the three lists, seen through the fields the checks read.
struct C<'a> {
    path: String,
    sc: Option<&'a SecurityContext>,
    ports: &'a [ContainerPort],
    probes: [(&'static str, Option<&'a Probe>); 3],
    lifecycle: Option<&'a Lifecycle>,
}

fn containers<'a>(spec: &'a PodSpec, prefix: &str) -> Vec<C<'a>> {
    let mut out = Vec::new();
    for (list, items) in [
        ("containers", Some(&spec.containers)),
        ("initContainers", spec.init_containers.as_ref()),
    ] {
        for (i, c) in items.into_iter().flatten().enumerate() {
            out.push(C {
                path: format!("{prefix}{list}[{i}]"),
                sc: c.security_context.as_ref(),
                ports: c.ports.as_deref().unwrap_or_default(),
                probes: [
                    ("livenessProbe", c.liveness_probe.as_ref()),
                    ("readinessProbe", c.readiness_probe.as_ref()),
                    ("startupProbe", c.startup_probe.as_ref()),
                ],
                lifecycle: c.lifecycle.as_ref(),
            });
        }
    }
    for (i, c) in spec.ephemeral_containers.iter().flatten().enumerate() {
        out.push(C {
            path: format!("{prefix}ephemeralContainers[{i}]"),
            sc: c.security_context.as_ref(),
            ports: c.ports.as_deref().unwrap_or_default(),
            probes: [
                ("livenessProbe", c.liveness_probe.as_ref()),
                ("readinessProbe", c.readiness_probe.as_ref()),
                ("startupProbe", c.startup_probe.as_ref()),
            ],
            lifecycle: c.lifecycle.as_ref(),
        });
    }
    out
}

struct Out {
    level: PodSecurityLevel,
    v: Vec<Violation>,
}

impl Out {
    fn push(&mut self, check: &'static str, path: String, message: impl Into<String>) {
        self.v.push(Violation {
            path,
            message: message.into(),
            check,
            level: self.level,
        });
    }
}

/// Check one pod (its `metadata` and `spec`) against `level` at `version`.
///
/// `meta_prefix` and `spec_prefix` locate the pod's metadata and spec in the checked object
/// (`metadata.` / `spec.` for a Pod, `spec.template.metadata.` / `spec.template.spec.` for a
/// Deployment). Returns every violation, in a fixed order; empty means allowed.
pub fn check_pod(
    meta: Option<&ObjectMeta>,
    spec: &PodSpec,
    level: PodSecurityLevel,
    version: PolicyVersion,
    meta_prefix: &str,
    spec_prefix: &str,
) -> Vec<Violation> {
    let mut out = Out {
        level,
        v: Vec::new(),
    };
    if level == PodSecurityLevel::Privileged {
        return out.v;
    }
    let minor = version.minor();
    let cs = containers(spec, spec_prefix);
    let restricted_level = level == PodSecurityLevel::Restricted;
    baseline(
        &mut out,
        meta,
        spec,
        &cs,
        minor,
        meta_prefix,
        spec_prefix,
        restricted_level,
    );
    if restricted_level {
        restricted(&mut out, spec, &cs, minor, spec_prefix);
    }
    out.v
}

#[allow(clippy::too_many_arguments)]
fn baseline(
    out: &mut Out,
    meta: Option<&ObjectMeta>,
    spec: &PodSpec,
    cs: &[C<'_>],
    minor: u32,
    meta_prefix: &str,
    p: &str,
    restricted: bool,
) {
    // at restricted, restrictedVolumes, capabilities_restricted and seccompProfile_restricted
    // replace hostPathVolumes, capabilities_baseline and seccompProfile_baseline (upstream's
    // OverrideCheckIDs)
    let psc = spec.security_context.as_ref();
    // hostProcess
    if psc
        .and_then(|s| s.windows_options.as_ref())
        .and_then(|w| w.host_process)
        == Some(true)
    {
        out.push(
            "hostProcess",
            format!("{p}securityContext.windowsOptions.hostProcess"),
            "true (Windows host process)",
        );
    }
    for c in cs {
        if c.sc
            .and_then(|s| s.windows_options.as_ref())
            .and_then(|w| w.host_process)
            == Some(true)
        {
            out.push(
                "hostProcess",
                format!("{}.securityContext.windowsOptions.hostProcess", c.path),
                "true (Windows host process)",
            );
        }
    }
    // host namespaces
    for (field, on, what) in [
        ("hostNetwork", spec.host_network, "host network"),
        ("hostPID", spec.host_pid, "host PID namespace"),
        ("hostIPC", spec.host_ipc, "host IPC namespace"),
    ] {
        if on == Some(true) {
            out.push(
                "hostNamespaces",
                format!("{p}{field}"),
                format!("true ({what})"),
            );
        }
    }
    // privileged
    for c in cs {
        if c.sc.and_then(|s| s.privileged) == Some(true) {
            out.push(
                "privileged",
                format!("{}.securityContext.privileged", c.path),
                "true (privileged container)",
            );
        }
    }
    if !restricted {
        // capabilities (baseline)
        for c in cs {
            let add =
                c.sc.and_then(|s| s.capabilities.as_ref())
                    .and_then(|k| k.add.as_ref());
            for (j, cap) in add.into_iter().flatten().enumerate() {
                if !BASELINE_CAPABILITIES.contains(&cap.as_str()) {
                    out.push(
                        "capabilities_baseline",
                        format!("{}.securityContext.capabilities.add[{j}]", c.path),
                        format!("{cap} (capability outside the default set)"),
                    );
                }
            }
        }
        // hostPath volumes
        for (i, v) in spec.volumes.iter().flatten().enumerate() {
            if v.host_path.is_some() {
                out.push(
                    "hostPathVolumes",
                    format!("{p}volumes[{i}].hostPath"),
                    format!("set on volume {:?} (host path volume)", v.name),
                );
            }
        }
    }
    // host ports
    for c in cs {
        for (j, port) in c.ports.iter().enumerate() {
            if let Some(h) = port.host_port.filter(|h| *h != 0) {
                out.push(
                    "hostPorts",
                    format!("{}.ports[{j}].hostPort", c.path),
                    format!("{h} (host port)"),
                );
            }
        }
    }
    // AppArmor: annotations and (1.30+) fields
    if let Some(ann) = meta.and_then(|m| m.annotations.as_ref()) {
        for (k, v) in ann {
            if k.starts_with(APPARMOR_ANNOTATION)
                && !v.is_empty()
                && v != "runtime/default"
                && !v.starts_with("localhost/")
            {
                out.push(
                    "appArmorProfile",
                    format!("{meta_prefix}annotations[{k}]"),
                    format!("{v} (AppArmor profile other than runtime/default or localhost/*)"),
                );
            }
        }
    }
    let apparmor_ok = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    if let Some(t) = psc
        .and_then(|s| s.app_armor_profile.as_ref())
        .map(|a| &a.type_)
        && !apparmor_ok(t)
    {
        out.push(
            "appArmorProfile",
            format!("{p}securityContext.appArmorProfile.type"),
            format!("{t} (AppArmor profile other than RuntimeDefault or Localhost)"),
        );
    }
    for c in cs {
        if let Some(t) =
            c.sc.and_then(|s| s.app_armor_profile.as_ref())
                .map(|a| &a.type_)
            && !apparmor_ok(t)
        {
            out.push(
                "appArmorProfile",
                format!("{}.securityContext.appArmorProfile.type", c.path),
                format!("{t} (AppArmor profile other than RuntimeDefault or Localhost)"),
            );
        }
    }
    // SELinux
    let mut selinux = |base: String, o: &k8s_openapi::api::core::v1::SELinuxOptions| {
        let t = o.type_.as_deref().unwrap_or("");
        let allowed = matches!(
            t,
            "" | "container_t" | "container_init_t" | "container_kvm_t"
        ) || (t == "container_engine_t" && minor >= 31);
        if !allowed {
            out.push(
                "seLinuxOptions",
                format!("{base}.type"),
                format!("{t} (SELinux type outside container_t, container_init_t, container_kvm_t, container_engine_t)"),
            );
        }
        for (f, v) in [("user", &o.user), ("role", &o.role)] {
            if v.as_deref().is_some_and(|s| !s.is_empty()) {
                out.push(
                    "seLinuxOptions",
                    format!("{base}.{f}"),
                    format!("set (custom SELinux {f})"),
                );
            }
        }
    };
    if let Some(o) = psc.and_then(|s| s.se_linux_options.as_ref()) {
        selinux(format!("{p}securityContext.seLinuxOptions"), o);
    }
    for c in cs {
        if let Some(o) = c.sc.and_then(|s| s.se_linux_options.as_ref()) {
            selinux(format!("{}.securityContext.seLinuxOptions", c.path), o);
        }
    }
    // /proc mount
    for c in cs {
        if let Some(m) = c.sc.and_then(|s| s.proc_mount.as_deref())
            && m != "Default"
        {
            out.push(
                "procMount",
                format!("{}.securityContext.procMount", c.path),
                format!("{m} (non-default /proc mount)"),
            );
        }
    }
    if !restricted {
        // seccomp (baseline): no Unconfined
        if psc
            .and_then(|s| s.seccomp_profile.as_ref())
            .map(|s| s.type_.as_str())
            == Some("Unconfined")
        {
            out.push(
                "seccompProfile_baseline",
                format!("{p}securityContext.seccompProfile.type"),
                "Unconfined (no seccomp profile)",
            );
        }
        for c in cs {
            if c.sc
                .and_then(|s| s.seccomp_profile.as_ref())
                .map(|s| s.type_.as_str())
                == Some("Unconfined")
            {
                out.push(
                    "seccompProfile_baseline",
                    format!("{}.securityContext.seccompProfile.type", c.path),
                    "Unconfined (no seccomp profile)",
                );
            }
        }
    }
    // sysctls
    for (i, s) in psc
        .and_then(|s| s.sysctls.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let safe = SAFE_SYSCTLS
            .iter()
            .any(|(n, since)| *n == s.name && minor >= *since);
        if !safe {
            out.push(
                "sysctls",
                format!("{p}securityContext.sysctls[{i}].name"),
                format!("{} (unsafe sysctl)", s.name),
            );
        }
    }
    // probe and lifecycle hosts (1.34+)
    if minor >= 34 {
        for c in cs {
            for (name, probe) in c.probes {
                let Some(probe) = probe else { continue };
                if let Some(h) = probe.http_get.as_ref().and_then(|g| g.host.as_deref())
                    && !h.is_empty()
                {
                    out.push(
                        "hostProbesAndHostLifecycle",
                        format!("{}.{name}.httpGet.host", c.path),
                        format!("{h} (probe host)"),
                    );
                }
                if let Some(h) = probe.tcp_socket.as_ref().and_then(|g| g.host.as_deref())
                    && !h.is_empty()
                {
                    out.push(
                        "hostProbesAndHostLifecycle",
                        format!("{}.{name}.tcpSocket.host", c.path),
                        format!("{h} (probe host)"),
                    );
                }
            }
            let Some(l) = c.lifecycle else { continue };
            for (name, handler) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
                let Some(handler) = handler else { continue };
                if let Some(h) = handler.http_get.as_ref().and_then(|g| g.host.as_deref())
                    && !h.is_empty()
                {
                    out.push(
                        "hostProbesAndHostLifecycle",
                        format!("{}.lifecycle.{name}.httpGet.host", c.path),
                        format!("{h} (lifecycle host)"),
                    );
                }
                if let Some(h) = handler.tcp_socket.as_ref().and_then(|g| g.host.as_deref())
                    && !h.is_empty()
                {
                    out.push(
                        "hostProbesAndHostLifecycle",
                        format!("{}.lifecycle.{name}.tcpSocket.host", c.path),
                        format!("{h} (lifecycle host)"),
                    );
                }
            }
        }
    }
}

fn restricted(out: &mut Out, spec: &PodSpec, cs: &[C<'_>], minor: u32, p: &str) {
    // volume types
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let allowed = v.config_map.is_some()
            || v.csi.is_some()
            || v.downward_api.is_some()
            || v.empty_dir.is_some()
            || v.ephemeral.is_some()
            || v.persistent_volume_claim.is_some()
            || v.projected.is_some()
            || v.secret.is_some();
        if !allowed {
            out.push(
                "restrictedVolumes",
                format!("{p}volumes[{i}]"),
                format!(
                    "volume {:?} has a restricted type (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret)",
                    v.name
                ),
            );
        }
    }
    // Windows pods are exempt from the Linux-only checks since 1.25
    let windows = minor >= 25 && spec.os.as_ref().map(|o| o.name.as_str()) == Some("windows");
    let psc = spec.security_context.as_ref();
    if !windows {
        for c in cs {
            if c.sc.and_then(|s| s.allow_privilege_escalation) != Some(false) {
                out.push(
                    "allowPrivilegeEscalation",
                    format!("{}.securityContext.allowPrivilegeEscalation", c.path),
                    "not false (must be false)",
                );
            }
        }
    }
    // runAsNonRoot
    let pod_non_root = psc.and_then(|s| s.run_as_non_root);
    if pod_non_root == Some(false) {
        out.push(
            "runAsNonRoot",
            format!("{p}securityContext.runAsNonRoot"),
            "false (must be true)",
        );
    }
    for c in cs {
        match c.sc.and_then(|s| s.run_as_non_root) {
            Some(false) => out.push(
                "runAsNonRoot",
                format!("{}.securityContext.runAsNonRoot", c.path),
                "false (must be true)",
            ),
            None if pod_non_root != Some(true) => out.push(
                "runAsNonRoot",
                format!("{}.securityContext.runAsNonRoot", c.path),
                "unset (must be true here or in the pod securityContext)",
            ),
            _ => {}
        }
    }
    // runAsUser (1.23+)
    if minor >= 23 {
        if psc.and_then(|s| s.run_as_user) == Some(0) {
            out.push(
                "runAsUser",
                format!("{p}securityContext.runAsUser"),
                "0 (root user)",
            );
        }
        for c in cs {
            if c.sc.and_then(|s| s.run_as_user) == Some(0) {
                out.push(
                    "runAsUser",
                    format!("{}.securityContext.runAsUser", c.path),
                    "0 (root user)",
                );
            }
        }
    }
    if windows {
        return;
    }
    // seccomp (restricted): RuntimeDefault or Localhost, at pod level or in every container
    let ok = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let pod_seccomp = psc
        .and_then(|s| s.seccomp_profile.as_ref())
        .map(|s| s.type_.as_str());
    if let Some(t) = pod_seccomp
        && !ok(t)
    {
        out.push(
            "seccompProfile_restricted",
            format!("{p}securityContext.seccompProfile.type"),
            format!("{t} (must be RuntimeDefault or Localhost)"),
        );
    }
    for c in cs {
        match c
            .sc
            .and_then(|s| s.seccomp_profile.as_ref())
            .map(|s| s.type_.as_str())
        {
            Some(t) if !ok(t) => out.push(
                "seccompProfile_restricted",
                format!("{}.securityContext.seccompProfile.type", c.path),
                format!("{t} (must be RuntimeDefault or Localhost)"),
            ),
            None if !pod_seccomp.is_some_and(ok) => out.push(
                "seccompProfile_restricted",
                format!("{}.securityContext.seccompProfile.type", c.path),
                "unset (must be RuntimeDefault or Localhost here or in the pod securityContext)",
            ),
            _ => {}
        }
    }
    // capabilities (restricted): drop ALL, add at most NET_BIND_SERVICE
    for c in cs {
        let caps: Option<&Capabilities> = c.sc.and_then(|s| s.capabilities.as_ref());
        let drops_all = caps
            .and_then(|k| k.drop.as_ref())
            .is_some_and(|d| d.iter().any(|x| x == "ALL"));
        if !drops_all {
            out.push(
                "capabilities_restricted",
                format!("{}.securityContext.capabilities.drop", c.path),
                "does not contain ALL (must drop ALL)",
            );
        }
        let add = caps.and_then(|k| k.add.as_ref());
        for (j, cap) in add.into_iter().flatten().enumerate() {
            if cap != "NET_BIND_SERVICE" {
                out.push(
                    "capabilities_restricted",
                    format!("{}.securityContext.capabilities.add[{j}]", c.path),
                    format!("{cap} (only NET_BIND_SERVICE may be added)"),
                );
            }
        }
    }
}
