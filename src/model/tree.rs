//! The one in-memory tree representation shared by training, importers, prediction and Tree SHAP.
//!
//! # Layout
//! A [`Tree`] is a flat `Vec<Node>` (root at index 0) plus one `Vec<u64>` of category bitsets.
//! Each [`Node`] is a small `Copy` struct: traversal touches one 48-byte node per level, and the
//! SHAP kernels can copy a whole path onto their stack. Boxed nodes were rejected: pointer chasing
//! costs more than the branch itself at these sizes.
//!
//! # One decision rule for every source
//! XGBoost sends `x < t` left and evaluates in `f32`; LightGBM sends `x <= t` left in `f64` and has
//! three missing-value conventions; categorical splits send a set of levels one way. Rather than
//! branching on the source at every node, importers translate into one rule, [`Node::goes_left`]:
//!
//! 1. `NaN` (missing) follows the node's default direction — unless the node has
//!    [`Node::NAN_AS_ZERO`] (LightGBM `missing_type=None`), which replaces it by `0.0` first.
//! 2. With [`Node::ZERO_AS_MISSING`] (LightGBM `missing_type=Zero`), `|x| <= 1e-35f` also follows
//!    the default direction.
//! 3. Numeric split: `x < threshold` goes left. A LightGBM `x <= t` becomes `x < next_up(t)`,
//!    which is the same test for every `f64`.
//! 4. Categorical split: the value's integer code is looked up in the node's bitset; a member goes
//!    left when [`Node::CATEGORY_LEFT`] is set, right otherwise. A negative, fractional or
//!    out-of-range code is not a member.
//!
//! XGBoost's `f32` evaluation is kept exact by [`TreeEnsemble::f32_inputs`]: inputs are rounded
//! to `f32` (thresholds already are) before the comparison, as XGBoost does.
//!
//! # Cover
//! Every node carries its *cover*: the training weight that reached it (XGBoost's hessian sum,
//! LightGBM's and glassbox's row counts). Path-dependent Tree SHAP weighs unknown features by it.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Link, Model};
use crate::data::{FeatureSchema, TargetSpec};

/// LightGBM's `kZeroThreshold`: the `f32` literal `1e-35f` widened to `f64`
/// (1.0000000180025095e-35, not `1e-35`), so that `|x| <=` it matches LightGBM's `IsZero` exactly.
pub const ZERO_THRESHOLD: f64 = 1e-35_f32 as f64;

/// The deepest tree glassbox accepts. Real ensembles stay far below it; the limit bounds the
/// recursion and path buffers of the explainers whatever a model file says.
pub const MAX_DEPTH: usize = 256;

/// Index meaning "no child": the node is a leaf.
pub const NO_CHILD: u32 = u32::MAX;

/// One node of a [`Tree`]: a split (internal node) or a value (leaf).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Feature index of the split (0 for leaves).
    pub feature: u32,
    /// Left child, or [`NO_CHILD`] for a leaf.
    pub left: u32,
    /// Right child, or [`NO_CHILD`] for a leaf.
    pub right: u32,
    /// Numeric split: `x < threshold` goes left. Unused for categorical splits and leaves.
    /// May be `+inf` (LightGBM's `x <= inf` splits that separate only missing values); stored in
    /// JSON as the string `"inf"`, since JSON has no infinity.
    #[serde(with = "json_float")]
    pub threshold: f64,
    /// Leaf value (the raw-score contribution). For internal nodes, informational only.
    pub value: f64,
    /// Training weight that reached this node (hessian sum or row count).
    pub cover: f64,
    /// Categorical split: start of the bitset in [`Tree::category_words`].
    pub cat_start: u32,
    /// Categorical split: number of 64-bit words of the bitset.
    pub cat_len: u32,
    /// Bit flags: [`Node::DEFAULT_LEFT`], [`Node::CATEGORICAL`], …
    pub flags: u8,
}

