//! Writing detector output in NAB's results layout so NAB's own scorer can read it:
//! `<out>/<detector>/<category>/<detector>_<file>.csv` with columns
//! `timestamp,value,anomaly_score,label`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use hxb_core::{Error, Result};

use super::corpus::{Corpus, DataFile, format_timestamp};

/// The CSV text NAB expects for one file (label 1 for rows inside a window, as NAB's labeler).
pub fn result_csv(file: &DataFile, scores: &[f64]) -> Result<String> {
    if scores.len() != file.values.len() {
        return Err(Error::invalid(
            file.name.clone(),
            format!(
                "{} anomaly scores for {} rows",
                scores.len(),
                file.values.len()
            ),
        ));
    }
    let mut out = String::with_capacity(file.values.len() * 48);
    out.push_str("timestamp,value,anomaly_score,label\n");
    for ((&t, &v), &s) in file.timestamps.iter().zip(&file.values).zip(scores) {
        let label = u8::from(file.windows.iter().any(|&(a, b)| a <= t && t <= b));
        let _ = writeln!(out, "{},{},{},{}", format_timestamp(t), v, s, label);
    }
    Ok(out)
}

/// Writes every file's scores under `out_dir`; returns the paths written.
///
/// `detector` must be a plain name (letters, digits, `-`); NAB splits result file names on `_`.
pub fn export_results(
    out_dir: impl AsRef<Path>,
    detector: &str,
    corpus: &Corpus,
    scores: &[Vec<f64>],
) -> Result<Vec<PathBuf>> {
    if detector.is_empty()
        || !detector
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Error::invalid(
            "detector",
            "use letters, digits and `-` only (NAB splits names on `_`)",
        ));
    }
    if scores.len() != corpus.files.len() {
        return Err(Error::invalid(
            "scores",
            format!("{} series for {} files", scores.len(), corpus.files.len()),
        ));
    }
    // Render everything first so bad input writes nothing.
    let rendered: Vec<String> = corpus
        .files
        .iter()
        .zip(scores)
        .map(|(f, s)| result_csv(f, s))
        .collect::<Result<_>>()?;
    let mut written = Vec::with_capacity(rendered.len());
    for (file, text) in corpus.files.iter().zip(rendered) {
        let dir = out_dir.as_ref().join(detector).join(file.category());
        fs::create_dir_all(&dir)
            .map_err(|e| Error::backend(format!("creating {}", dir.display()), e))?;
        let path = dir.join(format!("{detector}_{}", file.file_name()));
        fs::write(&path, text)
            .map_err(|e| Error::backend(format!("writing {}", path.display()), e))?;
        written.push(path);
    }
    Ok(written)
}
