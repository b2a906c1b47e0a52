//! `glassbox train --model gbdt|forest`: runs the binary in a temp dir.

use std::process::Command;

use glassbox::data::{Dataset, SchemaOptions};
use glassbox::model::forest::ForestParams;
use glassbox::model::gbdt::GbdtParams;
use glassbox::model::AnyModel;

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

#[test]
fn cli_defaults_are_the_library_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::load_training(
        "data/german_credit.csv",
        "bad_credit",
        &SchemaOptions::default(),
    )
    .unwrap();
    for (kind, want) in [
        ("gbdt", GbdtParams::default().seed(3).fit(&ds).unwrap().0),
        (
            "forest",
            ForestParams::default()
                .n_trees(20)
                .seed(3)
                .fit(&ds)
                .unwrap()
                .0,
        ),
    ] {
        let out = dir.path().join(format!("{kind}.json"));
        let mut args = vec![
            "train",
            "--data",
            "data/german_credit.csv",
            "--target",
            "bad_credit",
            "--model",
            kind,
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
        ];
        if kind == "forest" {
            args.extend(["--trees", "20"]);
        }
        let (code, stderr) = glassbox(&args);
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains(&format!("{kind}: ")), "{stderr}");
        let got = AnyModel::load(&out).unwrap();
        assert_eq!(got.as_trees().unwrap(), &want, "{kind}");
    }
}

#[test]
fn cli_flags_reach_the_model_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.json");
    let (code, stderr) = glassbox(&[
        "train",
        "--data",
        "data/credit_scoring.csv",
        "--target",
        "bad",
        "--model",
        "gbdt",
        "--trees",
        "40",
        "--learning-rate",
        "0.3",
        "--max-depth",
        "3",
        "--max-leaves",
        "0",
        "--min-samples-leaf",
        "30",
        "--lambda",
        "1",
        "--subsample",
        "0.8",
        "--colsample",
        "0.7",
        "--max-bin",
        "63",
        "--min-child-weight",
        "0.5",
        "--early-stopping-rounds",
        "5",
        "--validation-fraction",
        "0.2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("validation logloss"), "{stderr}");
    assert!(
        stderr.contains("on 891 rows"),
        "stratified 20% of 4454: {stderr}"
    );
    let m = AnyModel::load(&out).unwrap();
    let m = m.as_trees().unwrap();
    assert!(m.trees.len() <= 40);
    assert!(m.trees.iter().all(|t| t.max_depth() <= 3));
}

#[test]
fn cli_rejects_bad_settings_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.json");
    let out = out.to_str().unwrap();
    let base = [
        "train",
        "--data",
        "data/german_credit.csv",
        "--target",
        "bad_credit",
        "--out",
        out,
    ];
    let (code, stderr) = glassbox(&[&base[..], &["--model", "forest", "--lambda", "1"]].concat());
    assert_eq!(code, 2);
    assert_eq!(
        stderr.lines().last().unwrap(),
        "glassbox: error: --lambda applies to --model gbdt only; random forests do not use it"
    );
    let (code, stderr) = glassbox(&[&base[..], &["--model", "gbdt", "--trees", "0"]].concat());
    assert_eq!(code, 2);
    assert_eq!(
        stderr.lines().last().unwrap(),
        "glassbox: error: invalid parameter n_trees = 0: at least one tree is needed"
    );
    assert!(!std::path::Path::new(out).exists(), "no partial output");
}
