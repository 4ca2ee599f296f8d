//! Pseudonymisation of everything the agent sends to a model.
//!
//! Names of namespaces, objects and nodes, e-mail and IP addresses become stable placeholders
//! (`<ns-1>`, `<pod-2>`, `<email-1>`, `<ip-1>`) that are mapped back in the final answer and in
//! the arguments of tool calls. Secret-looking strings (bearer tokens, JWTs, API keys, long
//! random tokens) become `<secret-N>` and are never mapped back.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b").expect("email regex")
});
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")
        .expect("ipv4 regex")
});
/// IPv6 candidates; each is confirmed with `Ipv6Addr::from_str`.
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*").expect("ipv6 regex")
});
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:bearer|basic|token|api[_-]?key|password|passwd|secret)\s*[:=]?\s*[A-Za-z0-9._~+/=\-]{8,}",
        r"|\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*",
        r"|\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{16,}",
        r"|\b(?:ghp|gho|ghs|github_pat|xox[abp])_[A-Za-z0-9_]{16,}",
        r"|\bAKIA[0-9A-Z]{16}\b",
    ))
    .expect("secret regex")
});
/// A long token mixing letters and digits (random-looking): 24+ base64/hex characters.
static RANDOM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Za-z0-9+/_\-]{24,}={0,2}").expect("random regex"));

/// The kind of a registered name, which sets its placeholder prefix.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameKind {
    /// A namespace (`<ns-N>`).
    Namespace,
    /// A pod (`<pod-N>`).
    Pod,
    /// A node (`<node-N>`).
    Node,
    /// A workload: deployment, statefulset… (`<workload-N>`).
    Workload,
    /// Any other object (`<obj-N>`).
    Object,
}

impl NameKind {
    fn prefix(self) -> &'static str {
        match self {
            NameKind::Namespace => "ns",
            NameKind::Pod => "pod",
            NameKind::Node => "node",
            NameKind::Workload => "workload",
            NameKind::Object => "obj",
        }
    }

    /// The kind for an object of Kubernetes kind `kind`.
    pub fn of_kind(kind: &str) -> NameKind {
        match kind {
            "Namespace" => NameKind::Namespace,
            "Pod" => NameKind::Pod,
            "Node" => NameKind::Node,
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" => {
                NameKind::Workload
            }
            _ => NameKind::Object,
        }
    }
}

/// A per-conversation, two-way table of placeholders.
#[derive(Debug, Default, Clone)]
pub struct Anonymiser {
    /// real → placeholder, for names (whole-word replacement).
    names: BTreeMap<String, String>,
    /// real → placeholder, for addresses found by pattern.
    found: BTreeMap<String, String>,
    /// placeholder → real (names and addresses; never secrets).
    back: BTreeMap<String, String>,
    counters: BTreeMap<&'static str, usize>,
}

impl Anonymiser {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn next(&mut self, prefix: &'static str) -> String {
        let n = self.counters.entry(prefix).or_insert(0);
        *n += 1;
        format!("<{prefix}-{n}>")
    }

    /// Registers `name` (a namespace, object or node name) and returns its placeholder.
    /// Registering the same name again returns the same placeholder.
    pub fn register(&mut self, kind: NameKind, name: &str) -> String {
        if name.is_empty() {
            return String::new();
        }
        if let Some(p) = self.names.get(name) {
            return p.clone();
        }
        let p = self.next(kind.prefix());
        self.names.insert(name.to_owned(), p.clone());
        self.back.insert(p.clone(), name.to_owned());
        p
    }

    /// The placeholder of a registered name, if any.
    pub fn placeholder(&self, name: &str) -> Option<&str> {
        self.names.get(name).map(String::as_str)
    }

