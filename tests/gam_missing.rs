//! GAM missing-value terms: a numeric feature with missing training values gets one coefficient
//! for "missing", on top of its smooth at the fill. Checked against the model a user would build
//! by hand (the feature filled with its training mean plus a two-level missing indicator as a
//! categorical feature), against a known shift, and against brute-force interventional Shapley
//! values for the additive explanation.

mod agnostic;

use agnostic::brute_force;
use glassbox::data::{Dataset, Feature, FeatureKind, FeatureSchema, TargetKind, TargetSpec};
use glassbox::explain::{explain, ExplainOptions, Method};
use glassbox::model::gam::{GamParams, TermKind};
use glassbox::model::glm::Family;
use glassbox::model::{AnyModel, Model};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SHIFT: f64 = 1.5;

/// y = sin(x1) + 0.5·x2 + SHIFT·[x1 missing] + N(0, 0.3²); x1 missing in every fifth row.
fn shifted(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::zeros((n, 2));
    let mut y = Array1::zeros(n);
    for i in 0..n {
        let x1: f64 = rng.gen_range(-2.0..2.0);
        let x2: f64 = rng.gen_range(-2.0..2.0);
        let miss = i % 5 == 0;
        x[[i, 0]] = if miss { f64::NAN } else { x1 };
        x[[i, 1]] = x2;
        let noise: f64 = rng.gen_range(-0.3..0.3) * 3f64.sqrt() * 0.5;
        y[i] = if miss { SHIFT } else { x1.sin() } + 0.5 * x2 + noise;
    }
    (x, y)
}

fn target() -> Option<TargetSpec> {
    Some(TargetSpec {
        name: "y".into(),
        kind: TargetKind::Continuous,
    })
}

/// The same rows with x1 filled by `fill` and a third, categorical feature `x1_missing`.
fn by_hand(x: &Array2<f64>, fill: f64) -> Array2<f64> {
    Array2::from_shape_fn((x.nrows(), 3), |(i, j)| match j {
        0 if x[[i, 0]].is_nan() => fill,
        2 => f64::from(u8::from(x[[i, 0]].is_nan())),
        _ => x[[i, j]],
    })
}

#[test]
fn missing_term_equals_a_hand_made_indicator_factor_and_recovers_the_shift() {
    let (x, y) = shifted(400, 1);
    let ds = Dataset::from_parts(
        x.clone(),
        Some(y.clone()),
        FeatureSchema::numeric(["x1", "x2"]),
        target(),
    )
    .unwrap();
    let gam = GamParams::new(Family::Gaussian)
        .n_splines(10)
        .fit(&ds)
        .unwrap();
    let kinds: Vec<&TermKind> = gam.terms().iter().map(|t| &t.kind).collect();
    assert!(matches!(kinds[2], TermKind::Missing { feature: 0 }));
    assert_eq!(kinds.len(), 3, "only x1 has missing values");

    // By hand: the training mean of the observed x1 as the fill, the indicator as a factor.
    let obs: Vec<f64> = x
        .column(0)
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .collect();
    let fill = obs.iter().sum::<f64>() / obs.len() as f64;
    let schema = FeatureSchema::new(vec![
        Feature::numeric("x1"),
        Feature::numeric("x2"),
        Feature {
            name: "x1_missing".into(),
            kind: FeatureKind::Categorical {
                levels: vec!["no".into(), "yes".into()],
            },
        },
    ]);
    let ds2 = Dataset::from_parts(by_hand(&x, fill), Some(y), schema, target()).unwrap();
    let gam2 = GamParams::new(Family::Gaussian)
        .n_splines(10)
        .fit(&ds2)
        .unwrap();
    let (new, _) = shifted(50, 2);
    let p = gam.predict_raw(new.view());
    let p2 = gam2.predict_raw(by_hand(&new, fill).view());
    for i in 0..new.nrows() {
        assert!(
            (p[[i, 0]] - p2[[i, 0]]).abs() < 1e-6 * (1.0 + p2[[i, 0]].abs()),
            "row {i}: {} vs by hand {}",
            p[[i, 0]],
            p2[[i, 0]]
        );
    }
    // The missing term is the by-hand factor's "yes" level.
    let (m, f) = (&gam.terms()[2], &gam2.terms()[2]);
    assert!(
        (m.coef[0] - f.coef[1]).abs() < 1e-6,
        "{:?} vs {:?}",
        m.coef,
        f.coef
    );
    // And it recovers the shift: missing rows sit SHIFT above sin(x1)'s mean (0 by symmetry),
    // the smooth at the fill adds sin(fill) ≈ 0.
    assert!((m.coef[0] - SHIFT).abs() < 0.2, "shift {}", m.coef[0]);
    // Significance: the term gets a Wald test of its own kind.
    let sig = gam.significance().unwrap();
    let row = sig.rows.iter().find(|t| t.term == "x1 (missing)").unwrap();
    assert_eq!(row.kind.name(), "missing");
    assert!(
        row.p_value < 1e-6,
        "a shift of 1.5 on 80 rows: p = {}",
        row.p_value
    );
}

#[test]
fn additive_explanations_of_missing_terms_equal_brute_force_shapley() {
    let (x, y) = shifted(200, 3);
    let ds =
        Dataset::from_parts(x, Some(y), FeatureSchema::numeric(["x1", "x2"]), target()).unwrap();
    let model = AnyModel::Gam(
        GamParams::new(Family::Gaussian)
            .n_splines(8)
            .fit(&ds)
            .unwrap(),
    );
    let (rows, _) = shifted(10, 4); // rows 0 and 5 have x1 missing
    let e = explain(
        &model,
        rows.view(),
        Method::default_for(&model),
        None,
        &ExplainOptions::default(),
    )
    .unwrap();
    for i in 0..rows.nrows() {
        let want = brute_force(model.as_model(), rows.row(i), ds.x().view(), false).remove(0);
        for (j, w) in want.iter().enumerate() {
            let g = e.values()[[i, 0, j]];
            assert!((g - w).abs() < 1e-9, "row {i} feature {j}: {g} vs {w}");
        }
    }
}

#[test]
fn no_missing_term_without_missing_numeric_values() {
    let (x, y) = shifted(200, 5);
    let filled = x.mapv(|v| if v.is_nan() { 0.25 } else { v });
    let ds = Dataset::from_parts(
        filled,
        Some(y),
        FeatureSchema::numeric(["x1", "x2"]),
        target(),
    )
    .unwrap();
    let gam = GamParams::new(Family::Gaussian)
        .n_splines(8)
        .fit(&ds)
        .unwrap();
    assert!(gam
        .terms()
        .iter()
        .all(|t| !matches!(t.kind, TermKind::Missing { .. })));
}
