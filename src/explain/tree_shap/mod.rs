//! Exact Tree SHAP for tree ensembles: path-dependent, interventional, and interaction values.
//!
//! # What is computed
//! - **Path-dependent** ([`TreeShap`], shap's `feature_perturbation="tree_path_dependent"`,
//!   XGBoost's `pred_contribs`, LightGBM's `pred_contrib`): the Shapley values of the game in
//!   which an unknown feature follows both branches of a split, weighted by the training cover
//!   that went each way. Base value = the ensemble's expected output under its covers.
//! - **Interventional** ([`InterventionalTreeShap`], shap's `"interventional"`): the Shapley values
//!   of `v(S) = mean_z f(x_S, z_S̄)` over a background set; base value = mean output over the
//!   background. In probability space the game is on the transformed output (`σ` or softmax) and is
//!   computed exactly by enumeration — see [`InterventionalTreeShap`] for why
//!   rescaling (what shap does) is not the Shapley value.
//! - **Interactions** ([`InteractionShap`]): SHAP interaction values
//!   (Lundberg et al. 2020, eq. 9), as XGBoost's `pred_interactions`.
//!
//! # Where things are
//! `layout` (preorder copy of a tree, per-leaf paths), `quadrature` (Gauss–Legendre rules),
//! `path_dependent` (the `O(N·⌈D/2⌉)` kernel), `interventional` (per-pair walks over distinct
//! background patterns, and the public type), `leaf_tables` (the background folded into per-leaf
//! tables, `O(Σ_leaves d)` per row), `probability` (exact enumeration for `σ`/softmax output),
//! `interactions`. [`crate::explain::prepare`] binds one of them to a model and background so
//! the CLI prepares once and streams chunks of rows through it.
//!
//! Every kernel works on the one shared tree representation and its one decision rule
//! ([`Node::goes_left`](crate::model::Node::goes_left)), so numeric and categorical splits,
//! missing values and XGBoost's `f32` inputs need no special cases here: the algorithms only ask
//! "which child does this row go to" and "what fraction of the cover went there".
//!
//! # Exactness and the run-time guard
//! All arithmetic is `f64`; inputs go through [`TreeEnsemble::prepare_row`] exactly as prediction
//! does, so attributions add up to the model's own output. [`TreeShap::explain`] and
//! [`InterventionalTreeShap::explain`] check that (`base + Σ φ = output` to a relative tolerance)
//! on every row before returning, and fail loudly otherwise.
//!
//! # Determinism and parallelism
//! Rows are split into blocks processed in parallel with rayon; each row's result is a sum over
//! trees (and background rows) in a fixed order, written to the row's own slice, so output is
//! bit-identical at any thread count.
//!
//! References: Lundberg et al., *From local explanations to global understanding with
//! explainable AI for trees*, Nature MI 2020; Yu et al., *Linear TreeShap*, NeurIPS 2022;
//! Yang, *Fast TreeSHAP*, 2022; Chen et al. (interventional algorithm in shap, 2018).

// Kernels index several parallel arrays by the same quadrature or node index; iterator zips
// would hide that.
#![allow(clippy::needless_range_loop)]

mod interactions;
mod interventional;
mod layout;
mod leaf_tables;
mod path_dependent;
mod probability;
mod quadrature;

use ndarray::{Array2, Array3, ArrayView2};
use rayon::prelude::*;

use super::{ExplainError, Explanation, ExplanationMeta, OutputSpace, Result};
use crate::model::{Model, TreeEnsemble};
use layout::Preorder;
use path_dependent::PdTree;

pub use interactions::{InteractionShap, InteractionValues, PairValue, RowTopPairs};
pub use interventional::{
    InterventionalAlgorithm, InterventionalTreeShap, DEFAULT_MAX_EXACT_PLAYERS,
};

/// Whether the model's raw output already is a probability: a classifier whose link is the
/// identity (glassbox's random forests average class frequencies). Probability-space
/// attributions are then the raw ones.
pub fn raw_is_probability(ens: &TreeEnsemble) -> bool {
    use crate::data::TargetKind;
    ens.link == crate::model::Link::Identity
        && matches!(
            ens.target.as_ref().map(|t| &t.kind),
            Some(TargetKind::Binary { .. } | TargetKind::Multiclass { .. })
        )
}

/// Checks an ensemble before any kernel walks it (a malformed tree could loop or index out of
/// bounds).
fn validated(ens: &TreeEnsemble) -> Result<()> {
    ens.validate()
        .map_err(|e| ExplainError::Unsupported(format!("the model is malformed: {e}")))
}

/// Checks the width of a data matrix against the model.
fn check_width(ens: &TreeEnsemble, x: &ArrayView2<f64>, what: &str) -> Result<()> {
    if x.ncols() != ens.n_features() {
        return Err(ExplainError::Shape(format!(
            "{what} has {} columns but the model has {} features",
            x.ncols(),
            ens.n_features()
        )));
    }
    Ok(())
}

/// Rows per parallel block: large enough that a tree's tables are reused across many rows, small
/// enough to give every thread several blocks.
fn block_rows(n: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    n.div_ceil(threads * 4).clamp(1, 256)
}

