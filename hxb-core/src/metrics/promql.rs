//! A PromQL subset: enough to express utilisation, rates and aggregations for scaling, alert
//! rules and reports, parsed into an [`Expr`] and evaluated by the embedded store.
//!
//! ```text
//! expr     := term (("+" | "-" | "*" | "/") term)*          left-assoc, * and / bind tighter
//! term     := number | "(" expr ")" | aggregation | function | selector
//! agg      := ("sum"|"avg"|"max"|"min"|"count") [grouping] "(" expr ")" [grouping]
//! grouping := ("by" | "without") "(" label ("," label)* ")"
//! function := ("rate"|"increase"|"avg_over_time"|"max_over_time"|"min_over_time"
//!              |"sum_over_time"|"count_over_time"|"last_over_time") "(" selector "[" duration "]" ")"
//! selector := [metric] ["{" label ("="|"!="|"=~"|"!~") "string" ("," …)* "}"]
//! duration := (number ("ms"|"s"|"m"|"h"|"d"|"w"))+
//! ```

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};

/// How a label matcher compares.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~` (fully anchored regular expression)
    Re,
    /// `!~`
    NotRe,
}

/// One label matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Label name (`__name__` for the metric name).
    pub label: String,
    /// Comparison.
    pub op: MatchOp,
    /// Value or pattern.
    pub value: String,
    regex: Option<regex::Regex>,
}

impl Matcher {
    /// A matcher; regular expressions are compiled (and anchored) here.
    pub fn new(label: &str, op: MatchOp, value: &str) -> Result<Self> {
        let regex = match op {
            MatchOp::Re | MatchOp::NotRe => Some(
                regex::Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| Error::invalid("query", format!("bad regex {value:?}: {e}")))?,
            ),
            _ => None,
        };
        Ok(Matcher {
            label: label.into(),
            op,
            value: value.into(),
            regex,
        })
    }

    /// Whether a label value (empty when absent) satisfies this matcher.
    pub fn matches(&self, v: Option<&str>) -> bool {
        let v = v.unwrap_or("");
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Ne => v != self.value,
            MatchOp::Re => self.regex.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRe => !self.regex.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.label == o.label && self.op == o.op && self.value == o.value
    }
}

/// Aggregation operators.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `max`
    Max,
    /// `min`
    Min,
    /// `count`
    Count,
}

/// Functions over a range of samples.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeFn {
    /// Per-second increase of a counter (reset-aware, not extrapolated).
    Rate,
    /// Increase of a counter (reset-aware, not extrapolated).
    Increase,
    /// Mean.
    AvgOverTime,
    /// Maximum.
    MaxOverTime,
    /// Minimum.
    MinOverTime,
    /// Sum.
    SumOverTime,
    /// Number of samples.
    CountOverTime,
    /// Last sample.
    LastOverTime,
}

/// Arithmetic operators.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A parsed query.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number.
    Number(f64),
    /// An instant vector selector.
    Selector(Vec<Matcher>),
    /// A function over a range selector.
    Range {
        /// Function.
        func: RangeFn,
        /// Series selector.
        matchers: Vec<Matcher>,
        /// Window.
        range: Duration,
    },
    /// An aggregation.
    Aggregate {
        /// Operator.
        op: AggOp,
        /// `true` for `without`, `false` for `by`.
        without: bool,
        /// Grouping labels.
        labels: Vec<String>,
        /// Operand.
        expr: Box<Expr>,
    },
    /// Arithmetic.
    Binary {
        /// Operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
}

/// Parse a query.
pub fn parse(query: &str) -> Result<Expr> {
    let mut p = Parser {
        s: query.as_bytes(),
        i: 0,
        src: query,
    };
    let e = p.expr()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("unexpected trailing input"));
    }
    Ok(e)
}

