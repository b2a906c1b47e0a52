//! Multiclass forest trees: one multi-output classification tree per round, split on the Gini
//! impurity of the class counts, as scikit-learn's `RandomForestClassifier` grows them.
//!
//! # Why multi-output trees, not one tree per class
//! One-vs-rest trees (one per class, each on "class k or not") would reuse the binary grower as
//! is, but each class's tree then has its own leaves, so the per-class averages do not sum to 1
//! and would have to be renormalised — a division no additive explanation can follow, and not
//! what a forest is (Breiman 2001 grows one tree over all classes). A multi-output tree has one
//! class-frequency vector per leaf, which sums to 1 in every leaf, so the forest average does too.
//!
//! # Stored as one tree per class
//! The explainers see trees with one value per leaf. A round's tree is therefore stored as `K`
//! trees with the same structure; class `k`'s leaf value is the frequency of class `k` among the
//! leaf's bootstrap rows, divided by the number of rounds. Tree SHAP is linear in leaf values, so
//! its values of the `K` copies are exactly the per-class attributions of the multi-output tree,
//! and they sum over classes to 0 (the probabilities sum to 1 for every coalition).
//!
//! # Criterion
//! A node with class counts `c_k` (bootstrap repeats counted) and `n` rows has weighted Gini
//! impurity `n − Σ c_k² / n` (Breiman et al. 1984, *Classification and Regression Trees*, §4.3),
//! so a split's impurity decrease is `Σ L_k² / n_L + Σ R_k² / n_R − Σ c_k² / n`. For two classes
//! it is twice the variance reduction of the binary forest, so both grow the same splits.
//! Histograms, missing-value directions (both sides tried), minimum leaf size, per-node feature
//! draws and best-first growth follow the binary grower ([`crate::model::gbdt::grow`]); this
//! grower differs only in carrying `K` counts per bin instead of one gradient sum. It is separate
//! because the boosting grower is the hot path of gradient boosting, and widening its bin type
//! would slow it for every other objective.
//!
//! # Categorical features
//! For two classes, sorting levels by class frequency and scanning prefixes finds the best
//! partition (Breiman et al. 1984, §9.4); for more classes no such order exists. Levels are
//! sorted by the frequency of each class in turn and every prefix of each order (from either
//! end) is scored with the full Gini decrease — exact for two classes, a heuristic beyond, with
//! `K` sorts per node. Exhaustive search (2^(L−1) partitions) was rejected for its cost;
//! scikit-learn's forests have no categorical splits at all.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::model::gbdt::grow::{best_open_leaf, partition, split_node};
use crate::model::gbdt::split::{SplitCandidate, SplitRule};
use crate::model::gbdt::{BinMapper, BinnedData, Stats};
use crate::model::tree::{Node, Tree};

/// A gain below this fraction of the parent's score is rounding noise (as in the boosting split
/// finder).
const GAIN_REL_EPS: f64 = 1e-10;

/// Shape limits of a multiclass tree.
#[derive(Clone, Debug)]
pub(super) struct ClassTreeParams {
    /// Number of classes (≥ 2).
    pub n_classes: usize,
    /// Most leaves; `None` = no limit.
    pub max_leaves: Option<usize>,
    /// Most depth; `None` = no limit.
    pub max_depth: Option<usize>,
    /// Least rows in a child (≥ 1).
    pub min_samples_leaf: f64,
    /// Features drawn per node.
    pub mtry: usize,
}

/// A grown tree: the structure (values unset) and each node's class counts, `K` per node.
pub(super) struct ClassTree {
    /// Nodes and category sets; node values are unset.
    pub tree: Tree,
    /// Class counts (bootstrap repeats counted), `K` per node.
    pub counts: Vec<f64>,
}

impl ClassTree {
    /// The `K` trees of the module docs: class `k`'s node values are its frequency times `scale`.
    pub fn per_class_trees(&self, scale: f64) -> Vec<Tree> {
        let k = self.counts.len() / self.tree.nodes.len().max(1);
        (0..k)
            .map(|c| {
                let mut tree = self.tree.clone();
                for (i, node) in tree.nodes.iter_mut().enumerate() {
                    let counts = &self.counts[i * k..(i + 1) * k];
                    let n: f64 = counts.iter().sum();
                    node.value = if n > 0.0 { counts[c] / n * scale } else { 0.0 };
                }
                tree
            })
            .collect()
    }
}

