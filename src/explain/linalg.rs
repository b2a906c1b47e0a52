//! Small dense solvers shared by the sampling explainers (M × M systems, M = features).
//!
//! Hand-written rather than faer: the systems are tiny (tens of unknowns), solved millions of
//! times per run inside per-row loops, and a plain row-major Cholesky keeps them allocation-free
//! and bit-reproducible.

/// Lower Cholesky factor of the symmetric M × M matrix `a`, in place (upper triangle left as is).
/// False when `a` is not numerically positive definite.
pub(crate) fn cholesky(a: &mut [f64], m: usize) -> bool {
    let scale = (0..m).map(|j| a[j * m + j].abs()).fold(0.0, f64::max);
    // Row slices instead of indexing (no bounds check per multiply-add); the products are
    // subtracted in the same order as the textbook loop, so results are bit-identical to it.
    for j in 0..m {
        let (upto, below) = a[..m * m].split_at_mut((j + 1) * m);
        let row_j = &mut upto[j * m..];
        let mut d = row_j[j];
        for &v in &row_j[..j] {
            d -= v * v;
        }
        if !(d > 1e-12 * scale) {
            return false;
        }
        let d = d.sqrt();
        row_j[j] = d;
        let row_j = &row_j[..j];
        for row_i in below.chunks_exact_mut(m) {
            let mut s = row_i[j];
            for (x, y) in row_i[..j].iter().zip(row_j) {
                s -= x * y;
            }
            row_i[j] = s / d;
        }
    }
    true
}

/// Solves L Lᵀ x = b in place, with L from [`cholesky`].
pub(crate) fn cholesky_solve(l: &[f64], m: usize, b: &mut [f64]) {
    for i in 0..m {
        let row = &l[i * m..i * m + i + 1];
        let mut s = b[i];
        for (x, y) in row[..i].iter().zip(&b[..i]) {
            s -= x * y;
        }
        b[i] = s / row[i];
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
