//! Load profiles: deterministic synthetic traffic for simulated workloads — a diurnal cycle
//! with noise, plus incidents injected on demand (memory leak, traffic spike, crash loop).
//!
//! A profile is a pure function of time: `profile.at(t)` gives the same [`LoadPoint`] for the
//! same seed and time, whatever was asked before, so simulations reproduce exactly and can be
//! sampled at any resolution.
//!
//! ```
//! use hxb_core::metrics::load::{Incident, LoadProfile};
//! let day = 86_400_000;
//! let p = LoadProfile::diurnal(100.0, 0.6).seed(7).incident(Incident::TrafficSpike {
//!     start_ms: day / 2, duration_ms: 600_000, factor: 5.0,
//! });
//! let calm = p.at(day / 2 - 3_600_000).requests_per_s;
//! let spike = p.at(day / 2 + 60_000).requests_per_s;
//! assert!(spike > 3.0 * calm);
//! ```

use serde::{Deserialize, Serialize};

/// Something that goes wrong, on purpose.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Incident {
    /// Memory grows steadily from `start_ms` until the pod would be OOM-killed and restarts.
    MemoryLeak {
        /// When the leak starts (ms since the profile's origin).
        start_ms: i64,
        /// Leak rate in MiB per hour.
        mib_per_hour: f64,
    },
    /// Traffic multiplied by `factor` for `duration_ms`.
    TrafficSpike {
        /// Start (ms).
        start_ms: i64,
        /// Length (ms).
        duration_ms: i64,
        /// Multiplier (> 1).
        factor: f64,
    },
    /// The workload crashes and restarts every `period_ms` for `duration_ms`.
    CrashLoop {
        /// Start (ms).
        start_ms: i64,
        /// Length (ms).
        duration_ms: i64,
        /// Time between restarts (ms).
        period_ms: i64,
    },
}

/// The state of a workload at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    /// Incoming requests per second.
    pub requests_per_s: f64,
    /// CPU demand in cores (at `cpu_per_request` cores per request/s plus a base).
    pub cpu_cores: f64,
    /// Memory working set in MiB.
    pub memory_mib: f64,
    /// Restarts so far caused by incidents.
    pub restarts: u32,
    /// Whether the workload is up at this instant.
    pub up: bool,
}

/// A deterministic load profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadProfile {
    base_rps: f64,
    amplitude: f64,
    peak_hour: f64,
    noise: f64,
    seed: u64,
    cpu_per_request: f64,
    cpu_base: f64,
    memory_base_mib: f64,
    memory_limit_mib: f64,
    incidents: Vec<Incident>,
}