impl Node {
    /// Missing values go left.
    pub const DEFAULT_LEFT: u8 = 1;
    /// The split is on category membership.
    pub const CATEGORICAL: u8 = 2;
    /// Categories in the set go left (otherwise right).
    pub const CATEGORY_LEFT: u8 = 4;
    /// Values with `|x| <=` [`ZERO_THRESHOLD`] are treated as missing (LightGBM `missing_type=Zero`).
    pub const ZERO_AS_MISSING: u8 = 8;
    /// `NaN` is replaced by `0.0` before the test (LightGBM `missing_type=None`).
    pub const NAN_AS_ZERO: u8 = 16;

    /// A leaf with this value and cover.
    pub fn leaf(value: f64, cover: f64) -> Node {
        Node {
            feature: 0,
            left: NO_CHILD,
            right: NO_CHILD,
            threshold: 0.0,
            value,
            cover,
            cat_start: 0,
            cat_len: 0,
            flags: 0,
        }
    }

    /// A numeric split `x < threshold`.
    pub fn numeric_split(
        feature: u32,
        threshold: f64,
        left: u32,
        right: u32,
        default_left: bool,
        cover: f64,
    ) -> Node {
        Node {
            feature,
            left,
            right,
            threshold,
            value: 0.0,
            cover,
            cat_start: 0,
            cat_len: 0,
            flags: if default_left { Node::DEFAULT_LEFT } else { 0 },
        }
    }

    /// True for leaves.
    #[inline]
    pub fn is_leaf(&self) -> bool {
        self.left == NO_CHILD
    }

    /// Whether missing values go left.
    #[inline]
    pub fn default_left(&self) -> bool {
        self.flags & Node::DEFAULT_LEFT != 0
    }

    /// The decision rule of the module docs. `words` is the tree's [`Tree::category_words`].
    #[inline]
    pub fn goes_left(&self, x: f64, words: &[u64]) -> bool {
        let mut x = x;
        if x.is_nan() {
            if self.flags & Node::NAN_AS_ZERO != 0 {
                x = 0.0;
            } else {
                return self.default_left();
            }
        }
        if self.flags & Node::ZERO_AS_MISSING != 0 && x.abs() <= ZERO_THRESHOLD {
            return self.default_left();
        }
        if self.flags & Node::CATEGORICAL == 0 {
            return x < self.threshold;
        }
        let member = x >= 0.0 && x.fract() == 0.0 && {
            let code = x as u64;
            let word = (code / 64) as usize;
            word < self.cat_len as usize
                && words
                    .get(self.cat_start as usize + word)
                    .is_some_and(|w| (w >> (code % 64)) & 1 == 1)
        };
        member == (self.flags & Node::CATEGORY_LEFT != 0)
    }

    /// The child that `x` goes to.
    #[inline]
    pub fn next(&self, x: f64, words: &[u64]) -> u32 {
        if self.goes_left(x, words) {
            self.left
        } else {
            self.right
        }
    }
}

/// A binary decision tree stored as flat arrays; the root is node 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The nodes, root first; children may stand anywhere after validation.
    pub nodes: Vec<Node>,
    /// Bitsets of categorical splits, referenced by [`Node::cat_start`] / [`Node::cat_len`].
    pub category_words: Vec<u64>,
}

impl Tree {
    /// The leaf index that row `x` reaches.
    #[inline]
    pub fn leaf_index(&self, x: &[f64]) -> usize {
        let mut i = 0usize;
        loop {
            let node = &self.nodes[i];
            if node.is_leaf() {
                return i;
            }
            i = node.next(x[node.feature as usize], &self.category_words) as usize;
        }
    }

    /// The leaf value that row `x` reaches.
    #[inline]
    pub fn predict_row(&self, x: &[f64]) -> f64 {
        self.nodes[self.leaf_index(x)].value
    }

    /// Maximum depth (a lone leaf has depth 0). Iterative, so a hostile deep chain cannot overflow
    /// the stack.
    pub fn max_depth(&self) -> usize {
        if self.nodes.is_empty() {
            return 0;
        }
        let mut deepest = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((i, d)) = stack.pop() {
            let n = &self.nodes[i];
            deepest = deepest.max(d);
            // On an unvalidated (cyclic) tree, stop rather than loop.
            if !n.is_leaf() && d < self.nodes.len() {
                stack.push((n.left as usize, d + 1));
                stack.push((n.right as usize, d + 1));
            }
        }
        deepest
    }

