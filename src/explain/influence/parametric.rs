//! The model-independent half of influence functions for smooth models (Koh & Liang 2017,
//! "Understanding black-box predictions via influence functions", ICML): given per-row removal
//! gradients and an inverse-Hessian operator, influence is a dot product.
//!
//! For an objective `F(θ; w) = Σ wᵢ ℓᵢ(θ) + R(θ; w)` minimised at θ̂, removing row k (w_k → 0)
//! moves the optimum by `Δθ ≈ w_k H⁻¹ g_k` with `H = ∇²F(θ̂)` and `g_k = ∂∇F/∂w_k` (the implicit
//! function theorem, first order). The explained row's loss then changes by
//! `∇L_rᵀ Δθ = ∇L_rᵀ H⁻¹ (w_k g_k)`: one inverse-Hessian-vector product per explained row, then
//! one dot product of length p per training row.

use faer::linalg::solvers::{Llt, Solve};
use faer::{Mat, Side};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::explain::{ExplainError, Result};

/// Applies `H⁻¹` to vectors: the one operation influence needs from a Hessian.
///
/// Exact for GLMs and GAMs ([`CholeskyInverse`]); iterative for models whose Hessian is only
/// available through Hessian-vector products ([`ConjugateGradient`]).
pub trait InverseHessian: Send + Sync {
    /// Dimension p.
    fn dim(&self) -> usize;
    /// Overwrites `v` (length p) with `H⁻¹ v`.
    ///
    /// # Errors
    /// When an iterative solver fails to converge.
    fn solve(&self, v: &mut [f64]) -> Result<()>;
    /// Overwrites each column of `m` (p × c) with `H⁻¹` times it. The default solves column by
    /// column; factorised solvers override it with one blocked solve.
    ///
    /// # Errors
    /// As [`InverseHessian::solve`].
    fn solve_columns(&self, m: &mut Array2<f64>) -> Result<()> {
        for mut col in m.columns_mut() {
            let mut v = col.to_vec();
            self.solve(&mut v)?;
            col.iter_mut().zip(&v).for_each(|(c, x)| *c = *x);
        }
        Ok(())
    }
}

/// `H⁻¹` by a Cholesky factorisation (faer), computed once: each solve is then O(p²).
pub struct CholeskyInverse {
    llt: Llt<f64>,
    p: usize,
}

impl CholeskyInverse {
    /// Factorises the symmetric positive definite `h` (p × p).
    ///
    /// # Errors
    /// [`ExplainError::Unsupported`] when `h` is not numerically positive definite (a singular
    /// design, or a fit at a saddle point).
    pub fn new(h: ArrayView2<f64>) -> Result<CholeskyInverse> {
        let p = h.nrows();
        if h.ncols() != p {
            return Err(ExplainError::Shape(format!(
                "Hessian is {}×{}",
                p,
                h.ncols()
            )));
        }
        let m = Mat::<f64>::from_fn(p, p, |i, j| h[[i, j]]);
        let llt = m.llt(Side::Lower).map_err(|_| {
            ExplainError::Unsupported(
                "the Hessian of the fitting objective is not positive definite (a collinear design or an unconverged fit?): refit with an L2 penalty (--l2) or drop collinear columns".into(),
            )
        })?;
        Ok(CholeskyInverse { llt, p })
    }
}

impl InverseHessian for CholeskyInverse {
    fn dim(&self) -> usize {
        self.p
    }

    fn solve(&self, v: &mut [f64]) -> Result<()> {
        let mut m = Mat::<f64>::from_fn(self.p, 1, |i, _| v[i]);
        self.llt.solve_in_place(&mut m);
        for (i, x) in v.iter_mut().enumerate() {
            *x = m[(i, 0)];
        }
        Ok(())
    }

