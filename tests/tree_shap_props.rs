//! Property tests of exact Tree SHAP against brute-force Shapley values.
//!
//! Small random ensembles are built directly as `Tree`s (≤ 8 features, depth ≤ 5, features
//! repeated on paths, missing values with random default directions, LightGBM's missing
//! conventions, categorical splits, occasional zero covers) from a proptest-chosen seed. The
//! reference games are written out here from their definitions and solved by enumerating all
//! `2^M` coalitions:
//! - path-dependent: `v(S)` = the tree's expectation when features outside `S` follow both
//!   branches weighted by cover;
//! - interventional: `v(S) = mean_z f(x_S, z_S̄)`, in raw or probability space;
//! - interactions: the Shapley interaction index, halved, with main effects on the diagonal.

#![allow(clippy::needless_range_loop)]

use glassbox::data::FeatureSchema;
use glassbox::explain::tree_shap::{
    InteractionShap, InterventionalAlgorithm, InterventionalTreeShap, TreeShap,
};
use glassbox::explain::OutputSpace;
use glassbox::model::{EnsembleSource, Link, Model, Node, Tree, TreeEnsemble};
use ndarray::Array2;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "common/shapley_games.rs"]
mod shapley_games;
use shapley_games::{brute_shapley, close, iv_game, pd_output_game, weight};

const VALUES: [f64; 8] = [f64::NAN, 0.0, 1.0, 2.0, 3.0, 4.0, 0.7, -1.0];

fn gen_node(rng: &mut ChaCha8Rng, m: usize, depth: usize, max_depth: usize, t: &mut Tree) -> u32 {
    let idx = t.nodes.len() as u32;
    t.nodes.push(Node::leaf(0.0, 0.0));
    let stop = depth == max_depth || (depth > 0 && rng.gen_bool(0.25));
    if stop {
        let cover = if rng.gen_bool(0.05) {
            0.0
        } else {
            rng.gen_range(0.5..10.0)
        };
        t.nodes[idx as usize] = Node::leaf(rng.gen_range(-5.0..5.0), cover);
        return idx;
    }
    let feature = rng.gen_range(0..m) as u32;
    let left = gen_node(rng, m, depth + 1, max_depth, t);
    let right = gen_node(rng, m, depth + 1, max_depth, t);
    let cover = t.nodes[left as usize].cover + t.nodes[right as usize].cover;
    let threshold = [0.5, 1.5, 2.5, 3.5, 1.0][rng.gen_range(0..5)];
    let mut node = Node::numeric_split(feature, threshold, left, right, rng.gen_bool(0.5), cover);
    match rng.gen_range(0..10) {
        0 | 1 => {
            // Categorical: a random set of the codes 0..6 goes one way.
            node.flags |= Node::CATEGORICAL;
            if rng.gen_bool(0.5) {
                node.flags |= Node::CATEGORY_LEFT;
            }
            node.cat_start = t.category_words.len() as u32;
            node.cat_len = 1;
            t.category_words.push(rng.gen_range(0..64u64));
        }
        2 => node.flags |= Node::ZERO_AS_MISSING,
        3 => node.flags |= Node::NAN_AS_ZERO,
        _ => {}
    }
    t.nodes[idx as usize] = node;
    idx
}

fn gen_ensemble(seed: u64, m: usize, n_trees: usize, max_depth: usize, k: usize) -> TreeEnsemble {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut trees = Vec::new();
    let mut tree_output = Vec::new();
    for t in 0..n_trees {
        let mut tree = Tree::default();
        gen_node(&mut rng, m, 0, max_depth, &mut tree);
        trees.push(tree);
        tree_output.push((t % k) as u32);
    }
    TreeEnsemble {
        schema: FeatureSchema::numeric((0..m).map(|j| format!("f{j}"))),
        target: None,
        trees,
        tree_output,
        base_score: (0..k).map(|o| 0.1 * o as f64 - 0.2).collect(),
        link: match k {
            1 => Link::Logistic,
            _ => Link::Softmax,
        },
        output_names: (0..k).map(|o| format!("out{o}")).collect(),
        f32_inputs: rng.gen_bool(0.3),
        source: EnsembleSource::GradientBoosting,
    }
}

fn gen_rows(seed: u64, n: usize, m: usize) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9);
    Array2::from_shape_fn((n, m), |_| VALUES[rng.gen_range(0..VALUES.len())])
}

