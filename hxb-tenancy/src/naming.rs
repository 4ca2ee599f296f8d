//! Names and labels hxb writes into the cluster.
//!
//! A project's namespace is `<organization>-<workspace>-<project>`, readable and deterministic.
//! When that would exceed 63 characters it is cut and suffixed with 8 hex digits of a hash of
//! the full identity, so it stays a valid DNS label. The scheme alone cannot rule out
//! collisions (`a-b`/`c`/`d` and `a`/`b-c`/`d` both give `a-b-c-d`), so the engine keeps a
//! store-side uniqueness index on namespace names and refuses a second owner with
//! [`AlreadyExists`](hxb_core::ErrorKind::AlreadyExists), naming the first.

use std::collections::BTreeMap;

use hxb_core::Name;

/// Label on every object hxb manages: `app.kubernetes.io/managed-by=hxb`.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY`].
pub const MANAGER: &str = "hxb";
/// Owning organization.
pub const LABEL_ORG: &str = "hxb.io/organization";
/// Owning workspace.
pub const LABEL_WORKSPACE: &str = "hxb.io/workspace";
/// Owning project.
pub const LABEL_PROJECT: &str = "hxb.io/project";
/// Parent project of a sub-project.
pub const LABEL_PARENT: &str = "hxb.io/parent";
/// Node-pool label on dedicated nodes (`hxb.io/pool=<organization>.<workspace>`), and the
/// node selector of dedicated tenants' pods.
pub const LABEL_POOL: &str = "hxb.io/pool";
/// Taint key of dedicated nodes (`dedicated=<organization>.<workspace>:NoSchedule`).
pub const TAINT_DEDICATED: &str = "dedicated";

/// Maximum length of a namespace name.
pub const NAMESPACE_MAX: usize = 63;

/// FNV-1a 64-bit: a stable hash (unlike `std`'s randomised one) for name suffixes.
fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The namespace of project `project` in workspace `workspace` of `organization`.
///
/// Always a valid RFC 1123 label (the inputs are, so the joined form only needs shortening).
pub fn project_namespace(organization: &Name, workspace: &Name, project: &Name) -> String {
    let full = format!("{organization}-{workspace}-{project}");
    if full.len() <= NAMESPACE_MAX {
        return full;
    }
    let id = format!("{organization}/{workspace}/{project}");
    let suffix = format!("{:08x}", fnv1a(id.as_bytes()) as u32);
    // keep room for "-" + 8 hex digits; trim trailing dashes so the label ends alphanumeric
    let head = full[..NAMESPACE_MAX - 9].trim_end_matches('-');
    format!("{head}-{suffix}")
}

/// The dedicated node-pool id of a workspace: `<organization>.<workspace>` (a valid label value
/// only when ≤ 63 characters; longer ones are hashed like namespaces).
pub fn pool_id(organization: &Name, workspace: &Name) -> String {
    let full = format!("{organization}.{workspace}");
    if full.len() <= NAMESPACE_MAX {
        return full;
    }
    let suffix = format!("{:08x}", fnv1a(full.as_bytes()) as u32);
    let head = full[..NAMESPACE_MAX - 9].trim_end_matches(['-', '.']);
    format!("{head}-{suffix}")
}

/// Identity of the tenant entity that owns an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner {
    /// Organization.
    pub organization: Name,
    /// Workspace, for workspace and project objects.
    pub workspace: Option<Name>,
    /// Project, for project objects.
    pub project: Option<Name>,
}

/// The labels every object owned by a project carries.
pub fn project_labels(
    organization: &Name,
    workspace: &Name,
    project: &Name,
    parent: Option<&Name>,
) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (LABEL_ORG.to_owned(), organization.to_string()),
        (LABEL_WORKSPACE.to_owned(), workspace.to_string()),
        (LABEL_PROJECT.to_owned(), project.to_string()),
    ]);
    if let Some(p) = parent {
        l.insert(LABEL_PARENT.to_owned(), p.to_string());
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::name::{NameKind, validate};
    use proptest::prelude::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn short_names_read_naturally() {
        assert_eq!(
            project_namespace(&n("acme"), &n("dev"), &n("web")),
            "acme-dev-web"
        );
        assert_eq!(pool_id(&n("acme"), &n("dev")), "acme.dev");
    }

    #[test]
    fn the_scheme_alone_can_collide() {
        // why the engine keeps a uniqueness index
        assert_eq!(
            project_namespace(&n("a-b"), &n("c"), &n("d")),
            project_namespace(&n("a"), &n("b-c"), &n("d"))
        );
    }

    #[test]
    fn long_names_are_shortened_and_distinct() {
        let long = "x".repeat(40);
        let a = project_namespace(&n(&long), &n(&long), &n("a"));
        let b = project_namespace(&n(&long), &n(&long), &n("b"));
        assert_eq!(a.len(), NAMESPACE_MAX);
        assert_ne!(a, b);
        validate(&a, NameKind::Dns1123Label).unwrap();
    }

    proptest! {
        #[test]
        fn namespaces_are_always_valid_labels(
            o in "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
            w in "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
            p in "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
        ) {
            let ns = project_namespace(&n(&o), &n(&w), &n(&p));
            prop_assert!(validate(&ns, NameKind::Dns1123Label).is_ok(), "{}", ns);
            let pool = pool_id(&n(&o), &n(&w));
            prop_assert!(pool.len() <= 63);
        }
    }
}
