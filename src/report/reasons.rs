//! Reason codes: per row, the features that push a risk score most towards the adverse outcome,
//! as short sentences such as `credit_amount = 15,945 (high)` or `checking_status = <0`.
//!
//! Reason codes read the explanation's attributions and nothing else: for each row they keep the
//! attributions with the adverse sign (positive — towards class 1 — by default, or negative for
//! scores where low is bad), largest first, and describe the feature's value. Numeric values are
//! called *high* or *low* against a reference distribution (normally the training data, given as
//! [`ReferenceQuantiles`]) — at or above the 75th percentile is high, at or below the 25th low —
//! so a reader sees whether the reason is an unusual value or an ordinary value the model
//! penalises. The thresholds are options. Rows with fewer adverse attributions than asked get
//! fewer reasons: a reason is never invented from an attribution that points the other way.

use std::path::Path;

use ndarray::ArrayView2;

use super::{ReportError, Result};
use crate::data::{FeatureKind, FeatureSchema};
use crate::explain::Explanation;
use crate::output::{csv_field, csv_number, write_atomic};
use crate::plot::display_value;

/// Which sign of attribution counts as adverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    /// Positive attributions push towards the adverse outcome (class 1 of a risk model). Default.
    #[default]
    Up,
    /// Negative attributions push towards the adverse outcome (a score where low is bad).
    Down,
}

/// Options of [`reason_codes`].
#[derive(Clone, Debug, PartialEq)]
pub struct ReasonOptions {
    /// Reasons per row at most. Default 4.
    pub top_n: usize,
    /// The adverse direction. Default [`Direction::Up`].
    pub direction: Direction,
    /// The output explained (multi-output explanations). Default 0.
    pub output: usize,
    /// Values at or below this percentile of the reference are "low". Default 25.
    pub low_percentile: f64,
    /// Values at or above this percentile of the reference are "high". Default 75.
    pub high_percentile: f64,
}

impl Default for ReasonOptions {
    fn default() -> Self {
        ReasonOptions {
            top_n: 4,
            direction: Direction::Up,
            output: 0,
            low_percentile: 25.0,
            high_percentile: 75.0,
        }
    }
}

/// The reference distribution of each numeric feature, as quantiles at fixed probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceQuantiles {
    /// Probabilities in 0..=1, increasing.
    probs: Vec<f64>,
    /// Per feature: the quantile at each probability (`None` for categorical or all-missing
    /// features).
    values: Vec<Option<Vec<f64>>>,
}

impl ReferenceQuantiles {
    /// Quantiles given directly: `values[j][p]` is feature `j`'s quantile at `probs[p]`.
    ///
    /// # Errors
    /// [`ReportError::Invalid`] when the probabilities are not increasing within 0..=1 or a
    /// feature's quantiles have another length or decrease.
    pub fn new(probs: Vec<f64>, values: Vec<Option<Vec<f64>>>) -> Result<Self> {
        let bad = |reason: String| ReportError::Invalid {
            what: "reference quantiles".into(),
            reason,
        };
        if probs.len() < 2 || probs.windows(2).any(|w| !(w[0] < w[1])) {
            return Err(bad(
                "need at least 2 strictly increasing probabilities".into()
            ));
        }
        if probs[0] < 0.0 || probs[probs.len() - 1] > 1.0 {
            return Err(bad("probabilities must lie in 0..=1".into()));
        }
        for (j, v) in values.iter().enumerate() {
            if let Some(v) = v {
                if v.len() != probs.len() || v.windows(2).any(|w| !(w[0] <= w[1])) {
                    return Err(bad(format!(
                        "feature {j}: {} quantiles for {} probabilities, or not increasing",
                        v.len(),
                        probs.len()
                    )));
                }
            }
        }
        Ok(ReferenceQuantiles { probs, values })
    }

    /// The percentiles 0, 1, …, 100 of every numeric feature of `x` (missing values ignored;
    /// linear interpolation between order statistics).
    pub fn from_data(x: ArrayView2<f64>, schema: &FeatureSchema) -> Self {
        let probs: Vec<f64> = (0..=100).map(|p| p as f64 / 100.0).collect();
        let values = schema
            .features()
            .iter()
            .enumerate()
            .map(|(j, f)| {
                if !matches!(f.kind, FeatureKind::Numeric) || j >= x.ncols() {
                    return None;
                }
                let mut col: Vec<f64> = x
                    .column(j)
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                if col.is_empty() {
                    return None;
                }
                col.sort_by(f64::total_cmp);
                Some(probs.iter().map(|&p| quantile_sorted(&col, p)).collect())
            })
            .collect();
        ReferenceQuantiles { probs, values }
    }