/// Shapley interaction index halved off the diagonal, main effects on it.
fn brute_interactions(m: usize, v: &dyn Fn(u32) -> f64) -> Vec<Vec<f64>> {
    let vals: Vec<f64> = (0..1u32 << m).map(v).collect();
    let phi = brute_shapley(m, v);
    let mut out = vec![vec![0.0; m]; m];
    for i in 0..m {
        for j in 0..m {
            if i == j {
                continue;
            }
            let mut sum = 0.0;
            for s in 0..1u32 << m {
                if s >> i & 1 == 1 || s >> j & 1 == 1 {
                    continue;
                }
                let sz = s.count_ones() as usize;
                // |S|! (M-|S|-2)! / (2 (M-1)!) = weight(sz, m-1) / 2
                let w = weight(sz, m - 1) / 2.0;
                let (si, sj) = (s | 1 << i, s | 1 << j);
                sum += w
                    * (vals[(si | 1 << j) as usize] - vals[si as usize] - vals[sj as usize]
                        + vals[s as usize]);
            }
            out[i][j] = sum;
        }
        out[i][i] = phi[i] - (0..m).filter(|&j| j != i).map(|j| out[i][j]).sum::<f64>();
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn path_dependent_matches_brute_force(seed in any::<u64>(), m in 1usize..=8, n_trees in 1usize..=4, depth in 1usize..=5, k in 1usize..=2) {
        let ens = gen_ensemble(seed, m, n_trees, depth, k);
        let x = gen_rows(seed, 4, m);
        let shap = TreeShap::new(&ens).unwrap();
        // The run-time guard (local accuracy) must pass.
        let e = shap.explain(x.view(), 1e-9).unwrap();
        for (r, row) in x.rows().into_iter().enumerate() {
            let row = row.to_vec();
            for out in 0..k {
                let game = pd_output_game(&ens, out, &row);
                let want = brute_shapley(m, &game);
                prop_assert!(close(e.base_values()[[r, out]], game(0), 1e-12));
                for j in 0..m {
                    let got = e.values()[[r, out, j]];
                    prop_assert!(close(got, want[j], 1e-10), "row {r} out {out} feature {j}: {got} vs {}", want[j]);
                }
            }
        }
    }

    #[test]
    fn interventional_matches_brute_force(seed in any::<u64>(), m in 1usize..=7, n_trees in 1usize..=4, depth in 1usize..=5, k in 1usize..=3) {
        let ens = gen_ensemble(seed, m, n_trees, depth, k);
        let x = gen_rows(seed, 3, m);
        let bg = gen_rows(seed.wrapping_add(1), 5, m);
        let cases = [
            (OutputSpace::Raw, InterventionalAlgorithm::PerPair),
            (OutputSpace::Raw, InterventionalAlgorithm::LeafTables),
            (OutputSpace::Probability, InterventionalAlgorithm::Auto),
        ];
        for (space, algorithm) in cases {
            let iv = InterventionalTreeShap::new(&ens, bg.view()).unwrap().with_algorithm(algorithm);
            let e = iv.explain(x.view(), space, 1e-9).unwrap();
            for (r, row) in x.rows().into_iter().enumerate() {
                let row = row.to_vec();
                for out in 0..k {
                    let game = iv_game(&ens, out, &row, bg.view(), space);
                    let want = brute_shapley(m, &game);
                    prop_assert!(close(e.base_values()[[r, out]], game(0), 1e-12));
                    for j in 0..m {
                        let got = e.values()[[r, out, j]];
                        prop_assert!(close(got, want[j], 1e-10), "{space:?} {algorithm:?} row {r} out {out} feature {j}: {got} vs {}", want[j]);
                    }
                }
            }
        }
    }

    #[test]
    fn interactions_match_brute_force(seed in any::<u64>(), m in 2usize..=6, n_trees in 1usize..=3, depth in 1usize..=5, k in 1usize..=2) {
        let ens = gen_ensemble(seed, m, n_trees, depth, k);
        let x = gen_rows(seed, 3, m);
        let ix = InteractionShap::new(&ens).unwrap();
        let full = ix.full(x.view()).unwrap();
        let shap = TreeShap::new(&ens).unwrap();
        let phi = shap.values(x.view()).unwrap();
        for (r, row) in x.rows().into_iter().enumerate() {
            let row = row.to_vec();
            for out in 0..k {
                let game = pd_output_game(&ens, out, &row);
                let want = brute_interactions(m, &game);
                for i in 0..m {
                    for j in 0..m {
                        let got = full[[r, out, i, j]];
                        prop_assert!(close(got, want[i][j], 1e-10), "row {r} out {out} ({i},{j}): {got} vs {}", want[i][j]);
                    }
                    // Rows of the matrix sum to the SHAP values; bias row/column zero.
                    let row_sum: f64 = (0..m).map(|j| full[[r, out, i, j]]).sum();
                    prop_assert!(close(row_sum, phi[[r, out, i]], 1e-10));
                    prop_assert_eq!(full[[r, out, i, m]], 0.0);
                    prop_assert_eq!(full[[r, out, m, i]], 0.0);
                }
                prop_assert!(close(full[[r, out, m, m]], shap.base_values()[out], 1e-12));
            }
        }
        // Subsets and top-k agree with the full tensor.
        let chosen: Vec<usize> = (0..m).rev().step_by(2).collect();
        let sub = ix.among(x.view(), &chosen).unwrap();
        let top = ix.top_pairs(x.view(), 3).unwrap();
        for r in 0..x.nrows() {
            for out in 0..k {
                for (a, &i) in chosen.iter().enumerate() {
                    for (b, &j) in chosen.iter().enumerate() {
                        prop_assert_eq!(sub.values[[r, out, a, b]], full[[r, out, i, j]]);
                    }
                }
                let t = &top[r * k + out];
                prop_assert_eq!((t.row, t.output), (r, out));
                let mut all: Vec<f64> = (0..m).flat_map(|i| (i + 1..m).map(move |j| (i, j)))
                    .map(|(i, j)| full[[r, out, i, j]].abs()).filter(|v| *v != 0.0).collect();
                all.sort_by(|a, b| b.total_cmp(a));
                prop_assert_eq!(t.pairs.len(), all.len().min(3));
                for (p, want) in t.pairs.iter().zip(&all) {
                    prop_assert!(p.i < p.j);
                    prop_assert_eq!(p.value, full[[r, out, p.i, p.j]]);
                    prop_assert_eq!(p.value.abs(), *want);
                }
            }
        }
    }

    /// Features no tree splits on get exactly zero; swapping two interchangeable features swaps
    /// their attributions (symmetry).
    #[test]
    fn dummy_and_symmetry(seed in any::<u64>(), m in 2usize..=6, depth in 1usize..=4) {
        // Trees use only features 0..m; the model has m + 2 features.
        let mut ens = gen_ensemble(seed, m, 2, depth, 1);
        ens.schema = FeatureSchema::numeric((0..m + 2).map(|j| format!("f{j}")));
        // Make the model symmetric in features 0 and 1: add each tree with 0 and 1 swapped.
        let swapped: Vec<Tree> = ens.trees.iter().map(|t| {
            let mut t = t.clone();
            for n in t.nodes.iter_mut().filter(|n| !n.is_leaf()) {
                n.feature = match n.feature { 0 => 1, 1 => 0, f => f };
            }
            t
        }).collect();
        ens.trees.extend(swapped);
        ens.tree_output = vec![0; ens.trees.len()];
        let mut x = gen_rows(seed, 4, m + 2);
        let bg = gen_rows(seed.wrapping_add(7), 4, m + 2);
        let mut bg_sym = bg.clone();
        for r in 0..x.nrows() { x[[r, 1]] = x[[r, 0]]; }
        for r in 0..bg_sym.nrows() { bg_sym[[r, 1]] = bg_sym[[r, 0]]; }
        let pd = TreeShap::new(&ens).unwrap().values(x.view()).unwrap();
        let iv = InterventionalTreeShap::new(&ens, bg_sym.view()).unwrap()
            .explain(x.view(), OutputSpace::Raw, 1e-9).unwrap();
        let ivp = InterventionalTreeShap::new(&ens, bg_sym.view()).unwrap()
            .explain(x.view(), OutputSpace::Probability, 1e-9).unwrap();
        for r in 0..x.nrows() {
            for v in [&pd, iv.values(), ivp.values()] {
                prop_assert_eq!(v[[r, 0, m]], 0.0);
                prop_assert_eq!(v[[r, 0, m + 1]], 0.0);
                prop_assert!(close(v[[r, 0, 0]], v[[r, 0, 1]], 1e-12), "{} vs {}", v[[r, 0, 0]], v[[r, 0, 1]]);
            }
        }
        // Interventional: a feature on which x equals every background row is a dummy.
        let mut x2 = x.clone();
        let mut bg2 = bg.clone();
        for r in 0..bg2.nrows() { bg2[[r, 2 % m]] = 3.0; }
        for r in 0..x2.nrows() { x2[[r, 2 % m]] = 3.0; }
        for algorithm in [InterventionalAlgorithm::PerPair, InterventionalAlgorithm::LeafTables] {
            let iv2 = InterventionalTreeShap::new(&ens, bg2.view()).unwrap().with_algorithm(algorithm)
                .values(x2.view(), OutputSpace::Raw).unwrap();
            for r in 0..x2.nrows() {
                prop_assert!(iv2[[r, 0, 2 % m]].abs() < 1e-12, "{algorithm:?}: {}", iv2[[r, 0, 2 % m]]);
            }
        }
    }
}

/// The guard fails loudly when told a wrong model output (the harness can fail).
#[test]
fn additivity_guard_fails_on_wrong_output() {
    let ens = gen_ensemble(3, 4, 3, 4, 1);
    let x = gen_rows(3, 5, 4);
    let e = TreeShap::new(&ens)
        .unwrap()
        .explain(x.view(), 1e-9)
        .unwrap();
    let mut wrong = ens.predict_raw(x.view());
    wrong[[2, 0]] += 1e-3;
    let err = e
        .check_additivity(wrong.view(), 1e-6)
        .unwrap_err()
        .to_string();
    assert!(err.contains("row 2"), "{err}");
}

fn max_distinct_on_path(t: &Tree, k: usize, path: &mut Vec<u32>) -> usize {
    let node = &t.nodes[k];
    if node.is_leaf() {
        let mut f = path.clone();
        f.sort_unstable();
        f.dedup();
        return f.len();
    }
    path.push(node.feature);
    let d = max_distinct_on_path(t, node.left as usize, path).max(max_distinct_on_path(
        t,
        node.right as usize,
        path,
    ));
    path.pop();
    d
}

/// Deep trees with many distinct features per path use larger quadrature rules; still exact.
#[test]
fn deep_tree_matches_brute_force() {
    let m = 12;
    let mut deepest = 0;
    for seed in 0..6 {
        let ens = gen_ensemble(seed, m, 2, 14, 1);
        for t in &ens.trees {
            deepest = deepest.max(max_distinct_on_path(t, 0, &mut Vec::new()));
        }
        let x = gen_rows(seed, 2, m);
        let e = TreeShap::new(&ens)
            .unwrap()
            .explain(x.view(), 1e-9)
            .unwrap();
        for (r, row) in x.rows().into_iter().enumerate() {
            let row = row.to_vec();
            let want = brute_shapley(m, &pd_output_game(&ens, 0, &row));
            for j in 0..m {
                assert!(
                    close(e.values()[[r, 0, j]], want[j], 1e-10),
                    "seed {seed} row {r} f{j}"
                );
            }
        }
    }
    // Some path must need more than 8 quadrature points' worth of features (Q > 4).
    assert!(
        deepest >= 9,
        "deepest path has only {deepest} distinct features"
    );
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let ens = gen_ensemble(11, 6, 20, 5, 2);
    let x = gen_rows(11, 300, 6);
    let bg = gen_rows(12, 20, 6);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                TreeShap::new(&ens).unwrap().values(x.view()).unwrap(),
                InterventionalTreeShap::new(&ens, bg.view())
                    .unwrap()
                    .values(x.view(), OutputSpace::Raw)
                    .unwrap(),
                InterventionalTreeShap::new(&ens, bg.view())
                    .unwrap()
                    .with_algorithm(InterventionalAlgorithm::LeafTables)
                    .values(x.view(), OutputSpace::Raw)
                    .unwrap(),
            )
        })
    };
    let (a1, b1, c1) = run(1);
    let (a3, b3, c3) = run(3);
    assert_eq!(a1, a3);
    assert_eq!(b1, b3);
    assert_eq!(c1, c3);
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<TreeShap<'static>>();
    check::<InterventionalTreeShap<'static>>();
    check::<InteractionShap<'static>>();
}