/// Runs `body(first_row, prepared_rows, out_block)` over blocks of rows in parallel. Prepared rows
/// are contiguous, row-major and rounded like prediction does; `out` has `width` values per row.
fn for_row_blocks<F>(ens: &TreeEnsemble, x: ArrayView2<f64>, width: usize, body: F) -> Vec<f64>
where
    F: Fn(usize, &[f64], &mut [f64]) + Sync,
{
    let n = x.nrows();
    let m = x.ncols();
    let mut out = vec![0.0; n * width];
    let b = block_rows(n);
    if width == 0 {
        return out;
    }
    out.par_chunks_mut(b * width)
        .enumerate()
        .for_each(|(blk, out_blk)| {
            let start = blk * b;
            let rows = out_blk.len() / width;
            let mut prepared = Vec::with_capacity(rows * m);
            let mut cast = Vec::new();
            let mut raw = Vec::with_capacity(m);
            for i in start..start + rows {
                raw.clear();
                raw.extend(x.row(i).iter().copied());
                prepared.extend_from_slice(ens.prepare_row(&raw, &mut cast));
            }
            body(start, &prepared, out_blk);
        });
    out
}

/// Model output per row in the requested space (what attributions must add up to).
fn model_output(ens: &TreeEnsemble, x: ArrayView2<f64>, space: OutputSpace) -> Array2<f64> {
    match space {
        OutputSpace::Raw => ens.predict_raw(x),
        OutputSpace::Probability => ens.predict(x),
    }
}

/// Path-dependent Tree SHAP prepared for one ensemble: per-tree tables are built once by
/// [`TreeShap::new`] and reused for every chunk of rows.
///
/// # Example
/// ```
/// use glassbox::data::FeatureSchema;
/// use glassbox::explain::tree_shap::TreeShap;
/// use glassbox::model::{EnsembleSource, Link, Node, Tree, TreeEnsemble};
/// use ndarray::array;
///
/// // One stump: x0 < 1 → -1 (cover 4), else 2 (cover 6).
/// let tree = Tree {
///     nodes: vec![
///         Node::numeric_split(0, 1.0, 1, 2, true, 10.0),
///         Node::leaf(-1.0, 4.0),
///         Node::leaf(2.0, 6.0),
///     ],
///     category_words: vec![],
/// };
/// let ens = TreeEnsemble {
///     schema: FeatureSchema::numeric(["x0"]),
///     target: None,
///     trees: vec![tree],
///     tree_output: vec![0],
///     base_score: vec![0.5],
///     link: Link::Identity,
///     output_names: vec!["y".into()],
///     f32_inputs: false,
///     source: EnsembleSource::GradientBoosting,
/// };
/// let shap = TreeShap::new(&ens)?;
/// // Expected value 0.5 + (-1·0.4 + 2·0.6) = 1.3; for x0 = 0 the output is -0.5.
/// assert!((shap.base_values()[0] - 1.3).abs() < 1e-12);
/// let phi = shap.values(array![[0.0]].view())?;
/// assert!((phi[[0, 0, 0]] - (-1.8)).abs() < 1e-12);
/// # Ok::<(), glassbox::explain::ExplainError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TreeShap<'a> {
    ens: &'a TreeEnsemble,
    trees: Vec<PdTree>,
    base: Vec<f64>,
}

impl<'a> TreeShap<'a> {
    /// Validates the ensemble and precomputes per-tree tables (`O(nodes · D)` per tree).
    ///
    /// # Errors
    /// [`ExplainError::Unsupported`] for a malformed ensemble or a path with more than 64
    /// distinct features.
    pub fn new(ens: &'a TreeEnsemble) -> Result<TreeShap<'a>> {
        validated(ens)?;
        let mut base = ens.base_score.clone();
        let trees = ens
            .trees
            .iter()
            .enumerate()
            .map(|(t, tree)| {
                PdTree::new(Preorder::new(tree))
                    .map_err(|e| ExplainError::Unsupported(format!("tree {t}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        for (t, pd) in trees.iter().enumerate() {
            base[ens.tree_output[t] as usize] += pd.expected;
        }
        Ok(TreeShap { ens, trees, base })
    }

    /// The base value per output: the expected raw output under the trees' covers.
    pub fn base_values(&self) -> &[f64] {
        &self.base
    }

    /// Attributions of the rows of `x` (rows × features, encoded as the model's schema), as
    /// rows × outputs × features, in raw-score space.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] when `x` does not have one column per feature.
    pub fn values(&self, x: ArrayView2<f64>) -> Result<Array3<f64>> {
        check_width(self.ens, &x, "the data")?;
        let (n, m, k) = (x.nrows(), x.ncols(), self.ens.n_outputs());
        let width = k * m;
        let flat = for_row_blocks(self.ens, x, width, |_, rows, out| {
            for (t, tree) in self.trees.iter().enumerate() {
                let offset = self.ens.tree_output[t] as usize * m;
                tree.add_rows(rows, m, out, width, offset);
            }
        });
        Array3::from_shape_vec((n, k, m), flat)
            .map_err(|e| ExplainError::Shape(format!("internal shape error: {e}")))
    }

    /// A full [`Explanation`] of the rows of `x` (raw-score space), after checking on every row
    /// that `base + Σ φ` equals the model's output to `tolerance` (relative).
    ///
    /// # Errors
    /// Shape errors as [`TreeShap::values`]; [`ExplainError::Additivity`] if the guard fails.
    pub fn explain(&self, x: ArrayView2<f64>, tolerance: f64) -> Result<Explanation> {
        let values = self.values(x)?;
        let n = x.nrows();
        let base = Array2::from_shape_fn((n, self.base.len()), |(_, k)| self.base[k]);
        let e = Explanation::new(
            values,
            base,
            self.ens.schema.clone(),
            self.ens.output_names.clone(),
            ExplanationMeta::new("tree-shap"),
        )?
        .with_data(x.to_owned())?;
        e.check_additivity(
            model_output(self.ens, x, OutputSpace::Raw).view(),
            tolerance,
        )?;
        Ok(e)
    }
}
