//! Structure of trained ensembles: valid trees, covers that are the training rows reaching each
//! node, save/load round trips, determinism across thread counts, early stopping, errors.

use glassbox::data::{Dataset, FeatureSchema, SchemaOptions, TargetKind, TargetSpec};
use glassbox::model::forest::ForestParams;
use glassbox::model::gbdt::GbdtParams;
use glassbox::model::{AnyModel, EnsembleSource, Link, Model, ModelError, Node, TreeEnsemble};
use ndarray::{array, Array1};

fn load(file: &str, target: &str) -> Dataset {
    Dataset::load_training(format!("data/{file}"), target, &SchemaOptions::default()).unwrap()
}

/// Every internal node's cover is the sum of its children's.
fn check_covers_add_up(model: &TreeEnsemble) {
    for (t, tree) in model.trees.iter().enumerate() {
        for (i, n) in tree.nodes.iter().enumerate() {
            if !n.is_leaf() {
                let sum = tree.nodes[n.left as usize].cover + tree.nodes[n.right as usize].cover;
                assert_eq!(n.cover, sum, "tree {t} node {i}");
            }
        }
    }
}

/// Routing the rows through each tree with the saved decision rule reaches each node exactly
/// `cover` times: the binned partition used in training and the thresholds agree.
fn check_covers_are_row_counts(model: &TreeEnsemble, ds: &Dataset) {
    for (t, tree) in model.trees.iter().enumerate() {
        let mut counts = vec![0.0; tree.nodes.len()];
        for row in ds.x().rows() {
            let row = row.to_vec();
            let mut i = 0usize;
            loop {
                counts[i] += 1.0;
                let n = &tree.nodes[i];
                if n.is_leaf() {
                    break;
                }
                i = n.next(row[n.feature as usize], &tree.category_words) as usize;
            }
        }
        for (i, n) in tree.nodes.iter().enumerate() {
            assert_eq!(n.cover, counts[i], "tree {t} node {i}");
        }
    }
}

#[test]
fn gbdt_trees_are_valid_and_covers_count_training_rows() {
    let ds = load("credit_scoring.csv", "bad");
    let (model, report) = GbdtParams::default().n_trees(15).seed(4).fit(&ds).unwrap();
    model.validate().unwrap();
    assert_eq!(model.trees.len(), 15);
    assert_eq!(report.rounds, 15);
    assert!(model
        .trees
        .iter()
        .all(|t| t.nodes.iter().filter(|n| n.is_leaf()).count() <= 31));
    check_covers_add_up(&model);
    check_covers_are_row_counts(&model, &ds);
    assert_eq!(model.link, Link::Logistic);
    assert_eq!(model.output_names, vec!["bad"]);
    assert_eq!(model.source, EnsembleSource::GradientBoosting);
    assert_eq!(model.schema, *ds.schema());
    assert!(!model.f32_inputs);
    // credit_scoring has missing values and categorical features: both kinds of node appear
    let nodes = || model.trees.iter().flat_map(|t| t.nodes.iter());
    assert!(nodes().any(|n| n.flags & Node::CATEGORICAL != 0));
    assert!(nodes().any(|n| !n.is_leaf() && n.flags & Node::CATEGORICAL == 0 && n.default_left()));
    // the base score is the log-odds of the positive rate
    let y = ds.y().unwrap();
    let p = y.mean().unwrap();
    assert!((model.base_score[0] - (p / (1.0 - p)).ln()).abs() < 1e-12);
}

#[test]
fn training_loss_decreases_and_matches_predictions() {
    let ds = load("german_credit.csv", "bad_credit");
    let (model, report) = GbdtParams::default().n_trees(30).seed(2).fit(&ds).unwrap();
    // the reported training loss is the log loss of the model's own predictions
    let p = model.predict(ds.x().view());
    let y = ds.y().unwrap();
    let logloss: f64 = p
        .column(0)
        .iter()
        .zip(y)
        .map(|(&q, &t)| -(t * q.ln() + (1.0 - t) * (1.0 - q).ln()))
        .sum::<f64>()
        / y.len() as f64;
    assert!(
        (logloss - report.train_loss).abs() < 1e-9,
        "{logloss} vs {}",
        report.train_loss
    );
    let base = 0.3f64;
    let base_loss = -(base * base.ln() + (1.0 - base) * (1.0 - base).ln());
    assert!(report.train_loss < base_loss - 0.1);
}

