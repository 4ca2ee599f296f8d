//! Cron schedules (the five-field syntax of Kubernetes CronJobs), evaluated in UTC. Pure.
//!
//! Fields: minute `0-59`, hour `0-23`, day of month `1-31`, month `1-12` or `JAN`–`DEC`,
//! day of week `0-7` (0 and 7 are Sunday) or `SUN`–`SAT`. Each field is a comma-separated
//! list of `*`, `n`, `a-b`, optionally with a step `/s` (`*/15`, `1-30/2`, `5/10` = from 5 to
//! the maximum). `?` means `*` in the two day fields. Macros: `@yearly` (`@annually`),
//! `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`. As in Vixie cron and Kubernetes,
//! when both day fields are restricted a time matches if *either* does.
//!
//! The application kind `cron_job` only counts fields (the cluster parses its schedule), so
//! this is the engine's one cron evaluator; it is small enough not to warrant a dependency
//! (the maintained crates, `cron` and `croner`, are built on chrono; hxb uses jiff).

use std::fmt;
use std::str::FromStr;

use hxb_core::{Error, Result, Timestamp};
use jiff::ToSpan;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A parsed cron schedule. `Display` and serde give back the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    source: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    day_star: bool,
    weekday_star: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// How far ahead [`CronSchedule::next_after`] looks (covers 29 February across a skipped
/// leap year).
const HORIZON_YEARS: i16 = 9;

fn bad(source: &str, why: impl fmt::Display) -> Error {
    Error::invalid("schedule", format!("{source:?}: {why}"))
}

fn parse_value(s: &str, names: &[&str], base: u32) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    let up = s.to_ascii_uppercase();
    names.iter().position(|n| *n == up).map(|i| i as u32 + base)
}

/// Parse one field into a bit set of the values `lo..=hi`; also whether it starts with `*`.
fn parse_field(
    source: &str,
    field: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
    name_base: u32,
) -> Result<(u64, bool)> {
    let mut bits = 0u64;
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| bad(source, format!("bad step in {item:?}")))?;
                (r, Some(step))
            }
            None => (item, None),
        };
        let value = |s: &str| {
            parse_value(s, names, name_base)
                .filter(|v| (lo..=hi).contains(v))
                .ok_or_else(|| bad(source, format!("{s:?} is not in {lo}-{hi}")))
        };
        let (a, b) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(bad(source, format!("empty range {range:?}")));
            }
            (a, b)
        } else {
            let a = value(range)?;
            (a, if step.is_some() { hi } else { a })
        };
        let step = step.unwrap_or(1);
        let mut v = a;
        while v <= b {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, field.starts_with('*') || field.starts_with('?')))
}

impl CronSchedule {
    /// Parse a schedule; [`InvalidInput`](hxb_core::ErrorKind::InvalidInput) on bad syntax.
    pub fn parse(source: &str) -> Result<CronSchedule> {
        let s = source.trim();
        let expanded = match s.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            m if m.starts_with('@') => return Err(bad(source, "unknown macro")),
            _ => s,
        };
        let f: Vec<&str> = expanded.split_whitespace().collect();
        if f.len() != 5 {
            return Err(bad(source, format!("needs five fields, has {}", f.len())));
        }
        let (minutes, _) = parse_field(source, f[0], 0, 59, &[], 0)?;
        let (hours, _) = parse_field(source, f[1], 0, 23, &[], 0)?;
        let (days, day_star) = parse_field(source, f[2], 1, 31, &[], 0)?;
        let (months, _) = parse_field(source, f[3], 1, 12, &MONTHS, 1)?;
        let (mut weekdays, weekday_star) = parse_field(source, f[4], 0, 7, &WEEKDAYS, 0)?;
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays | 1) & !(1 << 7);
        }
        Ok(CronSchedule {
            source: source.trim().to_owned(),
            minutes,
            hours,
            days,
            months,
            weekdays,
            day_star,
            weekday_star,
        })
    }

    fn day_matches(&self, d: Date) -> bool {
        let dom = self.days & (1 << d.day()) != 0;
        let dow = self.weekdays & (1 << d.weekday().to_sunday_zero_offset()) != 0;
        if self.day_star || self.weekday_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// Whether the minute starting at civil UTC time `t` is a firing time.
    pub fn matches(&self, t: DateTime) -> bool {
        self.months & (1 << t.month()) != 0
            && self.day_matches(t.date())
            && self.hours & (1 << t.hour()) != 0
            && self.minutes & (1 << t.minute()) != 0
    }

    /// The first firing time strictly after `t`, or `None` if there is none within nine years
    /// (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let start = t.to_zoned(TimeZone::UTC).datetime();
        let mut cur = start
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(1.minute())
            .ok()?;
        let limit = start.year().saturating_add(HORIZON_YEARS);
        while cur.year() <= limit {
            if self.months & (1 << cur.month()) == 0 {
                let first = cur.date().first_of_month().checked_add(1.month()).ok()?;
                cur = first.to_datetime(Time::midnight());
            } else if !self.day_matches(cur.date()) {
                cur = cur.date().tomorrow().ok()?.to_datetime(Time::midnight());
            } else if self.hours & (1 << cur.hour()) == 0 {
                cur = cur
                    .with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(1.hour())
                    .ok()?;
            } else if self.minutes & (1 << cur.minute()) == 0 {
                cur = cur.checked_add(1.minute()).ok()?;
            } else {
                return cur.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp());
            }
        }
        None
    }

    /// The source text.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for CronSchedule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        CronSchedule::parse(s)
    }
}

