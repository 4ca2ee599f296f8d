//! Contextual anomaly detection after NAB's contextOSE ("Contextual Anomaly Detector, Open
//! Source Edition", M. Smirnov, 2016), re-implemented from its published description and
//! behaviour with a bounded context memory and a streaming value range.
//!
//! Each value is quantised to `2^bits` levels and encoded as `bits` sensor facts (bit index and
//! bit value). A *context* pairs a left fact set (the previous step's sensor facts plus the
//! facts of the most active contexts, the "neurons") with a right fact set (sensor facts it
//! predicts). Each step the detector
//!
//! 1. checks whether the zero-level context (previous left group, current sensor facts) is
//!    known, storing it if not;
//! 2. updates every context whose left part fully matched last step: how often its right part
//!    was predicted and how much of it occurred; contexts whose right part fully occurs are
//!    *active*; partial overlaps of zero-level contexts propose new, smaller contexts;
//! 3. builds the next left group from the current sensor facts and the `max_active` most
//!    often activated active contexts, stores the proposed contexts, and predicts the right
//!    facts of the fully matching contexts with the best prediction record.
//!
//! The score of a point whose facts were not all predicted is
//! `(1 − active/selected + new/proposed) / 2`: the share of the contexts expecting this moment
//! that failed, plus the share of this moment's contexts never seen before. A rest period
//! reports 0 while a score of at least `rest_level` was seen in the last `rest` points.
//!
//! Differences from the original, all for streaming use in bounded memory: the value range is
//! the running minimum and maximum (NAB hands contextOSE the whole file's range in advance);
//! at most `max_contexts` contexts are stored (when full, new contexts are still counted as new
//! but not stored); ties between equally active contexts are broken by a hash of their facts
//! rather than Python's tuple hash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::Detector;

/// A fast, deterministic multiplicative hasher for small integer keys (FxHash's scheme): the
/// keys are the detector's own fact ids, never attacker-chosen strings.
#[derive(Debug, Clone, Copy, Default)]
struct Fx(u64);