const DAY_MS: f64 = 86_400_000.0;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A standard normal deviate that depends only on `(seed, key)` (Box–Muller on two hashes).
fn gauss(seed: u64, key: u64) -> f64 {
    let a = splitmix(seed ^ splitmix(key));
    let b = splitmix(a);
    let u1 = ((a >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = ((b >> 11) as f64) / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl LoadProfile {
    /// A daily cycle around `base_rps` requests/s swinging by `amplitude` (0..1) of it, peaking
    /// at 14:00, with 5% noise.
    pub fn diurnal(base_rps: f64, amplitude: f64) -> Self {
        LoadProfile {
            base_rps: base_rps.max(0.0),
            amplitude: amplitude.clamp(0.0, 1.0),
            peak_hour: 14.0,
            noise: 0.05,
            seed: 0,
            cpu_per_request: 0.01,
            cpu_base: 0.05,
            memory_base_mib: 256.0,
            memory_limit_mib: 1024.0,
            incidents: Vec::new(),
        }
    }

    /// Seed of the noise.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Relative noise (standard deviation as a fraction of the level).
    pub fn noise(mut self, noise: f64) -> Self {
        self.noise = noise.max(0.0);
        self
    }

    /// Hour of day (0-24) of the peak.
    pub fn peak_hour(mut self, h: f64) -> Self {
        self.peak_hour = h.rem_euclid(24.0);
        self
    }

    /// CPU model: `cores = base + per_request × requests/s`.
    pub fn cpu(mut self, base: f64, per_request: f64) -> Self {
        self.cpu_base = base.max(0.0);
        self.cpu_per_request = per_request.max(0.0);
        self
    }

    /// Memory model: a base working set and the limit at which a leak OOM-kills the pod.
    pub fn memory(mut self, base_mib: f64, limit_mib: f64) -> Self {
        self.memory_base_mib = base_mib.max(0.0);
        self.memory_limit_mib = limit_mib.max(self.memory_base_mib + 1.0);
        self
    }

    /// Inject an incident.
    pub fn incident(mut self, i: Incident) -> Self {
        self.incidents.push(i);
        self
    }

    /// The incidents injected.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// The noiseless demand at `t_ms` (what a perfect forecaster would predict).
    pub fn expected_rps(&self, t_ms: i64) -> f64 {
        let hour = (t_ms as f64).rem_euclid(DAY_MS) / 3_600_000.0;
        let phase = (hour - self.peak_hour) / 24.0 * std::f64::consts::TAU;
        self.base_rps * (1.0 + self.amplitude * phase.cos())
    }

    /// The workload's state at `t_ms` (milliseconds since the profile's origin).
    pub fn at(&self, t_ms: i64) -> LoadPoint {
        // Noise is piecewise constant per minute so sampling at any resolution agrees.
        let minute = t_ms.div_euclid(60_000) as u64;
        let mut rps =
            self.expected_rps(t_ms) * (1.0 + self.noise * gauss(self.seed, minute)).max(0.0);
        let mut memory =
            self.memory_base_mib * (1.0 + 0.4 * self.noise * gauss(self.seed ^ 0xA5A5, minute));
        let mut restarts = 0u32;
        let mut up = true;
        for i in &self.incidents {
            match *i {
                Incident::TrafficSpike {
                    start_ms,
                    duration_ms,
                    factor,
                } if t_ms >= start_ms && t_ms < start_ms + duration_ms => {
                    rps *= factor.max(1.0);
                }
                Incident::MemoryLeak {
                    start_ms,
                    mib_per_hour,
                } if t_ms >= start_ms && mib_per_hour > 0.0 => {
                    let grown = (t_ms - start_ms) as f64 / 3_600_000.0 * mib_per_hour;
                    let room = self.memory_limit_mib - self.memory_base_mib;
                    let cycles = (grown / room).floor();
                    restarts += cycles as u32;
                    memory += grown - cycles * room;
                }
                Incident::CrashLoop {
                    start_ms,
                    duration_ms,
                    period_ms,
                } if period_ms > 0 && t_ms >= start_ms => {
                    let end = t_ms.min(start_ms + duration_ms);
                    restarts += ((end - start_ms) / period_ms) as u32;
                    if t_ms < start_ms + duration_ms {
                        // Down for the first third of every period.
                        up = (t_ms - start_ms) % period_ms >= period_ms / 3;
                    }
                }
                _ => {}
            }
        }
        if !up {
            rps = 0.0;
            memory = 0.0;
        }
        let cpu = if up {
            self.cpu_base + self.cpu_per_request * rps
        } else {
            0.0
        };
        LoadPoint {
            requests_per_s: rps,
            cpu_cores: cpu,
            memory_mib: memory,
            restarts,
            up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_diurnal() {
        let p = LoadProfile::diurnal(100.0, 0.5).seed(3);
        assert_eq!(p.at(123_456), p.at(123_456));
        let peak = p.expected_rps(14 * 3_600_000);
        let trough = p.expected_rps(2 * 3_600_000);
        assert!((peak - 150.0).abs() < 1e-9 && (trough - 50.0).abs() < 1e-9);
        let other = LoadProfile::diurnal(100.0, 0.5).seed(4);
        assert_ne!(p.at(0).requests_per_s, other.at(0).requests_per_s);
        // Noise is ~5%: the mean over a day stays near the base.
        let mean: f64 = (0..1440)
            .map(|m| p.at(m * 60_000).requests_per_s)
            .sum::<f64>()
            / 1440.0;
        assert!((mean - 100.0).abs() < 3.0, "{mean}");
    }

    #[test]
    fn incidents_show_up() {
        let h = 3_600_000;
        let p = LoadProfile::diurnal(10.0, 0.0)
            .noise(0.0)
            .memory(256.0, 512.0)
            .incident(Incident::MemoryLeak {
                start_ms: h,
                mib_per_hour: 128.0,
            })
            .incident(Incident::CrashLoop {
                start_ms: 10 * h,
                duration_ms: h,
                period_ms: 300_000,
            });
        assert!((p.at(h).memory_mib - 256.0).abs() < 1e-6);
        assert!((p.at(2 * h).memory_mib - 384.0).abs() < 1e-6);
        assert_eq!(p.at(3 * h + 1).restarts, 1); // hit the 512 MiB limit after 2 h
        assert!(!p.at(10 * h + 1).up);
        assert!(p.at(10 * h + 200_000).up);
        // 12 crash-loop restarts (one per 5 min for an hour) + 1 leak restart (every 2 h).
        assert_eq!(p.at(12 * h).restarts - p.at(9 * h).restarts, 13);
    }
}
