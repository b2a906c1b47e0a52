//! Per-term significance of a fitted GAM, as mgcv's `summary.gam` reports it: for each smooth and
//! tensor term its effective degrees of freedom, reference degrees of freedom, Wald statistic
//! and approximate p-value; for each linear and factor term a Wald test of all its coefficients.
//!
//! # The smooth-term test (Wood 2013)
//! Wood (2013, "On p-values for smooth components of an extended generalized additive model",
//! Biometrika 100:221–228), as implemented by mgcv's `testStat`: with f̂ = X_j β̂_j the term's
//! fitted values and V_f = X_j V_β X_jᵀ their Bayesian posterior covariance
//! (V_β = (XᵀWX + S)⁻¹ φ), the statistic is T_r = f̂ᵀ V_f^{r−} f̂, where V_f^{r−} is a rank-r
//! pseudo-inverse. The rank r is the term's alternative edf τ₁ = tr(2F − F²) (F = (XᵀWX+S)⁻¹XᵀWX,
//! restricted to the term's block), which is the "Ref.df" column. A fractional r keeps the
//! ⌊r⌋−1 leading eigen-directions in full and blends the next two with a smoothly varying
//! weight, and the null distribution is the matching weighted sum of χ²₁ variables, evaluated by
//! Davies' algorithm (Davies 1980, AS 155, as mgcv's `psum.chisq`); with an estimated scale the
//! χ² mixture is compared with φ̂·χ²_{n−edf}/(n−edf), so the reported statistic is F = T_r / r.
//! The blend depends on the signs of the two eigenvectors; mgcv fixes them by its QR
//! coordinates, and so does glassbox ([`TermInference::first`]), so the statistics agree with
//! mgcv's to rounding (tests/gam_significance.rs: within 3·10⁻¹² relative on matched fits).
//!
//! Known limits, which the CLI repeats: the p-values are approximate; they are conditional on
//! the smoothing parameters, and because λ was estimated they are somewhat too small (mgcv's
//! documentation says the same). In the simulation of tests/gam_significance.rs (200 data sets,
//! n = 300, REML) a pure-noise smooth was rejected at 5% in 6.5% of the Gaussian and binomial
//! data sets. A term penalised to (nearly) zero edf has a badly defined test; the non-Gaussian
//! families use the large-sample χ² reference. mgcv treats fully penalised terms (no null space)
//! with a different, random-effect test; glassbox's smooths always keep their linear trend
//! (penalised only by a tiny fixed ridge), so they are tested as mgcv tests ordinary smooths. A
//! monotone smooth is tested as if its active constraint penalty were a smoothing penalty: the
//! theory does not cover constrained fits, so read its p-value as a rough guide only.
//!
//! # Parametric terms
//! Linear and factor terms get mgcv's `pTerms` Wald test: χ² = bᵀ V⁺ b over the term's
//! coefficients (a factor's non-reference levels) with df = rank of V, and the F form when the
//! scale is estimated. Their own ridge is tiny, so their edf is just below df.
//!
//! # What is stored
//! The test needs, per term, the weighted Gram matrix X_jᵀWX_j of its basis over the training
//! rows and τ₁; neither follows from the coefficients, so both are computed at fit time
//! ([`TermInference`], an optional field of the model file: model files written before it still
//! load, and their inputs can be rebuilt from the training data with
//! [`Gam::attach_inference`]). Storing them was preferred to asking `summary` for the training
//! data every time: a model file should describe itself. The cost is one rebuild of the
//! penalised system at fit time (about one IRLS iteration) and (k² + 1) numbers per smooth in the
//! file.

mod davies;
mod inputs;
#[cfg(test)]
mod tests;

use faer::{Mat, Side};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor};

use super::{Gam, GamError, TermKind};

pub use inputs::TermInference;

/// What kind of test a row reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// A penalised smooth of one feature (Wood 2013 test).
    Smooth,
    /// A tensor-product interaction (Wood 2013 test).
    Tensor,
    /// A linear term (Wald test of its slope).
    Linear,
    /// A factor (joint Wald test of its non-reference levels).
    Factor,
    /// A missing-value term (Wald test of its coefficient).
    Missing,
}

impl TestKind {
    /// Lower-case name, as in the CSV.
    pub fn name(self) -> &'static str {
        match self {
            TestKind::Smooth => "smooth",
            TestKind::Tensor => "tensor",
            TestKind::Linear => "linear",
            TestKind::Factor => "factor",
            TestKind::Missing => "missing",
        }
    }
}

