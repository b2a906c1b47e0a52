//! Split finding on one leaf's histogram: second-order gain, learned missing direction, and
//! categorical partitions. Gradient boosting and random forests share this one code path (a
//! forest passes gradient `−y` and hessian `1`, which makes the gain the variance reduction).
//!
//! # Gain
//! With gradient and hessian sums `G`, `H` and L2 penalty `λ`, a leaf's optimal value is
//! `−G / (H + λ)` and its loss reduction `G² / (H + λ)` (Chen & Guestrin 2016, eq. 6, without the
//! factor ½ — LightGBM's convention, so `min_split_gain` means what LightGBM's
//! `min_gain_to_split` means). A split's gain is `score(L) + score(R) − score(parent)`.
//!
//! # Missing values
//! Every candidate threshold is tried with the missing bin on the left and on the right, and the
//! better one becomes the node's default direction (XGBoost's sparsity-aware split finding,
//! Chen & Guestrin 2016, Alg. 3). "All present values left, missing right" is a candidate too.
//! When the leaf has no missing rows the default goes to the child with more rows, the best guess
//! for values never seen missing in training.
//!
//! # Categorical features
//! Following LightGBM (Fisher 1958 for the optimality of sorted partitions): with at most
//! `max_cat_to_onehot` levels, each level is tried alone against the rest. Otherwise levels with at
//! least `min_data_per_category` rows are sorted by `G / (H + cat_smooth)` and every prefix of the
//! sorted order (from either end, at most `max_cat_threshold` levels) is a candidate left set,
//! penalised by an extra `cat_l2` in the children's scores; a new candidate is only scored after
//! another `min_data_per_group` rows joined the set. Rare levels always go right with the rest.
//! Missing values again try both sides. The rejected alternative — one-hot columns — makes deep,
//! unreadable trees and loses the joint partition.

use super::binning::{BinMapper, BinnedData};
use super::histogram::Stats;

/// Settings of categorical split search (LightGBM's names and defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct CategoricalParams {
    /// Features with at most this many levels use one-level-versus-rest splits. LightGBM default 4.
    pub max_cat_to_onehot: usize,
    /// Most levels in the left set of a sorted-partition split. LightGBM default 32.
    pub max_cat_threshold: usize,
    /// Added to the hessian sum when sorting levels by `G / (H + cat_smooth)`, shrinking the
    /// ratios of small levels towards 0. LightGBM default 10.
    pub cat_smooth: f64,
    /// Extra L2 penalty in the gain of sorted-partition splits. LightGBM default 10.
    pub cat_l2: f64,
    /// Rows that must join the left set between two scored candidates, and the least rows on the
    /// right. LightGBM default 100.
    pub min_data_per_group: usize,
    /// Levels with fewer rows in the leaf are not sorted and go right. LightGBM default 10 (its
    /// `cat_smooth` doubles as this threshold).
    pub min_data_per_category: usize,
}

impl Default for CategoricalParams {
    fn default() -> Self {
        CategoricalParams {
            max_cat_to_onehot: 4,
            max_cat_threshold: 32,
            cat_smooth: 10.0,
            cat_l2: 10.0,
            min_data_per_group: 100,
            min_data_per_category: 10,
        }
    }
}

impl CategoricalParams {
    /// Exact variance-reduction partitions for random forests: no smoothing, penalty or group
    /// minimum, every level sorted.
    pub(crate) fn unregularised() -> Self {
        CategoricalParams {
            max_cat_to_onehot: 0,
            max_cat_threshold: usize::MAX,
            cat_smooth: 0.0,
            cat_l2: 0.0,
            min_data_per_group: 1,
            min_data_per_category: 1,
        }
    }
}

/// Constraints and penalties of split finding.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SplitParams {
    /// L2 penalty on leaf values.
    pub lambda: f64,
    /// Least hessian sum in a child.
    pub min_child_weight: f64,
    /// Least rows in a child.
    pub min_samples_leaf: f64,
    /// Least gain of a split.
    pub min_split_gain: f64,
    /// Categorical search.
    pub cat: CategoricalParams,
}

/// A leaf's score `G² / (H + λ)`.
#[inline]
pub(crate) fn score(s: Stats, l2: f64) -> f64 {
    let d = s.h + l2;
    if d > 0.0 {
        s.g * s.g / d
    } else {
        0.0
    }
}

