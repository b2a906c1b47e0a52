//! Exact first-order influence for glassbox GLMs, unpenalised (statsmodels IRLS) or penalised
//! (glmnet-style ridge, lasso, elastic net).
//!
//! # The objective that is differentiated
//! Write `ℓᵢ(β) = d(yᵢ, μᵢ)/2` (half the unit deviance: the log-loss for a binomial model, half
//! the squared error for a Gaussian one) and `wᵢ` for the prior weights.
//!
//! - Unpenalised, statsmodels' IRLS minimises `F = Σ wᵢ ℓᵢ` (the dispersion does not move β).
//! - Penalised, glassbox minimises glmnet's `(1/W) Σ wᵢ ℓᵢ + λ Σⱼ (α|β̃ⱼ| + (1−α)/2 β̃ⱼ²)` with
//!   `W = Σ wᵢ` and β̃ⱼ = βⱼ sⱼ the coefficient of the standardised column (sⱼ the weighted
//!   population sd, around the weighted mean mⱼ when there is an intercept, else around 0).
//!   Multiplying by W (which does not move the minimiser): `F = Σ wᵢ ℓᵢ + W λ P(β; s)`.
//!
//! Removing row k sets w_k = 0 *everywhere*: in the loss sum, in W, and in the standardisation
//! (a refit re-standardises). Differentiating the gradient of F with respect to w_k gives
//!
//! ```text
//! ∂∇F/∂w_k = ∇ℓ_k + λ(1−α) βⱼ (x_kj − mⱼ)²  +  λα sign(βⱼ) ((x_kj − mⱼ)² + sⱼ²) / (2 sⱼ)
//! ```
//!
//! (penalty terms on the non-intercept coordinates; the ∂sⱼ/∂w_k and ∂W/∂w_k pieces combine so
//! that the penalty's own sⱼ² cancels). With `H = Σ wᵢ ℓᵢ″ xᵢxᵢᵀ + W λ(1−α) diag(sⱼ²)`, the
//! refit moves β by `Δβ ≈ w_k H⁻¹ ∂∇F/∂w_k`, and the explained row's loss by `∇L_rᵀ Δβ` — the
//! number reported. Under an L1 penalty the zero coefficients stay zero to first order (the
//! active set is fixed), so the system is restricted to the non-zero coefficients.
//!
//! `ℓᵢ″` is the observed curvature: `w/(V g′²)` for canonical links (where it equals IRLS's
//! weights), and a central difference of the analytic `ℓ′` otherwise.
//!
//! Held fixed, and documented as such: a λ chosen by cross-validation (a refit would re-run the
//! CV; that choice is not differentiated), and the explained rows' offset (0, as in
//! `predict`: the loss of a row is the loss per unit exposure).

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use super::parametric::{CholeskyInverse, ParametricInfluence};
use super::{need_label, InfluenceTarget};
use crate::explain::{ExplainError, Result};
use crate::model::glm::{Family, Glm, LinkFunction};

/// Influence estimator of a fitted [`Glm`] on its training data.
pub struct GlmInfluence {
    glm: Glm,
    /// Indices (into the design terms) of the coordinates in the system: all of them, or the
    /// non-zero ones under an L1 penalty.
    active: Vec<usize>,
    core: ParametricInfluence,
}

/// `∂ℓ/∂η` for one row: `−(y − μ) / (V(μ) g′(μ))`.
pub(super) fn dl_deta(family: Family, link: LinkFunction, y: f64, eta: f64) -> f64 {
    let mu = link.inverse(eta);
    -(y - mu) / (family.variance(mu) * link.deriv(mu))
}

fn canonical(family: Family, link: LinkFunction) -> bool {
    matches!(
        (family, link),
        (Family::Binomial, LinkFunction::Logit)
            | (Family::Poisson, LinkFunction::Log)
            | (Family::Gaussian, LinkFunction::Identity)
            | (Family::Gamma, LinkFunction::Inverse)
    ) || matches!((family, link), (Family::Tweedie { var_power }, LinkFunction::Log) if var_power == 1.0)
}

