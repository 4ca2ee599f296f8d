//! Golden-file tests of rendering: `tests/golden/*.yaml` hold the exact objects hxb writes.
//! `HXB_UPDATE_GOLDEN=1 cargo test -p hxb-tenancy --test it golden` rewrites them.

use std::path::PathBuf;

use hxb_core::ResourceList;
use hxb_tenancy::plans::{PlanCatalog, quota};
use hxb_tenancy::render::{DesiredObject, ProjectInput, RenderConfig, render_project};

use crate::support::*;

pub fn to_yaml(objects: &[DesiredObject]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(&o.object).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

pub fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("HXB_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with HXB_UPDATE_GOLDEN=1 to create)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from the golden file; rerun with HXB_UPDATE_GOLDEN=1 if intended.\n--- actual ---\n{actual}"
    );
}

fn render(
    plan: &str,
    project_name: &str,
    parent: Option<&str>,
    own_quota: &ResourceList,
) -> String {
    let cat = PlanCatalog::defaults();
    let o = org("acme", "enterprise");
    let ws = workspace("acme", "dev", plan);
    let p = project("acme", "dev", project_name, parent);
    let ancestors: Vec<_> = parent.map(n).into_iter().collect();
    let members = members_of("acme");
    let input = ProjectInput {
        organization: &o,
        workspace: &ws,
        project: &p,
        ancestors: &ancestors,
        members: &members,
        plan: cat.get(plan).unwrap(),
        namespace_quota: own_quota,
    };
    to_yaml(&render_project(&input, &RenderConfig::default()).unwrap())
}

#[test]
fn shared_top_level_project() {
    let q = quota("1", "2Gi", "10Gi", "10", "5", "2").unwrap();
    check(
        "project-shared.yaml",
        &render("professional", "web", None, &q),
    );
}

#[test]
fn dedicated_sub_project() {
    let q = quota("2", "4Gi", "20Gi", "20", "10", "5").unwrap();
    check(
        "subproject-dedicated.yaml",
        &render("professional-dedicated", "api", Some("web"), &q),
    );
}

#[test]
fn rendering_is_deterministic() {
    let q = quota("1", "2Gi", "10Gi", "10", "5", "2").unwrap();
    assert_eq!(
        render("professional", "web", None, &q),
        render("professional", "web", None, &q)
    );
}
