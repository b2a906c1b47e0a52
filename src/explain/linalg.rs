//! Small dense solvers shared by the sampling explainers (M × M systems, M = features).
//!
//! Hand-written rather than faer: the systems are tiny (tens of unknowns), solved millions of
//! times per run inside per-row loops, and a plain row-major Cholesky keeps them allocation-free
//! and bit-reproducible.

/// Lower Cholesky factor of the symmetric M × M matrix `a`, in place (upper triangle left as is).
/// False when `a` is not numerically positive definite.
pub(crate) fn cholesky(a: &mut [f64], m: usize) -> bool {
    let scale = (0..m).map(|j| a[j * m + j].abs()).fold(0.0, f64::max);
    for j in 0..m {
        let mut d = a[j * m + j];
        for k in 0..j {
            d -= a[j * m + k] * a[j * m + k];
        }
        if !(d > 1e-12 * scale) {
            return false;
        }
        let d = d.sqrt();
        a[j * m + j] = d;
        for i in j + 1..m {
            let mut s = a[i * m + j];
            for k in 0..j {
                s -= a[i * m + k] * a[j * m + k];
            }
            a[i * m + j] = s / d;
        }
    }
    true
}

/// Solves L Lᵀ x = b in place, with L from [`cholesky`].
pub(crate) fn cholesky_solve(l: &[f64], m: usize, b: &mut [f64]) {
    for i in 0..m {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * m + k] * b[k];
        }
        b[i] = s / l[i * m + i];
    }
    for i in (0..m).rev() {
        let mut s = b[i];
        for k in i + 1..m {
            s -= l[k * m + i] * b[k];
        }
        b[i] = s / l[i * m + i];
    }
}

/// Solves the symmetric positive definite system A x = b (A is overwritten by its factor).
/// `None` when A is not numerically positive definite.
pub(crate) fn solve_spd(a: &mut [f64], m: usize, mut b: Vec<f64>) -> Option<Vec<f64>> {
    if !cholesky(a, m) {
        return None;
    }
    cholesky_solve(a, m, &mut b);
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_and_detects_singularity() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        assert!(cholesky(&mut a, 2));
        let mut b = vec![2.0, 1.0];
        cholesky_solve(&a, 2, &mut b);
        // [4 2; 2 3] x = [2 1] → x = [0.5, 0]
        assert!((b[0] - 0.5).abs() < 1e-15 && b[1].abs() < 1e-15);
        let mut s = vec![1.0, 1.0, 1.0, 1.0];
        assert!(!cholesky(&mut s, 2));
    }
}
