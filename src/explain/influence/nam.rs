//! Influence functions for NAMs (Koh & Liang 2017): inverse-Hessian-vector products by
//! conjugate gradients or LiSSA, on each member's training objective.
//!
//! # What is differentiated
//! Each member k minimised `F_k(θ) = (1/N) Σ_{i∈T_k} φᵢ(θ) + λ_wd/(2m) ‖θ‖²` over its training
//! rows T_k (its validation rows excluded; φᵢ = row loss + output penalty; dropout off, see
//! [`crate::model::nam::MemberObjective`]). With the rows' weights wᵢ in place of 1/N, removing
//! row i changes the gradient by `gᵢ = (1/N)(∇φᵢ − mean_{j∈T_k} ∇φⱼ)` — the exact weight
//! derivative of the normalised objective — and moves the member by `Δθ ≈ (H + δI)⁻¹ gᵢ`. A row
//! in a member's validation split does not enter its objective: that member's part is 0.
//!
//! # The ensemble
//! The ensemble's raw score is `offset + scale · (1/K) Σ_k raw_k`, so to first order the change
//! of the explained row's loss is `Σ_k ℓ′ · scale/K · ∇raw_kᵀ Δθ_k`: the **mean over members** of
//! each member's influence on the ensemble's loss, through that member's output.
//!
//! # Hessian-vector products, damping
//! `H v` is a central difference of the hand-derived gradients,
//! `(∇F(θ + εv) − ∇F(θ − εv)) / 2ε` with `ε‖v‖ = 1e-5`: two full-batch gradients per product,
//! exact up to O(ε²) where the objective is smooth (ExU and ReLU units are piecewise linear, so a
//! row whose unit sits within ε of a kink contributes a difference quotient instead of the
//! one-sided curvature). Pearlmutter's R-operator would avoid ε but doubles the hand-written
//! backward pass. A net is not convex and an early-stopped one is not at a minimum, so `H` may
//! have negative or tiny eigenvalues; the damping δ (Koh & Liang use 0.01) makes `H + δI`
//! positive definite and is an option. CG stops at a relative residual of 1e-6 (at most
//! `max_iter` products); LiSSA runs a fixed depth.
//!
//! Per explained row the cost is one solve per member plus n single-row backward passes: the
//! rows' gradients are recomputed rather than stored, as n × p floats per member would not fit
//! in memory for the default nets on adult-sized data.
//!
//! # Ground truth
//! Leave-one-out retraining of a NAM from scratch changes every member's random split, start and
//! batches, which swamps the effect of one row; the ground truth is therefore Koh & Liang's
//! protocol: retrain without the row *warm-started from the fitted parameters*, to the nearby
//! optimum ([`crate::model::nam::Nam::refit_warm`]), after polishing the model to its optimum.

use std::sync::Arc;

use ndarray::ArrayView1;
use rayon::prelude::*;

use super::parametric::{ConjugateGradient, InverseHessian, Lissa};
use super::{need_label, Influence, InfluenceTarget};
use crate::data::Dataset;
use crate::explain::{ExplainError, Result};
use crate::model::nam::{MemberObjective, Nam, NamTask};
use crate::model::{sigmoid, Model};

/// How inverse-Hessian-vector products are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Ihvp {
    /// Conjugate gradients on `H + δI` (fewer products; needs `H + δI` positive definite along
    /// the Krylov directions).
    #[default]
    Cg,
    /// LiSSA's recursion with exact Hessian-vector products.
    Lissa,
}

/// Which curvature matrix the inverse is applied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Curvature {
    /// The generalised Gauss–Newton matrix (positive semi-definite, blind to the units' kinks):
    /// the default, because the exact Hessian of a piecewise-linear net is not usable at its
    /// fitted parameters (see the module docs).
    #[default]
    GaussNewton,
    /// The Hessian, by central differences of the hand-derived gradients.
    Hessian,
}

/// Settings of [`NamInfluence`]. Defaults: Gauss–Newton curvature, conjugate gradients, damping
/// 0.01 (Koh & Liang 2017), at most 500 products per CG solve, LiSSA depth 1000.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NamInfluenceParams {
    curvature: Curvature,
    ihvp: Ihvp,
    damping: f64,
    max_iter: usize,
    lissa_depth: usize,
}

impl Default for NamInfluenceParams {
    fn default() -> Self {
        NamInfluenceParams {
            curvature: Curvature::GaussNewton,
            ihvp: Ihvp::Cg,
            damping: 0.01,
            max_iter: 500,
            lissa_depth: 1000,
        }
    }
}

impl NamInfluenceParams {
    /// The curvature matrix.
    pub fn curvature(mut self, c: Curvature) -> Self {
        self.curvature = c;
        self
    }
    /// The solver.
    pub fn ihvp(mut self, m: Ihvp) -> Self {
        self.ihvp = m;
        self
    }
    /// δ ≥ 0 added to the Hessian's diagonal.
    pub fn damping(mut self, d: f64) -> Self {
        self.damping = d;
        self
    }
    /// Most Hessian-vector products per CG solve.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }
    /// LiSSA recursion depth.
    pub fn lissa_depth(mut self, n: usize) -> Self {
        self.lissa_depth = n;
        self
    }
}

struct MemberPart {
    obj: Arc<MemberObjective>,
    /// Mean over the member's training rows of their gradients.
    mean_grad: Vec<f64>,
    inverse: Box<dyn InverseHessian>,
}