    fn pattern(
        &mut self,
        re: &Regex,
        text: &str,
        prefix: &'static str,
        reversible: bool,
        keep: fn(&str) -> bool,
    ) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for m in re.find_iter(text).filter(|m| keep(m.as_str())) {
            out.push_str(&text[last..m.start()]);
            let real = m.as_str();
            let p = match self.found.get(real) {
                Some(p) => p.clone(),
                None => {
                    let p = self.next(prefix);
                    self.found.insert(real.to_owned(), p.clone());
                    if reversible {
                        self.back.insert(p.clone(), real.to_owned());
                    }
                    p
                }
            };
            out.push_str(&p);
            last = m.end();
        }
        out.push_str(&text[last..]);
        out
    }

    /// Replaces secrets, e-mail and IP addresses, then every registered name (as a whole
    /// word), with placeholders.
    pub fn anonymise(&mut self, text: &str) -> String {
        let all = |_: &str| true;
        let mut s = self.pattern(&SECRET, text, "secret", false, all);
        s = self.pattern(&EMAIL, &s, "email", true, all);
        s = self.pattern(&IPV6, &s, "ip", true, |c| c.parse::<Ipv6Addr>().is_ok());
        s = self.pattern(&IPV4, &s, "ip", true, all);
        s = self.pattern(&RANDOM, &s, "secret", false, looks_random);
        // Longest names first so `api-db` wins over `api`.
        let mut names: Vec<(&String, &String)> = self.names.iter().collect();
        names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        for (real, p) in names {
            s = replace_word(&s, real, p);
        }
        s
    }

    /// Anonymises every string (keys stay) of a JSON value.
    pub fn anonymise_json(&mut self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.anonymise(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.anonymise_json(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.anonymise_json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Maps placeholders back to the real names and addresses (secrets stay redacted).
    pub fn restore(&self, text: &str) -> String {
        if !text.contains('<') {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find('<') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            match tail.find('>').map(|j| &tail[..=j]) {
                Some(p) if self.back.contains_key(p) => {
                    out.push_str(&self.back[p]);
                    rest = &tail[p.len()..];
                }
                _ => {
                    out.push('<');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Maps placeholders back in every string of a JSON value.
    pub fn restore_json(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.restore(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.restore_json(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.restore_json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn looks_random(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let upper = s.chars().filter(char::is_ascii_uppercase).count();
    let lower = s.chars().filter(char::is_ascii_lowercase).count();
    // Kubernetes names are lower-case words joined by `-`; random tokens mix classes.
    let classes = usize::from(digits > 0) + usize::from(upper > 0) + usize::from(lower > 0);
    classes >= 3 || (classes == 2 && digits >= 6 && !s.contains('-'))
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Replaces whole-word occurrences of `word` (neighbours are not `[A-Za-z0-9_-]`).
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(off) = text[i..].find(word) {
        let a = i + off;
        let b = a + word.len();
        let before_ok = text[..a].chars().next_back().is_none_or(|c| !is_word(c));
        let after_ok = text[b..].chars().next().is_none_or(|c| !is_word(c));
        out.push_str(&text[i..a]);
        if before_ok && after_ok {
            out.push_str(with);
        } else {
            out.push_str(word);
        }
        i = b;
    }
    out.push_str(&text[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_secrets_are_replaced_and_restored() {
        let mut a = Anonymiser::new();
        let t = "mail bob@acme.example from 10.0.3.7 or fe80::1ff:fe23:4567:890a with \
                 Authorization: Bearer abcdefghijklmnop123 and eyJhbGciOi.eyJzdWIiOiIx.sig_x";
        let s = a.anonymise(t);
        for leak in [
            "bob@acme.example",
            "10.0.3.7",
            "fe80::1ff",
            "abcdefghijklmnop123",
            "eyJhbG",
        ] {
            assert!(!s.contains(leak), "{leak} leaked in {s}");
        }
        assert!(s.contains("<email-1>") && s.contains("<ip-1>") && s.contains("<ip-2>"));
        let back = a.restore(&s);
        assert!(back.contains("bob@acme.example") && back.contains("10.0.3.7"));
        assert!(
            !back.contains("abcdefghijklmnop123"),
            "secrets never come back"
        );
    }

    #[test]
    fn names_are_whole_words_and_stable() {
        let mut a = Anonymiser::new();
        let ns = a.register(NameKind::Namespace, "shop");
        let api = a.register(NameKind::Workload, "api");
        let db = a.register(NameKind::Workload, "api-db");
        assert_eq!(a.register(NameKind::Namespace, "shop"), ns);
        let s = a.anonymise("shop/api talks to api-db; shopping rapid apis");
        assert_eq!(s, format!("{ns}/{api} talks to {db}; shopping rapid apis"));
        assert_eq!(
            a.restore(&s),
            "shop/api talks to api-db; shopping rapid apis"
        );
        let args = serde_json::json!({"namespace": ns, "name": db, "n": 3});
        assert_eq!(
            a.restore_json(&args),
            serde_json::json!({"namespace": "shop", "name": "api-db", "n": 3})
        );
    }

    #[test]
    fn ordinary_words_and_k8s_names_are_not_secrets() {
        let mut a = Anonymiser::new();
        let t = "pod web-7d9f8c-abcde restarted 12 times: CrashLoopBackOff, OOMKilled";
        assert_eq!(a.anonymise(t), t);
        let s = a.anonymise("key AbCdEf0123456789XyZabc9876 here");
        assert!(s.contains("<secret-1>"), "{s}");
    }

    proptest::proptest! {
        #[test]
        fn round_trip_and_no_registered_name_survives(
            words in proptest::collection::vec("[a-z]{1,8}|shop|api|api-db|node-1|[.,;/ ]", 0..40),
            email_user in "[a-z]{1,8}",
            octet in 0u8..=255,
        ) {
            let mut a = Anonymiser::new();
            for (k, n) in [(NameKind::Namespace, "shop"), (NameKind::Workload, "api"),
                           (NameKind::Workload, "api-db"), (NameKind::Node, "node-1")] {
                a.register(k, n);
            }
            let text = format!("{} {email_user}@corp.example 10.0.{octet}.9", words.join(" "));
            let anon = a.anonymise(&text);
            proptest::prop_assert_eq!(a.restore(&anon), text.clone());
            proptest::prop_assert!(!anon.contains("@corp.example"));
            // Outside placeholders, no registered name is left.
            let bare = Regex::new(r"<[a-z]+-\d+>").unwrap().replace_all(&anon, " ").into_owned();
            for w in bare.split(|c: char| !is_word(c)) {
                proptest::prop_assert!(!["shop", "api", "api-db", "node-1"].contains(&w), "{} in {}", w, anon);
            }
        }
    }
}