    /// The percentile (0..=100) of value `v` of feature `j` in the reference; ties take the middle
    /// of their range, so a value shared by the lowest 60% of rows is at the 30th percentile.
    /// `None` for categorical features, missing values or an unknown feature.
    pub fn percentile(&self, j: usize, v: f64) -> Option<f64> {
        let q = self.values.get(j)?.as_ref()?;
        if !v.is_finite() {
            return None;
        }
        let p = &self.probs;
        let last = q.len() - 1;
        if v < q[0] {
            return Some(p[0] * 100.0);
        }
        if v > q[last] {
            return Some(p[last] * 100.0);
        }
        // The range of probabilities whose quantile is v (or the interpolated point between).
        let lo_i = q.partition_point(|&x| x < v);
        let hi_i = q.partition_point(|&x| x <= v);
        if hi_i > lo_i {
            return Some((p[lo_i] + p[hi_i - 1]) / 2.0 * 100.0);
        }
        // q[lo_i - 1] < v < q[lo_i]: interpolate.
        let (a, b) = (lo_i - 1, lo_i);
        let t = (v - q[a]) / (q[b] - q[a]);
        Some((p[a] + t * (p[b] - p[a])) * 100.0)
    }
}

/// The `p`-quantile of sorted finite values by linear interpolation (numpy's default).
pub(crate) fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// How a numeric value compares with the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// At or below the low percentile.
    Low,
    /// Between the thresholds.
    Typical,
    /// At or above the high percentile.
    High,
}

/// One reason of one row.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// Feature index in the schema.
    pub feature: usize,
    /// The feature's value (encoded; NaN = missing).
    pub value: f64,
    /// The attribution that made it a reason.
    pub contribution: f64,
    /// The value's percentile in the reference (numeric features with a reference).
    pub percentile: Option<f64>,
    /// High/low/typical (numeric features with a reference).
    pub level: Option<Level>,
    /// The sentence, e.g. `credit_amount = 15,945 (high)`.
    pub text: String,
}

/// The reasons of one row, most adverse first.
#[derive(Clone, Debug, PartialEq)]
pub struct RowReasons {
    /// Row index in the explanation (0-based).
    pub row: usize,
    /// The explained output, `base + Σ attributions` (the model's output in the explanation's
    /// space).
    pub score: f64,
    /// Up to `top_n` reasons.
    pub reasons: Vec<Reason>,
}

/// Reason codes for every row of `e`.
///
/// `reference` describes the training distribution for high/low; without it numeric values are
/// given without a qualifier. Feature values must be attached to `e`.
///
/// # Errors
/// [`ReportError::Invalid`] without attached feature values, for an output out of range or for
/// thresholds that are not `0 <= low < high <= 100`.
pub fn reason_codes(
    e: &Explanation,
    reference: Option<&ReferenceQuantiles>,
    opts: &ReasonOptions,
) -> Result<Vec<RowReasons>> {
    let bad = |reason: String| ReportError::Invalid {
        what: "reason codes".into(),
        reason,
    };
    let data = e.data().ok_or_else(|| {
        bad("the explanation has no feature values; attach the explained rows (--data)".into())
    })?;
    if opts.output >= e.n_outputs() {
        return Err(bad(format!("output {} of {}", opts.output, e.n_outputs())));
    }
    if !(0.0 <= opts.low_percentile
        && opts.low_percentile < opts.high_percentile
        && opts.high_percentile <= 100.0)
    {
        return Err(bad(format!(
            "percentile thresholds {} and {} must satisfy 0 <= low < high <= 100",
            opts.low_percentile, opts.high_percentile
        )));
    }
    let phi = e.output_values(opts.output);
    let base = e.base_values().column(opts.output);
    let features = e.schema().features();
    let sign = match opts.direction {
        Direction::Up => 1.0,
        Direction::Down => -1.0,
    };
    let mut out = Vec::with_capacity(e.n_rows());
    let mut order: Vec<usize> = Vec::with_capacity(e.n_features());
    for i in 0..e.n_rows() {
        order.clear();
        order.extend((0..e.n_features()).filter(|&j| sign * phi[[i, j]] > 0.0));
        order.sort_by(|&a, &b| {
            (sign * phi[[i, b]])
                .total_cmp(&(sign * phi[[i, a]]))
                .then(a.cmp(&b))
        });
        order.truncate(opts.top_n);
        let reasons = order
            .iter()
            .map(|&j| {
                let v = data[[i, j]];
                let f = &features[j];
                let percentile = reference.and_then(|r| r.percentile(j, v));
                let level = percentile.map(|p| {
                    if p >= opts.high_percentile {
                        Level::High
                    } else if p <= opts.low_percentile {
                        Level::Low
                    } else {
                        Level::Typical
                    }
                });
                let qualifier = match level {
                    Some(Level::High) => " (high)",
                    Some(Level::Low) => " (low)",
                    _ => "",
                };
                Reason {
                    feature: j,
                    value: v,
                    contribution: phi[[i, j]],
                    percentile,
                    level,
                    text: format!("{} = {}{qualifier}", f.name, display_value(f, v)),
                }
            })
            .collect();
        out.push(RowReasons {
            row: i,
            score: base[i] + phi.row(i).sum(),
            reasons,
        });
    }
    Ok(out)
}

