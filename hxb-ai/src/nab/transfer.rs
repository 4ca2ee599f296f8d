//! Threshold transfer: does a threshold chosen on one part of a corpus hold on another?
//!
//! NAB optimises one threshold per detector and profile over the whole corpus. Scores on a
//! subset say little about held-out data unless that threshold also transfers, so the
//! evaluation reports two checks: leave one category out (threshold from the other
//! categories) and split half (within a category, files alternately in halves A and B).

use hxb_core::{Error, Result};

use super::{Corpus, Evaluator, Profile, ProfileScore};

/// A threshold optimised on some files and applied to others.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    /// The files the threshold was optimised on, scored at it.
    pub tuned: ProfileScore,
    /// The other files at that threshold.
    pub transferred: ProfileScore,
    /// The other files at their own optimised threshold (what a perfect transfer would give).
    pub own: ProfileScore,
}

impl Transfer {
    /// The threshold chosen on the tuning files.
    pub fn threshold(&self) -> f64 {
        self.tuned.best.threshold
    }
}

impl Corpus {
    /// The category folders, sorted, each once.
    pub fn categories(&self) -> Vec<&str> {
        let mut cats: Vec<&str> = self.files.iter().map(|f| f.category()).collect();
        cats.sort_unstable();
        cats.dedup();
        cats
    }

    /// The files at `indices`, in that order (an index past the end is an `InvalidInput`
    /// error).
    pub fn subset(&self, indices: &[usize]) -> Result<Corpus> {
        let files = indices
            .iter()
            .map(|&i| {
                self.files.get(i).cloned().ok_or_else(|| {
                    Error::invalid("indices", format!("{i} is not below {}", self.files.len()))
                })
            })
            .collect::<Result<_>>()?;
        Ok(Corpus { files })
    }

    /// Indices of `category`'s files alternately in halves A (even positions in name order)
    /// and B (odd).
    pub fn halves(&self, category: &str) -> [Vec<usize>; 2] {
        let mut halves = [Vec::new(), Vec::new()];
        let files = (0..self.files.len()).filter(|&i| self.files[i].category() == category);
        for (k, i) in files.enumerate() {
            halves[k % 2].push(i);
        }
        halves
    }
}

impl Evaluator {
    /// Optimises the threshold for `profile` on the files at `tune` and scores the files at
    /// `report` at it (and at their own optimum). `scores` has one series per corpus file.
    ///
    /// Errors: `InvalidInput` when `scores` does not match the corpus, an index is out of
    /// range, or either part is empty.
    pub fn transfer(
        &self,
        corpus: &Corpus,
        scores: &[Vec<f64>],
        profile: &Profile,
        tune: &[usize],
        report: &[usize],
    ) -> Result<Transfer> {
        super::scorer::check_scores(corpus, scores)?;
        if tune.is_empty() || report.is_empty() {
            return Err(Error::invalid(
                "files",
                "both the tuning and the reported part need a file",
            ));
        }
        let part = |idx: &[usize]| -> Result<(Corpus, Vec<Vec<f64>>)> {
            let c = corpus.subset(idx)?;
            Ok((c, idx.iter().map(|&i| scores[i].clone()).collect()))
        };
        let ((tc, ts), (rc, rs)) = (part(tune)?, part(report)?);
        let tuned = self.evaluate(&tc, &ts, profile)?;
        let transferred = self.evaluate_at(&rc, &rs, profile, tuned.best.threshold)?;
        let own = self.evaluate(&rc, &rs, profile)?;
        Ok(Transfer {
            tuned,
            transferred,
            own,
        })
    }

    /// Leave one category out: for each category (sorted), the threshold optimised on all the
    /// others, applied to it. Needs at least two categories.
    pub fn leave_one_category_out(
        &self,
        corpus: &Corpus,
        scores: &[Vec<f64>],
        profile: &Profile,
    ) -> Result<Vec<(String, Transfer)>> {
        corpus
            .categories()
            .into_iter()
            .map(|cat| {
                let (held, rest): (Vec<usize>, Vec<usize>) =
                    (0..corpus.files.len()).partition(|&i| corpus.files[i].category() == cat);
                Ok((
                    cat.to_string(),
                    self.transfer(corpus, scores, profile, &rest, &held)?,
                ))
            })
            .collect()
    }