/// Regression: glassbox model files must reproduce thresholds and leaf values bit for bit, or a
/// row lying exactly on a threshold (common with XGBoost's `f32` cut points) changes branch after a
/// save/load, and Tree SHAP no longer matches the reference. serde_json's default float parser is
/// off by an ulp on some inputs; the `float_roundtrip` feature makes it exact.
#[test]
fn model_files_round_trip_floats_exactly() {
    use glassbox::model::AnyModel;
    let mut ens = gen_ensemble(5, 6, 30, 5, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for t in ens.trees.iter_mut() {
        for n in t.nodes.iter_mut() {
            // f32 cut points as XGBoost stores them, and arbitrary f64 values.
            n.threshold = (rng.gen_range(-300.0f64..300.0) as f32) as f64;
            n.value = rng.gen_range(-1.0..1.0) * 10f64.powi(rng.gen_range(-8..4));
            n.cover = rng.gen_range(0.0..1e4);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    AnyModel::TreeEnsemble(ens.clone()).save(&path).unwrap();
    let back = AnyModel::load(&path).unwrap();
    assert_eq!(back.as_trees().unwrap(), &ens);
}

/// Explaining in chunks (as the CLI streams) gives the same bits as explaining at once, for every
/// interventional algorithm, on one prepared explainer.
#[test]
fn chunks_agree_with_one_call() {
    let ens = gen_ensemble(21, 6, 12, 5, 2);
    let x = gen_rows(21, 90, 6);
    let bg = gen_rows(22, 15, 6);
    for algorithm in [
        InterventionalAlgorithm::Auto,
        InterventionalAlgorithm::PerPair,
        InterventionalAlgorithm::LeafTables,
    ] {
        let iv = InterventionalTreeShap::new(&ens, bg.view())
            .unwrap()
            .with_algorithm(algorithm);
        let mut parts = Vec::new();
        for start in (0..90).step_by(32) {
            let end = (start + 32).min(90);
            parts.push(
                iv.values(x.slice(ndarray::s![start..end, ..]), OutputSpace::Raw)
                    .unwrap(),
            );
        }
        let whole = iv.values(x.view(), OutputSpace::Raw).unwrap();
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        let joined = ndarray::concatenate(ndarray::Axis(0), &views).unwrap();
        assert_eq!(joined, whole, "{algorithm:?}");
    }
}

/// A classifier whose raw output is already a probability (identity link, as glassbox's random
/// forests): probability-space attributions are the raw ones, for both methods; a regression model
/// refuses probability output.
#[test]
fn probability_space_of_an_identity_link_classifier_is_raw() {
    use glassbox::data::{TargetKind, TargetSpec};
    use glassbox::explain::{explain, ExplainOptions, Method};
    use glassbox::model::AnyModel;
    let mut ens = gen_ensemble(31, 5, 6, 4, 1);
    ens.link = Link::Identity;
    ens.target = Some(TargetSpec {
        name: "y".into(),
        kind: TargetKind::Binary {
            classes: vec!["no".into(), "yes".into()],
        },
    });
    let model = AnyModel::TreeEnsemble(ens.clone());
    let x = gen_rows(31, 8, 5);
    let bg = gen_rows(32, 6, 5);
    let raw = ExplainOptions::default();
    let prob = ExplainOptions {
        output_space: OutputSpace::Probability,
        ..ExplainOptions::default()
    };
    for (method, bgv) in [
        (Method::TreeShap, None),
        (Method::TreeShapInterventional, Some(bg.view())),
    ] {
        let a = explain(&model, x.view(), method, bgv, &raw).unwrap();
        let b = explain(&model, x.view(), method, bgv, &prob).unwrap();
        assert_eq!(a.values(), b.values(), "{method:?}");
        assert_eq!(b.meta().output_space, OutputSpace::Probability);
    }
    ens.target = None; // an imported regression model
    let model = AnyModel::TreeEnsemble(ens);
    for (method, bgv) in [
        (Method::TreeShap, None),
        (Method::TreeShapInterventional, Some(bg.view())),
    ] {
        assert!(explain(&model, x.view(), method, bgv, &prob).is_err());
    }
}
