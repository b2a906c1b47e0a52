//! Reference Shapley games for exact Tree SHAP, written out from their definitions and solved by
//! enumerating all `2^M` coalitions (shared by `tree_shap_props.rs` and the forest tests):
//! - path-dependent: `v(S)` = the tree's expectation when features outside `S` follow both
//!   branches weighted by cover;
//! - interventional: `v(S) = mean_z f(x_S, z_S̄)`, in raw or probability space.

#![allow(dead_code)] // each test binary uses a different subset

use glassbox::explain::OutputSpace;
use glassbox::model::{Model, Node, Tree, TreeEnsemble};
use ndarray::{Array2, ArrayView2};

pub fn prepared(ens: &TreeEnsemble, row: &[f64]) -> Vec<f64> {
    let mut buf = Vec::new();
    ens.prepare_row(row, &mut buf).to_vec()
}

/// Mirrors glassbox's documented rule for degenerate covers (even split).
pub fn frac(parent: &Node, child: &Node) -> f64 {
    let f = child.cover / parent.cover;
    if parent.cover > 0.0 && child.cover >= 0.0 && f.is_finite() {
        f
    } else {
        0.5
    }
}

/// The path-dependent game of one tree: features in `s` (bitmask) are known.
pub fn pd_game(tree: &Tree, k: usize, x: &[f64], s: u32) -> f64 {
    let node = &tree.nodes[k];
    if node.is_leaf() {
        return node.value;
    }
    if s >> node.feature & 1 == 1 {
        return pd_game(
            tree,
            node.next(x[node.feature as usize], &tree.category_words) as usize,
            x,
            s,
        );
    }
    let (l, r) = (node.left as usize, node.right as usize);
    frac(node, &tree.nodes[l]) * pd_game(tree, l, x, s)
        + frac(node, &tree.nodes[r]) * pd_game(tree, r, x, s)
}

pub fn weight(s: usize, m: usize) -> f64 {
    // s! (m-1-s)! / m!
    let mut w = 1.0 / m as f64;
    for i in 0..s {
        w *= (i + 1) as f64 / (m - 1 - i) as f64;
    }
    w
}

pub fn brute_shapley(m: usize, v: &dyn Fn(u32) -> f64) -> Vec<f64> {
    let vals: Vec<f64> = (0..1u32 << m).map(v).collect();
    (0..m)
        .map(|i| {
            (0..1u32 << m)
                .filter(|s| s >> i & 1 == 0)
                .map(|s| {
                    weight(s.count_ones() as usize, m)
                        * (vals[(s | 1 << i) as usize] - vals[s as usize])
                })
                .sum()
        })
        .collect()
}

pub fn pd_output_game<'a>(
    ens: &'a TreeEnsemble,
    out: usize,
    x: &[f64],
) -> impl Fn(u32) -> f64 + 'a {
    let x = prepared(ens, x);
    move |s| {
        ens.base_score[out]
            + ens
                .trees
                .iter()
                .zip(&ens.tree_output)
                .filter(|(_, &o)| o as usize == out)
                .map(|(t, _)| pd_game(t, 0, &x, s))
                .sum::<f64>()
    }
}

/// `mean_z link(F(x_S, z_S̄))[out]` (raw when `space` is Raw).
pub fn iv_game<'a>(
    ens: &'a TreeEnsemble,
    out: usize,
    x: &'a [f64],
    bg: ArrayView2<'a, f64>,
    space: OutputSpace,
) -> impl Fn(u32) -> f64 + 'a {
    move |s| {
        let mut total = 0.0;
        for z in bg.rows() {
            let h: Vec<f64> = (0..x.len())
                .map(|j| if s >> j & 1 == 1 { x[j] } else { z[j] })
                .collect();
            let h = Array2::from_shape_vec((1, x.len()), h).unwrap();
            let y = match space {
                OutputSpace::Raw => ens.predict_raw(h.view()),
                _ => ens.predict(h.view()),
            };
            total += y[[0, out]];
        }
        total / bg.nrows() as f64
    }
}

pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}
