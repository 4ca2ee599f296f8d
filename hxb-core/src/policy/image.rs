//! Container image references, parsed and normalised as the container tooling does
//! (`distribution/reference`): `[registry[:port]/]path[:tag][@algorithm:hex]`.
//!
//! * The registry is the first path component when it contains `.` or `:`, is `localhost`,
//!   or has an upper-case letter; otherwise it is `docker.io` (and `index.docker.io` is
//!   `docker.io` too).
//! * A one-component repository on Docker Hub gets the `library/` namespace
//!   (`nginx` → `docker.io/library/nginx`).
//! * A `:` after the last `/` starts the tag; one before it is the registry's port.
//! * Path components are lower case: `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`; the
//!   name is at most 255 characters; tags are `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; digests
//!   are `algorithm:hex` (`sha256` needs exactly 64 lower-case hex digits).

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, Result};

/// The registry of images named without one.
pub const DEFAULT_REGISTRY: &str = "docker.io";
const LEGACY_DEFAULT_REGISTRY: &str = "index.docker.io";
const NAME_MAX: usize = 255;

static PATH_COMPONENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").expect("static regex"));
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$",
    )
    .expect("static regex")
});
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w][\w.-]{0,127}$").expect("static regex"));
static DIGEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
        .expect("static regex")
});

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

fn bad(image: &str, why: impl fmt::Display) -> Error {
    Error::invalid("image", format!("{image:?}: {why}"))
}

