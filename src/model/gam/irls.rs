//! Penalised IRLS with generalised Fellner–Schall smoothing-parameter updates (the model matrix
//! and penalties come from [`super::fit`]).
//!
//! The model matrix is built in the constrained (θ) parametrisation: a smooth's columns are
//! `B(x) Z` (see [`super::basis`]), a factor's the treatment dummies of its non-reference levels, a
//! tensor's the row-wise Kronecker product of its two constrained marginals. Each IRLS step forms
//! the working weights W and response z (statsmodels' formulas, shared with the GLM through
//! [`Family`] and [`LinkFunction`]), `A = XᵀWX`, and then updates the smoothing parameters with
//! `A` fixed (Wood & Fasiolo 2017, eq. 6):
//!
//!   λⱼ ← φ · [tr(S_λ⁻ Sⱼ) − tr((A + S_λ)⁻¹ Sⱼ)] / (θᵀ Sⱼ θ) · λⱼ,
//!
//! the fixed point of which is the Laplace-approximate REML optimum of the working model
//! (penalised quasi-likelihood for non-Gaussian families, as mgcv's "performance iteration").
//! Before the first step each penalty is scaled so that its Frobenius norm equals that of its
//! block of `XᵀX`, so λ = 1 is a sensible start whatever the feature's units (mgcv does the same).
//!
//! Products are computed with ndarray (single-threaded matrixmultiply: deterministic), the
//! Cholesky factorisation, inverse and eigendecompositions with faer.

use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView1, Axis};

use super::fit::{Mono, Pen};
use super::GamError;
use crate::model::glm::{Family, LinkFunction};

/// Bounds of the internal (normalised) smoothing parameters.
const LAMBDA_MIN: f64 = 1e-7;
const LAMBDA_MAX: f64 = 1e8;
/// Relative size below which the Fellner–Schall numerator tr(S_λ⁻Sⱼ) − tr(V Sⱼ) is taken as zero
/// (rounding noise of two nearly equal traces; see the update in [`solve`]).
const NUM_NOISE: f64 = 1e-6;

/// The result of [`solve`], in the θ parametrisation.
pub(super) struct Solution {
    pub(super) theta: Vec<f64>,
    /// φ (A + S)⁻¹: the Bayesian posterior covariance.
    pub(super) cov: Array2<f64>,
    pub(super) edf_cols: Vec<f64>,
    pub(super) deviance: f64,
    pub(super) scale: f64,
    pub(super) iterations: usize,
    /// How often the λ updates were halved because they reversed direction.
    pub(super) damped: usize,
    pub(super) converged: bool,
}

