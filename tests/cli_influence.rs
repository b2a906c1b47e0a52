//! `glassbox influence` end to end: the CSV layout, agreement with the library, `--top 0`,
//! `--self-influence`, and bad input exiting 2 with one line that names the file/column and
//! leaves no output behind.

#[path = "common/influence_cli.rs"]
mod influence_cli;

use std::path::Path;

use influence_cli::{german_head, read, repo, run, s, train};

use glassbox::data::{Dataset, UnseenPolicy};
use glassbox::explain::influence::{
    gbdt_exact_loo, top_by_magnitude, BoostIn, GlmInfluence, Influence, InfluenceTarget,
};
use glassbox::model::gbdt::GbdtParams;
use glassbox::model::{AnyModel, Model};

#[test]
fn glm_influence_csv_matches_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let train_csv = german_head(dir.path(), "train.csv", 0, 150, &[]);
    let rows_csv = german_head(dir.path(), "rows.csv", 150, 3, &[]);
    let model = train(
        dir.path(),
        &train_csv,
        &["--model", "glm", "--family", "binomial", "--l2", "0.05"],
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
        "4",
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
    let text = std::fs::read_to_string(&out_csv).unwrap();
    assert!(text.starts_with("row,train_row,influence\n"));
    let table = read(&out_csv);
    assert_eq!(table.len(), 3 * 8);
    // The library on the same files.
    let m = AnyModel::load(&model).unwrap();
    let glm = m.as_glm().unwrap();
    let tr = Dataset::load_with_schema(
        &train_csv,
        glm.schema(),
        Some(glm.target()),
        UnseenPolicy::Error,
    )
    .unwrap();
    let rows = Dataset::load_with_schema(
        &rows_csv,
        glm.schema(),
        Some(glm.target()),
        UnseenPolicy::Error,
    )
    .unwrap();
    let est = GlmInfluence::new(glm, tr.x().view(), tr.y().unwrap().view(), None, None).unwrap();
    for r in 0..3 {
        let inf = est
            .influence(
                rows.x().row(r),
                Some(rows.y().unwrap()[r]),
                InfluenceTarget::Loss,
            )
            .unwrap();
        let mut sorted: Vec<usize> = (0..150).collect();
        sorted.sort_by(|&a, &b| inf[b].total_cmp(&inf[a]));
        let want: Vec<usize> = sorted[..4].iter().chain(&sorted[146..]).copied().collect();
        let got = &table[r * 8..(r + 1) * 8];
        for (line, &k) in got.iter().zip(&want) {
            assert_eq!(line[0] as usize, r);
            assert_eq!(line[1] as usize, k);
            assert_eq!(line[2], inf[k], "row {r} train row {k}");
        }
    }
    let si = read(&self_csv);
    assert_eq!(si.len(), 150);
    assert!(si
        .windows(2)
        .all(|w| w[0][2] >= w[1][2] && w[1][0] == w[0][0] + 1.0));
    let lib = est.self_influence().unwrap();
    for line in &si {
        assert_eq!(line[2], lib[line[1] as usize]);
    }

    // Tree methods on a GLM: a usage error.
    let out = run(&[
        "-q",
        "influence",
        "--model",
        s(&model),
        "--train",
        s(&train_csv),
        "--data",
        s(&rows_csv),
        "--method",
        "boostin",
        "--out",
        s(&dir.path().join("no.csv")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a GLM's influence is exact"));

    // --top 0: every training row, per explained row.
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
        "0",
        "--out",
        s(&out_csv),
    ]);
    assert!(out.status.success());
    assert_eq!(read(&out_csv).len(), 3 * 150);
}

#[test]
fn gbdt_influence_runs_and_on_prediction_needs_no_label() {
    let dir = tempfile::tempdir().unwrap();
    let train_csv = german_head(dir.path(), "train.csv", 0, 200, &[]);
    let rows_csv = german_head(dir.path(), "rows.csv", 200, 2, &["bad_credit"]);
    let model = train(
        dir.path(),
        &train_csv,
        &["--model", "gbdt", "--trees", "10", "--seed", "4"],
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
        "--on",
        "prediction",
        "--top",
        "2",
        "--out",
        s(&out_csv),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&out_csv).len(), 2 * 4);
    let out = run(&[
        "-q",
        "influence",
        "--model",
        s(&model),
        "--train",
        s(&train_csv),
        "--data",
        s(&rows_csv),
        "--on",
        "prediction",
        "--method",
        "leaf-influence",
        "--top",
        "0",
        "--out",
        s(&out_csv),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&out_csv).len(), 2 * 200);
    // Without a label the loss cannot be measured: a usage error naming the file and column.
    let out = run(&[
        "-q",
        "influence",
        "--model",
        s(&model),
        "--train",
        s(&train_csv),
        "--data",
        s(&rows_csv),
        "--out",
        s(&dir.path().join("no.csv")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rows.csv: no target column 'bad_credit'") && err.contains("--on prediction"),
        "{err}"
    );
    assert!(!dir.path().join("no.csv").exists());
}

/// `--exact-top K`: the K largest BoostIn estimates of each row are replaced by the library's
/// exact leave-one-out retraining, the rest stay; wrong model settings and settings without
/// `--exact-top` are usage errors.
#[test]
fn exact_top_replaces_the_largest_estimates_by_retraining() {
    let dir = tempfile::tempdir().unwrap();
    let train_csv = german_head(dir.path(), "train.csv", 0, 150, &[]);
    let rows_csv = german_head(dir.path(), "rows.csv", 150, 2, &[]);
    let settings = [
        "--trees",
        "10",
        "--max-leaves",
        "4",
        "--min-samples-leaf",
        "15",
        "--seed",
        "4",
    ];
    let mut train_args = vec!["--model", "gbdt"];
    train_args.extend_from_slice(&settings);
    let model = train(dir.path(), &train_csv, &train_args);
    let out_csv = dir.path().join("inf.csv");
    let base = [
        "-q",
        "influence",
        "--model",
        s(&model),
        "--train",
        s(&train_csv),
        "--data",
        s(&rows_csv),
        "--top",
        "0",
        "--out",
        s(&out_csv),
    ];
    let mut args = base.to_vec();
    args.extend_from_slice(&["--exact-top", "3"]);
    args.extend_from_slice(&settings);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = read(&out_csv);
    assert_eq!(table.len(), 2 * 150);
    // The library on the same files.
    let m = AnyModel::load(&model).unwrap();
    let ens = m.as_trees().unwrap();
    let target = ens.target.clone().unwrap();
    let load = |p: &Path| {
        Dataset::load_with_schema(p, ens.schema(), Some(&target), UnseenPolicy::Error).unwrap()
    };
    let (tr, rows) = (load(&train_csv), load(&rows_csv));
    let est = BoostIn::new(ens, tr.x().view(), tr.y().unwrap().view()).unwrap();
    let params = GbdtParams::default()
        .n_trees(10)
        .max_leaves(Some(4))
        .min_samples_leaf(15)
        .seed(4);
    let yr = rows.y().unwrap();
    for r in 0..2 {
        let mut want = est
            .influence(rows.x().row(r), Some(yr[r]), InfluenceTarget::Loss)
            .unwrap();
        let top = top_by_magnitude(&want, 3);
        let exact = gbdt_exact_loo(
            &params,
            &tr,
            &top,
            rows.x().slice(ndarray::s![r..r + 1, ..]),
            Some(yr.slice(ndarray::s![r..r + 1])),
            InfluenceTarget::Loss,
        )
        .unwrap();
        for (&i, e) in top.iter().zip(&exact) {
            assert!(
                (want[i] - e[0]).abs() > 0.0,
                "row {r}: exact equals the estimate"
            );
            want[i] = e[0];
        }
        for line in table.iter().filter(|l| l[0] as usize == r) {
            let k = line[1] as usize;
            assert!(
                (line[2] - want[k]).abs() <= 1e-12 * want[k].abs().max(1e-9),
                "row {r}, train row {k}: {} vs {}",
                line[2],
                want[k]
            );
        }
    }
    // Settings that do not reproduce the model.
    let bad_csv = dir.path().join("bad.csv");
    let mut args = base.to_vec();
    args[11] = s(&bad_csv);
    args.extend_from_slice(&["--exact-top", "3", "--trees", "11", "--seed", "4"]);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not reproduce the model; pass the same model settings and seed"),
        "{err}"
    );
    // Settings without --exact-top.
    let mut args = base.to_vec();
    args[11] = s(&bad_csv);
    args.extend_from_slice(&["--trees", "10"]);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "glassbox: error: model settings and --seed are only used with --exact-top (to retrain the model); add --exact-top K or leave them out\n"
    );
    assert!(!bad_csv.exists());
}

