//! Contextual nearest-neighbour novelty over a bounded history of past windows.

use super::robust::Level;
use super::{Calibrator, Clock, Detector, Tick};

/// Distance of the last `window` standardised values to their nearest neighbour among up to
/// `capacity` past windows (one kept every `stride` points, so the history spans
/// `capacity · stride` points), in the spirit of KNN-CAD and contextOSE.
///
/// Values are standardised by a slow robust level/scale before embedding, so the distance is
/// in units of the series' own spread. Windows overlapping the current one are excluded.
/// Raw surprise: `sqrt(min_j ‖w − w_j‖² / window)`. The history is stored dimension-major so
/// the search vectorises; per point it costs `capacity · window` multiply-adds and no
/// allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    window: usize,
    capacity: usize,
    stride: u64,
    level: Level,
    clock: Clock,
    cal: Calibrator,
    /// Last `window` standardised values (ring).
    recent: Vec<f32>,
    recent_head: usize,
    filled: usize,
    /// `bank[k * capacity + j]`: dimension `k` of stored window `j`.
    bank: Vec<f32>,
    /// Point counter at which window `j` was stored.
    stamps: Vec<u64>,
    stored: usize,
    bank_head: usize,
    current: Vec<f32>,
    dist: Vec<f32>,
    n: u64,
}

impl Neighbour {
    /// A detector over windows of `window` points (clamped to 2..=64), `capacity` stored windows
    /// (at least 1), one stored every `stride` points (at least 1).
    pub fn new(window: usize, capacity: usize, stride: u32, cal: Calibrator) -> Self {
        let window = window.clamp(2, 64);
        let capacity = capacity.max(1);
        Neighbour {
            window,
            capacity,
            stride: u64::from(stride.max(1)),
            level: Level::new(0.01, 0.01, 3.0),
            clock: Clock::default(),
            cal,
            recent: vec![0.0; window],
            recent_head: 0,
            filled: 0,
            bank: vec![0.0; window * capacity],
            stamps: vec![0; capacity],
            stored: 0,
            bank_head: 0,
            current: vec![0.0; window],
            dist: vec![0.0; capacity],
            n: 0,
        }
    }

    /// Bytes of heap state; fixed at construction.
    pub fn heap_bytes(&self) -> usize {
        (self.recent.capacity()
            + self.bank.capacity()
            + self.current.capacity()
            + self.dist.capacity())
            * 4
            + self.stamps.capacity() * 8
    }

    fn nearest(&mut self) -> f32 {
        let (w, cap, m) = (self.window, self.capacity, self.stored);
        let dist = &mut self.dist[..m];
        dist.fill(0.0);
        for (k, &c) in self.current.iter().enumerate() {
            let col = &self.bank[k * cap..k * cap + m];
            for (d, &b) in dist.iter_mut().zip(col) {
                let e = b - c;
                *d += e * e;
            }
        }
        let mut best = f32::INFINITY;
        for (j, &d) in dist.iter().enumerate() {
            if d < best && self.n - self.stamps[j] >= w as u64 {
                best = d;
            }
        }
        best
    }
}

impl Default for Neighbour {
    /// Window 8, 96 stored windows, stride 4 (a history of 384 points).
    fn default() -> Self {
        Neighbour::new(8, 96, 4, Calibrator::default())
    }
}

impl Detector for Neighbour {
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        if !value.is_finite() {
            return 0.0;
        }
        match self.clock.tick(t_ms) {
            Tick::Stale => return 0.0,
            Tick::Gap => self.filled = 0,
            Tick::Next => {}
        }
        let s = self.level.scale.max(1e-9 * (1.0 + self.level.mean.abs()));
        let u = if self.level.z(value) == 0.0 {
            0.0
        } else {
            ((value - self.level.mean) / s).clamp(-1e4, 1e4)
        };
        self.level.learn(value);
        self.n += 1;
        self.recent[self.recent_head] = u as f32;
        self.recent_head = (self.recent_head + 1) % self.window;
        self.filled = (self.filled + 1).min(self.window);
        if self.filled < self.window {
            return 0.0;
        }
        let (head, w) = (self.recent_head, self.window);
        for k in 0..w {
            self.current[k] = self.recent[(head + k) % w];
        }
        let best = if self.stored > 0 {
            self.nearest()
        } else {
            f32::INFINITY
        };
        if self.n.is_multiple_of(self.stride) {
            let j = self.bank_head;
            for k in 0..w {
                self.bank[k * self.capacity + j] = self.current[k];
            }
            self.stamps[j] = self.n;
            self.bank_head = (j + 1) % self.capacity;
            self.stored = (self.stored + 1).min(self.capacity);
        }
        if best.is_finite() {
            self.cal.score(f64::from(best / w as f32).sqrt())
        } else {
            0.0
        }
    }

    fn reset(&mut self) {
        let (w, c, s, cal) = (self.window, self.capacity, self.stride as u32, self.cal);
        let mut cal = cal;
        cal.reset();
        *self = Neighbour::new(w, c, s, cal);
    }
}
