//! Growing one tree from gradients: leaf-wise (best-first) on binned data.
//!
//! # Leaf-wise growth
//! The leaf whose best split gains most is split next, until `max_leaves` leaves exist, no leaf
//! can be split, or `max_depth` stops every candidate (LightGBM's growth; Shi 2007, "Best-first
//! decision tree learning"). For the same number of leaves it reduces the loss more than
//! level-wise growth; `max_depth` bounds it when trees must stay shallow. When `max_leaves` is
//! unset (random forests) the order does not matter and the tree grows until no leaf can split.
//!
//! # Rows
//! The rows of the tree (a subsample or bootstrap, ascending, repeats allowed) live in one index
//! array; each leaf owns a contiguous range and a split partitions that range stably, as LightGBM's
//! `DataPartition` does. After growth the ranges give every row's leaf without traversing the
//! tree.
//!
//! # Features and histograms
//! With a fixed feature set per tree (boosting), each splittable leaf keeps its histogram, the
//! smaller child is built from its rows and the larger one by subtraction (see [`histogram`]).
//! With features drawn per node (random forests), only the drawn features are built, directly;
//! subtraction would need all of them at every node.
//!
//! # Cover
//! A node's cover is the number of tree rows that reached it (bootstrap repeats counted), the
//! convention of LightGBM and of the glassbox tree format. Row counts, unlike hessian sums, add up
//! exactly, so children's covers sum to their parent's, and they mean the same for every
//! objective.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::binning::BinnedData;
use super::histogram::{self, Stats};
use super::split::{best_split, leaf_value, SplitCandidate, SplitParams, SplitRule};
use crate::model::tree::{Node, Tree};

/// Which features a tree may split on.
pub(crate) enum Features<'a> {
    /// The same features at every node (ascending).
    Fixed(&'a [usize]),
    /// `count` features drawn at each node with this generator.
    PerNode {
        /// Features drawn per node.
        count: usize,
        /// The tree's generator.
        rng: &'a mut ChaCha8Rng,
    },
}

/// Shape limits and leaf scaling of a tree.
#[derive(Clone, Debug)]
pub(crate) struct GrowParams {
    /// Most leaves; `None` = no limit.
    pub max_leaves: Option<usize>,
    /// Most depth; `None` = no limit.
    pub max_depth: Option<usize>,
    /// Split constraints.
    pub split: SplitParams,
    /// Leaf values are `−G / (H + λ)` times this (the learning rate, or 1 / trees).
    pub leaf_scale: f64,
}

struct Leaf {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    stats: Stats,
    split: Option<SplitCandidate>,
    hist: Option<Vec<Stats>>,
}

/// Grows trees over one [`BinnedData`]; keeps its buffers between trees.
pub(crate) struct Grower<'d> {
    data: &'d BinnedData,
    params: GrowParams,
    rows: Vec<u32>,
    scratch: Vec<u32>,
    gh_buf: Vec<[f64; 2]>,
    pool: Vec<Vec<Stats>>,
    feature_buf: Vec<usize>,
    perm: Vec<usize>,
    /// `(node, start, end)` of every leaf of the last tree.
    leaves: Vec<(usize, usize, usize)>,
}

impl<'d> Grower<'d> {
    /// A grower for `data`.
    pub fn new(data: &'d BinnedData, params: GrowParams) -> Self {
        Grower {
            data,
            params,
            rows: Vec::new(),
            scratch: Vec::new(),
            gh_buf: Vec::new(),
            pool: Vec::new(),
            feature_buf: Vec::new(),
            perm: Vec::new(),
            leaves: Vec::new(),
        }
    }