#[test]
fn forest_structure_and_probability_outputs() {
    let ds = load("german_credit.csv", "bad_credit");
    let (model, report) = ForestParams::default().n_trees(8).seed(3).fit(&ds).unwrap();
    model.validate().unwrap();
    check_covers_add_up(&model);
    assert_eq!(model.link, Link::Identity);
    assert_eq!(model.output_names, vec!["1"], "the positive class label");
    assert_eq!(model.source, EnsembleSource::RandomForest);
    assert_eq!(report.features_per_node, 4, "floor(sqrt(20))");
    // root covers count bootstrap rows with repeats: n per tree
    assert!(model.trees.iter().all(|t| t.nodes[0].cover == 1000.0));
    // leaves hold class-1 frequencies divided by the number of trees
    for tree in &model.trees {
        for n in tree.nodes.iter().filter(|n| n.is_leaf()) {
            assert!(n.value >= 0.0 && n.value <= 1.0 / 8.0 + 1e-15);
            assert!(n.cover >= 5.0, "min_samples_leaf");
        }
    }
    // out-of-bag Brier score: better than the constant 0.3 (0.21), not suspiciously perfect
    let oob = report.oob_loss.unwrap();
    assert_eq!(report.loss_name, "brier");
    assert!(oob > 0.1 && oob < 0.21, "oob brier {oob}");
}

#[test]
fn saved_and_reloaded_models_predict_identically() {
    let ds = load("credit_scoring.csv", "bad");
    let dir = tempfile::tempdir().unwrap();
    let (gbdt, _) = GbdtParams::default().n_trees(10).fit(&ds).unwrap();
    let (forest, _) = ForestParams::default().n_trees(5).fit(&ds).unwrap();
    for (name, model) in [("gbdt.json", gbdt), ("forest.json", forest)] {
        let path = dir.path().join(name);
        AnyModel::TreeEnsemble(model.clone()).save(&path).unwrap();
        let loaded = AnyModel::load(&path).unwrap();
        let back = loaded.as_trees().unwrap();
        assert_eq!(*back, model, "{name}");
        assert_eq!(
            back.predict_raw(ds.x().view()),
            model.predict_raw(ds.x().view()),
            "{name}"
        );
    }
}

fn json_at(threads: usize, fit: impl Fn() -> TreeEnsemble + Send + Sync) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let model = pool.install(fit);
    serde_json::to_string(&model).unwrap()
}

#[test]
fn same_seed_same_model_at_one_and_two_threads() {
    let ds = load("credit_scoring.csv", "bad");
    let gbdt = || {
        GbdtParams::default()
            .n_trees(25)
            .subsample(0.7)
            .colsample(0.6)
            .early_stopping_rounds(Some(5))
            .seed(11)
            .fit(&ds)
            .unwrap()
            .0
    };
    let one = json_at(1, gbdt);
    assert_eq!(one, json_at(2, gbdt));
    assert_eq!(one, json_at(2, gbdt), "repeated runs agree");
    let other_seed = GbdtParams::default()
        .n_trees(25)
        .subsample(0.7)
        .colsample(0.6)
        .early_stopping_rounds(Some(5))
        .seed(12)
        .fit(&ds)
        .unwrap()
        .0;
    assert_ne!(
        one,
        serde_json::to_string(&other_seed).unwrap(),
        "the seed matters"
    );
    let forest = || {
        ForestParams::default()
            .n_trees(6)
            .seed(5)
            .fit(&ds)
            .unwrap()
            .0
    };
    assert_eq!(json_at(1, forest), json_at(2, forest));
}

#[test]
fn early_stopping_keeps_the_best_round() {
    let ds = load("german_credit.csv", "bad_credit");
    let (model, report) = GbdtParams::default()
        .n_trees(300)
        .learning_rate(0.3)
        .early_stopping_rounds(Some(10))
        .seed(9)
        .fit(&ds)
        .unwrap();
    assert!(
        report.stopped_early,
        "a high learning rate overfits 900 rows quickly"
    );
    assert_eq!(report.n_validation_rows, 100);
    assert_eq!(report.n_train_rows, 900);
    assert_eq!(report.rounds_trained, report.validation_loss.len());
    assert_eq!(report.rounds_trained, report.rounds + 10);
    assert_eq!(model.trees.len(), report.rounds);
    let best = report
        .validation_loss
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    assert_eq!(report.best_validation_loss, Some(best));
    assert_eq!(report.validation_loss[report.rounds - 1], best);
}

