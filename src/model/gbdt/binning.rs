//! Binning: every feature value becomes a small integer bin before training.
//!
//! Histogram split finding (LightGBM, Ke et al. 2017; XGBoost `hist`, Chen & Guestrin 2016)
//! evaluates splits only between bins, which turns the per-node sort of exact greedy search into
//! one linear pass over a histogram of at most `max_bin + 1` entries.
//!
//! # Numeric features
//! The distinct training values are cut into at most `max_bin` bins of roughly equal row counts
//! (quantile binning). With at most `max_bin` distinct values every value gets its own bin. Cuts
//! lie halfway between adjacent distinct values — as LightGBM does — so that new values falling in
//! a gap go to the nearer side. A value with more rows than a bin's share gets a bin of its own.
//! Bin `b` holds the values `x` with `#{cuts <= x} == b`, hence a split "bins `0..=s` go left" is
//! exactly the tree rule `x < cuts[s]` (see [`crate::model::tree`]) — no rounding between how the
//! trainer partitions rows and how the saved tree routes them.
//!
//! # Categorical features
//! The bin is the level index itself, so a category set over bins is a category set over codes.
//!
//! # Missing values
//! Every feature has one extra, last bin for `NaN`. The split finder tries sending it left and
//! right (learned default direction), as XGBoost's sparsity-aware split finding does.
//!
//! Bins are stored feature-major as `u16` (`bins[f * n_rows + r]`): histogram building walks one
//! feature column at a time. `u8` would halve the memory traffic but cap categorical features at
//! 255 levels; at tabular sizes the columns stay in cache either way.

use ndarray::ArrayView2;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{FeatureKind, FeatureSchema};
use crate::model::{ModelError, Result};

/// Rows sampled to choose the cuts of numeric features (LightGBM's `bin_construct_sample_cnt`).
const BIN_SAMPLE_ROWS: usize = 200_000;

/// Most bins a feature may have: bins are `u16` and one is reserved for missing values.
pub(crate) const MAX_BINS: usize = u16::MAX as usize - 1;

/// How one feature's values map to bins.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum BinMapper {
    /// Numeric: value bins are separated by strictly increasing cuts.
    Numeric {
        /// Bin `b` holds the values with exactly `b` cuts `<= x`.
        cuts: Vec<f64>,
    },
    /// Categorical: the bin is the level code.
    Categorical {
        /// Number of levels (value bins).
        n_levels: usize,
    },
}

impl BinMapper {
    /// Number of bins holding values (the missing bin excluded).
    pub fn n_value_bins(&self) -> usize {
        match self {
            BinMapper::Numeric { cuts } => cuts.len() + 1,
            BinMapper::Categorical { n_levels } => *n_levels,
        }
    }

    /// The bin of missing values: the last one.
    pub fn missing_bin(&self) -> usize {
        self.n_value_bins()
    }

    /// Bins including the missing bin.
    pub fn n_bins(&self) -> usize {
        self.n_value_bins() + 1
    }

    /// The tree threshold of a numeric split that sends value bins `0..=last_left` left:
    /// `x < threshold` holds exactly for those bins. When every value bin goes left (a
    /// "missing versus present" split) the threshold is `f64::MAX` — not infinity, which JSON
    /// cannot represent.
    pub fn threshold_after(&self, last_left: usize) -> f64 {
        match self {
            BinMapper::Numeric { cuts } => cuts.get(last_left).copied().unwrap_or(f64::MAX),
            BinMapper::Categorical { .. } => f64::NAN,
        }
    }

    /// Cuts for numeric values (`NaN`s excluded by the caller): quantile bins of roughly equal
    /// counts, at most `max_bin` of them.
    pub fn numeric(mut values: Vec<f64>, max_bin: usize) -> BinMapper {
        values.sort_by(f64::total_cmp);
        let mut distinct: Vec<f64> = Vec::new();
        let mut counts: Vec<usize> = Vec::new();
        for v in values {
            // -0.0 and 0.0 compare equal under `<`, so they must share a bin
            if distinct.last().is_some_and(|&l| l == v) {
                *counts.last_mut().expect("a distinct value exists") += 1;
            } else {
                distinct.push(v);
                counts.push(1);
            }
        }
        let mut cuts = Vec::new();
        if distinct.len() <= max_bin {
            for w in distinct.windows(2) {
                cuts.push(midpoint(w[0], w[1]));
            }
            return BinMapper::Numeric { cuts };
        }
        // Greedy equal-frequency cuts; the target share is recomputed after each bin so that
        // heavy values (which get a bin of their own) do not starve the rest.
        let mut rest: usize = counts.iter().sum();
        let mut bins_left = max_bin;
        let mut acc = 0usize;
        for i in 0..distinct.len() - 1 {
            acc += counts[i];
            if bins_left <= 1 {
                break;
            }
            let share = rest as f64 / bins_left as f64;
            if acc as f64 >= share || counts[i + 1] as f64 >= share {
                cuts.push(midpoint(distinct[i], distinct[i + 1]));
                rest -= acc;
                acc = 0;
                bins_left -= 1;
            }
        }
        BinMapper::Numeric { cuts }
    }

