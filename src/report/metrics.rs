//! Model performance on the data given: discrimination, calibration and error metrics.
//!
//! Binary models: AUC (the Mann–Whitney statistic with average ranks for ties, so it equals the
//! area under the ROC curve including its diagonal segments), accuracy at a 0.5 threshold, log-loss
//! (probabilities clipped to [1e-15, 1 − 1e-15] as scikit-learn does) and the Brier score.
//! Regression: RMSE, MAE and R² (1 − SSE/SST). Multiclass: accuracy and log-loss. The calibration
//! table groups rows into deciles of the prediction and compares the mean prediction with the
//! observed mean (the event rate for binary models): a well-calibrated model has them equal in
//! every row of the table.

use ndarray::{ArrayView1, ArrayView2};

use super::{ReportError, Result};
use crate::data::TargetKind;

/// One named metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// Short name, e.g. `auc`.
    pub name: &'static str,
    /// Value.
    pub value: f64,
    /// What it means, for the report.
    pub description: &'static str,
}

/// One bin of the calibration table.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationBin {
    /// Rows in the bin.
    pub n: usize,
    /// Smallest prediction in the bin.
    pub min_prediction: f64,
    /// Largest prediction in the bin.
    pub max_prediction: f64,
    /// Mean prediction.
    pub mean_prediction: f64,
    /// Mean target (event rate for binary models).
    pub mean_target: f64,
}

/// Performance of a model on data with targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Performance {
    /// Metrics in display order.
    pub metrics: Vec<Metric>,
    /// Calibration by decile of the prediction (binary and regression models).
    pub calibration: Vec<CalibrationBin>,
}

