//! Tables of the hybrid game against predicting every hybrid row directly.

use super::*;
use crate::data::FeatureSchema;
use crate::model::{EnsembleSource, Link, Node};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Full trees of depth `depth` on random features of `m` (thresholds in [0, 1), missing
/// values sent left or right at random), adding alternately to two outputs.
fn random_ensemble(m: usize, trees: usize, depth: usize, rng: &mut ChaCha8Rng) -> TreeEnsemble {
    let mut out = Vec::new();
    for _ in 0..trees {
        let mut nodes = Vec::new();
        grow(&mut nodes, m, depth, rng);
        out.push(Tree {
            nodes,
            category_words: Vec::new(),
        });
    }
    TreeEnsemble {
        schema: FeatureSchema::numeric((0..m).map(|j| format!("f{j}"))),
        target: None,
        tree_output: (0..trees as u32).map(|t| t % 2).collect(),
        trees: out,
        base_score: vec![0.1, -0.2],
        link: Link::Softmax,
        output_names: vec!["a".into(), "b".into()],
        f32_inputs: false,
        source: EnsembleSource::GradientBoosting,
    }
}

fn grow(nodes: &mut Vec<Node>, m: usize, depth: usize, rng: &mut ChaCha8Rng) -> u32 {
    let at = nodes.len();
    if depth == 0 {
        nodes.push(Node::leaf(rng.gen_range(-1.0..1.0), 1.0));
        return at as u32;
    }
    // Few features near the root and a wide choice below, so paths repeat features.
    let f = rng.gen_range(0..m.min(3 + 4 * depth)) as u32;
    nodes.push(Node::leaf(0.0, 1.0));
    let left = grow(nodes, m, depth - 1, rng);
    let right = grow(nodes, m, depth - 1, rng);
    nodes[at] = Node::numeric_split(f, rng.gen(), left, right, rng.gen(), 1.0);
    at as u32
}

fn random_rows(n: usize, m: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
    Array2::from_shape_fn((n, m), |_| {
        if rng.gen::<f64>() < 0.1 {
            f64::NAN
        } else {
            rng.gen()
        }
    })
}

/// The game's values against prediction of every hybrid row (brute force), merged and per
/// background row, at random coalitions.
fn check(ens: &TreeEnsemble, bg: &Array2<f64>, weights: &[f64], max_vars: usize, max_chunk: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (m, nb, k) = (bg.ncols(), bg.nrows(), ens.n_outputs());
    let tb = TreeBackground::with_limits(ens, bg.view(), max_vars, max_chunk);
    let x = random_rows(1, m, &mut rng);
    let x = x.row(0).to_vec();
    for (merge, pext) in [(true, true), (true, false), (false, true)] {
        let mut game = TreeGame::new(&tb, &x, weights, merge);
        // The portable key extraction, on any CPU.
        game.pext &= pext;
        let groups = if merge { 1 } else { nb };
        assert_eq!(game.groups(), groups);
        let mut got = vec![0.0; groups * k];
        let mut want = vec![0.0; groups * k];
        let mut pred = vec![0.0; k];
        for _ in 0..40 {
            let z: Vec<u8> = (0..m).map(|_| u8::from(rng.gen::<bool>())).collect();
            game.eval(&z, &mut got);
            want.fill(0.0);
            for b in 0..nb {
                let h: Vec<f64> = (0..m)
                    .map(|j| if z[j] == 1 { x[j] } else { bg[[b, j]] })
                    .collect();
                ens.predict_row_into(&h, &mut pred);
                let (g, w) = if merge { (0, weights[b]) } else { (b, 1.0) };
                for o in 0..k {
                    want[g * k + o] += w * pred[o];
                }
            }
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "merge {merge}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn tables_give_the_hybrids_predictions() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let ens = random_ensemble(8, 20, 6, &mut rng);
    let bg = random_rows(30, 8, &mut rng);
    check(&ens, &bg, &[1.0 / 30.0; 30], MAX_VARS, MAX_CHUNK);
}

#[test]
fn rows_past_the_table_limit_are_traversed() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let ens = random_ensemble(10, 12, 7, &mut rng);
    let bg = random_rows(25, 10, &mut rng);
    let w: Vec<f64> = (1..=25).map(|i| i as f64 / 325.0).collect();
    // Limits of 1 and 2 features per table force most pairs to the fallback.
    for max_vars in [1, 2, 4] {
        check(&ens, &bg, &w, max_vars, MAX_CHUNK);
    }
}

#[test]
fn large_backgrounds_are_walked_in_chunks() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let ens = random_ensemble(6, 10, 5, &mut rng);
    let bg = random_rows(150, 6, &mut rng);
    let w: Vec<f64> = (0..150).map(|i| (1 + i % 7) as f64).collect();
    let total: f64 = w.iter().sum();
    let w: Vec<f64> = w.iter().map(|v| v / total).collect();
    for max_chunk in [1, 2, MAX_CHUNK] {
        check(&ens, &bg, &w, MAX_VARS, max_chunk);
    }
}

#[test]
fn more_than_64_features_use_variable_lists() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut ens = random_ensemble(70, 15, 5, &mut rng);
    // Move the splits onto features past 64 as well.
    for t in &mut ens.trees {
        for n in &mut t.nodes {
            if !n.is_leaf() && n.feature % 2 == 1 {
                n.feature += 45;
            }
        }
    }
    let bg = random_rows(12, 70, &mut rng);
    check(&ens, &bg, &[1.0 / 12.0; 12], MAX_VARS, MAX_CHUNK);
    check(&ens, &bg, &[1.0 / 12.0; 12], 2, MAX_CHUNK);
}
