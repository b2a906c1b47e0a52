//! Method-specific diagnostics carried in [`ExplanationMeta`](super::ExplanationMeta).
//!
//! Sampling explainers know things about each row that the attributions alone do not say: how
//! many coalitions Kernel SHAP evaluated and whether it enumerated them all; which kernel width
//! LIME chose, how faithful its surrogate is (R²), and how stable it is across seeds. These live
//! in one optional, per-row side structure rather than in new `Explanation` fields, so the shared
//! type stays small and explainers that have nothing to add (Tree SHAP, additive) are untouched.
//! Every vector here has one entry per explained row (rows × outputs, row-major, where noted), and
//! [`Diagnostics::select_rows`] keeps them aligned when an explanation is sliced.

use serde::{Deserialize, Serialize};

/// Per-row diagnostics of a sampling explainer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Diagnostics {
    /// Kernel SHAP.
    KernelShap(KernelShapDiagnostics),
    /// LIME.
    Lime(LimeDiagnostics),
}

impl Diagnostics {
    /// The diagnostics of the rows at these indices.
    ///
    /// # Panics
    /// When an index is out of range.
    pub fn select_rows(&self, rows: &[usize]) -> Diagnostics {
        match self {
            Diagnostics::KernelShap(d) => Diagnostics::KernelShap(KernelShapDiagnostics {
                exact: d.exact,
                background_rows: d.background_rows,
                coalitions: rows.iter().map(|&i| d.coalitions[i]).collect(),
            }),
            Diagnostics::Lime(d) => {
                let k = d.n_outputs;
                let pick = |v: &[f64]| -> Vec<f64> {
                    rows.iter()
                        .flat_map(|&i| v[i * k..(i + 1) * k].iter().copied())
                        .collect()
                };
                Diagnostics::Lime(LimeDiagnostics {
                    n_outputs: k,
                    kernel_width: pick(&d.kernel_width),
                    r2_fit: pick(&d.r2_fit),
                    r2_holdout: pick(&d.r2_holdout),
                    local_prediction: pick(&d.local_prediction),
                    model_prediction: pick(&d.model_prediction),
                    vsi: pick(&d.vsi),
                    csi: pick(&d.csi),
                    top_k_jaccard: pick(&d.top_k_jaccard),
                    repeats: d.repeats,
                    top_k: d.top_k,
                })
            }
        }
    }
}

impl Diagnostics {
    /// A numeric table of the diagnostics, one line per row (Kernel SHAP) or per row and output
    /// (LIME): headers and columns. Rows are numbered from `first_row`.
    ///
    /// Kernel SHAP: `row, coalitions, exact` (exact 1/0). LIME: `row, output` (0-based index),
    /// `kernel_width, r2_fit, r2_holdout, local_prediction, model_prediction, vsi, csi,
    /// top_k_jaccard` (stability empty when LIME ran once).
    pub fn to_columns(&self, first_row: usize) -> (Vec<String>, Vec<Vec<f64>>) {
        match self {
            Diagnostics::KernelShap(d) => {
                let n = d.coalitions.len();
                (
                    ["row", "coalitions", "exact"].map(String::from).to_vec(),
                    vec![
                        (0..n).map(|i| (first_row + i) as f64).collect(),
                        d.coalitions.iter().map(|&c| c as f64).collect(),
                        vec![f64::from(u8::from(d.exact)); n],
                    ],
                )
            }
            Diagnostics::Lime(d) => {
                let k = d.n_outputs.max(1);
                let len = d.kernel_width.len();
                let headers = [
                    "row",
                    "output",
                    "kernel_width",
                    "r2_fit",
                    "r2_holdout",
                    "local_prediction",
                    "model_prediction",
                    "vsi",
                    "csi",
                    "top_k_jaccard",
                ]
                .map(String::from)
                .to_vec();
                let columns = vec![
                    (0..len).map(|i| (first_row + i / k) as f64).collect(),
                    (0..len).map(|i| (i % k) as f64).collect(),
                    d.kernel_width.clone(),
                    d.r2_fit.clone(),
                    d.r2_holdout.clone(),
                    d.local_prediction.clone(),
                    d.model_prediction.clone(),
                    d.vsi.clone(),
                    d.csi.clone(),
                    d.top_k_jaccard.clone(),
                ];
                (headers, columns)
            }
        }
    }
}

/// What Kernel SHAP did per row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelShapDiagnostics {
    /// True when all 2^M coalitions were evaluated: the values are exact Shapley values of the
    /// (summarised) background game and the standard errors are zero.
    pub exact: bool,
    /// Rows in the background after summarising (k-means centres or a sample).
    pub background_rows: usize,
    /// Coalitions evaluated per explained row (each costs one model evaluation per background
    /// row); the empty and full coalitions are not counted.
    pub coalitions: Vec<usize>,
}

/// LIME's fidelity and stability, rows × outputs (row-major).
///
/// Stability entries are `NaN` when LIME ran once per row (`repeats` = 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LimeDiagnostics {
    /// Outputs per row in the vectors below.
    pub n_outputs: usize,
    /// The kernel width used (tuned or fixed).
    pub kernel_width: Vec<f64>,
    /// Weighted R² of the surrogate on the samples it was fitted to (the `lime` package's
    /// `score`).
    pub r2_fit: Vec<f64>,
    /// Weighted R² of the surrogate on held-out samples, weighted by the same kernel.
    pub r2_holdout: Vec<f64>,
    /// The surrogate's prediction at the explained row (= base value + Σ values).
    pub local_prediction: Vec<f64>,
    /// The model's output at the explained row, in the explained output space.
    pub model_prediction: Vec<f64>,
    /// Variables stability index (Visani et al. 2022), in \[0, 1\]: mean over pairs of repeats
    /// of the share of selected features the two repeats have in common.
    pub vsi: Vec<f64>,
    /// Coefficient stability index (Visani et al. 2022), in \[0, 1\]: mean over pairs of
    /// repeats and features selected in both of whether the two 95% intervals of the coefficient
    /// overlap.
    pub csi: Vec<f64>,
    /// Mean pairwise Jaccard index of the top-`top_k` features by |value| across repeats.
    pub top_k_jaccard: Vec<f64>,
    /// Repeats with different seeds per row.
    pub repeats: usize,
    /// The k of `top_k_jaccard`.
    pub top_k: usize,
}
