//! Bad XGBoost / LightGBM files give a clear error naming the file and what is wrong (tree,
//! node, field or line) — never a panic, never a silently wrong model.
//!
//! Each test starts from a small valid model in `tests/fixtures/extra_*`, corrupts one thing, writes
//! it to a temporary directory and loads it with `AnyModel::load`.

mod common;

use std::path::{Path, PathBuf};

use glassbox::model::{AnyModel, ModelError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

fn xgb_model(case: &str) -> Value {
    let text = std::fs::read_to_string(common::fixture_dir(case).join("model.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn lgbm_model(case: &str) -> String {
    std::fs::read_to_string(common::fixture_dir(case).join("model.txt")).unwrap()
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn load_err(path: &Path) -> ModelError {
    match AnyModel::load(path) {
        Ok(_) => panic!("{} loaded but should have failed", path.display()),
        Err(e) => e,
    }
}

/// The error is `Corrupt` (or `Unsupported` when `unsupported`), its message names the file and
/// contains every needle.
fn check(err: ModelError, path: &Path, unsupported: bool, needles: &[&str]) {
    let text = err.to_string();
    match (&err, unsupported) {
        (ModelError::Corrupt { .. }, false) | (ModelError::Unsupported { .. }, true) => {}
        _ => panic!("wrong error kind (want unsupported = {unsupported}): {text}"),
    }
    assert!(
        text.contains(&path.display().to_string()),
        "no file name in: {text}"
    );
    for n in needles {
        assert!(text.contains(n), "'{n}' missing from: {text}");
    }
}

/// Applies `edit` to the logitraw model (8 small trees, 4 features), writes it, loads it.
fn xgb_case(edit: impl FnOnce(&mut Value)) -> (tempfile::TempDir, PathBuf, ModelError) {
    let mut v = xgb_model("extra_xgb_logitraw");
    edit(&mut v);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.json", &serde_json::to_string(&v).unwrap());
    let err = load_err(&path);
    (dir, path, err)
}

fn tree(v: &mut Value, t: usize) -> &mut Value {
    &mut v["learner"]["gradient_booster"]["model"]["trees"][t]
}

// ---------------------------------------------------------------- XGBoost

#[test]
fn xgb_unsupported_objective() {
    let (_d, p, e) = xgb_case(|v| v["learner"]["objective"]["name"] = json!("survival:cox"));
    check(e, &p, true, &["objective 'survival:cox' is not supported"]);
    // A log-link objective's base_score is a mean: a non-positive one is a corrupt file.
    let (_d, p, e) = xgb_case(|v| {
        v["learner"]["objective"]["name"] = json!("count:poisson");
        v["learner"]["learner_model_param"]["base_score"] = json!("[-5E-1]");
    });
    check(e, &p, false, &["base_score", "positive mean"]);
    let (_d, p, e) = xgb_case(|v| v["learner"]["objective"]["name"] = json!("rank:pairwise"));
    check(e, &p, true, &["objective 'rank:pairwise' is not supported"]);
}

#[test]
fn xgb_future_format_version() {
    let (_d, p, e) = xgb_case(|v| v["version"] = json!([4, 0, 0]));
    check(e, &p, true, &["XGBoost 4.0.0", "1.x to 3.x"]);
}

#[test]
fn xgb_gblinear_and_multi_output_trees_are_unsupported() {
    let (_d, p, e) = xgb_case(|v| {
        v["learner"]["gradient_booster"] =
            json!({"name": "gblinear", "model": {"weights": [0.1, 0.2, 0.3, 0.4, 0.0]}})
    });
    check(e, &p, true, &["gblinear"]);
    let (_d, p, e) = xgb_case(|v| tree(v, 3)["tree_param"]["size_leaf_vector"] = json!("2"));
    check(e, &p, true, &["tree 3", "multi-output trees"]);
}

#[test]
fn xgb_feature_index_beyond_the_features() {
    let (_d, p, e) = xgb_case(|v| tree(v, 2)["split_indices"][1] = json!(99));
    check(
        e,
        &p,
        false,
        &["tree 2", "node 1", "feature index 99", "4 features"],
    );
}

#[test]
fn xgb_cyclic_and_dangling_children() {
    // Node 1's left child points back at the root.
    let (_d, p, e) = xgb_case(|v| tree(v, 2)["left_children"][1] = json!(0));
    check(e, &p, false, &["tree 2", "reached twice"]);
    let (_d, p, e) = xgb_case(|v| tree(v, 0)["right_children"][0] = json!(500));
    check(e, &p, false, &["tree 0", "node 0", "right child 500"]);
    let (_d, p, e) = xgb_case(|v| tree(v, 0)["left_children"][2] = json!(-7));
    check(e, &p, false, &["tree 0", "node 2", "left child -7"]);
    // A leaf with only one child.
    let (_d, p, e) = xgb_case(|v| tree(v, 2)["right_children"][3] = json!(4));
    check(e, &p, false, &["tree 2", "node 3 has one child only"]);
}

#[test]
fn xgb_wrong_types_and_lengths() {
    let (_d, p, e) = xgb_case(|v| v["learner"]["learner_model_param"]["num_feature"] = json!([4]));
    check(
        e,
        &p,
        false,
        &["learner_model_param.num_feature", "non-negative integer"],
    );
    let (_d, p, e) = xgb_case(|v| tree(v, 1)["split_conditions"][0] = json!("NaN"));
    check(
        e,
        &p,
        false,
        &[
            "tree 1",
            "'split_conditions'[0]",
            "expected a number",
            "\"NaN\"",
        ],
    );
    let (_d, p, e) = xgb_case(|v| tree(v, 1)["left_children"] = json!("1 3 5"));
    check(
        e,
        &p,
        false,
        &[
            "tree 1",
            "'left_children'",
            "expected a list, found a string",
        ],
    );
    let (_d, p, e) = xgb_case(|v| {
        tree(v, 4)["sum_hessian"].as_array_mut().unwrap().pop();
    });
    check(
        e,
        &p,
        false,
        &["tree 4", "'sum_hessian' has 4 entries but num_nodes is 5"],
    );
    let (_d, p, e) =
        xgb_case(|v| v["learner"]["learner_model_param"]["base_score"] = json!("[abc]"));
    check(e, &p, false, &["base_score", "'[abc]' is not a number"]);
    let (_d, p, e) = xgb_case(|v| {
        v["learner"].as_object_mut().unwrap().remove("objective");
    });
    check(e, &p, false, &["no 'objective' field in 'learner'"]);
    let (_d, p, e) = xgb_case(|v| v["learner"]["feature_names"] = json!(["a", "b", "a", "d"]));
    check(e, &p, false, &["feature name 'a' appears twice"]);
    let (_d, p, e) =
        xgb_case(|v| v["learner"]["gradient_booster"]["model"]["tree_info"][5] = json!(1));
    check(e, &p, false, &["tree 5", "output 1", "the model has 1"]);
}

/// The importer reads the file straight into typed fields, so a value of the wrong kind anywhere
/// (an object where a list belongs, a number among names, null) must still be named with its place.
#[test]
fn xgb_wrong_kinds_are_named_with_their_place() {
    let (_d, p, e) = xgb_case(|v| v["learner"]["gradient_booster"] = json!([1, 2]));
    check(
        e,
        &p,
        false,
        &["'learner.gradient_booster' should be an object but is a list"],
    );
    let (_d, p, e) = xgb_case(|v| *tree(v, 2) = json!("tree"));
    check(
        e,
        &p,
        false,
        &["tree 2", "'tree' should be an object but is a string"],
    );
    let (_d, p, e) = xgb_case(|v| v["learner"]["feature_names"][1] = json!(7));
    check(
        e,
        &p,
        false,
        &["'learner.feature_names'[1]: expected a string, found a number"],
    );
    let (_d, p, e) = xgb_case(|v| v["learner"]["learner_model_param"]["base_score"] = json!(null));
    check(
        e,
        &p,
        false,
        &["base_score", "expected a string, found null"],
    );
    let (_d, p, e) = xgb_case(|v| tree(v, 1)["default_left"][2] = json!(2));
    check(
        e,
        &p,
        false,
        &["tree 1", "'default_left'[2]: expected 0 or 1, found 2"],
    );
    let (_d, p, e) = xgb_case(|v| tree(v, 0)["split_indices"][1] = json!({"a": [1, 2]}));
    check(
        e,
        &p,
        false,
        &[
            "tree 0",
            "'split_indices'[1]: expected an integer, found an object",
        ],
    );
    let (_d, p, e) = xgb_case(|v| tree(v, 0)["sum_hessian"] = json!({"a": 1}));
    check(
        e,
        &p,
        false,
        &["tree 0", "'sum_hessian': expected a list, found an object"],
    );
    let (_d, p, e) = xgb_case(|v| {
        v["learner"]["gradient_booster"]["model"]["trees"] = json!(3);
    });
    check(
        e,
        &p,
        false,
        &["'gradient_booster.model.trees': expected a list, found a number"],
    );
}

/// Escaped feature names (read as owned strings, not borrowed from the file) load as written.
#[test]
fn xgb_escaped_feature_names() {
    let mut v = xgb_model("extra_xgb_logitraw");
    v["learner"]["feature_names"] = json!(["a\"b", "caf\u{e9}", "c", "d"]);
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "esc.json", &serde_json::to_string(&v).unwrap());
    let model = AnyModel::load(&p).unwrap();
    assert_eq!(
        model.as_model().schema().names(),
        ["a\"b", "café", "c", "d"]
    );
}

/// A key given twice in one object is refused (a `Value` kept the last one silently).
#[test]
fn xgb_duplicate_key_is_refused() {
    let text =
        std::fs::read_to_string(common::fixture_dir("extra_xgb_logitraw").join("model.json"))
            .unwrap();
    let doubled = text.replacen(
        "\"learner\":{",
        "\"learner\":{\"objective\":{\"name\":\"reg:linear\"},",
        1,
    );
    assert_ne!(doubled, text, "test bug: no learner key");
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "dup.json", &doubled);
    let e = load_err(&p);
    assert!(matches!(e, ModelError::NotAModel { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("duplicate field `objective`") && msg.contains("dup.json"),
        "{msg}"
    );
}

#[test]
fn xgb_bad_categorical_sets() {
    let base = || xgb_model("extra_xgb_categorical_missing");
    let dir = tempfile::tempdir().unwrap();
    let mut v = base();
    v["learner"]["gradient_booster"]["model"]["trees"][0]["categories_segments"][0] = json!(10_000);
    let p = write(dir.path(), "seg.json", &v.to_string());
    check(
        load_err(&p),
        &p,
        false,
        &["tree 0", "points outside 'categories'"],
    );
    let mut v = base();
    v["learner"]["gradient_booster"]["model"]["trees"][0]["categories_segments"][0] =
        json!(i64::MAX);
    let p = write(dir.path(), "overflow.json", &v.to_string());
    check(
        load_err(&p),
        &p,
        false,
        &["tree 0", "points outside 'categories'"],
    );
    let mut v = base();
    v["learner"]["gradient_booster"]["model"]["trees"][0]["categories"][0] = json!(-3);
    let p = write(dir.path(), "neg.json", &v.to_string());
    check(load_err(&p), &p, false, &["tree 0", "category -3"]);
    let mut v = base();
    v["learner"]["gradient_booster"]["model"]["trees"][0]["categories_nodes"] = json!([]);
    v["learner"]["gradient_booster"]["model"]["trees"][0]["categories_segments"] = json!([]);
    v["learner"]["gradient_booster"]["model"]["trees"][0]["categories_sizes"] = json!([]);
    let p = write(dir.path(), "nodes.json", &v.to_string());
    check(
        load_err(&p),
        &p,
        false,
        &[
            "tree 0",
            "categorical split but categories_nodes does not list it",
        ],
    );
}

#[test]
fn xgb_truncated_file() {
    let text =
        std::fs::read_to_string(common::fixture_dir("extra_xgb_logitraw").join("model.json"))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "cut.json", &text[..text.len() / 2]);
    let e = load_err(&p);
    assert!(matches!(e, ModelError::NotAModel { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("truncated") && msg.contains("cut.json"),
        "{msg}"
    );
    // Valid JSON, but trees missing at the end.
    let (_d, p, e) = xgb_case(|v| {
        let m = &mut v["learner"]["gradient_booster"]["model"];
        m["trees"].as_array_mut().unwrap().truncate(5);
        m["tree_info"].as_array_mut().unwrap().truncate(5);
    });
    check(
        e,
        &p,
        false,
        &["num_trees says 8 trees but 5 are stored", "truncated"],
    );
}

// ---------------------------------------------------------------- LightGBM

/// Replaces the first occurrence of `from` (which must exist) in the LightGBM model of `case`,
/// writes it and loads it.
fn lgbm_case(case: &str, from: &str, to: &str) -> (tempfile::TempDir, PathBuf, ModelError) {
    let text = lgbm_model(case);
    assert!(text.contains(from), "test bug: '{from}' not in {case}");
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.txt", &text.replacen(from, to, 1));
    let e = load_err(&p);
    (dir, p, e)
}

const ZM: &str = "extra_lgbm_zero_as_missing";

#[test]
fn lgbm_unsupported_objectives_and_versions() {
    let (_d, p, e) = lgbm_case(ZM, "objective=regression", "objective=lambdarank");
    check(e, &p, true, &["objective 'lambdarank' is not supported"]);
    let (_d, p, e) = lgbm_case(ZM, "objective=regression", "objective=regression sqrt");
    check(e, &p, true, &["reg_sqrt"]);
    let (_d, p, e) = lgbm_case("extra_lgbm_single_leaf", "sigmoid:1", "sigmoid:2");
    check(e, &p, true, &["sigmoid:2", "retrain with sigmoid=1"]);
    let (_d, p, e) = lgbm_case(ZM, "version=v4", "version=v5");
    check(e, &p, true, &["line 2", "'v5' is unknown"]);
    let (_d, p, e) = lgbm_case(ZM, "is_linear=0", "is_linear=1");
    check(e, &p, true, &["tree 0", "linear trees"]);
}

#[test]
fn lgbm_feature_index_beyond_the_features() {
    let (_d, p, e) = lgbm_case(ZM, "split_feature=0 1 0 0 0", "split_feature=0 1 0 99 0");
    check(
        e,
        &p,
        false,
        &["tree 0", "node 3", "feature index 99", "4 features"],
    );
}

#[test]
fn lgbm_nan_threshold() {
    let (_d, p, e) = lgbm_case(ZM, "threshold=-0.20049999999999998 ", "threshold=nan ");
    check(e, &p, false, &["tree 0", "node 0 has a NaN threshold"]);
}

#[test]
fn lgbm_cyclic_and_dangling_children() {
    // Node 3's left child points back at node 1: node 1 is reached twice.
    let (_d, p, e) = lgbm_case(ZM, "left_child=3 -2 -3 -1 -4", "left_child=3 -2 -3 1 -4");
    check(e, &p, false, &["tree 0", "reached twice"]);
    let (_d, p, e) = lgbm_case(ZM, "right_child=1 2 4 -5 -6", "right_child=1 2 40 -5 -6");
    check(
        e,
        &p,
        false,
        &["tree 0", "node 2 has right child 40", "5 internal nodes"],
    );
    let (_d, p, e) = lgbm_case(ZM, "right_child=1 2 4 -5 -6", "right_child=1 2 4 -5 -60");
    check(
        e,
        &p,
        false,
        &["tree 0", "node 4 has right child -60 (leaf 59)", "6 leaves"],
    );
}

#[test]
fn lgbm_wrong_types_and_lengths() {
    let (_d, p, e) = lgbm_case(ZM, "num_leaves=6", "num_leaves=six");
    check(
        e,
        &p,
        false,
        &["tree 0", "'num_leaves=six' is not a valid integer"],
    );
    let (_d, p, e) = lgbm_case(ZM, "decision_type=4 4 6 6 6", "decision_type=4 4 x 6 6");
    check(
        e,
        &p,
        false,
        &[
            "tree 0",
            "'decision_type' entry 2 'x' is not a valid integer",
        ],
    );
    let (_d, p, e) = lgbm_case(ZM, "decision_type=4 4 6 6 6", "decision_type=4 4 6 6 14");
    check(e, &p, false, &["tree 0", "node 4 has missing type 3"]);
    let (_d, p, e) = lgbm_case(ZM, "leaf_count=6 5 57 14 33 5", "leaf_count=6 5 57 14 33");
    check(
        e,
        &p,
        false,
        &["tree 0", "'leaf_count' has 5 values, expected 6"],
    );
    let (_d, p, e) = lgbm_case(ZM, "max_feature_idx=3", "max_feature_idx=5");
    check(
        e,
        &p,
        false,
        &["feature_names has 4 names but max_feature_idx=5"],
    );
    let (_d, p, e) = lgbm_case(ZM, "feature_names=a b c d", "feature_names=a b c a");
    check(e, &p, false, &["feature name 'a' appears twice"]);
    let (_d, p, e) = lgbm_case(ZM, "\nTree=1\n", "\nTree=7\n");
    check(e, &p, false, &["expected 'Tree=1'"]);
    let (_d, p, e) = lgbm_case(ZM, "leaf_value=-0.25852325010734301 ", "leaf_value=inf ");
    check(e, &p, false, &["tree 0", "leaf 0 has a non-finite value"]);
}

#[test]
fn lgbm_bad_categorical_sets() {
    let text = lgbm_model("extra_lgbm_categorical_nan");
    let line = text
        .lines()
        .find(|l| l.starts_with("cat_boundaries="))
        .unwrap()
        .to_string();
    let (_d, p, e) = lgbm_case("extra_lgbm_categorical_nan", &line, "cat_boundaries=0 1000");
    check(e, &p, false, &["tree 0", "cat_boundaries", "do not split"]);
    // A categorical node pointing at a category set the tree does not have.
    let dt_line = text
        .lines()
        .find(|l| l.starts_with("decision_type="))
        .unwrap();
    let th_line = text.lines().find(|l| l.starts_with("threshold=")).unwrap();
    let k = dt_line[14..]
        .split(' ')
        .position(|d| d.parse::<i64>().unwrap() & 1 == 1)
        .unwrap();
    let mut th: Vec<&str> = th_line[10..].split(' ').collect();
    th[k] = "7";
    let (_d, p, e) = lgbm_case(
        "extra_lgbm_categorical_nan",
        th_line,
        &format!("threshold={}", th.join(" ")),
    );
    check(
        e,
        &p,
        false,
        &[
            "tree 0",
            &format!("categorical node {k} refers to category set 7"),
        ],
    );
}

#[test]
fn lgbm_truncated_file() {
    let text = lgbm_model(ZM);
    let dir = tempfile::tempdir().unwrap();
    let cut = text.find("Tree=5").unwrap() + 40;
    let p = write(dir.path(), "cut.txt", &text[..cut]);
    check(
        load_err(&p),
        &p,
        false,
        &["without the 'end of trees' line", "truncated"],
    );
    // Cut inside the header: no trees, no end.
    let p = write(
        dir.path(),
        "head.txt",
        &text[..text.find("feature_names").unwrap()],
    );
    let e = load_err(&p);
    assert!(e.to_string().contains("head.txt"), "{e}");
}

// ---------------------------------------------------------------- robustness

/// Random edits of valid models (numbers replaced by random integers, lines dropped, files cut at
/// random points) must load or fail cleanly — and whatever loads must predict without panicking.
#[test]
fn random_corruptions_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let dir = tempfile::tempdir().unwrap();
    let x = ndarray::Array2::from_shape_fn((8, 4), |(i, j)| match (i + j) % 4 {
        0 => f64::NAN,
        1 => 0.0,
        _ => (i as f64 - 3.5) * (j as f64 + 0.5),
    });
    let mut loaded = 0;
    let mut sources: Vec<(&str, String)> = vec![
        ("txt", lgbm_model(ZM)),
        ("txt", lgbm_model("extra_lgbm_categorical_nan")),
        (
            "json",
            xgb_model("extra_xgb_categorical_missing").to_string(),
        ),
        ("json", xgb_model("extra_xgb_logitraw").to_string()),
    ];
    for (ext, text) in sources.drain(..) {
        for round in 0..150 {
            let bytes = text.as_bytes();
            let mutated = match round % 3 {
                // Replace one number-ish token by a random integer.
                0 => {
                    let starts: Vec<usize> = (1..bytes.len())
                        .filter(|&i| {
                            bytes[i].is_ascii_digit()
                                && !bytes[i - 1].is_ascii_alphanumeric()
                                && bytes[i - 1] != b'.'
                        })
                        .collect();
                    let s = starts[rng.gen_range(0..starts.len())];
                    let e = (s..bytes.len())
                        .find(|&i| !bytes[i].is_ascii_digit())
                        .unwrap_or(bytes.len());
                    let val: i64 = match rng.gen_range(0..4) {
                        0 => rng.gen_range(-3..3),
                        1 => rng.gen_range(0..100),
                        2 => -rng.gen_range(1..100),
                        _ => rng.gen_range(i64::MIN / 2..i64::MAX / 2),
                    };
                    format!("{}{}{}", &text[..s], val, &text[e..])
                }
                // Drop a line (LightGBM) or cut the file.
                1 => {
                    let lines: Vec<&str> = text.lines().collect();
                    let k = rng.gen_range(0..lines.len());
                    lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != k)
                        .map(|(_, l)| *l)
                        .collect::<Vec<_>>()
                        .join("\n")
                }
                _ => {
                    let mut cut = rng.gen_range(0..text.len());
                    while !text.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    text[..cut].to_string()
                }
            };
            let p = write(dir.path(), &format!("m.{ext}"), &mutated);
            if let Ok(model) = AnyModel::load(&p) {
                loaded += 1;
                let m = model.as_model();
                if m.schema().len() == 4 {
                    let out = m.predict_raw(x.view());
                    assert_eq!(out.nrows(), 8);
                }
            }
        }
    }
    // Some edits are harmless (a changed leaf value), so some files load.
    assert!(loaded > 0);
}
