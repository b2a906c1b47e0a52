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
    // The sampled part of Â: ½(z zᵀ + z̄ z̄ᵀ) is 1 where z_j = z_l, which is
    // 1 − u_j − u_l + 2 u_j u_l for u either of z and z̄. With u the smaller one a sample costs
    // |u|² ≤ M²/4 updates instead of M².
    let small = SmallSides::new(masks, m, n);
    let mut c_sum = 0.0;
    let mut s_u = vec![0.0; m];
    let mut g = vec![0.0; m * m];
    for i in 0..n {
        let c = 0.5 * samples.weights[i] / n as f64;
        c_sum += c;
        let u = small.ones(i);
        for (p, &j) in u.iter().enumerate() {
            s_u[j] += c;
            let row = &mut g[j * m..(j + 1) * m];
            for &l in &u[p..] {
                row[l] += c;
            }
        }
        let z = &masks[i * m..(i + 1) * m];
        let y = &samples.y[i * 2 * k..(i + 1) * 2 * k];
        for j in 0..m {
            let yy = if z[j] != 0 { &y[..k] } else { &y[k..] };
            for o in 0..k {
                b[j * k + o] += c * yy[o];
            }
        }
    }
    for j in 0..m {
        for l in j..m {
            // u's ones are in increasing order: g holds the upper triangle.
            let v = c_sum - s_u[j] - s_u[l] + 2.0 * g[j * m + l];
            a[j * m + l] += v;
            if l != j {
                a[l * m + j] += v;
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
    // Q zᵢ for every sample, summed over the smaller side: Q z̄ = −Q z since Q1 = 0.
    let mut qz = vec![0.0; n * m];
    for i in 0..n {
        let dst = &mut qz[i * m..(i + 1) * m];
        for &j in small.ones(i) {
            for (d, v) in dst.iter_mut().zip(&q[j * m..(j + 1) * m]) {
                *d += v;
            }
        }
        if small.flipped(i) {
            dst.iter_mut().for_each(|v| *v = -*v);
        }
    }
    let mut d = vec![0.0; n];
    let mut mean = vec![0.0; m];
    for o in 0..k {
        let p = &phi[o * m..(o + 1) * m];
        for (i, di) in d.iter_mut().enumerate() {
            let y = &samples.y[i * 2 * k..(i + 1) * 2 * k];
            let (rz, rzbar) = if estimated_a {
                let uphi: f64 = small.ones(i).iter().map(|&j| p[j]).sum();
                let zphi = if small.flipped(i) {
                    total[o] - uphi
                } else {
                    uphi
                };
                (y[o] - zphi, y[k + o] - (total[o] - zphi))
            } else {
                (y[o], y[k + o])
            };
            *di = 0.5 * samples.weights[i] * (rz - rzbar);
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

/// Per paired sample, the features of the smaller of z and z̄ (increasing), and which it is.
struct SmallSides {
    ones: Vec<usize>,
    start: Vec<usize>,
    flipped: Vec<bool>,
}

impl SmallSides {
    fn new(masks: &[u8], m: usize, n: usize) -> SmallSides {
        let mut ones = Vec::with_capacity(n * m / 2);
        let mut start = Vec::with_capacity(n + 1);
        let mut flipped = Vec::with_capacity(n);
        start.push(0);
        for z in masks.chunks_exact(m.max(1)).take(n) {
            let size = z.iter().filter(|&&v| v != 0).count();
            let flip = 2 * size > m;
            ones.extend((0..m).filter(|&j| (z[j] != 0) != flip));
            start.push(ones.len());
            flipped.push(flip);
        }
        SmallSides {
            ones,
            start,
            flipped,
        }
    }

    /// The features of sample i's smaller side.
    fn ones(&self, i: usize) -> &[usize] {
        &self.ones[self.start[i]..self.start[i + 1]]
    }

    /// True when the smaller side is z̄.
    fn flipped(&self, i: usize) -> bool {
        self.flipped[i]
    }
}