    /// Checks that the tree is a well-formed binary tree over `n_features` features: every child
    /// index in range, every node reached exactly once from the root (no cycles, no sharing), no
    /// NaN thresholds, category bitsets in range. Importers call this so that a hand-edited file
    /// cannot make traversal loop or index out of bounds.
    ///
    /// # Errors
    /// A sentence saying what is wrong, with the node index.
    pub fn validate(&self, n_features: usize) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("tree has no nodes".into());
        }
        let n = self.nodes.len();
        let mut seen = vec![false; n];
        let mut stack = vec![(0usize, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return Err(format!(
                    "node {i} is deeper than {MAX_DEPTH} levels; glassbox refuses such trees"
                ));
            }
            if seen[i] {
                return Err(format!(
                    "node {i} is reached twice (a cycle or a shared child)"
                ));
            }
            seen[i] = true;
            let node = &self.nodes[i];
            if node.is_leaf() {
                if node.right != NO_CHILD {
                    return Err(format!("node {i} has a right child but no left child"));
                }
                if !node.value.is_finite() {
                    return Err(format!("leaf {i} has a non-finite value {}", node.value));
                }
                continue;
            }
            if node.feature as usize >= n_features {
                return Err(format!(
                    "node {i} splits on feature index {} but the model has {n_features} features",
                    node.feature
                ));
            }
            if node.flags & Node::CATEGORICAL == 0 && node.threshold.is_nan() {
                return Err(format!("node {i} has a NaN threshold"));
            }
            if node.flags & Node::CATEGORICAL != 0
                && node.cat_start as usize + node.cat_len as usize > self.category_words.len()
            {
                return Err(format!("node {i} refers to a category set out of range"));
            }
            for child in [node.left, node.right] {
                if child as usize >= n {
                    return Err(format!(
                        "node {i} has child {child} but the tree has {n} nodes"
                    ));
                }
                stack.push((child as usize, depth + 1));
            }
        }
        if let Some(orphan) = seen.iter().position(|s| !s) {
            return Err(format!("node {orphan} is not reachable from the root"));
        }
        Ok(())
    }
}

/// Where an ensemble came from, recorded for reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EnsembleSource {
    /// Trained by glassbox's gradient boosting.
    GradientBoosting,
    /// Trained by glassbox's random forest.
    RandomForest,
    /// Read from an XGBoost JSON model.
    XGBoost {
        /// The version string the file records.
        version: String,
    },
    /// Read from a LightGBM text model.
    LightGbm {
        /// The version string the file records.
        version: String,
    },
}

/// A sum of trees per output, plus a base score: gradient boosting, random forests (leaf values
/// pre-divided by the number of trees) and imported XGBoost / LightGBM models.
///
/// Raw output `k` for a row is `base_score[k] + Σ value(leaf of tree t)` over trees `t` with
/// `tree_output[t] == k`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeEnsemble {
    /// Feature schema (names, kinds) in the order trees index features.
    pub schema: FeatureSchema,
    /// Target, when known (trained models).
    pub target: Option<TargetSpec>,
    /// The trees.
    pub trees: Vec<Tree>,
    /// For each tree, the output it adds to.
    pub tree_output: Vec<u32>,
    /// Raw-score offset per output.
    pub base_score: Vec<f64>,
    /// Raw score → prediction.
    pub link: Link,
    /// Output names (class labels or the target name).
    pub output_names: Vec<String>,
    /// Round inputs to `f32` before comparing (XGBoost semantics).
    pub f32_inputs: bool,
    /// Provenance.
    pub source: EnsembleSource,
}

