//! Training objectives: gradients, hessians, starting scores and losses.
//!
//! The objective follows from the target: squared error for a continuous target, the logistic
//! loss for two classes (raw score = log-odds), softmax cross-entropy for several classes (one
//! tree per class per round, as in Friedman 2001, §4.6, and XGBoost / LightGBM).
//!
//! Losses use stable forms: `log(1 + e^s) = max(s, 0) + log1p(e^−|s|)` and log-sum-exp shifted by
//! the maximum.

use rayon::prelude::*;

use crate::data::{TargetKind, TargetSpec};
use crate::model::{sigmoid, Link};

/// Smallest hessian used, so that leaves of perfectly predicted rows stay finite.
const MIN_HESSIAN: f64 = 1e-16;

/// Rows per parallel task when computing gradients.
const CHUNK: usize = 4096;

/// What a gradient-boosted model minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// Squared error (regression); raw score = prediction.
    SquaredError,
    /// Logistic loss (binary classification); raw score = log-odds of class 1.
    Logistic,
    /// Softmax cross-entropy over `n_classes` classes; one raw score per class.
    Softmax {
        /// Number of classes.
        n_classes: usize,
    },
}

impl Objective {
    /// The objective for a target.
    pub fn for_target(target: &TargetSpec) -> Objective {
        match &target.kind {
            TargetKind::Continuous => Objective::SquaredError,
            TargetKind::Binary { .. } => Objective::Logistic,
            TargetKind::Multiclass { classes } => Objective::Softmax {
                n_classes: classes.len(),
            },
        }
    }

    /// Raw scores per row.
    pub fn n_outputs(self) -> usize {
        match self {
            Objective::Softmax { n_classes } => n_classes,
            _ => 1,
        }
    }

    /// The link from raw scores to predictions.
    pub fn link(self) -> Link {
        match self {
            Objective::SquaredError => Link::Identity,
            Objective::Logistic => Link::Logistic,
            Objective::Softmax { .. } => Link::Softmax,
        }
    }

    /// The name of [`Objective::loss`], as LightGBM names its metrics.
    pub fn loss_name(self) -> &'static str {
        match self {
            Objective::SquaredError => "l2",
            Objective::Logistic => "logloss",
            Objective::Softmax { .. } => "multi_logloss",
        }
    }

    /// The best constant raw scores: the mean, the log-odds of the mean, or the log class
    /// frequencies (clamped away from 0 so that an absent class stays finite).
    pub fn initial_scores(self, y: &[f64]) -> Vec<f64> {
        let n = y.len().max(1) as f64;
        match self {
            Objective::SquaredError => vec![y.iter().sum::<f64>() / n],
            Objective::Logistic => {
                let p = (y.iter().sum::<f64>() / n).clamp(1e-15, 1.0 - 1e-15);
                vec![(p / (1.0 - p)).ln()]
            }
            Objective::Softmax { n_classes } => {
                let mut counts = vec![0.0; n_classes];
                for &v in y {
                    counts[v as usize] += 1.0;
                }
                counts
                    .iter()
                    .map(|c| (c / n).clamp(1e-15, 1.0).ln())
                    .collect()
            }
        }
    }

    /// Writes gradients and hessians of every row: `gh[k][i]` for output `k`. `scores` is
    /// rows × outputs, row-major.
    pub fn gradients(self, y: &[f64], scores: &[f64], gh: &mut [Vec<[f64; 2]>]) {
        let k = self.n_outputs();
        match self {
            Objective::SquaredError => {
                gh[0]
                    .par_chunks_mut(CHUNK)
                    .enumerate()
                    .for_each(|(c, out)| {
                        for (j, o) in out.iter_mut().enumerate() {
                            let i = c * CHUNK + j;
                            *o = [scores[i] - y[i], 1.0];
                        }
                    });
            }
            Objective::Logistic => {
                gh[0]
                    .par_chunks_mut(CHUNK)
                    .enumerate()
                    .for_each(|(c, out)| {
                        for (j, o) in out.iter_mut().enumerate() {
                            let i = c * CHUNK + j;
                            let p = sigmoid(scores[i]);
                            *o = [p - y[i], (p * (1.0 - p)).max(MIN_HESSIAN)];
                        }
                    });
            }
            Objective::Softmax { n_classes } => {
                // LightGBM's factor K / (K − 1) makes the hessian of the redundant softmax
                // parameterisation match the binary case for K = 2.
                let factor = n_classes as f64 / (n_classes as f64 - 1.0).max(1.0);
                let n = y.len();
                let mut probs = vec![0.0; n * k];
                probs
                    .par_chunks_mut(k * CHUNK)
                    .enumerate()
                    .for_each(|(c, out)| {
                        for (j, row) in out.chunks_mut(k).enumerate() {
                            let i = c * CHUNK + j;
                            row.copy_from_slice(&scores[i * k..(i + 1) * k]);
                            Link::Softmax.apply(row);
                        }
                    });
                for (class, g) in gh.iter_mut().enumerate() {
                    g.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
                        for (j, o) in out.iter_mut().enumerate() {
                            let i = c * CHUNK + j;
                            let p = probs[i * k + class];
                            let t = if y[i] as usize == class { 1.0 } else { 0.0 };
                            *o = [p - t, (factor * p * (1.0 - p)).max(MIN_HESSIAN)];
                        }
                    });
                }
            }
        }
    }

    /// Mean loss of raw scores (rows × outputs, row-major), summed in row order.
    pub fn loss(self, y: &[f64], scores: &[f64]) -> f64 {
        let n = y.len().max(1) as f64;
        let total: f64 = match self {
            Objective::SquaredError => y.iter().zip(scores).map(|(&t, &s)| (s - t) * (s - t)).sum(),
            Objective::Logistic => y
                .iter()
                .zip(scores)
                .map(|(&t, &s)| softplus(s) - t * s)
                .sum(),
            Objective::Softmax { n_classes } => y
                .iter()
                .zip(scores.chunks(n_classes))
                .map(|(&t, row)| {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let lse = max + row.iter().map(|s| (s - max).exp()).sum::<f64>().ln();
                    lse - row[t as usize]
                })
                .sum(),
        };
        total / n
    }
}