    /// The rows of the last tree's leaves: `(leaf node index, rows)`.
    pub fn leaf_rows(&self) -> impl Iterator<Item = (usize, &[u32])> + '_ {
        self.leaves
            .iter()
            .map(|&(node, s, e)| (node, &self.rows[s..e]))
    }

    fn take_hist(&mut self) -> Vec<Stats> {
        self.pool
            .pop()
            .unwrap_or_else(|| vec![Stats::default(); self.data.total_bins()])
    }

    /// Grows a tree on `rows` (ascending binned-row indices, repeats allowed) with per-row
    /// `(gradient, hessian)` pairs `gh` (indexed by binned row).
    pub fn grow(&mut self, gh: &[[f64; 2]], rows: &[u32], mut features: Features<'_>) -> Tree {
        self.rows.clear();
        self.rows.extend_from_slice(rows);
        self.scratch.resize(rows.len(), 0);
        self.leaves.clear();
        // the feature shuffle starts from the identity in every tree, so a tree does not depend
        // on which trees this grower grew before (rayon decides that)
        self.perm.clear();
        self.perm.extend(0..self.data.n_features());
        let fixed: Option<&[usize]> = match &features {
            Features::Fixed(fs) => Some(*fs),
            Features::PerNode { .. } => None,
        };
        let mut nodes: Vec<Node> = Vec::new();
        let mut node_stats: Vec<Stats> = Vec::new();
        let mut words: Vec<u64> = Vec::new();

        let root_stats = {
            self.gather(gh, 0, rows.len());
            Stats::sum_of(&self.gh_buf)
        };
        nodes.push(Node::leaf(0.0, root_stats.n));
        node_stats.push(root_stats);
        let mut root = Leaf {
            node: 0,
            start: 0,
            end: rows.len(),
            depth: 0,
            stats: root_stats,
            split: None,
            hist: None,
        };
        if self.can_split(&root) {
            self.evaluate(&mut root, None, gh, &mut features);
        }
        let mut open = vec![root];
        let mut n_leaves = 1usize;
        while self.params.max_leaves.map_or(true, |m| n_leaves < m) {
            let Some(i) = best_open_leaf(&open, |l| l.split.as_ref()) else {
                break;
            };
            let mut parent = open.swap_remove(i);
            let split = parent.split.take().expect("picked leaves have a split");
            let mid = self.partition(&parent, &split);
            let (l_idx, r_idx) = (nodes.len(), nodes.len() + 1);
            nodes[parent.node] = self.split_node(&split, l_idx, r_idx, parent.stats.n, &mut words);
            nodes.push(Node::leaf(0.0, split.left.n));
            nodes.push(Node::leaf(0.0, split.right.n));
            node_stats.push(split.left);
            node_stats.push(split.right);
            debug_assert_eq!((mid - parent.start) as f64, split.left.n);
            let mut left = Leaf {
                node: l_idx,
                start: parent.start,
                end: mid,
                depth: parent.depth + 1,
                stats: split.left,
                split: None,
                hist: None,
            };
            let mut right = Leaf {
                node: r_idx,
                start: mid,
                end: parent.end,
                depth: parent.depth + 1,
                stats: split.right,
                split: None,
                hist: None,
            };
            let parent_hist = parent.hist.take();
            match fixed {
                Some(fs) => {
                    let (l_ok, r_ok) = (self.can_split(&left), self.can_split(&right));
                    match parent_hist {
                        Some(mut big_hist) if l_ok || r_ok => {
                            let (small, big, small_ok, big_ok) = if left.stats.n <= right.stats.n {
                                (&mut left, &mut right, l_ok, r_ok)
                            } else {
                                (&mut right, &mut left, r_ok, l_ok)
                            };
                            let small_hist = self.build_hist(small, gh, fs);
                            histogram::subtract(self.data, fs, &mut big_hist, &small_hist);
                            if small_ok {
                                self.evaluate(small, Some(small_hist), gh, &mut features);
                            } else {
                                self.pool.push(small_hist);
                            }
                            if big_ok {
                                self.evaluate(big, Some(big_hist), gh, &mut features);
                            } else {
                                self.pool.push(big_hist);
                            }
                        }
                        Some(h) => self.pool.push(h),
                        None => {}
                    }
                }
                None => {
                    for child in [&mut left, &mut right] {
                        if self.can_split(child) {
                            self.evaluate(child, None, gh, &mut features);
                        }
                    }
                }
            }
            open.push(left);
            open.push(right);
            n_leaves += 1;
        }
        for leaf in open {
            if let Some(h) = leaf.hist {
                self.pool.push(h);
            }
            self.leaves.push((leaf.node, leaf.start, leaf.end));
        }
        self.leaves.sort_unstable();
        let (l2, scale) = (self.params.split.lambda, self.params.leaf_scale);
        for (node, s) in nodes.iter_mut().zip(&node_stats) {
            node.value = leaf_value(*s, l2) * scale;
        }
        Tree {
            nodes,
            category_words: words,
        }
    }

    fn can_split(&self, leaf: &Leaf) -> bool {
        let p = &self.params.split;
        self.params.max_depth.map_or(true, |d| leaf.depth < d)
            && leaf.stats.n >= 2.0 * p.min_samples_leaf.max(1.0)
            && leaf.stats.h >= 2.0 * p.min_child_weight
    }

    /// Copies the gradients of the rows in `start..end` into `gh_buf`, in row order.
    fn gather(&mut self, gh: &[[f64; 2]], start: usize, end: usize) {
        self.gh_buf.clear();
        self.gh_buf
            .extend(self.rows[start..end].iter().map(|&r| gh[r as usize]));
    }

    /// Builds a leaf's histogram over `features`.
    fn build_hist(&mut self, leaf: &Leaf, gh: &[[f64; 2]], features: &[usize]) -> Vec<Stats> {
        self.gather(gh, leaf.start, leaf.end);
        let mut hist = self.take_hist();
        histogram::build(
            self.data,
            features,
            &self.rows[leaf.start..leaf.end],
            &self.gh_buf,
            &mut hist,
        );
        hist
    }

    /// Finds a leaf's best split. With fixed features the histogram is kept while the leaf can
    /// be split (its children need it).
    ///
    /// Per-node features are drawn one at a time (a partial Fisher–Yates shuffle) and a feature
    /// that is constant in the leaf does not count towards `count`, as in scikit-learn: otherwise
    /// a constant or all-missing column drawn at a node would end the branch.
    fn evaluate(
        &mut self,
        leaf: &mut Leaf,
        hist: Option<Vec<Stats>>,
        gh: &[[f64; 2]],
        features: &mut Features<'_>,
    ) {
        let fs: &[usize] = match features {
            Features::Fixed(fs) => fs,
            Features::PerNode { count, rng } => {
                let data = self.data;
                let m = data.n_features();
                self.gather(gh, leaf.start, leaf.end);
                let mut hist = hist.unwrap_or_else(|| self.take_hist());
                let rows = &self.rows[leaf.start..leaf.end];
                self.feature_buf.clear();
                for i in 0..m {
                    let j = rng.gen_range(i..m);
                    self.perm.swap(i, j);
                    let f = self.perm[i];
                    histogram::build(data, &[f], rows, &self.gh_buf, &mut hist);
                    let section = &hist[data.offsets()[f]..data.offsets()[f + 1]];
                    if section.iter().filter(|s| s.n > 0.0).count() >= 2 {
                        self.feature_buf.push(f);
                        if self.feature_buf.len() >= *count {
                            break;
                        }
                    }
                }
                self.feature_buf.sort_unstable();
                leaf.split = best_split(
                    data,
                    &self.feature_buf,
                    &hist,
                    leaf.stats,
                    &self.params.split,
                );
                self.pool.push(hist);
                return;
            }
        };
        let hist = match hist {
            Some(h) => h,
            None => self.build_hist(leaf, gh, fs),
        };
        leaf.split = best_split(self.data, fs, &hist, leaf.stats, &self.params.split);
        if leaf.split.is_some() {
            leaf.hist = Some(hist);
        } else {
            self.pool.push(hist);
        }
    }

    /// Stable partition of the leaf's rows: left rows first. Returns the boundary.
    fn partition(&mut self, leaf: &Leaf, split: &SplitCandidate) -> usize {
        leaf.start
            + partition(
                self.data,
                split,
                &mut self.rows[leaf.start..leaf.end],
                &mut self.scratch,
            )
    }

    /// The tree node of a split (its value is filled in at the end).
    fn split_node(
        &self,
        split: &SplitCandidate,
        left: usize,
        right: usize,
        cover: f64,
        words: &mut Vec<u64>,
    ) -> Node {
        split_node(self.data, split, left, right, cover, words)
    }
}