/// `∂²ℓ/∂η²` for one row.
pub(super) fn d2l_deta2(family: Family, link: LinkFunction, y: f64, eta: f64) -> f64 {
    if canonical(family, link) {
        let mu = link.inverse(eta);
        let d = link.deriv(mu);
        1.0 / (family.variance(mu) * d * d)
    } else {
        let h = 1e-5 * eta.abs().max(1.0);
        (dl_deta(family, link, y, eta + h) - dl_deta(family, link, y, eta - h)) / (2.0 * h)
    }
}

impl GlmInfluence {
    /// Prepares the influence of `glm`'s training rows: `x` are the encoded training features (in
    /// the model's schema), `y` the response as the GLM was fitted on it (0/1 for binomial), and
    /// `weights`/`offset` the prior weights and offset used in training, if any. Factorises the
    /// Hessian once.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] for mismatched lengths, [`ExplainError::InvalidParam`] for
    /// non-finite or negative weights, [`ExplainError::Unsupported`] for a cross-validated
    /// penalty whose λ is unknown or a Hessian that is not positive definite.
    ///
    /// # Example
    /// ```
    /// use glassbox::data::{Dataset, SchemaOptions};
    /// use glassbox::explain::influence::{GlmInfluence, Influence, InfluenceTarget};
    /// use glassbox::model::glm::{Family, GlmParams, Penalty};
    ///
    /// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?.head(200);
    /// let glm = GlmParams::new(Family::Binomial).penalty(Penalty::Fixed { l1: 0.0, l2: 0.01 }).fit(&ds, None, None)?;
    /// let inf = GlmInfluence::new(&glm, ds.x().view(), ds.y().unwrap().view(), None, None)?;
    /// let on_row_0 = inf.influence(ds.x().row(0), Some(ds.y().unwrap()[0]), InfluenceTarget::Loss)?;
    /// assert_eq!(on_row_0.len(), 200);
    /// assert!(on_row_0[0] > 0.0); // a row helps its own fit
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        glm: &Glm,
        x: ArrayView2<f64>,
        y: ArrayView1<f64>,
        weights: Option<ArrayView1<f64>>,
        offset: Option<ArrayView1<f64>>,
    ) -> Result<GlmInfluence> {
        let n = x.nrows();
        if y.len() != n
            || weights.is_some_and(|w| w.len() != n)
            || offset.is_some_and(|o| o.len() != n)
        {
            return Err(ExplainError::Shape(format!(
                "{n} training rows but {} labels / weights / offsets",
                y.len()
            )));
        }
        if let Some(w) = weights {
            if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(ExplainError::InvalidParam {
                    name: "weights",
                    value: w[i].to_string(),
                    reason: format!("row {}: prior weights must be finite and ≥ 0", i + 1),
                });
            }
        }
        let report = glm.report();
        let (family, link) = (report.family, report.link);
        let (lambda, alpha) = match &report.penalty {
            None => (0.0, 0.0),
            Some(p) => (p.lambda, p.alpha),
        };
        let xd = glm.design_matrix(x);
        let p = xd.ncols();
        let beta = glm.coefficients();
        let w: Vec<f64> = weights.map_or_else(|| vec![1.0; n], |w| w.to_vec());
        let off: Vec<f64> = offset.map_or_else(|| vec![0.0; n], |o| o.to_vec());
        let wsum: f64 = w.iter().sum();
        let intercept = (0..p).find(|&j| xd.column(j).iter().all(|&v| v == 1.0));
        let penalised = report.penalty.is_some();
        // The glmnet standardisation of the training rows (see `model::glm::penalised`).
        let mut mean = vec![0.0; p];
        let mut sd = vec![1.0; p];
        let mut constant = vec![false; p];
        if penalised {
            for j in (0..p).filter(|&j| Some(j) != intercept) {
                let col = xd.column(j);
                let m = if intercept.is_some() {
                    (0..n).map(|i| w[i] * col[i]).sum::<f64>() / wsum
                } else {
                    0.0
                };
                let v = (0..n).map(|i| w[i] * (col[i] - m).powi(2)).sum::<f64>() / wsum;
                mean[j] = m;
                if v > 0.0 {
                    sd[j] = v.sqrt();
                } else {
                    constant[j] = true;
                }
            }
        }
        let active: Vec<usize> = (0..p)
            .filter(|&j| !(penalised && alpha > 0.0 && beta[j] == 0.0 && Some(j) != intercept))
            .collect();
        let eta: Vec<f64> = (0..n)
            .map(|i| xd.row(i).dot(&ArrayView1::from(beta)) + off[i])
            .collect();
        let d1: Vec<f64> = (0..n)
            .map(|i| dl_deta(family, link, y[i], eta[i]))
            .collect();
        let d2: Vec<f64> = (0..n)
            .map(|i| d2l_deta2(family, link, y[i], eta[i]))
            .collect();
        if let Some(i) = (0..n).find(|&i| !(d1[i].is_finite() && d2[i].is_finite())) {
            return Err(ExplainError::Unsupported(format!(
                "training row {}: the loss gradient is not finite (fitted mean at the edge of the {} family's range)",
                i + 1,
                family.name()
            )));
        }
        let xa = xd.select(Axis(1), &active);
        // H = Xᵀ diag(w ℓ″) X + W λ (1−α) diag(s²), on the active coordinates.
        let mut scaled = xa.clone();
        for (i, mut row) in scaled.axis_iter_mut(Axis(0)).enumerate() {
            row *= w[i] * d2[i];
        }
        let mut h = xa.t().dot(&scaled);
        let ridge = lambda * (1.0 - alpha);
        if penalised {
            for (a, &j) in active.iter().enumerate() {
                if Some(j) != intercept {
                    h[[a, a]] += wsum * ridge * sd[j] * sd[j];
                }
            }
        }
        let inverse = CholeskyInverse::new(h.view())?;
        // Own-loss gradients ℓ′ᵢ xᵢ and removal gradients wᵢ ∂∇F/∂wᵢ.
        let mut own = xa.clone();
        for (i, mut row) in own.axis_iter_mut(Axis(0)).enumerate() {
            row *= d1[i];
        }
        let mut removal: Array2<f64> = own.clone();
        for (i, mut row) in removal.axis_iter_mut(Axis(0)).enumerate() {
            if penalised {
                for (a, &j) in active.iter().enumerate() {
                    if Some(j) == intercept {
                        continue;
                    }
                    let dev2 = if constant[j] {
                        0.0
                    } else {
                        (xd[[i, j]] - mean[j]).powi(2)
                    };
                    // A constant column keeps s = 1 under removal: ∂(W P)/∂w_k is then P's
                    // gradient itself.
                    let (l2_part, l1_part) = if constant[j] {
                        (ridge * beta[j], lambda * alpha * beta[j].signum())
                    } else {
                        (
                            ridge * beta[j] * dev2,
                            lambda * alpha * beta[j].signum() * (dev2 + sd[j] * sd[j])
                                / (2.0 * sd[j]),
                        )
                    };
                    row[a] += l2_part + l1_part;
                }
            }
            row *= w[i];
        }
        Ok(GlmInfluence {
            glm: glm.clone(),
            active,
            core: ParametricInfluence::new(removal, own, Box::new(inverse))?,
        })
    }

    /// The gradient, on the active coordinates, of the explained row's loss or linear predictor.
    fn gradient(
        &self,
        x: ArrayView1<f64>,
        y: Option<f64>,
        target: InfluenceTarget,
    ) -> Result<Vec<f64>> {
        let xd = self.glm.design_matrix(x.insert_axis(Axis(0)));
        let row = xd.row(0);
        let scale = match target {
            InfluenceTarget::Prediction => 1.0,
            InfluenceTarget::Loss => {
                let y = need_label(y)?;
                let eta = row.dot(&ArrayView1::from(self.glm.coefficients()));
                let r = self.glm.report();
                dl_deta(r.family, r.link, y, eta)
            }
        };
        Ok(self.active.iter().map(|&j| scale * row[j]).collect())
    }
}

gradient_influence!(GlmInfluence, "glm-exact");
