//! Bad input at the command line (issue 2): each case must give a one-line error that names the file
//! and the row or column, exit with code 2, never panic, and leave no output file behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use glassbox::data::{Feature, FeatureKind, FeatureSchema, TargetKind, TargetSpec};
use glassbox::model::{AnyModel, EnsembleSource, Link, Node, Tree, TreeEnsemble};

struct Outcome {
    code: i32,
    stderr: String,
}

fn glassbox(args: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .arg("--quiet")
        .output()
        .expect("run glassbox");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts the standard contract for an input error and that every `needle` is in the message.
fn assert_input_error(o: &Outcome, out_file: &Path, needles: &[&str]) {
    assert_eq!(o.code, 2, "exit code; stderr: {}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "panic: {}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {}", o.stderr);
    assert!(lines[0].starts_with("glassbox: error: "), "{}", lines[0]);
    for n in needles {
        assert!(o.stderr.contains(n), "missing {n:?} in: {}", o.stderr);
    }
    assert!(
        !out_file.exists(),
        "partial output left at {}",
        out_file.display()
    );
    if let Some(dir) = out_file.parent() {
        let leftovers: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    }
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Runs `train` on a CSV with the given content and target.
fn train_on(content: &[u8], target: &str) -> (Outcome, PathBuf, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "data.csv", content);
    let out = dir.path().join("model.json");
    let o = glassbox(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--target",
        target,
        "--model",
        "gbdt",
        "--out",
        out.to_str().unwrap(),
    ]);
    (o, data, out, dir)
}

const GOOD: &str = "a,b,y\n1,x,0\n2,y,1\n3,x,0\n4,y,1\n";

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.json");
    let missing = dir.path().join("nope.csv");
    let o = glassbox(&[
        "train",
        "--data",
        missing.to_str().unwrap(),
        "--target",
        "y",
        "--model",
        "gbdt",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_input_error(&o, &out, &["nope.csv", "cannot read"]);
    assert_eq!(
        o.stderr.matches("os error 2").count(),
        1,
        "the OS error is said once: {}",
        o.stderr
    );
}

#[test]
fn missing_model_file_is_named_and_its_os_error_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", b"a,b\n1,2\n");
    let out = dir.path().join("p.csv");
    let missing = dir.path().join("nope.json");
    let o = predict(&missing, &data, &out);
    assert_input_error(&o, &out, &["nope.json"]);
    assert_eq!(o.stderr.matches("os error 2").count(), 1, "{}", o.stderr);
}

#[test]
fn empty_file() {
    let (o, _, out, _d) = train_on(b"", "y");
    assert_input_error(&o, &out, &["data.csv", "empty"]);
}

#[test]
fn header_only() {
    let (o, _, out, _d) = train_on(b"a,b,y\n", "y");
    assert_input_error(&o, &out, &["data.csv", "no data rows"]);
}

#[test]
fn ragged_rows() {
    let (o, _, out, _d) = train_on(b"a,b,y\n1,x,0\n2,y\n3,x,0\n", "y");
    assert_input_error(
        &o,
        &out,
        &["data.csv", "line 3", "2 fields", "header has 3"],
    );
}

#[test]
fn non_utf8() {
    let (o, _, out, _d) = train_on(b"a,b,y\n1,x,0\n2,\xff\xfe,1\n", "y");
    assert_input_error(&o, &out, &["data.csv", "line 3", "UTF-8"]);
}

#[test]
fn target_does_not_exist() {
    let (o, _, out, _d) = train_on(GOOD.as_bytes(), "Y");
    assert_input_error(&o, &out, &["data.csv", "'Y'", "did you mean 'y'"]);
}

#[test]
fn constant_target() {
    let (o, _, out, _d) = train_on(b"a,y\n1,1\n2,1\n3,1\n", "y");
    assert_input_error(&o, &out, &["data.csv", "'y'", "single value '1'"]);
}

#[test]
fn numeric_column_with_stray_text() {
    let mut csv = String::from("a,y\n");
    for i in 0..30 {
        csv.push_str(&format!("{},{}\n", i, i % 2));
    }
    csv.push_str("n/a,1\n");
    let (o, _, out, _d) = train_on(csv.as_bytes(), "y");
    assert_input_error(&o, &out, &["data.csv", "column 'a'", "row 31", "'n/a'"]);
}

#[test]
fn infinity_and_nan_text() {
    let (o, _, out, _d) = train_on(b"a,y\n1.5,0\ninf,1\n2.5,0\n", "y");
    assert_input_error(&o, &out, &["data.csv", "column 'a'", "row 2", "inf"]);
    let (o, _, out, _d) = train_on(b"a,y\n1.5,0\n2.5,1\nNaN,0\n", "y");
    assert_input_error(&o, &out, &["data.csv", "column 'a'", "row 3", "NaN"]);
}

#[test]
fn all_missing_column() {
    let (o, _, out, _d) = train_on(b"a,b,y\n1,,0\n2,,1\n3,,0\n", "y");
    assert_input_error(&o, &out, &["data.csv", "column 'b'", "no values"]);
}

#[test]
fn duplicate_column_names() {
    let (o, _, out, _d) = train_on(b"a,a,y\n1,2,0\n3,4,1\n", "y");
    assert_input_error(&o, &out, &["data.csv", "'a'", "more than once"]);
}

#[test]
fn missing_target_value() {
    let (o, _, out, _d) = train_on(b"a,y\n1,0\n2,\n3,1\n", "y");
    assert_input_error(&o, &out, &["data.csv", "'y'", "row 2"]);
}

/// A tiny saved model over a numeric `a` and a categorical `c` with levels x, y.
fn small_model(dir: &Path) -> PathBuf {
    let schema = FeatureSchema::new(vec![
        Feature::numeric("a"),
        Feature {
            name: "c".into(),
            kind: FeatureKind::Categorical {
                levels: vec!["x".into(), "y".into()],
            },
        },
    ]);
    let tree = Tree {
        nodes: vec![
            Node::numeric_split(0, 2.5, 1, 2, true, 4.0),
            Node::leaf(-1.0, 2.0),
            Node::leaf(1.0, 2.0),
        ],
        category_words: vec![],
    };
    let model = TreeEnsemble {
        schema,
        target: Some(TargetSpec {
            name: "y".into(),
            kind: TargetKind::Binary {
                classes: vec!["0".into(), "1".into()],
            },
        }),
        trees: vec![tree],
        tree_output: vec![0],
        base_score: vec![0.0],
        link: Link::Logistic,
        output_names: vec!["y".into()],
        f32_inputs: false,
        source: EnsembleSource::GradientBoosting,
    };
    let path = dir.join("model.json");
    AnyModel::TreeEnsemble(model).save(&path).unwrap();
    path
}

fn predict(model: &Path, data: &Path, out: &Path) -> Outcome {
    glassbox(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn predict_works_and_columns_match_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    // Columns in another order, plus an extra column: matched by name.
    let data = write(dir.path(), "new.csv", b"c,extra,a\nx,9,1\ny,9,3\n,9,\n");
    let out = dir.path().join("pred.csv");
    let o = predict(&model, &data, &out);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "raw,prediction");
    assert_eq!(lines[1], format!("-1,{}", 1.0 / (1.0 + 1f64.exp())));
    assert_eq!(lines[2], format!("1,{}", 1.0 / (1.0 + (-1f64).exp())));
    assert_eq!(
        lines[3],
        format!("-1,{}", 1.0 / (1.0 + 1f64.exp())),
        "missing goes left"
    );
}

/// `predict` reads and writes chunk by chunk: small chunks give the same file as one chunk, and a
/// bad value in a late chunk is reported with its line in the whole file and leaves no output.
#[test]
fn predict_in_chunks_equals_one_chunk_and_a_late_error_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let mut rows = String::from("a,c\n");
    for i in 0..1000 {
        rows.push_str(&format!(
            "{},{}\n",
            i % 5,
            if i % 3 == 0 { "x" } else { "y" }
        ));
    }
    let data = write(dir.path(), "many.csv", rows.as_bytes());
    let whole = dir.path().join("whole.csv");
    let chunked = dir.path().join("chunked.csv");
    let o = predict(&model, &data, &whole);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let (m, d, c) = (
        model.to_str().unwrap(),
        data.to_str().unwrap(),
        chunked.to_str().unwrap(),
    );
    let o = glassbox(&[
        "predict",
        "--model",
        m,
        "--data",
        d,
        "--out",
        c,
        "--chunk-size",
        "7",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(&whole).unwrap();
    assert_eq!(text.lines().count(), 1001);
    assert_eq!(text, std::fs::read_to_string(&chunked).unwrap());

    rows.push_str("oops,x\n");
    let bad = write(dir.path(), "bad.csv", rows.as_bytes());
    let out = dir.path().join("never.csv");
    let b = bad.to_str().unwrap();
    let o = glassbox(&[
        "predict",
        "--model",
        m,
        "--data",
        b,
        "--out",
        out.to_str().unwrap(),
        "--chunk-size",
        "64",
    ]);
    assert_input_error(&o, &out, &["bad.csv", "'a'", "row 1001", "'oops'"]);
}

#[test]
fn unseen_category_at_predict_time() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let data = write(dir.path(), "new.csv", b"a,c\n1,x\n2,z\n");
    let out = dir.path().join("pred.csv");
    let o = predict(&model, &data, &out);
    assert_input_error(
        &o,
        &out,
        &["new.csv", "column 'c'", "row 2", "'z'", "--unseen missing"],
    );
}

#[test]
fn missing_feature_column_at_predict_time() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let data = write(dir.path(), "new.csv", b"a\n1\n");
    let out = dir.path().join("pred.csv");
    let o = predict(&model, &data, &out);
    assert_input_error(&o, &out, &["new.csv", "no column named 'c'"]);
}

