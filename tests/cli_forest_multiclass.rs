//! A multiclass random forest end to end through the binary: train (same file at 1 and 2
//! threads), predict (probabilities per class summing to 1), explain with both Tree SHAP variants
//! (each class's attributions add up to the predicted probability), plot summary per class,
//! reasons, report, and the error for a target with a single class.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .arg("--quiet")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn german() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/german_credit.csv")
        .display()
        .to_string()
}

/// The first `n` data rows of German credit.
fn head(dir: &Path, name: &str, skip: usize, n: usize) -> String {
    let text = std::fs::read_to_string(german()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.skip(skip).take(n).collect();
    std::fs::write(dir.join(name), format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    name.to_string()
}

const CLASSES: [&str; 3] = ["for free", "own", "rent"];

#[test]
fn multiclass_forest_runs_through_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = german();
    let train = |threads: &str, out: &str| {
        ok(
            d,
            &[
                "--threads",
                threads,
                "train",
                "--data",
                &data,
                "--target",
                "housing",
                "--model",
                "forest",
                "--trees",
                "25",
                "--seed",
                "11",
                "--out",
                out,
            ],
        )
    };
    train("1", "m1.json");
    train("2", "m2.json");
    let m1 = std::fs::read(d.join("m1.json")).unwrap();
    assert!(
        m1 == std::fs::read(d.join("m2.json")).unwrap(),
        "model differs by thread count"
    );

    let rows = head(d, "rows.csv", 0, 40);
    let bg = head(d, "bg.csv", 600, 30);
    ok(
        d,
        &[
            "predict", "--model", "m1.json", "--data", &rows, "--out", "pred.csv",
        ],
    );
    let pred = common::read_csv(d.join("pred.csv"));
    let cols: Vec<String> = CLASSES.iter().map(|c| format!("prediction:{c}")).collect();
    let idx: Vec<usize> = cols
        .iter()
        .map(|c| pred.names.iter().position(|n| n == c).expect(c))
        .collect();
    for r in 0..40 {
        let sum: f64 = idx.iter().map(|&i| pred.values[[r, i]]).sum();
        assert!((sum - 1.0).abs() < 1e-12, "row {r}: {sum}");
    }

    for (method, extra) in [
        ("tree-shap", vec![]),
        (
            "tree-shap-interventional",
            vec!["--background", bg.as_str()],
        ),
    ] {
        let mut args = vec![
            "explain", "--model", "m1.json", "--data", &rows, "--method", method, "--out",
            "shap.csv",
        ];
        args.extend(&extra);
        ok(d, &args);
        let shap = common::read_csv(d.join("shap.csv"));
        let m = 20;
        assert_eq!(shap.names.len(), 3 * (m + 1));
        for (k, class) in CLASSES.iter().enumerate() {
            assert_eq!(shap.names[k * (m + 1) + m], format!("{class}:base_value"));
            for r in 0..40 {
                let total: f64 = (0..=m).map(|j| shap.values[[r, k * (m + 1) + j]]).sum();
                let want = pred.values[[r, idx[k]]];
                assert!(
                    (total - want).abs() < 1e-9,
                    "{method} row {r} {class}: {total} vs {want}"
                );
            }
        }
    }

    for class in CLASSES {
        let out = format!("summary_{}.svg", class.replace(' ', "_"));
        ok(
            d,
            &[
                "plot", "summary", "--model", "m1.json", "--data", &rows, "--output", class,
                "--out", &out,
            ],
        );
        let svg = std::fs::read_to_string(d.join(&out)).unwrap();
        assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{out}");
        assert!(
            svg.contains("property_magnitude"),
            "{out} names the features"
        );
    }
    ok(
        d,
        &[
            "reasons",
            "--model",
            "m1.json",
            "--data",
            &rows,
            "--output",
            "rent",
            "--out",
            "reasons.csv",
        ],
    );
    let reasons = std::fs::read_to_string(d.join("reasons.csv")).unwrap();
    assert_eq!(reasons.lines().count(), 41);
    ok(
        d,
        &[
            "report", "--model", "m1.json", "--data", &rows, "--out", "report",
        ],
    );
    let perf = std::fs::read_to_string(d.join("report/performance.csv")).unwrap();
    assert!(
        perf.contains("accuracy,") && perf.contains("log_loss,"),
        "{perf}"
    );
    let html = std::fs::read_to_string(d.join("report/index.html")).unwrap();
    // per-class sections, labelled with the class names
    assert!(
        html.contains("class for free"),
        "report names the explained class"
    );
}

#[test]
fn a_target_with_one_class_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("x,grade\n");
    for i in 0..10 {
        csv.push_str(&format!("{i},A\n"));
    }
    std::fs::write(dir.path().join("one.csv"), csv).unwrap();
    let o = run(
        dir.path(),
        &[
            "train", "--data", "one.csv", "--target", "grade", "--model", "forest", "--out",
            "m.json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "glassbox: error: one.csv: target column 'grade' has the single value 'A' in every row; a model needs at least two distinct values\n"
    );
    assert!(!dir.path().join("m.json").exists());
}