impl TreeEnsemble {
    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.base_score.len()
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.schema.len()
    }

    /// Checks every tree (see [`Tree::validate`]) and the per-tree output indices.
    ///
    /// # Errors
    /// A sentence naming the tree and what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.tree_output.len() != self.trees.len() {
            return Err(format!(
                "{} trees but {} output assignments",
                self.trees.len(),
                self.tree_output.len()
            ));
        }
        if self.output_names.len() != self.n_outputs() {
            return Err("output names do not match the number of outputs".into());
        }
        for (t, tree) in self.trees.iter().enumerate() {
            tree.validate(self.n_features())
                .map_err(|e| format!("tree {t}: {e}"))?;
            if self.tree_output[t] as usize >= self.n_outputs() {
                return Err(format!(
                    "tree {t} adds to output {} but the model has {}",
                    self.tree_output[t],
                    self.n_outputs()
                ));
            }
        }
        Ok(())
    }

    /// Copies a row into `buf`, rounded to `f32` when the ensemble evaluates in `f32`. Tree SHAP and
    /// prediction both go through this so they see the same values.
    #[inline]
    pub fn prepare_row<'a>(&self, row: &'a [f64], buf: &'a mut Vec<f64>) -> &'a [f64] {
        if self.f32_inputs {
            buf.clear();
            buf.extend(row.iter().map(|&v| v as f32 as f64));
            buf
        } else {
            row
        }
    }

    /// Raw scores of one row into `out` (length = outputs).
    pub fn predict_row_into(&self, row: &[f64], out: &mut [f64]) {
        out.copy_from_slice(&self.base_score);
        for (tree, &k) in self.trees.iter().zip(&self.tree_output) {
            out[k as usize] += tree.predict_row(row);
        }
    }
}

impl Model for TreeEnsemble {
    fn schema(&self) -> &FeatureSchema {
        &self.schema
    }

    fn as_tree_ensemble(&self) -> Option<&TreeEnsemble> {
        Some(self)
    }

    fn output_names(&self) -> &[String] {
        &self.output_names
    }

    fn link(&self) -> Link {
        self.link
    }

    fn predict_raw_into(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        assert_eq!(x.ncols(), self.n_features(), "feature count mismatch");
        assert_eq!(out.nrows(), x.nrows(), "output rows mismatch");
        assert_eq!(out.ncols(), self.n_outputs(), "output columns mismatch");
        // Blocks of rows, tree by tree: a tree's nodes stay in cache while the block goes through
        // it. Each row still adds its trees in model order, so results are bit-identical to
        // `predict_row_into`.
        const BLOCK: usize = 64;
        let m = self.n_features();
        let k = self.n_outputs();
        out.axis_chunks_iter_mut(Axis(0), BLOCK)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), BLOCK).into_par_iter())
            .for_each_init(
                || (Vec::new(), Vec::new()),
                |(rows, acc), (mut o, xb)| {
                    let nb = xb.nrows();
                    load_block(rows, xb, self.f32_inputs);
                    acc.clear();
                    for _ in 0..nb {
                        acc.extend_from_slice(&self.base_score);
                    }
                    for (tree, &t) in self.trees.iter().zip(&self.tree_output) {
                        let t = t as usize;
                        for i in 0..nb {
                            acc[i * k + t] += tree.predict_row(&rows[i * m..(i + 1) * m]);
                        }
                    }
                    for (mut dst, src) in o.rows_mut().into_iter().zip(acc.chunks_exact(k)) {
                        dst.iter_mut().zip(src).for_each(|(d, v)| *d = *v);
                    }
                },
            );
    }
}

/// Serde for an `f64` that may be infinite: a JSON number when finite, else `"inf"` / `"-inf"` /
/// `"NaN"`. serde_json would write `null` for infinities and then refuse to read it back.
mod json_float {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Number(v) => Ok(v),
            NumberOrText::Text(t) => match t.as_str() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "NaN" => Ok(f64::NAN),
                other => Err(serde::de::Error::custom(format!(
                    "expected a number, \"inf\", \"-inf\" or \"NaN\", found \"{other}\""
                ))),
            },
        }
    }
}