#[test]
fn bad_training_files_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let train_csv = german_head(dir.path(), "train.csv", 0, 200, &[]);
    let rows_csv = german_head(dir.path(), "rows.csv", 200, 2, &[]);
    let model = train(
        dir.path(),
        &train_csv,
        &["--model", "gbdt", "--trees", "5", "--seed", "4"],
    );
    let out_csv = dir.path().join("inf.csv");
    let attempt = |train: &Path, model: &Path| {
        let out = run(&[
            "-q",
            "influence",
            "--model",
            s(model),
            "--train",
            s(train),
            "--data",
            s(&rows_csv),
            "--out",
            s(&out_csv),
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(!out_csv.exists());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    // No target column.
    let no_target = german_head(dir.path(), "no_target.csv", 0, 200, &["bad_credit"]);
    let err = attempt(&no_target, &model);
    assert!(
        err.contains("no_target.csv: no target column 'bad_credit'"),
        "{err}"
    );
    // A feature column missing: the data layer names it.
    let no_age = german_head(dir.path(), "no_age.csv", 0, 200, &["age"]);
    let err = attempt(&no_age, &model);
    assert!(err.contains("age"), "{err}");
    // Not the rows the model was trained on.
    let shifted = german_head(dir.path(), "shifted.csv", 1, 200, &[]);
    let err = attempt(&shifted, &model);
    assert!(
        err.contains("shifted.csv") && err.contains("do not reproduce the model"),
        "{err}"
    );
    // An imported model cannot be replayed.
    let xgb = repo("tests/fixtures/xgb_german_binary/model.json");
    let err = attempt(&train_csv, &xgb);
    assert!(
        err.contains("XGBoost") && err.contains("glassbox train --model gbdt"),
        "{err}"
    );
}
