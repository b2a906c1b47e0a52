//! The inputs of the significance tests that the fitted coefficients do not determine, computed
//! once from the training rows: each term's weighted Gram matrix and alternative edf (and a
//! tensor term's posterior covariance, which the model does not otherwise keep).
//!
//! They are computed from the penalised system the fit solved ([`Gam::penalised_system`]),
//! rebuilt from the training features: the working weights W at the fitted means, A = XᵀWX, the
//! penalty S (smoothing penalties at the fitted λ, null-space ridges, active monotone penalties),
//! F = (A + S)⁻¹A. Rebuilding rather than threading these out of the IRLS keeps the fitting code
//! untouched, costs about one IRLS iteration, and works as well for model files written before
//! these inputs were stored.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::super::basis::{null_space_of, BSpline};
use super::super::irls::{chol, working};
use super::super::{Gam, GamError, TermKind};

/// What a term's significance test needs besides its coefficients and covariance, stored in the
/// model file at fit time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TermInference {
    /// The alternative effective degrees of freedom τ₁ = tr(2F − F²) over the term's block
    /// (F = (XᵀWX + S)⁻¹XᵀWX): the rank of the Wood (2013) test.
    pub edf1: f64,
    /// Σᵢ wᵢ bᵢbᵢᵀ over the training rows, bᵢ the row of the term's unconstrained basis (the same
    /// coordinates as `coef`: k × k for a smooth, (k₁k₂)² for a tensor, row-major), wᵢ the
    /// working weights at the fit; empty for linear and factor terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gram: Vec<f64>,
    /// The coefficients (in the coordinates of `coef`) of the term's first constrained basis
    /// column, the first column of its model matrix in mgcv's parametrisation: it fixes the signs
    /// of the test's eigenvectors as mgcv's `testStat` does, on which the statistic depends when
    /// its rank is fractional. Empty for linear and factor terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first: Vec<f64>,
    /// A tensor term's Bayesian posterior covariance in the coordinates of `coef` (row-major);
    /// empty for other terms, whose covariance is the term's `cov`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cov: Vec<f64>,
}

impl Gam {
    /// Computes and stores every term's [`TermInference`] from the training features `x`
    /// (encoded, in the model's schema order; missing values are filled as in training). The fit
    /// does this itself; call it for a model file written before the inputs were stored.
    ///
    /// # Errors
    /// [`GamError::NotTrainingData`] when `x` are not the training rows;
    /// [`GamError::Singular`] if the penalised system cannot be factorised.
    pub fn attach_inference(&mut self, x: ArrayView2<f64>) -> Result<(), GamError> {
        let sys = self.penalised_system(x)?;
        let design = sys.design().to_owned();
        let (n, p) = design.dim();
        let theta = Array1::from(sys.theta().to_vec());
        let eta = design.dot(&theta);
        let link = self.report.link;
        let mu: Vec<f64> = eta.iter().map(|&e| link.inverse(e)).collect();
        let unit = vec![1.0; n];
        // The response only enters the working response, which is not used here.
        let y = Array1::from(mu.clone());
        let (a, _, w, _) = working(
            self.report.family,
            link,
            &design,
            y.view(),
            &mu,
            eta.as_slice().expect("contiguous"),
            &unit,
        );
        let h = &a + &sys.penalty();
        let (_, inv) = chol(&h, &Array1::zeros(p), true, 0)?;
        let inv = inv.expect("asked for the inverse");
        let f = inv.dot(&a);
        let phi = self.report.scale;
        // Filled training rows.
        let fills: Vec<f64> = self.imputations().iter().map(|i| i.fill).collect();
        let filled = |i: usize, j: usize| {
            let v = x[[i, j]];
            if v.is_nan() {
                fills[j]
            } else {
                v
            }
        };
        let mut start = 1;
        let mut out = Vec::with_capacity(self.terms.len());
        for t in &self.terms {
            let len = match &t.kind {
                TermKind::Smooth { basis, .. } => basis.k - 1,
                TermKind::Linear { .. } | TermKind::Missing { .. } => 1,
                TermKind::Factor { .. } => t.coef.len() - 1,
                TermKind::Tensor { bases, .. } => (bases[0].k - 1) * (bases[1].k - 1),
            };
            let block = start..start + len;
            let edf1: f64 = block
                .clone()
                .map(|i| 2.0 * f[[i, i]] - (0..p).map(|j| f[[i, j]] * f[[j, i]]).sum::<f64>())
                .sum();
            let (gram, cov, first) = match &t.kind {
                TermKind::Smooth { feature, basis, .. } => {
                    let k = basis.k;
                    // The centring constraint as the fit built it: the basis column means.
                    let mut c = vec![0.0; k];
                    for i in 0..n {
                        let (at, wts) = basis.eval(filled(i, *feature));
                        (0..4).for_each(|r| c[at + r] += wts[r]);
                    }
                    c.iter_mut().for_each(|v| *v /= n.max(1) as f64);
                    let z = null_space_of(&c);
                    let first = (0..k).map(|a| z[a * (k - 1)]).collect();
                    let gram = gram_of(n, k, &w, |i| basis.row(filled(i, *feature)));
                    (gram, Vec::new(), first)
                }
                TermKind::Tensor {
                    features,
                    bases,
                    basis_means,
                } => {
                    let kk = bases[0].k * bases[1].k;
                    let gram = gram_of(n, kk, &w, |i| {
                        tensor_row(bases, filled(i, features[0]), filled(i, features[1]))
                    });
                    let cov = tensor_cov(bases, basis_means, &inv, start, phi);
                    let (z1, z2) = (
                        null_space_of(&basis_means[0]),
                        null_space_of(&basis_means[1]),
                    );
                    let (w1, w2) = (bases[0].k - 1, bases[1].k - 1);
                    let first = (0..bases[0].k)
                        .flat_map(|a| (0..bases[1].k).map(move |b| (a, b)))
                        .map(|(a, b)| z1[a * w1] * z2[b * w2])
                        .collect();
                    (gram, cov, first)
                }
                TermKind::Linear { .. } | TermKind::Factor { .. } | TermKind::Missing { .. } => {
                    (Vec::new(), Vec::new(), Vec::new())
                }
            };
            out.push(super::TermInference {
                edf1,
                gram,
                first,
                cov,
            });
            start += len;
        }
        debug_assert_eq!(start, p);
        for (t, inf) in self.terms.iter_mut().zip(out) {
            t.inference = Some(inf);
        }
        Ok(())
    }
}

