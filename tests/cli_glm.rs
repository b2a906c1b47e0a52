//! `glassbox train --model glm` and `glassbox summary` end to end: the binary's coefficient CSV
//! matches statsmodels, and bad input exits 2 with a message naming the row.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// term → (coef, std_err, p_value) from a coefficient CSV.
fn table(path: &Path) -> HashMap<String, (f64, f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "term,coef,std_err,z,p_value,ci_low,ci_high"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let n = |s: &str| s.parse::<f64>().unwrap();
            (f[0].to_string(), (n(f[1]), n(f[2]), n(f[4])))
        })
        .collect()
}

fn compare(
    ours: &HashMap<String, (f64, f64, f64)>,
    reference: &Path,
    rename: &[(&str, &str)],
) -> f64 {
    let want = table(reference);
    assert_eq!(ours.len(), want.len());
    let mut worst: f64 = 0.0;
    for (term, (c, s, p)) in ours {
        let key = rename
            .iter()
            .find(|(a, _)| a == term)
            .map_or(term.as_str(), |(_, b)| b);
        let (wc, ws, wp) = want[key];
        for (a, b) in [(c, wc), (s, ws), (p, wp)] {
            worst = worst.max((a - b).abs() / b.abs());
        }
    }
    worst
}

#[test]
fn gamma_log_from_the_raw_table_matches_statsmodels() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("glm.json");
    let out = bin()
        .args(["train", "--data"])
        .arg(repo("data/diabetes_progression.csv"))
        .args([
            "--target",
            "disease_progression",
            "--model",
            "glm",
            "--family",
            "gamma",
        ])
        .args(["--link", "log", "--numeric", "sex", "--quiet", "--out"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let coef = dir.path().join("coef.csv");
    let out = bin()
        .args(["summary", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&coef)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("Generalized Linear Model Regression Results"));
    assert!(
        stdout.contains("Link Function:                         log"),
        "{stdout}"
    );
    let worst = compare(
        &table(&coef),
        &repo("tests/fixtures/glm_diabetes_gamma_log/coefficients.csv"),
        &[("intercept", "const")],
    );
    eprintln!("CLI gamma/log vs statsmodels: max relative error {worst:.1e}");
    assert!(worst < 1e-6);
}

#[test]
fn poisson_with_weights_and_offset_columns_matches_statsmodels() {
    // The fixture's design.csv doubles as a table: its `const` column is ignored (glassbox adds
    // the intercept), `sex_Male` (0/1) becomes the dummy `sex_Male=1`.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("glm.json");
    let case = repo("tests/fixtures/glm_extra_compas_poisson_weights_offset");
    let out = bin()
        .args(["train", "--data"])
        .arg(case.join("design.csv"))
        .args([
            "--target",
            "priors_count",
            "--model",
            "glm",
            "--family",
            "poisson",
        ])
        .args([
            "--weights",
            "__weights",
            "--offset",
            "__offset",
            "--ignore",
            "const",
        ])
        .args([
            "--numeric",
            "juv_fel_count",
            "--numeric",
            "juv_misd_count",
            "--quiet",
            "--out",
        ])
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let coef = dir.path().join("coef.csv");
    let status = bin()
        .args(["summary", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&coef)
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    let worst = compare(
        &table(&coef),
        &case.join("coefficients.csv"),
        &[("intercept", "const"), ("sex_Male=1", "sex_Male")],
    );
    eprintln!("CLI poisson+weights+offset vs statsmodels: max relative error {worst:.1e}");
    assert!(worst < 1e-6);
}

#[test]
fn gamma_with_a_zero_target_exits_2_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "x,cost\n1,2.5\n2,3.5\n3,0\n4,5.5\n5,1.5\n").unwrap();
    let out = bin()
        .args(["train", "--data"])
        .arg(&data)
        .args([
            "--target", "cost", "--model", "glm", "--family", "gamma", "--out",
        ])
        .arg(dir.path().join("m.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("glassbox: error: target 'cost' row 3 is 0, but the gamma family needs a value that is strictly positive"),
        "{err}"
    );
    assert!(!dir.path().join("m.json").exists());
}

#[test]
fn glm_flags_without_model_glm_are_refused_and_summary_refuses_trees() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["train", "--data"])
        .arg(repo("data/german_credit.csv"))
        .args([
            "--target",
            "bad_credit",
            "--model",
            "gbdt",
            "--family",
            "binomial",
            "--out",
        ])
        .arg(dir.path().join("m.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("need --model glm"));
    let out = bin()
        .args(["summary", "--model"])
        .arg(repo("tests/fixtures/glm_german_binomial/case.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