/// Parse a Prometheus duration (`5m`, `1h30m`, `250ms`).
pub fn parse_duration(s: &str) -> Result<Duration> {
    let bad = || {
        Error::invalid(
            "duration",
            format!("{s:?} is not a duration like 30s, 5m or 1h30m"),
        )
    };
    let b = s.as_bytes();
    let (mut i, mut total_ms) = (0usize, 0u128);
    if b.is_empty() {
        return Err(bad());
    }
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(bad());
        }
        let n: u128 = s[start..i].parse().map_err(|_| bad())?;
        let unit_ms: u128 = if s[i..].starts_with("ms") {
            i += 2;
            1
        } else {
            let u = match b.get(i) {
                Some(b's') => 1_000,
                Some(b'm') => 60_000,
                Some(b'h') => 3_600_000,
                Some(b'd') => 86_400_000,
                Some(b'w') => 604_800_000,
                Some(b'y') => 31_536_000_000,
                _ => return Err(bad()),
            };
            i += 1;
            u
        };
        total_ms = n
            .checked_mul(unit_ms)
            .and_then(|x| total_ms.checked_add(x))
            .ok_or_else(bad)?;
    }
    u64::try_from(total_ms)
        .map(Duration::from_millis)
        .map_err(|_| bad())
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn err(&self, m: &str) -> Error {
        Error::invalid(
            "query",
            format!("{m} at offset {} in {:?}", self.i, self.src),
        )
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("expected {:?}", c as char)))
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || matches!(self.s[self.i], b'_' | b':'))
        {
            if self.i == start && self.s[self.i].is_ascii_digit() {
                return None;
            }
            self.i += 1;
        }
        (self.i > start).then(|| self.src[start..self.i].to_owned())
    }

    fn expr(&mut self) -> Result<Expr> {
        let mut lhs = self.product()?;
        loop {
            let op = if self.eat(b'+') {
                BinOp::Add
            } else if self.eat(b'-') {
                BinOp::Sub
            } else {
                return Ok(lhs);
            };
            let rhs = self.product()?;
            lhs = Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
    }

    fn product(&mut self) -> Result<Expr> {
        let mut lhs = self.term()?;
        loop {
            let op = if self.eat(b'*') {
                BinOp::Mul
            } else if self.eat(b'/') {
                BinOp::Div
            } else {
                return Ok(lhs);
            };
            let rhs = self.term()?;
            lhs = Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
    }

    fn number(&mut self) -> Option<f64> {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_digit() || matches!(self.s[self.i], b'.' | b'e' | b'E'))
        {
            self.i += 1;
        }
        match self.src[start..self.i].parse::<f64>() {
            Ok(v) if self.i > start => Some(v),
            _ => {
                self.i = start;
                None
            }
        }
    }

    fn term(&mut self) -> Result<Expr> {
        self.ws();
        match self.s.get(self.i) {
            None => return Err(self.err("unexpected end of query")),
            Some(b'(') => {
                self.i += 1;
                let e = self.expr()?;
                self.expect(b')')?;
                return Ok(e);
            }
            Some(c) if c.is_ascii_digit() || *c == b'.' => {
                return self
                    .number()
                    .map(Expr::Number)
                    .ok_or_else(|| self.err("bad number"));
            }
            Some(b'{') => return Ok(Expr::Selector(self.matchers(None)?)),
            _ => {}
        }
        let save = self.i;
        let name = self
            .ident()
            .ok_or_else(|| self.err("expected a metric, function or number"))?;
        let agg = match name.as_str() {
            "sum" => Some(AggOp::Sum),
            "avg" => Some(AggOp::Avg),
            "max" => Some(AggOp::Max),
            "min" => Some(AggOp::Min),
            "count" => Some(AggOp::Count),
            _ => None,
        };
        if let Some(op) = agg {
            let mut grouping = self.grouping()?;
            self.expect(b'(')?;
            let inner = self.expr()?;
            self.expect(b')')?;
            if grouping.is_none() {
                grouping = self.grouping()?;
            }
            let (without, labels) = grouping.unwrap_or((false, Vec::new()));
            return Ok(Expr::Aggregate {
                op,
                without,
                labels,
                expr: Box::new(inner),
            });
        }
        let func = match name.as_str() {
            "rate" => Some(RangeFn::Rate),
            "increase" => Some(RangeFn::Increase),
            "avg_over_time" => Some(RangeFn::AvgOverTime),
            "max_over_time" => Some(RangeFn::MaxOverTime),
            "min_over_time" => Some(RangeFn::MinOverTime),
            "sum_over_time" => Some(RangeFn::SumOverTime),
            "count_over_time" => Some(RangeFn::CountOverTime),
            "last_over_time" => Some(RangeFn::LastOverTime),
            _ => None,
        };
        if let Some(func) = func {
            self.expect(b'(')?;
            let metric = self.ident();
            let matchers = if self.peek(b'{') {
                self.matchers(metric)?
            } else {
                metric_only(metric)
            };
            if matchers.is_empty() {
                return Err(self.err("a range function needs a selector"));
            }
            self.expect(b'[')?;
            self.ws();
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != b']' {
                self.i += 1;
            }
            let range = parse_duration(self.src[start..self.i].trim())?;
            self.expect(b']')?;
            self.expect(b')')?;
            return Ok(Expr::Range {
                func,
                matchers,
                range,
            });
        }
        self.i = save;
        let metric = self.ident();
        if self.peek(b'(') {
            return Err(self.err(&format!("unknown function {}", metric.unwrap_or_default())));
        }
        if self.peek(b'[') {
            return Err(self.err("a range selector must be inside a function such as rate()"));
        }
        let m = if self.peek(b'{') {
            self.matchers(metric)?
        } else {
            metric_only(metric)
        };
        Ok(Expr::Selector(m))
    }

    fn peek(&mut self, c: u8) -> bool {
        self.ws();
        self.s.get(self.i) == Some(&c)
    }

    fn grouping(&mut self) -> Result<Option<(bool, Vec<String>)>> {
        let save = self.i;
        let Some(word) = self.ident() else {
            return Ok(None);
        };
        let without = match word.as_str() {
            "by" => false,
            "without" => true,
            _ => {
                self.i = save;
                return Ok(None);
            }
        };
        self.expect(b'(')?;
        let mut labels = Vec::new();
        if !self.eat(b')') {
            loop {
                labels.push(
                    self.ident()
                        .ok_or_else(|| self.err("expected a label name"))?,
                );
                if self.eat(b')') {
                    break;
                }
                self.expect(b',')?;
            }
        }
        Ok(Some((without, labels)))
    }

    fn matchers(&mut self, metric: Option<String>) -> Result<Vec<Matcher>> {
        let mut out = metric_only(metric);
        self.expect(b'{')?;
        if self.eat(b'}') {
            return Ok(out);
        }
        loop {
            let label = self
                .ident()
                .ok_or_else(|| self.err("expected a label name"))?;
            self.ws();
            let rest = &self.src[self.i..];
            let (op, len) = if rest.starts_with("=~") {
                (MatchOp::Re, 2)
            } else if rest.starts_with("!~") {
                (MatchOp::NotRe, 2)
            } else if rest.starts_with("!=") {
                (MatchOp::Ne, 2)
            } else if rest.starts_with('=') {
                (MatchOp::Eq, 1)
            } else {
                return Err(self.err("expected =, !=, =~ or !~"));
            };
            self.i += len;
            let value = self.string()?;
            out.push(Matcher::new(&label, op, &value)?);
            if self.eat(b'}') {
                return Ok(out);
            }
            self.expect(b',')?;
            if self.eat(b'}') {
                return Ok(out);
            }
        }
    }

    fn string(&mut self) -> Result<String> {
        self.ws();
        let q = match self.s.get(self.i) {
            Some(q @ (b'"' | b'\'')) => *q,
            _ => return Err(self.err("expected a quoted string")),
        };
        self.i += 1;
        let mut out = String::new();
        let mut chars = self.src[self.i..].char_indices();
        while let Some((off, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, other)) => out.push(other),
                    None => break,
                },
                c if c as u32 == q as u32 => {
                    self.i += off + 1;
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        Err(self.err("unterminated string"))
    }
}