    fn solve_columns(&self, m: &mut Array2<f64>) -> Result<()> {
        let (p, c) = m.dim();
        let mut f = Mat::<f64>::from_fn(p, c, |i, j| m[[i, j]]);
        self.llt.solve_in_place(&mut f);
        m.indexed_iter_mut().for_each(|((i, j), x)| *x = f[(i, j)]);
        Ok(())
    }
}

/// `(H + δI)⁻¹ v` by conjugate gradients on Hessian-vector products — the route for models whose
/// Hessian is too large to form (NAMs; Koh & Liang 2017, §3). `δ` is the damping that makes a
/// non-convex model's Hessian positive definite; 0 for convex models.
pub struct ConjugateGradient<F> {
    hvp: F,
    p: usize,
    damping: f64,
    tol: f64,
    max_iter: usize,
}

impl<F: Fn(&[f64], &mut [f64]) + Send + Sync> ConjugateGradient<F> {
    /// `hvp(v, out)` writes `H v` into `out`. Defaults: relative residual 1e-10, at most
    /// `10·p` iterations.
    pub fn new(hvp: F, p: usize, damping: f64) -> Self {
        ConjugateGradient {
            hvp,
            p,
            damping,
            tol: 1e-10,
            max_iter: 10 * p.max(1),
        }
    }

    /// Relative residual ‖r‖/‖b‖ at which to stop.
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Iteration limit.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }
}

impl<F: Fn(&[f64], &mut [f64]) + Send + Sync> InverseHessian for ConjugateGradient<F> {
    fn dim(&self) -> usize {
        self.p
    }

    fn solve(&self, v: &mut [f64]) -> Result<()> {
        let p = self.p;
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let b_norm = dot(v, v).sqrt();
        if b_norm == 0.0 {
            return Ok(());
        }
        let mut x = vec![0.0; p];
        let mut r = v.to_vec();
        let mut d = r.clone();
        let mut hd = vec![0.0; p];
        let mut rr = dot(&r, &r);
        for _ in 0..self.max_iter {
            if rr.sqrt() <= self.tol * b_norm {
                v.copy_from_slice(&x);
                return Ok(());
            }
            (self.hvp)(&d, &mut hd);
            hd.iter_mut()
                .zip(&d)
                .for_each(|(h, di)| *h += self.damping * di);
            let dhd = dot(&d, &hd);
            if !(dhd > 0.0) {
                return Err(ExplainError::Unsupported(format!(
                    "conjugate gradients met a direction of non-positive curvature ({dhd:e}): the Hessian is not positive definite; raise the damping"
                )));
            }
            let a = rr / dhd;
            for i in 0..p {
                x[i] += a * d[i];
                r[i] -= a * hd[i];
            }
            let rr_new = dot(&r, &r);
            let beta = rr_new / rr;
            rr = rr_new;
            for i in 0..p {
                d[i] = r[i] + beta * d[i];
            }
        }
        if rr.sqrt() <= self.tol * b_norm {
            v.copy_from_slice(&x);
            return Ok(());
        }
        Err(ExplainError::Unsupported(format!(
            "conjugate gradients did not reach a relative residual of {:e} in {} iterations (at {:e}); raise the damping or the iteration limit",
            self.tol,
            self.max_iter,
            rr.sqrt() / b_norm
        )))
    }
}

/// `(H + δI)⁻¹ v` by LiSSA (Agarwal, Bullins & Hazan 2017, as used by Koh & Liang 2017): the
/// recursion `h ← v + (I − (H + δI)/s) h`, whose limit is `s (H + δI)⁻¹ v`, run `depth` steps.
/// Here every Hessian-vector product is exact (full batch), so the recursion is a truncated
/// Neumann series rather than a stochastic estimate, and one repeat suffices. The scale `s`
/// must exceed the largest eigenvalue of `H + δI`: by default 1.5× a 30-step power-iteration
/// estimate of it. The error shrinks like `(1 − (λ_min + δ)/s)^depth`, so LiSSA needs more
/// products than CG for the same accuracy; it is offered because it never needs `H + δI` to be
/// positive definite in the directions it does not reach, and for comparison with the paper.
pub struct Lissa<F> {
    hvp: F,
    p: usize,
    damping: f64,
    scale: f64,
    depth: usize,
}