/// Copies a block of rows into `rows` (row-major), rounded to `f32` when the model compares in
/// `f32` (XGBoost), as every tree walk expects them.
pub(crate) fn load_block(rows: &mut Vec<f64>, xb: ArrayView2<f64>, f32_inputs: bool) {
    rows.clear();
    for r in xb.rows() {
        if f32_inputs {
            rows.extend(r.iter().map(|&v| v as f32 as f64));
        } else {
            rows.extend(r.iter().copied());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> Tree {
        Tree {
            nodes: vec![
                Node::numeric_split(0, 1.0, 1, 2, true, 10.0),
                Node::leaf(-1.0, 4.0),
                Node::leaf(2.0, 6.0),
            ],
            category_words: vec![],
        }
    }

    #[test]
    fn numeric_split_and_missing_direction() {
        let t = stump();
        assert_eq!(t.predict_row(&[0.5]), -1.0);
        assert_eq!(t.predict_row(&[1.0]), 2.0);
        assert_eq!(t.predict_row(&[f64::NAN]), -1.0);
    }

    #[test]
    fn categorical_membership() {
        let mut n = Node::numeric_split(0, 0.0, 1, 2, false, 1.0);
        n.flags = Node::CATEGORICAL | Node::CATEGORY_LEFT;
        n.cat_start = 0;
        n.cat_len = 2;
        let words = vec![0b1010u64, 1u64]; // {1, 3, 64}
        assert!(n.goes_left(1.0, &words));
        assert!(n.goes_left(64.0, &words));
        assert!(!n.goes_left(2.0, &words));
        assert!(!n.goes_left(-1.0, &words));
        assert!(!n.goes_left(1.5, &words));
        assert!(!n.goes_left(500.0, &words));
        assert!(!n.goes_left(f64::NAN, &words));
    }

    #[test]
    fn infinite_thresholds_survive_json() {
        let mut n = Node::numeric_split(0, f64::INFINITY, 1, 2, false, 1.0);
        let text = serde_json::to_string(&n).unwrap();
        assert!(text.contains("\"threshold\":\"inf\""), "{text}");
        assert_eq!(serde_json::from_str::<Node>(&text).unwrap(), n);
        n.threshold = f64::NEG_INFINITY;
        let back: Node = serde_json::from_str(&serde_json::to_string(&n).unwrap()).unwrap();
        assert_eq!(back, n);
        n.threshold = 0.1 + 0.2;
        let back: Node = serde_json::from_str(&serde_json::to_string(&n).unwrap()).unwrap();
        assert_eq!(back.threshold.to_bits(), n.threshold.to_bits());
    }

    #[test]
    fn lightgbm_missing_conventions() {
        let mut n = Node::numeric_split(0, 0.5, 1, 2, true, 1.0);
        n.flags |= Node::ZERO_AS_MISSING;
        assert!(n.goes_left(0.0, &[]));
        assert!(!n.goes_left(0.7, &[]));
        // LightGBM's zero band is |x| <= 1e-35f, slightly wider than 1e-35: values inside it
        // follow the default (here right), the next float above is an ordinary value (< 0.5).
        let mut z = Node::numeric_split(0, 0.5, 1, 2, false, 1.0);
        z.flags |= Node::ZERO_AS_MISSING;
        assert!(!z.goes_left(1.00000001e-35, &[]));
        assert!(!z.goes_left(-ZERO_THRESHOLD, &[]));
        assert!(z.goes_left(f64::from_bits(ZERO_THRESHOLD.to_bits() + 1), &[]));
        let mut m = Node::numeric_split(0, -0.5, 1, 2, true, 1.0);
        m.flags = Node::NAN_AS_ZERO; // default right, but NaN becomes 0.0 and 0.0 >= -0.5
        assert!(!m.goes_left(f64::NAN, &[]));
    }

    #[test]
    fn validate_rejects_cycles_and_bad_indices() {
        let mut t = stump();
        t.nodes[0].right = 0;
        assert!(t.validate(1).unwrap_err().contains("reached twice"));
        let mut t = stump();
        t.nodes[0].left = 7;
        assert!(t.validate(1).unwrap_err().contains("has child 7"));
        let t = stump();
        assert!(t.validate(0).unwrap_err().contains("feature index 0"));
        let mut t = stump();
        t.nodes[0].threshold = f64::NAN;
        assert!(t.validate(1).unwrap_err().contains("NaN threshold"));
    }
}
