//! Exact additive explanations of GLMs equal brute-force interventional Shapley values with the
//! training data as background, and add up to the linear predictor.

use glassbox::data::{Dataset, Feature, FeatureKind, FeatureSchema, TargetKind, TargetSpec};
use glassbox::explain::{explain, ExplainError, ExplainOptions, Method, OutputSpace};
use glassbox::model::glm::{Family, Glm, GlmParams};
use glassbox::model::{AnyModel, Model};
use ndarray::{Array1, Array2, ArrayView1};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 5 features: two numbers (one with missing values), a 3-level and a 2-level category (one
/// with missing values), and a third number.
fn data(family: Family, n: usize, seed: u64) -> Dataset {
    let schema = FeatureSchema::new(vec![
        Feature::numeric("age"),
        Feature {
            name: "region".into(),
            kind: FeatureKind::Categorical {
                levels: vec!["east".into(), "north".into(), "west".into()],
            },
        },
        Feature::numeric("income"),
        Feature {
            name: "owner".into(),
            kind: FeatureKind::Categorical {
                levels: vec!["no".into(), "yes".into()],
            },
        },
        Feature::numeric("score"),
    ]);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::<f64>::zeros((n, 5));
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        x[[i, 0]] = rng.gen_range(20.0..70.0);
        x[[i, 1]] = (i % 3) as f64;
        x[[i, 2]] = if i % 7 == 3 {
            f64::NAN
        } else {
            rng.gen_range(1.0..5.0)
        };
        x[[i, 3]] = if i % 11 == 5 {
            f64::NAN
        } else {
            (i % 2) as f64
        };
        x[[i, 4]] = rng.gen_range(-1.0..1.0);
        let eta = -1.0 + 0.02 * x[[i, 0]] + 0.3 * x[[i, 1]] + 0.5 * x[[i, 4]];
        y[i] = match family {
            Family::Binomial => f64::from(rng.gen::<f64>() < 1.0 / (1.0 + (-eta).exp())),
            _ => (eta.exp() * rng.gen_range(0.0..2.0)).floor(),
        };
    }
    let kind = match family {
        Family::Binomial => TargetKind::Binary {
            classes: vec!["0".into(), "1".into()],
        },
        _ => TargetKind::Continuous,
    };
    let target = TargetSpec {
        name: "y".into(),
        kind,
    };
    Dataset::from_parts(x, Some(y), schema, Some(target)).unwrap()
}

/// Interventional Shapley values of the raw output by enumeration of all 2^M coalitions:
/// v(S) = mean over background rows b of f(x_S, b_rest).
fn brute_force(model: &Glm, row: ArrayView1<f64>, background: &Array2<f64>) -> Vec<f64> {
    let m = row.len();
    let nb = background.nrows();
    let mut v = vec![0.0; 1 << m];
    for (s, vs) in v.iter_mut().enumerate() {
        let mut hybrid = background.clone();
        for i in 0..nb {
            for j in 0..m {
                if s & (1 << j) != 0 {
                    hybrid[[i, j]] = row[j];
                }
            }
        }
        *vs = model.predict_raw(hybrid.view()).mean().unwrap();
    }
    let fact = |k: usize| (1..=k).map(|v| v as f64).product::<f64>();
    let mut phi = vec![0.0; m];
    for (j, p) in phi.iter_mut().enumerate() {
        for s in 0..(1usize << m) {
            if s & (1 << j) != 0 {
                continue;
            }
            let k = s.count_ones() as usize;
            let w = fact(k) * fact(m - k - 1) / fact(m);
            *p += w * (v[s | (1 << j)] - v[s]);
        }
    }
    phi
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
        let phi = brute_force(&glm, rows.x().row(i), ds.x());
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
    let phi = brute_force(&glm, ds.x().row(0), ds.x());
    // Attributions against a different background (the first 10 rows) differ from those against
    // the training data, which is what the additive explainer uses.
    let other = brute_force(&glm, ds.x().row(0), &ds.head(10).x().clone());
    let diff: f64 = phi.iter().zip(&other).map(|(a, b)| (a - b).abs()).sum();
    assert!(diff > 1e-6, "the background must matter: {diff}");
}
