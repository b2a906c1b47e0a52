//! Interventional Tree SHAP with the background folded into per-leaf tables: per row, the work is
//! `O(Σ_leaves d)` per tree, independent of the number of background rows.
//!
//! # Why it works
//! For one leaf with `d` distinct path features, what a (row `x`, background row `z`) pair
//! contributes depends only on two bit masks: the features whose path conditions `x` satisfies
//! (`X`) and those `z` fails (`u`). The pair reaches the leaf for some coalition iff every feature
//! is satisfied by one of them (`u ⊆ X`); then `A = u` must come from `x` and `B = ¬X` from `z`,
//! and the leaf game `v·1[A ⊆ S, B ∩ S = ∅]` gives each feature of `A` the value
//! `v (a−1)! b!/(a+b)!` and each of `B` `−v a! (b−1)!/(a+b)!` (`a = |u|`, `b = d − |X|`).
//! Averaged over the background, with `h(u)` the fraction of background rows failing exactly `u`:
//!
//! ```text
//! NB[X]    = Σ_{u ⊆ X} h(u) · |u|! (b−1)!/(|u|+b)!             (each feature not in X: −v·NB[X])
//! PA[X][i] = Σ_{u ⊆ X, i ∈ u} h(u) · (|u|−1)! b!/(|u|+b)!       (feature i ∈ X: +v·PA[X][i])
//! ```
//!
//! Splitting `h` by `|u|` and taking subset sums (the zeta transform) gives both for all `2^d`
//! masks in `O(d² 2^d)`; `Σ_{u⊆X, i∈u} = Σ_{u⊆X} − Σ_{u⊆X∖i}`. This is the interventional
//! counterpart of FastTreeSHAP v2's per-leaf precomputation (Yang 2022). It pays when many rows
//! are explained against the same background and leaves have few distinct features; memory is
//! `2^d (d+1)` numbers per leaf, so deep trees stay with the per-pair walk.

use super::interventional::IvTree;
use super::layout::LeafPaths;

/// Leaves with more distinct features than this are never tabulated (`2^d` growth).
pub(super) const MAX_TABLE_FEATURES: usize = 12;

/// A tree's leaves with their background tables.
#[derive(Clone, Debug)]
pub(super) struct LeafTables {
    paths: LeafPaths,
    /// Per leaf, the start of its table in `data`: `NB[X]` for `X < 2^d`, then `PA[X·d + i]`.
    offsets: Vec<usize>,
    data: Vec<f64>,
}

/// Size and cost estimates of tabulating one tree.
pub(super) struct TableCost {
    /// Numbers stored.
    pub size: usize,
    /// Operations to build the tables.
    pub build: f64,
    /// Operations per explained row.
    pub per_row: f64,
}

/// `(a−1)! b! / (a+b)!` for `a ≥ 1`.
fn coef(a: usize, b: usize) -> f64 {
    let mut binom = 1.0;
    for i in 0..b {
        binom = binom * (a + b - i) as f64 / (i + 1) as f64;
    }
    1.0 / (a as f64 * binom)
}

impl LeafTables {
    /// What tabulating the tree with these paths would cost, or `None` when a leaf has more than
    /// [`MAX_TABLE_FEATURES`] distinct features.
    pub fn cost(paths: &LeafPaths, n_patterns: usize) -> Option<TableCost> {
        let mut cost = TableCost {
            size: 0,
            build: 0.0,
            per_row: 0.0,
        };
        for leaf in &paths.leaves {
            let d = leaf.feats.len();
            if d > MAX_TABLE_FEATURES {
                return None;
            }
            let conds = leaf.conds.len() as f64;
            cost.size += (1 << d) * (d + 1);
            cost.build += n_patterns as f64 * conds + 2.0 * (d * d) as f64 * (1u64 << d) as f64;
            cost.per_row += conds + d as f64;
        }
        Some(cost)
    }

    /// Builds the tables of one tree from its background direction patterns.
    pub fn build(tree: &IvTree, paths: LeafPaths) -> LeafTables {
        let mut offsets = Vec::with_capacity(paths.leaves.len());
        let mut data = Vec::new();
        let mut z = Vec::new();
        let mut c = Vec::new();
        for leaf in &paths.leaves {
            let d = leaf.feats.len();
            let size = 1usize << d;
            let full = size - 1;
            // c[a * (d+1) + b] = (a−1)! b!/(a+b)! for a ≥ 1, a + b ≤ d.
            c.clear();
            c.resize((d + 1) * (d + 1), 0.0);
            for a in 1..=d {
                for b in 0..=d - a {
                    c[a * (d + 1) + b] = coef(a, b);
                }
            }
            // Z_k[u] = weight of background patterns failing exactly u, |u| = k; then subset sums.
            z.clear();
            z.resize((d + 1) * size, 0.0);
            for (g, &w) in tree.weights.iter().enumerate() {
                let u = full & !(paths.satisfied(leaf, tree.pattern(g)) as usize);
                z[u.count_ones() as usize * size + u] += w;
            }
            for k in 0..=d {
                let zk = &mut z[k * size..(k + 1) * size];
                for bit in 0..d {
                    for x in 0..size {
                        if x >> bit & 1 == 1 {
                            zk[x] += zk[x ^ (1 << bit)];
                        }
                    }
                }
            }
            let base = data.len();
            offsets.push(base);
            data.resize(base + size * (d + 1), 0.0);
            for x in 0..size {
                let cx = x.count_ones() as usize;
                let b = d - cx;
                if b >= 1 {
                    let mut nb = 0.0;
                    for k in 0..=cx {
                        nb += z[k * size + x] * c[b * (d + 1) + k];
                    }
                    data[base + x] = nb;
                }
                for i in 0..d {
                    if x >> i & 1 == 0 {
                        continue;
                    }
                    let without = x ^ (1 << i);
                    let mut pa = 0.0;
                    for k in 1..=cx {
                        pa += c[k * (d + 1) + b] * (z[k * size + x] - z[k * size + without]);
                    }
                    data[base + size + x * d + i] = pa;
                }
            }
        }
        LeafTables {
            paths,
            offsets,
            data,
        }
    }

    /// Adds the background-averaged attributions of the row with directions `dirs` to `phi`.
    pub fn add_row(&self, dirs: &[bool], phi: &mut [f64]) {
        for (leaf, &off) in self.paths.leaves.iter().zip(&self.offsets) {
            let feats = &self.paths.feats[leaf.feats.clone()];
            let d = feats.len();
            let size = 1usize << d;
            let x = self.paths.satisfied(leaf, dirs) as usize;
            let v = leaf.value;
            let nb = v * self.data[off + x];
            let pa = &self.data[off + size + x * d..off + size + x * d + d];
            for (i, f) in feats.iter().enumerate() {
                if x >> i & 1 == 1 {
                    phi[f.feature as usize] += v * pa[i];
                } else {
                    phi[f.feature as usize] -= nb;
                }
            }
        }
    }
}