/// Area under the ROC curve of `score` for the 0/1 labels `y` (average ranks for ties);
/// `None` when one class is absent.
pub fn auc(score: &[f64], y: &[f64]) -> Option<f64> {
    let n = score.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if y[k] == 1.0 {
                rank_sum_pos += avg_rank;
            }
        }
        i = j + 1;
    }
    let n_pos = y.iter().filter(|&&v| v == 1.0).count() as f64;
    let n_neg = n as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    Some((rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// Rows grouped into (at most) ten bins of equal size by increasing prediction.
pub fn calibration_deciles(pred: &[f64], y: &[f64]) -> Vec<CalibrationBin> {
    let mut idx: Vec<usize> = (0..pred.len()).filter(|&i| pred[i].is_finite()).collect();
    idx.sort_by(|&a, &b| pred[a].total_cmp(&pred[b]));
    let n = idx.len();
    let bins = n.min(10);
    (0..bins)
        .map(|b| {
            let part = &idx[b * n / bins..(b + 1) * n / bins];
            let m = part.len() as f64;
            CalibrationBin {
                n: part.len(),
                min_prediction: pred[part[0]],
                max_prediction: pred[part[part.len() - 1]],
                mean_prediction: part.iter().map(|&i| pred[i]).sum::<f64>() / m,
                mean_target: part.iter().map(|&i| y[i]).sum::<f64>() / m,
            }
        })
        .collect()
}

/// Performance of `predictions` (rows × outputs: probability of class 1, class probabilities, or
/// values) against `targets` (encoded as by the data layer: 0/1, class index, or value).
///
/// # Errors
/// [`ReportError::Invalid`] when the lengths or the number of outputs do not fit the task, or
/// there are no rows.
pub fn performance(
    task: &TargetKind,
    predictions: ArrayView2<f64>,
    targets: ArrayView1<f64>,
) -> Result<Performance> {
    let bad = |reason: String| ReportError::Invalid {
        what: "performance".into(),
        reason,
    };
    let n = targets.len();
    if n == 0 || predictions.nrows() != n {
        return Err(bad(format!(
            "{} predictions for {n} targets",
            predictions.nrows()
        )));
    }
    let y: Vec<f64> = targets.to_vec();
    match task {
        TargetKind::Binary { .. } => {
            if predictions.ncols() != 1 {
                return Err(bad(format!(
                    "a binary model needs 1 probability column, got {}",
                    predictions.ncols()
                )));
            }
            let p: Vec<f64> = predictions.column(0).to_vec();
            let eps = 1e-15;
            let logloss = -p
                .iter()
                .zip(&y)
                .map(|(&p, &y)| {
                    let p = p.clamp(eps, 1.0 - eps);
                    y * p.ln() + (1.0 - y) * (1.0 - p).ln()
                })
                .sum::<f64>()
                / n as f64;
            let acc = p
                .iter()
                .zip(&y)
                .filter(|(&p, &y)| (p >= 0.5) == (y == 1.0))
                .count() as f64
                / n as f64;
            let brier = p.iter().zip(&y).map(|(p, y)| (p - y).powi(2)).sum::<f64>() / n as f64;
            let mut metrics = vec![];
            if let Some(a) = auc(&p, &y) {
                metrics.push(Metric {
                    name: "auc",
                    value: a,
                    description: "area under the ROC curve (0.5 = chance, 1 = perfect ranking)",
                });
            }
            metrics.extend([
                Metric {
                    name: "accuracy",
                    value: acc,
                    description: "share of rows classified correctly at probability 0.5",
                },
                Metric {
                    name: "log_loss",
                    value: logloss,
                    description: "mean negative log-likelihood (lower is better)",
                },
                Metric {
                    name: "brier",
                    value: brier,
                    description: "mean squared error of the probability (lower is better)",
                },
                Metric {
                    name: "event_rate",
                    value: y.iter().sum::<f64>() / n as f64,
                    description: "share of rows with the positive class",
                },
                Metric {
                    name: "mean_prediction",
                    value: p.iter().sum::<f64>() / n as f64,
                    description: "mean predicted probability",
                },
            ]);
            Ok(Performance {
                metrics,
                calibration: calibration_deciles(&p, &y),
            })
        }
        TargetKind::Continuous => {
            if predictions.ncols() != 1 {
                return Err(bad(format!(
                    "a regression model needs 1 prediction column, got {}",
                    predictions.ncols()
                )));
            }
            let p: Vec<f64> = predictions.column(0).to_vec();
            let mean_y = y.iter().sum::<f64>() / n as f64;
            let sse: f64 = p.iter().zip(&y).map(|(p, y)| (p - y).powi(2)).sum();
            let sst: f64 = y.iter().map(|y| (y - mean_y).powi(2)).sum();
            let mae = p.iter().zip(&y).map(|(p, y)| (p - y).abs()).sum::<f64>() / n as f64;
            Ok(Performance {
                metrics: vec![
                    Metric {
                        name: "rmse",
                        value: (sse / n as f64).sqrt(),
                        description: "root mean squared error",
                    },
                    Metric {
                        name: "mae",
                        value: mae,
                        description: "mean absolute error",
                    },
                    Metric {
                        name: "r2",
                        value: if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN },
                        description: "share of the target's variance explained (1 − SSE/SST)",
                    },
                    Metric {
                        name: "mean_target",
                        value: mean_y,
                        description: "mean of the target",
                    },
                ],
                calibration: calibration_deciles(&p, &y),
            })
        }
        TargetKind::Multiclass { classes } => {
            let k = predictions.ncols();
            if k != classes.len() {
                return Err(bad(format!(
                    "{} classes but {k} probability columns",
                    classes.len()
                )));
            }
            let eps = 1e-15;
            let (mut correct, mut ll) = (0usize, 0.0);
            for (i, row) in predictions.rows().into_iter().enumerate() {
                let mut best = 0;
                for c in 1..k {
                    if row[c] > row[best] {
                        best = c;
                    }
                }
                let t = y[i] as usize;
                if best == t {
                    correct += 1;
                }
                ll -= row.get(t).copied().unwrap_or(0.0).clamp(eps, 1.0).ln();
            }
            Ok(Performance {
                metrics: vec![
                    Metric {
                        name: "accuracy",
                        value: correct as f64 / n as f64,
                        description: "share of rows whose most probable class is the true one",
                    },
                    Metric {
                        name: "log_loss",
                        value: ll / n as f64,
                        description: "mean negative log-likelihood (lower is better)",
                    },
                ],
                calibration: Vec::new(),
            })
        }
        #[allow(unreachable_patterns)]
        _ => Err(bad("unsupported task".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn auc_matches_pair_counting() {
        // Brute force: share of (positive, negative) pairs ranked correctly, ties count 1/2.
        let s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7, 0.2];
        let y = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0];
        let mut num = 0.0;
        let mut den = 0.0;
        for i in 0..s.len() {
            for j in 0..s.len() {
                if y[i] == 1.0 && y[j] == 0.0 {
                    den += 1.0;
                    num += if s[i] > s[j] {
                        1.0
                    } else if s[i] == s[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        assert!((auc(&s, &y).unwrap() - num / den).abs() < 1e-12);
        assert_eq!(auc(&[0.1, 0.2], &[1.0, 1.0]), None);
    }

    #[test]
    fn binary_metrics_by_hand() {
        let p = array![[0.9], [0.2], [0.6], [0.4]];
        let y = array![1.0, 0.0, 0.0, 1.0];
        let perf = performance(
            &TargetKind::Binary {
                classes: vec!["0".into(), "1".into()],
            },
            p.view(),
            y.view(),
        )
        .unwrap();
        let get = |n: &str| perf.metrics.iter().find(|m| m.name == n).unwrap().value;
        assert_eq!(get("accuracy"), 0.5);
        let ll = -(0.9f64.ln() + 0.8f64.ln() + 0.4f64.ln() + 0.4f64.ln()) / 4.0;
        assert!((get("log_loss") - ll).abs() < 1e-12);
        assert!((get("brier") - (0.01 + 0.04 + 0.36 + 0.36) / 4.0).abs() < 1e-12);
        assert_eq!(get("auc"), 0.75);
        assert_eq!(perf.calibration.len(), 4);
    }

    #[test]
    fn regression_metrics_and_deciles() {
        let n = 100;
        let y: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let p = Array2::from_shape_fn((n, 1), |(i, _)| {
            i as f64 + if i % 2 == 0 { 1.0 } else { -1.0 }
        });
        let perf = performance(
            &TargetKind::Continuous,
            p.view(),
            ndarray::Array1::from(y).view(),
        )
        .unwrap();
        assert!((perf.metrics[0].value - 1.0).abs() < 1e-12); // rmse
        assert!((perf.metrics[1].value - 1.0).abs() < 1e-12); // mae
        let sst: f64 = (0..n).map(|i| (i as f64 - 49.5).powi(2)).sum();
        assert!((perf.metrics[2].value - (1.0 - n as f64 / sst)).abs() < 1e-12);
        assert_eq!(perf.calibration.len(), 10);
        assert!(perf.calibration.iter().all(|b| b.n == 10));
    }
}