/// A leaf's optimal value `−G / (H + λ)` (0 for an empty leaf).
#[inline]
pub(crate) fn leaf_value(s: Stats, l2: f64) -> f64 {
    let d = s.h + l2;
    if d > 0.0 {
        -s.g / d
    } else {
        0.0
    }
}

/// Which value bins go left.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SplitRule {
    /// Numeric: bins `0..=last_left` go left.
    Numeric {
        /// The last value bin on the left.
        last_left: usize,
    },
    /// Categorical: the levels in this bitset (over bins = codes) go left.
    Categorical {
        /// Bitset of left levels.
        left: Vec<u64>,
    },
}

/// The best split of a leaf on one feature.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SplitCandidate {
    /// Gain (see the module docs).
    pub gain: f64,
    /// Feature index.
    pub feature: usize,
    /// Which bins go left.
    pub rule: SplitRule,
    /// Whether the missing bin goes left.
    pub default_left: bool,
    /// Totals of the left child.
    pub left: Stats,
    /// Totals of the right child.
    pub right: Stats,
}

impl SplitCandidate {
    /// Whether a row in `bin` goes left.
    #[inline]
    pub fn goes_left(&self, bin: usize, missing_bin: usize) -> bool {
        if bin == missing_bin {
            return self.default_left;
        }
        match &self.rule {
            SplitRule::Numeric { last_left } => bin <= *last_left,
            SplitRule::Categorical { left } => bit(left, bin),
        }
    }
}

#[inline]
fn bit(words: &[u64], i: usize) -> bool {
    words.get(i / 64).is_some_and(|w| (w >> (i % 64)) & 1 == 1)
}

/// Relative tolerance below which a gain counts as rounding noise (a pure node "improving").
const GAIN_REL_EPS: f64 = 1e-10;

/// The best candidate seen so far for one feature.
struct Best<'p> {
    params: &'p SplitParams,
    parent_score: f64,
    min_gain: f64,
    gain: f64,
    found: Option<(Stats, Stats, bool)>,
}

impl<'p> Best<'p> {
    fn new(params: &'p SplitParams, total: Stats) -> Self {
        let parent_score = score(total, params.lambda);
        Best {
            params,
            parent_score,
            min_gain: params.min_split_gain.max(GAIN_REL_EPS * parent_score.abs()),
            gain: f64::NEG_INFINITY,
            found: None,
        }
    }

    #[inline]
    fn admissible(&self, s: Stats) -> bool {
        s.n >= self.params.min_samples_leaf && s.h >= self.params.min_child_weight
    }

    /// Scores a partition; returns true when it is the new best. `l2` is the children's penalty.
    #[inline]
    fn offer(&mut self, left: Stats, right: Stats, default_left: bool, l2: f64) -> bool {
        if !self.admissible(left) || !self.admissible(right) {
            return false;
        }
        let gain = score(left, l2) + score(right, l2) - self.parent_score;
        if gain > self.min_gain && gain > self.gain {
            self.gain = gain;
            self.found = Some((left, right, default_left));
            true
        } else {
            false
        }
    }
}

/// The best split of a leaf with totals `total` on feature `feature`, whose histogram section is
/// `hist`; `None` when no admissible split gains enough.
pub(crate) fn best_split_for_feature(
    feature: usize,
    hist: &[Stats],
    mapper: &BinMapper,
    total: Stats,
    params: &SplitParams,
) -> Option<SplitCandidate> {
    match mapper {
        BinMapper::Numeric { .. } => numeric(feature, hist, mapper, total, params),
        BinMapper::Categorical { .. } => categorical(feature, hist, mapper, total, params),
    }
}

fn numeric(
    feature: usize,
    hist: &[Stats],
    mapper: &BinMapper,
    total: Stats,
    params: &SplitParams,
) -> Option<SplitCandidate> {
    let n_values = mapper.n_value_bins();
    let missing = hist[mapper.missing_bin()];
    let has_missing = missing.n > 0.0;
    let mut best = Best::new(params, total);
    let mut best_bin = 0usize;
    let mut acc = Stats::default();
    for (s, &b) in hist[..n_values].iter().enumerate() {
        // An empty bin gives the same partition as the previous candidate.
        if b.n == 0.0 {
            continue;
        }
        acc += b;
        let last = s + 1 == n_values;
        if has_missing {
            // missing right (with `last`, the split "present versus missing")
            if best.offer(acc, total - acc, false, params.lambda) {
                best_bin = s;
            }
            if !last && best.offer(acc + missing, total - acc - missing, true, params.lambda) {
                best_bin = s;
            }
        } else if !last {
            let right = total - acc;
            // No missing rows here: send unseen missing values to the bigger child.
            if best.offer(acc, right, acc.n >= right.n, params.lambda) {
                best_bin = s;
            }
        }
    }
    let (left, right, default_left) = best.found?;
    Some(SplitCandidate {
        gain: best.gain,
        feature,
        rule: SplitRule::Numeric {
            last_left: best_bin,
        },
        default_left,
        left,
        right,
    })
}

