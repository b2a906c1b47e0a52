//! Background sets for interventional explainers: rows with weights, and how a large background
//! is summarised.
//!
//! Kernel SHAP costs one model evaluation per background row per coalition, so a background of
//! 1000 rows is 10× dearer than one of 100. shap's answer is `shap.kmeans`: k-means centres
//! weighted by cluster size. We do the same, with two changes that matter on tabular data with
//! categories and missing values:
//!
//! * **k-prototypes** (Huang 1998) instead of plain k-means: numeric features are compared in
//!   standard-deviation units (plain k-means lets the widest column — income, say — decide
//!   everything), categorical features by mismatch (0 or 1). A categorical centre is the cluster's
//!   most frequent level, never a meaningless average of level codes.
//! * **Missing values stay missing**: a missing value differs from any present value by 1, and a
//!   centre coordinate is missing when most of its cluster is. (A mean over the present values
//!   would silently remove missingness from the background, which tree models route separately.)
//!
//! Numeric centres are cluster means (shap additionally snaps them to the nearest observed value;
//! we do not: any value is a valid model input, and snapping biases the background mean).
//!
//! Initialisation is k-means++ from a seeded ChaCha8 stream, and assignment runs in parallel over
//! rows with results written in place, so the summary is bit-identical at any thread count.
//! Backgrounds above [`MAX_CLUSTER_ROWS`] are first subsampled (seeded) to bound the cost.
//!
//! The alternative summary, [`SummaryMethod::Sample`], keeps a seeded uniform sample of real rows
//! with equal weights: unbiased for the background mean, noisier than k-means for the same size.

use ndarray::{Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::data::FeatureSchema;
use crate::explain::{ExplainError, Result};

/// Backgrounds larger than this are subsampled to this many rows before clustering.
pub const MAX_CLUSTER_ROWS: usize = 20_000;

/// Lloyd iterations at most.
const MAX_ITER: usize = 50;

/// How a background larger than the requested size is reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SummaryMethod {
    /// Weighted k-prototypes centres (the default).
    KMeans,
    /// A seeded uniform sample of rows, equal weights.
    Sample,
}

/// Background rows with weights that sum to one.
#[derive(Clone, Debug, PartialEq)]
pub struct Background {
    x: Array2<f64>,
    weights: Vec<f64>,
}

impl Background {
    /// All rows, equal weights.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] for an empty background.
    pub fn uniform(x: Array2<f64>) -> Result<Background> {
        let n = x.nrows();
        Background::weighted(x, vec![1.0; n])
    }

    /// Rows with weights (normalised to sum to one).
    ///
    /// # Errors
    /// [`ExplainError::Shape`] for an empty background or a weight count that differs from the
    /// row count; [`ExplainError::InvalidParam`] for a negative, non-finite or all-zero weight.
    pub fn weighted(x: Array2<f64>, weights: Vec<f64>) -> Result<Background> {
        if x.nrows() == 0 {
            return Err(ExplainError::Shape(
                "the background has no rows: pass a --background file with at least one row".into(),
            ));
        }
        if weights.len() != x.nrows() {
            return Err(ExplainError::Shape(format!(
                "{} background weights for {} rows",
                weights.len(),
                x.nrows()
            )));
        }
        let total: f64 = weights.iter().sum();
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || !(total > 0.0) {
            return Err(ExplainError::InvalidParam {
                name: "background weights",
                value: format!("sum {total}"),
                reason: "weights must be finite, non-negative and not all zero".into(),
            });
        }
        let x = x.as_standard_layout().into_owned();
        Ok(Background {
            x,
            weights: weights.iter().map(|w| w / total).collect(),
        })
    }