impl Fx {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

const SENSOR_BASE: u32 = 65_536;
const NEURON_BASE: u32 = 1 << 31;

/// A stored half of a context (a sorted fact set) and its overlap with the current facts.
#[derive(Debug, Clone, PartialEq, Default)]
struct Semi {
    facts: Vec<u32>,
    /// Facts of this semi-context present in the last crossing (sorted).
    crossed: Vec<u32>,
    /// Left semi-contexts only: (right semi-context, context) in insertion order.
    contexts: Vec<(u32, u32)>,
    hash: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Context {
    /// Sum of the right part's sizes over the steps the left part fully matched.
    selected: u32,
    /// Sum of the right part's matched facts over those steps.
    predicted: u32,
    /// Steps on which the context was active (left and right fully matched).
    activations: u32,
    right: u32,
    zero_level: bool,
    left_hash: u64,
    right_hash: u64,
}

/// The context memory (left and right semi-contexts, contexts) with a fixed capacity.
#[derive(Debug, Clone, PartialEq)]
struct Memory {
    max_contexts: usize,
    max_left: usize,
    semis: [Vec<Semi>; 2],
    semi_ids: [FxMap<Vec<u32>, u32>; 2],
    fact_index: [FxMap<u32, Vec<u32>>; 2],
    crossed: [Vec<u32>; 2],
    /// Left semi-contexts by their largest fact (0 for an empty one): a semi-context is fully
    /// contained in a fact set only if its largest fact is in it.
    by_max: FxMap<u32, Vec<u32>>,
    /// Left semi-contexts fully contained in the current left group (ascending ids).
    full: Vec<u32>,
    /// Left semi-contexts that existed when `full` was computed (the lazy full crossing of a
    /// step that proposes contexts must see the same ones).
    left_limit: u32,
    contexts: Vec<Context>,
    /// The zero-level context stored this step (Python's `False` compares equal to 0, so the
    /// original skips context 0 when none was stored; kept for fidelity).
    new_context: u32,
}

fn fact_hash(facts: &[u32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &f in facts {
        h = (h ^ u64::from(f)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Memory {
    fn new(max_contexts: usize, max_left: usize) -> Self {
        Memory {
            max_contexts,
            max_left,
            semis: [Vec::new(), Vec::new()],
            semi_ids: [FxMap::default(), FxMap::default()],
            fact_index: [FxMap::default(), FxMap::default()],
            crossed: [Vec::new(), Vec::new()],
            by_max: FxMap::default(),
            full: Vec::new(),
            left_limit: 0,
            contexts: Vec::new(),
            new_context: 0,
        }
    }

    fn semi(&mut self, side: usize, facts: &[u32]) -> u32 {
        if let Some(&id) = self.semi_ids[side].get(facts) {
            return id;
        }
        let id = self.semis[side].len() as u32;
        self.semi_ids[side].insert(facts.to_vec(), id);
        for &f in facts {
            self.fact_index[side].entry(f).or_default().push(id);
        }
        if side == 0 {
            let top = facts.iter().copied().max().unwrap_or(0);
            self.by_max.entry(top).or_default().push(id);
        }
        self.semis[side].push(Semi {
            facts: facts.to_vec(),
            hash: fact_hash(facts),
            ..Semi::default()
        });
        id
    }

    /// Finds or stores the context `(left, right)`; `Some(true)` if it is new (stored or, with
    /// a full memory, merely counted), `Some(false)` if known.
    fn context(&mut self, left: &[u32], right: &[u32], zero_level: bool) -> bool {
        let known = self.semi_ids[0]
            .get(left)
            .zip(self.semi_ids[1].get(right))
            .and_then(|(&l, &r)| {
                self.semis[0][l as usize]
                    .contexts
                    .iter()
                    .find(|c| c.0 == r)
                    .map(|c| c.1)
            });
        if let Some(id) = known {
            if zero_level {
                self.contexts[id as usize].zero_level = true;
            }
            return false;
        }
        if self.contexts.len() >= self.max_contexts {
            return true;
        }
        let l = self.semi(0, left);
        let r = self.semi(1, right);
        let id = self.contexts.len() as u32;
        self.semis[0][l as usize].contexts.push((r, id));
        self.contexts.push(Context {
            selected: 0,
            predicted: 0,
            activations: 0,
            right: r,
            zero_level,
            left_hash: self.semis[0][l as usize].hash,
            right_hash: self.semis[1][r as usize].hash,
        });
        if zero_level {
            self.new_context = id;
        }
        true
    }

    /// The left semi-contexts fully contained in `group` (sorted, deduplicated) into `full`.
    fn match_full(&mut self, group: &[u32]) {
        self.full.clear();
        self.left_limit = self.semis[0].len() as u32;
        for f in std::iter::once(0).chain(group.iter().copied()) {
            if let Some(ids) = self.by_max.get(&f) {
                for &id in ids {
                    let facts = &self.semis[0][id as usize].facts;
                    if facts.iter().all(|x| group.binary_search(x).is_ok()) {
                        self.full.push(id);
                    }
                }
            }
        }
        self.full.sort_unstable();
    }

    /// Records which facts of `facts` each semi-context of `side` with an id below `limit`
    /// contains.
    fn cross(&mut self, side: usize, facts: &[u32], limit: u32) {
        for &id in &self.crossed[side] {
            self.semis[side][id as usize].crossed.clear();
        }
        self.crossed[side].clear();
        for &f in facts {
            if let Some(ids) = self.fact_index[side].get(&f) {
                for &id in ids {
                    if id >= limit {
                        continue;
                    }
                    let s = &mut self.semis[side][id as usize];
                    if s.crossed.is_empty() {
                        self.crossed[side].push(id);
                    }
                    s.crossed.push(f);
                }
            }
        }
        // Ascending ids: a scan is cheaper than a sort when most semi-contexts were touched.
        let semis = &self.semis[side];
        let crossed = &mut self.crossed[side];
        let end = limit.min(semis.len() as u32);
        if crossed.len() * 8 > end as usize {
            crossed.clear();
            crossed.extend((0..end).filter(|&id| !semis[id as usize].crossed.is_empty()));
        } else {
            crossed.sort_unstable();
        }
    }
}

/// Per-step working buffers, kept to avoid allocating on every point (not state: they are
/// cleared before use, so they never affect equality).
#[derive(Debug, Clone, Default)]
struct Scratch {
    /// Fact storage of the proposed contexts.
    arena: Vec<u32>,
    /// Proposed contexts: (start in `arena`, left length, right length); the first one is the
    /// zero-level context when there is a left group.
    pairs: Vec<(u32, u32, u32)>,
    order: Vec<u32>,
    /// Active contexts: (id, activations, left hash, right hash).
    active: Vec<(u32, u32, u64, u64)>,
    predicting: Vec<u32>,
}

impl PartialEq for Scratch {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Scratch {
    fn push(&mut self, left: &[u32], right: &[u32]) {
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(left);
        self.arena.extend_from_slice(right);
        self.pairs
            .push((start, left.len() as u32, right.len() as u32));
    }

    fn pair(&self, i: usize) -> (&[u32], &[u32]) {
        let (s, l, r) = self.pairs[i];
        let (s, l, r) = (s as usize, l as usize, r as usize);
        (&self.arena[s..s + l], &self.arena[s + l..s + l + r])
    }

    /// Distinct pairs among `pairs`.
    fn unique(&mut self) -> usize {
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(0..self.pairs.len() as u32);
        order.sort_unstable_by(|&a, &b| self.pair(a as usize).cmp(&self.pair(b as usize)));
        let distinct = 1 + order
            .windows(2)
            .filter(|w| self.pair(w[0] as usize) != self.pair(w[1] as usize))
            .count();
        self.order = order;
        if self.pairs.is_empty() { 0 } else { distinct }
    }
}

/// Contextual anomaly detector after contextOSE (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct ContextOse {
    bits: u32,
    max_active: usize,
    rest: usize,
    rest_level: f64,
    mem: Memory,
    left_group: Vec<u32>,
    predicted: Vec<u32>,
    min: f64,
    max: f64,
    seen: bool,
    fixed: bool,
    last_t: Option<i64>,
    /// Last `rest` raw scores (ring buffer) for the rest period.
    history: Vec<f64>,
    pos: usize,
    raw: f64,
    scratch: Scratch,
}

impl Default for ContextOse {
    fn default() -> Self {
        ContextOse::new(3, 15, 7, 4096, 120, 0.75)
    }
}

impl ContextOse {
    /// A detector with `bits` bits per value (`2^bits` levels), `max_active` neuron facts,
    /// left semi-contexts of at most `max_left` facts proposed as new, at most `max_contexts`
    /// stored contexts, and a rest period of `rest` points after a raw score ≥ `rest_level`
    /// (0 disables it). contextOSE's settings are `3, 15, 7, ∞, probation/5, 0.75`.
    pub fn new(
        bits: u32,
        max_active: usize,
        max_left: usize,
        max_contexts: usize,
        rest: usize,
        rest_level: f64,
    ) -> Self {
        let bits = bits.clamp(1, 8);
        ContextOse {
            bits,
            max_active,
            rest,
            rest_level,
            mem: Memory::new(max_contexts.max(1), max_left),
            left_group: Vec::new(),
            predicted: Vec::new(),
            min: 0.0,
            max: 0.0,
            seen: false,
            fixed: false,
            last_t: None,
            history: vec![1.0; rest],
            pos: 0,
            raw: 0.0,
            scratch: Scratch::default(),
        }
    }

    /// Fixes the value range in advance instead of tracking the running minimum and maximum
    /// (a [`RangeHint`](super::RangeHint); NAB hands contextOSE the whole file's range).
    /// Values outside it are clamped to its ends.
    pub fn with_range(mut self, min: f64, max: f64) -> Self {
        (self.min, self.max, self.seen, self.fixed) = (min, max, true, true);
        self
    }

    /// The last score before the rest period (in `[0, 1]`).
    pub fn raw(&self) -> f64 {
        self.raw
    }

    /// Approximate bytes of state: the struct plus its heap (grows until `max_contexts`
    /// contexts are stored, then stays bounded).
    pub fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        let m = &self.mem;
        let semis: usize = m
            .semis
            .iter()
            .flatten()
            .map(|s| {
                size_of::<Semi>()
                    + 4 * (s.facts.capacity() + s.crossed.capacity())
                    + 8 * s.contexts.capacity()
            })
            .sum();
        let keys: usize = m
            .semi_ids
            .iter()
            .flat_map(|h| h.keys())
            .map(|k| 4 * k.len() + 40)
            .sum();
        let index: usize = m
            .fact_index
            .iter()
            .flat_map(|h| h.values())
            .map(|v| 4 * v.capacity() + 40)
            .sum();
        size_of::<Self>()
            + semis
            + keys
            + index
            + size_of::<Context>() * m.contexts.capacity()
            + 4 * (m.crossed[0].capacity() + m.crossed[1].capacity() + m.full.capacity())
            + m.by_max
                .values()
                .map(|v| 4 * v.capacity() + 40)
                .sum::<usize>()
            + 8 * self.history.capacity()
    }

    /// Number of stored contexts (at most `max_contexts`).
    pub fn contexts(&self) -> usize {
        self.mem.contexts.len()
    }

    /// The sensor facts of `value` (the first `bits` entries).
    fn sensor_facts(&self, value: f64) -> [u32; 8] {
        let top = f64::from((1u32 << self.bits) - 1);
        let range = self.max - self.min;
        let step = if range > 0.0 { range / top } else { 1.0 };
        let level = ((value - self.min) / step).clamp(0.0, top) as u32;
        let mut facts = [0u32; 8];
        for b in 0..self.bits {
            facts[b as usize] = SENSOR_BASE + b * 2 + ((level >> b) & 1);
        }
        facts
    }

    /// One step of the context machine: stores this step's predictions in `self.predicted`
    /// and returns (active share, new share).
    fn step(&mut self, sensors: &[u32]) -> (f64, f64) {
        let mut sc = std::mem::take(&mut self.scratch);
        sc.arena.clear();
        sc.pairs.clear();
        sc.active.clear();
        let has_left = !self.left_group.is_empty();
        let new_flag = if has_left {
            sc.push(&self.left_group, sensors);
            self.mem.context(&self.left_group, sensors, true)
        } else {
            false
        };

        // Right crossing with the current facts, then update the contexts selected last step:
        // those fully matched by the last left group and, only on a step that proposes new
        // contexts, the partially matched ones too (the full left crossing, done lazily).
        self.mem.cross(1, sensors, u32::MAX);
        if new_flag {
            let limit = self.mem.left_limit;
            self.mem.cross(0, &self.left_group, limit);
        }
        let mut selected = 0u32;
        let skip = self.mem.new_context;
        let Memory {
            semis,
            contexts,
            crossed,
            full: full_ids,
            max_left,
            ..
        } = &mut self.mem;
        let [left_semis, right_semis] = semis;
        let ids = if new_flag { &crossed[0] } else { &*full_ids };
        for &l in ids {
            let ls = &left_semis[l as usize];
            let full = !new_flag || ls.facts.len() == ls.crossed.len();
            for &(r, id) in &ls.contexts {
                if id == skip {
                    continue;
                }
                let c = &mut contexts[id as usize];
                let rs = &right_semis[r as usize];
                let (rlen, rcount) = (rs.facts.len() as u32, rs.crossed.len() as u32);
                let propose = c.zero_level && new_flag && ls.crossed.len() <= *max_left;
                if full {
                    selected += 1;
                    c.selected += rlen;
                    if rcount > 0 {
                        c.predicted += rcount;
                        if rlen == rcount {
                            c.activations += 1;
                            sc.active
                                .push((id, c.activations, c.left_hash, c.right_hash));
                        } else if propose {
                            sc.push(&ls.crossed, &rs.crossed);
                        }
                    }
                } else if propose && rcount > 0 {
                    sc.push(&ls.crossed, &rs.crossed);
                }
            }
        }
        self.mem.new_context = 0;

        // Only the share of new contexts needs the distinct count, and only on a new moment.
        let unique = if new_flag { sc.unique() } else { 0 };
        let active_share = if selected > 0 {
            sc.active.len() as f64 / f64::from(selected)
        } else {
            0.0
        };

        sc.active.sort_unstable_by_key(|a| (a.1, a.2, a.3));
        let group = &mut self.left_group;
        group.clear();
        group.extend_from_slice(sensors);
        let from = sc.active.len().saturating_sub(self.max_active);
        group.extend(sc.active[from..].iter().map(|a| NEURON_BASE + a.0));
        group.sort_unstable();
        group.dedup();

        // Store the proposed contexts, cross the new left group and predict.
        let mut new_count = 0u32;
        for i in usize::from(has_left)..sc.pairs.len() {
            let (l, r) = sc.pair(i);
            if self.mem.context(l, r, false) {
                new_count += 1;
            }
        }
        self.mem.match_full(&self.left_group);
        let mut best = 0.0f64;
        sc.predicting.clear();
        for &l in &self.mem.full {
            let ls = &self.mem.semis[0][l as usize];
            for &(_, id) in &ls.contexts {
                let c = &self.mem.contexts[id as usize];
                let w = if c.selected > 0 {
                    f64::from(c.predicted) / f64::from(c.selected)
                } else {
                    0.0
                };
                if w > best {
                    best = w;
                    sc.predicting.clear();
                    sc.predicting.push(id);
                } else if w == best {
                    sc.predicting.push(id);
                }
            }
        }
        self.predicted.clear();
        for &id in &sc.predicting {
            let r = self.mem.contexts[id as usize].right;
            self.predicted
                .extend_from_slice(&self.mem.semis[1][r as usize].facts);
        }
        self.predicted.sort_unstable();
        self.predicted.dedup();
        self.scratch = sc;

        if new_flag {
            new_count += 1;
        }
        let new_share = if new_flag && unique > 0 {
            f64::from(new_count) / unique as f64
        } else {
            0.0
        };
        (active_share, new_share)
    }
}

impl Detector for ContextOse {
    fn update(&mut self, t_ms: i64, value: f64) -> f64 {
        if !value.is_finite() || self.last_t.is_some_and(|t| t_ms <= t) {
            return 0.0;
        }
        self.last_t = Some(t_ms);
        // A fixed range is `seen` from the start and never moves.
        if !self.seen {
            (self.min, self.max, self.seen) = (value, value, true);
        } else if !self.fixed {
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        let facts = self.sensor_facts(value);
        let sensors = &facts[..self.bits as usize];
        let missed = sensors
            .iter()
            .any(|f| self.predicted.binary_search(f).is_err());
        let (active, new) = self.step(sensors);
        let raw = if missed {
            ((1.0 - active + new) / 2.0).clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.raw = raw;
        if self.rest == 0 {
            return raw;
        }
        let resting = self.history.iter().any(|&h| h >= self.rest_level);
        self.history[self.pos] = raw;
        self.pos = (self.pos + 1) % self.rest;
        if resting { 0.0 } else { raw }
    }

    fn reset(&mut self) {
        let mem = Memory::new(self.mem.max_contexts, self.mem.max_left);
        // A range fixed in advance (a hint) is configuration and survives the reset.
        let (min, max, seen) = if self.fixed {
            (self.min, self.max, true)
        } else {
            (0.0, 0.0, false)
        };
        *self = ContextOse {
            mem,
            left_group: Vec::new(),
            predicted: Vec::new(),
            min,
            max,
            seen,
            last_t: None,
            history: vec![1.0; self.rest],
            pos: 0,
            raw: 0.0,
            scratch: Scratch::default(),
            ..*self
        };
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const STEP: i64 = 300_000;

    #[test]
    fn learns_a_repeating_pattern_and_flags_a_new_value() {
        let mut d = ContextOse::new(3, 15, 7, 4096, 0, 0.75);
        let pattern = [0.0, 2.0, 5.0, 7.0, 3.0];
        let mut last = 1.0;
        for i in 0..500 {
            last = d.update(i * STEP, pattern[i as usize % pattern.len()]);
        }
        assert_eq!(last, 0.0, "a learnt pattern is fully predicted");
        // A value out of turn breaks the prediction.
        assert!(d.update(500 * STEP, 7.0) > 0.0);
    }

    #[test]
    fn bad_points_score_zero_and_change_nothing() {
        let mut d = ContextOse::default();
        for i in 0..50 {
            d.update(i * STEP, (i % 7) as f64);
        }
        let before = d.clone();
        assert_eq!(d.update(50 * STEP, f64::NAN), 0.0);
        assert_eq!(d.update(49 * STEP, 1.0), 0.0);
        assert_eq!(d.update(10 * STEP, 1.0), 0.0);
        assert_eq!(d, before);
    }

    #[test]
    fn rest_period_silences_after_a_high_score() {
        let mut d = ContextOse::new(3, 15, 7, 4096, 10, 0.75);
        // Every point within `rest` points of a raw score ≥ 0.75 reports 0 (the history starts
        // full, so the first `rest` points rest too); a high raw score outside a rest period is
        // reported as it is.
        let (mut last_high, mut reported) = (-1i64, 0);
        for i in 0..400 {
            // A learnt cycle broken by a run of values out of turn.
            let v = if (300..305).contains(&i) {
                10.0
            } else {
                (i * 37 % 11) as f64
            };
            let s = d.update(i * STEP, v);
            if i - last_high <= 10 {
                assert_eq!(s, 0.0, "point {i} is in the rest period");
            } else {
                assert_eq!(s, d.raw(), "point {i} is not in the rest period");
                reported += usize::from(s >= 0.75);
            }
            if d.raw() >= 0.75 {
                last_high = i;
            }
        }
        assert!(reported > 0, "no high score outside a rest period");
    }

    #[test]
    fn scratch_counts_distinct_pairs() {
        let mut sc = Scratch::default();
        assert_eq!(sc.unique(), 0);
        sc.push(&[1, 2], &[3]);
        sc.push(&[1], &[2, 3]);
        sc.push(&[1, 2], &[3]);
        sc.push(&[], &[3]);
        assert_eq!(sc.pair(1), (&[1][..], &[2, 3][..]));
        assert_eq!(sc.unique(), 3);
    }

    #[test]
    fn fx_hash_depends_on_every_fact() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let b = BuildHasherDefault::<Fx>::default();
        let h = |v: &[u32]| b.hash_one(v);
        assert_ne!(h(&[1, 2, 3]), h(&[1, 2, 4]));
        assert_ne!(h(&[1, 2]), h(&[2, 1]));
        assert_ne!(h(&[1]), h(&[1, 0]));
    }

    #[test]
    fn reset_keeps_a_fixed_range() {
        let mut d = ContextOse::new(3, 15, 7, 64, 5, 0.75).with_range(0.0, 10.0);
        let fresh = d.clone();
        for i in 0..300 {
            d.update(i * STEP, (i % 13) as f64);
        }
        d.reset();
        assert_eq!(d, fresh);
    }

    #[test]
    fn reset_is_a_fresh_detector() {
        let mut d = ContextOse::new(3, 15, 7, 64, 5, 0.75);
        let fresh = d.clone();
        for i in 0..300 {
            d.update(i * STEP, (i % 13) as f64);
        }
        d.reset();
        assert_eq!(d, fresh);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Scores stay in [0, 1] and the memory never holds more than `max_contexts`.
        #[test]
        fn bounded_scores_and_memory(
            values in proptest::collection::vec(-1e6f64..1e6, 1..400),
            cap in 1usize..200,
            bits in 1u32..5,
        ) {
            let mut d = ContextOse::new(bits, 15, 7, cap, 0, 0.75);
            for (i, &v) in values.iter().enumerate() {
                let s = d.update(i as i64 * STEP, v);
                prop_assert!((0.0..=1.0).contains(&s));
                prop_assert!(d.contexts() <= cap);
            }
        }
    }
}