impl<F: Fn(&[f64], &mut [f64]) + Send + Sync> Lissa<F> {
    /// `hvp(v, out)` writes `H v` into `out`; `depth` recursion steps; `scale` as above, or
    /// `None` to estimate it.
    pub fn new(hvp: F, p: usize, damping: f64, depth: usize, scale: Option<f64>) -> Self {
        let scale = scale.unwrap_or_else(|| {
            // Power iteration from a fixed, non-special start (deterministic).
            let mut v: Vec<f64> = (0..p)
                .map(|i| 1.0 + ((i * 7919) % 13) as f64 / 13.0)
                .collect();
            let mut hv = vec![0.0; p];
            let mut lam: f64 = 0.0;
            for _ in 0..30 {
                let n = v.iter().map(|a| a * a).sum::<f64>().sqrt();
                if n == 0.0 {
                    break;
                }
                v.iter_mut().for_each(|a| *a /= n);
                hvp(&v, &mut hv);
                lam = hv.iter().map(|a| a * a).sum::<f64>().sqrt();
                std::mem::swap(&mut v, &mut hv);
            }
            1.5 * (lam + damping.abs()).max(1e-12)
        });
        Lissa {
            hvp,
            p,
            damping,
            scale,
            depth,
        }
    }

    /// The scale `s` in use.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

impl<F: Fn(&[f64], &mut [f64]) + Send + Sync> InverseHessian for Lissa<F> {
    fn dim(&self) -> usize {
        self.p
    }

    fn solve(&self, v: &mut [f64]) -> Result<()> {
        let mut h = v.to_vec();
        let mut hh = vec![0.0; self.p];
        let v_norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        for _ in 0..self.depth {
            (self.hvp)(&h, &mut hh);
            for i in 0..self.p {
                h[i] = v[i] + h[i] - (hh[i] + self.damping * h[i]) / self.scale;
            }
        }
        let h_norm = h.iter().map(|a| a * a).sum::<f64>().sqrt();
        if !h_norm.is_finite() || h_norm > 1e12 * v_norm.max(1e-300) {
            return Err(ExplainError::Unsupported(format!(
                "LiSSA diverged (scale {:e}): the damped Hessian has negative eigenvalues; raise the damping",
                self.scale
            )));
        }
        for (o, x) in v.iter_mut().zip(&h) {
            *o = x / self.scale;
        }
        Ok(())
    }
}

/// Influence of a smooth model from per-row removal gradients and an [`InverseHessian`].
pub struct ParametricInfluence {
    /// n × p: row k is `w_k ∂∇F/∂w_k`, the change of the objective's gradient per removed row.
    removal: Array2<f64>,
    /// n × p: row k is the gradient of row k's own loss (for self-influence).
    own: Array2<f64>,
    inverse: Box<dyn InverseHessian>,
}

impl ParametricInfluence {
    /// Assembles an estimator.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] when the matrices and the operator disagree in size.
    pub fn new(
        removal: Array2<f64>,
        own: Array2<f64>,
        inverse: Box<dyn InverseHessian>,
    ) -> Result<ParametricInfluence> {
        let p = inverse.dim();
        if removal.ncols() != p || own.dim() != removal.dim() {
            return Err(ExplainError::Shape(format!(
                "removal gradients {:?}, own gradients {:?}, Hessian of dimension {p}",
                removal.dim(),
                own.dim()
            )));
        }
        Ok(ParametricInfluence {
            removal,
            own,
            inverse,
        })
    }

    /// Number of training rows.
    pub fn n_train(&self) -> usize {
        self.removal.nrows()
    }