#[test]
fn model_file_that_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "new.csv", b"a,c\n1,x\n");
    let out = dir.path().join("pred.csv");
    let bogus = write(dir.path(), "model.json", b"{\"hello\": 1}");
    let o = predict(&bogus, &data, &out);
    assert_input_error(&o, &out, &["model.json", "not a model file"]);
    let garbage = write(dir.path(), "model.bin", b"\x00\x01\x02");
    let o = predict(&garbage, &data, &out);
    assert_input_error(&o, &out, &["model.bin", "not a model file"]);
    let truncated = write(
        dir.path(),
        "trunc.json",
        b"{\"format\": \"glassbox-model\", \"form",
    );
    let o = predict(&truncated, &data, &out);
    assert_input_error(&o, &out, &["trunc.json", "looks truncated"]);
}

#[test]
fn model_file_from_a_newer_version() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let text = std::fs::read_to_string(&model).unwrap();
    let newer = text.replace("\"format_version\":1", "\"format_version\":99");
    assert_ne!(text, newer);
    std::fs::write(&model, newer).unwrap();
    let data = write(dir.path(), "new.csv", b"a,c\n1,x\n");
    let out = dir.path().join("pred.csv");
    let o = predict(&model, &data, &out);
    assert_input_error(&o, &out, &["model.json", "version 99", "upgrade glassbox"]);
}