    /// The bin of a value. Categorical codes must be valid (checked when binning the data).
    #[inline]
    pub fn bin(&self, x: f64) -> usize {
        if x.is_nan() {
            return self.missing_bin();
        }
        match self {
            BinMapper::Numeric { cuts } => cuts.partition_point(|&c| c <= x),
            BinMapper::Categorical { .. } => x as usize,
        }
    }
}

/// A cut `m` with `a < m <= b` (for `a < b`), halfway when representable.
fn midpoint(a: f64, b: f64) -> f64 {
    let mut m = a + (b - a) * 0.5;
    if !m.is_finite() {
        m = a * 0.5 + b * 0.5;
    }
    if m > a && m <= b {
        m
    } else {
        b
    }
}

/// The training rows' bins, feature-major, with each feature's mapper and histogram offsets.
#[derive(Clone, Debug)]
pub(crate) struct BinnedData {
    n_rows: usize,
    bins: Vec<u16>,
    mappers: Vec<BinMapper>,
    offsets: Vec<usize>,
}

impl BinnedData {
    /// Bins the rows `rows` of `x` (rows × features, `NaN` = missing) described by `schema`. Cuts
    /// of numeric features come from at most [`BIN_SAMPLE_ROWS`] rows, sampled with `seed`.
    ///
    /// # Errors
    /// A categorical value that is not a valid level code, or a feature with more than
    /// [`MAX_BINS`] levels.
    pub fn new(
        x: ArrayView2<f64>,
        rows: &[usize],
        schema: &FeatureSchema,
        max_bin: usize,
        seed: u64,
    ) -> Result<BinnedData> {
        BinnedData::with_cuts_from(x, rows, rows, schema, max_bin, seed)
    }

    /// As [`BinnedData::new`], but the cuts of numeric features come from the rows `cut_rows`
    /// (a superset of `rows`, ascending) while only `rows` are binned: the binning is then a
    /// fixed feature transform fitted on `cut_rows`, as in leave-one-out retraining with the
    /// preprocessing held fixed.
    ///
    /// # Errors
    /// As [`BinnedData::new`].
    pub fn with_cuts_from(
        x: ArrayView2<f64>,
        rows: &[usize],
        cut_rows: &[usize],
        schema: &FeatureSchema,
        max_bin: usize,
        seed: u64,
    ) -> Result<BinnedData> {
        let n = rows.len();
        let sample_rows: Vec<usize> = if cut_rows.len() > BIN_SAMPLE_ROWS {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut picked = sample(&mut rng, cut_rows.len(), BIN_SAMPLE_ROWS).into_vec();
            picked.sort_unstable();
            picked.into_iter().map(|i| cut_rows[i]).collect()
        } else {
            cut_rows.to_vec()
        };
        let mut mappers = Vec::with_capacity(schema.len());
        for (j, feature) in schema.features().iter().enumerate() {
            let col = x.column(j);
            let mapper = match &feature.kind {
                FeatureKind::Numeric => {
                    let values: Vec<f64> = sample_rows
                        .iter()
                        .map(|&r| col[r])
                        .filter(|v| !v.is_nan())
                        .collect();
                    BinMapper::numeric(values, max_bin)
                }
                kind => {
                    let mut n_levels = match kind {
                        FeatureKind::Categorical { levels } => levels.len(),
                        _ => 0,
                    };
                    for &r in rows {
                        let v = col[r];
                        if v.is_nan() {
                            continue;
                        }
                        let bad_code = v < 0.0 || v.fract() != 0.0 || v >= MAX_BINS as f64;
                        let out_of_levels =
                            matches!(kind, FeatureKind::Categorical { .. }) && v >= n_levels as f64;
                        if bad_code || out_of_levels {
                            return Err(ModelError::Training(format!(
                                "feature '{}', row {}: {v} is not a valid category code (expected an integer in 0..{})",
                                feature.name,
                                r + 1,
                                if n_levels > 0 { n_levels } else { MAX_BINS }
                            )));
                        }
                        n_levels = n_levels.max(v as usize + 1);
                    }
                    BinMapper::Categorical {
                        n_levels: n_levels.max(1),
                    }
                }
            };
            mappers.push(mapper);
        }
        let mut offsets = Vec::with_capacity(mappers.len() + 1);
        offsets.push(0);
        for m in &mappers {
            offsets.push(offsets.last().copied().unwrap_or(0) + m.n_bins());
        }
        let mut bins = vec![0u16; n * mappers.len()];
        for (j, (m, out)) in mappers.iter().zip(bins.chunks_mut(n.max(1))).enumerate() {
            let col = x.column(j);
            for (dst, &r) in out.iter_mut().zip(rows) {
                // bins fit in u16: at most MAX_BINS value bins plus the missing bin
                *dst = m.bin(col[r]) as u16;
            }
        }
        Ok(BinnedData {
            n_rows: n,
            bins,
            mappers,
            offsets,
        })
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.mappers.len()
    }