#[test]
fn max_depth_and_min_samples_leaf_are_respected() {
    let ds = load("credit_scoring.csv", "bad");
    let (model, _) = GbdtParams::default()
        .n_trees(5)
        .max_leaves(None)
        .max_depth(Some(3))
        .min_samples_leaf(50)
        .fit(&ds)
        .unwrap();
    for tree in &model.trees {
        assert!(tree.max_depth() <= 3);
        assert!(tree
            .nodes
            .iter()
            .filter(|n| n.is_leaf())
            .all(|n| n.cover >= 50.0));
    }
}

#[test]
fn regression_and_constant_features() {
    // y = 3 * [x0 > 0.5]; x1 constant; x2 all missing
    let n = 200;
    let x0: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
    let mut x = ndarray::Array2::zeros((n, 3));
    for i in 0..n {
        x[[i, 0]] = x0[i];
        x[[i, 1]] = 7.0;
        x[[i, 2]] = f64::NAN;
    }
    let y = Array1::from_iter(x0.iter().map(|&v| if v > 0.5 { 3.0 } else { 0.0 }));
    let target = TargetSpec {
        name: "y".into(),
        kind: TargetKind::Continuous,
    };
    let ds = Dataset::from_parts(
        x,
        Some(y),
        FeatureSchema::numeric(["a", "b", "c"]),
        Some(target),
    )
    .unwrap();
    let (model, report) = GbdtParams::default()
        .n_trees(50)
        .learning_rate(0.5)
        .fit(&ds)
        .unwrap();
    assert!(report.train_loss < 1e-6, "{report:?}");
    assert!(model
        .trees
        .iter()
        .flat_map(|t| &t.nodes)
        .all(|n| n.is_leaf() || n.feature == 0));
    let p = model.predict(array![[0.9, 7.0, f64::NAN], [0.1, 7.0, f64::NAN]].view());
    assert!((p[[0, 0]] - 3.0).abs() < 1e-3 && p[[1, 0]].abs() < 1e-3);
    let (forest, _) = ForestParams::default()
        .n_trees(10)
        .min_samples_leaf(1)
        .fit(&ds)
        .unwrap();
    let p = forest.predict(array![[0.9, 7.0, f64::NAN], [0.1, 7.0, f64::NAN]].view());
    assert!(
        (p[[0, 0]] - 3.0).abs() < 0.5 && p[[1, 0]].abs() < 0.5,
        "{p:?}"
    );
}

#[test]
fn training_errors_are_clear() {
    let schema = FeatureSchema::numeric(["a"]);
    let x = array![[1.0], [2.0], [3.0]];
    let no_target = Dataset::from_parts(x.clone(), None, schema.clone(), None).unwrap();
    let err = GbdtParams::default().fit(&no_target).unwrap_err();
    assert!(
        matches!(err, ModelError::Training(_)) && err.to_string().contains("no target"),
        "{err}"
    );
    let binary = TargetSpec {
        name: "t".into(),
        kind: TargetKind::Binary {
            classes: vec!["no".into(), "yes".into()],
        },
    };
    let bad_y = Dataset::from_parts(
        x.clone(),
        Some(array![0.0, 1.0, 2.0]),
        schema.clone(),
        Some(binary),
    )
    .unwrap();
    let err = GbdtParams::default().fit(&bad_y).unwrap_err();
    assert!(err.to_string().contains("row 3"), "{err}");
    let multi = TargetSpec {
        name: "t".into(),
        kind: TargetKind::Multiclass {
            classes: vec!["a".into(), "b".into(), "c".into()],
        },
    };
    let ds = Dataset::from_parts(x, Some(array![0.0, 1.0, 2.0]), schema, Some(multi)).unwrap();
    // multiclass forests are supported (tests/forest_multiclass.rs): one output per class
    let (forest, _) = ForestParams::default().n_trees(2).fit(&ds).unwrap();
    assert_eq!(forest.output_names, vec!["a", "b", "c"]);
    let err = GbdtParams::default()
        .learning_rate(2.0)
        .fit(&ds)
        .unwrap_err();
    assert!(matches!(
        err,
        ModelError::InvalidParam {
            name: "learning_rate",
            ..
        }
    ));
    let err = GbdtParams::default()
        .validation_fraction(Some(0.1))
        .fit(&ds)
        .unwrap_err();
    assert!(err.to_string().contains("validation"), "{err}");
}
