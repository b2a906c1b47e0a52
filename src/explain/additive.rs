//! Exact additive explanations of GLMs: no sampling, no approximation.
//!
//! A GLM's linear predictor is a sum of per-feature functions, η(x) = β₀ + Σⱼ gⱼ(xⱼ) with
//! gⱼ(xⱼ) = Σ_{c ∈ cols(j)} β_c d_c(xⱼ) over feature j's design columns (one for a number, the
//! dummies for a category; a missing value is first replaced by the recorded training fill). For
//! such a function the interventional Shapley value of feature j with background distribution B
//! is exactly φⱼ(x) = gⱼ(xⱼ) − E_B\[gⱼ(Xⱼ)\] (Lundberg & Lee 2017, §"linear models"; Janzing et al.
//! 2020). With the training rows as background, E_B\[gⱼ\] = Σ_c β_c · mean_c, so
//!
//!   φⱼ(x) = Σ_{c ∈ cols(j)} β_c (d_c(xⱼ) − mean_c),   base = β₀ + Σ_c β_c mean_c,
//!
//! where mean_c are the training column means stored in the model. A categorical feature's dummies
//! are summed into one attribution, so the explanation is per feature, not per dummy.
//!
//! GAMs ([`explain_gam`]) are the same with gⱼ a smooth, a factor effect or a linear term: φⱼ(x) =
//! gⱼ(xⱼ) − mean over the training rows of gⱼ. A tensor-product interaction term g(xⱼ, x_k) is a
//! two-player game whose interventional Shapley values against the training rows B are
//!
//!   φⱼ = ½[v(j) − v(∅)] + ½[g(xⱼ, x_k) − v(k)],  v(j) = mean_{b∈B} g(xⱼ, b_k),
//!   v(∅) = mean_{b∈B} g(bⱼ, b_k),
//!
//! and symmetrically for k. g is bilinear in the two marginal bases, so v(j) = Σₐ Bₐ(xⱼ) (Γ c_k)ₐ
//! with c_k the training means of the second marginal basis: exact, O(k²) per row. (For mgcv-style
//! `ti` terms, whose marginals are centred over the same rows, v(j) = v(k) = 0 and the split is
//! half-and-half.)
//!
//! A NAM is the same shape, η(x) = base + Σⱼ fⱼ(xⱼ) with fⱼ each feature's ensemble-averaged
//! network output (or learned level value), so φⱼ(x) = fⱼ(xⱼ) − mean over the training rows of fⱼ,
//! with the training means stored in the model ([`crate::model::nam::Nam::contributions`]).
//!
//! Attributions are of the linear predictor (raw space: log-odds, log-mean, …). In probability or
//! mean space a nonlinear link makes the model non-additive and these values are no longer
//! Shapley values, so that request is refused with a pointer to Kernel SHAP rather than answered
//! approximately.

use ndarray::{Array2, Array3, ArrayView2, Axis, Zip};

use super::error::{ExplainError, Result};
use super::explanation::{Explanation, ExplanationMeta, OutputSpace};
use crate::model::gam::{Gam, TermKind};
use crate::model::glm::Glm;
use crate::model::nam::Nam;
use crate::model::{Link, Model};

/// Explains rows of a GLM by its exact additive contributions (see the module docs), and checks
/// that base + Σ contributions equals the linear predictor to `tolerance` (relative).
///
/// # Errors
/// [`ExplainError::Unsupported`] for [`OutputSpace::Probability`] with a nonlinear link;
/// [`ExplainError::Shape`] when `x` does not have the model's feature count;
/// [`ExplainError::Additivity`] if the run-time guard fails (a bug).
pub fn explain_glm(
    glm: &Glm,
    x: ArrayView2<f64>,
    output_space: OutputSpace,
    tolerance: f64,
) -> Result<Explanation> {
    if output_space == OutputSpace::Probability && glm.link() != Link::Identity {
        return Err(ExplainError::Unsupported(format!(
            "additive contributions of a GLM with a {} link are exact in the linear-predictor (raw) space only; in probability/mean space the model is not additive: use --output raw, or --method kernel-shap with a background for probability-space Shapley values",
            glm.link_function().name()
        )));
    }
    let m = glm.schema().len();
    if x.ncols() != m {
        return Err(ExplainError::Shape(format!(
            "rows have {} columns but the model has {m} features",
            x.ncols()
        )));
    }
    let n = x.nrows();
    let design = glm.design();
    let coef = glm.coefficients();
    let means = glm.column_means();
    let mut values = Array3::<f64>::zeros((n, 1, m));
    Zip::from(values.axis_iter_mut(Axis(0)))
        .and(x.axis_iter(Axis(0)))
        .par_for_each(|mut out, row| {
            for (c, term) in design.terms().iter().enumerate() {
                if let Some(j) = term.feature() {
                    out[[0, j]] += coef[c] * (design.term_value(term, row) - means[c]);
                }
            }
        });
    let base = glm.base_value();
    let base_values = Array2::from_elem((n, 1), base);
    let mut meta = ExplanationMeta::new("additive");
    meta.output_space = output_space;
    let e = Explanation::new(
        values,
        base_values,
        glm.schema().clone(),
        glm.output_names().to_vec(),
        meta,
    )?
    .with_data(x.to_owned())?;
    let raw = glm.predict_raw(x);
    e.check_additivity(raw.view(), tolerance)?;
    Ok(e)
}

