//! GLMs trained from tables: the design built from the schema reproduces statsmodels, bad input
//! gives errors that name the row / column / level, and the model survives a save/load.

use std::collections::HashMap;
use std::path::Path;

use glassbox::data::{
    Dataset, Feature, FeatureKind, FeatureSchema, SchemaOptions, TargetKind, TargetSpec,
};
use glassbox::model::glm::{Family, FitWarning, GlmError, GlmParams};
use glassbox::model::{AnyModel, Model, ModelError};
use ndarray::{array, Array1, Array2};

fn fixture(case: &str, file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
        .join(file)
}

/// statsmodels' column names in the german fixture are sanitised one-hot names
/// (`checking_status_lt0` for level `<0`); map ours (`checking_status=<0`) onto them.
fn sanitised(term: &str) -> String {
    if term == "intercept" {
        return "const".into();
    }
    match term.split_once('=') {
        None => term.to_string(),
        Some((feature, level)) => {
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
    }
}

#[test]
fn german_from_raw_csv_reproduces_statsmodels() {
    // The fixture treats num_dependents (values 1, 2) as a number; glassbox's default would make a
    // two-valued integer column categorical, so say so. Every categorical's reference level is
    // its first level in sort order, as in the fixture (pandas get_dummies(drop_first=True)).
    let options = SchemaOptions {
        numeric: vec!["num_dependents".into()],
        ..SchemaOptions::default()
    };
    let ds = Dataset::load_training(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/german_credit.csv"),
        "bad_credit",
        &options,
    )
    .unwrap();
    let glm = GlmParams::new(Family::Binomial)
        .fit(&ds, None, None)
        .unwrap();
    let report = glm.report();

    let text = std::fs::read_to_string(fixture("glm_german_binomial", "coefficients.csv")).unwrap();
    let mut want: HashMap<String, (f64, f64)> = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        want.insert(
            f[0].to_string(),
            (f[1].parse().unwrap(), f[2].parse().unwrap()),
        );
    }
    assert_eq!(
        want.len(),
        report.coefficients.len(),
        "same number of terms"
    );
    let mut worst: f64 = 0.0;
    for row in &report.coefficients {
        let key = sanitised(&row.term);
        let (coef, se) = want
            .get(&key)
            .unwrap_or_else(|| panic!("term {} ({key}) not in the fixture", row.term));
        worst = worst.max((row.coef - coef).abs() / coef.abs());
        worst = worst.max((row.std_err.unwrap() - se).abs() / se.abs());
    }
    let case: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("glm_german_binomial", "case.json")).unwrap(),
    )
    .unwrap();
    for (got, key) in [
        (report.deviance, "deviance"),
        (report.log_likelihood.unwrap(), "llf"),
        (report.aic.unwrap(), "aic"),
        (report.null_deviance, "null_deviance"),
    ] {
        let w = case[key].as_f64().unwrap();
        worst = worst.max((got - w).abs() / w.abs());
    }
    eprintln!("german from raw CSV: max relative error {worst:.1e}");
    assert!(worst < 1e-6, "max relative error {worst}");
}

fn schema2() -> FeatureSchema {
    FeatureSchema::new(vec![
        Feature::numeric("x"),
        Feature {
            name: "colour".into(),
            kind: FeatureKind::Categorical {
                levels: vec!["blue".into(), "green".into(), "red".into()],
            },
        },
    ])
}

fn continuous(name: &str) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        kind: TargetKind::Continuous,
    }
}

fn glm_err(r: Result<impl std::fmt::Debug, GlmError>) -> String {
    let e = r.unwrap_err();
    // Through the model layer's error type too, as the CLI sees it.
    ModelError::from(e).to_string()
}

#[test]
fn non_positive_target_for_gamma_and_negative_for_poisson_name_the_row() {
    let x = Array2::from_shape_fn(
        (8, 2),
        |(i, j)| if j == 0 { i as f64 } else { (i % 3) as f64 },
    );
    let mut y = Array1::from_vec(vec![1.0, 2.0, 3.0, 1.5, 2.5, 3.5, 1.2, 2.2]);
    y[4] = 0.0;
    let ds = Dataset::from_parts(
        x.clone(),
        Some(y.clone()),
        schema2(),
        Some(continuous("cost")),
    )
    .unwrap();
    let msg = glm_err(GlmParams::new(Family::Gamma).fit(&ds, None, None));
    assert!(msg.contains("target 'cost' row 5 is 0"), "{msg}");
    assert!(msg.contains("strictly positive"), "{msg}");
    y[4] = -1.0;
    let ds = Dataset::from_parts(x, Some(y), schema2(), Some(continuous("claims"))).unwrap();
    let msg = glm_err(GlmParams::new(Family::Poisson).fit(&ds, None, None));
    assert!(msg.contains("target 'claims' row 5 is -1"), "{msg}");
    assert!(msg.contains("zero or positive"), "{msg}");
}