struct Open {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    split: Option<SplitCandidate>,
}

/// Grows multiclass trees over one [`BinnedData`]; keeps its buffers between trees.
pub(super) struct ClassGrower<'d> {
    data: &'d BinnedData,
    /// Class of each binned row.
    y: &'d [u32],
    params: ClassTreeParams,
    rows: Vec<u32>,
    scratch: Vec<u32>,
    /// Class counts, `K` per bin, over every feature's section; all zero between nodes.
    hist: Vec<f64>,
    /// Rows per bin; all zero between nodes.
    bin_rows: Vec<f64>,
    /// The bins the current node's rows touched, per drawn feature.
    touched: Vec<u32>,
    perm: Vec<usize>,
    /// `(feature, start, end)`: a drawn feature and its bins in `touched`.
    drawn: Vec<(usize, usize, usize)>,
    left: Vec<f64>,
}

impl<'d> ClassGrower<'d> {
    /// A grower for `data` with classes `y` (one per binned row, each `< n_classes`).
    pub fn new(data: &'d BinnedData, y: &'d [u32], params: ClassTreeParams) -> Self {
        let k = params.n_classes;
        ClassGrower {
            data,
            y,
            hist: vec![0.0; data.total_bins() * k],
            bin_rows: vec![0.0; data.total_bins()],
            touched: Vec::new(),
            left: vec![0.0; k],
            params,
            rows: Vec::new(),
            scratch: Vec::new(),
            perm: Vec::new(),
            drawn: Vec::new(),
        }
    }

    /// Class counts of `rows[start..end]`, appended to `out`.
    fn count(&self, start: usize, end: usize, out: &mut Vec<f64>) {
        let base = out.len();
        out.resize(base + self.params.n_classes, 0.0);
        for &r in &self.rows[start..end] {
            out[base + self.y[r as usize] as usize] += 1.0;
        }
    }

    /// Grows a tree on `rows` (ascending binned-row indices, repeats allowed), drawing features
    /// at each node from `rng`.
    pub fn grow(&mut self, rows: &[u32], rng: &mut ChaCha8Rng) -> ClassTree {
        let k = self.params.n_classes;
        self.rows.clear();
        self.rows.extend_from_slice(rows);
        self.scratch.resize(rows.len(), 0);
        // the shuffle starts from the identity in every tree (see the boosting grower)
        self.perm.clear();
        self.perm.extend(0..self.data.n_features());
        let mut nodes = vec![Node::leaf(0.0, rows.len() as f64)];
        let mut counts = Vec::with_capacity(k);
        self.count(0, rows.len(), &mut counts);
        let mut words: Vec<u64> = Vec::new();
        let mut root = Open {
            node: 0,
            start: 0,
            end: rows.len(),
            depth: 0,
            split: None,
        };
        self.evaluate(&mut root, &counts[..k], rng);
        let mut open = vec![root];
        let mut n_leaves = 1usize;
        while self.params.max_leaves.map_or(true, |m| n_leaves < m) {
            let Some(i) = best_open_leaf(&open, |l| l.split.as_ref()) else {
                break;
            };
            let mut parent = open.swap_remove(i);
            let split = parent.split.take().expect("picked leaves have a split");
            let mid = parent.start
                + partition(
                    self.data,
                    &split,
                    &mut self.rows[parent.start..parent.end],
                    &mut self.scratch,
                );
            let (l_idx, r_idx) = (nodes.len(), nodes.len() + 1);
            let cover = (parent.end - parent.start) as f64;
            nodes[parent.node] = split_node(self.data, &split, l_idx, r_idx, cover, &mut words);
            nodes.push(Node::leaf(0.0, (mid - parent.start) as f64));
            nodes.push(Node::leaf(0.0, (parent.end - mid) as f64));
            for (start, end, node) in [(parent.start, mid, l_idx), (mid, parent.end, r_idx)] {
                self.count(start, end, &mut counts);
                let mut child = Open {
                    node,
                    start,
                    end,
                    depth: parent.depth + 1,
                    split: None,
                };
                self.evaluate(&mut child, &counts[node * k..(node + 1) * k], rng);
                open.push(child);
            }
            n_leaves += 1;
        }
        ClassTree {
            tree: Tree {
                nodes,
                category_words: words,
            },
            counts,
        }
    }