/// One row of the significance table.
#[derive(Clone, Debug, PartialEq)]
pub struct TermTest {
    /// Term name.
    pub term: String,
    /// Kind of term and test.
    pub kind: TestKind,
    /// Effective degrees of freedom: tr(F) over the term's block.
    pub edf: f64,
    /// Reference degrees of freedom: the rank of the test (smooths: τ₁ = tr(2F − F²), as
    /// adjusted by the test; parametric terms: the number of coefficients).
    pub ref_df: f64,
    /// The test statistic: F = T / ref_df when the scale is estimated, χ² = T otherwise
    /// ([`Significance::f_statistic`]).
    pub statistic: f64,
    /// Approximate p-value.
    pub p_value: f64,
}

/// The significance table of a GAM and the fit summary that goes with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Significance {
    /// One row per term, in model order.
    pub rows: Vec<TermTest>,
    /// Whether the statistics are F (scale estimated: Gaussian, gamma, ...) or χ² (scale fixed at 1).
    pub f_statistic: bool,
    /// Residual degrees of freedom n − total edf (the F tests' denominator df).
    pub residual_df: f64,
    /// 1 − deviance / null deviance.
    pub deviance_explained: f64,
    /// The scale φ.
    pub scale: f64,
    /// Training rows.
    pub n: usize,
}

impl Significance {
    /// The table as CSV: `term,kind,edf,ref_df,statistic,p_value` (statistic is F or χ² as
    /// [`Significance::f_statistic`] says), full precision.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("term,kind,edf,ref_df,statistic,p_value\n");
        use crate::output::{csv_field, csv_number};
        for r in &self.rows {
            s.push_str(&format!(
                "{},{},{},{},{},{}\n",
                csv_field(&r.term),
                r.kind.name(),
                csv_number(r.edf),
                csv_number(r.ref_df),
                csv_number(r.statistic),
                csv_number(r.p_value)
            ));
        }
        s
    }
}

/// mgcv's way of printing a p-value: `<2e-16` below machine precision, else 4 significant digits.
fn fmt_p(p: f64) -> String {
    if p < 2e-16 {
        "<2e-16".into()
    } else if p < 1e-3 {
        format!("{p:.3e}")
    } else {
        format!("{p:.4}")
    }
}

impl std::fmt::Display for Significance {
    /// The table as `summary` prints it, with the caveats a reader needs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Approximate significance of terms (smooths: Wood 2013 test as mgcv; parametric: Wald)"
        )?;
        let stat = if self.f_statistic { "F" } else { "Chi.sq" };
        writeln!(
            f,
            "{:<32} {:>8} {:>8} {:>8} {:>12} {:>10}",
            "term", "kind", "edf", "ref_df", stat, "p_value"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<32} {:>8} {:>8.3} {:>8.3} {:>12.4} {:>10}",
                r.term,
                r.kind.name(),
                r.edf,
                r.ref_df,
                r.statistic,
                fmt_p(r.p_value)
            )?;
        }
        writeln!(
            f,
            "n = {}, residual df {:.2}, deviance explained {:.1}%, scale {:.5}; REML score not computed (λ from the Fellner–Schall iteration)",
            self.n,
            self.residual_df,
            100.0 * self.deviance_explained,
            self.scale
        )?;
        writeln!(
            f,
            "p-values are approximate and conditional on the smoothing parameters: with λ estimated they are somewhat too small"
        )
    }
}

impl Gam {
    /// Whether every term carries the inputs of its significance test (true for models fitted by
    /// this version; model files written earlier need [`Gam::attach_inference`]).
    pub fn has_inference(&self) -> bool {
        self.terms.iter().all(|t| t.inference.is_some())
    }

