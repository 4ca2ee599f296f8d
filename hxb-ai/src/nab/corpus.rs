//! Loading the NAB corpus: `<category>/<name>.csv` data files and `labels/combined_windows.json`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use hxb_core::{Error, Result};

/// One labelled data file of the corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// Path relative to the corpus root, as NAB keys it: `"<category>/<name>.csv"`.
    pub name: String,
    /// Row timestamps, milliseconds since the Unix epoch (the files carry no time zone; UTC is assumed).
    pub timestamps: Vec<i64>,
    /// Row values.
    pub values: Vec<f64>,
    /// Anomaly windows as inclusive `(start, end)` timestamps in milliseconds, in file order.
    pub windows: Vec<(i64, i64)>,
}

impl DataFile {
    /// The category folder, e.g. `"realAWSCloudwatch"`.
    pub fn category(&self) -> &str {
        self.name.split_once('/').map_or("", |(c, _)| c)
    }

    /// The file name without its folder, e.g. `"ec2_cpu_utilization_24ae8d.csv"`.
    pub fn file_name(&self) -> &str {
        self.name.rsplit_once('/').map_or(&self.name, |(_, f)| f)
    }

    /// `(timestamp, value)` pairs, the input of [`crate::detect::score_series`].
    pub fn points(&self) -> Vec<(i64, f64)> {
        self.timestamps
            .iter()
            .copied()
            .zip(self.values.iter().copied())
            .collect()
    }
}

/// A set of labelled data files (the NAB corpus or any corpus in its layout).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Corpus {
    /// The files, sorted by name.
    pub files: Vec<DataFile>,
}

impl Corpus {
    /// Loads every file listed in `<dir>/labels/combined_windows.json` from `<dir>/<name>`.
    ///
    /// Errors: `NotFound` when the label file or a data file is missing, `InvalidInput` when a
    /// file does not parse.
    pub fn load(dir: impl AsRef<Path>) -> Result<Corpus> {
        let dir = dir.as_ref();
        let labels_path = dir.join("labels").join("combined_windows.json");
        let labels = read_text(&labels_path)?;
        let windows = parse_windows_json(&labels)?;
        let mut files = Vec::with_capacity(windows.len());
        for (name, wins) in windows {
            let text = read_text(&dir.join(&name))?;
            let (timestamps, values) = parse_csv(&text).map_err(|e| match e {
                Error::InvalidInput { field, reason } => {
                    Error::invalid(format!("{name}:{field}"), reason)
                }
                other => other,
            })?;
            files.push(DataFile {
                name,
                timestamps,
                values,
                windows: wins,
            });
        }
        Ok(Corpus { files })
    }

    /// Total number of anomaly windows.
    pub fn window_count(&self) -> usize {
        self.files.iter().map(|f| f.windows.len()).sum()
    }

    /// Total number of rows.
    pub fn row_count(&self) -> usize {
        self.files.iter().map(|f| f.values.len()).sum()
    }
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::not_found("file", path.display().to_string())
        } else {
            Error::backend(format!("reading {}", path.display()), e)
        }
    })
}

/// Parses NAB's `combined_windows.json`: `{"cat/file.csv": [["start", "end"], ...]}`.
pub fn parse_windows_json(text: &str) -> Result<BTreeMap<String, Vec<(i64, i64)>>> {
    let raw: BTreeMap<String, Vec<(String, String)>> = serde_json::from_str(text)
        .map_err(|e| Error::invalid("combined_windows.json", e.to_string()))?;
    let mut out = BTreeMap::new();
    for (name, wins) in raw {
        let mut parsed = Vec::with_capacity(wins.len());
        for (a, b) in wins {
            let (a, b) = (parse_timestamp(&a)?, parse_timestamp(&b)?);
            if b < a {
                return Err(Error::invalid(name, "window ends before it starts"));
            }
            parsed.push((a, b));
        }
        out.insert(name, parsed);
    }
    Ok(out)
}