    /// Draws the node's features and finds its best split, unless the node is pure, too small
    /// or too deep.
    ///
    /// Only the bins the node's rows touch are visited (and cleared afterwards): a deep tree has
    /// thousands of small nodes, and clearing or scanning all `bins × K` counts of every drawn
    /// feature at each of them would cost more than the rows themselves.
    fn evaluate(&mut self, leaf: &mut Open, counts: &[f64], rng: &mut ChaCha8Rng) {
        let p = &self.params;
        let n = (leaf.end - leaf.start) as f64;
        let classes_present = counts.iter().filter(|&&c| c > 0.0).count();
        if p.max_depth.is_some_and(|d| leaf.depth >= d)
            || n < 2.0 * p.min_samples_leaf
            || classes_present < 2
        {
            return;
        }
        let (data, k, mtry) = (self.data, p.n_classes, p.mtry);
        let m = data.n_features();
        // Partial Fisher–Yates draw; a feature constant in the node does not count towards mtry
        // (as in scikit-learn and the binary forest).
        self.touched.clear();
        self.drawn.clear();
        for i in 0..m {
            let j = rng.gen_range(i..m);
            self.perm.swap(i, j);
            let f = self.perm[i];
            let off = data.offsets()[f];
            let col = data.column(f);
            let start = self.touched.len();
            for &r in &self.rows[leaf.start..leaf.end] {
                let b = off + col[r as usize] as usize;
                if self.bin_rows[b] == 0.0 {
                    self.touched.push(b as u32);
                }
                self.bin_rows[b] += 1.0;
                self.hist[b * k + self.y[r as usize] as usize] += 1.0;
            }
            let end = self.touched.len();
            self.touched[start..end].sort_unstable();
            if end - start >= 2 {
                self.drawn.push((f, start, end));
                if self.drawn.len() >= mtry {
                    break;
                }
            }
        }
        self.drawn.sort_unstable();
        let node = NodeHist {
            data,
            hist: &self.hist,
            bin_rows: &self.bin_rows,
            k,
            total: counts,
            n,
            min_leaf: self.params.min_samples_leaf,
        };
        let mut best: Option<SplitCandidate> = None;
        for &(f, start, end) in &self.drawn {
            if let Some(c) = node.best_for_feature(f, &self.touched[start..end], &mut self.left) {
                if best.as_ref().map_or(true, |b| c.gain > b.gain) {
                    best = Some(c);
                }
            }
        }
        leaf.split = best;
        for &b in &self.touched {
            let b = b as usize;
            self.bin_rows[b] = 0.0;
            self.hist[b * k..(b + 1) * k].fill(0.0);
        }
    }
}

/// One node's class counts per bin (the bins its rows touched).
struct NodeHist<'a> {
    data: &'a BinnedData,
    /// Class counts, `K` per global bin.
    hist: &'a [f64],
    /// Rows per global bin.
    bin_rows: &'a [f64],
    k: usize,
    /// The node's class counts.
    total: &'a [f64],
    n: f64,
    min_leaf: f64,
}

