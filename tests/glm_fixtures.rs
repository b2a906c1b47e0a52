//! Table-driven check of GLM fits against statsmodels 0.15.0 on every `tests/fixtures/glm_*` case.
//!
//! Each case has `design.csv` (the design matrix statsmodels fitted, `const` column included, the
//! target last, and optional `__weights` / `__offset` columns right before it), `coefficients.csv`
//! (coef, std_err, z, p_value, ci_low, ci_high per term) and `case.json` (family, link, deviance,
//! null deviance, log-likelihood, AIC, scale, Pearson χ²). We fit on the raw design matrix through
//! `GlmParams::fit_matrix` and require every number to agree to 1e-6 relative (the README's
//! tolerance). The measured maxima are printed (run with `--nocapture`).

use std::path::{Path, PathBuf};

use glassbox::model::glm::{Family, GlmParams, LinkFunction};
use ndarray::{Array1, Array2};

const TOL: f64 = 1e-6;

struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_csv(path: &Path) -> Csv {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    Csv { header, rows }
}

fn family_of(case: &serde_json::Value) -> (Family, LinkFunction) {
    let name = case["family"].as_str().unwrap();
    let (fam, link) = match name.split_once('_') {
        Some((f, l)) => (f, Some(l)),
        None => (name, None),
    };
    let family = match fam {
        "binomial" => Family::Binomial,
        "gaussian" => Family::Gaussian,
        "poisson" => Family::Poisson,
        "gamma" => Family::Gamma,
        "tweedie" => Family::Tweedie {
            var_power: case["var_power"].as_f64().unwrap(),
        },
        other => panic!("unknown family {other}"),
    };
    let link = link
        .map(|l| LinkFunction::from_name(l).unwrap())
        .unwrap_or(family.default_link());
    (family, link)
}

fn rel(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else {
        (got - want).abs() / want.abs()
    }
}

/// Max relative error per statistic for one case; panics (after printing) when any exceeds TOL.
fn run_case(dir: &Path) -> Vec<(String, f64)> {
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let (family, link) = family_of(&case);
    let design = read_csv(&dir.join("design.csv"));
    let ncol = design.header.len();
    let n = design.rows.len();
    let num = |s: &str| s.parse::<f64>().unwrap();
    let w_col = design.header.iter().position(|h| h == "__weights");
    let o_col = design.header.iter().position(|h| h == "__offset");
    let x_cols: Vec<usize> = (0..ncol - 1)
        .filter(|&j| Some(j) != w_col && Some(j) != o_col)
        .collect();
    let x = Array2::from_shape_fn((n, x_cols.len()), |(i, j)| num(&design.rows[i][x_cols[j]]));
    let y = Array1::from_shape_fn(n, |i| num(&design.rows[i][ncol - 1]));
    let w = w_col.map(|c| Array1::from_shape_fn(n, |i| num(&design.rows[i][c])));
    let o = o_col.map(|c| Array1::from_shape_fn(n, |i| num(&design.rows[i][c])));
    let names: Vec<String> = x_cols.iter().map(|&j| design.header[j].clone()).collect();
    let fit = GlmParams::new(family)
        .link(link)
        .fit_matrix(
            x.view(),
            y.view(),
            w.as_ref().map(|a| a.view()),
            o.as_ref().map(|a| a.view()),
            &names,
            &design.header[ncol - 1],
        )
        .unwrap();
    let r = &fit.report;
    assert!(r.converged, "{}: not converged", dir.display());

    let coefs = read_csv(&dir.join("coefficients.csv"));
    assert_eq!(coefs.rows.len(), r.coefficients.len());
    let mut worst: Vec<(String, f64)> = ["coef", "std_err", "z", "p_value", "ci_low", "ci_high"]
        .iter()
        .map(|s| (s.to_string(), 0.0))
        .collect();
    for (row, got) in coefs.rows.iter().zip(&r.coefficients) {
        assert_eq!(row[0], got.term);
        let vals = [
            Some(got.coef),
            got.std_err,
            got.z,
            got.p_value,
            got.ci_low,
            got.ci_high,
        ];
        for (k, v) in vals.iter().enumerate() {
            let e = rel(v.unwrap(), num(&row[k + 1]));
            worst[k].1 = worst[k].1.max(e);
        }
    }
    let stats = [
        ("deviance", r.deviance),
        ("null_deviance", r.null_deviance),
        ("llf", r.log_likelihood.unwrap()),
        ("aic", r.aic.unwrap()),
        ("scale", r.scale),
        ("pearson_chi2", r.pearson_chi2),
    ];
    for (name, got) in stats {
        worst.push((name.to_string(), rel(got, case[name].as_f64().unwrap())));
    }
    if let Some(bic) = case.get("bic").and_then(|v| v.as_f64()) {
        worst.push(("bic".into(), rel(r.bic.unwrap(), bic)));
    }
    worst
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("glm_"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_glm_fixture_matches_statsmodels() {
    let all = cases();
    assert!(all.len() >= 4, "fixtures missing: {all:?}");
    let mut failures = Vec::new();
    for dir in &all {
        let worst = run_case(dir);
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let line: Vec<String> = worst.iter().map(|(k, e)| format!("{k}={e:.1e}")).collect();
        eprintln!("{name}: {}", line.join(" "));
        for (k, e) in &worst {
            if !(*e <= TOL) {
                failures.push(format!("{name} {k}: relative error {e:e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The harness must be able to fail: a perturbed reference is caught.
#[test]
fn harness_detects_a_wrong_reference() {
    assert!(rel(1.0 + 2e-6, 1.0) > TOL);
    assert!(!(rel(f64::NAN, 1.0) <= TOL));
}
