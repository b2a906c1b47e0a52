//! The constrained weighted least squares of Kernel SHAP and its delta-method standard errors.
//!
//! With Â = Σ_E μ z zᵀ + (1/n) Σᵢ wᵢ ½(zᵢzᵢᵀ + z̄ᵢz̄ᵢᵀ) and b̂ likewise with z·(v(z) − v(∅)), the
//! estimate solves min φᵀÂφ − 2b̂ᵀφ subject to 1ᵀφ = t = v(N) − v(∅):
//!
//!   φ = Â⁻¹(b̂ − ν1),  ν = (1ᵀÂ⁻¹b̂ − t) / (1ᵀÂ⁻¹1).
//!
//! **Standard errors** (Covert & Lee 2021, §4: the estimator is a smooth function of the sample
//! means Â and b̂, so it is asymptotically normal). Perturbing (Â, b̂) gives dφ = Q(db − dA φ)
//! with Q = Â⁻¹ − Â⁻¹11ᵀÂ⁻¹/(1ᵀÂ⁻¹1), so φ̂ is, to first order, the mean of the paired samples'
//! influence terms Q gᵢ, gᵢ = wᵢ ½(zᵢ r(zᵢ) + z̄ᵢ r(z̄ᵢ)) with residuals r(z) = v(z) − v(∅) − zᵀφ̂.
//! Because Q1 = 0 and z̄ = 1 − z, Q gᵢ = wᵢ ½(r(zᵢ) − r(z̄ᵢ)) Q zᵢ, and
//!
//!   Var φ̂ⱼ ≈ (1/n) · sample variance over i of (Q gᵢ)ⱼ.
//!
//! Enumerated coalitions are a fixed stratum and contribute no variance. This is the sandwich
//! (heteroskedasticity-robust) variance of a weighted least-squares fit, computed from the same
//! samples at no extra model cost; Covert & Lee's reference code instead re-solves the regression
//! on batches of samples and takes the variance across batches, which needs many batches to be
//! stable.

use super::plan::Plan;
use crate::explain::linalg::{cholesky, cholesky_solve};

/// The paired samples of one row.
#[derive(Default)]
pub(crate) struct Samples {
    /// n × M masks of z (z̄ is the complement).
    pub masks: Vec<u8>,
    /// Importance weight per pair.
    pub weights: Vec<f64>,
    /// n × 2 × K: v(z) − v(∅), then v(z̄) − v(∅).
    pub y: Vec<f64>,
}

impl Samples {
    pub fn len(&self) -> usize {
        self.weights.len()
    }
}

/// Attributions and standard errors of one row, each K × M (output-major).
pub(crate) struct Estimate {
    pub phi: Vec<f64>,
    pub se: Vec<f64>,
}

