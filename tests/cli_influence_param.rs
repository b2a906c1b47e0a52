//! `glassbox influence` on GAMs and NAMs end to end: agreement with the library, the NAM options
//! (`--ihvp`, `--damping`, `--curvature`), and their misuse exiting 2 with one line.

#[path = "common/influence_cli.rs"]
mod influence_cli;

use std::path::Path;

use influence_cli::{german_head, read, run, s, train};

use glassbox::data::{Dataset, UnseenPolicy};
use glassbox::explain::influence::{
    GamInfluence, Ihvp, Influence, InfluenceTarget, NamInfluence, NamInfluenceParams,
};
use glassbox::model::AnyModel;

fn load(path: &Path, m: &AnyModel) -> Dataset {
    let target = m.target().unwrap().clone();
    Dataset::load_with_schema(
        path,
        m.as_model().schema(),
        Some(&target),
        UnseenPolicy::Error,
    )
    .unwrap()
}

/// The CLI's table holds, per explained row, the library's top-k and bottom-k training rows.
fn check_table(table: &[Vec<f64>], lib: &[Vec<f64>], k: usize) {
    let n = lib[0].len();
    for (r, inf) in lib.iter().enumerate() {
        let mut sorted: Vec<usize> = (0..n).collect();
        sorted.sort_by(|&a, &b| inf[b].total_cmp(&inf[a]).then(a.cmp(&b)));
        let want: Vec<usize> = sorted[..k]
            .iter()
            .chain(&sorted[n - k..])
            .copied()
            .collect();
        let got = &table[r * 2 * k..(r + 1) * 2 * k];
        for (line, &t) in got.iter().zip(&want) {
            assert_eq!(line[0] as usize, r);
            assert_eq!(line[1] as usize, t);
            assert_eq!(line[2], inf[t], "row {r} train row {t}");
        }
    }
}

#[test]
fn gam_influence_csv_matches_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let train_csv = german_head(dir.path(), "train.csv", 0, 200, &[]);
    let rows_csv = german_head(dir.path(), "rows.csv", 200, 2, &[]);
    let model = train(
        dir.path(),
        &train_csv,
        &["--model", "gam", "--n-splines", "6"],
    );
    let out_csv = dir.path().join("inf.csv");
    let self_csv = dir.path().join("self.csv");
    let out = run(&[
        "-q",
        "influence",
        "--model",
        s(&model),
        "--train",
        s(&train_csv),
        "--data",
        s(&rows_csv),
        "--top",
        "3",
        "--out",
        s(&out_csv),
        "--self-influence",
        s(&self_csv),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = AnyModel::load(&model).unwrap();
    let (tr, rows) = (load(&train_csv, &m), load(&rows_csv, &m));
    let est =
        GamInfluence::new(m.as_gam().unwrap(), tr.x().view(), tr.y().unwrap().view()).unwrap();
    let lib: Vec<Vec<f64>> = (0..2)
        .map(|r| {
            est.influence(
                rows.x().row(r),
                Some(rows.y().unwrap()[r]),
                InfluenceTarget::Loss,
            )
            .unwrap()
        })
        .collect();
    check_table(&read(&out_csv), &lib, 3);
    let si = read(&self_csv);
    let lib_si = est.self_influence().unwrap();
    assert_eq!(si.len(), 200);
    for line in &si {
        assert_eq!(line[2], lib_si[line[1] as usize]);
    }

    // Each misuse exits 2 with one line containing `needles`, and writes nothing.
    let no = dir.path().join("no.csv");
    let refused = |train: &Path, extra: &[&str], needles: &[&str]| {
        let mut args = vec!["-q", "influence", "--model", s(&model), "--train", s(train)];
        args.extend(["--data", s(&rows_csv), "--out", s(&no)]);
        args.extend(extra);
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        for n in needles {
            assert!(err.contains(n), "{n:?} not in: {err}");
        }
        assert!(!no.exists());
    };
    // Other training rows than the model's: the message names the file.
    let other = german_head(dir.path(), "other.csv", 300, 200, &[]);
    refused(&other, &[], &["other.csv", "training"]);
    // NAM options on a GAM.
    refused(
        &train_csv,
        &["--damping", "0.1"],
        &["--ihvp, --damping and --curvature apply to NAMs"],
    );
    // Exact leave-one-out retraining is for GBDTs: refused on a GAM, not silently ignored.
    refused(
        &train_csv,
        &["--exact-top", "3"],
        &["--exact-top applies to gradient-boosted models", "GAM"],
    );
}

#[test]
fn nam_influence_csv_matches_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let drop = [
        "purpose",
        "savings_status",
        "employment",
        "personal_status",
        "other_parties",
        "property_magnitude",
        "other_payment_plans",
        "housing",
        "job",
        "own_telephone",
        "foreign_worker",
        "credit_history",
    ];
    let train_csv = german_head(dir.path(), "train.csv", 0, 120, &drop);
    let rows_csv = german_head(dir.path(), "rows.csv", 120, 2, &drop);
    let model = train(
        dir.path(),
        &train_csv,
        &[
            "--model",
            "nam",
            "--members",
            "2",
            "--epochs",
            "5",
            "--hidden",
            "6,3",
            "--seed",
            "4",
        ],
    );
    let out_csv = dir.path().join("inf.csv");
    let out = run(&[
        "-q",
        "influence",
        "--model",
        s(&model),
        "--train",
        s(&train_csv),
        "--data",
        s(&rows_csv),
        "--top",
        "2",
        "--ihvp",
        "lissa",
        "--damping",
        "0.1",
        "--out",
        s(&out_csv),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = AnyModel::load(&model).unwrap();
    let (tr, rows) = (load(&train_csv, &m), load(&rows_csv, &m));
    let est = NamInfluence::new(
        m.as_nam().unwrap(),
        &tr,
        NamInfluenceParams::default().ihvp(Ihvp::Lissa).damping(0.1),
    )
    .unwrap();
    let lib: Vec<Vec<f64>> = (0..2)
        .map(|r| {
            est.influence(
                rows.x().row(r),
                Some(rows.y().unwrap()[r]),
                InfluenceTarget::Loss,
            )
            .unwrap()
        })
        .collect();
    check_table(&read(&out_csv), &lib, 2);

    let no = dir.path().join("no.csv");
    let bad = |extra: &[&str]| {
        let mut args = vec![
            "-q",
            "influence",
            "--model",
            s(&model),
            "--train",
            s(&train_csv),
            "--data",
            s(&rows_csv),
            "--out",
            s(&no),
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert!(!no.exists());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = bad(&["--damping=-1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("damping") && err.contains("≥ 0"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, err) = bad(&["--method", "boostin"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--ihvp"), "{err}");
    // Self-influence of a NAM is refused, not approximated silently.
    let (code, err) = bad(&["--self-influence", s(&dir.path().join("si.csv"))]);
    assert_ne!(code, Some(0));
    assert!(err.contains("self-influence of a NAM"), "{err}");
}
