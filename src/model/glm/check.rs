//! Input checks before fitting: the response's support, weights and offsets, rows versus
//! parameters, and exact collinearity of the design.
//!
//! Collinearity is found by Gram–Schmidt over the columns **in design order** (each column scaled
//! to unit length, orthogonalised twice against the kept ones). A column whose remainder is below
//! [`COLLINEAR_TOL`] is redundant, and its expression in the earlier columns is reported
//! ("`x3` = 2·x1 − x2"). Design order is deliberate: a pivoted QR would declare whichever column
//! happens to have the smallest norm redundant, while this names the later column — usually the
//! one the user added last — and keeps the intercept.

use ndarray::{ArrayView1, ArrayView2};

use super::error::GlmError;
use super::family::Family;
use crate::data::{TargetKind, TargetSpec};

/// Relative remainder below which a unit-length design column counts as a linear combination of
/// the earlier ones. statsmodels' rank test (`numpy.linalg.matrix_rank`) uses about
/// `max(n, p)·ε` on singular values; this is looser, so near-exact dependence (a column equal to a
/// sum of others up to rounding in the CSV) is caught too.
pub const COLLINEAR_TOL: f64 = 1e-10;

/// Checks the response against the family's support; the error names the first bad row.
pub(crate) fn check_response(
    family: Family,
    y: ArrayView1<f64>,
    target: &str,
) -> Result<(), GlmError> {
    let support = family.support();
    if let Some(i) = y.iter().position(|&v| !support.contains(v)) {
        let fix = match family {
            Family::Binomial => {
                "encode the outcome as 0/1 (a two-class column is encoded automatically)"
            }
            Family::Gamma | Family::Tweedie { .. } if y[i] == 0.0 => {
                "the gamma family (and Tweedie with p ≥ 2) cannot model zeros: use --family tweedie with 1 < --var-power < 2, or poisson"
            }
            Family::Poisson | Family::Tweedie { .. } | Family::Gamma => {
                "check the row, or use --family gaussian for a target that can be negative"
            }
            Family::Gaussian => "fix or remove the row",
        };
        return Err(GlmError::BadTarget {
            target: target.to_string(),
            family: family.name(),
            row: i + 1,
            value: y[i],
            need: support.describe(),
            fix,
        });
    }
    Ok(())
}

/// Checks that the target's kind suits the family: a multiclass target suits none, a two-class
/// target only the binomial.
pub(crate) fn check_target_kind(target: &TargetSpec, family: Family) -> Result<(), GlmError> {
    match (&target.kind, family) {
        (TargetKind::Multiclass { classes }, f) => {
            return Err(GlmError::TargetKind {
                target: target.name.clone(),
                family: f.name(),
                found: format!("multiclass ({} classes)", classes.len()),
                need: if f == Family::Binomial {
                    "exactly two classes (or 0/1 numbers)"
                } else {
                    "numbers (pass --task regression to read the column as numbers)"
                },
            })
        }
        (TargetKind::Binary { classes }, f) if f != Family::Binomial => {
            return Err(GlmError::TargetKind {
                target: target.name.clone(),
                family: f.name(),
                found: format!("two-class ({} / {})", classes[0], classes[1]),
                need: "numbers: use --family binomial, or --task regression to read the column as numbers",
            })
        }
        _ => {}
    }
    Ok(())
}

/// Checks prior weights (finite, ≥ 0, not all 0) and offsets (finite).
pub(crate) fn check_auxiliary(
    weights: Option<ArrayView1<f64>>,
    offset: Option<ArrayView1<f64>>,
) -> Result<(), GlmError> {
    if let Some(w) = weights {
        if let Some(i) = w.iter().position(|&v| !(v.is_finite() && v >= 0.0)) {
            return Err(GlmError::BadAuxiliary {
                what: "weights".into(),
                row: i + 1,
                value: w[i],
                need: "weights must be finite and zero or positive",
            });
        }
        if w.iter().all(|&v| v == 0.0) {
            return Err(GlmError::BadAuxiliary {
                what: "weights".into(),
                row: 1,
                value: 0.0,
                need: "every weight is zero: nothing to fit",
            });
        }
    }
    if let Some(o) = offset {
        if let Some(i) = o.iter().position(|v| !v.is_finite()) {
            return Err(GlmError::BadAuxiliary {
                what: "offset".into(),
                row: i + 1,
                value: o[i],
                need: "offsets must be finite (an exposure of 0 gives log 0 = −∞: drop such rows)",
            });
        }
    }
    Ok(())
}

