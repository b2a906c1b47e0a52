//! Training-data influence: which training rows helped or hurt the model on a given row, and a
//! global self-influence ranking of the training rows (a classic mislabel detector).
//!
//! # What a number means
//! Every estimator here answers one question, with one sign convention: the **influence** of
//! training row `k` on explained row `r` is the predicted change of `r`'s loss when `k` is removed
//! from the training data and the model is refitted,
//!
//! ```text
//! influence(r, k) ≈ loss_r(model without k) − loss_r(model with k)
//! ```
//!
//! Positive: removing `k` would raise the loss, so `k` *helped* on `r`; negative: `k` *harmed*.
//! With [`InfluenceTarget::Prediction`] the loss is replaced by the raw prediction (linear
//! predictor, raw boosting score), and the number is the predicted change of that output.
//! The **self-influence** of `k` is its influence on its own loss: large values mark rows the
//! rest of the data does not explain — outliers and flipped labels.
//!
//! # Estimators
//! - [`GlmInfluence`] (`glm.rs`): the exact first-order influence of a GLM,
//!   `w_k ∇L_rᵀ H⁻¹ g_k`, with the (penalised) Hessian of the fitting objective factorised once
//!   by Cholesky (faer); each training row then costs O(p). It differentiates the objective
//!   glassbox really minimises — including, for penalised fits, the dependence of the glmnet
//!   standardisation and of `Σ w` on the removed row — so it predicts the refit glassbox would do.
//! - [`GamInfluence`] (`gam.rs`): the same exact formula for GAMs, on the spline model matrix
//!   with the penalty `S_λ` added to the Hessian; the smoothing parameters are held fixed.
//! - [`NamInfluence`] (`nam.rs`): Koh & Liang (2017) for NAMs, inverse-Hessian-vector products
//!   by conjugate gradients or LiSSA with damping; an ensemble's influence is the mean of its
//!   members'.
//! - [`BoostIn`] (`boostin.rs`): Brophy, Hammoudeh & Lowd (JMLR 2023), TracIn adapted to
//!   gradient-boosted trees, for glassbox-trained GBDTs, replayed from the model and its training
//!   data (`replay.rs`). O(n·T) to prepare, O(Σ leaf sizes) per explained row.
//! - [`LeafInfluence`] (`leaf_influence.rs`): Sharchilev et al. (ICML 2018), the influence
//!   function with the tree structures fixed and the change of every later tree's gradients
//!   propagated, including the move of the initial constant score. Closer to retraining, but
//!   O(n²·T): for small and medium data.
//! - [`gbdt_exact_loo`] / [`refine_top`] (`exact.rs`): exact leave-one-out retraining for the
//!   few rows an estimator ranks highest — the only way to see split choices that flip when a
//!   row is removed, which both estimators hold fixed.
//!
//! # How GAMs and NAMs plug in
//! The GLM path is split in two: a model-specific part computes, per training row, the *removal
//! gradient* `w_k ∂∇F/∂w_k` and the row's own loss gradient, and the generic
//! [`ParametricInfluence`] combines them with an [`InverseHessian`]. A GAM is a penalised GLM on a
//! spline basis: the model rebuilds the system it solved ([`crate::model::gam::PenalisedSystem`]:
//! model matrix, θ̂ and `S_λ`), `H = XᵀWX + S_λ` goes to [`CholeskyInverse`] unchanged, and the
//! smoothing parameters are held fixed. A NAM cannot form its Hessian: [`NamInfluence`] applies
//! [`ConjugateGradient`] or [`Lissa`] to curvature-vector products of each member's objective
//! (Gauss–Newton by default; the finite-difference Hessian is unusable at the kinks of ReLU/ExU
//! units, see `nam.rs`), with damping, and recomputes the rows' gradients per explained row.
//! Anything else implements [`Influence`] directly.
//!
//! # Ground truth
//! Tests compare with leave-one-out refits: exact refits for GLMs, refits with the smoothing
//! parameters fixed for GAMs, and Koh & Liang's warm-started retraining for NAMs (from-scratch
//! retraining of a net moves it by more than any one row does).
//!
//! # Why here, in `explain`
//! Influence consumes a fitted model and its training data and produces a table, like every other
//! explainer; it does no I/O. It needs model internals (GLM design and family, tree leaves), which
//! the model layer exposes, so it sits above `model` and below `cli`. Rejected: putting it in
//! `model` (it is not part of fitting) or making it a [`crate::explain::Method`] (its output is
//! a row × training-row table, not per-feature attributions, so it does not fit [`Explanation`]).
//!
//! [`Explanation`]: crate::explain::Explanation

