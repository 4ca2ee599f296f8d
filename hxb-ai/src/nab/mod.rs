//! NAB (Numenta Anomaly Benchmark) evaluation: corpus loading, NAB's exact scoring with its
//! three cost profiles and threshold optimisation, normalisation against the null and perfect
//! detectors, threshold-transfer checks ([`Transfer`]: leave one category out, split half),
//! and an exporter writing NAB's results layout.
//!
//! ```no_run
//! use hxb_ai::detect::{score_points, Composite};
//! use hxb_ai::nab::{Corpus, Evaluator, Profile};
//!
//! let corpus = Corpus::load("../shared/data/nab")?;
//! let scores = corpus
//!     .files
//!     .iter()
//!     .map(|f| score_points(&mut Composite::default(), &f.points()))
//!     .collect::<Vec<_>>();
//! let standard = Evaluator::new().evaluate(&corpus, &scores, &Profile::STANDARD)?;
//! println!("NAB standard: {:.1}", standard.normalized);
//! # Ok::<(), hxb_core::Error>(())
//! ```

mod corpus;
mod export;
mod protocol;
mod scorer;
mod transfer;

pub use corpus::{
    Corpus, DataFile, format_timestamp, parse_csv, parse_timestamp, parse_windows_json,
};
pub use export::{export_results, result_csv};
pub use protocol::{protocol_config, protocol_learning};
pub use scorer::{
    Evaluator, Profile, ProfileScore, SweepRow, ThresholdScore, best_threshold, perfect_scores,
    probationary_length, scaled_sigmoid, score_rows_at, sweep_file, threshold_curve,
};
pub use transfer::Transfer;