/// `log(1 + e^s)` without overflow.
#[inline]
fn softplus(s: f64) -> f64 {
    s.max(0.0) + (-s.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gradients are derivatives of the loss: check against central finite differences.
    #[test]
    fn gradients_match_finite_differences() {
        let cases = [
            (Objective::SquaredError, vec![1.5, -0.3], vec![0.2, 0.9]),
            (Objective::Logistic, vec![1.0, 0.0], vec![0.7, -1.2]),
            (
                Objective::Softmax { n_classes: 3 },
                vec![2.0, 0.0],
                vec![0.1, -0.4, 0.8, 1.0, 0.0, -1.0],
            ),
        ];
        for (obj, y, scores) in cases {
            let k = obj.n_outputs();
            let mut gh = vec![vec![[0.0; 2]; y.len()]; k];
            obj.gradients(&y, &scores, &mut gh);
            let n = y.len() as f64;
            for idx in 0..scores.len() {
                let eps = 1e-6;
                let mut up = scores.clone();
                up[idx] += eps;
                let mut down = scores.clone();
                down[idx] -= eps;
                // loss is a mean: scale back to the per-row derivative
                let fd = (obj.loss(&y, &up) - obj.loss(&y, &down)) / (2.0 * eps) * n;
                let (row, class) = (idx / k, idx % k);
                let g = gh[class][row][0];
                let scale = if obj == Objective::SquaredError {
                    2.0
                } else {
                    1.0
                };
                assert!(
                    (fd - scale * g).abs() < 1e-5,
                    "{obj:?} index {idx}: {fd} vs {g}"
                );
            }
        }
    }

    #[test]
    fn initial_scores_are_optimal_constants() {
        let y = [0.0, 1.0, 1.0, 1.0];
        assert_eq!(Objective::SquaredError.initial_scores(&y), vec![0.75]);
        assert!((Objective::Logistic.initial_scores(&y)[0] - 3f64.ln()).abs() < 1e-12);
        let s = Objective::Softmax { n_classes: 3 }.initial_scores(&[0.0, 2.0, 2.0, 2.0]);
        assert!((s[0] - 0.25f64.ln()).abs() < 1e-12 && (s[2] - 0.75f64.ln()).abs() < 1e-12);
        assert!(s[1].is_finite());
    }

    #[test]
    fn logloss_is_stable_for_extreme_scores() {
        let l = Objective::Logistic.loss(&[1.0, 0.0], &[800.0, -800.0]);
        assert!(l.is_finite() && l < 1e-300);
        let l = Objective::Logistic.loss(&[0.0], &[800.0]);
        assert!((l - 800.0).abs() < 1e-9);
    }
}