/// Writes reason codes as CSV, one line per row: `row`, the row's identifier when `ids` is given
/// (`(column name, one id per explained row)`), `score`, then for k = 1..=top_n
/// `reason_k, feature_k, contribution_k, percentile_k` (empty when a row has fewer reasons).
/// Atomic.
///
/// # Errors
/// I/O errors, or fewer ids than explained rows.
pub fn write_reasons_csv(
    path: &Path,
    rows: &[RowReasons],
    schema: &FeatureSchema,
    top_n: usize,
    ids: Option<(&str, &[String])>,
) -> std::io::Result<()> {
    let names = schema.names();
    if let Some((_, ids)) = ids {
        if let Some(r) = rows.iter().find(|r| r.row >= ids.len()) {
            return Err(std::io::Error::other(format!(
                "row {} has no id: the id column has {} values",
                r.row,
                ids.len()
            )));
        }
    }
    write_atomic(path, |w| {
        use std::io::Write;
        let mut header = vec!["row".to_string()];
        header.extend(ids.map(|(name, _)| csv_field(name)));
        header.push("score".to_string());
        for k in 1..=top_n {
            header.push(format!("reason_{k}"));
            header.push(format!("feature_{k}"));
            header.push(format!("contribution_{k}"));
            header.push(format!("percentile_{k}"));
        }
        writeln!(w, "{}", header.join(","))?;
        let mut line = String::new();
        for r in rows {
            line.clear();
            line.push_str(&r.row.to_string());
            line.push(',');
            if let Some((_, ids)) = ids {
                line.push_str(&csv_field(&ids[r.row]));
                line.push(',');
            }
            line.push_str(&csv_number(r.score));
            for k in 0..top_n {
                match r.reasons.get(k) {
                    Some(reason) => {
                        line.push(',');
                        line.push_str(&csv_field(&reason.text));
                        line.push(',');
                        line.push_str(&csv_field(
                            names.get(reason.feature).map_or("", String::as_str),
                        ));
                        line.push(',');
                        line.push_str(&csv_number(reason.contribution));
                        line.push(',');
                        if let Some(p) = reason.percentile {
                            line.push_str(&format!("{p:.1}"));
                        }
                    }
                    None => line.push_str(",,,,"),
                }
            }
            writeln!(w, "{line}")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_and_split_ties() {
        let schema = FeatureSchema::numeric(["x"]);
        // 0 for 60% of rows, then 1..4.
        let x = ndarray::Array2::from_shape_vec(
            (10, 1),
            vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0],
        )
        .unwrap();
        let r = ReferenceQuantiles::from_data(x.view(), &schema);
        let p0 = r.percentile(0, 0.0).unwrap();
        assert!((p0 - 27.5).abs() < 1e-9, "{p0}"); // quantiles 0..=55% are 0
        assert_eq!(r.percentile(0, 4.0), Some(100.0));
        assert_eq!(r.percentile(0, 99.0), Some(100.0));
        assert_eq!(r.percentile(0, -1.0), Some(0.0));
        assert_eq!(r.percentile(0, f64::NAN), None);
        let mid = r.percentile(0, 2.5).unwrap();
        assert!(mid > 77.0 && mid < 95.0, "{mid}");
    }

    #[test]
    fn bad_quantiles_are_refused() {
        assert!(ReferenceQuantiles::new(vec![0.5, 0.1], vec![]).is_err());
        assert!(ReferenceQuantiles::new(vec![0.1, 0.5], vec![Some(vec![2.0, 1.0])]).is_err());
        assert!(ReferenceQuantiles::new(vec![0.1, 0.5], vec![Some(vec![1.0, 2.0]), None]).is_ok());
    }
}
