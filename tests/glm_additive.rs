//! Exact additive explanations of GLMs equal brute-force interventional Shapley values with the
//! training data as background, and add up to the linear predictor.

mod agnostic;

use agnostic::{brute_force, mixed_five, Response};
use glassbox::data::Dataset;
use glassbox::explain::{explain, ExplainError, ExplainOptions, Method, OutputSpace};
use glassbox::model::glm::{Family, GlmParams};
use glassbox::model::{AnyModel, Model};

/// The shared 5-feature rows (tests/agnostic) with a GLM-shaped target.
fn data(family: Family, n: usize, seed: u64) -> Dataset {
    let eta = |x: &[f64]| -1.0 + 0.02 * x[0] + 0.3 * x[1] + 0.5 * x[4];
    let response = match family {
        Family::Binomial => Response::Bernoulli,
        _ => Response::Count,
    };
    mixed_five(n, seed, eta, response)
}

fn check_family(family: Family) {
    let ds = data(family, 60, 7);
    let glm = GlmParams::new(family).fit(&ds, None, None).unwrap();
    let model = AnyModel::Glm(glm.clone());
    assert_eq!(Method::default_for(&model), Method::Additive);
    let rows = ds.head(12);
    let e = explain(
        &model,
        rows.x().view(),
        Method::Additive,
        None,
        &ExplainOptions::default(),
    )
    .unwrap();
    let raw = glm.predict_raw(rows.x().view());
    let mut worst_add: f64 = 0.0;
    let mut worst_shap: f64 = 0.0;
    for i in 0..rows.n_rows() {
        let sum: f64 = e.base_values()[[i, 0]] + e.values().slice(ndarray::s![i, 0, ..]).sum();
        worst_add = worst_add.max((sum - raw[[i, 0]]).abs());
        let phi = brute_force(&glm, rows.x().row(i), ds.x().view(), false).remove(0);
        for (j, p) in phi.iter().enumerate() {
            worst_shap = worst_shap.max((e.values()[[i, 0, j]] - p).abs());
        }
    }
    // The base value is the mean linear predictor over the training rows.
    let mean_eta = glm.predict_raw(ds.x().view()).mean().unwrap();
    assert!((e.base_values()[[0, 0]] - mean_eta).abs() < 1e-10);
    eprintln!(
        "{}: max |base + Σφ − η| = {worst_add:.1e}, max |φ − brute-force Shapley| = {worst_shap:.1e}",
        family.name()
    );
    assert!(worst_add < 1e-10, "additivity {worst_add}");
    assert!(worst_shap < 1e-10, "shapley {worst_shap}");
}

#[test]
fn additive_equals_interventional_shapley_binomial() {
    check_family(Family::Binomial);
}

#[test]
fn additive_equals_interventional_shapley_poisson() {
    check_family(Family::Poisson);
}

#[test]
fn probability_space_with_a_nonlinear_link_is_refused() {
    let ds = data(Family::Binomial, 60, 3);
    let glm = GlmParams::new(Family::Binomial)
        .fit(&ds, None, None)
        .unwrap();
    let options = ExplainOptions {
        output_space: OutputSpace::Probability,
        ..ExplainOptions::default()
    };
    let err = explain(
        &AnyModel::Glm(glm),
        ds.x().view(),
        Method::Additive,
        None,
        &options,
    )
    .unwrap_err();
    assert!(matches!(err, ExplainError::Unsupported(_)));
    assert!(err.to_string().contains("kernel-shap"), "{err}");
}

/// The harness fails when it should: a wrong attribution is far from the brute force.
#[test]
fn brute_force_detects_a_wrong_attribution() {
    let ds = data(Family::Poisson, 60, 7);
    let glm = GlmParams::new(Family::Poisson)
        .fit(&ds, None, None)
        .unwrap();
    let phi = brute_force(&glm, ds.x().row(0), ds.x().view(), false).remove(0);
    // Attributions against a different background (the first 10 rows) differ from those against
    // the training data, which is what the additive explainer uses.
    let other = brute_force(&glm, ds.x().row(0), ds.head(10).x().view(), false).remove(0);
    let diff: f64 = phi.iter().zip(&other).map(|(a, b)| (a - b).abs()).sum();
    assert!(diff > 1e-6, "the background must matter: {diff}");
}
