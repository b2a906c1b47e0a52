//! LIME's explanation of one row as a bar chart: the local surrogate's weight per feature
//! condition, largest |weight| first, with the surrogate's fidelity in the subtitle.
//!
//! Takes plain arrays (condition labels such as `duration > 24`, weights, fit statistics) so that
//! the LIME explainer, written elsewhere, need not build an `Explanation` for it. The fidelity
//! (the weighted R² of the surrogate on its perturbation sample) is shown because a LIME
//! explanation with low fidelity explains the surrogate, not the model.

use super::axis;
use super::canvas::Canvas;
use super::signed_bar::signed_bars;
use super::{PlotError, PlotOptions, Result};

/// LIME weights of one row, in plain arrays.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LimeWeights {
    /// The explained row (0-based), for the title.
    pub row: Option<usize>,
    /// One label per weight, e.g. `duration > 24` or `checking_status = <0`.
    pub labels: Vec<String>,
    /// The surrogate's weights.
    pub weights: Vec<f64>,
    /// The surrogate's intercept.
    pub intercept: Option<f64>,
    /// The surrogate's prediction for the row.
    pub local_prediction: Option<f64>,
    /// The model's prediction for the row.
    pub model_prediction: Option<f64>,
    /// The surrogate's weighted R² on its perturbation sample.
    pub score: Option<f64>,
    /// What the weights are of, e.g. `probability of bad_credit = 1`.
    pub output_label: String,
}

/// Lays out the LIME bar chart; at most `top_n` weights are drawn, largest |weight| first.
///
/// # Errors
/// [`PlotError::Invalid`] for no weights, labels and weights of different lengths, or a
/// non-finite weight.
pub fn lime_bar(w: &LimeWeights, top_n: usize, opts: &PlotOptions) -> Result<Canvas> {
    let bad = |reason: String| PlotError::Invalid {
        what: "a LIME bar chart".into(),
        reason,
    };
    if w.weights.is_empty() {
        return Err(bad("there are no weights".into()));
    }
    if w.labels.len() != w.weights.len() {
        return Err(bad(format!(
            "{} labels but {} weights",
            w.labels.len(),
            w.weights.len()
        )));
    }
    if let Some(i) = w.weights.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "the weight of '{}' is {}",
            w.labels[i], w.weights[i]
        )));
    }
    let mut order: Vec<usize> = (0..w.weights.len()).collect();
    order.sort_by(|&a, &b| {
        w.weights[b]
            .abs()
            .total_cmp(&w.weights[a].abs())
            .then(a.cmp(&b))
    });
    order.truncate(top_n.max(1));

    let title = opts.title.clone().unwrap_or_else(|| match w.row {
        Some(r) => format!("LIME: row {r}"),
        None => "LIME explanation".to_string(),
    });
    let mut parts = vec![format!("local surrogate weights · {}", w.output_label)];
    if let Some(s) = w.score {
        parts.push(format!("fidelity R² = {:.2}", s));
    }
    if let (Some(l), Some(m)) = (w.local_prediction, w.model_prediction) {
        parts.push(format!(
            "surrogate {} vs model {}",
            axis::format_value(l),
            axis::format_value(m)
        ));
    }
    if let Some(b) = w.intercept {
        parts.push(format!("intercept {}", axis::format_value(b)));
    }
    let subtitle = parts.join(" · ");

    let labels: Vec<&str> = order.iter().map(|&i| w.labels[i].as_str()).collect();
    let values: Vec<f64> = order.iter().map(|&i| w.weights[i]).collect();
    Ok(signed_bars(
        &title,
        &subtitle,
        &labels,
        &values,
        &format!("weight ({})", w.output_label),
        opts,
    ))
}