fn categorical(
    feature: usize,
    hist: &[Stats],
    mapper: &BinMapper,
    total: Stats,
    params: &SplitParams,
) -> Option<SplitCandidate> {
    let cat = &params.cat;
    let n_levels = mapper.n_value_bins();
    let missing = hist[mapper.missing_bin()];
    let has_missing = missing.n > 0.0;
    let mut best = Best::new(params, total);
    // The left set is described by the sorted order and a prefix length (and direction).
    let mut chosen: Vec<usize> = Vec::new();

    if n_levels <= cat.max_cat_to_onehot {
        for (c, &s) in hist[..n_levels].iter().enumerate() {
            if s.n == 0.0 {
                continue;
            }
            let bigger_left = s.n >= total.n - s.n;
            let mut improved = best.offer(s, total - s, !has_missing && bigger_left, params.lambda);
            if has_missing {
                improved |= best.offer(s + missing, total - s - missing, true, params.lambda);
            }
            if improved {
                chosen = vec![c];
            }
        }
    } else {
        let mut sorted: Vec<usize> = (0..n_levels)
            .filter(|&c| hist[c].n >= cat.min_data_per_category as f64 && hist[c].n > 0.0)
            .collect();
        let ratio = |c: usize| hist[c].g / (hist[c].h + cat.cat_smooth);
        // stable sort: ties keep level order, so the result never depends on anything else
        sorted.sort_by(|&a, &b| ratio(a).total_cmp(&ratio(b)));
        let used = sorted.len();
        // LightGBM scans at most half the levels from each end; scanning all of them (still
        // capped by max_cat_threshold) also finds "every present level versus missing".
        let max_left = cat.max_cat_threshold.min(used);
        let l2 = params.lambda + cat.cat_l2;
        let min_group = cat.min_data_per_group as f64;
        for forward in [true, false] {
            let mut acc = Stats::default();
            let mut group = 0.0;
            for i in 0..used.min(max_left) {
                let c = if forward {
                    sorted[i]
                } else {
                    sorted[used - 1 - i]
                };
                acc += hist[c];
                group += hist[c].n;
                let rest = total - acc - missing;
                // the right side must stay a group of its own (with missing rows, or without)
                if rest.n + missing.n < min_group {
                    break;
                }
                if group < min_group {
                    continue;
                }
                group = 0.0;
                let mut improved = false;
                if has_missing {
                    improved |= best.offer(acc, total - acc, false, l2);
                    if rest.n >= min_group {
                        improved |= best.offer(acc + missing, rest, true, l2);
                    }
                } else {
                    let right = total - acc;
                    improved |= best.offer(acc, right, acc.n >= right.n, l2);
                }
                if improved {
                    chosen = (0..=i)
                        .map(|k| {
                            if forward {
                                sorted[k]
                            } else {
                                sorted[used - 1 - k]
                            }
                        })
                        .collect();
                }
            }
        }
    }
    let (left, right, default_left) = best.found?;
    let mut words = vec![0u64; n_levels.div_ceil(64)];
    for c in chosen {
        words[c / 64] |= 1 << (c % 64);
    }
    while words.last() == Some(&0) {
        words.pop();
    }
    Some(SplitCandidate {
        gain: best.gain,
        feature,
        rule: SplitRule::Categorical { left: words },
        default_left,
        left,
        right,
    })
}

/// The best split of a leaf over `features` (ties go to the lower feature index, then to the
/// earlier candidate), given the leaf's histogram.
pub(crate) fn best_split(
    data: &BinnedData,
    features: &[usize],
    hist: &[Stats],
    total: Stats,
    params: &SplitParams,
) -> Option<SplitCandidate> {
    let offsets = data.offsets();
    let mut best: Option<SplitCandidate> = None;
    for &f in features {
        let section = &hist[offsets[f]..offsets[f + 1]];
        if let Some(c) = best_split_for_feature(f, section, data.mapper(f), total, params) {
            if best.as_ref().map_or(true, |b| c.gain > b.gain) {
                best = Some(c);
            }
        }
    }
    best
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