/// Explains rows of a GAM by its exact additive contributions (see the module docs): each term's
/// value minus its training mean, interaction terms split by their exact two-player Shapley
/// values; checks that base + Σ contributions equals the linear predictor to `tolerance`.
///
/// # Errors
/// As [`explain_glm`].
pub fn explain_gam(
    gam: &Gam,
    x: ArrayView2<f64>,
    output_space: OutputSpace,
    tolerance: f64,
) -> Result<Explanation> {
    if output_space == OutputSpace::Probability && gam.link() != Link::Identity {
        return Err(ExplainError::Unsupported(format!(
            "additive contributions of a GAM with a {} link are exact in the linear-predictor (raw) space only; in probability/mean space the model is not additive: use --output raw, or --method kernel-shap with a background for probability-space Shapley values",
            gam.link_function().name()
        )));
    }
    let m = gam.schema().len();
    if x.ncols() != m {
        return Err(ExplainError::Shape(format!(
            "rows have {} columns but the model has {m} features",
            x.ncols()
        )));
    }
    // Per tensor term: Γ c₂ (length k₁) and c₁ᵀ Γ (length k₂).
    let margins: Vec<Option<(Vec<f64>, Vec<f64>)>> = gam
        .terms()
        .iter()
        .map(|t| match &t.kind {
            TermKind::Tensor {
                bases, basis_means, ..
            } => {
                let (k1, k2) = (bases[0].k, bases[1].k);
                let g = &t.coef;
                let gc2 = (0..k1)
                    .map(|a| (0..k2).map(|b| g[a * k2 + b] * basis_means[1][b]).sum())
                    .collect();
                let c1g = (0..k2)
                    .map(|b| (0..k1).map(|a| basis_means[0][a] * g[a * k2 + b]).sum())
                    .collect();
                Some((gc2, c1g))
            }
            _ => None,
        })
        .collect();
    let n = x.nrows();
    let mut values = Array3::<f64>::zeros((n, 1, m));
    Zip::from(values.axis_iter_mut(Axis(0)))
        .and(x.axis_iter(Axis(0)))
        .par_for_each(|mut out, row| {
            for (t, margin) in gam.terms().iter().zip(&margins) {
                let g = gam.term_value(t, row);
                match (&t.kind, margin) {
                    (
                        TermKind::Tensor {
                            features, bases, ..
                        },
                        Some((gc2, c1g)),
                    ) => {
                        let vj = bases[0].dot(gam.filled(row, features[0]), gc2);
                        let vk = bases[1].dot(gam.filled(row, features[1]), c1g);
                        out[[0, features[0]]] += 0.5 * (vj - t.mean) + 0.5 * (g - vk);
                        out[[0, features[1]]] += 0.5 * (vk - t.mean) + 0.5 * (g - vj);
                    }
                    (
                        TermKind::Smooth { feature, .. }
                        | TermKind::Linear { feature }
                        | TermKind::Factor { feature }
                        | TermKind::Missing { feature },
                        _,
                    ) => out[[0, *feature]] += g - t.mean,
                    _ => {}
                }
            }
        });
    let base_values = Array2::from_elem((n, 1), gam.base_value());
    let mut meta = ExplanationMeta::new("additive");
    meta.output_space = output_space;
    let e = Explanation::new(
        values,
        base_values,
        gam.schema().clone(),
        gam.output_names().to_vec(),
        meta,
    )?
    .with_data(x.to_owned())?;
    let raw = gam.predict_raw(x);
    e.check_additivity(raw.view(), tolerance)?;
    Ok(e)
}

/// Explains rows of a neural additive model by its exact additive contributions (see the module
/// docs), and checks that base + Σ contributions equals the raw score to `tolerance` (relative).
///
/// # Errors
/// [`ExplainError::Unsupported`] for [`OutputSpace::Probability`] of a binary NAM (it is additive
/// in log-odds only); [`ExplainError::Shape`] when `x` does not have the model's feature count;
/// [`ExplainError::Additivity`] if the run-time guard fails (a bug).
pub fn explain_nam(
    nam: &Nam,
    x: ArrayView2<f64>,
    output_space: OutputSpace,
    tolerance: f64,
) -> Result<Explanation> {
    if output_space == OutputSpace::Probability && nam.link() != Link::Identity {
        return Err(ExplainError::Unsupported(
            "additive contributions of a binary NAM are exact in log-odds (raw) space only; in probability space the model is not additive: use --output raw, or --method kernel-shap with a background for probability-space Shapley values".into(),
        ));
    }
    let m = nam.schema().len();
    if x.ncols() != m {
        return Err(ExplainError::Shape(format!(
            "rows have {} columns but the model has {m} features",
            x.ncols()
        )));
    }
    let n = x.nrows();
    let (phi, raw) = nam.contributions(x);
    let values = phi
        .into_shape_with_order((n, 1, m))
        .map_err(|e| ExplainError::Shape(e.to_string()))?;
    let base_values = Array2::from_elem((n, 1), nam.base_value());
    let mut meta = ExplanationMeta::new("additive");
    meta.output_space = output_space;
    let e = Explanation::new(
        values,
        base_values,
        nam.schema().clone(),
        nam.output_names().to_vec(),
        meta,
    )?
    .with_data(x.to_owned())?;
    let raw =
        Array2::from_shape_vec((n, 1), raw).map_err(|e| ExplainError::Shape(e.to_string()))?;
    e.check_additivity(raw.view(), tolerance)?;
    Ok(e)
}