/// Cholesky solve of `h θ = r`, with the inverse when asked.
pub(super) fn chol(
    h: &Array2<f64>,
    r: &Array1<f64>,
    want_inv: bool,
    it: usize,
) -> Result<(Vec<f64>, Option<Array2<f64>>), GamError> {
    let p = h.nrows();
    let mut ridge = 0.0;
    let maxdiag = (0..p)
        .map(|i| h[[i, i]].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    for attempt in 0..3 {
        let m = Mat::<f64>::from_fn(p, p, |i, j| h[[i, j]] + if i == j { ridge } else { 0.0 });
        if let Ok(llt) = m.llt(Side::Lower) {
            let rhs = Mat::<f64>::from_fn(p, 1, |i, _| r[i]);
            let sol = llt.solve(&rhs);
            let theta: Vec<f64> = (0..p).map(|i| sol[(i, 0)]).collect();
            if theta.iter().all(|v| v.is_finite()) {
                let inv = want_inv.then(|| {
                    let inv = llt.inverse();
                    Array2::from_shape_fn((p, p), |(i, j)| inv[(i, j)])
                });
                return Ok((theta, inv));
            }
        }
        ridge = maxdiag * [1e-12, 1e-9, 1e-6][attempt];
    }
    Err(GamError::Singular { iteration: it })
}

/// tr(S_λ⁻ Sⱼ) for every smoothing penalty: rank/λ for a block with one, an eigendecomposition of
/// the block's Σ λ S otherwise. The fixed null-space ridges are left out: they act on the
/// orthogonal complement of the smoothing penalty's range, so they do not change these traces.
fn pinv_traces(pens: &[Pen], lambda: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; pens.len()];
    let mut j = 0;
    while j < pens.len() {
        if pens[j].null {
            j += 1;
            continue;
        }
        let mut e = j + 1;
        while e < pens.len() && pens[e].start == pens[j].start && !pens[e].null {
            e += 1;
        }
        if e - j == 1 {
            out[j] = pens[j].rank as f64 / lambda[j];
        } else {
            let len = pens[j].len;
            let m = Mat::<f64>::from_fn(len, len, |a, b| {
                (j..e).map(|q| lambda[q] * pens[q].s[a * len + b]).sum()
            });
            // The null space of Σ λ S is that of Σ S whatever the (positive) λ, so its dimension
            // comes from the unweighted sum; the pseudo-inverse then drops exactly that many of
            // the smallest eigenvalues. A threshold relative to the largest eigenvalue instead
            // dropped genuine directions once the λ of a tensor term's two penalties were 10¹⁰
            // apart, which made their updates noise and the fit never converged.
            let plain = Mat::<f64>::from_fn(len, len, |a, b| {
                (j..e).map(|q| pens[q].s[a * len + b]).sum()
            });
            let null_dim = plain
                .self_adjoint_eigen(Side::Lower)
                .map(|evd| {
                    let ev: Vec<f64> = (0..len).map(|i| evd.S()[i]).collect();
                    let top = ev.iter().copied().fold(0.0, f64::max);
                    ev.iter().filter(|&&l| l <= top * 1e-9).count()
                })
                .unwrap_or(0);
            if let Ok(evd) = m.self_adjoint_eigen(Side::Lower) {
                let u = evd.U();
                let s = evd.S();
                let ev: Vec<f64> = (0..len).map(|i| s[i]).collect();
                let mut order: Vec<usize> = (0..len).collect();
                order.sort_by(|&a, &b| ev[a].total_cmp(&ev[b]));
                let mut keep = vec![true; len];
                order.iter().take(null_dim).for_each(|&i| keep[i] = false);
                for q in j..e {
                    let mut tr = 0.0;
                    for (i, &l) in ev.iter().enumerate() {
                        if keep[i] && l > 0.0 {
                            let mut quad = 0.0;
                            for a in 0..len {
                                let ua = u[(a, i)];
                                if ua == 0.0 {
                                    continue;
                                }
                                for b in 0..len {
                                    quad += ua * pens[q].s[a * len + b] * u[(b, i)];
                                }
                            }
                            tr += quad / l;
                        }
                    }
                    out[q] = tr;
                }
            }
        }
        j = e;
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub(super) fn solve(
    family: Family,
    link: LinkFunction,
    x: &Array2<f64>,
    y: ArrayView1<f64>,
    pens: &[Pen],
    monos: &[Mono],
    lambda: &mut [f64],
    auto: bool,
    max_iter: usize,
) -> Result<Solution, GamError> {
    let (n, p) = x.dim();
    let y_mean = y.mean().unwrap_or(0.0);
    let mut mu: Vec<f64> = y.iter().map(|&v| family.starting_mu(v, y_mean)).collect();
    let mut eta: Vec<f64> = mu.iter().map(|&m| link.link(m)).collect();
    let mut theta = vec![0.0; p];
    let mut have_theta = false;
    let mut viol: Vec<Vec<bool>> = monos.iter().map(|m| vec![false; m.len]).collect();
    let mut dev_old = f64::INFINITY;
    let mut converged = false;
    let mut iterations = 0;
    // Damping of the λ updates between IRLS steps (1 = none): the performance iteration can
    // cycle when terms are nearly aliased (many tensor terms), λ and the weights chasing each
    // other. Each reversal of the update direction halves the step in log λ, so a cycle shrinks
    // geometrically; the fit report says when that happened.
    let mut damp = 1.0f64;
    let mut damped = 0usize;
    let mut prev_delta = vec![0.0; pens.len()];
    let mut applied = f64::INFINITY;
    // Gaussian with identity link: the working model is the model, so λ is iterated to its
    // optimum at once. Otherwise one λ update per IRLS step, after the first step (the working
    // model at the starting values says little about the smoothness).
    let gaussian = family == Family::Gaussian && link == LinkFunction::Identity;
    let inner_max = if auto {
        if gaussian {
            100
        } else {
            30
        }
    } else {
        1
    };
    let unit = vec![1.0; n];
    let deviance = |mu: &[f64]| -> f64 {
        y.iter()
            .zip(mu)
            .map(|(&v, &m)| family.unit_deviance(v, m))
            .sum()
    };
    for it in 1..=max_iter {
        iterations = it;
        let (a, r, ww, z) = working(family, link, x, y, &mu, &eta, &unit);
        // Monotone penalty from the current violations.
        let mut mono_changed = false;
        if have_theta {
            for (m, v) in monos.iter().zip(viol.iter_mut()) {
                let w = m.len;
                for (row, flag) in v.iter_mut().enumerate() {
                    let d: f64 = (0..w).map(|j| m.dz[row * w + j] * theta[m.start + j]).sum();
                    let on = m.sign * d < 0.0 || (*flag && m.sign * d <= 1e-12);
                    if on != *flag {
                        mono_changed = true;
                    }
                    *flag = on;
                }
            }
        }
        let mut base = a.clone();
        for (m, v) in monos.iter().zip(&viol) {
            let w = m.len;
            for (row, &on) in v.iter().enumerate() {
                if on {
                    for i in 0..w {
                        for j in 0..w {
                            base[[m.start + i, m.start + j]] +=
                                m.kappa * m.dz[row * w + i] * m.dz[row * w + j];
                        }
                    }
                }
            }
        }
        let theta_old = theta.clone();
        let had_old = have_theta;
        let lam_start = lambda.to_vec();
        let mut lam_change: f64;
        let mut first_change = 0.0;
        for inner in 0..inner_max {
            let mut h = base.clone();
            add_penalties(&mut h, pens, lambda);
            let (th, inv) = chol(&h, &r, auto, it)?;
            theta = th;
            have_theta = true;
            if !auto {
                break;
            }
            let v = inv.expect("asked for the inverse");
            let phi = if family.estimates_scale() {
                let rss: f64 = (0..n)
                    .map(|i| {
                        let f: f64 = x.row(i).iter().zip(&theta).map(|(a, b)| a * b).sum();
                        ww[i] * (z[i] - f) * (z[i] - f)
                    })
                    .sum();
                let edf: f64 = (0..p).map(|i| v.row(i).dot(&a.column(i))).sum();
                rss / (n as f64 - edf).max(1.0)
            } else {
                1.0
            };
            let trs = pinv_traces(pens, lambda);
            lam_change = 0.0;
            for (q, pn) in pens.iter().enumerate() {
                if pn.null {
                    continue;
                }
                let len = pn.len;
                let mut tr_vs = 0.0;
                let mut quad = 0.0;
                for i in 0..len {
                    for j in 0..len {
                        let s = pn.s[i * len + j];
                        tr_vs += v[[pn.start + j, pn.start + i]] * s;
                        quad += theta[pn.start + i] * s * theta[pn.start + j];
                    }
                }
                // tr(S_λ⁻Sⱼ) − tr(V Sⱼ) is a difference of two numbers ≈ rank/λ; when the term
                // is penalised flat (edf of its penalised part ≈ 0, typical of a smooth that REML
                // makes linear) the difference is rounding noise and may even come out negative.
                // A noise-level numerator means "the penalised part is unused": the optimum is
                // the upper bound, so λ only grows. Reading the noise literally made λ jump
                // 1000× down and back up every step and the fit never converged (issue 5,
                // breast_cancer_wisconsin).
                let num = trs[q] - tr_vs;
                let new = if num <= NUM_NOISE * trs[q] {
                    lambda[q] * 1e3
                } else if quad > 0.0 {
                    (phi * num / quad * lambda[q]).clamp(lambda[q] * 1e-3, lambda[q] * 1e3)
                } else {
                    lambda[q] * 1e3
                }
                .clamp(LAMBDA_MIN, LAMBDA_MAX);
                let ch = (new.ln() - lambda[q].ln()).abs();
                if ch > lam_change {
                    lam_change = ch;
                }
                lambda[q] = new;
            }
            if inner == 0 {
                first_change = lam_change;
            }
            if lam_change < 1e-4 {
                break;
            }
        }
        if auto && !gaussian {
            let delta: Vec<f64> = lambda
                .iter()
                .zip(&lam_start)
                .map(|(a, b)| a.ln() - b.ln())
                .collect();
            let big = delta.iter().map(|d| d.abs()).fold(0.0, f64::max) > 1e-2;
            let dot: f64 = delta.iter().zip(&prev_delta).map(|(a, b)| a * b).sum();
            if big && dot < 0.0 && it > 3 {
                damp *= 0.5;
                damped += 1;
            }
            applied = 0.0;
            for (q, l) in lambda.iter_mut().enumerate() {
                *l = (lam_start[q].ln() + damp * delta[q]).exp();
                applied = applied.max((damp * delta[q]).abs());
            }
            prev_delta = delta;
        }
        if auto {
            // θ for the final λ of this step.
            let mut h = base.clone();
            add_penalties(&mut h, pens, lambda);
            theta = chol(&h, &r, false, it)?.0;
        }
        // Step control on the penalised deviance (at this step's λ): halve towards the previous
        // θ while it does not decrease or the means leave the family's range (as mgcv does).
        let penalty = |th: &[f64]| -> f64 {
            pens.iter()
                .zip(lambda.iter())
                .map(|(pn, &l)| {
                    let len = pn.len;
                    let mut q = 0.0;
                    for i in 0..len {
                        for j in 0..len {
                            q += th[pn.start + i] * pn.s[i * len + j] * th[pn.start + j];
                        }
                    }
                    l * q
                })
                .sum::<f64>()
                + monos
                    .iter()
                    .zip(&viol)
                    .map(|(m, v)| {
                        let w = m.len;
                        v.iter()
                            .enumerate()
                            .filter(|(_, on)| **on)
                            .map(|(row, _)| {
                                let d: f64 =
                                    (0..w).map(|j| m.dz[row * w + j] * th[m.start + j]).sum();
                                m.kappa * d * d
                            })
                            .sum::<f64>()
                    })
                    .sum::<f64>()
        };
        let objective_old = if had_old {
            dev_old + penalty(&theta_old)
        } else {
            f64::INFINITY
        };
        let mut halvings = 0;
        let (new_eta, new_mu, dev) = loop {
            let new_eta: Vec<f64> = (0..n)
                .map(|i| x.row(i).iter().zip(&theta).map(|(a, b)| a * b).sum())
                .collect();
            let new_mu: Vec<f64> = new_eta.iter().map(|&e| link.inverse(e)).collect();
            let dev = deviance(&new_mu);
            let finite = dev.is_finite() && new_mu.iter().all(|m| m.is_finite());
            if finite
                && (!had_old || dev + penalty(&theta) <= objective_old + 1e-9 * objective_old.abs())
            {
                break (new_eta, new_mu, dev);
            }
            if !had_old {
                return Err(GamError::Diverged {
                    iteration: it,
                    family: family.name(),
                });
            }
            halvings += 1;
            // At convergence the proposal differs from θ_old by rounding only and its objective
            // is not lower: halving further cannot help, so keep θ_old rather than spending 40
            // more deviance evaluations on noise.
            let size = theta_old.iter().map(|v| v.abs()).fold(1.0, f64::max);
            let step = theta
                .iter()
                .zip(&theta_old)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            if halvings > 40 || step <= 1e-10 * size {
                theta = theta_old.clone();
                break (eta.clone(), mu.clone(), dev_old);
            }
            for (t, o) in theta.iter_mut().zip(&theta_old) {
                *t = 0.5 * (*t + o);
            }
        };
        eta = new_eta;
        mu = new_mu;
        let dev_stable = (dev - dev_old).abs() <= 1e-8 * (dev.abs() + 0.1);
        dev_old = dev;
        let lam_stable = first_change < 1e-3 || (damp < 1.0 && applied < 1e-3);
        if dev_stable && lam_stable && !mono_changed && it > 1 {
            converged = true;
            break;
        }
    }
    // Covariance and edf at the final weights.
    let (a, r, ww, z) = working(family, link, x, y, &mu, &eta, &unit);
    let _ = (&r, &ww, &z);
    let mut h = a.clone();
    for (m, v) in monos.iter().zip(&viol) {
        let w = m.len;
        for (row, &on) in v.iter().enumerate() {
            if on {
                for i in 0..w {
                    for j in 0..w {
                        h[[m.start + i, m.start + j]] +=
                            m.kappa * m.dz[row * w + i] * m.dz[row * w + j];
                    }
                }
            }
        }
    }
    add_penalties(&mut h, pens, lambda);
    let (_, inv) = chol(&h, &r, true, iterations)?;
    let v = inv.expect("asked for the inverse");
    let edf_cols: Vec<f64> = (0..p).map(|i| v.row(i).dot(&a.column(i))).collect();
    let edf: f64 = edf_cols.iter().sum();
    let deviance_final = deviance(&mu);
    let scale = if family.estimates_scale() {
        let chi2: f64 = y
            .iter()
            .zip(&mu)
            .map(|(&v, &m)| (v - m) * (v - m) / family.variance(m))
            .sum();
        chi2 / (n as f64 - edf).max(1.0)
    } else {
        1.0
    };
    Ok(Solution {
        theta,
        cov: v * scale,
        edf_cols,
        deviance: deviance_final,
        scale,
        iterations,
        damped,
        converged,
    })
}

pub(super) fn add_penalties(h: &mut Array2<f64>, pens: &[Pen], lambda: &[f64]) {
    for (pn, &l) in pens.iter().zip(lambda) {
        let len = pn.len;
        for i in 0..len {
            for j in 0..len {
                h[[pn.start + i, pn.start + j]] += l * pn.s[i * len + j];
            }
        }
    }
}

/// Working weights and response, `XᵀWX` and `XᵀWz`.
pub(super) fn working(
    family: Family,
    link: LinkFunction,
    x: &Array2<f64>,
    y: ArrayView1<f64>,
    mu: &[f64],
    eta: &[f64],
    prior: &[f64],
) -> (Array2<f64>, Array1<f64>, Vec<f64>, Vec<f64>) {
    let n = x.nrows();
    let mut w = vec![0.0; n];
    let mut z = vec![0.0; n];
    for i in 0..n {
        let d = link.deriv(mu[i]);
        let v = prior[i] / (d * d * family.variance(mu[i]));
        w[i] = if v.is_finite() { v } else { 0.0 };
        z[i] = eta[i] + d * (y[i] - mu[i]);
    }
    let mut xw = x.clone();
    for (mut row, &wi) in xw.axis_iter_mut(Axis(0)).zip(&w) {
        row *= wi.sqrt();
    }
    let a = xw.t().dot(&xw);
    let wz: Array1<f64> = (0..n).map(|i| w[i] * z[i]).collect();
    let r = x.t().dot(&wz);
    (a, r, w, z)
}