/// Σᵢ wᵢ rᵢrᵢᵀ (k × k, row-major) over rows `row(i)`.
fn gram_of(n: usize, k: usize, w: &[f64], row: impl Fn(usize) -> Vec<f64>) -> Vec<f64> {
    let mut g = vec![0.0; k * k];
    for (i, &wi) in w.iter().enumerate().take(n) {
        let r = row(i);
        for a in 0..k {
            if r[a] == 0.0 {
                continue;
            }
            let ra = wi * r[a];
            for b in 0..k {
                g[a * k + b] += ra * r[b];
            }
        }
    }
    g
}

/// The row-major Kronecker product of the two marginal basis rows.
fn tensor_row(bases: &[BSpline; 2], x1: f64, x2: f64) -> Vec<f64> {
    let (r1, r2) = (bases[0].row(x1), bases[1].row(x2));
    r1.iter()
        .flat_map(|a| r2.iter().map(move |b| a * b))
        .collect()
}

/// T V_Θ Tᵀ φ with T = Z₁ ⊗ Z₂: the tensor block of the posterior covariance in the Γ
/// coordinates (Γ = Z₁ Θ Z₂ᵀ, both row-major), Zᵢ rebuilt from the stored basis means exactly as
/// the fit built them.
fn tensor_cov(
    bases: &[BSpline; 2],
    means: &[Vec<f64>; 2],
    inv: &Array2<f64>,
    start: usize,
    phi: f64,
) -> Vec<f64> {
    let (k1, k2) = (bases[0].k, bases[1].k);
    let (w1, w2) = (k1 - 1, k2 - 1);
    let (z1, z2) = (null_space_of(&means[0]), null_space_of(&means[1]));
    let (kk, ww) = (k1 * k2, w1 * w2);
    let t = Array2::from_shape_fn((kk, ww), |(r, c)| {
        let (a, b) = (r / k2, r % k2);
        let (i, j) = (c / w2, c % w2);
        z1[a * w1 + i] * z2[b * w2 + j]
    });
    let v = inv.slice(ndarray::s![start..start + ww, start..start + ww]);
    let tv = t.dot(&v);
    let full = tv.dot(&t.t()) * phi;
    full.iter().copied().collect()
}
