//! Small dense solvers shared by the sampling explainers (M × M systems, M = features).
//!
//! Hand-written rather than faer: the systems are tiny (tens of unknowns), solved millions of
//! times per run inside per-row loops, and a plain row-major Cholesky keeps them allocation-free
//! and bit-reproducible.

/// Lower Cholesky factor of the symmetric M × M matrix `a` (read from its lower triangle), in
/// place; the upper triangle is used as scratch and holds Lᵀ afterwards. False when `a` is not
/// numerically positive definite.
///
/// Each entry is computed with the textbook operations in the textbook order — d = a_jj − Σ L_jk²
/// and L_ij = (a_ij − Σ_k L_ik L_jk) / √d, k ascending — so results are bit-identical to the
/// scalar loop; but the sums run as row updates on Lᵀ (row j −= L_jk · row k of Lᵀ), which
/// vectorise across i, with AVX2 when the CPU has it.
pub(crate) fn cholesky(a: &mut [f64], m: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        /// [`cholesky_in`] compiled for AVX2.
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(a: &mut [f64], m: usize) -> bool {
            cholesky_in(a, m)
        }
        // SAFETY: the CPU supports AVX2 (checked just above), the only feature `avx2` is
        // compiled with beyond the baseline.
        return unsafe { avx2(a, m) };
    }
    cholesky_in(a, m)
}

/// [`cholesky`]'s body, inlined into each instruction-set version.
#[inline(always)]
fn cholesky_in(a: &mut [f64], m: usize) -> bool {
    let a = &mut a[..m * m];
    let scale = (0..m).map(|j| a[j * m + j].abs()).fold(0.0, f64::max);
    // Upper triangle := lower triangle: row j of the upper part then becomes row j of Lᵀ.
    for i in 0..m {
        for j in 0..i {
            a[j * m + i] = a[i * m + j];
        }
    }
    for j in 0..m {
        let (done, rest) = a.split_at_mut(j * m);
        let row_j = &mut rest[j..m];
        // Rows k < j of Lᵀ (row_k[j] = L_jk), four per pass over row j: each entry still
        // subtracts its products one at a time in ascending k.
        let mut quads = done.chunks_exact(4 * m);
        for q in &mut quads {
            let (r0, r1, r2, r3) = (
                &q[j..m],
                &q[m + j..2 * m],
                &q[2 * m + j..3 * m],
                &q[3 * m + j..],
            );
            let (l0, l1, l2, l3) = (r0[0], r1[0], r2[0], r3[0]);
            for ((((x, y0), y1), y2), y3) in row_j.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
                let mut v = *x;
                v -= y0 * l0;
                v -= y1 * l1;
                v -= y2 * l2;
                v -= y3 * l3;
                *x = v;
            }
        }
        for row_k in quads.remainder().chunks_exact(m) {
            let row_k = &row_k[j..];
            let ljk = row_k[0];
            for (x, y) in row_j.iter_mut().zip(row_k) {
                *x -= y * ljk;
            }
        }
        let d = row_j[0];
        if !(d > 1e-12 * scale) {
            return false;
        }
        let d = d.sqrt();
        row_j[0] = d;
        for x in &mut row_j[1..] {
            *x /= d;
        }
    }
    // Lower triangle := Lᵀ's upper.
    for i in 0..m {
        for j in 0..i {
            a[i * m + j] = a[j * m + i];
        }
    }
    true
}

/// Solves L Lᵀ x = b in place, with L (and Lᵀ in the upper triangle) from [`cholesky`].
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
        // Row i of Lᵀ (the upper triangle, see `cholesky`) holds L_ki for k > i, contiguous.
        let mut s = b[i];
        for (x, y) in l[i * m + i + 1..(i + 1) * m].iter().zip(&b[i + 1..]) {
            s -= x * y;
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

    /// Reference: the textbook (Cholesky–Banachiewicz) loop on the lower triangle. The row-update
    /// form must give the same factor bit for bit, at sizes around the vector widths, and only
    /// the lower triangle of the input may matter.
    #[test]
    fn cholesky_is_bit_identical_to_the_textbook_loop() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for m in [1, 2, 3, 4, 5, 7, 8, 9, 17, 61] {
            // A = B Bᵀ + I: symmetric positive definite.
            let b: Vec<f64> = (0..m * m).map(|_| next()).collect();
            let mut a = vec![0.0; m * m];
            for i in 0..m {
                for j in 0..m {
                    a[i * m + j] = (0..m).map(|k| b[i * m + k] * b[j * m + k]).sum::<f64>();
                }
                a[i * m + i] += 1.0;
            }
            let mut reference = a.clone();
            for j in 0..m {
                let mut d = reference[j * m + j];
                for k in 0..j {
                    d -= reference[j * m + k] * reference[j * m + k];
                }
                let d = d.sqrt();
                reference[j * m + j] = d;
                for i in j + 1..m {
                    let mut s = reference[i * m + j];
                    for k in 0..j {
                        s -= reference[i * m + k] * reference[j * m + k];
                    }
                    reference[i * m + j] = s / d;
                }
            }
            // Garbage in the upper triangle: it must not be read.
            for i in 0..m {
                for j in i + 1..m {
                    a[i * m + j] = f64::NAN;
                }
            }
            assert!(cholesky(&mut a, m));
            for i in 0..m {
                for j in 0..=i {
                    let (x, y) = (a[i * m + j], reference[i * m + j]);
                    assert_eq!(x.to_bits(), y.to_bits(), "m {m}, ({i}, {j}): {x} vs {y}");
                    // cholesky_solve reads Lᵀ from the upper triangle.
                    assert_eq!(
                        a[j * m + i].to_bits(),
                        x.to_bits(),
                        "m {m}, upper ({j}, {i})"
                    );
                }
            }
        }
    }
}