#[test]
fn non_binary_target_for_binomial_is_refused() {
    // Through the matrix API: a value of 2 names the row.
    let x = array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]];
    let y = array![0.0, 1.0, 2.0, 1.0];
    let names = vec!["const".to_string(), "a".to_string()];
    let msg = glm_err(GlmParams::new(Family::Binomial).fit_matrix(
        x.view(),
        y.view(),
        None,
        None,
        &names,
        "default",
    ));
    assert!(msg.contains("target 'default' row 3 is 2"), "{msg}");
    assert!(msg.contains("between 0 and 1"), "{msg}");
    // Through a dataset: a multiclass target.
    let xs = Array2::from_shape_fn(
        (6, 2),
        |(i, j)| if j == 0 { i as f64 } else { (i % 3) as f64 },
    );
    let target = TargetSpec {
        name: "grade".into(),
        kind: TargetKind::Multiclass {
            classes: vec!["a".into(), "b".into(), "c".into()],
        },
    };
    let ds = Dataset::from_parts(
        xs,
        Some(array![0.0, 1.0, 2.0, 0.0, 1.0, 2.0]),
        schema2(),
        Some(target),
    )
    .unwrap();
    let msg = glm_err(GlmParams::new(Family::Binomial).fit(&ds, None, None));
    assert!(msg.contains("multiclass (3 classes)"), "{msg}");
}