fn metric_only(metric: Option<String>) -> Vec<Matcher> {
    metric
        .map(|m| {
            vec![Matcher {
                label: "__name__".into(),
                op: MatchOp::Eq,
                value: m,
                regex: None,
            }]
        })
        .unwrap_or_default()
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn sel(f: &mut fmt::Formatter<'_>, m: &[Matcher]) -> fmt::Result {
            let mut rest = Vec::new();
            for x in m {
                if x.label == "__name__" && x.op == MatchOp::Eq {
                    f.write_str(&x.value)?;
                } else {
                    rest.push(x);
                }
            }
            if !rest.is_empty() {
                f.write_str("{")?;
                for (i, x) in rest.iter().enumerate() {
                    let op = match x.op {
                        MatchOp::Eq => "=",
                        MatchOp::Ne => "!=",
                        MatchOp::Re => "=~",
                        MatchOp::NotRe => "!~",
                    };
                    let sep = if i > 0 { "," } else { "" };
                    write!(f, "{sep}{}{op}{:?}", x.label, x.value)?;
                }
                f.write_str("}")?;
            }
            Ok(())
        }
        match self {
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Selector(m) => sel(f, m),
            Expr::Range {
                func,
                matchers,
                range,
            } => {
                write!(
                    f,
                    "{}(",
                    format!("{func:?}")
                        .to_lowercase()
                        .replace("overtime", "_over_time")
                )?;
                sel(f, matchers)?;
                write!(f, "[{}ms])", range.as_millis())
            }
            Expr::Aggregate {
                op,
                without,
                labels,
                expr,
            } => {
                let g = if *without { "without" } else { "by" };
                write!(
                    f,
                    "{} {g} ({}) ({expr})",
                    format!("{op:?}").to_lowercase(),
                    labels.join(",")
                )
            }
            Expr::Binary { op, lhs, rhs } => {
                let o = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                };
                write!(f, "({lhs} {o} {rhs})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_subset() {
        let e = parse(
            r#"sum by (namespace) (rate(http_requests_total{job="web",code=~"5.."}[5m])) / 2"#,
        )
        .unwrap();
        let Expr::Binary {
            op: BinOp::Div,
            lhs,
            ..
        } = e
        else {
            panic!("{e:?}")
        };
        let Expr::Aggregate {
            op: AggOp::Sum,
            labels,
            expr,
            ..
        } = *lhs
        else {
            panic!()
        };
        assert_eq!(labels, ["namespace"]);
        let Expr::Range {
            func: RangeFn::Rate,
            matchers,
            range,
        } = *expr
        else {
            panic!()
        };
        assert_eq!(range, Duration::from_secs(300));
        assert_eq!(matchers.len(), 3);
        assert!(matchers[2].matches(Some("503")) && !matchers[2].matches(Some("404")));
        assert!(parse("up").is_ok());
        assert!(parse("{__name__=\"up\"}").is_ok());
        assert!(parse("avg(cpu) without (pod)").is_ok());
        assert!(parse("1 + 2 * 3").is_ok());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        for bad in ["", "5", "m", "5x", "-5m", "1.5h", "99999999999999999999w"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_malformed_queries() {
        for bad in [
            "",
            "sum(",
            "rate(x)",
            "x[5m]",
            "x{a=}",
            "x{a=\"b\"",
            "foo(x)",
            "x{a~\"b\"}",
            "1 +",
            "x{a=~\"(\"}",
            ")",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,60}") {
            let _ = parse(&s);
        }
    }
}
