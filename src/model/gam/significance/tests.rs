//! Unit tests: the Davies transcription against mgcv's `psum.chisq` (fixture written by
//! `tests/fixtures/gam_significance/make.R`), and the stored test inputs against the fit's own
//! edf and covariance.

use super::davies::psum_chisq_upper;

/// Davies' P(Σ val χ²₁ [− q/k0 χ²_k0] > q or 0) for the mixtures `testStat` forms, against mgcv
/// 1.8-41. Same algorithm, same accuracy settings: the values agree far inside the algorithm's
/// own error bound (2·10⁻⁵), to 1e-9 absolute.
#[test]
fn davies_matches_mgcv_psum_chisq() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gam_significance/davies.csv"
    );
    let text = std::fs::read_to_string(path).expect("davies.csv");
    let mut rows = 0;
    let mut worst: f64 = 0.0;
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line
            .split(',')
            .map(|f| f.trim_matches('"').parse().expect("number"))
            .collect();
        let (k0, q, nu, k, want) = (v[0], v[1], v[2], v[3] as usize, v[4]);
        let rp = nu + 1.0;
        let mut val = vec![1.0; k + 1];
        val[k - 1] = (rp + (rp * (2.0 - rp)).sqrt()) / 2.0;
        val[k] = rp - val[k - 1];
        let mut df = vec![1u32; k + 1];
        let got = if k0 == 0.0 {
            psum_chisq_upper(q, &val, &df)
        } else {
            val.push(-q / k0);
            df.push(k0 as u32);
            psum_chisq_upper(0.0, &val, &df)
        };
        worst = worst.max((got - want).abs());
        assert!(
            (got - want).abs() < 1e-9,
            "k0={k0} q={q} nu={nu} k={k}: {got} vs mgcv {want}"
        );
        rows += 1;
    }
    assert_eq!(rows, 160, "fixture rows");
    eprintln!("worst |Δp| = {worst:e}");
}