    /// Split half within `category` ([`Corpus::halves`]): the threshold of half A applied to
    /// half B, and B's to A. Needs at least two files in the category.
    pub fn split_half(
        &self,
        corpus: &Corpus,
        scores: &[Vec<f64>],
        profile: &Profile,
        category: &str,
    ) -> Result<[Transfer; 2]> {
        let [a, b] = corpus.halves(category);
        Ok([
            self.transfer(corpus, scores, profile, &a, &b)?,
            self.transfer(corpus, scores, profile, &b, &a)?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nab::DataFile;

    /// 200 rows a minute apart with one window over rows 100..=110.
    fn file(name: &str) -> DataFile {
        DataFile {
            name: name.into(),
            timestamps: (0..200).map(|i| i * 60_000).collect(),
            values: vec![0.0; 200],
            windows: vec![(100 * 60_000, 110 * 60_000)],
        }
    }

    /// A detector that fires at `level` on the window's first row and at 0.5 on row 150.
    fn fires(level: f64) -> Vec<f64> {
        let mut s = vec![0.0; 200];
        s[100] = level;
        s[150] = 0.5;
        s
    }

    fn corpus() -> Corpus {
        Corpus {
            files: vec![
                file("a/1.csv"),
                file("a/2.csv"),
                file("b/1.csv"),
                file("b/2.csv"),
                file("b/3.csv"),
            ],
        }
    }

    #[test]
    fn categories_halves_and_subsets() {
        let c = corpus();
        assert_eq!(c.categories(), vec!["a", "b"]);
        assert_eq!(c.halves("b"), [vec![2, 4], vec![3]]);
        assert!(c.halves("none").iter().all(Vec::is_empty));
        assert_eq!(c.subset(&[4, 0]).unwrap().files[1].name, "a/1.csv");
        let e = c.subset(&[5]).unwrap_err();
        assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_threshold_that_transfers_scores_like_the_own_optimum() {
        let c = corpus();
        let ev = Evaluator::new();
        // Category a detects its windows at 0.9, category b only at 0.3, below the false
        // alarm at 0.5: a's threshold (above 0.5) misses every window of b.
        let scores: Vec<Vec<f64>> = c
            .files
            .iter()
            .map(|f| fires(if f.category() == "a" { 0.9 } else { 0.3 }))
            .collect();
        let loco = ev
            .leave_one_category_out(&c, &scores, &Profile::STANDARD)
            .unwrap();
        assert_eq!(loco.len(), 2);
        let (name, b) = &loco[1];
        assert_eq!(name, "b");
        assert!(b.threshold() > 0.5, "{}", b.threshold());
        // Every window missed, no false alarm: exactly the null detector.
        assert_eq!(b.transferred.normalized, 0.0, "{b:?}");
        assert!(b.own.normalized > 50.0, "{b:?}");
        // Within b every file is alike: the threshold transfers exactly.
        let [ab, ba] = ev.split_half(&c, &scores, &Profile::STANDARD, "b").unwrap();
        for t in [ab, ba] {
            assert_eq!(t.transferred.normalized, t.own.normalized);
        }
    }

    #[test]
    fn bad_parts_are_invalid_input() {
        let c = corpus();
        let ev = Evaluator::new();
        let scores: Vec<Vec<f64>> = c.files.iter().map(|_| fires(0.9)).collect();
        for (tune, report) in [(vec![], vec![1]), (vec![0], vec![]), (vec![0], vec![9])] {
            let e = ev
                .transfer(&c, &scores, &Profile::STANDARD, &tune, &report)
                .unwrap_err();
            assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput);
        }
        let e = ev
            .transfer(&c, &scores[..2], &Profile::STANDARD, &[0], &[1])
            .unwrap_err();
        assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput);
        let e = ev
            .split_half(&c, &scores, &Profile::STANDARD, "none")
            .unwrap_err();
        assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput);
    }
}
