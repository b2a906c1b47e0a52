//! Tree SHAP against the reference libraries, on every tree fixture of `tests/fixtures/`
//! (copied from `shared/fixtures`: xgboost 3.2.0, lightgbm 4.7.0, shap 0.51.0; see each
//! PROVENANCE).
//!
//! - path-dependent vs `shap_path*.csv` (XGBoost `pred_contribs`, LightGBM `pred_contrib`),
//!   every row, every output, base value included;
//! - interaction values vs `interactions.csv` (XGBoost `pred_interactions`, first 10 rows);
//! - interventional vs `shap_interventional.csv` (shap's TreeExplainer, first 100 rows, background
//!   = first 100 rows of `features.csv`).
//!
//! Errors are `max |ours − reference| / max(1, max |margin|)`, the fixtures README's scale.
//! Tolerances: XGBoost 1e-5 (it evaluates and accumulates in `f32`), LightGBM 1e-8 (`f64`).
//! shap's interventional kernel keeps thresholds, leaf values and its partial sums in `f32`
//! (`tree_shap.h`: `struct Node { float thres, value; }`, `float *pos_lst`), so its references are
//! `f32`-accurate whatever the library: they get 1e-6, and one LightGBM case is checked against
//! an `f64` brute force instead, where glassbox must agree to 1e-10.
//! The harness is shown to fail on purpose by perturbing one cover and one background row.

#![allow(clippy::needless_range_loop)]

mod common;

use std::path::Path;

use glassbox::data::{Dataset, UnseenPolicy};
use glassbox::explain::tree_shap::{
    InteractionShap, InterventionalAlgorithm, InterventionalTreeShap, TreeShap,
};
use glassbox::explain::OutputSpace;
use glassbox::model::{AnyModel, Model, TreeEnsemble};
use ndarray::{s, Array2};

struct Case {
    name: &'static str,
    model: &'static str,
    tol: f64,
}

const XGB_TOL: f64 = 1e-5;
const LGBM_TOL: f64 = 1e-8;
/// shap's interventional references are computed in `f32` (see the module docs).
const SHAP_F32_TOL: f64 = 1e-6;

const CASES: &[Case] = &[
    Case {
        name: "xgb_german_binary",
        model: "model.json",
        tol: XGB_TOL,
    },
    Case {
        name: "xgb_credit_scoring_missing",
        model: "model.json",
        tol: XGB_TOL,
    },
    Case {
        name: "xgb_diabetes_regression",
        model: "model.json",
        tol: XGB_TOL,
    },
    Case {
        name: "xgb_compas_multiclass",
        model: "model.json",
        tol: XGB_TOL,
    },
    Case {
        name: "xgb_german_categorical",
        model: "model.json",
        tol: XGB_TOL,
    },
    Case {
        name: "lgbm_credit_scoring_missing",
        model: "model.txt",
        tol: LGBM_TOL,
    },
    Case {
        name: "lgbm_diabetes_regression",
        model: "model.txt",
        tol: LGBM_TOL,
    },
    Case {
        name: "lgbm_german_categorical",
        model: "model.txt",
        tol: LGBM_TOL,
    },
];