    /// Summarises `x` to at most `size` rows with `method` (all rows when there are no more
    /// than `size`).
    ///
    /// # Errors
    /// As [`Background::weighted`]; [`ExplainError::InvalidParam`] for `size` = 0.
    pub fn summarise(
        x: ArrayView2<f64>,
        schema: &FeatureSchema,
        size: usize,
        method: SummaryMethod,
        seed: u64,
    ) -> Result<Background> {
        if size == 0 {
            return Err(ExplainError::InvalidParam {
                name: "background size",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        if x.nrows() <= size {
            return Background::uniform(x.to_owned());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        match method {
            SummaryMethod::Sample => {
                let idx = sample_indices(x.nrows(), size, &mut rng);
                Background::uniform(x.select(Axis(0), &idx))
            }
            SummaryMethod::KMeans => {
                let sub = (x.nrows() > MAX_CLUSTER_ROWS).then(|| {
                    let idx = sample_indices(x.nrows(), MAX_CLUSTER_ROWS, &mut rng);
                    x.select(Axis(0), &idx)
                });
                let xs = match &sub {
                    Some(s) => s.view(),
                    None => x.view(),
                };
                let categorical: Vec<bool> = schema
                    .features()
                    .iter()
                    .map(|f| f.kind.is_categorical())
                    .collect();
                let (centres, weights) = k_prototypes(xs, &categorical, size, &mut rng);
                Background::weighted(centres, weights)
            }
        }
    }

    /// The rows (standard layout).
    pub fn x(&self) -> ArrayView2<'_, f64> {
        self.x.view()
    }

    /// The weights, summing to one.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    /// Always false (a background has at least one row).
    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }
}

/// `k` distinct indices of `0..n` in increasing order (partial Fisher–Yates).
fn sample_indices(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = rng.gen_range(i..n);
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx.sort_unstable();
    idx
}

/// Mixed distance of the module docs. `scale` is 1/sd for numeric features.
#[inline]
fn distance(a: &[f64], b: &[f64], categorical: &[bool], scale: &[f64]) -> f64 {
    let mut d = 0.0;
    for j in 0..a.len() {
        let (u, v) = (a[j], b[j]);
        d += match (u.is_nan(), v.is_nan()) {
            (true, true) => 0.0,
            (true, false) | (false, true) => 1.0,
            (false, false) if categorical[j] => f64::from(u != v),
            (false, false) => {
                let t = (u - v) * scale[j];
                t * t
            }
        };
    }
    d
}

/// Weighted k-prototypes: centres (≤ k rows) and their weights (cluster shares).
fn k_prototypes(
    x: ArrayView2<f64>,
    categorical: &[bool],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> (Array2<f64>, Vec<f64>) {
    let (n, m) = x.dim();
    let x = x.as_standard_layout();
    let rows: Vec<&[f64]> = x
        .axis_iter(Axis(0))
        .map(|r| r.to_slice().unwrap_or(&[]))
        .collect();
    // 1/sd of each numeric feature over present values (1 when constant or all missing).
    let scale: Vec<f64> = (0..m)
        .map(|j| {
            let vals: Vec<f64> = x
                .column(j)
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .collect();
            if vals.len() < 2 {
                return 1.0;
            }
            let mean = vals.iter().sum::<f64>() / vals.len() as f64;
            let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / vals.len() as f64;
            if var > 0.0 {
                1.0 / var.sqrt()
            } else {
                1.0
            }
        })
        .collect();

    // k-means++ seeding (Arthur & Vassilvitskii 2007).
    let mut centres: Vec<f64> = Vec::with_capacity(k * m);
    centres.extend_from_slice(rows[rng.gen_range(0..n)]);
    let mut nearest: Vec<f64> = rows
        .iter()
        .map(|r| distance(r, &centres[..m], categorical, &scale))
        .collect();
    while centres.len() / m < k {
        let total: f64 = nearest.iter().sum();
        if !(total > 0.0) {
            break; // fewer distinct rows than k
        }
        let target = rng.gen::<f64>() * total;
        let mut acc = 0.0;
        let mut pick = n - 1;
        for (i, d) in nearest.iter().enumerate() {
            acc += d;
            if acc > target && *d > 0.0 {
                pick = i;
                break;
            }
        }
        let c = centres.len() / m;
        centres.extend_from_slice(rows[pick]);
        let new = &centres[c * m..(c + 1) * m];
        for (d, r) in nearest.iter_mut().zip(&rows) {
            *d = d.min(distance(r, new, categorical, &scale));
        }
    }
    let mut kc = centres.len() / m;

    // Lloyd iterations: parallel assignment written in place, sequential update.
    let mut assign = vec![usize::MAX; n];
    let mut next = vec![0usize; n];
    for _ in 0..MAX_ITER {
        next.par_iter_mut().zip(rows.par_iter()).for_each(|(a, r)| {
            let mut best = (f64::INFINITY, 0);
            for c in 0..kc {
                let d = distance(r, &centres[c * m..(c + 1) * m], categorical, &scale);
                if d < best.0 {
                    best = (d, c);
                }
            }
            *a = best.1;
        });
        if next == assign {
            break;
        }
        std::mem::swap(&mut assign, &mut next);
        let (new_centres, counts) = update(&rows, &assign, kc, categorical);
        // Drop empty clusters (k-means++ makes them rare) and renumber.
        let keep: Vec<usize> = (0..kc).filter(|&c| counts[c] > 0).collect();
        if keep.len() < kc {
            let mut remap = vec![usize::MAX; kc];
            for (new, &old) in keep.iter().enumerate() {
                remap[old] = new;
            }
            assign.iter_mut().for_each(|a| *a = remap[*a]);
            kc = keep.len();
        }
        centres = keep
            .iter()
            .flat_map(|&c| new_centres[c * m..(c + 1) * m].iter().copied())
            .collect();
    }
    let (centres, counts) = update(&rows, &assign, kc, categorical);
    let keep: Vec<usize> = (0..kc).filter(|&c| counts[c] > 0).collect();
    let data: Vec<f64> = keep
        .iter()
        .flat_map(|&c| centres[c * m..(c + 1) * m].iter().copied())
        .collect();
    let weights = keep.iter().map(|&c| counts[c] as f64).collect();
    // Invariant: `data` holds keep.len() rows of m values.
    let centres = Array2::from_shape_vec((keep.len(), m), data)
        .unwrap_or_else(|_| unreachable!("centre matrix shape"));
    (centres, weights)
}

/// Centres of the clusters of `assign`, and the cluster sizes.
fn update(
    rows: &[&[f64]],
    assign: &[usize],
    kc: usize,
    categorical: &[bool],
) -> (Vec<f64>, Vec<usize>) {
    let m = categorical.len();
    let mut counts = vec![0usize; kc];
    let mut sums = vec![0.0; kc * m];
    let mut present = vec![0usize; kc * m];
    for (r, &c) in rows.iter().zip(assign) {
        counts[c] += 1;
        for j in 0..m {
            if !r[j].is_nan() && !categorical[j] {
                sums[c * m + j] += r[j];
                present[c * m + j] += 1;
            }
        }
    }
    let mut centres = vec![f64::NAN; kc * m];
    for c in 0..kc {
        for j in 0..m {
            if categorical[j] {
                continue;
            }
            let p = present[c * m + j];
            // Missing when most of the cluster is missing.
            if p > 0 && 2 * p >= counts[c] {
                centres[c * m + j] = sums[c * m + j] / p as f64;
            }
        }
    }
    // Categorical centres: the most frequent value (NaN counts as a value); ties → smallest code,
    // NaN last.
    for j in (0..m).filter(|&j| categorical[j]) {
        let mut tallies: Vec<Vec<(u64, usize)>> = vec![Vec::new(); kc];
        for (r, &c) in rows.iter().zip(assign) {
            let key = if r[j].is_nan() {
                f64::NAN.to_bits()
            } else {
                r[j].to_bits()
            };
            match tallies[c].iter_mut().find(|(b, _)| *b == key) {
                Some(t) => t.1 += 1,
                None => tallies[c].push((key, 1)),
            }
        }
        for (c, t) in tallies.iter().enumerate() {
            let mut best: Option<(f64, usize)> = None;
            for &(bits, count) in t {
                let v = f64::from_bits(bits);
                let better = match best {
                    None => true,
                    Some((bv, bc)) => {
                        count > bc || (count == bc && !v.is_nan() && (bv.is_nan() || v < bv))
                    }
                };
                if better {
                    best = Some((v, count));
                }
            }
            if let Some((v, _)) = best {
                centres[c * m + j] = v;
            }
        }
    }
    (centres, counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Feature, FeatureKind};
    use ndarray::array;

    #[test]
    fn small_background_is_kept_whole() {
        let x = array![[1.0, 2.0], [3.0, 4.0]];
        let b = Background::summarise(
            x.view(),
            &FeatureSchema::numeric(["a", "b"]),
            5,
            SummaryMethod::KMeans,
            0,
        )
        .unwrap();
        assert_eq!(b.x(), x.view());
        assert_eq!(b.weights(), &[0.5, 0.5]);
    }

    #[test]
    fn kmeans_finds_separated_clusters_with_their_weights() {
        // Three tight clusters of sizes 10, 20, 30 around 0, 100, 200, and a categorical column
        // whose majority level differs per cluster.
        let mut rows = Vec::new();
        for (c, size) in [(0.0, 10), (100.0, 20), (200.0, 30)] {
            for i in 0..size {
                let level = if i % 5 == 0 { 0.0 } else { c / 100.0 };
                rows.extend([c + (i % 3) as f64, level]);
            }
        }
        let x = Array2::from_shape_vec((60, 2), rows).unwrap();
        let schema = FeatureSchema::new(vec![
            Feature::numeric("v"),
            Feature {
                name: "c".into(),
                kind: FeatureKind::Categorical {
                    levels: vec!["a".into(), "b".into(), "c".into()],
                },
            },
        ]);
        let b = Background::summarise(x.view(), &schema, 3, SummaryMethod::KMeans, 3).unwrap();
        assert_eq!(b.len(), 3);
        let mut got: Vec<(f64, f64, f64)> = (0..3)
            .map(|c| (b.x()[[c, 0]], b.x()[[c, 1]], b.weights()[c]))
            .collect();
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        for ((v, level, w), (cv, cl, cw)) in got.iter().zip([
            (0.9, 0.0, 10.0 / 60.0),
            (100.95, 1.0, 20.0 / 60.0),
            (201.0, 2.0, 0.5),
        ]) {
            assert!((v - cv).abs() < 0.1, "{v} vs {cv}");
            assert_eq!(*level, cl);
            assert!((w - cw).abs() < 1e-12);
        }
        // Weighted mean of the summary equals the data mean for numeric columns.
        let mean: f64 = (0..3).map(|c| b.x()[[c, 0]] * b.weights()[c]).sum();
        assert!((mean - x.column(0).mean().unwrap()).abs() < 1e-9);
    }

    #[test]
    fn summary_is_seeded_and_missing_stays_missing() {
        let n = 300;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            if j == 1 && i % 3 != 0 {
                f64::NAN
            } else {
                ((i * 37 + j * 11) % 101) as f64
            }
        });
        let s = FeatureSchema::numeric(["a", "b"]);
        let a = Background::summarise(x.view(), &s, 20, SummaryMethod::KMeans, 9).unwrap();
        let b = Background::summarise(x.view(), &s, 20, SummaryMethod::KMeans, 9).unwrap();
        let bits = |g: &Background| -> Vec<u64> { g.x().iter().map(|v| v.to_bits()).collect() };
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a.weights(), b.weights());
        let missing: f64 = (0..a.len())
            .filter(|&c| a.x()[[c, 1]].is_nan())
            .map(|c| a.weights()[c])
            .sum();
        // Two thirds of the rows miss column b; clusters keep that roughly.
        assert!(missing > 0.5 && missing < 0.8, "{missing}");
        let s2 = Background::summarise(x.view(), &s, 20, SummaryMethod::Sample, 9).unwrap();
        assert_eq!(s2.len(), 20);
        assert!(s2.weights().iter().all(|w| (w - 0.05).abs() < 1e-15));
    }
}
