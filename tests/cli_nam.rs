//! `glassbox train --model nam`, `explain` of a NAM and `plot shape`: runs the binary in a temp
//! dir.

use std::process::Command;

use glassbox::data::{Dataset, SchemaOptions};
use glassbox::model::nam::NamParams;
use glassbox::model::{AnyModel, Model};

fn glassbox(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FLAGS: [&str; 8] = [
    "--members",
    "2",
    "--epochs",
    "3",
    "--hidden",
    "8,4",
    "--batch-size",
    "64",
];

#[test]
fn train_explain_and_plot_a_nam() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("nam.json");
    let model_s = model.to_str().unwrap();
    let mut args = vec![
        "train",
        "--data",
        "data/german_credit.csv",
        "--target",
        "bad_credit",
        "--model",
        "nam",
        "--seed",
        "4",
        "--out",
        model_s,
    ];
    args.extend(FLAGS);
    let (code, stderr) = glassbox(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("nam: 2 members (exu units"), "{stderr}");
    // The CLI builds the same model as the library with the same settings.
    let ds = Dataset::load_training(
        "data/german_credit.csv",
        "bad_credit",
        &SchemaOptions::default(),
    )
    .unwrap();
    let want = NamParams::default()
        .members(2)
        .epochs(3)
        .hidden(vec![8, 4])
        .batch_size(64)
        .seed(4)
        .fit(&ds)
        .unwrap();
    let got = AnyModel::load(&model).unwrap();
    assert_eq!(got, AnyModel::Nam(want.clone()));

    // explain: the default method for a NAM is additive; contributions add up to the prediction.
    let shap = dir.path().join("shap.csv");
    let (code, stderr) = glassbox(&[
        "-q",
        "explain",
        "--model",
        model_s,
        "--data",
        "data/german_credit.csv",
        "--rows",
        "20",
        "--out",
        shap.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&shap).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), 21, "{header:?}");
    assert_eq!(*header.last().unwrap(), "base_value");
    let raw = want.predict_raw(ds.head(20).x().view());
    for (i, line) in lines.enumerate() {
        let sum: f64 = line.split(',').map(|v| v.parse::<f64>().unwrap()).sum();
        assert!(
            (sum - raw[[i, 0]]).abs() < 1e-9,
            "row {i}: {sum} vs {}",
            raw[[i, 0]]
        );
    }

    // plot shape: one SVG per feature in a directory, numeric and categorical.
    let shapes = dir.path().join("shapes");
    let (code, stderr) = glassbox(&[
        "plot",
        "shape",
        "--model",
        model_s,
        "--data",
        "data/german_credit.csv",
        "--format",
        "svg",
        "--out-dir",
        shapes.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("wrote 20 shape functions"), "{stderr}");
    for feature in ["duration", "checking_status"] {
        let body = std::fs::read_to_string(shapes.join(format!("shape_{feature}.svg"))).unwrap();
        assert!(body.contains(feature) && body.contains("band: their range"));
    }

    // The HTML report shows the NAM's shape functions.
    let report = dir.path().join("report");
    let (code, stderr) = glassbox(&[
        "-q",
        "report",
        "--model",
        model_s,
        "--data",
        "data/german_credit.csv",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("Shape functions") && html.contains("band: their range"));
}

#[test]
fn bad_nam_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.json");
    let out_s = out.to_str().unwrap();
    let base = |model: &'static str| {
        vec![
            "train",
            "--data",
            "data/compas_recidivism.csv",
            "--target",
            "race",
            "--model",
            model,
            "--out",
            out_s,
        ]
    };
    // A text target with six classes is multiclass.
    let (code, stderr) = glassbox(&base("nam"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("a NAM models a two-class or a numeric target"),
        "{stderr}"
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].starts_with("glassbox: error: cannot train: target 'race' has 6 classes"));
    // NAM flags with another model, tree flags with a NAM.
    let mut a = base("gbdt");
    a.extend(["--members", "3"]);
    let (code, stderr) = glassbox(&a);
    assert_eq!(code, 2);
    assert!(stderr.contains("NAM flags (--members"), "{stderr}");
    let mut a = base("nam");
    a.extend(["--trees", "3"]);
    let (code, stderr) = glassbox(&a);
    assert_eq!(code, 2);
    assert!(stderr.contains("do not apply to --model nam"), "{stderr}");
    // A parameter out of range.
    let mut a = vec![
        "train",
        "--data",
        "data/german_credit.csv",
        "--target",
        "bad_credit",
        "--model",
        "nam",
        "--out",
        out_s,
        "--dropout",
        "1.5",
    ];
    let (code, stderr) = glassbox(&a);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("invalid parameter dropout = 1.5: must be in [0, 1)"),
        "{stderr}"
    );
    // A shape plot of a model that is not additive.
    a.truncate(9);
    a[6] = "gbdt";
    let (code, stderr) = glassbox(&a);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = glassbox(&[
        "plot",
        "shape",
        "--model",
        out_s,
        "--data",
        "data/german_credit.csv",
        "--out-dir",
        dir.path().join("shapes").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("shape functions need an additive model (a GLM, GAM or NAM); this is a gradient boosting (glassbox)"), "{stderr}");
    assert!(!dir.path().join("shapes").exists());
}