fn load(dir: &Path, file: &str) -> (TreeEnsemble, Array2<f64>, f64) {
    let model = match AnyModel::load(dir.join(file)) {
        Ok(m) => m.as_trees().expect("a tree ensemble").clone(),
        Err(e) => panic!("{e}"),
    };
    let ds = Dataset::load_with_schema(
        dir.join("features.csv"),
        model.schema(),
        None,
        UnseenPolicy::Error,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let margin = common::read_csv(dir.join("margin.csv")).values;
    let scale = margin.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    (model, ds.x().clone(), scale)
}

/// `max |a − b|` over equal-shaped tables.
fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Path-dependent values of output `k` with the base value appended, rows × (M+1).
fn path_table(model: &TreeEnsemble, x: &Array2<f64>, k: usize) -> Array2<f64> {
    let e = TreeShap::new(model)
        .unwrap()
        .explain(x.view(), 1e-9)
        .unwrap_or_else(|e| panic!("{e}"));
    let m = model.n_features();
    let mut t = Array2::zeros((x.nrows(), m + 1));
    t.slice_mut(s![.., ..m])
        .assign(&e.values().slice(s![.., k, ..]));
    t.slice_mut(s![.., m])
        .assign(&e.base_values().slice(s![.., k]));
    t
}

fn path_error(case: &Case, model: &TreeEnsemble, x: &Array2<f64>, scale: f64) -> f64 {
    let dir = common::fixture_dir(case.name);
    let k = model.n_outputs();
    let mut worst: f64 = 0.0;
    for out in 0..k {
        let file = if k == 1 {
            "shap_path.csv".to_string()
        } else {
            format!("shap_path_class{out}.csv")
        };
        let reference = common::read_csv(dir.join(file)).values;
        worst = worst.max(max_abs_diff(&path_table(model, x, out), &reference) / scale);
    }
    worst
}

#[test]
fn path_dependent_matches_xgboost_and_lightgbm() {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = common::fixture_dir(case.name);
        let (model, x, scale) = load(&dir, case.model);
        let err = path_error(case, &model, &x, scale);
        eprintln!(
            "{}: path-dependent max error {err:.2e} (tolerance {:.0e}, {} rows)",
            case.name,
            case.tol,
            x.nrows()
        );
        if err.is_nan() || err > case.tol {
            failures.push(format!("{}: {err:e}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn interactions_match_xgboost() {
    let mut checked = 0;
    for case in CASES.iter().filter(|c| c.name.starts_with("xgb")) {
        let dir = common::fixture_dir(case.name);
        if !dir.join("interactions.csv").exists() {
            continue;
        }
        let (model, x, scale) = load(&dir, case.model);
        let reference = common::read_csv(dir.join("interactions.csv")).values;
        let n = reference.nrows();
        let m = model.n_features();
        let full = InteractionShap::new(&model)
            .unwrap()
            .full(x.slice(s![..n, ..]))
            .unwrap();
        let ours = full
            .into_shape_with_order((n, (m + 1) * (m + 1)))
            .expect("one output");
        let err = max_abs_diff(&ours, &reference) / scale;
        eprintln!("{}: interactions max error {err:.2e} ({n} rows)", case.name);
        assert!(err <= case.tol, "{}: {err:e}", case.name);
        checked += 1;
    }
    assert_eq!(
        checked, 4,
        "every XGBoost case with interactions.csv was checked"
    );
}

fn interventional_error(
    model: &TreeEnsemble,
    x: &Array2<f64>,
    bg: &Array2<f64>,
    reference: &Array2<f64>,
    algorithm: InterventionalAlgorithm,
) -> f64 {
    let n = reference.nrows();
    let m = model.n_features();
    let e = InterventionalTreeShap::new(model, bg.view())
        .unwrap()
        .with_algorithm(algorithm)
        .explain(x.slice(s![..n, ..]), OutputSpace::Raw, 1e-9)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut ours = Array2::zeros((n, m + 1));
    ours.slice_mut(s![.., ..m])
        .assign(&e.values().slice(s![.., 0, ..]));
    ours.slice_mut(s![.., m])
        .assign(&e.base_values().slice(s![.., 0]));
    max_abs_diff(&ours, reference)
}

#[test]
fn interventional_matches_shap() {
    let mut checked = 0;
    for case in CASES {
        let dir = common::fixture_dir(case.name);
        if !dir.join("shap_interventional.csv").exists() {
            continue;
        }
        let (model, x, scale) = load(&dir, case.model);
        let reference = common::read_csv(dir.join("shap_interventional.csv")).values;
        let bg = x.slice(s![..100, ..]).to_owned();
        for algorithm in [
            InterventionalAlgorithm::PerPair,
            InterventionalAlgorithm::LeafTables,
        ] {
            let err = interventional_error(&model, &x, &bg, &reference, algorithm) / scale;
            eprintln!(
                "{}: interventional ({algorithm:?}) max error {err:.2e} ({} rows)",
                case.name,
                reference.nrows()
            );
            assert!(err <= SHAP_F32_TOL, "{} {algorithm:?}: {err:e}", case.name);
        }
        checked += 1;
    }
    assert_eq!(
        checked, 5,
        "every case with shap_interventional.csv was checked"
    );
}

/// `f64` brute force of the interventional game for two rows of a LightGBM model (10 features:
/// 1024 coalitions, each averaged over the 100 background rows): glassbox agrees to 1e-10, and
/// shap's `f32` reference is further away than that.
#[test]
fn interventional_is_exact_in_f64() {
    let dir = common::fixture_dir("lgbm_diabetes_regression");
    let (model, x, scale) = load(&dir, "model.txt");
    let reference = common::read_csv(dir.join("shap_interventional.csv")).values;
    let bg = x.slice(s![..100, ..]).to_owned();
    let m = model.n_features();
    let ours = InterventionalTreeShap::new(&model, bg.view())
        .unwrap()
        .values(x.slice(s![..2, ..]), OutputSpace::Raw)
        .unwrap();
    let mut shap_err: f64 = 0.0;
    for r in 0..2 {
        // v(S) for every coalition S (bit j = feature j from x).
        let v: Vec<f64> = (0..1u32 << m)
            .map(|set| {
                let mut h = bg.clone();
                for j in (0..m).filter(|j| set >> j & 1 == 1) {
                    h.column_mut(j).fill(x[[r, j]]);
                }
                model.predict_raw(h.view()).mean().unwrap()
            })
            .collect();
        for i in 0..m {
            let mut phi = 0.0;
            for set in (0..1u32 << m).filter(|s| s >> i & 1 == 0) {
                let k = set.count_ones() as usize;
                // k! (m-1-k)! / m!
                let mut w = 1.0 / m as f64;
                for t in 0..k {
                    w *= (t + 1) as f64 / (m - 1 - t) as f64;
                }
                phi += w * (v[(set | 1 << i) as usize] - v[set as usize]);
            }
            let err = (ours[[r, 0, i]] - phi).abs() / scale;
            assert!(
                err <= 1e-10,
                "row {r} feature {i}: {} vs brute force {phi}",
                ours[[r, 0, i]]
            );
            shap_err = shap_err.max((reference[[r, i]] - phi).abs() / scale);
        }
    }
    eprintln!("lgbm_diabetes_regression: shap's f32 interventional is {shap_err:.1e} from the f64 brute force");
    assert!(
        shap_err > 1e-10,
        "shap's reference is closer than expected: {shap_err:e}"
    );
}

/// The comparisons detect a small change: one cover (path-dependent weights) and one background
/// row (interventional).
#[test]
fn harness_fails_on_purpose() {
    let case = &CASES[0];
    let dir = common::fixture_dir(case.name);
    let (mut model, x, scale) = load(&dir, case.model);
    let root = &model.trees[0].nodes[0];
    let child = root.left as usize;
    model.trees[0].nodes[child].cover *= 1.2;
    let err = path_error(case, &model, &x, scale);
    assert!(err > case.tol, "a changed cover went unnoticed: {err:e}");

    let (model, x, scale) = load(&dir, case.model);
    let reference = common::read_csv(dir.join("shap_interventional.csv")).values;
    let mut bg = x.slice(s![..100, ..]).to_owned();
    let replacement = x.row(150).to_owned();
    bg.row_mut(0).assign(&replacement);
    let err =
        interventional_error(&model, &x, &bg, &reference, InterventionalAlgorithm::Auto) / scale;
    assert!(
        err > case.tol,
        "a changed background row went unnoticed: {err:e}"
    );
}