#[test]
fn corrupt_tree_in_a_glassbox_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let text = std::fs::read_to_string(&model).unwrap();
    // Point the root's left child at itself: a cycle.
    let cyclic = text.replacen("\"left\":1", "\"left\":0", 1);
    assert_ne!(text, cyclic);
    std::fs::write(&model, cyclic).unwrap();
    let data = write(dir.path(), "new.csv", b"a,c\n1,x\n");
    let out = dir.path().join("pred.csv");
    let o = predict(&model, &data, &out);
    assert_input_error(
        &o,
        &out,
        &["model.json", "corrupt model", "tree 0", "node 0"],
    );
}

#[test]
fn existing_output_survives_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let out = write(dir.path(), "pred.csv", b"old content\n");
    let data = write(dir.path(), "new.csv", b"a,c\n1,zzz\n");
    let o = predict(&model, &data, &out);
    assert_eq!(o.code, 2);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old content\n");
}

/// `explain` and `interactions` read their input in chunks (issue 4): rows and lines in errors
/// must still be those of the whole file, found in a late chunk, with no output left behind.
fn explain_chunked(command: &str, model: &Path, data: &Path, out: &Path) -> Outcome {
    let mut args = vec![
        command,
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--chunk-size",
        "2",
    ];
    if command == "explain" {
        args.extend(["--method", "tree-shap"]);
    }
    glassbox(&args)
}