/// Implements [`Influence`] for an exact parametric estimator: a type with a `core:`
/// [`parametric::ParametricInfluence`] field and a `gradient(x, y, target)` method giving the
/// gradient of the measured quantity in the model's parameters (GLM, GAM).
macro_rules! gradient_influence {
    ($ty:ty, $method:literal) => {
        impl super::Influence for $ty {
            fn n_train(&self) -> usize {
                self.core.n_train()
            }

            fn method(&self) -> &'static str {
                $method
            }

            fn influence(
                &self,
                x: ndarray::ArrayView1<f64>,
                y: Option<f64>,
                target: super::InfluenceTarget,
            ) -> crate::explain::Result<Vec<f64>> {
                let g = self.gradient(x, y, target)?;
                self.core.influence_of_gradient(&g)
            }

            fn self_influence(&self) -> crate::explain::Result<Vec<f64>> {
                self.core.self_influence()
            }
        }
    };
}

mod boostin;
mod exact;
mod gam;
mod glm;
mod leaf_influence;
mod nam;
mod parametric;
mod replay;
mod table;

pub use boostin::BoostIn;
pub use exact::{gbdt_exact_loo, refine_top, top_by_magnitude, ExactTop};
pub use gam::GamInfluence;
pub use glm::GlmInfluence;
pub use leaf_influence::LeafInfluence;
pub use nam::{Curvature, Ihvp, NamInfluence, NamInfluenceParams};
pub use parametric::{
    CholeskyInverse, ConjugateGradient, InverseHessian, Lissa, ParametricInfluence,
};
pub use table::{influence_table, InfluenceRow, InfluenceTable, SelfInfluence};

use ndarray::ArrayView1;

use super::Result;

/// Training rows kept per side (helpful / harmful) per explained row unless asked otherwise.
pub const DEFAULT_TOP: usize = 10;

/// What an influence score measures the change of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InfluenceTarget {
    /// The explained row's loss (needs its label): GLM unit deviance / 2 (log-loss for a
    /// binomial model, half the squared error for a Gaussian one), the boosting objective's loss.
    #[default]
    Loss,
    /// The explained row's raw prediction (linear predictor, raw boosting score); needs no label.
    Prediction,
}

/// An influence estimator over a fixed training set.
///
/// Implementations are fitted to one model and its training data; they are `Send + Sync` so
/// explained rows can be processed in parallel.
pub trait Influence: Send + Sync {
    /// Number of training rows (the length of every influence vector).
    fn n_train(&self) -> usize;

    /// A short name of the method, for provenance (`"glm-exact"`, `"boostin"`).
    fn method(&self) -> &'static str;

    /// The influence of every training row on one explained row `x` (encoded features in the
    /// model's schema order) with label `y` (needed for [`InfluenceTarget::Loss`]).
    ///
    /// # Errors
    /// [`crate::explain::ExplainError::InvalidParam`] when the loss is asked for without a label,
    /// [`crate::explain::ExplainError::Unsupported`] for a target the method cannot measure.
    fn influence(
        &self,
        x: ArrayView1<f64>,
        y: Option<f64>,
        target: InfluenceTarget,
    ) -> Result<Vec<f64>>;

    /// The self-influence of every training row: its influence on its own loss.
    ///
    /// # Errors
    /// Implementation-specific numerical failures.
    fn self_influence(&self) -> Result<Vec<f64>>;
}

fn need_label(y: Option<f64>) -> Result<f64> {
    y.ok_or_else(|| super::ExplainError::InvalidParam {
        name: "target",
        value: "loss".into(),
        reason: "the influence on a row's loss needs its label: add the target column to the explained rows, or ask for the influence on the prediction".into(),
    })
}

#[cfg(test)]
mod autotraits {
    fn send_sync<T: Send + Sync>() {}
    #[test]
    fn public_types_are_send_sync() {
        send_sync::<super::GlmInfluence>();
        send_sync::<super::GamInfluence>();
        send_sync::<super::NamInfluence>();
        send_sync::<super::BoostIn>();
        send_sync::<super::LeafInfluence>();
        send_sync::<super::InfluenceTable>();
        send_sync::<super::ParametricInfluence>();
        send_sync::<super::ExactTop>();
    }
}
