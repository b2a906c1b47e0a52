//! A NAM member's training objective as a function of a flat parameter vector, and warm-started
//! refits by full-batch L-BFGS.
//!
//! Influence functions differentiate the objective each member minimised
//! (`crate::explain::influence::NamInfluence`), and their ground truth is Koh & Liang's (2017)
//! protocol: retrain without a row, *warm-started* from the fitted parameters, to the nearby
//! optimum. Both need the objective without the randomness of training: here it is the
//! module-doc loss of [`super::train`] over the member's whole training split, with dropout and
//! feature dropout off (they are training-time noise; at evaluation the nets run without them):
//!
//! ```text
//! F(θ) = (1/N) Σ_{i ∈ T} [ ℓ(yᵢ, raw(xᵢ)) + λ_out/m Σⱼ fⱼ(xᵢⱼ)² ]  +  λ_wd/(2m) ‖θ‖²
//! ```
//!
//! with T the member's training rows (its validation rows excluded), N = |T|, m features.
//! Gradients are the hand-derived ones of training ([`super::train::batch_loss_grad`]).
//!
//! Why L-BFGS for the refit: the objective is deterministic and full-batch, and L-BFGS reaches a
//! small gradient in a few hundred steps where Adam would need thousands; the refit's quality is
//! reported as the largest final gradient norm.

use ndarray::ArrayView1;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::train::{
    batch_loss_grad, forward_batch, member_slices_mut, member_split, prepare, Col, Data, Penalties,
    Workspace,
};
use super::{Input, Member, Nam, NamTask};
use crate::data::Dataset;
use crate::model::{ModelError, Result};

/// What a NAM's members minimised, recorded with the model: the penalties and the seed and
/// fraction of each member's validation split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamObjective {
    /// λ_wd: weight decay `λ/(2·features) · Σθ²`.
    pub weight_decay: f64,
    /// λ_out: output penalty `λ · mean of f_j(x)²`.
    pub output_penalty: f64,
    /// Seed of training (it fixes each member's validation split).
    pub seed: u64,
    /// Fraction of rows each member held out.
    pub validation_fraction: f64,
}

/// One member's training objective over its training rows, on flat parameter vectors (the bias,
/// then per feature its net's weights and its learned values, in schema order).
pub struct MemberObjective {
    template: Member,
    data: Data,
    inputs: Vec<Input>,
    rows: Vec<usize>,
    pen: Penalties,
    theta: Vec<f64>,
}

fn flatten(m: &Member) -> Vec<f64> {
    let mut c = m.clone();
    member_slices_mut(&mut c)
        .into_iter()
        .flatten()
        .map(|v| *v)
        .collect()
}

impl MemberObjective {
    /// Number of parameters.
    pub fn dim(&self) -> usize {
        self.theta.len()
    }

