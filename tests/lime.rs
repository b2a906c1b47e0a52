//! LIME: recovers a linear model, follows its stated width rule, measures stability, is stable on
//! german_credit with a GLM, and is deterministic.

mod agnostic;

use std::path::Path;

use agnostic::{random_data, random_model, Term, TermModel};
use glassbox::data::{Dataset, FeatureSchema, SchemaOptions};
use glassbox::explain::lime::{
    explain_lime, Discretize, FeatureSelection, KernelWidth, LimeParams,
};
use glassbox::explain::{
    explain, Diagnostics, ExplainError, ExplainOptions, Explanation, LimeDiagnostics, Method,
    OutputSpace,
};
use glassbox::model::glm::{Family, GlmParams};
use glassbox::model::{AnyModel, Link};
use ndarray::{s, Array2};

fn diagnostics(e: &Explanation) -> &LimeDiagnostics {
    match &e.meta().diagnostics {
        Some(Diagnostics::Lime(d)) => d,
        other => panic!("expected LIME diagnostics, got {other:?}"),
    }
}

fn run(
    model: &TermModel,
    x: &Array2<f64>,
    train: &Array2<f64>,
    p: LimeParams,
    seed: u64,
) -> Explanation {
    let opts = ExplainOptions {
        seed,
        ..ExplainOptions::default()
    };
    explain_lime(model, x.view(), train.view(), &p, &opts).unwrap()
}

fn linear(beta: &[f64]) -> TermModel {
    TermModel {
        schema: FeatureSchema::numeric((0..beta.len()).map(|j| format!("x{j}"))),
        outputs: vec!["y".into()],
        link: Link::Identity,
        intercept: vec![0.5],
        terms: vec![beta
            .iter()
            .enumerate()
            .map(|(j, &b)| Term::Linear(j, b))
            .collect()],
    }
}

/// Continuous mode on f(x) = 0.5 + Σ βⱼ xⱼ: the values are βⱼ (xⱼ − meanⱼ) up to ridge
/// shrinkage, so signs and ranks are recovered; the fit is perfect at every width, so the tuned
/// width is the largest of the grid.
#[test]
fn recovers_a_linear_model() {
    let beta = [2.0, -1.0, 0.5, -0.25, 0.0, 1.5];
    let model = linear(&beta);
    let train = random_data(500, 6, 1);
    let x = random_data(5, 6, 2);
    let p = LimeParams::default()
        .discretize(Discretize::None)
        .feature_selection(FeatureSelection::None);
    let e = run(&model, &x, &train, p, 0);
    let d = diagnostics(&e);
    let mean: Vec<f64> = (0..6).map(|j| train.column(j).mean().unwrap()).collect();
    let grid_max = 0.75 * 6f64.sqrt() * 4.0;
    for i in 0..x.nrows() {
        for j in 0..6 {
            let want = beta[j] * (x[[i, j]] - mean[j]);
            let got = e.values()[[i, 0, j]];
            assert!(
                (got - want).abs() < 0.01 * want.abs().max(0.1),
                "row {i} feature {j}: {got} vs {want}"
            );
        }
        assert!(d.r2_fit[i] > 0.9999 && d.r2_holdout[i] > 0.9999);
        assert!(
            (d.kernel_width[i] - grid_max).abs() < 1e-12,
            "{}",
            d.kernel_width[i]
        );
        // base + Σ values = the surrogate at x = the model at x (the model is linear).
        assert!((d.local_prediction[i] - d.model_prediction[i]).abs() < 1e-2);
    }
    // Ranks of the coefficients: |β sd| ordering (sd is about equal across features here).
    let coef: Vec<f64> = (0..6)
        .map(|j| e.values()[[0, 0, j]] / (x[[0, j]] - mean[j]))
        .collect();
    let mut by_model: Vec<usize> = (0..6).collect();
    by_model.sort_by(|&a, &b| beta[b].abs().total_cmp(&beta[a].abs()));
    let mut by_lime: Vec<usize> = (0..6).collect();
    by_lime.sort_by(|&a, &b| coef[b].abs().total_cmp(&coef[a].abs()));
    assert_eq!(by_model, by_lime);
}

/// Discretised (lime's default): the coefficient of "in x's quartile bin" has the sign of
/// βⱼ · (xⱼ − median) for rows in an outer quartile of every feature.
#[test]
fn discretised_signs_follow_the_linear_model() {
    let beta = [2.0, -1.0, 0.5, -1.5];
    let model = linear(&beta);
    let train = random_data(1000, 4, 3);
    let mut x = Array2::zeros((4, 4));
    for i in 0..4 {
        for j in 0..4 {
            // Far in the upper or lower tail, per a fixed pattern.
            x[[i, j]] = if (i + j) % 2 == 0 { 2.5 } else { -2.5 };
        }
    }
    let e = run(&model, &x, &train, LimeParams::default(), 0);
    for i in 0..4 {
        for j in 0..4 {
            let want = (beta[j] * x[[i, j]]).signum();
            assert_eq!(e.values()[[i, 0, j]].signum(), want, "row {i} feature {j}");
        }
    }
}