/// Errors when there are not more rows than coefficients.
pub(crate) fn check_rows(n: usize, names: &[String]) -> Result<(), GlmError> {
    let p = names.len();
    if n <= p {
        let mut shown: Vec<&str> = names.iter().take(6).map(String::as_str).collect();
        if p > 6 {
            shown.push("…");
        }
        return Err(GlmError::TooFewRows {
            rows: n,
            params: p,
            terms: shown.join(", "),
        });
    }
    Ok(())
}

/// A redundant design column and its expression in the earlier ones.
#[derive(Clone, Debug)]
pub(crate) struct Redundant {
    pub column: usize,
    pub relation: String,
}

/// The columns of `x` that are linear combinations of earlier columns (see the module docs).
pub(crate) fn find_collinear(x: ArrayView2<f64>, names: &[String]) -> Vec<Redundant> {
    let p = x.ncols();
    let mut basis: Vec<Vec<f64>> = Vec::new(); // orthonormal, one per kept column
    let mut kept: Vec<usize> = Vec::new();
    let mut norms = vec![0.0; p];
    // r[k] holds, for kept column k, its coordinates in the basis (upper triangular R).
    let mut r: Vec<Vec<f64>> = Vec::new();
    let mut out = Vec::new();
    for j in 0..p {
        let norm = x.column(j).iter().map(|v| v * v).sum::<f64>().sqrt();
        norms[j] = norm;
        if norm == 0.0 {
            out.push(Redundant {
                column: j,
                relation: format!("'{}' is zero in every row", names[j]),
            });
            continue;
        }
        let mut v: Vec<f64> = x.column(j).iter().map(|a| a / norm).collect();
        let mut coords = vec![0.0; basis.len()];
        for _ in 0..2 {
            for (k, q) in basis.iter().enumerate() {
                let d: f64 = q.iter().zip(&v).map(|(a, b)| a * b).sum();
                coords[k] += d;
                v.iter_mut().zip(q).for_each(|(a, b)| *a -= d * b);
            }
        }
        let rem = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if rem < COLLINEAR_TOL {
            // Scaled column = Σ coords_k q_k = Σ_k a_k (scaled kept column k): solve R a = coords.
            let m = kept.len();
            let mut a = vec![0.0; m];
            for i in (0..m).rev() {
                let mut s = coords[i];
                for (k, ak) in a.iter().enumerate().skip(i + 1) {
                    s -= r[k][i] * ak;
                }
                a[i] = s / r[i][i];
            }
            let parts: Vec<(f64, usize)> = a
                .iter()
                .zip(&kept)
                .map(|(&ak, &c)| (ak * norm / norms[c], c))
                .collect();
            let big = parts.iter().map(|(c, _)| c.abs()).fold(0.0, f64::max);
            let mut text = String::new();
            for (c, col) in parts.iter().filter(|(c, _)| c.abs() > 1e-8 * big) {
                let sign = if c < &0.0 { " − " } else { " + " };
                if text.is_empty() {
                    if *c < 0.0 {
                        text.push('−');
                    }
                } else {
                    text.push_str(sign);
                }
                text.push_str(&format!("{}·{}", fmt_coef(c.abs()), names[*col]));
            }
            out.push(Redundant {
                column: j,
                relation: format!("'{}' = {}", names[j], text),
            });
            continue;
        }
        v.iter_mut().for_each(|a| *a /= rem);
        let mut col_r = coords;
        col_r.push(rem);
        r.push(col_r);
        basis.push(v);
        kept.push(j);
    }
    out
}

fn fmt_coef(c: f64) -> String {
    let s = format!("{c:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn names_the_redundant_column_and_its_expression() {
        let x = array![
            [1.0, 1.0, 2.0, 5.0],
            [1.0, 2.0, 1.0, 4.0],
            [1.0, 3.0, 5.0, 13.0],
            [1.0, 4.0, 3.0, 10.0],
            [1.0, 0.5, 7.0, 14.5],
        ];
        let names: Vec<String> = ["intercept", "a", "b", "c"].map(String::from).to_vec();
        // c = 1·a + 2·b exactly.
        let red = find_collinear(x.view(), &names);
        assert_eq!(red.len(), 1);
        assert_eq!(red[0].column, 3);
        assert_eq!(red[0].relation, "'c' = 1·a + 2·b");
    }
}