/// Influence estimator of a fitted [`Nam`] on its training data.
pub struct NamInfluence {
    nam: Nam,
    n: usize,
    parts: Vec<MemberPart>,
}

fn hvp_of(
    obj: Arc<MemberObjective>,
    curvature: Curvature,
) -> impl Fn(&[f64], &mut [f64]) + Send + Sync {
    move |v: &[f64], out: &mut [f64]| {
        if curvature == Curvature::GaussNewton {
            obj.gauss_newton_product(v, out);
            return;
        }
        let p = v.len();
        let vn = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if vn == 0.0 {
            out.iter_mut().for_each(|o| *o = 0.0);
            return;
        }
        let eps = 1e-5 / vn;
        let theta = obj.theta();
        let plus: Vec<f64> = (0..p).map(|i| theta[i] + eps * v[i]).collect();
        let minus: Vec<f64> = (0..p).map(|i| theta[i] - eps * v[i]).collect();
        let mut gm = vec![0.0; p];
        obj.value_grad(&plus, out);
        obj.value_grad(&minus, &mut gm);
        for (o, m) in out.iter_mut().zip(&gm) {
            *o = (*o - m) / (2.0 * eps);
        }
    }
}

impl NamInfluence {
    /// Prepares the influence of `nam`'s training rows `train` (its exact training data, with
    /// the target).
    ///
    /// # Errors
    /// [`ExplainError::InvalidParam`] for a negative or non-finite damping, a zero iteration
    /// limit or depth; [`ExplainError::Unsupported`] when the model does not record its training
    /// objective or `train` is not its training data.
    pub fn new(nam: &Nam, train: &Dataset, params: NamInfluenceParams) -> Result<NamInfluence> {
        if !(params.damping.is_finite() && params.damping >= 0.0) {
            return Err(ExplainError::InvalidParam {
                name: "damping",
                value: params.damping.to_string(),
                reason: "must be finite and ≥ 0".into(),
            });
        }
        if params.max_iter == 0 || params.lissa_depth == 0 {
            return Err(ExplainError::InvalidParam {
                name: "max_iter",
                value: "0".into(),
                reason: "at least one Hessian-vector product".into(),
            });
        }
        let objectives = nam
            .member_objectives(train)
            .map_err(|e| ExplainError::Unsupported(e.to_string()))?;
        let parts = objectives
            .into_iter()
            .map(|obj| {
                let obj = Arc::new(obj);
                let p = obj.dim();
                let mut mean_grad = vec![0.0; p];
                obj.data_grad(obj.theta(), &mut mean_grad);
                let inverse: Box<dyn InverseHessian> = match params.ihvp {
                    Ihvp::Cg => Box::new(
                        ConjugateGradient::new(
                            hvp_of(obj.clone(), params.curvature),
                            p,
                            params.damping,
                        )
                        .tolerance(1e-6)
                        .max_iter(params.max_iter),
                    ),
                    Ihvp::Lissa => Box::new(Lissa::new(
                        hvp_of(obj.clone(), params.curvature),
                        p,
                        params.damping,
                        params.lissa_depth,
                        None,
                    )),
                };
                MemberPart {
                    obj,
                    mean_grad,
                    inverse,
                }
            })
            .collect();
        Ok(NamInfluence {
            nam: nam.clone(),
            n: train.n_rows(),
            parts,
        })
    }
}

impl Influence for NamInfluence {
    fn n_train(&self) -> usize {
        self.n
    }

    fn method(&self) -> &'static str {
        "nam-ihvp"
    }

    fn influence(
        &self,
        x: ArrayView1<f64>,
        y: Option<f64>,
        target: InfluenceTarget,
    ) -> Result<Vec<f64>> {
        let k = self.parts.len() as f64;
        let (_, y_scale) = self.nam.target_scale();
        let dl = match target {
            InfluenceTarget::Prediction => 1.0,
            InfluenceTarget::Loss => {
                let y = need_label(y)?;
                let raw = self.nam.predict_raw(x.insert_axis(ndarray::Axis(0)))[[0, 0]];
                match self.nam.task() {
                    NamTask::Binary => sigmoid(raw) - y,
                    NamTask::Regression => raw - y,
                }
            }
        };
        let mut out = vec![0.0; self.n];
        for part in &self.parts {
            let obj = &part.obj;
            let p = obj.dim();
            let mut v = vec![0.0; p];
            obj.output_grad(obj.theta(), x, &mut v);
            let c = dl * y_scale / k;
            v.iter_mut().for_each(|a| *a *= c);
            part.inverse.solve(&mut v)?;
            let nrows = obj.rows().len() as f64;
            let base: f64 = part.mean_grad.iter().zip(&v).map(|(a, b)| a * b).sum();
            let contrib: Vec<(usize, f64)> = obj
                .rows()
                .par_iter()
                .map_init(
                    || vec![0.0; p],
                    |g, &i| {
                        obj.row_grad(obj.theta(), i, g);
                        let d: f64 = g.iter().zip(&v).map(|(a, b)| a * b).sum();
                        (i, (d - base) / nrows)
                    },
                )
                .collect();
            for (i, c) in contrib {
                out[i] += c;
            }
        }
        Ok(out)
    }

    fn self_influence(&self) -> Result<Vec<f64>> {
        Err(ExplainError::Unsupported(
            "self-influence of a NAM needs one inverse-Hessian solve per training row and is not offered; rank training rows with a GLM, GAM or BoostIn instead".into(),
        ))
    }
}