    /// The fitted parameters.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// The training rows in the objective (indices into the training data); the member's
    /// validation rows are not among them.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    fn member(&self, theta: &[f64]) -> Member {
        let mut m = self.template.clone();
        let mut at = 0;
        for s in member_slices_mut(&mut m) {
            s.copy_from_slice(&theta[at..at + s.len()]);
            at += s.len();
        }
        m
    }

    fn grad_on(
        &self,
        theta: &[f64],
        data: &Data,
        rows: &[usize],
        pen: &Penalties,
        grad: &mut [f64],
    ) -> f64 {
        let member = self.member(theta);
        let mut g = super::train::zeros_like(&member);
        let mut ws = Workspace::default();
        let v = batch_loss_grad::<ChaCha8Rng>(&member, data, rows, pen, None, &mut g, &mut ws);
        for (o, x) in grad.iter_mut().zip(flatten(&g)) {
            *o = x;
        }
        v
    }

    /// `F(θ)` over `rows` (the training rows, or a subset for a leave-one-out refit), its
    /// gradient written into `grad`.
    pub fn value_grad_on(&self, theta: &[f64], rows: &[usize], grad: &mut [f64]) -> f64 {
        self.grad_on(theta, &self.data, rows, &self.pen, grad)
    }

    /// `F(θ)` over the training rows, its gradient written into `grad`.
    pub fn value_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.value_grad_on(theta, &self.rows, grad)
    }

    /// The mean over the training rows of their terms' gradients (`F` without weight decay),
    /// written into `grad`.
    pub fn data_grad(&self, theta: &[f64], grad: &mut [f64]) {
        let pen = Penalties {
            weight_decay: 0.0,
            ..self.pen
        };
        self.grad_on(theta, &self.data, &self.rows, &pen, grad);
    }

    /// The gradient of training row `k`'s term of `F` (its loss and output penalty, no weight
    /// decay), written into `grad`.
    pub fn row_grad(&self, theta: &[f64], k: usize, grad: &mut [f64]) {
        let pen = Penalties {
            weight_decay: 0.0,
            ..self.pen
        };
        self.grad_on(theta, &self.data, &[k], &pen, grad);
    }

    /// The member's raw outputs on its training rows at `theta` (no dropout).
    fn outputs(&self, theta: &[f64]) -> Vec<f64> {
        let member = self.member(theta);
        let mut ws = Workspace::sized(self.data.cols.len());
        let mut out = Vec::with_capacity(self.rows.len());
        for chunk in self.rows.chunks(1024) {
            forward_batch::<ChaCha8Rng>(&member, &self.data, chunk, &self.pen, None, &mut ws);
            out.extend_from_slice(&ws.logit);
        }
        out
    }

    /// The generalised Gauss–Newton product `G v` at the fitted parameters (Martens 2010;
    /// Schraudolph 2002): `(1/N) Σᵢ ℓ″ᵢ (∇zᵢ·v) ∇zᵢ + λ_wd/m · v`, with zᵢ the raw output of
    /// training row i. `G` is positive semi-definite and, unlike `H`, has no contribution from
    /// the kinks of the ReLU/ExU units. The curvature of the output penalty is left out (it is
    /// λ_out ≈ 1e-3 against the loss's). `∇zᵢ·v` is a central difference of the outputs (bounded
    /// at a kink: the mean of the two slopes); `Σ cᵢ ∇zᵢ` is one backward pass of the squared loss
    /// at targets `zᵢ − cᵢ`.
    pub fn gauss_newton_product(&self, v: &[f64], out: &mut [f64]) {
        let p = v.len();
        let vn = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if vn == 0.0 {
            out.iter_mut().for_each(|o| *o = 0.0);
            return;
        }
        let eps = 1e-5 / vn;
        let plus: Vec<f64> = (0..p).map(|i| self.theta[i] + eps * v[i]).collect();
        let minus: Vec<f64> = (0..p).map(|i| self.theta[i] - eps * v[i]).collect();
        let (zp, zm, z) = (
            self.outputs(&plus),
            self.outputs(&minus),
            self.outputs(&self.theta),
        );
        let mut data = self.data.clone();
        data.task = NamTask::Regression;
        for (j, &i) in self.rows.iter().enumerate() {
            let jv = (zp[j] - zm[j]) / (2.0 * eps);
            let curv = match self.data.task {
                NamTask::Binary => {
                    let s = crate::model::sigmoid(z[j]);
                    s * (1.0 - s)
                }
                NamTask::Regression => 1.0,
            };
            data.y[i] = z[j] - curv * jv;
        }
        let pen = Penalties {
            dropout: 0.0,
            feature_dropout: 0.0,
            weight_decay: 0.0,
            output_penalty: 0.0,
        };
        self.grad_on(&self.theta, &data, &self.rows, &pen, out);
        let c = self.pen.weight_decay / self.data.cols.len() as f64;
        for (o, x) in out.iter_mut().zip(v) {
            *o += c * x;
        }
    }

    /// The member's raw output at an encoded row `x` (schema order, raw units; standardised
    /// training units for regression), its gradient in θ written into `grad`.
    ///
    /// Computed with the training gradient code: under the squared loss ½(z − y)², the
    /// gradients at y = 0 and y = 1 differ by exactly ∇z, and the bias's gradient at y = 0 is z.
    pub fn output_grad(&self, theta: &[f64], x: ArrayView1<f64>, grad: &mut [f64]) -> f64 {
        let cols = self
            .inputs
            .iter()
            .zip(x.iter())
            .map(|(input, &v)| match input {
                Input::Numeric { .. } => {
                    Col::Numeric(vec![if v.is_nan() { v } else { input.standardise(v) }])
                }
                Input::Categorical { levels } => Col::Categorical {
                    codes: vec![if v >= 0.0 && v < *levels as f64 && v.fract() == 0.0 {
                        v as usize
                    } else {
                        *levels
                    }],
                    levels: *levels,
                },
            })
            .collect::<Vec<_>>();
        let pen = Penalties {
            dropout: 0.0,
            feature_dropout: 0.0,
            weight_decay: 0.0,
            output_penalty: 0.0,
        };
        let mut data = Data {
            cols,
            y: vec![0.0],
            task: NamTask::Regression,
            activation: self.data.activation,
        };
        let mut g0 = vec![0.0; grad.len()];
        self.grad_on(theta, &data, &[0], &pen, &mut g0);
        data.y[0] = 1.0;
        self.grad_on(theta, &data, &[0], &pen, grad);
        for (o, a) in grad.iter_mut().zip(&g0) {
            *o = a - *o;
        }
        g0[0]
    }
}

