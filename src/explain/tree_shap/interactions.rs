//! SHAP interaction values (path-dependent), as XGBoost's `pred_interactions` and shap's
//! `shap_interaction_values`.
//!
//! # Definition and closed form
//! For `i ≠ j`, `Φ_ij = ½ (φ_i | j present − φ_i | j absent)`, the Shapley interaction index
//! (Lundberg et al. 2020, eq. 9) split evenly between `Φ_ij` and `Φ_ji`; the main effect is
//! `Φ_ii = φ_i − Σ_{j≠i} Φ_ij`, so each row of the matrix sums to `φ_i` and the whole matrix plus
//! the bias sums to the model output. For one leaf with the notation of `path_dependent`,
//! conditioning on `j` replaces `j`'s factor `g_j(t)` by `o_j` (present) or `p_j` (absent) and
//! removes `j` from the players, so
//!
//! ```text
//! Φ_ij = ½ v (o_i − p_i)(o_j − p_j) ∫₀¹ Π_{k∈P∖{i,j}} g_k(t) dt,
//! ```
//!
//! again exact with `⌈D/2⌉` Gauss–Legendre points. XGBoost and shap instead rerun Tree SHAP twice
//! per feature of the tree (`O(L·D³)` per row and tree); the closed form is `O(L·D²·Q)` and needs
//! no reruns.
//!
//! # Output shapes
//! The full tensor is rows × outputs × (M+1) × (M+1) (bias last, only the bias-bias entry
//! nonzero, as XGBoost lays it out). For wide data that does not fit, so the same kernel can also
//! write only the pairs among chosen features ([`InteractionShap::among`]) or the `k` strongest
//! pairs per row ([`InteractionShap::top_pairs`]). Pairs that never share a path get an index
//! once, up front; per row only those slots are accumulated.

use std::collections::HashMap;

use ndarray::{Array4, ArrayView2};
use rayon::prelude::*;

use super::layout::{LeafPaths, Preorder};
use super::quadrature::gauss_legendre_01;
use super::{block_rows, check_width, validated, TreeShap};
use crate::explain::{ExplainError, Result};
use crate::model::TreeEnsemble;

#[derive(Clone, Debug)]
struct IxTree {
    pre: Preorder,
    output: usize,
    t: Vec<f64>,
    w: Vec<f64>,
    paths: LeafPaths,
    /// Start of each leaf's pair slots (`d(d−1)/2` entries, pairs (a, b) with a < b in position
    /// order).
    pair_start: Vec<usize>,
    /// Global pair slot of each leaf-local pair.
    pair_slot: Vec<u32>,
}

/// One off-diagonal interaction value `Φ_ij = Φ_ji` (the pair's total interaction effect is
/// `2 Φ_ij`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairValue {
    /// First feature (smaller index).
    pub i: usize,
    /// Second feature.
    pub j: usize,
    /// `Φ_ij`.
    pub value: f64,
}

/// The strongest interaction pairs of one row and output.
#[derive(Clone, Debug, PartialEq)]
pub struct RowTopPairs {
    /// Row index within the explained rows.
    pub row: usize,
    /// Output index.
    pub output: usize,
    /// Pairs by decreasing `|Φ_ij|` (ties by feature indices).
    pub pairs: Vec<PairValue>,
}

/// Interaction values among a chosen set of features.
#[derive(Clone, Debug)]
pub struct InteractionValues {
    /// The chosen feature indices, in the order of the matrix axes.
    pub features: Vec<usize>,
    /// rows × outputs × (k+1) × (k+1): `Φ_ij` among the chosen features, main effects on the
    /// diagonal (computed against *all* features, so they match the full tensor), bias last.
    pub values: Array4<f64>,
}

/// Path-dependent SHAP interaction values prepared for one ensemble.
#[derive(Clone, Debug)]
pub struct InteractionShap<'a> {
    ens: &'a TreeEnsemble,
    trees: Vec<IxTree>,
    pairs: Vec<(u32, u32)>,
    base: Vec<f64>,
}

/// Per-row accumulators for one output.
struct Acc {
    phi: Vec<f64>,
    rowsum: Vec<f64>,
    slots: Vec<f64>,
}