/// The tuned width is the largest grid width whose held-out R² is at least
/// min(target, best − 0.05): checked against fixed-width runs, which draw the same samples.
#[test]
fn tuned_width_follows_the_stated_rule() {
    let m = 8;
    let model = random_model(m, Link::Logistic, 5);
    let train = random_data(400, m, 6);
    let x = random_data(3, m, 7);
    let base = LimeParams::default().samples(2000).holdout(500);
    let mut opts = ExplainOptions::default();
    opts.output_space = OutputSpace::Probability;
    let tuned = explain_lime(&model, x.view(), train.view(), &base, &opts).unwrap();
    let d = diagnostics(&tuned).clone();
    let grid: Vec<f64> = (-8..=4)
        .map(|i| 0.75 * (m as f64).sqrt() * 2f64.powf(i as f64 / 2.0))
        .collect();
    let fixed: Vec<LimeDiagnostics> = grid
        .iter()
        .map(|&w| {
            let p = base.clone().kernel_width(KernelWidth::Fixed(w));
            diagnostics(&explain_lime(&model, x.view(), train.view(), &p, &opts).unwrap()).clone()
        })
        .collect();
    let mut differs_from_default = false;
    for i in 0..x.nrows() {
        let r2: Vec<f64> = fixed.iter().map(|f| f.r2_holdout[i]).collect();
        let chosen = grid
            .iter()
            .position(|&w| w == d.kernel_width[i])
            .expect("the tuned width is a grid width");
        assert_eq!(d.r2_holdout[i], r2[chosen]);
        // Every larger width misses the threshold; the chosen one meets it. (All grid widths
        // are eligible here: 2000 samples keep the effective sample size large enough.)
        let best = r2.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let threshold = 0.9f64.min(best - 0.05);
        assert!(r2[chosen] >= threshold, "row {i}: {r2:?}");
        for (w, r) in grid.iter().zip(&r2).skip(chosen + 1) {
            assert!(
                *r < threshold,
                "row {i}: width {w} has R² {r} ≥ {threshold}"
            );
        }
        differs_from_default |= chosen != 8;
    }
    assert!(differs_from_default, "widths {:?}", d.kernel_width);
}

#[test]
fn stability_indices_are_reported() {
    let m = 8;
    let model = random_model(m, Link::Identity, 8);
    let train = random_data(300, m, 9);
    let x = random_data(3, m, 10);
    let p = LimeParams::default()
        .samples(1000)
        .num_features(4)
        .repeats(4);
    let e = run(&model, &x, &train, p, 1);
    let d = diagnostics(&e);
    for i in 0..3 {
        for v in [d.vsi[i], d.csi[i], d.top_k_jaccard[i]] {
            assert!((0.0..=1.0).contains(&v), "{v}");
        }
    }
    // One run: no stability.
    let e = run(&model, &x, &train, LimeParams::default().samples(1000), 1);
    assert!(diagnostics(&e).vsi.iter().all(|v| v.is_nan()));
}

/// german_credit, binomial GLM, log-odds, lime's defaults with the tuned width, 5 seeds per row,
/// 20 rows: how often the top-5 features agree across seeds (mean pairwise Jaccard; each seed is
/// an independent scramble of the Sobol' sequence).
///
/// Measured (this test's output): at lime's 5000 samples 1.000 with the tuned width (mean 12.8)
/// and 1.000 with lime's 0.75·√M; 0.993 at 20 000 samples. With independent draws (before the
/// randomised Sobol' sampler) it was 0.85 at 5000 and 0.95 at 20 000: for an additive model the
/// instability was sampling noise between features, which the scrambled net balances out.
#[test]
fn german_credit_glm_top5_is_stable_across_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ds = Dataset::load_training(
        root.join("data/german_credit.csv"),
        "bad_credit",
        &SchemaOptions::default(),
    )
    .unwrap();
    let glm = AnyModel::Glm(
        GlmParams::new(Family::Binomial)
            .fit(&ds, None, None)
            .unwrap(),
    );
    let rows = ds.x().slice(s![..20, ..]);
    let err = explain(&glm, rows, Method::Lime, None, &ExplainOptions::default()).unwrap_err();
    assert!(err.to_string().contains("--background"), "{err}");
    let mut mean_jaccard = Vec::new();
    for (name, width, samples) in [
        ("tuned", KernelWidth::Tuned { target_r2: 0.9 }, 5000),
        ("lime default", KernelWidth::LimeDefault, 5000),
        ("tuned", KernelWidth::Tuned { target_r2: 0.9 }, 20_000),
    ] {
        let opts = ExplainOptions {
            seed: 3,
            lime: LimeParams::default()
                .repeats(5)
                .kernel_width(width)
                .samples(samples),
            ..ExplainOptions::default()
        };
        let e = explain(&glm, rows, Method::Lime, Some(ds.x().view()), &opts).unwrap();
        let d = diagnostics(&e);
        let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let j = avg(&d.top_k_jaccard);
        eprintln!(
            "german GLM, {name} width, {samples} samples: mean top-5 Jaccard {j:.3}, VSI {:.3}, CSI {:.3}, held-out R² {:.3}, mean width {:.2}",
            avg(&d.vsi),
            avg(&d.csi),
            avg(&d.r2_holdout),
            avg(&d.kernel_width)
        );
        mean_jaccard.push(j);
    }
    assert!(
        mean_jaccard[2] >= 0.9,
        "tuned, 20 000 samples: {}",
        mean_jaccard[2]
    );
    assert!(
        mean_jaccard[0] >= 0.9,
        "tuned, 5000 samples: {}",
        mean_jaccard[0]
    );
}

