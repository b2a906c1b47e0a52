//! Cubic B-spline bases on equally spaced knots (P-splines), their sum-to-zero reparametrisation,
//! and difference penalties.
//!
//! Eilers & Marx (1996, "Flexible smoothing with B-splines and penalties", Statistical Science
//! 11:89–121): a generous basis on equally spaced knots plus a difference penalty on adjacent
//! coefficients. Equal spacing makes every basis function a shifted copy of one cubic, so a value
//! is evaluated in closed form (four non-zero weights) and the second-difference penalty means
//! "close to a straight line". Quantile knots were rejected: with a penalty, the knot placement
//! matters little (Eilers & Marx §6) and the difference penalty only has its simple meaning on an
//! equal grid.
//!
//! Values outside the training range are clamped to its ends, so a smooth extrapolates as a
//! constant: a model-risk reader should never see a fitted curve shoot off past the data.
//!
//! Identifiability: B-splines sum to one, so each smooth would duplicate the intercept. As mgcv does
//! (Wood 2017, *Generalized Additive Models*, §5.4.1), the coefficients are written β = Zθ where
//! the columns of Z span the null space of the training column means c of the basis (a Householder
//! reflection of c); then the term has mean zero over the training rows for every θ.

use serde::{Deserialize, Serialize};

/// A cubic B-spline basis with `k` functions on equally spaced knots over `[lo, hi]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BSpline {
    /// Lower end of the range (training minimum).
    pub lo: f64,
    /// Upper end of the range (training maximum).
    pub hi: f64,
    /// Number of basis functions (≥ 4).
    pub k: usize,
}

impl BSpline {
    /// Interval width.
    fn h(&self) -> f64 {
        let h = (self.hi - self.lo) / (self.k - 3) as f64;
        if h > 0.0 {
            h
        } else {
            1.0
        }
    }

    /// The index of the first non-zero basis function at `x` and the four weights.
    #[inline]
    pub fn eval(&self, x: f64) -> (usize, [f64; 4]) {
        let x = x.clamp(self.lo, self.hi);
        let u = (x - self.lo) / self.h();
        let last = (self.k - 4) as f64;
        let idx = u.floor().clamp(0.0, last);
        let t = u - idx;
        let t2 = t * t;
        let t3 = t2 * t;
        let s = 1.0 - t;
        (
            idx as usize,
            [
                s * s * s / 6.0,
                (3.0 * t3 - 6.0 * t2 + 4.0) / 6.0,
                (-3.0 * t3 + 3.0 * t2 + 3.0 * t + 1.0) / 6.0,
                t3 / 6.0,
            ],
        )
    }

    /// Σ_a β_a B_a(x).
    #[inline]
    pub fn dot(&self, x: f64, beta: &[f64]) -> f64 {
        let (i, w) = self.eval(x);
        w.iter().zip(&beta[i..i + 4]).map(|(a, b)| a * b).sum()
    }

    /// The full row of basis values at `x`.
    pub fn row(&self, x: f64) -> Vec<f64> {
        let mut r = vec![0.0; self.k];
        let (i, w) = self.eval(x);
        r[i..i + 4].copy_from_slice(&w);
        r
    }
}

/// `DᵀD` for the difference matrix D of `order` on `k` coefficients (k × k, row-major).
pub fn difference_penalty(k: usize, order: usize) -> Vec<f64> {
    let d = difference_matrix(k, order);
    let rows = d.len() / k;
    let mut s = vec![0.0; k * k];
    for r in 0..rows {
        for a in 0..k {
            let da = d[r * k + a];
            if da == 0.0 {
                continue;
            }
            for b in 0..k {
                s[a * k + b] += da * d[r * k + b];
            }
        }
    }
    s
}

/// The difference matrix of `order` on `k` coefficients ((k − order) × k, row-major).
pub fn difference_matrix(k: usize, order: usize) -> Vec<f64> {
    // Start from the identity and difference `order` times.
    let mut rows: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| f64::from(i == j)).collect())
        .collect();
    for _ in 0..order {
        rows = rows
            .windows(2)
            .map(|w| w[1].iter().zip(&w[0]).map(|(a, b)| a - b).collect())
            .collect();
    }
    rows.concat()
}

/// The k × (k − 1) matrix Z (row-major) whose columns span {β : cᵀβ = 0}: the last k − 1 columns of
/// the Householder reflection that maps c to a multiple of the first unit vector.
pub fn null_space_of(c: &[f64]) -> Vec<f64> {
    let k = c.len();
    let norm = c.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut v = c.to_vec();
    let sign = if c[0] >= 0.0 { 1.0 } else { -1.0 };
    v[0] += sign * norm;
    let vv: f64 = v.iter().map(|a| a * a).sum();
    let mut z = vec![0.0; k * (k - 1)];
    for i in 0..k {
        for j in 1..k {
            let h = f64::from(i == j)
                - if vv > 0.0 {
                    2.0 * v[i] * v[j] / vv
                } else {
                    0.0
                };
            z[i * (k - 1) + (j - 1)] = h;
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_is_a_partition_of_unity_and_matches_de_boor() {
        let b = BSpline {
            lo: -2.0,
            hi: 3.0,
            k: 9,
        };
        for i in 0..=100 {
            let x = -2.0 + 5.0 * i as f64 / 100.0;
            let r = b.row(x);
            assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-14);
            // Cox–de Boor recursion on the same knots, as reference.
            let h = 5.0 / 6.0;
            let knots: Vec<f64> = (0..13).map(|j| -2.0 + (j as f64 - 3.0) * h).collect();
            for (a, &v) in r.iter().enumerate() {
                let want = cox_de_boor(&knots, a, 3, x.min(3.0 - 1e-12));
                assert!((v - want).abs() < 1e-10, "x={x} a={a}: {v} vs {want}");
            }
        }
    }

    fn cox_de_boor(t: &[f64], i: usize, p: usize, x: f64) -> f64 {
        if p == 0 {
            return f64::from(t[i] <= x && x < t[i + 1]);
        }
        let mut out = 0.0;
        if t[i + p] > t[i] {
            out += (x - t[i]) / (t[i + p] - t[i]) * cox_de_boor(t, i, p - 1, x);
        }
        if t[i + p + 1] > t[i + 1] {
            out += (t[i + p + 1] - x) / (t[i + p + 1] - t[i + 1]) * cox_de_boor(t, i + 1, p - 1, x);
        }
        out
    }

    #[test]
    fn null_space_is_orthogonal_to_c() {
        let c = [0.1, 0.3, 0.4, 0.2];
        let z = null_space_of(&c);
        for j in 0..3 {
            let d: f64 = (0..4).map(|i| c[i] * z[i * 3 + j]).sum();
            assert!(d.abs() < 1e-15);
        }
    }

    #[test]
    fn second_difference_penalty_vanishes_on_lines() {
        let s = difference_penalty(6, 2);
        let line: Vec<f64> = (0..6).map(|i| 2.0 + 0.5 * i as f64).collect();
        for a in 0..6 {
            let v: f64 = (0..6).map(|b| s[a * 6 + b] * line[b]).sum();
            assert!(v.abs() < 1e-12);
        }
    }
}