/// Full-batch L-BFGS (memory 10, Armijo backtracking) on `f` from `x`, until the gradient norm
/// is at most `gtol` or `max_iter` steps; returns the final gradient norm.
fn lbfgs(f: impl Fn(&[f64], &mut [f64]) -> f64, x: &mut [f64], gtol: f64, max_iter: usize) -> f64 {
    let p = x.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
    let mut g = vec![0.0; p];
    let mut fx = f(x, &mut g);
    let (mut ss, mut ys): (Vec<Vec<f64>>, Vec<Vec<f64>>) = (Vec::new(), Vec::new());
    let mut gn = dot(&g, &g).sqrt();
    for _ in 0..max_iter {
        if gn <= gtol {
            break;
        }
        // Two-loop recursion: d = −H g.
        let mut q = g.clone();
        let mut alpha = vec![0.0; ss.len()];
        for i in (0..ss.len()).rev() {
            let rho = 1.0 / dot(&ys[i], &ss[i]);
            alpha[i] = rho * dot(&ss[i], &q);
            q.iter_mut()
                .zip(&ys[i])
                .for_each(|(a, y)| *a -= alpha[i] * y);
        }
        if let (Some(s), Some(y)) = (ss.last(), ys.last()) {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|a| *a *= gamma);
        } else {
            let scale = 1e-3 / gn.max(1e-300);
            q.iter_mut().for_each(|a| *a *= scale.min(1.0));
        }
        for i in 0..ss.len() {
            let rho = 1.0 / dot(&ys[i], &ss[i]);
            let beta = rho * dot(&ys[i], &q);
            q.iter_mut()
                .zip(&ss[i])
                .for_each(|(a, s)| *a += (alpha[i] - beta) * s);
        }
        let mut d: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            ss.clear();
            ys.clear();
            d = g.iter().map(|v| -v * 1e-3 / gn).collect();
            slope = dot(&g, &d);
        }
        let mut t = 1.0;
        let mut xn = vec![0.0; p];
        let mut gnew = vec![0.0; p];
        let mut accepted = false;
        for _ in 0..40 {
            xn.iter_mut()
                .zip(x.iter())
                .zip(&d)
                .for_each(|((o, a), b)| *o = a + t * b);
            let fn_ = f(&xn, &mut gnew);
            if fn_.is_finite() && fn_ <= fx + 1e-4 * t * slope {
                fx = fn_;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            break;
        }
        let s: Vec<f64> = xn.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gnew.iter().zip(&g).map(|(a, b)| a - b).collect();
        if dot(&s, &y) > 1e-12 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
            ss.push(s);
            ys.push(y);
            if ss.len() > 10 {
                ss.remove(0);
                ys.remove(0);
            }
        }
        x.copy_from_slice(&xn);
        g.copy_from_slice(&gnew);
        gn = dot(&g, &g).sqrt();
    }
    gn
}

