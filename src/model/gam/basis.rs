//! Cubic B-spline bases on equally spaced knots (P-splines) or on knots at quantiles of the
//! training values, their sum-to-zero reparametrisation, and difference penalties.
//!
//! Eilers & Marx (1996, "Flexible smoothing with B-splines and penalties", Statistical Science
//! 11:89–121): a generous basis on equally spaced knots plus a difference penalty on adjacent
//! coefficients. Equal spacing makes every basis function a shifted copy of one cubic, so a value
//! is evaluated in closed form (four non-zero weights) and the second-difference penalty means
//! "close to a straight line". That is the default ([`Knots::Uniform`]).
//!
//! [`Knots::Quantile`] puts the knots at equally spaced quantiles of the training values instead
//! (as mgcv's cubic regression splines `bs = "cr"` do), evaluated by de Boor's recurrence. The same
//! difference penalty then shrinks towards a line on the *quantile* scale: a skewed feature (an
//! area, an income) gets its flexibility where the rows are, and its penalised fit is close to
//! linear in the rank rather than in the raw value. Eilers & Marx (§6) argue that knot placement
//! matters little with a penalty; that holds for the wiggly part, not for the null space the penalty
//! leaves free, which is why the choice is offered (measured in `bench/peers/gam_splits.py`).
//!
//! Values outside the training range are clamped to its ends, so a smooth extrapolates as a
//! constant: a model-risk reader should never see a fitted curve shoot off past the data.
//!
//! Identifiability: B-splines sum to one, so each smooth would duplicate the intercept. As mgcv does
//! (Wood 2017, *Generalized Additive Models*, §5.4.1), the coefficients are written β = Zθ where
//! the columns of Z span the null space of the training column means c of the basis (a Householder
//! reflection of c); then the term has mean zero over the training rows for every θ.

use serde::{Deserialize, Serialize};

/// Where a smooth's knots go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Knots {
    /// Equally spaced over the training range (P-splines; the default).
    #[default]
    Uniform,
    /// At equally spaced quantiles of the training values (ties merged, so a feature with many
    /// repeated values may get fewer basis functions).
    Quantile,
}

/// A cubic B-spline basis with `k` functions over `[lo, hi]`: on equally spaced knots when `knots`
/// is empty, else on the full knot vector `knots`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BSpline {
    /// Lower end of the range (training minimum).
    pub lo: f64,
    /// Upper end of the range (training maximum).
    pub hi: f64,
    /// Number of basis functions (≥ 4).
    pub k: usize,
    /// The full knot vector (k + 4 strictly increasing values, `knots[3] = lo`, `knots[k] = hi`)
    /// for knots that are not equally spaced; empty for equally spaced knots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knots: Vec<f64>,
}

impl BSpline {
    /// The basis with equally spaced knots.
    pub fn uniform(lo: f64, hi: f64, k: usize) -> Self {
        BSpline {
            lo,
            hi,
            k,
            knots: Vec::new(),
        }
    }

    /// A basis with its k − 2 interior and boundary knots at the quantiles 0, 1/(k−3), …, 1 of the
    /// values `sorted` (ascending, finite, at least two distinct; quantiles interpolated linearly
    /// between order statistics, NumPy's and R's default type 7). Tied quantiles are merged, so
    /// the basis may have fewer than `k` functions (never fewer than 4: with fewer than two
    /// distinct knots the equally spaced basis is returned). Three more knots on each side
    /// continue the first and last knot intervals.
    pub fn quantile(sorted: &[f64], k: usize) -> Self {
        let n = sorted.len();
        let (lo, hi) = (sorted[0], sorted[n - 1]);
        let m = k - 3;
        let mut inner: Vec<f64> = (0..=m)
            .map(|j| {
                let pos = (n - 1) as f64 * j as f64 / m as f64;
                let i = pos.floor() as usize;
                let f = pos - i as f64;
                if i + 1 < n {
                    sorted[i] + f * (sorted[i + 1] - sorted[i])
                } else {
                    sorted[n - 1]
                }
            })
            .collect();
        inner[0] = lo;
        inner[m] = hi;
        inner.dedup();
        if inner.len() < 2 {
            return BSpline::uniform(lo, hi, k);
        }
        let last = inner.len() - 1;
        let (h0, h1) = (inner[1] - inner[0], inner[last] - inner[last - 1]);
        let mut knots: Vec<f64> = (1..=3).rev().map(|j| lo - j as f64 * h0).collect();
        knots.extend_from_slice(&inner);
        knots.extend((1..=3).map(|j| hi + j as f64 * h1));
        BSpline {
            lo,
            hi,
            k: knots.len() - 4,
            knots,
        }
    }

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
        if !self.knots.is_empty() {
            return self.eval_knots(x);
        }
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

