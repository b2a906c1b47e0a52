//! Gauss–Legendre quadrature on `[0, 1]`, and the Shapley weights it replaces.
//!
//! The Shapley weight of a coalition of size `k` among `d` players is a Beta integral,
//! `k! (d−1−k)! / d! = ∫₀¹ tᵏ (1−t)^(d−1−k) dt`, so a sum of weights times products of per-player
//! factors is the integral of a polynomial of degree `d − 1`. An `n`-point Gauss–Legendre rule
//! integrates polynomials of degree `≤ 2n − 1` exactly, hence `n = ⌈d/2⌉` points make the Tree SHAP
//! sums exact in exact arithmetic (the identity behind Quadrature TreeSHAP and Linear TreeShap).
//!
//! Nodes come from Newton's iteration on the three-term Legendre recurrence, started from the
//! usual cosine guesses; in `f64` they converge to the last bit within a few steps for the sizes
//! used here (`n ≤ 32`).

/// Nodes and weights of the `n`-point Gauss–Legendre rule on `[0, 1]`, nodes ascending.
/// `Σ w_q p(t_q) = ∫₀¹ p(t) dt` for every polynomial `p` of degree `≤ 2n − 1`.
pub(crate) fn gauss_legendre_01(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n {
        // Root i of P_n on [-1, 1], descending in x; starting guess from Abramowitz & Stegun 22.16.6.
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (p, d) = legendre(n, x);
            dp = d;
            let step = p / d;
            x -= step;
            if step.abs() <= 1e-17 {
                break;
            }
        }
        let (_, d) = legendre(n, x);
        if d.is_finite() {
            dp = d;
        }
        // Map x ∈ [-1, 1] to t = (1 - x) / 2 ∈ [0, 1] (ascending t), weight halves.
        nodes[i] = (1.0 - x) / 2.0;
        weights[i] = 1.0 / ((1.0 - x * x) * dp * dp);
    }
    (nodes, weights)
}

/// `(P_n(x), P_n'(x))` by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let mut p0 = 1.0;
    let mut p1 = x;
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let k = k as f64;
        let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
    }
    let n = n as f64;
    (p1, n * (x * p1 - p0) / (x * x - 1.0))
}

/// `k! (d−1−k)! / d!`: the Shapley weight of a coalition of `k` among `d` players (`k < d`).
pub(crate) fn shapley_weight(k: usize, d: usize) -> f64 {
    debug_assert!(k < d);
    // 1 / (d · C(d−1, k)), with the binomial built in f64 (exact up to d ≈ 50).
    let mut binom = 1.0;
    for i in 0..k {
        binom = binom * (d - 1 - i) as f64 / (i + 1) as f64;
    }
    1.0 / (d as f64 * binom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomials_exactly() {
        for n in 1..=32 {
            let (t, w) = gauss_legendre_01(n);
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-14, "n={n}");
            for deg in 0..2 * n {
                let got: f64 = t.iter().zip(&w).map(|(t, w)| w * t.powi(deg as i32)).sum();
                let want = 1.0 / (deg as f64 + 1.0);
                assert!(
                    (got - want).abs() < 1e-14,
                    "n={n} deg={deg}: {got} vs {want}"
                );
            }
            assert!(t.windows(2).all(|p| p[0] < p[1]) && t[0] > 0.0 && t[n - 1] < 1.0);
        }
    }

    #[test]
    fn weights_match_beta_integrals() {
        for d in 1usize..12 {
            let (t, w) = gauss_legendre_01(d.div_ceil(2));
            for k in 0..d {
                let quad: f64 = t
                    .iter()
                    .zip(&w)
                    .map(|(t, w)| w * t.powi(k as i32) * (1.0 - t).powi((d - 1 - k) as i32))
                    .sum();
                let direct = shapley_weight(k, d);
                assert!((quad - direct).abs() < 1e-15, "d={d} k={k}");
            }
        }
        assert_eq!(shapley_weight(0, 1), 1.0);
        assert!((shapley_weight(1, 3) - 1.0 / 6.0).abs() < 1e-16);
    }
}