impl Serialize for CronSchedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for CronSchedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CronSchedule::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn next(expr: &str, after: &str) -> Option<String> {
        CronSchedule::parse(expr)
            .unwrap()
            .next_after(ts(after))
            .map(|t| t.to_string())
    }

    #[test]
    fn common_schedules() {
        let t = "2026-01-01T00:00:00Z"; // a Thursday
        assert_eq!(next("* * * * *", t).unwrap(), "2026-01-01T00:01:00Z");
        assert_eq!(next("*/15 * * * *", t).unwrap(), "2026-01-01T00:15:00Z");
        assert_eq!(next("0 3 * * *", t).unwrap(), "2026-01-01T03:00:00Z");
        assert_eq!(next("@daily", t).unwrap(), "2026-01-02T00:00:00Z");
        assert_eq!(next("@hourly", t).unwrap(), "2026-01-01T01:00:00Z");
        assert_eq!(next("0 0 * * MON", t).unwrap(), "2026-01-05T00:00:00Z");
        assert_eq!(next("0 0 * * 7", t).unwrap(), "2026-01-04T00:00:00Z");
        assert_eq!(next("30 2 1 */3 *", t).unwrap(), "2026-01-01T02:30:00Z");
        assert_eq!(next("0 0 1 feb *", t).unwrap(), "2026-02-01T00:00:00Z");
        assert_eq!(next("0 0 29 2 *", t).unwrap(), "2028-02-29T00:00:00Z");
        assert_eq!(next("0 0 30 2 *", t), None);
        assert_eq!(
            next("0 12 * * *", "2026-01-01T12:00:30Z").unwrap(),
            "2026-01-02T12:00:00Z",
            "strictly after, seconds ignored"
        );
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        // the 13th, or any Friday
        let s = CronSchedule::parse("0 0 13 * 5").unwrap();
        assert_eq!(
            s.next_after(ts("2026-01-01T00:00:00Z"))
                .unwrap()
                .to_string(),
            "2026-01-02T00:00:00Z"
        );
        // only the day of month restricted: the 13th only
        let s = CronSchedule::parse("0 0 13 * *").unwrap();
        assert_eq!(
            s.next_after(ts("2026-01-01T00:00:00Z"))
                .unwrap()
                .to_string(),
            "2026-01-13T00:00:00Z"
        );
    }

    #[test]
    fn bad_schedules_are_invalid_input() {
        for s in [
            "",
            "* * * *",
            "* * * * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "*/0 * * * *",
            "5-1 * * * *",
            "x * * * *",
            "@often",
            "* * * FOO *",
        ] {
            let e = CronSchedule::parse(s).unwrap_err();
            assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput, "{s:?}");
        }
    }

    #[test]
    fn serde_keeps_the_source() {
        let s = CronSchedule::parse("0 3 * * 1-5").unwrap();
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(j, "\"0 3 * * 1-5\"");
        assert_eq!(serde_json::from_str::<CronSchedule>(&j).unwrap(), s);
        assert!(serde_json::from_str::<CronSchedule>("\"bad\"").is_err());
    }

    fn field(max: u32) -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_owned()),
            (0..=max).prop_map(|v| v.to_string()),
            (1..=max.max(1)).prop_map(|s| format!("*/{s}")),
            (0..=max, 0..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        ]
    }

    proptest! {
        #[test]
        fn next_is_the_first_match_after(
            m in field(59), h in field(23), dow in field(6),
            start in 1_767_225_600i64..1_830_000_000,
        ) {
            let expr = format!("{m} {h} * * {dow}");
            let s = CronSchedule::parse(&expr).unwrap();
            let t = Timestamp::from_second(start).unwrap();
            let n = s.next_after(t).expect("every week has a match");
            prop_assert!(n > t);
            let civil = |x: Timestamp| x.to_zoned(TimeZone::UTC).datetime();
            prop_assert!(s.matches(civil(n)));
            prop_assert_eq!(n.as_second() % 60, 0);
            // nothing in between matches (walk minute by minute, bounded to 8 days)
            let mut probe = t.as_second() - t.as_second().rem_euclid(60) + 60;
            while probe < n.as_second() {
                prop_assert!(!s.matches(civil(Timestamp::from_second(probe).unwrap())), "{} matched before {}", probe, n);
                probe += 60;
            }
        }
    }
}