/// Solves the regression of one row. `y_enum` is L_E × K (values minus v(∅)), `total` is
/// v(N) − v(∅) per output.
pub(crate) fn estimate(
    plan: &Plan,
    y_enum: &[f64],
    samples: &Samples,
    k: usize,
    total: &[f64],
) -> Estimate {
    let m = plan.m;
    let n = samples.len();
    let masks = &samples.masks;
    let mut a = plan.a_enum.clone();
    let mut b = vec![0.0; m * k];
    for (l, (mask, &w)) in plan
        .enum_masks
        .chunks_exact(m)
        .zip(&plan.enum_weights)
        .enumerate()
    {
        let y = &y_enum[l * k..(l + 1) * k];
        for j in (0..m).filter(|&j| mask[j] != 0) {
            for o in 0..k {
                b[j * k + o] += w * y[o];
            }
        }
    }
    for i in 0..n {
        let z = &masks[i * m..(i + 1) * m];
        let c = 0.5 * samples.weights[i] / n as f64;
        for j in 0..m {
            let row = &mut a[j * m..(j + 1) * m];
            for (l, v) in row.iter_mut().enumerate() {
                if z[j] == z[l] {
                    *v += c;
                }
            }
        }
        let y = &samples.y[i * 2 * k..(i + 1) * 2 * k];
        for j in 0..m {
            let yy = if z[j] != 0 { &y[..k] } else { &y[k..] };
            for o in 0..k {
                b[j * k + o] += c * yy[o];
            }
        }
    }
    let mut chol = a.clone();
    let mut estimated_a = true;
    if !cholesky(&mut chol, m) {
        // Too few samples to pin Â down (two features always in or out together): use the
        // exact expectation of the sampled part of A, i.e. Covert & Lee's unbiased estimator.
        estimated_a = false;
        chol = plan
            .a_enum
            .iter()
            .zip(&plan.a_rest)
            .map(|(x, y)| x + y)
            .collect();
        // Invariant: the full Shapley-kernel matrix is positive definite for M ≥ 2.
        let ok = cholesky(&mut chol, m);
        debug_assert!(ok, "exact Kernel SHAP matrix must be positive definite");
    }
    let mut u = vec![1.0; m];
    cholesky_solve(&chol, m, &mut u);
    let su: f64 = u.iter().sum();
    let mut phi = vec![0.0; k * m];
    for o in 0..k {
        let x = &mut phi[o * m..(o + 1) * m];
        for j in 0..m {
            x[j] = b[j * k + o];
        }
        cholesky_solve(&chol, m, x);
        let nu = (x.iter().sum::<f64>() - total[o]) / su;
        for j in 0..m {
            x[j] -= nu * u[j];
        }
    }
    let mut se = vec![0.0; k * m];
    if n == 0 || plan.complete() {
        return Estimate { phi, se };
    }
    if n < 2 {
        se.fill(f64::NAN);
        return Estimate { phi, se };
    }
    // Q = Â⁻¹ − u uᵀ / su, column by column (Q is symmetric).
    let mut q = vec![0.0; m * m];
    for j in 0..m {
        let col = &mut q[j * m..(j + 1) * m];
        col[j] = 1.0;
        cholesky_solve(&chol, m, col);
        for l in 0..m {
            col[l] -= u[j] * u[l] / su;
        }
    }
    // Q zᵢ for every sample.
    let mut qz = vec![0.0; n * m];
    for i in 0..n {
        let z = &masks[i * m..(i + 1) * m];
        let dst = &mut qz[i * m..(i + 1) * m];
        for j in (0..m).filter(|&j| z[j] != 0) {
            for (d, v) in dst.iter_mut().zip(&q[j * m..(j + 1) * m]) {
                *d += v;
            }
        }
    }
    let mut d = vec![0.0; n];
    let mut mean = vec![0.0; m];
    for o in 0..k {
        let p = &phi[o * m..(o + 1) * m];
        for i in 0..n {
            let z = &masks[i * m..(i + 1) * m];
            let y = &samples.y[i * 2 * k..(i + 1) * 2 * k];
            let (rz, rzbar) = if estimated_a {
                let zphi: f64 = (0..m).filter(|&j| z[j] != 0).map(|j| p[j]).sum();
                (y[o] - zphi, y[k + o] - (total[o] - zphi))
            } else {
                (y[o], y[k + o])
            };
            d[i] = 0.5 * samples.weights[i] * (rz - rzbar);
        }
        mean.fill(0.0);
        for i in 0..n {
            for j in 0..m {
                mean[j] += d[i] * qz[i * m + j];
            }
        }
        mean.iter_mut().for_each(|v| *v /= n as f64);
        let s = &mut se[o * m..(o + 1) * m];
        for i in 0..n {
            for j in 0..m {
                let t = d[i] * qz[i * m + j] - mean[j];
                s[j] += t * t;
            }
        }
        for v in s.iter_mut() {
            *v = (*v / ((n - 1) as f64 * n as f64)).sqrt();
        }
    }
    Estimate { phi, se }
}
