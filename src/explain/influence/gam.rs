//! Exact first-order influence for glassbox GAMs, with the smoothing parameters held fixed.
//!
//! A fitted GAM is a penalised GLM: θ̂ minimises `F = Σᵢ wᵢ ℓᵢ(θ) + ½ θᵀ S θ` over its spline
//! model matrix (ℓᵢ half the unit deviance, `S` = Σ λⱼ Sⱼ + the fixed null-space ridges + the
//! active monotone penalties; [`crate::model::gam::PenalisedSystem`]). Removing row k moves θ̂ by
//! `Δθ ≈ H⁻¹ (∇ℓ_k + ∂(Sθ̂)/∂w_k)` with `H = Σ ℓᵢ″ xᵢxᵢᵀ + S` factorised once by Cholesky
//! ([`CholeskyInverse`]), and the explained row's loss by `∇L_rᵀ Δθ` — the same formula and
//! code path as the GLM ([`super::GlmInfluence`]), on a different design and penalty.
//!
//! # What is held fixed, and why
//! - **The smoothing parameters λ.** A refit without the row would re-run REML and move λ; that
//!   choice is not differentiated (as the GLM's cross-validated λ is not). The number predicted
//!   is the change under a refit *with the same λ*, and the leave-one-out ground truth in the tests
//!   and benchmark refits with `Smoothing::Fixed` at the model's λ.
//! - **Knots and centring constraints.** The basis range and the sum-to-zero constraint are
//!   training-data statistics; removing one row moves them only when it is a range extreme, and
//!   the constraint only trades a constant between a term and the intercept.
//!
//! The null-space ridges are scaled to the data (‖XᵀX‖ of their block), so their dependence on
//! the removed row *is* included.

use ndarray::{ArrayView1, ArrayView2, Axis};

use super::glm::{d2l_deta2, dl_deta};
use super::parametric::{CholeskyInverse, ParametricInfluence};
use super::{need_label, InfluenceTarget};
use crate::explain::{ExplainError, Result};
use crate::model::gam::{Gam, PenalisedSystem};

/// Influence estimator of a fitted [`Gam`] on its training data.
pub struct GamInfluence {
    system: PenalisedSystem,
    core: ParametricInfluence,
}

impl GamInfluence {
    /// Prepares the influence of `gam`'s training rows: `x` the encoded training features (the
    /// model's schema), `y` the response as fitted (0/1 for binomial). Factorises the penalised
    /// Hessian once; each explained row then costs one solve and O(n·p).
    ///
    /// # Errors
    /// [`ExplainError::Shape`] for mismatched lengths; [`ExplainError::Unsupported`] when `x` are
    /// not the data the GAM was fitted on, for a loss gradient that is not finite or a Hessian
    /// that is not positive definite.
    ///
    /// # Example
    /// ```
    /// use glassbox::data::{Dataset, SchemaOptions};
    /// use glassbox::explain::influence::{GamInfluence, Influence, InfluenceTarget};
    /// use glassbox::model::gam::GamParams;
    /// use glassbox::model::glm::Family;
    ///
    /// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?.head(300);
    /// let gam = GamParams::new(Family::Binomial).n_splines(6).fit(&ds)?;
    /// let inf = GamInfluence::new(&gam, ds.x().view(), ds.y().unwrap().view())?;
    /// let on_row_0 = inf.influence(ds.x().row(0), Some(ds.y().unwrap()[0]), InfluenceTarget::Loss)?;
    /// assert_eq!(on_row_0.len(), 300);
    /// assert!(on_row_0[0] > 0.0); // a row helps its own fit
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(gam: &Gam, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<GamInfluence> {
        let n = x.nrows();
        if y.len() != n {
            return Err(ExplainError::Shape(format!(
                "{n} training rows but {} labels",
                y.len()
            )));
        }
        let system = gam
            .penalised_system(x)
            .map_err(|e| ExplainError::Unsupported(e.to_string()))?;
        let (family, link) = (system.family(), system.link());
        let xd = system.design();
        let eta = xd.dot(&ArrayView1::from(system.theta()));
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
        // H = Xᵀ diag(ℓ″) X + S.
        let mut scaled = xd.to_owned();
        for (i, mut row) in scaled.axis_iter_mut(Axis(0)).enumerate() {
            row *= d2[i];
        }
        let h = &xd.t().dot(&scaled) + &system.penalty();
        let inverse = CholeskyInverse::new(h.view())?;
        let mut own = xd.to_owned();
        for (i, mut row) in own.axis_iter_mut(Axis(0)).enumerate() {
            row *= d1[i];
        }
        let removal = &own + &system.penalty_removal();
        Ok(GamInfluence {
            core: ParametricInfluence::new(removal, own, Box::new(inverse))?,
            system,
        })
    }

    fn gradient(
        &self,
        x: ArrayView1<f64>,
        y: Option<f64>,
        target: InfluenceTarget,
    ) -> Result<Vec<f64>> {
        let row = self.system.row(x);
        let scale = match target {
            InfluenceTarget::Prediction => 1.0,
            InfluenceTarget::Loss => {
                let y = need_label(y)?;
                let eta: f64 = row
                    .iter()
                    .zip(self.system.theta())
                    .map(|(a, b)| a * b)
                    .sum();
                dl_deta(self.system.family(), self.system.link(), y, eta)
            }
        };
        Ok(row.into_iter().map(|v| scale * v).collect())
    }
}

gradient_influence!(GamInfluence, "gam-exact");