#[test]
fn issue4_chunked_explain_names_rows_of_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    for command in ["explain", "interactions"] {
        let cases: [(&[u8], &[&str]); 4] = [
            (
                b"a,c\n1,x\n2,y\n3,x\n4,x\n5,z\n",
                &["new.csv", "column 'c'", "row 5", "'z'"],
            ),
            (
                b"a,c\n1,x\n2,y\n3,x\nfour,x\n5,x\n",
                &["new.csv", "column 'a'", "row 4", "'four'"],
            ),
            (
                b"a,c\n1,x\n2,y\n3,x\n4,x\n5\n",
                &["new.csv", "line 6", "1 fields", "header has 2"],
            ),
            (
                b"a,c\n1,x\n2,y\n3,x\n4,x\n5,\xff\n",
                &["new.csv", "line 6", "UTF-8"],
            ),
        ];
        for (content, needles) in cases {
            let data = write(dir.path(), "new.csv", content);
            let out = dir.path().join("shap.csv");
            let o = explain_chunked(command, &model, &data, &out);
            assert_input_error(&o, &out, needles);
        }
    }
}

#[test]
fn issue4_chunk_size_does_not_change_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let mut text = String::from("c,a\n");
    for i in 0..25 {
        let c = ["x", "y", ""][i % 3];
        let a = if i % 7 == 3 {
            String::new()
        } else {
            format!("{}", i % 5)
        };
        text.push_str(&format!("{c},{a}\n"));
    }
    let data = write(dir.path(), "new.csv", text.as_bytes());
    for command in ["explain", "interactions"] {
        let outs: Vec<String> = ["1", "4", "1000"]
            .iter()
            .map(|chunk| {
                let out = dir.path().join(format!("out_{chunk}.csv"));
                let mut args = vec![
                    command,
                    "--model",
                    model.to_str().unwrap(),
                    "--data",
                    data.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--chunk-size",
                    chunk,
                    "--rows",
                    "23",
                ];
                if command == "explain" {
                    args.extend(["--method", "tree-shap"]);
                }
                let o = glassbox(&args);
                assert_eq!(o.code, 0, "{}", o.stderr);
                std::fs::read_to_string(&out).unwrap()
            })
            .collect();
        assert_eq!(outs[0], outs[1], "{command}");
        assert_eq!(outs[0], outs[2], "{command}");
        if command == "explain" {
            assert_eq!(
                outs[0].lines().count(),
                24,
                "header and 23 rows (--rows 23)"
            );
            // The one split is a < 2.5 (missing goes left), leaves ∓1 with equal covers: row 4
            // (a = 4) gets φ_a = 1, φ_c = 0, base 0; row 3 (a missing) φ_a = −1.
            let row = |i: usize| -> Vec<f64> {
                outs[0]
                    .lines()
                    .nth(i + 1)
                    .unwrap()
                    .split(',')
                    .map(|v| v.parse().unwrap())
                    .collect()
            };
            assert_eq!(row(4), [1.0, 0.0, 0.0]);
            assert_eq!(row(3), [-1.0, 0.0, 0.0]);
        }
    }
}

#[test]
fn identifier_column_is_warned_about_and_training_still_runs() {
    // 30 rows, `id` unique per row (an identifier), `grp` with 3 levels (a real category).
    let mut csv = String::from("id,grp,x,y\n");
    for i in 0..30 {
        csv.push_str(&format!(
            "C{i:03},{},{},{}\n",
            ["a", "b", "c"][i % 3],
            i,
            i % 2
        ));
    }
    let (o, _, out, _d) = train_on(csv.as_bytes(), "y");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(out.exists());
    assert_eq!(
        o.stderr,
        "glassbox: warning: column 'id' of ".to_string()
            + &_d.path().join("data.csv").display().to_string()
            + " has a different value in every row (30 levels): an identifier memorises rows instead of explaining them; pass --ignore id to leave it out\n"
    );
}