#[test]
fn deterministic_across_threads_and_chunks() {
    let m = 10;
    let model = random_model(m, Link::Logistic, 11);
    let train = random_data(200, m, 12);
    let x = random_data(8, m, 13);
    let p = LimeParams::default().samples(800).holdout(200).repeats(2);
    let go = |threads: usize, rows: std::ops::Range<usize>, offset: usize| {
        let opts = ExplainOptions {
            seed: 4,
            row_offset: offset,
            ..ExplainOptions::default()
        };
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                explain_lime(&model, x.slice(s![rows, ..]), train.view(), &p, &opts).unwrap()
            })
    };
    let bits = |e: &Explanation| -> Vec<u64> {
        let d = diagnostics(e);
        e.values()
            .iter()
            .chain(e.base_values().iter())
            .chain(d.kernel_width.iter())
            .chain(d.csi.iter())
            .map(|v| v.to_bits())
            .collect()
    };
    let one = go(1, 0..8, 0);
    assert_eq!(bits(&one), bits(&go(2, 0..8, 0)));
    let tail = go(2, 3..8, 3);
    assert_eq!(bits(&tail), bits(&one.select_rows(&[3, 4, 5, 6, 7])));
}

#[test]
fn bad_input_is_an_error() {
    let model = random_model(4, Link::Identity, 14);
    let train = random_data(20, 4, 15);
    let x = random_data(2, 4, 16);
    let opts = ExplainOptions::default();
    let err = explain_lime(
        &model,
        x.view(),
        train.view(),
        &LimeParams::default().samples(3),
        &opts,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ExplainError::InvalidParam {
                name: "--samples",
                ..
            }
        ),
        "{err}"
    );
    let err = explain_lime(
        &model,
        x.view(),
        train.view(),
        &LimeParams::default().kernel_width(KernelWidth::Fixed(-1.0)),
        &opts,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ExplainError::InvalidParam {
                name: "--kernel-width",
                ..
            }
        ),
        "{err}"
    );
    let empty = Array2::<f64>::zeros((0, 4));
    let err = explain_lime(
        &model,
        x.view(),
        empty.view(),
        &LimeParams::default(),
        &opts,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no rows"), "{err}");
}

/// The fast paths a tree ensemble takes — the branch-free flat predictor for the shared pool and,
/// with every feature discretised, the byte-packed match masks — against the general path, taken
/// when the same model is seen only through the `Model` trait (reference: the ensemble's own
/// `predict_raw_into` and the per-sample Grams). The XGBoost german_credit fixture has 61 one-hot
/// and numeric features; results must agree bit for bit, repeats and held-out R² included.
#[test]
fn tree_ensemble_fast_paths_match_the_generic_model_path() {
    struct Opaque<'a>(&'a glassbox::model::TreeEnsemble);
    impl glassbox::model::Model for Opaque<'_> {
        fn schema(&self) -> &FeatureSchema {
            self.0.schema()
        }
        fn output_names(&self) -> &[String] {
            self.0.output_names()
        }
        fn link(&self) -> Link {
            self.0.link()
        }
        fn predict_raw_into(&self, x: ndarray::ArrayView2<f64>, out: ndarray::ArrayViewMut2<f64>) {
            self.0.predict_raw_into(x, out)
        }
    }
    use glassbox::model::Model;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xgb_german_binary");
    let model = AnyModel::load(root.join("model.json")).unwrap();
    let ens = model.as_trees().unwrap();
    let data = Dataset::load_with_schema(
        root.join("features.csv"),
        ens.schema(),
        None,
        glassbox::data::UnseenPolicy::Error,
    )
    .unwrap();
    let x = data.x().slice(s![..3, ..]).to_owned();
    let p = LimeParams::default().samples(700).holdout(150).repeats(2);
    let opts = ExplainOptions {
        seed: 9,
        output_space: OutputSpace::Probability,
        ..ExplainOptions::default()
    };
    let fast = explain_lime(ens, x.view(), data.x().view(), &p, &opts).unwrap();
    let generic = explain_lime(&Opaque(ens), x.view(), data.x().view(), &p, &opts).unwrap();
    let bits = |e: &Explanation| -> Vec<u64> {
        let d = diagnostics(e);
        e.values()
            .iter()
            .chain(e.base_values().iter())
            .chain(d.r2_holdout.iter())
            .chain(d.kernel_width.iter())
            .chain(d.csi.iter())
            .map(|v| v.to_bits())
            .collect()
    };
    assert_eq!(bits(&fast), bits(&generic));
    assert!(fast.values().iter().any(|v| *v != 0.0));
}