impl Nam {
    /// Each member's training objective (see the module docs) over `train`, the data the model
    /// was trained on.
    ///
    /// # Errors
    /// [`ModelError::Training`] when the model does not record its objective (saved by an older
    /// glassbox: retrain it) or `train` is not its training data (different standardisation or
    /// row count).
    pub fn member_objectives(&self, train: &Dataset) -> Result<Vec<MemberObjective>> {
        let obj = self.objective.as_ref().ok_or_else(|| {
            ModelError::Training(
                "this NAM's model file does not record its training objective (saved by an older glassbox): retrain it to compute influence".into(),
            )
        })?;
        let (data, inputs, y_offset, y_scale) = prepare(train, self.activation)?;
        let n = train.n_rows();
        let same_rows = self
            .report
            .members
            .iter()
            .all(|r| r.train_rows + r.validation_rows == n);
        if inputs != self.inputs
            || y_offset != self.y_offset
            || y_scale != self.y_scale
            || !same_rows
        {
            return Err(ModelError::Training(format!(
                "these {n} rows are not the data the NAM was trained on (row count or feature standardisation differs): pass its exact training data"
            )));
        }
        let pen = Penalties {
            dropout: 0.0,
            feature_dropout: 0.0,
            weight_decay: obj.weight_decay,
            output_penalty: obj.output_penalty,
        };
        Ok(self
            .members
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let (_, _, mut rows) = member_split(obj.seed, k, n, obj.validation_fraction);
                rows.sort_unstable();
                MemberObjective {
                    template: m.clone(),
                    data: data.clone(),
                    inputs: inputs.clone(),
                    rows,
                    pen,
                    theta: flatten(m),
                }
            })
            .collect())
    }

    /// Retrains every member from its current parameters by full-batch L-BFGS on its training
    /// objective without training row `without` (all rows: `None`), for at most `max_iter`
    /// steps or until the gradient norm is at most `gtol`. Returns the refitted model and the
    /// largest final gradient norm over the members. With `without = None` this polishes a
    /// model to its optimum; with a row, it is Koh & Liang's warm-started leave-one-out
    /// retraining, the ground truth of influence estimates.
    ///
    /// # Errors
    /// As [`Nam::member_objectives`].
    pub fn refit_warm(
        &self,
        train: &Dataset,
        without: Option<usize>,
        gtol: f64,
        max_iter: usize,
    ) -> Result<(Nam, f64)> {
        let objectives = self.member_objectives(train)?;
        let mut out = self.clone();
        let mut worst: f64 = 0.0;
        for (member, obj) in out.members.iter_mut().zip(&objectives) {
            let rows: Vec<usize> = obj
                .rows
                .iter()
                .copied()
                .filter(|&i| Some(i) != without)
                .collect();
            let mut theta = obj.theta.clone();
            let gn = lbfgs(
                |t, g| obj.value_grad_on(t, &rows, g),
                &mut theta,
                gtol,
                max_iter,
            );
            worst = worst.max(gn);
            *member = obj.member(&theta);
        }
        // Centres as training sets them (and a never-missing feature's missing value = centre).
        let centers = super::train::term_means(&out, train);
        let never_missing: Vec<bool> = (0..train.n_features())
            .map(|j| !train.x().column(j).iter().any(|v| v.is_nan()))
            .collect();
        for (member, c) in out.members.iter_mut().zip(centers) {
            for ((t, c), &never) in member.terms.iter_mut().zip(c).zip(&never_missing) {
                t.center = c;
                if never {
                    if let Some(v) = t.values.last_mut() {
                        *v = c;
                    }
                }
            }
        }
        Ok((out, worst))
    }
}