/// Parses a NAB data CSV (`timestamp,value` header, then one row per line).
pub fn parse_csv(text: &str) -> Result<(Vec<i64>, Vec<f64>)> {
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| Error::invalid("csv", "empty file"))?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let ti = cols.iter().position(|c| *c == "timestamp");
    let vi = cols.iter().position(|c| *c == "value");
    let (Some(ti), Some(vi)) = (ti, vi) else {
        return Err(Error::invalid(
            "csv",
            "header must name `timestamp` and `value` columns",
        ));
    };
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let row = n + 2;
        let t = fields
            .get(ti)
            .ok_or_else(|| Error::invalid(format!("line {row}"), "missing timestamp"))?;
        let v = fields
            .get(vi)
            .ok_or_else(|| Error::invalid(format!("line {row}"), "missing value"))?;
        ts.push(parse_timestamp(t.trim())?);
        let v = v.trim();
        vs.push(if v.is_empty() || v.eq_ignore_ascii_case("nan") {
            f64::NAN
        } else {
            v.parse()
                .map_err(|_| Error::invalid(format!("line {row}"), format!("bad value `{v}`")))?
        });
    }
    Ok((ts, vs))
}

/// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with `T`) as UTC milliseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Result<i64> {
    let bad = || {
        Error::invalid(
            "timestamp",
            format!("expected `YYYY-MM-DD HH:MM:SS`, got `{s}`"),
        )
    };
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return Err(bad());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64> {
        let part = s.get(r).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<i64>().map_err(|_| bad())
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Err(bad());
    }
    let mut ms = 0i64;
    if b.len() > 19 {
        if b[19] != b'.' {
            return Err(bad());
        }
        let frac = s.get(20..).ok_or_else(bad)?;
        if frac.is_empty() || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        ms = digits.parse().map_err(|_| bad())?;
    }
    let days = days_from_civil(y, mo, d);
    Ok(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Formats milliseconds since the epoch as NAB does in result files: `YYYY-MM-DD HH:MM:SS`.
pub fn format_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2014-02-14 14:30:00").unwrap();
        assert_eq!(t, 1_392_388_200_000);
        assert_eq!(format_timestamp(t), "2014-02-14 14:30:00");
        assert_eq!(parse_timestamp("2014-02-14 14:30:00.000000").unwrap(), t);
        assert_eq!(parse_timestamp("1970-01-01 00:00:00").unwrap(), 0);
        assert_eq!(
            format_timestamp(parse_timestamp("2000-02-29 23:59:59").unwrap()),
            "2000-02-29 23:59:59"
        );
    }

    #[test]
    fn bad_timestamps_are_invalid_input() {
        for s in [
            "",
            "2014-02-14",
            "2014/02/14 14:30:00",
            "2014-13-01 00:00:00",
            "2014-02-14 14:30:00.x",
        ] {
            let e = parse_timestamp(s).unwrap_err();
            assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput, "{s}");
        }
    }

    #[test]
    fn csv_and_windows_parse() {
        let (t, v) =
            parse_csv("timestamp,value\n2014-01-01 00:00:00,1.5\n2014-01-01 00:05:00,nan\n")
                .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(v[0], 1.5);
        assert!(v[1].is_nan());
        assert!(parse_csv("time,val\n").is_err());
        assert!(parse_csv("timestamp,value\n2014-01-01 00:00:00,abc\n").is_err());
        let w = parse_windows_json(
            r#"{"a/b.csv": [["2014-01-01 00:00:00.000000", "2014-01-01 00:10:00.000000"]], "a/c.csv": []}"#,
        )
        .unwrap();
        assert_eq!(
            w["a/b.csv"],
            vec![(1_388_534_400_000, 1_388_534_400_000 + 600_000)]
        );
        assert!(w["a/c.csv"].is_empty());
    }
}