impl ImageRef {
    /// Parse and normalise `image`.
    pub fn parse(image: &str) -> Result<ImageRef> {
        if image.is_empty() {
            return Err(bad(image, "must not be empty"));
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => {
                if !DIGEST.is_match(d) {
                    return Err(bad(image, format!("invalid digest {d:?}")));
                }
                if let Some(hex) = d.strip_prefix("sha256:")
                    && (hex.len() != 64 || hex.bytes().any(|b| b.is_ascii_uppercase()))
                {
                    return Err(bad(image, "a sha256 digest has 64 lower-case hex digits"));
                }
                (r, Some(d.to_owned()))
            }
            None => (image, None),
        };
        let last_slash = rest.rfind('/');
        let (name, tag) = match rest.rfind(':') {
            Some(i) if last_slash.is_none_or(|s| i > s) => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag
            && !TAG.is_match(t)
        {
            return Err(bad(image, format!("invalid tag {t:?}")));
        }
        if name.is_empty() {
            return Err(bad(image, "no repository name"));
        }
        if name.len() > NAME_MAX {
            return Err(bad(
                image,
                format!("name longer than {NAME_MAX} characters"),
            ));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                if !HOST.is_match(first) {
                    return Err(bad(image, format!("invalid registry {first:?}")));
                }
                (first, path)
            }
            _ => (DEFAULT_REGISTRY, name),
        };
        for c in path.split('/') {
            if !PATH_COMPONENT.is_match(c) {
                return Err(bad(
                    image,
                    format!(
                        "invalid repository component {c:?} (lower-case letters, digits and . _ - separators)"
                    ),
                ));
            }
        }
        let registry = if registry == LEGACY_DEFAULT_REGISTRY {
            DEFAULT_REGISTRY
        } else {
            registry
        };
        let repository = if registry == DEFAULT_REGISTRY && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Ok(ImageRef {
            registry: registry.to_owned(),
            repository,
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The registry host (with its port, if any).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path in the registry (`library/nginx`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:…`), if one was given.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether the image comes from `source`: a registry (`ghcr.io`, `registry.local:5000`)
    /// or a registry with a repository prefix (`ghcr.io/acme`, matching whole path
    /// components). `index.docker.io` means `docker.io`, and `docker.io/nginx` also
    /// matches `docker.io/library/nginx`.
    pub fn is_from(&self, source: &str) -> bool {
        let name = self.name();
        source_forms(source)
            .iter()
            .any(|s| name == *s || self.registry == *s || name.starts_with(&format!("{s}/")))
    }
}

/// The forms an allowed-registry entry matches: itself with `index.docker.io` read as
/// `docker.io`, and for a one-component Docker Hub path (`docker.io/nginx`) also its
/// `library/` form.
fn source_forms(source: &str) -> Vec<String> {
    let s = source.trim().trim_end_matches('/');
    let (host, path) = match s.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host = if host == LEGACY_DEFAULT_REGISTRY {
        DEFAULT_REGISTRY
    } else {
        host
    };
    match path {
        Some(p) if host == DEFAULT_REGISTRY && !p.contains('/') => {
            vec![format!("{host}/{p}"), format!("{host}/library/{p}")]
        }
        Some(p) => vec![format!("{host}/{p}")],
        None => vec![host.to_owned()],
    }
}

/// Check an allowed-registry entry: a registry host (with optional port) and optional
/// repository path components.
pub fn validate_source(source: &str) -> Result<()> {
    let s = source.trim_end_matches('/');
    let (host, path) = match s.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if !HOST.is_match(host) {
        return Err(Error::invalid(
            "allowed_registries",
            format!("{source:?}: invalid registry host"),
        ));
    }
    for c in path.into_iter().flat_map(|p| p.split('/')) {
        if !PATH_COMPONENT.is_match(c) {
            return Err(Error::invalid(
                "allowed_registries",
                format!("{source:?}: invalid repository component {c:?}"),
            ));
        }
    }
    Ok(())
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl FromStr for ImageRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ImageRef::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use proptest::prelude::*;

    fn p(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn normalises_like_the_container_tooling() {
        let cases = [
            ("nginx", "docker.io", "library/nginx", None, None),
            (
                "nginx:1.27",
                "docker.io",
                "library/nginx",
                Some("1.27"),
                None,
            ),
            (
                "bitnami/redis:7",
                "docker.io",
                "bitnami/redis",
                Some("7"),
                None,
            ),
            (
                "index.docker.io/nginx",
                "docker.io",
                "library/nginx",
                None,
                None,
            ),
            (
                "docker.io/library/nginx:latest",
                "docker.io",
                "library/nginx",
                Some("latest"),
                None,
            ),
            (
                "ghcr.io/acme/web:v1.2.3",
                "ghcr.io",
                "acme/web",
                Some("v1.2.3"),
                None,
            ),
            ("localhost/app", "localhost", "app", None, None),
            (
                "localhost:5000/app:dev",
                "localhost:5000",
                "app",
                Some("dev"),
                None,
            ),
            (
                "registry.local:5000/team/app",
                "registry.local:5000",
                "team/app",
                None,
                None,
            ),
            ("[::1]:5000/app:1", "[::1]:5000", "app", Some("1"), None),
            ("Registry/app", "Registry", "app", None, None),
            (
                "a.b/c/d/e__f-g.h:T_1",
                "a.b",
                "c/d/e__f-g.h",
                Some("T_1"),
                None,
            ),
        ];
        for (s, reg, repo, tag, digest) in cases {
            let r = p(s);
            assert_eq!(
                (r.registry(), r.repository(), r.tag(), r.digest()),
                (reg, repo, tag, digest),
                "{s}"
            );
        }
        let d = format!("sha256:{}", "a".repeat(64));
        let r = p(&format!("quay.io/org/app:1@{d}"));
        assert_eq!((r.tag(), r.digest()), (Some("1"), Some(d.as_str())));
        let r = p(&format!("app@{d}"));
        assert_eq!(
            (r.name().as_str(), r.tag()),
            ("docker.io/library/app", None)
        );
        assert_eq!(r.to_string(), format!("docker.io/library/app@{d}"));
    }

    #[test]
    fn rejects_malformed_references() {
        let long = format!("a/{}", "b".repeat(260));
        let bad = [
            "",
            ":tag",
            "Nginx",
            "UPPER/case/Path",
            "nginx:",
            "nginx:-bad",
            "nginx@sha256:abc",
            "nginx@sha256:ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD",
            "nginx@md5",
            "a//b",
            "a/b/",
            "-a",
            "a--",
            "ex ample/app",
            "bad_host.example:port/app",
            long.as_str(),
        ];
        for s in bad {
            let e = ImageRef::parse(s).expect_err(s);
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{s}");
        }
    }

    #[test]
    fn sources_match_whole_components() {
        let r = p("ghcr.io/acme/web:1");
        assert!(r.is_from("ghcr.io"));
        assert!(r.is_from("ghcr.io/acme"));
        assert!(r.is_from("ghcr.io/acme/web"));
        assert!(!r.is_from("ghcr.io/ac"));
        assert!(!r.is_from("ghcr.i"));
        assert!(!r.is_from("docker.io"));
        assert!(p("nginx").is_from("docker.io"));
        assert!(p("nginx").is_from("index.docker.io"));
        assert!(p("nginx").is_from("docker.io/nginx"));
        assert!(p("nginx").is_from("docker.io/library"));
        assert!(!p("bitnami/nginx").is_from("docker.io/nginx"));
        assert!(p("localhost:5000/x").is_from("localhost:5000"));
        assert!(!p("localhost:5000/x").is_from("localhost"));
        validate_source("registry.local:5000/team").unwrap();
        assert!(validate_source("not a host").is_err());
        assert!(validate_source("ghcr.io/Acme").is_err());
    }

    fn component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,6}(([._]|__|-{1,2})[a-z0-9]{1,6}){0,2}"
    }

    proptest! {
        #[test]
        fn display_round_trips(
            host in prop::option::of("[a-z][a-z0-9]{0,8}\\.(io|com|local)(:[0-9]{2,5})?"),
            first in "[a-z0-9]{1,6}((_|__|-{1,2})[a-z0-9]{1,6}){0,2}",
            rest in prop::collection::vec(component(), 0..3),
            tag in prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
            digest in prop::option::of("[0-9a-f]{64}"),
        ) {
            // without a registry, a first component with a dot would be read as one
            let path: Vec<String> = std::iter::once(first).chain(rest).collect();
            let mut s = path.join("/");
            if let Some(h) = &host { s = format!("{h}/{s}"); }
            if let Some(t) = &tag { s = format!("{s}:{t}"); }
            if let Some(d) = &digest { s = format!("{s}@sha256:{d}"); }
            let r = ImageRef::parse(&s).unwrap();
            prop_assert_eq!(r.registry(), host.as_deref().unwrap_or(DEFAULT_REGISTRY));
            prop_assert_eq!(r.tag(), tag.as_deref());
            let again = ImageRef::parse(&r.to_string()).unwrap();
            prop_assert_eq!(&again, &r);
            prop_assert!(r.is_from(r.registry()));
            prop_assert!(r.repository().ends_with(path.last().unwrap().as_str()));
        }

        #[test]
        fn never_panics_and_accepts_only_lower_case_paths(s in "\\PC{0,40}") {
            if let Ok(r) = ImageRef::parse(&s) {
                prop_assert!(r.repository().bytes().all(|b| !b.is_ascii_uppercase()));
                prop_assert_eq!(ImageRef::parse(&r.to_string()).unwrap(), r);
            }
        }
    }
}