impl NodeHist<'_> {
    /// The best split on feature `f`, whose occupied global bins are `bins` (ascending).
    fn best_for_feature(
        &self,
        f: usize,
        bins: &[u32],
        left: &mut Vec<f64>,
    ) -> Option<SplitCandidate> {
        let (k, n) = (self.k, self.n);
        let off = self.data.offsets()[f];
        let mapper = self.data.mapper(f);
        let mut search = Search {
            total: self.total,
            n,
            parent: sq_over_n(self.total, n),
            min_leaf: self.min_leaf,
            best_gain: f64::NEG_INFINITY,
            found: None,
            left,
        };
        let nv = mapper.n_value_bins();
        let bin = |b: usize| &self.hist[(off + b) * k..(off + b + 1) * k];
        let bin_n = |b: usize| self.bin_rows[off + b];
        let no_missing = [0.0; 0];
        // the missing bin is the last bin, so the last one touched when present
        let values: Vec<usize> = bins
            .iter()
            .map(|&b| b as usize - off)
            .filter(|&b| b < nv)
            .collect();
        let (missing, n_missing) = if values.len() < bins.len() {
            (bin(nv), bin_n(nv))
        } else {
            (&no_missing[..], 0.0)
        };
        let rule = match mapper {
            BinMapper::Numeric { .. } => {
                let mut acc = vec![0.0; k];
                let mut best_bin = 0usize;
                for (i, &b) in values.iter().enumerate() {
                    acc.iter_mut().zip(bin(b)).for_each(|(a, c)| *a += c);
                    let n_acc: f64 = acc.iter().sum();
                    // past the last value present, every value is on the left
                    let last = i + 1 == values.len();
                    let mut improved = false;
                    if n_missing > 0.0 {
                        improved |= search.offer(&acc, None, false);
                        if !last {
                            improved |= search.offer(&acc, Some(missing), true);
                        }
                    } else if !last {
                        improved |= search.offer(&acc, None, n_acc >= n - n_acc);
                    }
                    if improved {
                        best_bin = b;
                    }
                }
                SplitRule::Numeric {
                    last_left: best_bin,
                }
            }
            BinMapper::Categorical { .. } => {
                let mut order = values.clone();
                let mut chosen: Vec<usize> = Vec::new();
                // two classes: one order suffices (the other is its reverse)
                for class in 0..if k == 2 { 1 } else { k } {
                    let freq = |b: usize| bin(b)[class] / bin_n(b);
                    order.clone_from(&values);
                    order.sort_by(|&a, &b| freq(a).total_cmp(&freq(b)));
                    for forward in [true, false] {
                        let mut acc = vec![0.0; k];
                        for i in 0..order.len() {
                            let c = if forward {
                                order[i]
                            } else {
                                order[order.len() - 1 - i]
                            };
                            acc.iter_mut().zip(bin(c)).for_each(|(a, v)| *a += v);
                            let n_acc: f64 = acc.iter().sum();
                            let mut improved = false;
                            if n_missing > 0.0 {
                                improved |= search.offer(&acc, None, false);
                                improved |= search.offer(&acc, Some(missing), true);
                            } else {
                                improved |= search.offer(&acc, None, n_acc >= n - n_acc);
                            }
                            if improved {
                                chosen = (0..=i)
                                    .map(|j| {
                                        if forward {
                                            order[j]
                                        } else {
                                            order[order.len() - 1 - j]
                                        }
                                    })
                                    .collect();
                            }
                        }
                    }
                }
                let mut words = vec![0u64; nv.div_ceil(64)];
                for c in chosen {
                    words[c / 64] |= 1 << (c % 64);
                }
                while words.last() == Some(&0) {
                    words.pop();
                }
                SplitRule::Categorical { left: words }
            }
        };
        let (gain, n_left, default_left) = search.found?;
        let side = |n| Stats { g: 0.0, h: 0.0, n };
        Some(SplitCandidate {
            gain,
            feature: f,
            rule,
            default_left,
            left: side(n_left),
            right: side(n - n_left),
        })
    }
}

/// `Σ c_k² / n` (0 for an empty node).
#[inline]
fn sq_over_n(counts: &[f64], n: f64) -> f64 {
    if n > 0.0 {
        counts.iter().map(|c| c * c).sum::<f64>() / n
    } else {
        0.0
    }
}

/// The best partition of one feature seen so far.
struct Search<'a> {
    total: &'a [f64],
    n: f64,
    parent: f64,
    min_leaf: f64,
    best_gain: f64,
    /// `(gain, left rows, default left)`.
    found: Option<(f64, f64, bool)>,
    left: &'a mut Vec<f64>,
}

impl Search<'_> {
    /// Scores the partition whose left side has counts `acc` (plus `extra`, the missing bin);
    /// returns true when it is the new best.
    fn offer(&mut self, acc: &[f64], extra: Option<&[f64]>, default_left: bool) -> bool {
        self.left.clear();
        self.left.extend_from_slice(acc);
        if let Some(e) = extra {
            self.left.iter_mut().zip(e).for_each(|(a, v)| *a += v);
        }
        let n_left: f64 = self.left.iter().sum();
        let n_right = self.n - n_left;
        if n_left < self.min_leaf || n_right < self.min_leaf {
            return false;
        }
        let right_sq: f64 = self
            .total
            .iter()
            .zip(self.left.iter())
            .map(|(t, l)| (t - l) * (t - l))
            .sum();
        let gain = sq_over_n(self.left.as_slice(), n_left) + right_sq / n_right - self.parent;
        if gain > GAIN_REL_EPS * self.parent.abs() && gain > self.best_gain {
            self.best_gain = gain;
            self.found = Some((gain, n_left, default_left));
            true
        } else {
            false
        }
    }
}
