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

/// Trains a GLM and a small gradient-boosting model on german_credit into `dir`.
fn train_models(dir: &Path) -> String {
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/german_credit.csv")
        .display()
        .to_string();
    for (model, out, extra) in [
        ("glm", "glm.json", vec!["--family", "binomial"]),
        ("gbdt", "gbdt.json", vec!["--trees", "20"]),
    ] {
        let mut args = vec![
            "train",
            "--data",
            &data,
            "--target",
            "bad_credit",
            "--model",
            model,
            "--seed",
            "7",
            "--out",
            out,
            "-q",
        ];
        args.extend(extra);
        let (code, _, err) = glassbox(dir, &args);
        assert_eq!(code, 0, "{err}");
    }
    data
}

#[test]
fn shape_plots_of_a_glm_with_bands() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = train_models(d);
    let (code, _, err) = glassbox(
        d,
        &[
            "plot",
            "shape",
            "--model",
            "glm.json",
            "--data",
            &data,
            "--out-dir",
            "shapes",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let mut files: Vec<String> = std::fs::read_dir(d.join("shapes"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 20, "one per feature: {files:?}");
    assert!(files.contains(&"shape_credit_amount.png".to_string()));
    assert_eq!(
        &std::fs::read(d.join("shapes/shape_age.png")).unwrap()[1..4],
        b"PNG"
    );
    let (code, _, err) = glassbox(
        d,
        &[
            "plot",
            "shape",
            "--model",
            "glm.json",
            "--data",
            &data,
            "--feature",
            "credit_amount",
            "--out",
            "s.svg",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(d.join("s.svg")).unwrap();
    assert!(svg.contains("Shape function: credit_amount"));
    assert!(svg.contains("contribution to log-odds of bad_credit"));
    assert!(svg.contains("<polygon"), "the confidence band");
    // Errors name the fix.
    let (code, _, err) = glassbox(
        d,
        &[
            "plot",
            "shape",
            "--model",
            "gbdt.json",
            "--data",
            &data,
            "--out-dir",
            "x",
        ],
    );
    assert_eq!(
        (code, err.as_str()),
        (2, "glassbox: error: gbdt.json: shape functions need an additive model (a GLM, GAM or NAM); this is a gradient boosting (glassbox): use `glassbox plot dependence` instead\n")
    );
    let (code, _, err) = glassbox(
        d,
        &[
            "plot", "shape", "--model", "glm.json", "--data", &data, "--out", "all.svg",
        ],
    );
    assert_eq!(
        (code, err.as_str()),
        (2, "glassbox: error: --out draws one shape function: choose it with --feature NAME, or use --out-dir DIR for all of them\n")
    );
    assert!(!d.join("all.svg").exists());
}

#[test]
fn lime_plot_of_one_row_with_lime_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = train_models(d);
    let all_rows = std::fs::read_to_string(&data).unwrap();
    let head: Vec<&str> = all_rows.lines().take(6).collect();
    std::fs::write(d.join("rows.csv"), head.join("\n") + "\n").unwrap();
    let (code, _, err) = glassbox(
        d,
        &[
            "plot",
            "lime",
            "--model",
            "gbdt.json",
            "--data",
            "rows.csv",
            "--background",
            &data,
            "--row",
            "2",
            "--samples",
            "600",
            "--out",
            "l.svg",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(d.join("l.svg")).unwrap();
    // The weights are row 2's line of `explain --method lime` with the same settings: its
    // largest weight is drawn, with its sign.
    let (code, _, err) = glassbox(
        d,
        &[
            "explain",
            "--model",
            "gbdt.json",
            "--data",
            "rows.csv",
            "--method",
            "lime",
            "--background",
            &data,
            "--samples",
            "600",
            "--out",
            "lime.csv",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(d.join("lime.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let row2: Vec<f64> = lines[3].split(',').map(|v| v.parse().unwrap()).collect();
    let (j, w) = (0..header.len())
        .filter(|&j| header[j] != "base_value")
        .map(|j| (j, row2[j]))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .unwrap();
    let shown = format!("{}{:.2}", if w < 0.0 { "−" } else { "+" }, w.abs());
    assert!(
        svg.contains(&shown),
        "{} weight {shown} not in the plot",
        header[j]
    );
    assert!(svg.contains(header[j]));
    assert!(svg.contains("LIME: row 2"));
    assert!(svg.contains("fidelity R²"));
    // Numeric features are labelled with lime's quartile bins, e.g. `12 &lt; duration &lt;= 24`.
    assert!(svg.contains(" &lt;= ") || svg.contains("&gt; "), "{svg}");
    let (code, _, err) = glassbox(
        d,
        &[
            "plot",
            "lime",
            "--model",
            "gbdt.json",
            "--data",
            &data,
            "--row",
            "2",
            "--out",
            "l.svg",
        ],
    );
    assert_eq!(
        (code, err.as_str()),
        (2, "glassbox: error: a LIME plot needs --model MODEL, --data FILE (the rows) and --background FILE (a training sample to perturb from)\n")
    );
}

/// `plot influence` draws one explained row's lines of an influence table: helpful rows first,
/// harmful after; a row the table lacks and a table without the columns are usage errors.
#[test]
fn influence_plot_from_an_influence_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("influence.csv"),
        "row,train_row,influence\n0,7,0.25\n0,3,-0.5\n0,9,0.125\n1,4,0.75\n1,2,-0.25\n",
    )
    .unwrap();
    let (code, _, stderr) = glassbox(
        d,
        &[
            "plot",
            "influence",
            "--influence",
            "influence.csv",
            "--row",
            "0",
            "--out",
            "inf.svg",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let svg = std::fs::read_to_string(d.join("inf.svg")).unwrap();
    let at = |s: &str| svg.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("training row 7") < at("training row 9"));
    assert!(at("training row 9") < at("training row 3"));
    assert!(
        !svg.contains("training row 4"),
        "row 1's lines are not drawn"
    );
    let (code, _, stderr) = glassbox(
        d,
        &[
            "plot",
            "influence",
            "--influence",
            "influence.csv",
            "--row",
            "5",
            "--out",
            "x.svg",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no lines for row 5 (the table explains rows 0..=1)"),
        "{stderr}"
    );
    std::fs::write(d.join("bad.csv"), "row,train,influence\n0,1,0.5\n").unwrap();
    let (code, _, stderr) = glassbox(
        d,
        &[
            "plot",
            "influence",
            "--influence",
            "bad.csv",
            "--row",
            "0",
            "--out",
            "x.svg",
        ],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("no column 'train_row'"), "{stderr}");
    assert!(!d.join("x.svg").exists());
}