/// The open leaf to split next in best-first growth: the one with the largest split gain; ties go to
/// the older leaf (lower position), so the order is fixed. `None` when no open leaf has a split.
/// Shared by the boosting grower and the multiclass forest grower.
pub(crate) fn best_open_leaf<T>(
    open: &[T],
    split: impl Fn(&T) -> Option<&SplitCandidate>,
) -> Option<usize> {
    let mut pick: Option<(usize, f64)> = None;
    for (i, l) in open.iter().enumerate() {
        if let Some(s) = split(l) {
            if pick.map_or(true, |(_, best)| s.gain > best) {
                pick = Some((i, s.gain));
            }
        }
    }
    pick.map(|(i, _)| i)
}

/// Stable partition of `rows` (one leaf's rows) by `split`: left rows first, in their order.
/// Returns the number of left rows. `scratch` holds at least `rows.len()` values. Shared with the
/// multiclass forest grower.
#[inline]
pub(crate) fn partition(
    data: &BinnedData,
    split: &SplitCandidate,
    rows: &mut [u32],
    scratch: &mut [u32],
) -> usize {
    let col = data.column(split.feature);
    let missing = data.mapper(split.feature).missing_bin();
    let mut n_left = 0usize;
    let mut n_right = 0usize;
    for i in 0..rows.len() {
        let r = rows[i];
        if split.goes_left(col[r as usize] as usize, missing) {
            rows[n_left] = r;
            n_left += 1;
        } else {
            scratch[n_right] = r;
            n_right += 1;
        }
    }
    rows[n_left..].copy_from_slice(&scratch[..n_right]);
    n_left
}

/// The tree node of `split` with children `left` and `right` (its value is filled in later);
/// categorical sets are appended to `words`. Shared with the multiclass forest grower.
pub(crate) fn split_node(
    data: &BinnedData,
    split: &SplitCandidate,
    left: usize,
    right: usize,
    cover: f64,
    words: &mut Vec<u64>,
) -> Node {
    let mapper = data.mapper(split.feature);
    match &split.rule {
        SplitRule::Numeric { last_left } => Node::numeric_split(
            split.feature as u32,
            mapper.threshold_after(*last_left),
            left as u32,
            right as u32,
            split.default_left,
            cover,
        ),
        SplitRule::Categorical { left: set } => {
            let mut node = Node::numeric_split(
                split.feature as u32,
                0.0,
                left as u32,
                right as u32,
                split.default_left,
                cover,
            );
            node.flags |= Node::CATEGORICAL | Node::CATEGORY_LEFT;
            node.cat_start = words.len() as u32;
            node.cat_len = set.len() as u32;
            words.extend_from_slice(set);
            node
        }
    }
}
