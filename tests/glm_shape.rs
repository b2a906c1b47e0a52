//! Shape functions of GLMs: the term of each feature over its values and its pointwise standard
//! error, against statsmodels (`tests/fixtures/shape_glm_german/terms.csv`, made by `make.py`
//! there: the delta method on `GLMResults.cov_params()`), against the model's own predictions
//! (brute force), and through a model file.

use std::collections::HashMap;
use std::path::Path;

use glassbox::data::{Dataset, FeatureKind, SchemaOptions};
use glassbox::explain::additive::explain_glm;
use glassbox::explain::OutputSpace;
use glassbox::model::glm::{Family, Glm, GlmParams, Penalty};
use glassbox::model::{AnyModel, Model};

/// The fixture's relative tolerance (the README's for GLM statistics).
const TOL: f64 = 1e-6;

fn german() -> Dataset {
    // As in tests/glm_dataset.rs: the fixture treats num_dependents (1, 2) as a number.
    let options = SchemaOptions {
        numeric: vec!["num_dependents".into()],
        ..SchemaOptions::default()
    };
    Dataset::load_training(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/german_credit.csv"),
        "bad_credit",
        &options,
    )
    .unwrap()
}

/// statsmodels' sanitised dummy name for `feature=level` (see tests/glm_dataset.rs).
fn sanitised(feature: &str, level: &str) -> String {
    let level = level
        .replace("<=", "le")
        .replace(">=", "ge")
        .replace('<', "lt")
        .replace('>', "gt");
    let level: String = level
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{feature}_{level}")
}

fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-12)
}

#[test]
fn terms_and_bands_match_statsmodels() {
    let ds = german();
    let glm = GlmParams::new(Family::Binomial)
        .fit(&ds, None, None)
        .unwrap();
    let schema = ds.schema();
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shape_glm_german/terms.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut worst: HashMap<&str, f64> = HashMap::new();
    let mut lines = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (feature, column) = (f[0], f[1]);
        let (want_value, want_se): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        let j = schema.names().iter().position(|n| n == feature).unwrap();
        let v = match &schema.features()[j].kind {
            FeatureKind::Categorical { levels } => {
                if column == "reference" {
                    0.0
                } else {
                    levels
                        .iter()
                        .position(|l| sanitised(feature, l) == column)
                        .unwrap_or_else(|| panic!("no level of {feature} is {column}"))
                        as f64
                }
            }
            _ => f[2].parse().unwrap(),
        };
        let effect = glm.term_effect(j, &[v]);
        let se = effect
            .std_error
            .as_ref()
            .expect("unpenalised fits have SEs")[0];
        let (dv, ds) = (rel(effect.value[0], want_value), rel(se, want_se));
        assert!(
            dv < TOL,
            "{feature} {column}: value {} vs {want_value}",
            effect.value[0]
        );
        assert!(ds < TOL, "{feature} {column}: se {se} vs {want_se}");
        let w = worst.entry("value").or_default();
        *w = w.max(dv);
        let w = worst.entry("se").or_default();
        *w = w.max(ds);
        lines += 1;
    }
    assert_eq!(lines, 28, "every fixture line was compared");
    println!("worst relative difference vs statsmodels: {worst:?}");
}

/// Brute force: the term's differences are the model's own differences in the linear predictor
/// when only that feature changes; and the term at a row's value is the row's exact additive
/// attribution.
#[test]
fn terms_are_the_models_own_contributions() {
    let ds = german();
    let glm = GlmParams::new(Family::Binomial)
        .fit(&ds, None, None)
        .unwrap();
    let x = ds.x().slice(ndarray::s![..20, ..]).to_owned();
    let e = explain_glm(&glm, x.view(), OutputSpace::Raw, 1e-9).unwrap();
    for j in 0..ds.schema().len() {
        let col: Vec<f64> = x.column(j).to_vec();
        let effect = glm.term_effect(j, &col);
        for i in 0..x.nrows() {
            let a = e.values()[[i, 0, j]];
            assert!(
                (effect.value[i] - a).abs() < 1e-9,
                "feature {j} row {i}: term {} vs attribution {a}",
                effect.value[i]
            );
        }
        // Change feature j of row 0 to row 1's value: η moves by the term's difference.
        let mut moved = x.slice(ndarray::s![0..1, ..]).to_owned();
        moved[[0, j]] = x[[1, j]];
        let before = glm.predict_raw(x.slice(ndarray::s![0..1, ..]))[[0, 0]];
        let after = glm.predict_raw(moved.view())[[0, 0]];
        let diff = effect.value[1] - effect.value[0];
        assert!(
            ((after - before) - diff).abs() < 1e-9,
            "feature {j}: Δη {} vs Δterm {diff}",
            after - before
        );
    }
}

#[test]
fn covariance_survives_the_model_file_and_old_files_have_no_band() {
    let ds = german();
    let glm = GlmParams::new(Family::Binomial)
        .fit(&ds, None, None)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glm.json");
    AnyModel::Glm(glm.clone()).save(&path).unwrap();
    let AnyModel::Glm(back) = AnyModel::load(&path).unwrap() else {
        panic!("not a GLM")
    };
    let j = ds
        .schema()
        .names()
        .iter()
        .position(|n| n == "purpose")
        .unwrap();
    let grid: Vec<f64> = (0..10).map(f64::from).collect();
    assert_eq!(back.term_effect(j, &grid), glm.term_effect(j, &grid));
    // Its diagonal is the reported standard errors squared.
    let cov = glm.report().covariance.as_ref().unwrap();
    for (c, row) in glm.report().coefficients.iter().enumerate() {
        let se = row.std_err.unwrap();
        assert!(rel(cov[c][c].sqrt(), se) < 1e-12, "{}", row.term);
    }
    // A file written before the covariance was stored still loads; its terms have no band.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let report = json["model"]["report"].as_object_mut().unwrap();
    assert!(report.remove("covariance").is_some());
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    let AnyModel::Glm(old) = AnyModel::load(&path).unwrap() else {
        panic!("not a GLM")
    };
    let effect = old.term_effect(j, &grid);
    assert_eq!(effect.value, glm.term_effect(j, &grid).value);
    assert_eq!(effect.std_error, None);
}

#[test]
fn penalised_fits_have_no_band() {
    let ds = german();
    let glm: Glm = GlmParams::new(Family::Binomial)
        .penalty(Penalty::Fixed { l1: 0.0, l2: 0.01 })
        .fit(&ds, None, None)
        .unwrap();
    assert!(glm.report().covariance.is_none());
    assert_eq!(glm.term_effect(0, &[10.0, 20.0]).std_error, None);
}