    /// The per-term significance table (see [`crate::model::gam::significance`] for the tests
    /// and their limits).
    ///
    /// # Errors
    /// [`GamError::NoInference`] when the model file predates the stored test inputs; rebuild them
    /// from the training data with [`Gam::attach_inference`].
    ///
    /// # Example
    /// ```
    /// use glassbox::data::{Dataset, SchemaOptions};
    /// use glassbox::model::gam::GamParams;
    /// use glassbox::model::glm::Family;
    ///
    /// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?
    ///     .head(300);
    /// let gam = GamParams::new(Family::Binomial).n_splines(6).fit(&ds)?;
    /// let table = gam.significance()?;
    /// assert_eq!(table.rows.len(), gam.terms().len());
    /// assert!(table.rows.iter().all(|r| (0.0..=1.0).contains(&r.p_value)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn significance(&self) -> Result<Significance, GamError> {
        let r = self.report();
        let f_statistic = r.family.estimates_scale();
        let residual_df = r.n_rows as f64 - r.edf;
        let mut rows = Vec::with_capacity(self.terms.len());
        for t in &self.terms {
            let inf = t.inference.as_ref().ok_or_else(|| GamError::NoInference {
                term: t.name.clone(),
            })?;
            let res_df = f_statistic.then_some(residual_df);
            let row = match &t.kind {
                TermKind::Smooth { .. } | TermKind::Tensor { .. } => {
                    let cov = if matches!(t.kind, TermKind::Tensor { .. }) {
                        &inf.cov
                    } else {
                        &t.cov
                    };
                    let m = t.coef.len();
                    let rank = inf.edf1.min(m as f64);
                    let w = wood_test(&t.coef, cov, &inf.gram, &inf.first, rank, res_df);
                    TermTest {
                        term: t.name.clone(),
                        kind: if matches!(t.kind, TermKind::Tensor { .. }) {
                            TestKind::Tensor
                        } else {
                            TestKind::Smooth
                        },
                        edf: t.edf,
                        ref_df: w.rank,
                        statistic: if f_statistic { w.stat / w.rank } else { w.stat },
                        p_value: w.p_value,
                    }
                }
                TermKind::Linear { .. } | TermKind::Factor { .. } | TermKind::Missing { .. } => {
                    // A factor's first level is the reference (coefficient 0, no variance).
                    let skip = usize::from(matches!(t.kind, TermKind::Factor { .. }));
                    let m = t.coef.len();
                    let b = &t.coef[skip..];
                    let q = m - skip;
                    let v: Vec<f64> = (skip..m)
                        .flat_map(|i| (skip..m).map(move |j| (i, j)))
                        .map(|(i, j)| t.cov[i * m + j])
                        .collect();
                    let (chi2, df) = wald_parametric(b, &v, q);
                    let p_value = if df == 0 {
                        1.0
                    } else if let Some(rdf) = res_df {
                        f_sf(chi2 / df as f64, df as f64, rdf)
                    } else {
                        chisq_sf(chi2, df as f64)
                    };
                    TermTest {
                        term: t.name.clone(),
                        kind: match t.kind {
                            TermKind::Factor { .. } => TestKind::Factor,
                            TermKind::Missing { .. } => TestKind::Missing,
                            _ => TestKind::Linear,
                        },
                        edf: t.edf,
                        ref_df: df as f64,
                        statistic: if f_statistic && df > 0 {
                            chi2 / df as f64
                        } else {
                            chi2
                        },
                        p_value,
                    }
                }
            };
            rows.push(row);
        }
        Ok(Significance {
            rows,
            f_statistic,
            residual_df,
            deviance_explained: if r.null_deviance > 0.0 {
                1.0 - r.deviance / r.null_deviance
            } else {
                f64::NAN
            },
            scale: r.scale,
            n: r.n_rows,
        })
    }
}

/// The result of [`wood_test`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WoodTest {
    /// T_r.
    pub(crate) stat: f64,
    /// The p-value.
    pub(crate) p_value: f64,
    /// The rank used (the reference df).
    pub(crate) rank: f64,
}

fn chisq_sf(x: f64, df: f64) -> f64 {
    ChiSquared::new(df).map(|d| d.sf(x)).unwrap_or(f64::NAN)
}

fn f_sf(x: f64, d1: f64, d2: f64) -> f64 {
    FisherSnedecor::new(d1, d2.max(1e-8))
        .map(|d| d.sf(x))
        .unwrap_or(f64::NAN)
}

