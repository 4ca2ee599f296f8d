//! What NAB's runner tells every detector before the first point.

use std::time::Duration;

use super::{DataFile, probationary_length};
use crate::detect::{CompositeConfig, RangeHint, ResonanceConfig};

/// A file's probationary period in rows (15 %, at most 750): the learning period under NAB's
/// protocol.
pub fn protocol_learning(file: &DataFile) -> u32 {
    probationary_length(0.15, file.values.len()) as u32
}

/// `config` set up for `file` the way NAB's runner sets up every detector: the file's minimum
/// and maximum as the range hint (`inputMin`/`inputMax`; none for a constant file) and its
/// probationary period as the resonance stage's learning period, in points only (no minimum
/// time), with the resonance settings `shapes`.
///
/// Both are look-aheads over the file that NAB's protocol allows (HTM and contextOSE set their
/// encoders from the range, ARTime sizes its windows from the length); a live stream knows
/// neither, which is why the evaluator reports both ways.
pub fn protocol_config(
    file: &DataFile,
    config: CompositeConfig,
    shapes: ResonanceConfig,
) -> CompositeConfig {
    config.range_hint(RangeHint::of(&file.values)).shapes(Some(
        shapes
            .learning(protocol_learning(file))
            .learning_time(Duration::ZERO),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Composite, Detector, Resonance};

    fn file(rows: usize, value: impl Fn(usize) -> f64) -> DataFile {
        DataFile {
            name: "artificialWithAnomaly/x.csv".into(),
            timestamps: (0..rows as i64).map(|i| i * 300_000).collect(),
            values: (0..rows).map(value).collect(),
            windows: Vec::new(),
        }
    }

    #[test]
    fn the_protocol_hands_over_range_and_probationary_period() {
        let f = file(4032, |i| (i % 7) as f64);
        assert_eq!(protocol_learning(&f), 604);
        assert_eq!(protocol_learning(&file(20_000, |_| 0.0)), 750);
        let c = protocol_config(&f, Composite::builder(), Resonance::builder());
        let mut d = c.build();
        let mut expected = Composite::builder()
            .range_hint(RangeHint::new(0.0, 6.0).ok())
            .shapes(Some(
                Resonance::builder()
                    .learning(604)
                    .learning_time(Duration::ZERO),
            ))
            .build();
        for (i, &v) in f.values.iter().enumerate() {
            assert_eq!(
                d.update(f.timestamps[i], v),
                expected.update(f.timestamps[i], v)
            );
        }
        // A constant file gives no hint.
        let flat = protocol_config(
            &file(100, |_| 3.0),
            Composite::builder(),
            Resonance::builder(),
        );
        assert_eq!(
            flat,
            Composite::builder().shapes(Some(
                Resonance::builder()
                    .learning(15)
                    .learning_time(Duration::ZERO)
            ))
        );
    }
}