    /// Influence of every training row on an explained row whose loss (or output) has gradient
    /// `grad` with respect to the parameters: `removal · H⁻¹ grad`.
    ///
    /// # Errors
    /// As [`InverseHessian::solve`].
    pub fn influence_of_gradient(&self, grad: &[f64]) -> Result<Vec<f64>> {
        let mut v = grad.to_vec();
        self.inverse.solve(&mut v)?;
        let v = ndarray::ArrayView1::from(&v[..]);
        let mut out = vec![0.0; self.n_train()];
        out.par_iter_mut()
            .zip(self.removal.axis_iter(Axis(0)).into_par_iter())
            .with_min_len(4096)
            .for_each(|(o, r)| *o = r.dot(&v));
        Ok(out)
    }

    /// Self-influence of every training row: `removal_k · H⁻¹ own_k`, by blocked solves.
    ///
    /// # Errors
    /// As [`InverseHessian::solve`].
    pub fn self_influence(&self) -> Result<Vec<f64>> {
        let n = self.n_train();
        let mut out = vec![0.0; n];
        const BLOCK: usize = 2048;
        for start in (0..n).step_by(BLOCK) {
            let end = (start + BLOCK).min(n);
            let mut m = self.own.slice(ndarray::s![start..end, ..]).t().to_owned();
            self.inverse.solve_columns(&mut m)?;
            for (k, o) in out[start..end].iter_mut().enumerate() {
                *o = self.removal.row(start + k).dot(&m.column(k));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cg_matches_cholesky() {
        let h = array![[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let chol = CholeskyInverse::new(h.view()).unwrap();
        let hh = h.clone();
        let cg = ConjugateGradient::new(
            move |v: &[f64], out: &mut [f64]| {
                for i in 0..3 {
                    out[i] = (0..3).map(|j| hh[[i, j]] * v[j]).sum();
                }
            },
            3,
            0.0,
        );
        let mut a = vec![1.0, -2.0, 0.5];
        let mut b = a.clone();
        chol.solve(&mut a).unwrap();
        cg.solve(&mut b).unwrap();
        for i in 0..3 {
            assert!((a[i] - b[i]).abs() < 1e-10, "{a:?} vs {b:?}");
        }
        // H a = original vector
        let back: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| h[[i, j]] * a[j]).sum())
            .collect();
        for (x, y) in back.iter().zip([1.0, -2.0, 0.5]) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn lissa_matches_cholesky() {
        let h = array![[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let chol = CholeskyInverse::new(h.view()).unwrap();
        let hh = h.clone();
        let lissa = Lissa::new(
            move |v: &[f64], out: &mut [f64]| {
                for i in 0..3 {
                    out[i] = (0..3).map(|j| hh[[i, j]] * v[j]).sum();
                }
            },
            3,
            0.0,
            400,
            None,
        );
        let mut a = vec![1.0, -2.0, 0.5];
        let mut b = a.clone();
        chol.solve(&mut a).unwrap();
        lissa.solve(&mut b).unwrap();
        for i in 0..3 {
            assert!((a[i] - b[i]).abs() < 1e-10, "{a:?} vs {b:?}");
        }
        // Too few steps is visibly wrong: the check can fail.
        let hh = h.clone();
        let short = Lissa::new(
            move |v: &[f64], out: &mut [f64]| {
                for i in 0..3 {
                    out[i] = (0..3).map(|j| hh[[i, j]] * v[j]).sum();
                }
            },
            3,
            0.0,
            2,
            None,
        );
        let mut c = vec![1.0, -2.0, 0.5];
        short.solve(&mut c).unwrap();
        assert!((0..3).any(|i| (a[i] - c[i]).abs() > 1e-3));
    }

    #[test]
    fn cholesky_refuses_indefinite() {
        let h = array![[1.0, 2.0], [2.0, 1.0]];
        assert!(CholeskyInverse::new(h.view()).is_err());
    }
}