/// Symmetric eigendecomposition, eigenvalues in decreasing order: (values, vectors row-major with
/// vector i in column i).
fn eigh(a: &[f64], m: usize) -> (Vec<f64>, Vec<f64>) {
    let mat = Mat::<f64>::from_fn(m, m, |i, j| 0.5 * (a[i * m + j] + a[j * m + i]));
    let Ok(evd) = mat.self_adjoint_eigen(Side::Lower) else {
        return (vec![0.0; m], vec![0.0; m * m]);
    };
    let mut order: Vec<usize> = (0..m).collect();
    let ev: Vec<f64> = (0..m).map(|i| evd.S()[i]).collect();
    order.sort_by(|&a, &b| ev[b].total_cmp(&ev[a]));
    let u = evd.U();
    let vals = order.iter().map(|&i| ev[i]).collect();
    let mut vecs = vec![0.0; m * m];
    for (c, &i) in order.iter().enumerate() {
        for r in 0..m {
            vecs[r * m + c] = u[(r, i)];
        }
    }
    (vals, vecs)
}

/// mgcv's `testStat(p, X, V, rank, type = 0, res.df)` with X given by its Gram matrix XᵀX
/// (`gram`, m × m) and the coefficients `sign_ref` of its first column: the statistic depends on X
/// only through XᵀX and the sign convention of the eigenvectors, which `sign_ref` carries, so any
/// square root R (RᵀR = XᵀX) serves; the symmetric one is used. `res_df` is `None` for a known
/// scale.
pub(crate) fn wood_test(
    p: &[f64],
    v: &[f64],
    gram: &[f64],
    sign_ref: &[f64],
    rank: f64,
    res_df: Option<f64>,
) -> WoodTest {
    let m = p.len();
    // R = G^{1/2}.
    let (gv, gu) = eigh(gram, m);
    let mut r = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            r[i * m + j] = (0..m)
                .map(|c| gu[i * m + c] * gv[c].max(0.0).sqrt() * gu[j * m + c])
                .sum();
        }
    }
    // M = R V R.
    let mut rv = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            rv[i * m + j] = (0..m).map(|c| r[i * m + c] * v[c * m + j]).sum();
        }
    }
    let mut mm = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            mm[i * m + j] = (0..m).map(|c| rv[i * m + c] * r[j * m + c]).sum();
        }
    }
    let (ev, mut vecs) = eigh(&mm, m);
    // Eigenvector signs as mgcv fixes them: a positive first component in the coordinates of the
    // triangular QR factor of the model matrix, whose first axis is the term's first column
    // X c; in the coordinates of R = G^{1/2} that axis is R c. With a fractional rank the
    // statistic mixes two directions and depends on their relative sign.
    let s: Vec<f64> = (0..m)
        .map(|i| (0..m).map(|c| r[i * m + c] * sign_ref[c]).sum())
        .collect();
    for c in 0..m {
        let dot: f64 = (0..m).map(|i| s[i] * vecs[i * m + c]).sum();
        if dot < 0.0 {
            (0..m).for_each(|i| vecs[i * m + c] = -vecs[i * m + c]);
        }
    }
    let rp: Vec<f64> = (0..m)
        .map(|i| (0..m).map(|c| r[i * m + c] * p[c]).sum())
        .collect();

    let mut rank = rank;
    let mut k = rank.floor().max(0.0) as usize;
    let mut nu = (rank - k as f64).abs();
    let mut k1 = if nu > 0.0 { k + 1 } else { k };
    let top = ev.first().copied().unwrap_or(0.0);
    let r_est = ev
        .iter()
        .filter(|&&e| e > top * f64::EPSILON.powf(0.9))
        .count();
    if r_est < k1 {
        k1 = r_est;
        k = r_est;
        nu = 0.0;
        rank = r_est as f64;
    }
    // Columns kept (R's `vec[, 1:k1]` selects one column when k1 = 0).
    let ncol = k1.max(1).min(m);
    let col = |c: usize| -> Vec<f64> { (0..m).map(|i| vecs[i * m + c]).collect() };
    let mut cols: Vec<Vec<f64>> = (0..ncol).map(col).collect();
    let mut cols1;
    if nu > 0.0 && k > 0 {
        for (c, v) in cols.iter_mut().enumerate().take(k - 1) {
            let s = ev[c].sqrt();
            v.iter_mut().for_each(|x| *x /= s);
        }
        let b12 = (0.5 * nu * (1.0 - nu)).max(0.0).sqrt();
        let (e1, e2) = (ev[k - 1].powf(-0.5), ev[k].powf(-0.5));
        // B = diag(e) [[1, b12], [b12, nu]] diag(e), and its symmetric square root.
        let b = [e1 * e1, e1 * b12 * e2, e1 * b12 * e2, nu * e2 * e2];
        let rb = sqrt_2x2(b);
        cols1 = cols.clone();
        let (a, c) = (cols[k - 1].clone(), cols[k].clone());
        for i in 0..m {
            cols[k - 1][i] = rb[0] * a[i] + rb[1] * c[i];
            cols[k][i] = rb[2] * a[i] + rb[3] * c[i];
            cols1[k - 1][i] = -rb[0] * a[i] + rb[1] * c[i];
            cols1[k][i] = -rb[2] * a[i] + rb[3] * c[i];
        }
    } else {
        if k == 0 {
            let s = (1.0 / ev[0]).sqrt();
            cols.iter_mut()
                .for_each(|v| v.iter_mut().for_each(|x| *x *= s));
        } else {
            for (c, v) in cols.iter_mut().enumerate().take(k) {
                let s = ev[c].sqrt();
                v.iter_mut().for_each(|x| *x /= s);
            }
            if k == 1 {
                rank = 1.0;
            }
        }
        cols1 = cols.clone();
    }
    let quad = |cs: &[Vec<f64>]| -> f64 {
        cs.iter()
            .map(|c| {
                let d: f64 = c.iter().zip(&rp).map(|(a, b)| a * b).sum();
                d * d
            })
            .sum()
    };
    let d = quad(&cols);
    let d1 = quad(&cols1);
    let mut rank1 = rank;
    let mut pval = 2.0;
    if nu > 0.0 {
        let val: Vec<f64> = if k1 == 1 {
            rank1 = 1.0;
            vec![1.0]
        } else {
            let mut val = vec![1.0; k1];
            let rpn = nu + 1.0;
            val[k - 1] = (rpn + (rpn * (2.0 - rpn)).sqrt()) / 2.0;
            val[k1 - 1] = rpn - val[k - 1];
            val
        };
        let ones = vec![1u32; val.len()];
        pval = match res_df {
            None => {
                (davies::psum_chisq_upper(d, &val, &ones)
                    + davies::psum_chisq_upper(d1, &val, &ones))
                    / 2.0
            }
            Some(rdf) => {
                let k0 = rdf.round_ties_even().max(1.0);
                let mut df = ones.clone();
                df.push(k0 as u32);
                let with = |dd: f64| {
                    let mut lb = val.clone();
                    lb.push(-dd / k0);
                    davies::psum_chisq_upper(0.0, &lb, &df)
                };
                (with(d) + with(d1)) / 2.0
            }
        };
    }
    if pval > 1.0 {
        pval = match res_df {
            None => (chisq_sf(d, rank1) + chisq_sf(d1, rank1)) / 2.0,
            Some(rdf) => (f_sf(d / rank1, rank1, rdf) + f_sf(d1 / rank1, rank1, rdf)) / 2.0,
        };
    }
    WoodTest {
        stat: d,
        p_value: pval.min(1.0),
        rank,
    }
}

