//! `glassbox explain --method kernel-shap | lime` end to end: flags, standard-error and
//! diagnostics columns, chunking invariance, and usage errors with their exact messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "glassbox failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A binomial GLM on german_credit, in `dir`.
fn train(dir: &Path) -> PathBuf {
    let model = dir.join("glm.json");
    ok(bin()
        .args(["train", "--quiet", "--data"])
        .arg(repo("data/german_credit.csv"))
        .args([
            "--target",
            "bad_credit",
            "--model",
            "glm",
            "--family",
            "binomial",
            "--out",
        ])
        .arg(&model)
        .output()
        .unwrap());
    model
}

fn read(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|f| {
                    if f.is_empty() {
                        f64::NAN
                    } else {
                        f.parse().unwrap()
                    }
                })
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn kernel_shap_writes_values_standard_errors_and_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let explain = |out: &Path, diag: &Path, chunk: &str| {
        ok(bin()
            .args(["explain", "--quiet", "--model"])
            .arg(&model)
            .arg("--data")
            .arg(repo("data/german_credit.csv"))
            .arg("--background")
            .arg(repo("data/german_credit.csv"))
            .args([
                "--method",
                "kernel-shap",
                "--output",
                "probability",
                "--rows",
                "7",
                "--samples",
                "400",
                "--background-size",
                "20",
                "--seed",
                "5",
                "--se",
                "--chunk-size",
                chunk,
                "--out",
            ])
            .arg(out)
            .arg("--diagnostics")
            .arg(diag)
            .output()
            .unwrap())
    };
    let (a, da) = (dir.path().join("a.csv"), dir.path().join("da.csv"));
    let (b, db) = (dir.path().join("b.csv"), dir.path().join("db.csv"));
    explain(&a, &da, "4096");
    explain(&b, &db, "3");
    // Chunking does not change a single bit.
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(std::fs::read(&da).unwrap(), std::fs::read(&db).unwrap());
    let (header, rows) = read(&a);
    assert_eq!(header.len(), 20 + 1 + 20);
    assert_eq!(header[20], "base_value");
    assert_eq!(header[21], "checking_status_se");
    assert_eq!(rows.len(), 7);
    for r in &rows {
        assert!(
            r[21..].iter().all(|&s| s > 0.0),
            "sampled: positive standard errors"
        );
        // Probability space: base + Σ values is a probability.
        let p: f64 = r[..21].iter().sum();
        assert!((0.0..=1.0).contains(&p), "{p}");
    }
    let (dh, drows) = read(&da);
    assert_eq!(dh, ["row", "coalitions", "exact"]);
    assert_eq!(drows.len(), 7);
    for (i, r) in drows.iter().enumerate() {
        assert_eq!(r, &vec![i as f64, 400.0, 0.0]);
    }
}

#[test]
fn lime_writes_values_and_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let out = dir.path().join("lime.csv");
    let diag = dir.path().join("diag.csv");
    ok(bin()
        .args(["explain", "--quiet", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(repo("data/german_credit.csv"))
        .arg("--background")
        .arg(repo("data/german_credit.csv"))
        .args([
            "--method",
            "lime",
            "--rows",
            "3",
            "--samples",
            "1000",
            "--num-features",
            "5",
            "--lime-repeats",
            "3",
            "--out",
        ])
        .arg(&out)
        .arg("--diagnostics")
        .arg(&diag)
        .output()
        .unwrap());
    let (header, rows) = read(&out);
    assert_eq!(header.len(), 21);
    for r in &rows {
        assert_eq!(r[..20].iter().filter(|v| **v != 0.0).count(), 5);
    }
    let (dh, drows) = read(&diag);
    assert_eq!(
        dh,
        [
            "row",
            "output",
            "kernel_width",
            "r2_fit",
            "r2_holdout",
            "local_prediction",
            "model_prediction",
            "vsi",
            "csi",
            "top_k_jaccard"
        ]
    );
    for (i, (d, r)) in drows.iter().zip(&rows).enumerate() {
        assert_eq!(d[0], i as f64);
        assert!(d[2] > 0.0 && (0.0..=1.0).contains(&d[7]));
        // base + Σ values = the surrogate's prediction at the row.
        let local: f64 = r.iter().sum();
        assert!((local - d[5]).abs() < 1e-9 * local.abs().max(1.0));
    }
}

#[test]
fn misplaced_flags_and_missing_background_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path());
    let data = repo("data/german_credit.csv");
    let run = |extra: &[&str], background: bool| {
        let mut c = bin();
        c.args(["explain", "--quiet", "--model"])
            .arg(&model)
            .arg("--data")
            .arg(&data);
        if background {
            c.arg("--background").arg(&data);
        }
        c.args(["--rows", "2", "--out"])
            .arg(dir.path().join("x.csv"))
            .args(extra);
        c.output().unwrap()
    };
    let cases: [(&[&str], bool, &str); 5] = [
        (
            &["--method", "lime", "--row-evaluation"],
            true,
            "glassbox: error: --row-evaluation applies to --method kernel-shap, not --method lime\n",
        ),
        (
            &["--method", "lime", "--target-se", "0.01"],
            true,
            "glassbox: error: --target-se applies to --method kernel-shap, not --method lime\n",
        ),
        (
            &["--method", "kernel-shap", "--num-features", "3"],
            true,
            "glassbox: error: --num-features applies to --method lime, not --method kernel-shap\n",
        ),
        (
            &["--method", "lime"],
            false,
            "glassbox: error: --method lime draws perturbations from the training distribution: pass --background FILE with a sample of the training data\n",
        ),
        (
            &["--method", "kernel-shap", "--samples", "10"],
            true,
            "glassbox: error: invalid option --samples = 10: with 20 features Kernel SHAP needs at least 40 coalitions per row (2·max(M, 16)); the default is 2088\n",
        ),
    ];
    for (extra, background, want) in cases {
        let out = run(extra, background);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{extra:?}");
        assert!(!dir.path().join("x.csv").exists());
    }
}

/// An imported XGBoost model: Kernel SHAP through the tree tables (default) and with
/// --row-evaluation agree to rounding.
#[test]
fn row_evaluation_gives_the_tree_tables_values() {
    let dir = tempfile::tempdir().unwrap();
    let case = repo("tests/fixtures/xgb_credit_scoring_missing");
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        ok(bin()
            .args(["explain", "--quiet", "--model"])
            .arg(case.join("model.json"))
            .arg("--data")
            .arg(case.join("features.csv"))
            .arg("--background")
            .arg(case.join("features.csv"))
            .args([
                "--method",
                "kernel-shap",
                "--rows",
                "2",
                "--background-size",
                "20",
                "--samples",
                "200",
                "--output",
                "probability",
                "--out",
            ])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap());
        read(&out)
    };
    let (h1, a) = run("tables.csv", &[]);
    let (h2, b) = run("rows.csv", &["--row-evaluation"]);
    assert_eq!(h1, h2);
    for (ra, rb) in a.iter().zip(&b) {
        for (x, y) in ra.iter().zip(rb) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }
}