    /// [`BSpline::eval`] on the knot vector: the span by binary search, the four weights by de
    /// Boor's triangular recurrence (Piegl & Tiller, *The NURBS Book*, 2nd ed., algorithm A2.2).
    fn eval_knots(&self, x: f64) -> (usize, [f64; 4]) {
        let t = &self.knots;
        let x = x.clamp(self.lo, self.hi);
        // First basis index i with t[i+3] ≤ x < t[i+4]; the last interval is closed.
        let i = t[3..=self.k]
            .partition_point(|&v| v <= x)
            .saturating_sub(1)
            .min(self.k - 4);
        let s = i + 3;
        let (mut left, mut right) = ([0.0; 4], [0.0; 4]);
        let mut n = [1.0, 0.0, 0.0, 0.0];
        for j in 1..=3 {
            left[j] = x - t[s + 1 - j];
            right[j] = t[s + j] - x;
            let mut saved = 0.0;
            for r in 0..j {
                let tmp = n[r] / (right[r + 1] + left[j - r]);
                n[r] = saved + right[r + 1] * tmp;
                saved = left[j - r] * tmp;
            }
            n[j] = saved;
        }
        (i, n)
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
        let b = BSpline::uniform(-2.0, 3.0, 9);
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

    #[test]
    fn quantile_knots_are_numpys_quantiles_and_the_basis_matches_de_boor() {
        // Skewed values; the interior knots are numpy.quantile(x, numpy.linspace(0, 1, 5))
        // (default linear interpolation) = [0.05, 0.375, 1.0, 3.725, 15.0].
        let x = [0.05, 0.1, 0.3, 0.4, 0.6, 0.9, 1.1, 2.2, 3.3, 5.0, 7.5, 15.0];
        let b = BSpline::quantile(&x, 7);
        assert_eq!(b.k, 7);
        let want = [0.05, 0.375, 1.0, 3.725, 15.0];
        for (got, w) in b.knots[3..8].iter().zip(want) {
            assert!((got - w).abs() < 1e-12, "{:?}", b.knots);
        }
        // Outer knots continue the first and last intervals.
        assert!((b.knots[0] - (0.05 - 3.0 * 0.325)).abs() < 1e-12);
        assert!((b.knots[10] - (15.0 + 3.0 * 11.275)).abs() < 1e-12);
        for i in 0..=300 {
            let v = 0.05 + (15.0 - 0.05) * (i as f64 / 300.0).powi(3);
            let r = b.row(v);
            assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-13);
            for (a, &got) in r.iter().enumerate() {
                let want = cox_de_boor(&b.knots, a, 3, v.min(15.0 - 1e-12));
                assert!((got - want).abs() < 1e-10, "x={v} a={a}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn quantile_knots_on_equally_spaced_values_are_the_uniform_basis() {
        let x: Vec<f64> = (0..=60).map(|i| -1.0 + 0.05 * i as f64).collect();
        let q = BSpline::quantile(&x, 8);
        let u = BSpline::uniform(-1.0, 2.0, 8);
        assert_eq!(q.k, 8);
        for i in 0..=200 {
            let v = -1.2 + 3.4 * i as f64 / 200.0;
            let (iq, wq) = q.eval(v);
            let (iu, wu) = u.eval(v);
            assert_eq!(iq, iu, "x={v}");
            for (a, b) in wq.iter().zip(wu) {
                assert!((a - b).abs() < 1e-12, "x={v}");
            }
        }
    }

    #[test]
    fn tied_quantiles_are_merged() {
        // 80 % zeros: quantiles 0, 0.25, 0.5, 0.75 are all 0, so 5 requested knots become 2.
        let mut x = vec![0.0; 80];
        x.extend((1..=20).map(f64::from));
        let b = BSpline::quantile(&x, 7);
        assert_eq!(b.k, 4);
        assert_eq!(&b.knots[3..5], &[0.0, 20.0]);
        let r = b.row(10.0);
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-14);
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
