//! Kernel SHAP on imported XGBoost / LightGBM models against shap 0.51's exact interventional
//! Tree SHAP (`shap_interventional.csv` in the fixtures: first 100 rows explained with the first
//! 100 rows of `features.csv` as background, base value last; see each case's PROVENANCE).
//!
//! Exact mode (10 features) must reproduce it; sampled mode (26 features, missing values) must be
//! within its own error bars.

mod agnostic;
mod common;

use glassbox::data::{Dataset, UnseenPolicy};
use glassbox::explain::kernel_shap::{explain_with_background, Background, KernelShapParams};
use glassbox::explain::{ExplainOptions, Explanation};
use glassbox::model::AnyModel;
use ndarray::{s, Array2};

/// Tolerances of the fixtures README: XGBoost's reference margins are float32 sums (its
/// base value is the mean of those), LightGBM's float64.
const XGB_TOL: f64 = 1e-5;
const LGBM_TOL: f64 = 1e-9;

struct Fixture {
    model: AnyModel,
    /// The first 100 rows of features.csv: explained rows and background.
    x: Array2<f64>,
    /// shap's values, rows × (features + base value).
    reference: Array2<f64>,
}

fn load(case: &str, file: &str) -> Fixture {
    let dir = common::fixture_dir(case);
    let model = AnyModel::load(dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
    let ds = Dataset::load_with_schema(
        dir.join("features.csv"),
        model.as_model().schema(),
        None,
        UnseenPolicy::Error,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let reference = common::read_csv(dir.join("shap_interventional.csv"));
    assert_eq!(reference.values.nrows(), 100);
    Fixture {
        model,
        x: ds.x().slice(s![..100, ..]).to_owned(),
        reference: reference.values,
    }
}

fn run(f: &Fixture, rows: usize, params: KernelShapParams, seed: u64) -> Explanation {
    let bg = Background::uniform(f.x.clone()).unwrap();
    let opts = ExplainOptions {
        seed,
        kernel_shap: params,
        ..ExplainOptions::default()
    };
    explain_with_background(
        f.model.as_model(),
        f.x.slice(s![..rows, ..]),
        &bg,
        &opts.kernel_shap,
        &opts,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Largest |ours − shap| / max(1, |shap|) over values and base values.
fn max_rel_err(e: &Explanation, reference: &Array2<f64>) -> f64 {
    let m = e.n_features();
    let mut worst = 0.0f64;
    for i in 0..e.n_rows() {
        for j in 0..=m {
            let (got, want) = if j < m {
                (e.values()[[i, 0, j]], reference[[i, j]])
            } else {
                (e.base_values()[[i, 0]], reference[[i, m]])
            };
            worst = worst.max((got - want).abs() / want.abs().max(1.0));
        }
    }
    worst
}

/// Exact mode equals brute-force Shapley values of the same model (test code, all 2^10
/// coalitions) to rounding, and shap's interventional Tree SHAP to the fixture tolerance. (shap's
/// values are themselves off the brute force over LightGBM's own `predict` by up to 6.5e-6
/// absolute, 4.5e-7 relative, on rows 0–2 — measured with lightgbm 4.7.0 in Python — so
/// 1e-9 against shap is not attainable for LightGBM; against the brute force it is.)
#[test]
fn exact_mode_reproduces_interventional_tree_shap() {
    for (case, file, tol) in [
        ("xgb_diabetes_regression", "model.json", XGB_TOL),
        ("lgbm_diabetes_regression", "model.txt", XGB_TOL),
    ] {
        let f = load(case, file);
        let rows = 2;
        let e = run(&f, rows, KernelShapParams::default(), 0);
        let err = max_rel_err(&e, &f.reference);
        eprintln!("{case}: max relative error against shap {err:e}");
        assert!(err < tol, "{case}: {err:e}");
        for i in 0..rows {
            let want = agnostic::brute_force(f.model.as_model(), f.x.row(i), f.x.view(), false);
            for (j, w) in want[0].iter().enumerate() {
                let got = e.values()[[i, 0, j]];
                assert!(
                    (got - w).abs() < 1e-10 * w.abs().max(1.0),
                    "{case} row {i} feature {j}: {got} vs brute force {w}"
                );
            }
        }
    }
}

/// Sampled mode on 26 features with missing values: the 95% intervals cover shap's exact values
/// about 95% of the time, and the reported standard errors match the actual error.
#[test]
fn sampled_mode_is_within_its_error_bars_on_26_features_with_missing_values() {
    check_sampled(
        "xgb_credit_scoring_missing",
        "model.json",
        XGB_TOL,
        4,
        512,
        3,
    );
}

/// The same on both libraries with more rows and budget (ignored: ~1 min in the dev profile).
#[test]
#[ignore]
fn sampled_mode_error_bars_full() {
    check_sampled(
        "xgb_credit_scoring_missing",
        "model.json",
        XGB_TOL,
        10,
        2048,
        5,
    );
    check_sampled(
        "lgbm_credit_scoring_missing",
        "model.txt",
        LGBM_TOL,
        10,
        2048,
        5,
    );
}

fn check_sampled(case: &str, file: &str, tol: f64, rows: usize, budget: usize, seeds: u64) {
    let f = load(case, file);
    assert!(
        f.x.iter().any(|v| v.is_nan()),
        "{case} should have missing values"
    );
    let m = f.x.ncols();
    let (mut covered, mut count, mut err2, mut se2) = (0usize, 0usize, 0.0, 0.0);
    for seed in 0..seeds {
        let e = run(
            &f,
            rows,
            KernelShapParams::default().samples(Some(budget)),
            seed,
        );
        let se = e.std_errors().unwrap();
        for i in 0..e.n_rows() {
            for j in 0..m {
                let err = e.values()[[i, 0, j]] - f.reference[[i, j]];
                covered += usize::from(err.abs() <= 1.96 * se[[i, 0, j]]);
                count += 1;
                err2 += err * err;
                se2 += se[[i, 0, j]].powi(2);
            }
            let base = e.base_values()[[i, 0]] - f.reference[[i, m]];
            assert!(
                base.abs() < tol * f.reference[[i, m]].abs().max(1.0),
                "{case}: base value off by {base:e}"
            );
        }
    }
    let coverage = covered as f64 / count as f64;
    let calib = (err2 / se2).sqrt();
    eprintln!("{case}: coverage {coverage:.3}, rmse / rms(se) {calib:.3} over {count}");
    assert!(
        (0.88..=0.99).contains(&coverage),
        "{case}: coverage {coverage}"
    );
    assert!(
        (0.7..1.4).contains(&calib),
        "{case}: rmse / rms(se) {calib}"
    );
}
