//! `glassbox plot` and `glassbox reasons` from an explanation CSV and the explained rows, run as
//! the binary in a temporary directory; error messages compared exactly.

use std::path::Path;
use std::process::Command;

use glassbox::data::FeatureSchema;
use glassbox::explain::{Explanation, ExplanationMeta};
use ndarray::{Array2, Array3};

/// Writes `shap.csv` (4 rows: age, checking_status, credit_amount) and `data.csv` with a text
/// column, into `dir`.
fn setup(dir: &Path) {
    let v = Array3::from_shape_vec(
        (4, 1, 3),
        vec![
            0.2, 0.9, -0.1, //
            -0.3, -0.5, 0.6, //
            0.1, 0.4, 0.0, //
            -0.2, 0.1, 0.3,
        ],
    )
    .unwrap();
    let e = Explanation::new(
        v,
        Array2::from_elem((4, 1), -1.0),
        FeatureSchema::numeric(["age", "checking_status", "credit_amount"]),
        vec!["y".into()],
        ExplanationMeta::new("tree-shap"),
    )
    .unwrap();
    e.write(dir.join("shap.csv"), false).unwrap();
    std::fs::write(
        dir.join("data.csv"),
        "credit_amount,checking_status,age,other\n15945,<0,22,a\n1200,no checking,45,b\n3000,<0,33,c\n8000,0<=X<200,61,d\n",
    )
    .unwrap();
}

fn glassbox(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn plots_from_an_explanation_csv_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let (code, _, err) = glassbox(
        d,
        &[
            "plot",
            "summary",
            "--explanation",
            "shap.csv",
            "--data",
            "data.csv",
            "--method",
            "tree-shap",
            "--out",
            "s.svg",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(d.join("s.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
    assert_eq!(svg.matches("<circle").count(), 12);
    assert!(svg.contains("Tree SHAP"));
    // Text columns become categories, shown by name.
    let (code, _, err) = glassbox(
        d,
        &[
            "plot",
            "waterfall",
            "--explanation",
            "shap.csv",
            "--data",
            "data.csv",
            "--row",
            "0",
            "--out",
            "w.svg",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(d.join("w.svg")).unwrap();
    assert!(svg.contains("checking_status = &lt;0"), "{svg}");
    assert!(svg.contains("credit_amount = 15,945"));
    let (code, _, err) = glassbox(
        d,
        &[
            "plot",
            "dependence",
            "--explanation",
            "shap.csv",
            "--data",
            "data.csv",
            "--feature",
            "checking_status",
            "--out",
            "d.png",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(&std::fs::read(d.join("d.png")).unwrap()[1..4], b"PNG");
}

#[test]
fn plot_errors_name_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let run = |args: &[&str]| glassbox(d, args);
    let (code, _, err) = run(&[
        "plot",
        "dependence",
        "--explanation",
        "shap.csv",
        "--data",
        "data.csv",
        "--feature",
        "Age",
        "--out",
        "d.svg",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "glassbox: error: no feature named 'Age' (did you mean 'age'?)\n"
        )
    );
    let (code, _, err) = run(&[
        "plot",
        "waterfall",
        "--explanation",
        "shap.csv",
        "--row",
        "4",
        "--out",
        "w.svg",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (2, "glassbox: error: row 4 is out of range: the explanation has 4 rows (rows are numbered from 0)\n")
    );
    let (code, _, err) = run(&[
        "plot",
        "dependence",
        "--explanation",
        "shap.csv",
        "--feature",
        "age",
        "--out",
        "d.svg",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (2, "glassbox: error: the dependence plot needs the explained feature values, and the explanation has none; attach them (CLI: --data FILE with the explained rows in the same order)\n")
    );
    let (code, _, err) = run(&["plot", "bar", "--explanation", "shap.csv", "--out", "b.pdf"]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "glassbox: error: b.pdf: unknown image format; use a .svg or .png file name\n"
        )
    );
    std::fs::write(
        d.join("short.csv"),
        "credit_amount,checking_status,age\n1,<0,2\n",
    )
    .unwrap();
    let (code, _, err) = run(&[
        "plot",
        "bar",
        "--explanation",
        "shap.csv",
        "--data",
        "short.csv",
        "--out",
        "b.svg",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (2, "glassbox: error: short.csv has 1 rows but shap.csv has 4; pass the explained rows, in the same order\n")
    );
    assert!(!d.join("b.svg").exists());
}

#[test]
fn reasons_from_an_explanation_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let (code, _, err) = glassbox(
        d,
        &[
            "reasons",
            "--explanation",
            "shap.csv",
            "--data",
            "data.csv",
            "--top",
            "2",
            "--out",
            "r.csv",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(d.join("r.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "row,score,reason_1,feature_1,contribution_1,percentile_1,reason_2,feature_2,contribution_2,percentile_2"
    );
    // Row 0: checking_status (+0.9) then age (+0.2); 22 is the lowest age of the four rows.
    assert!(
        lines[1].starts_with(
            "0,0,checking_status = <0,checking_status,0.9,,age = 22 (low),age,0.2,0.0"
        ),
        "{}",
        lines[1]
    );
    // Row 3 with --direction down: age (−0.2) only.
    let (code, _, err) = glassbox(
        d,
        &[
            "reasons",
            "--explanation",
            "shap.csv",
            "--data",
            "data.csv",
            "--direction",
            "down",
            "--top",
            "2",
            "--out",
            "r.csv",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(d.join("r.csv")).unwrap();
    let row3 = text.lines().nth(4).unwrap();
    assert!(
        row3.starts_with("3,-0.8,age = 61 (high),age,-0.2,100.0,,,,"),
        "{row3}"
    );
}