/// Symmetric square root of a 2 × 2 symmetric positive semi-definite matrix (row-major).
fn sqrt_2x2(b: [f64; 4]) -> [f64; 4] {
    let (ev, u) = eigh(&b, 2);
    let s: Vec<f64> = ev.iter().map(|e| e.max(0.0).sqrt()).collect();
    let mut out = [0.0; 4];
    for i in 0..2 {
        for j in 0..2 {
            out[i * 2 + j] = (0..2).map(|c| u[i * 2 + c] * s[c] * u[j * 2 + c]).sum();
        }
    }
    out
}

/// mgcv's parametric-term Wald statistic: b'V⁻¹b for one coefficient, else bᵀV⁺b with the
/// pseudo-inverse truncated at eigenvalues below √ε of the largest; returns (χ², rank).
pub(crate) fn wald_parametric(b: &[f64], v: &[f64], q: usize) -> (f64, usize) {
    if q == 1 {
        return if v[0] > 0.0 {
            (b[0] * b[0] / v[0], 1)
        } else {
            (0.0, 0)
        };
    }
    let (ev, u) = eigh(v, q);
    let tol = f64::EPSILON.sqrt() * ev[0];
    let rank = ev.iter().filter(|&&e| e > tol).count();
    let mut chi2 = 0.0;
    for c in 0..rank {
        let d: f64 = (0..q).map(|i| u[i * q + c] * b[i]).sum();
        chi2 += d * d / ev[c];
    }
    (chi2, rank)
}
