//! `glassbox interactions` against XGBoost's `pred_interactions` (tests/fixtures/xgb_diabetes_regression,
//! copied from shared/fixtures: xgboost 3.2.0).

mod common;

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .arg("--quiet")
        .output()
        .expect("run glassbox");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn chosen_features_and_top_pairs_match_xgboost() {
    let dir = common::fixture_dir("xgb_diabetes_regression");
    let reference = common::read_csv(dir.join("interactions.csv")).values;
    let m = 10; // age, sex, bmi, bp, s1..s6
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ix.csv");
    let model = dir.join("model.json");
    let data = dir.join("features.csv");
    let (code, err) = run(&[
        "interactions",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--rows",
        "10",
        "--features",
        "bmi,bp,s5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "row,output,feature_i,feature_j,value");
    assert_eq!(lines.len() - 1, 10 * 6, "3 main effects + 3 pairs per row");
    let index = |name: &str| {
        [
            "age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6",
        ]
        .iter()
        .position(|f| *f == name)
        .unwrap()
    };
    let scale = reference.iter().fold(1f64, |a, v| a.max(v.abs()));
    for line in &lines[1..] {
        let f: Vec<&str> = line.split(',').collect();
        let row: usize = f[0].parse().unwrap();
        let (i, j) = (index(f[2]), index(f[3]));
        let got: f64 = f[4].parse().unwrap();
        let want = reference[[row, i * (m + 1) + j]];
        assert!((got - want).abs() <= 1e-5 * scale, "{line}: want {want}");
    }
    // Top pairs: the strongest off-diagonal |Φ_ij| of row 0 equals XGBoost's.
    let (code, err) = run(&[
        "interactions",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--rows",
        "1",
        "--top",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let got: f64 = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    let mut best = 0f64;
    for i in 0..m {
        for j in (i + 1)..m {
            let v = reference[[0, i * (m + 1) + j]];
            if v.abs() > best.abs() {
                best = v;
            }
        }
    }
    assert!(
        (got - best).abs() <= 1e-5 * scale,
        "top pair {got} vs {best}"
    );
}

#[test]
fn unknown_feature_is_a_usage_error() {
    let dir = common::fixture_dir("xgb_diabetes_regression");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ix.csv");
    let (code, err) = run(&[
        "interactions",
        "--model",
        dir.join("model.json").to_str().unwrap(),
        "--data",
        dir.join("features.csv").to_str().unwrap(),
        "--features",
        "bmi,BMI",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no feature named 'BMI'"), "{err}");
    assert!(!out.exists());
}
