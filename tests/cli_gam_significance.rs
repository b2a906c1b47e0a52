//! `glassbox summary` on a GAM: the significance table through the binary against mgcv's
//! `summary.gam` (fixture `tests/fixtures/gam_significance/gaussian`, see its make.R), the CSV
//! written with `--out`, and the errors for model files without the stored test inputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap()
}

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gam_significance")
        .join(p)
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            l.split(',')
                .map(|f| f.trim_matches('"').to_string())
                .collect()
        })
        .collect()
}

/// Trains the Gaussian fixture's model (fixed λ, as make.R) into `dir/gam.json`.
fn train(dir: &Path) -> String {
    let model = dir.join("gam.json").to_string_lossy().into_owned();
    let data = fixture("gaussian/data.csv");
    let out = run(&[
        "train",
        "--model",
        "gam",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "y",
        "--n-splines",
        "10",
        "--tensor-splines",
        "5",
        "--lam",
        "0.5",
        "--interactions",
        "x1:x2",
        "--out",
        &model,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

#[test]
fn summary_prints_and_writes_mgcv_significance() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let csv = dir.path().join("terms.csv");
    let out = run(&["summary", "--model", &model, "--out", csv.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\nApproximate significance of terms (smooths: Wood 2013 test as mgcv; parametric: Wald)\nterm "), "{text}");
    assert!(
        text.contains("n = 300, residual df 283.47, deviance explained 80.3%"),
        "{text}"
    );
    let got = rows(&csv);
    assert_eq!(
        got[0],
        ["term", "kind", "edf", "ref_df", "statistic", "p_value"]
    );
    let want = rows(&fixture("gaussian/expected.csv"));
    assert_eq!(got.len(), want.len());
    let col = |h: &[String], n: &str| h.iter().position(|x| x == n).unwrap();
    for w in &want[1..] {
        let g = got.iter().find(|g| g[0] == w[0]).expect("term row");
        assert_eq!(g[1], w[col(&want[0], "kind")]);
        for name in ["edf", "ref_df", "statistic", "p_value"] {
            let (a, b): (f64, f64) = (
                g[col(&got[0], name)].parse().unwrap(),
                w[col(&want[0], name)].parse().unwrap(),
            );
            assert!(
                (a - b).abs() <= 1e-6 * b.abs() + 1e-12,
                "{} {name}: {a} vs mgcv {b}",
                w[0]
            );
        }
    }
}

#[test]
fn old_model_files_need_data_for_out_and_other_rows_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    // Strip the stored inputs, as in a file written before them.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    for t in json["model"]["terms"].as_array_mut().unwrap() {
        t.as_object_mut().unwrap().remove("inference");
    }
    std::fs::write(&model, serde_json::to_string(&json).unwrap()).unwrap();
    let csv = dir.path().join("terms.csv");
    let out = run(&["summary", "--model", &model, "--out", csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("glassbox: error: {model}: term 'x1': this GAM model file has no significance-test inputs (written before glassbox stored them); retrain it, or pass the training data (--data) so they can be rebuilt\n")
    );
    assert!(!csv.exists());
    // Without --out the term table still prints, with the reason for the missing significance.
    let out = run(&["summary", "--model", &model]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(
        "no significance table: term 'x1': this GAM model file has no significance-test inputs"
    ));
    // With the training data they are rebuilt.
    let data = fixture("gaussian/data.csv");
    let out = run(&[
        "summary",
        "--model",
        &model,
        "--data",
        data.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows(&csv).len(), 6);
    // Other data are refused, naming the file and the fix.
    let other = fixture("binomial/data.csv");
    let out = run(&[
        "summary",
        "--model",
        &model,
        "--data",
        other.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("glassbox: error: {}: term '", other.display())),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("pass the exact training data the GAM was fitted on"),
        "{err}"
    );
}

#[test]
fn data_is_refused_for_a_glm_summary() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("glm.json");
    let data = fixture("binomial/data.csv");
    let out = run(&[
        "train",
        "--model",
        "glm",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "y",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "summary",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "glassbox: error: {}: --data applies to GAM model files only (a GLM's summary needs no data)\n",
            model.display()
        )
    );
}
