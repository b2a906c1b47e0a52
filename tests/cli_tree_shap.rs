//! `glassbox explain --method tree-shap / tree-shap-interventional` end to end: the binary's CSV
//! (streamed in several chunks) matches the reference libraries, probability output adds up to
//! the predicted probability, and misuse exits 2 with a message that says what to do.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use ndarray::{s, Array2};

fn run(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .arg("--quiet")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn fixture(case: &str, file: &str) -> String {
    common::fixture_dir(case).join(file).display().to_string()
}

/// The first `n` lines of a fixture's `features.csv` (header included) as a new file.
fn head(case: &str, n: usize, to: &Path) -> String {
    let text = std::fs::read_to_string(fixture(case, "features.csv")).unwrap();
    let lines: Vec<&str> = text.lines().take(n + 1).collect();
    std::fs::write(to, lines.join("\n") + "\n").unwrap();
    to.display().to_string()
}

fn scale(case: &str) -> f64 {
    common::read_csv(fixture(case, "margin.csv"))
        .values
        .iter()
        .fold(1.0f64, |m, v| m.max(v.abs()))
}

fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn multiclass_path_dependent_csv_matches_xgboost() {
    let case = "xgb_compas_multiclass";
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        &[
            "explain",
            "--model",
            &fixture(case, "model.json"),
            "--data",
            &fixture(case, "features.csv"),
            "--method",
            "tree-shap",
            "--chunk-size",
            "64",
            "--out",
            "shap.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours = common::read_csv(dir.path().join("shap.csv"));
    let m = common::read_csv(fixture(case, "features.csv")).names.len();
    assert_eq!(ours.names.len(), 3 * (m + 1));
    assert_eq!(ours.names[m], "class0:base_value");
    for k in 0..3 {
        let reference = common::read_csv(fixture(case, &format!("shap_path_class{k}.csv"))).values;
        let block = ours
            .values
            .slice(s![.., k * (m + 1)..(k + 1) * (m + 1)])
            .to_owned();
        let err = max_abs_diff(&block, &reference) / scale(case);
        assert!(err < 1e-5, "class {k}: {err:e}");
    }
}

#[test]
fn interventional_csv_matches_shap() {
    let case = "lgbm_credit_scoring_missing";
    let dir = tempfile::tempdir().unwrap();
    let bg = head(case, 100, &dir.path().join("bg.csv"));
    let o = run(
        &[
            "explain",
            "--model",
            &fixture(case, "model.txt"),
            "--data",
            &fixture(case, "features.csv"),
            "--rows",
            "100",
            "--method",
            "tree-shap-interventional",
            "--background",
            &bg,
            "--chunk-size",
            "40",
            "--out",
            "iv.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours = common::read_csv(dir.path().join("iv.csv")).values;
    let reference = common::read_csv(fixture(case, "shap_interventional.csv")).values;
    // shap computes interventional values in f32 (see tests/tree_shap_fixtures.rs).
    let err = max_abs_diff(&ours, &reference) / scale(case);
    assert!(err < 1e-6, "{err:e}");
}

#[test]
fn probability_output_adds_up_to_the_probability() {
    let case = "xgb_credit_scoring_missing";
    let dir = tempfile::tempdir().unwrap();
    let bg = head(case, 30, &dir.path().join("bg.csv"));
    let o = run(
        &[
            "explain",
            "--model",
            &fixture(case, "model.json"),
            "--data",
            &fixture(case, "features.csv"),
            "--rows",
            "3",
            "--method",
            "tree-shap-interventional",
            "--background",
            &bg,
            "--output",
            "probability",
            "--out",
            "p.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours = common::read_csv(dir.path().join("p.csv")).values;
    let margin = common::read_csv(fixture(case, "margin.csv")).values;
    for r in 0..3 {
        let total: f64 = ours.row(r).sum();
        let p = 1.0 / (1.0 + (-margin[[r, 0]]).exp());
        // XGBoost's margin is an f32 sum, hence the tolerance.
        assert!((total - p).abs() < 1e-6, "row {r}: {total} vs {p}");
    }
}

#[test]
fn misuse_exits_2_with_advice() {
    let case = "xgb_german_binary";
    let dir = tempfile::tempdir().unwrap();
    let model = fixture(case, "model.json");
    let data = fixture(case, "features.csv");
    let o = run(
        &[
            "explain",
            "--model",
            &model,
            "--data",
            &data,
            "--method",
            "tree-shap",
            "--output",
            "probability",
            "--out",
            "x.csv",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--method tree-shap-interventional with --background FILE"),
        "{err}"
    );
    let o = run(
        &[
            "explain",
            "--model",
            &model,
            "--data",
            &data,
            "--method",
            "tree-shap-interventional",
            "--out",
            "x.csv",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pass --background FILE"));
    assert!(!dir.path().join("x.csv").exists(), "no partial output");
}
