//! `glassbox train --model gam` end to end: train, predict, explain (auto = additive), summary,
//! plot shape, and the usage errors of the GAM flags.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn run(args: &[&str]) -> Output {
    bin().arg("--quiet").args(args).output().unwrap()
}

fn column(path: &Path, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(j).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn train_predict_explain_summary_and_shape_plots() {
    let dir = tempfile::tempdir().unwrap();
    let d = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let data = repo("data/german_credit.csv");
    let data = data.to_str().unwrap();
    let out = run(&[
        "train",
        "--data",
        data,
        "--target",
        "bad_credit",
        "--model",
        "gam",
        "--n-splines",
        "8",
        "--monotone",
        "duration:+1",
        "--interactions",
        "duration:credit_amount,auto:1",
        "--out",
        &d("gam.json"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "predict",
        "--model",
        &d("gam.json"),
        "--data",
        data,
        "--out",
        &d("pred.csv"),
    ]);
    assert!(out.status.success());
    let out = run(&[
        "explain",
        "--model",
        &d("gam.json"),
        "--data",
        data,
        "--out",
        &d("shap.csv"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // base + Σ contributions = raw prediction, row by row.
    let raw = column(&dir.path().join("pred.csv"), "raw");
    let text = std::fs::read_to_string(dir.path().join("shap.csv")).unwrap();
    for (line, r) in text.lines().skip(1).zip(&raw) {
        let s: f64 = line.split(',').map(|v| v.parse::<f64>().unwrap()).sum();
        assert!((s - r).abs() < 1e-9 * (1.0 + r.abs()), "{s} vs {r}");
    }
    let out = run(&["summary", "--model", &d("gam.json")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("GAM (binomial family, logit link), 1000 rows, smoothing reml"),
        "{text}"
    );
    assert!(text.contains("duration:credit_amount"), "{text}");
    assert!(text.contains("smooth+"), "{text}");
    // Screening adds one pair besides the named one and says which.
    // (Counted in the term table, above the significance table that repeats the terms.)
    let tensors = text
        .lines()
        .take_while(|l| !l.starts_with("Approximate significance"))
        .filter(|l| l.contains(" tensor "))
        .count();
    assert_eq!(tensors, 2, "{text}");
    assert!(text.contains("interaction screening added "), "{text}");
    let out = run(&[
        "plot",
        "shape",
        "--model",
        &d("gam.json"),
        "--data",
        data,
        "--format",
        "svg",
        "--out-dir",
        &d("shapes"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(dir.path().join("shapes/shape_duration.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
    assert!(dir.path().join("shapes/shape_purpose.svg").exists());
}

#[test]
fn gam_flag_errors_are_usage_errors() {
    let data = repo("data/german_credit.csv");
    let data = data.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--model", "gbdt", "--n-splines", "8"], "glassbox: error: GAM flags (--n-splines, --lam, --monotone, ...) need --model gam\n"),
        (&["--model", "gbdt", "--knots", "quantile"], "glassbox: error: GAM flags (--n-splines, --lam, --monotone, ...) need --model gam\n"),
        (&["--model", "gam", "--l1", "0.1"], "glassbox: error: --l1 applies to --model glm only; a GAM's smooths are penalised by --lam\n"),
        (&["--model", "gam", "--lam", "much"], "glassbox: error: --lam 'much': expected `auto` or a number ≥ 0\n"),
        (&["--model", "gam", "--monotone", "duration:up"], "glassbox: error: --monotone 'duration:up': the direction is +1 (increasing) or -1 (decreasing)\n"),
        (&["--model", "gam", "--interactions", "auto:0"], "glassbox: error: --interactions 'auto:0': K in auto:K is the number of screened pairs to add, a whole number ≥ 1\n"),
        (&["--model", "gam", "--interactions", "duration:purpose"], "glassbox: error: --interactions: feature 'purpose' is categorical; only numeric features can be monotone or part of an interaction\n"),
    ];
    for (extra, want) in cases {
        let mut args = vec![
            "train",
            "--data",
            data,
            "--target",
            "bad_credit",
            "--out",
            "/nonexistent/x.json",
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{extra:?}");
    }
}