    /// The bins of feature `f`, one per row.
    #[inline]
    pub fn column(&self, f: usize) -> &[u16] {
        &self.bins[f * self.n_rows..(f + 1) * self.n_rows]
    }

    /// The mapper of feature `f`.
    pub fn mapper(&self, f: usize) -> &BinMapper {
        &self.mappers[f]
    }

    /// Histogram offsets: feature `f` owns `offsets[f]..offsets[f + 1]`.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Bins over all features (the length of a histogram).
    pub fn total_bins(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::Feature;
    use ndarray::Array2;

    /// Bins a small matrix given as rows; `categorical[j]` marks category-code columns.
    pub(crate) fn binned<const F: usize>(
        x: &[[f64; F]],
        categorical: &[bool],
        max_bin: usize,
    ) -> BinnedData {
        let (m, schema) = matrix(x, categorical);
        let rows: Vec<usize> = (0..x.len()).collect();
        BinnedData::new(m.view(), &rows, &schema, max_bin, 0).unwrap()
    }

    pub(crate) fn matrix<const F: usize>(
        x: &[[f64; F]],
        categorical: &[bool],
    ) -> (Array2<f64>, FeatureSchema) {
        let m = Array2::from_shape_fn((x.len(), F), |(i, j)| x[i][j]);
        let schema = FeatureSchema::new(
            (0..F)
                .map(|j| Feature {
                    name: format!("f{j}"),
                    kind: if categorical[j] {
                        FeatureKind::CategoryCode
                    } else {
                        FeatureKind::Numeric
                    },
                })
                .collect(),
        );
        (m, schema)
    }

    #[test]
    fn few_distinct_values_get_one_bin_each_with_midpoint_cuts() {
        let m = BinMapper::numeric(vec![3.0, 1.0, 2.0, 2.0, 1.0], 255);
        assert_eq!(
            m,
            BinMapper::Numeric {
                cuts: vec![1.5, 2.5]
            }
        );
        assert_eq!(m.bin(1.0), 0);
        assert_eq!(m.bin(1.5), 1);
        assert_eq!(m.bin(2.0), 1);
        assert_eq!(m.bin(9.0), 2);
        assert_eq!(m.bin(f64::NAN), 3);
        assert_eq!(m.n_bins(), 4);
    }

    #[test]
    fn split_on_bins_equals_tree_threshold_rule() {
        // bins 0..=s go left  <=>  x < threshold_after(s), for every value
        let values: Vec<f64> = (0..1000).map(|i| ((i * 37) % 101) as f64 * 0.25).collect();
        let m = BinMapper::numeric(values.clone(), 16);
        for s in 0..m.n_value_bins() {
            let t = m.threshold_after(s);
            for &v in &values {
                assert_eq!(m.bin(v) <= s, v < t, "value {v}, last left bin {s}");
            }
        }
    }

    #[test]
    fn quantile_bins_have_similar_counts() {
        let values: Vec<f64> = (0..10_000).map(|i| (i as f64).sqrt()).collect();
        let m = BinMapper::numeric(values.clone(), 10);
        assert_eq!(m.n_value_bins(), 10);
        let mut counts = vec![0usize; m.n_bins()];
        for &v in &values {
            counts[m.bin(v)] += 1;
        }
        for &c in &counts[..10] {
            assert!((900..=1100).contains(&c), "bin counts {counts:?}");
        }
    }

    #[test]
    fn heavy_value_gets_its_own_bin() {
        let mut values: Vec<f64> = (0..100).map(|i| i as f64).collect();
        values.extend(std::iter::repeat(50.0).take(1000));
        let m = BinMapper::numeric(values, 8);
        let b = m.bin(50.0);
        assert!(m.bin(49.0) < b && m.bin(51.0) > b, "{m:?}");
    }

    #[test]
    fn adjacent_floats_still_separate() {
        let a = 1.0f64;
        let b = f64::from_bits(a.to_bits() + 1);
        let m = BinMapper::numeric(vec![a, b], 255);
        assert_ne!(m.bin(a), m.bin(b));
        let m = BinMapper::numeric(vec![-f64::MAX, f64::MAX], 255);
        assert_ne!(m.bin(-f64::MAX), m.bin(f64::MAX));
    }

    #[test]
    fn categorical_codes_are_bins_and_bad_codes_are_errors() {
        let data = binned(&[[0.0], [3.0], [f64::NAN]], &[true], 255);
        assert_eq!(data.mapper(0).n_value_bins(), 4);
        assert_eq!(data.column(0), &[0, 3, 4]);
        let (m, schema) = matrix(&[[0.5]], &[true]);
        let err = BinnedData::new(m.view(), &[0], &schema, 255, 0).unwrap_err();
        assert!(err.to_string().contains("feature 'f0', row 1"), "{err}");
    }
}
