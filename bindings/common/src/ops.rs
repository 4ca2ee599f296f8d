//! Calls over plain data (strings, string maps, options records) that forward to the facade.
//!
//! Each binding maps its language's arguments onto these (or straight onto [`hxb::Engine`])
//! and maps the result back; nothing here decides anything the facade does not.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hxb::{Engine, Name, Quantity, ResourceList, Result};

/// How to open an engine: every field optional, `Default` is the embedded engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineOptions {
    /// Simulated nodes of the embedded cluster (default 3).
    pub nodes: Option<u32>,
    /// Seed of the embedded cluster (default 0).
    pub seed: Option<u64>,
    /// SQLite file for the desired state (default: in memory).
    pub state_file: Option<String>,
    /// A kubeconfig file: use that real cluster instead of the embedded one.
    pub kubeconfig: Option<String>,
    /// The kubeconfig context (default: its current context).
    pub context: Option<String>,
    /// Member clusters: when non-empty the engine's cluster is a multi-cluster fleet of
    /// these (`kubeconfig`/`context` above are then not used).
    pub fleet: Vec<crate::platform_ext::fleet::FleetMemberOptions>,
}

/// Open an engine ([`hxb::EngineBuilder::build`]).
pub async fn open(opts: EngineOptions) -> Result<Engine> {
    let mut b = Engine::builder();
    if let Some(path) = opts.kubeconfig {
        b = b.kubeconfig(PathBuf::from(path), opts.context.as_deref());
    }
    if let Some(n) = opts.nodes {
        b = b.nodes(n as usize);
    }
    if let Some(s) = opts.seed {
        b = b.seed(s);
    }
    if let Some(p) = opts.state_file {
        b = b.state_file(PathBuf::from(p));
    }
    for m in &opts.fleet {
        b = b.fleet_member(m.member());
    }
    b.build().await
}

/// [`Quantity::parse`] with the facade's error.
pub fn parse_quantity(s: &str) -> Result<Quantity> {
    Ok(Quantity::parse(s)?)
}

/// [`Name::new`]: the name back if it is a valid RFC 1123 label.
pub fn validate_name(s: &str) -> Result<String> {
    Ok(Name::new(s)?.into_string())
}

/// Parse every quantity and add them up exactly (the batch call of the binding benchmarks):
/// the first invalid item or an overflow fails the whole call.
pub fn sum_quantities<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Quantity> {
    let mut total = Quantity::ZERO;
    for s in items {
        total = total.checked_add(&Quantity::parse(s)?)?;
    }
    Ok(total)
}

/// A [`ResourceList`] from `{resource: quantity}` strings.
pub fn resource_list<'a>(
    map: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<ResourceList> {
    ResourceList::parse(map.into_iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// `{resource: canonical quantity}` strings of a [`ResourceList`].
pub fn resource_map(list: &ResourceList) -> BTreeMap<String, String> {
    list.iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_string()))
        .collect()
}

/// [`ResourceList::admit`] over string maps: `Ok` if `requested` fits in `hard` on top of
/// `used`, else a `quota_exceeded` error listing every offending resource.
pub fn admit(
    quota: &str,
    hard: &BTreeMap<String, String>,
    used: &BTreeMap<String, String>,
    requested: &BTreeMap<String, String>,
) -> Result<()> {
    ResourceList::admit(
        quota,
        &resource_list(hard)?,
        &resource_list(used)?,
        &resource_list(requested)?,
    )
}

/// `a + b` per resource.
pub fn add_resources(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    Ok(resource_map(
        &resource_list(a)?.checked_add(&resource_list(b)?)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sums_exactly_and_fails_on_the_first_bad_item() {
        assert_eq!(
            sum_quantities(["100m", "0.4", "1"]).unwrap().to_string(),
            "1500m"
        );
        assert_eq!(sum_quantities([]).unwrap(), Quantity::ZERO);
        let err = sum_quantities(["1", "x"]).unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput);
        let err = sum_quantities(["1e29", "1e29"]).unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput);
    }

    #[test]
    fn admission_over_maps() {
        let hard = map(&[("requests.cpu", "1"), ("pods", "2")]);
        admit("q", &hard, &map(&[]), &map(&[("requests.cpu", "500m")])).unwrap();
        let err = admit("q", &hard, &map(&[("pods", "2")]), &map(&[("pods", "1")])).unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::QuotaExceeded);
        let err = admit("q", &hard, &map(&[]), &map(&[("cpu", "lots")])).unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput);
    }

    #[test]
    fn names_and_resource_maps() {
        assert_eq!(validate_name("team-a").unwrap(), "team-a");
        assert!(validate_name("Team_A").is_err());
        let sum = add_resources(&map(&[("memory", "1Gi")]), &map(&[("memory", "512Mi")])).unwrap();
        assert_eq!(sum["memory"], "1536Mi");
    }
}