#[test]
fn collinear_columns_are_named_with_their_relation() {
    let x = Array2::from_shape_fn((20, 4), |(i, j)| match j {
        0 => 1.0,
        1 => i as f64,
        2 => ((i * 7) % 5) as f64,
        _ => 2.0 * i as f64 - ((i * 7) % 5) as f64 + 3.0,
    });
    let y = Array1::from_shape_fn(20, |i| (i as f64 * 0.3).sin() + 2.0);
    let names: Vec<String> = ["const", "age", "tenure", "score"]
        .map(String::from)
        .to_vec();
    let params = GlmParams::new(Family::Gaussian);
    let err = params
        .fit_matrix(x.view(), y.view(), None, None, &names, "y")
        .unwrap_err();
    match &err {
        GlmError::Collinear { terms, .. } => assert_eq!(terms, &vec!["score".to_string()]),
        other => panic!("wrong error {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("'score' = 3·const + 2·age − 1·tenure"),
        "{msg}"
    );
    assert!(msg.contains("--drop-collinear"), "{msg}");
    // On request the column is dropped and reported.
    let fit = params
        .drop_collinear(true)
        .fit_matrix(x.view(), y.view(), None, None, &names, "y")
        .unwrap();
    assert_eq!(fit.kept, vec![true, true, true, false]);
    assert_eq!(fit.report.coefficients.len(), 3);
    assert!(fit
        .report
        .warnings
        .iter()
        .any(|w| matches!(w, FitWarning::DroppedCollinear { .. })));
}

#[test]
fn a_level_with_no_rows_is_named() {
    // "green" is in the schema (say, from a larger file) but no training row has it.
    let x = Array2::from_shape_fn((10, 2), |(i, j)| {
        if j == 0 {
            i as f64
        } else {
            2.0 * (i % 2) as f64
        }
    });
    let y = Array1::from_shape_fn(10, |i| i as f64 * 0.5 + 1.0);
    let ds = Dataset::from_parts(x, Some(y), schema2(), Some(continuous("y"))).unwrap();
    let msg = glm_err(GlmParams::new(Family::Gaussian).fit(&ds, None, None));
    assert!(
        msg.contains("feature 'colour' level 'green' has no rows"),
        "{msg}"
    );
}

#[test]
fn fewer_rows_than_parameters_is_refused() {
    let x = array![[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [1.0, 2.0, 2.0]];
    let y = array![1.0, 2.0, 3.0];
    let names: Vec<String> = ["const", "a", "b"].map(String::from).to_vec();
    let msg = glm_err(GlmParams::new(Family::Gaussian).fit_matrix(
        x.view(),
        y.view(),
        None,
        None,
        &names,
        "y",
    ));
    assert!(
        msg.contains("3 rows cannot estimate 3 parameters (const, a, b)"),
        "{msg}"
    );
}

#[test]
fn missing_values_are_filled_recorded_and_reapplied() {
    let nan = f64::NAN;
    let x = array![
        [1.0, 0.0],
        [2.0, 1.0],
        [nan, 2.0],
        [4.0, 1.0],
        [5.0, nan],
        [6.0, 0.0],
        [7.0, 1.0],
        [8.0, 2.0],
        [9.0, 1.0],
        [10.0, 0.0]
    ];
    let y = array![1.2, 2.9, 3.1, 4.8, 5.2, 6.1, 7.9, 8.1, 9.7, 10.2];
    let ds = Dataset::from_parts(x.clone(), Some(y), schema2(), Some(continuous("y"))).unwrap();
    let glm = GlmParams::new(Family::Gaussian)
        .fit(&ds, None, None)
        .unwrap();
    let imp = glm.design().imputations();
    let mean = (1.0 + 2.0 + 4.0 + 5.0 + 6.0 + 7.0 + 8.0 + 9.0 + 10.0) / 9.0;
    assert_eq!(imp[0].count, 1);
    assert!((imp[0].fill - mean).abs() < 1e-12);
    assert_eq!(
        (imp[1].count, imp[1].display.as_str()),
        (1, "green"),
        "mode level"
    );
    assert_eq!(
        glm.report()
            .warnings
            .iter()
            .filter(|w| matches!(w, FitWarning::Imputed { .. }))
            .count(),
        2
    );
    // Predicting a row with a missing value equals predicting the filled row.
    let filled = array![[mean, 1.0]];
    let missing = array![[nan, 1.0]];
    assert_eq!(
        glm.predict_raw(filled.view()),
        glm.predict_raw(missing.view())
    );
}

#[test]
fn glm_model_file_round_trips_with_its_report() {
    let ds = Dataset::load_training(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/german_credit.csv"),
        "bad_credit",
        &SchemaOptions::default(),
    )
    .unwrap();
    let glm = GlmParams::new(Family::Binomial)
        .fit(&ds, None, None)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glm.json");
    let model = AnyModel::Glm(glm.clone());
    model.save(&path).unwrap();
    let back = AnyModel::load(&path).unwrap();
    assert_eq!(back, model);
    let m = back.as_model();
    let p = m.predict(ds.x().view());
    // Probabilities from the logistic link of the linear predictor, which matches X·β.
    let xd = glm.design_matrix(ds.x().view());
    for i in 0..5 {
        let eta: f64 = xd
            .row(i)
            .iter()
            .zip(glm.coefficients())
            .map(|(a, b)| a * b)
            .sum();
        assert!((p[[i, 0]] - 1.0 / (1.0 + (-eta).exp())).abs() < 1e-12);
    }
    assert!(glm
        .report()
        .to_string()
        .contains("Generalized Linear Model Regression Results"));
}

#[test]
fn perfect_separation_is_reported_not_hidden() {
    // x > 4.5 predicts y exactly.
    let x = Array2::from_shape_fn((10, 2), |(i, j)| if j == 0 { 1.0 } else { i as f64 });
    let y = Array1::from_shape_fn(10, |i| if i >= 5 { 1.0 } else { 0.0 });
    let names: Vec<String> = ["const", "x"].map(String::from).to_vec();
    let fit = GlmParams::new(Family::Binomial)
        .fit_matrix(x.view(), y.view(), None, None, &names, "y")
        .unwrap();
    let sep = fit
        .report
        .warnings
        .iter()
        .find(|w| matches!(w, FitWarning::Separation { .. }))
        .unwrap_or_else(|| panic!("no separation warning: {:?}", fit.report.warnings));
    let FitWarning::Separation { rows, terms } = sep else {
        unreachable!()
    };
    assert_eq!(*rows, 10);
    assert!(terms.contains(&"x".to_string()), "{terms:?}");
    assert!(sep.to_string().contains("separation"));
}

#[test]
fn non_convergence_is_a_status_not_an_error() {
    let ds = Dataset::load_training(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/german_credit.csv"),
        "bad_credit",
        &SchemaOptions::default(),
    )
    .unwrap();
    let glm = GlmParams::new(Family::Binomial)
        .max_iter(2)
        .fit(&ds, None, None)
        .unwrap();
    assert!(!glm.report().converged);
    assert!(glm
        .report()
        .warnings
        .iter()
        .any(|w| matches!(w, FitWarning::NotConverged { iterations: 2, .. })));
}

#[test]
fn glm_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<glassbox::model::glm::Glm>();
    check::<GlmParams>();
    check::<glassbox::model::glm::FitReport>();
}