impl<'a> InteractionShap<'a> {
    /// Prepares per-leaf paths and the index of feature pairs that share a path.
    ///
    /// # Errors
    /// [`ExplainError::Unsupported`] for a malformed ensemble.
    pub fn new(ens: &'a TreeEnsemble) -> Result<InteractionShap<'a>> {
        validated(ens)?;
        let base = TreeShap::new(ens)?.base_values().to_vec();
        let mut index: HashMap<(u32, u32), u32> = HashMap::new();
        let mut pairs = Vec::new();
        let mut trees = Vec::with_capacity(ens.trees.len());
        for (t, tree) in ens.trees.iter().enumerate() {
            let pre = Preorder::new(tree);
            let d = pre.max_unique_features();
            let (qt, qw) = gauss_legendre_01(d.div_ceil(2).max(1));
            let paths = LeafPaths::new(&pre);
            let mut pair_start = Vec::with_capacity(paths.leaves.len());
            let mut pair_slot = Vec::new();
            for leaf in &paths.leaves {
                pair_start.push(pair_slot.len());
                let feats = &paths.feats[leaf.feats.clone()];
                for a in 0..feats.len() {
                    for b in a + 1..feats.len() {
                        let (i, j) = (feats[a].feature, feats[b].feature);
                        let key = (i.min(j), i.max(j));
                        let next = pairs.len() as u32;
                        let s = *index.entry(key).or_insert_with(|| {
                            pairs.push(key);
                            next
                        });
                        pair_slot.push(s);
                    }
                }
            }
            let it = IxTree {
                output: ens.tree_output[t] as usize,
                t: qt,
                w: qw,
                paths,
                pair_start,
                pair_slot,
                pre,
            };
            trees.push(it);
        }
        Ok(InteractionShap {
            ens,
            trees,
            pairs,
            base,
        })
    }

    /// The bias (base value) per output, as in [`TreeShap::base_values`].
    pub fn base_values(&self) -> &[f64] {
        &self.base
    }

    /// The full interaction tensor, rows × outputs × (M+1) × (M+1), bias last (XGBoost's
    /// `pred_interactions` layout). Memory grows with `M²` per row: for wide data prefer
    /// [`InteractionShap::among`] or [`InteractionShap::top_pairs`].
    ///
    /// # Errors
    /// [`ExplainError::Shape`] when `x` has the wrong width.
    pub fn full(&self, x: ArrayView2<f64>) -> Result<Array4<f64>> {
        let all: Vec<usize> = (0..self.ens.n_features()).collect();
        Ok(self.among(x, &all)?.values)
    }

    /// Interaction values among `features` (indices into the model's features): rows × outputs ×
    /// (k+1) × (k+1), main effects on the diagonal, bias last.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] for a wrong width; [`ExplainError::InvalidParam`] for an index out
    /// of range or repeated.
    pub fn among(&self, x: ArrayView2<f64>, features: &[usize]) -> Result<InteractionValues> {
        check_width(self.ens, &x, "the data")?;
        let m = self.ens.n_features();
        let mut pos = vec![usize::MAX; m];
        for (a, &f) in features.iter().enumerate() {
            if f >= m || pos[f] != usize::MAX {
                return Err(ExplainError::InvalidParam {
                    name: "features",
                    value: f.to_string(),
                    reason: format!(
                        "feature indices must be distinct and below the model's {m} features"
                    ),
                });
            }
            pos[f] = a;
        }
        let (n, k, c) = (x.nrows(), self.ens.n_outputs(), features.len());
        let side = c + 1;
        let width = k * side * side;
        let flat = super::for_row_blocks(self.ens, x, width, |_, rows, out| {
            let mut accs = self.accumulators();
            let mut scratch = Scratch::default();
            for (r, xr) in rows.chunks_exact(m).enumerate() {
                self.row(xr, &mut accs, &mut scratch);
                for (o, acc) in accs.iter().enumerate() {
                    let mat = &mut out[r * width + o * side * side..][..side * side];
                    for (s, &(i, j)) in self.pairs.iter().enumerate() {
                        let (a, b) = (pos[i as usize], pos[j as usize]);
                        if a != usize::MAX && b != usize::MAX {
                            mat[a * side + b] = acc.slots[s];
                            mat[b * side + a] = acc.slots[s];
                        }
                    }
                    for (a, &f) in features.iter().enumerate() {
                        mat[a * side + a] = acc.phi[f] - acc.rowsum[f];
                    }
                    mat[side * side - 1] = self.base[o];
                }
            }
        });
        let values = Array4::from_shape_vec((n, k, side, side), flat)
            .map_err(|e| ExplainError::Shape(format!("internal shape error: {e}")))?;
        Ok(InteractionValues {
            features: features.to_vec(),
            values,
        })
    }

    /// The `top` strongest off-diagonal pairs (by `|Φ_ij|`) of every row and output.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] when `x` has the wrong width.
    pub fn top_pairs(&self, x: ArrayView2<f64>, top: usize) -> Result<Vec<RowTopPairs>> {
        check_width(self.ens, &x, "the data")?;
        let m = self.ens.n_features();
        let n = x.nrows();
        let b = block_rows(n);
        let blocks: Vec<Vec<RowTopPairs>> = (0..n.div_ceil(b))
            .into_par_iter()
            .map(|blk| {
                let start = blk * b;
                let end = (start + b).min(n);
                let mut accs = self.accumulators();
                let mut scratch = Scratch::default();
                let mut cast = Vec::new();
                let mut raw = Vec::with_capacity(m);
                let mut res = Vec::new();
                for i in start..end {
                    raw.clear();
                    raw.extend(x.row(i).iter().copied());
                    let xr = self.ens.prepare_row(&raw, &mut cast).to_vec();
                    self.row(&xr, &mut accs, &mut scratch);
                    for (o, acc) in accs.iter().enumerate() {
                        let mut cand: Vec<PairValue> = self
                            .pairs
                            .iter()
                            .zip(&acc.slots)
                            .filter(|(_, v)| **v != 0.0)
                            .map(|(&(i, j), &value)| PairValue {
                                i: i as usize,
                                j: j as usize,
                                value,
                            })
                            .collect();
                        let order = |a: &PairValue, b: &PairValue| {
                            b.value
                                .abs()
                                .total_cmp(&a.value.abs())
                                .then(a.i.cmp(&b.i))
                                .then(a.j.cmp(&b.j))
                        };
                        if cand.len() > top && top > 0 {
                            cand.select_nth_unstable_by(top - 1, order);
                        }
                        cand.truncate(top);
                        cand.sort_by(order);
                        res.push(RowTopPairs {
                            row: i,
                            output: o,
                            pairs: cand,
                        });
                    }
                }
                res
            })
            .collect();
        Ok(blocks.into_iter().flatten().collect())
    }

    fn accumulators(&self) -> Vec<Acc> {
        let m = self.ens.n_features();
        (0..self.ens.n_outputs())
            .map(|_| Acc {
                phi: vec![0.0; m],
                rowsum: vec![0.0; m],
                slots: vec![0.0; self.pairs.len()],
            })
            .collect()
    }

    /// Accumulates φ, pair values and pair row sums of one prepared row over all trees.
    fn row(&self, x: &[f64], accs: &mut [Acc], s: &mut Scratch) {
        for acc in accs.iter_mut() {
            acc.phi.fill(0.0);
            acc.rowsum.fill(0.0);
            acc.slots.fill(0.0);
        }
        for tree in &self.trees {
            let acc = &mut accs[tree.output];
            let n = tree.pre.len();
            s.dirs.resize(n, false);
            tree.pre.directions(x, &mut s.dirs);
            let q = tree.t.len();
            for (l, leaf) in tree.paths.leaves.iter().enumerate() {
                let feats = &tree.paths.feats[leaf.feats.clone()];
                let d = feats.len();
                s.o.clear();
                s.o.resize(d, true);
                for c in &tree.paths.conds[leaf.conds.clone()] {
                    if s.dirs[c.node as usize] != c.left {
                        s.o[c.slot as usize] = false;
                    }
                }
                // g_k(t_q), then leave-one-out products L_k = Π_{j≠k} g_j by prefix/suffix.
                s.g.clear();
                for (f, &on) in feats.iter().zip(&s.o) {
                    let o = if on { 1.0 } else { 0.0 };
                    s.g.extend(tree.t.iter().map(|t| f.p + t * (o - f.p)));
                }
                s.loo.clear();
                s.loo.resize(d * q, 1.0);
                let run = &mut s.run;
                run.clear();
                run.resize(q, 1.0);
                for a in 0..d {
                    for z in 0..q {
                        s.loo[a * q + z] = run[z];
                        run[z] *= s.g[a * q + z];
                    }
                }
                run.iter_mut().for_each(|r| *r = 1.0);
                for a in (0..d).rev() {
                    for z in 0..q {
                        s.loo[a * q + z] *= run[z];
                        run[z] *= s.g[a * q + z];
                    }
                }
                let mut slot = tree.pair_start[l];
                for a in 0..d {
                    let da = if s.o[a] { 1.0 } else { 0.0 } - feats[a].p;
                    let fa = feats[a].feature as usize;
                    let mut phi = 0.0;
                    for z in 0..q {
                        phi += tree.w[z] * s.loo[a * q + z];
                    }
                    acc.phi[fa] += leaf.value * da * phi;
                    for b in a + 1..d {
                        let db = if s.o[b] { 1.0 } else { 0.0 } - feats[b].p;
                        let sl = tree.pair_slot[slot] as usize;
                        slot += 1;
                        if da == 0.0 || db == 0.0 {
                            continue;
                        }
                        let mut integral = 0.0;
                        for z in 0..q {
                            integral += tree.w[z] * s.loo[a * q + z] / s.g[b * q + z];
                        }
                        let v = 0.5 * leaf.value * da * db * integral;
                        let fb = feats[b].feature as usize;
                        acc.slots[sl] += v;
                        acc.rowsum[fa] += v;
                        acc.rowsum[fb] += v;
                    }
                }
            }
        }
    }
}

#[derive(Default)]
struct Scratch {
    dirs: Vec<bool>,
    o: Vec<bool>,
    g: Vec<f64>,
    loo: Vec<f64>,
    run: Vec<f64>,
}
