//! What the `glassbox influence` CLI tests share: running the binary, slices of german_credit,
//! training a model through the CLI, reading the long-form table back.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
}

pub fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The first `n` data lines of german_credit (plus header), optionally without some columns.
pub fn german_head(dir: &Path, name: &str, skip: usize, n: usize, drop: &[&str]) -> PathBuf {
    let text = std::fs::read_to_string(repo("data/german_credit.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&j| !drop.contains(&header[j]))
        .collect();
    let pick = |l: &str| {
        let f: Vec<&str> = l.split(',').collect();
        keep.iter().map(|&j| f[j]).collect::<Vec<_>>().join(",")
    };
    let mut out = pick(&header.join(","));
    out.push('\n');
    for l in lines.skip(skip).take(n) {
        out.push_str(&pick(l));
        out.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn train(dir: &Path, data: &Path, extra: &[&str]) -> PathBuf {
    let model = dir.join("model.json");
    let mut args = vec![
        "-q",
        "train",
        "--data",
        s(data),
        "--target",
        "bad_credit",
        "--out",
        s(&model),
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

pub fn read(path: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}
