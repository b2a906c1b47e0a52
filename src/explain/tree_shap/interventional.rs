//! Exact interventional Tree SHAP against a background set (shap's
//! `feature_perturbation="interventional"`).
//!
//! # The game
//! For a row `x` and one background row `z`, `v_z(S) = f(x_S, z_S̄)`: features in `S` take `x`'s
//! value, the others `z`'s. The explanation is the Shapley value of `v(S) = mean_z v_z(S)`, which
//! by linearity is the mean over `z` of the Shapley values of each `v_z`.
//!
//! # Raw output: `O(visited nodes)` per (row, background row, tree)
//! In raw space `v_z` is a sum over trees, and for one tree a leaf is reached by the hybrid row
//! `(x_S, z_S̄)` iff every feature on its path is either in `S` and `x` goes that way, or not in
//! `S` and `z` does. Walking the tree from the root, where `x` and `z` go the same way there is one
//! child; where they part on a feature not yet decided, both children are visited, the `x`-side with
//! the feature put in `S` (`a` such features) and the `z`-side with it kept out (`b` features). A
//! leaf reached with `(a, b)` is the game `v·1[A ⊆ S, B ∩ S = ∅]`, whose Shapley values are
//! `v (a−1)! b!/(a+b)!` for each feature of `A` and `−v a! (b−1)!/(a+b)!` for each of `B` (the
//! algorithm of H. Chen in shap's `tree_shap_indep`). Sums of these are carried up the walk, so a
//! pair costs the number of nodes visited, at most `O(L)` and usually `O(D)`.
//!
//! Work shared across background rows, two ways: (1) for each tree the background rows are
//! reduced to their distinct *direction patterns* (which way each node sends them); rows with the
//! same pattern give the same walk, so it is done once and weighted by the count. (2) When many
//! rows are explained, the background is folded into per-leaf tables (see `leaf_tables`) and a
//! row then costs `O(Σ_leaves d)` per tree whatever the background size. The choice is made per
//! tree from a cost estimate ([`InterventionalAlgorithm`]); both are exact.
//!
//! # Probability space: exact, not rescaled
//! With a link `σ`, `v_z(S) = σ(F(x_S, z_S̄))` is no longer a sum over trees. shap's
//! `TreeExplainer(model_output="probability")` computes the raw attributions of each pair and
//! multiplies them by `(σ(F(x)) − σ(F(z))) / (F(x) − F(z))` (`dense_independent` in its
//! `tree_shap.h`): that adds up, but it is not the Shapley value of the probability game (it
//! spreads the curvature of `σ` in proportion to raw attributions). glassbox computes the Shapley
//! values of `σ(F(x_S, z_S̄))` exactly: only features on which `x` and `z` take different branches
//! somewhere reachable are players (the others are dummies), and the `2^d` coalitions of those `d`
//! players are enumerated in Gray-code order, updating only the trees that split on the flipped
//! feature. That is exponential in `d` by nature (the game has no additive structure to exploit),
//! so pairs with more than [`InterventionalTreeShap::with_max_exact_players`] players are refused
//! with an error that says so.

use ndarray::{Array2, Array3, ArrayView2};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::layout::{LeafPaths, Preorder};
use super::leaf_tables::LeafTables;
use super::probability::{PairScratch, TransformedGame};
use super::{check_width, for_row_blocks, model_output, validated};
use crate::explain::{ExplainError, Explanation, ExplanationMeta, OutputSpace, Result};
use crate::model::{Link, Node, TreeEnsemble};

/// Default cap on the number of players (features on which a row and a background row diverge)
/// for exact probability-space attributions: `2^16` coalitions per pair.
pub const DEFAULT_MAX_EXACT_PLAYERS: usize = 16;

/// Largest number of table entries (`f64`) built for one call (256 MiB).
const MAX_TABLE_NUMBERS: usize = 1 << 25;

/// How raw-space interventional attributions are computed. Both are exact; they differ in cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InterventionalAlgorithm {
    /// Per tree, whichever is estimated cheaper, judged by the number of rows of the first call
    /// (the choice is kept for later calls on the same explainer, so chunks of one run agree).
    #[default]
    Auto,
    /// One walk per (row, distinct background pattern, tree).
    PerPair,
    /// Per-leaf tables over the background, for every tree whose leaves have at most 12 distinct
    /// features and that fits the memory budget (others use the walk).
    LeafTables,
}

/// One tree prepared for interventional Tree SHAP.
#[derive(Clone, Debug)]
pub(super) struct IvTree {
    pub pre: Preorder,
    pub output: usize,
    /// Distinct background direction patterns, `pre.len()` flags each (true = left).
    pub patterns: Vec<bool>,
    /// Fraction of the background rows that have each pattern.
    pub weights: Vec<f64>,
    /// For each background row, its pattern.
    pub pattern_of: Vec<u32>,
}

impl IvTree {
    pub fn pattern(&self, g: usize) -> &[bool] {
        let n = self.pre.len();
        &self.patterns[g * n..(g + 1) * n]
    }
}

/// Interventional Tree SHAP prepared for one ensemble and one background set.
#[derive(Clone, Debug)]
pub struct InterventionalTreeShap<'a> {
    ens: &'a TreeEnsemble,
    trees: Vec<IvTree>,
    /// Raw output of each background row, rows × outputs.
    bg_raw: Array2<f64>,
    /// `coef[a * stride + b] = (a−1)! b! / (a+b)!` for `a ≥ 1`.
    coef: Vec<f64>,
    stride: usize,
    max_exact_players: usize,
    algorithm: InterventionalAlgorithm,
    /// Leaf tables (or `None` = walk) per tree, decided and built by the first raw-space call and
    /// reused by later ones, so every chunk of a run uses the same algorithm per tree.
    tables: OnceLock<Vec<Option<LeafTables>>>,
}

impl<'a> InterventionalTreeShap<'a> {
    /// Prepares the ensemble and the background rows (rows × features, encoded as the model's
    /// schema): direction patterns per tree and the background's outputs.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] for a background of the wrong width or with no rows;
    /// [`ExplainError::Unsupported`] for a malformed ensemble.
    pub fn new(
        ens: &'a TreeEnsemble,
        background: ArrayView2<f64>,
    ) -> Result<InterventionalTreeShap<'a>> {
        validated(ens)?;
        check_width(ens, &background, "the background data")?;
        let n_bg = background.nrows();
        if n_bg == 0 {
            return Err(ExplainError::Shape(
                "the background data has no rows: interventional Tree SHAP needs at least one"
                    .into(),
            ));
        }
        let m = ens.n_features();
        let mut prepared = Vec::with_capacity(n_bg * m);
        let mut raw = Vec::with_capacity(m);
        let mut cast = Vec::new();
        for row in background.rows() {
            raw.clear();
            raw.extend(row.iter().copied());
            prepared.extend_from_slice(ens.prepare_row(&raw, &mut cast));
        }
        let mut max_depth = 0;
        let mut trees = Vec::with_capacity(ens.trees.len());
        for (t, tree) in ens.trees.iter().enumerate() {
            let pre = Preorder::new(tree);
            max_depth = max_depth.max(tree.max_depth());
            let n = pre.len();
            let mut index: HashMap<Vec<bool>, u32> = HashMap::new();
            let mut patterns = Vec::new();
            let mut counts: Vec<f64> = Vec::new();
            let mut pattern_of = Vec::with_capacity(n_bg);
            let mut dirs = vec![false; n];
            for z in prepared.chunks_exact(m) {
                pre.directions(z, &mut dirs);
                let g = *index.entry(dirs.clone()).or_insert_with(|| {
                    patterns.extend_from_slice(&dirs);
                    counts.push(0.0);
                    (counts.len() - 1) as u32
                });
                counts[g as usize] += 1.0;
                pattern_of.push(g);
            }
            let weights = counts.iter().map(|c| c / n_bg as f64).collect();
            trees.push(IvTree {
                pre,
                output: ens.tree_output[t] as usize,
                patterns,
                weights,
                pattern_of,
            });
        }
        let k = ens.n_outputs();
        let mut bg_raw = Array2::zeros((n_bg, k));
        for (i, z) in prepared.chunks_exact(m).enumerate() {
            let mut out = vec![0.0; k];
            ens.predict_row_into(z, &mut out);
            for (o, v) in out.into_iter().enumerate() {
                bg_raw[[i, o]] = v;
            }
        }
        let stride = max_depth + 2;
        let mut coef = vec![0.0; stride * stride];
        for a in 1..stride {
            for b in 0..stride - a {
                coef[a * stride + b] = shapley_coef(a, b);
            }
        }
        Ok(InterventionalTreeShap {
            ens,
            trees,
            bg_raw,
            coef,
            stride,
            max_exact_players: DEFAULT_MAX_EXACT_PLAYERS,
            algorithm: InterventionalAlgorithm::Auto,
            tables: OnceLock::new(),
        })
    }

    /// Sets the cap on players per (row, background row) pair for probability-space attributions
    /// (cost `2^players`; at most 30).
    pub fn with_max_exact_players(mut self, players: usize) -> Self {
        self.max_exact_players = players.min(30);
        self
    }

    /// Chooses how raw-space attributions are computed (default: automatic, by estimated cost).
    pub fn with_algorithm(mut self, algorithm: InterventionalAlgorithm) -> Self {
        self.algorithm = algorithm;
        self.tables = OnceLock::new();
        self
    }

    /// Number of background rows.
    pub fn n_background(&self) -> usize {
        self.bg_raw.nrows()
    }

    /// Base values per output: the mean model output over the background, in `space`.
    ///
    /// # Errors
    /// [`ExplainError::Unsupported`] for probability space on a regression model.
    pub fn base_values(&self, space: OutputSpace) -> Result<Vec<f64>> {
        let k = self.ens.n_outputs();
        let n = self.n_background() as f64;
        let mut base = vec![0.0; k];
        let link = self.link_for(space)?;
        let mut row = vec![0.0; k];
        for z in self.bg_raw.rows() {
            row.iter_mut().zip(z.iter()).for_each(|(r, v)| *r = *v);
            link.apply(&mut row);
            base.iter_mut().zip(&row).for_each(|(b, v)| *b += v / n);
        }
        Ok(base)
    }

    fn link_for(&self, space: OutputSpace) -> Result<Link> {
        match (space, self.ens.link) {
            (OutputSpace::Raw, _) => Ok(Link::Identity),
            (OutputSpace::Probability, Link::Identity) if super::raw_is_probability(self.ens) => {
                Ok(Link::Identity)
            }
            (OutputSpace::Probability, Link::Identity) => Err(ExplainError::Unsupported(
                "probability output needs a classification model; this model's output is a \
                 regression value: use raw output"
                    .into(),
            )),
            (OutputSpace::Probability, link) => Ok(link),
        }
    }

    /// Attributions of the rows of `x` as rows × outputs × features, in `space`.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] for a wrong width; [`ExplainError::Unsupported`] for probability
    /// space on a regression model, or when a (row, background row) pair has more players than
    /// the cap in probability space (the message names the row).
    pub fn values(&self, x: ArrayView2<f64>, space: OutputSpace) -> Result<Array3<f64>> {
        check_width(self.ens, &x, "the data")?;
        let link = self.link_for(space)?;
        let (n, m, k) = (x.nrows(), x.ncols(), self.ens.n_outputs());
        let width = k * m;
        // With an identity link (raw space, or a classifier whose raw output is a probability)
        // the game is a sum over trees: the raw algorithms are exact.
        let flat = match link {
            Link::Identity => {
                let tables = self.tables.get_or_init(|| self.tables_for(n));
                for_row_blocks(self.ens, x, width, |_, rows, out| {
                    self.raw_block(tables, rows, m, out, width)
                })
            }
            _ => {
                let failure = std::sync::Mutex::new(None::<(usize, usize)>);
                let flat = for_row_blocks(self.ens, x, width, |start, rows, out| {
                    if let Err((r, d)) = self.transformed_block(rows, m, out, width, link) {
                        let mut f = failure.lock().unwrap_or_else(|e| e.into_inner());
                        // Keep the first row in row order, not in thread-timing order.
                        if f.map_or(true, |(row, _)| start + r < row) {
                            *f = Some((start + r, d));
                        }
                    }
                });
                if let Some((row, d)) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
                    return Err(ExplainError::Unsupported(format!(
                        "exact probability-space interventional SHAP of row {row} needs at least \
                         {d} players (features on which the row and a background row take \
                         different branches), more than the limit of {}: the cost is 2^players \
                         per background row. Use raw output, a background of rows that resemble \
                         the explained rows, or raise the limit (--max-players, at most 30)",
                        self.max_exact_players
                    )));
                }
                flat
            }
        };
        Array3::from_shape_vec((n, k, m), flat)
            .map_err(|e| ExplainError::Shape(format!("internal shape error: {e}")))
    }

    /// A full [`Explanation`], checked for additivity against the model's output in `space`.
    ///
    /// # Errors
    /// As [`InterventionalTreeShap::values`]; [`ExplainError::Additivity`] if the guard fails.
    pub fn explain(
        &self,
        x: ArrayView2<f64>,
        space: OutputSpace,
        tolerance: f64,
    ) -> Result<Explanation> {
        let values = self.values(x, space)?;
        let base = self.base_values(space)?;
        let n = x.nrows();
        let base = Array2::from_shape_fn((n, base.len()), |(_, k)| base[k]);
        let mut meta = ExplanationMeta::new("tree-shap-interventional");
        meta.output_space = space;
        let e = Explanation::new(
            values,
            base,
            self.ens.schema.clone(),
            self.ens.output_names.clone(),
            meta,
        )?
        .with_data(x.to_owned())?;
        e.check_additivity(model_output(self.ens, x, space).view(), tolerance)?;
        Ok(e)
    }

    /// Decides per tree between the per-pair walk and leaf tables for `n_rows` rows, and builds
    /// the chosen tables (in parallel over trees; the choice depends only on `n_rows`).
    fn tables_for(&self, n_rows: usize) -> Vec<Option<LeafTables>> {
        let mut budget = MAX_TABLE_NUMBERS;
        let plan: Vec<Option<LeafPaths>> = self
            .trees
            .iter()
            .map(|tree| {
                if tree.pre.len() == 1 || self.algorithm == InterventionalAlgorithm::PerPair {
                    return None;
                }
                let paths = LeafPaths::new(&tree.pre);
                let cost = LeafTables::cost(&paths, tree.weights.len())?;
                // A walk visits about two nodes per level for each pattern.
                let depth = tree.pre.max_depth() as f64;
                let walk = n_rows as f64 * tree.weights.len() as f64 * (2.0 * depth + 1.0) * 8.0;
                let table = cost.build + n_rows as f64 * cost.per_row;
                let wanted = self.algorithm == InterventionalAlgorithm::LeafTables || table < walk;
                (wanted && cost.size <= budget).then(|| {
                    budget -= cost.size;
                    paths
                })
            })
            .collect();
        plan.into_par_iter()
            .zip(self.trees.par_iter())
            .map(|(paths, tree)| paths.map(|p| LeafTables::build(tree, p)))
            .collect()
    }

    fn raw_block(
        &self,
        tables: &[Option<LeafTables>],
        rows: &[f64],
        m: usize,
        out: &mut [f64],
        width: usize,
    ) {
        let mut status = vec![0i8; m];
        let mut xdirs = Vec::new();
        for (tree, table) in self.trees.iter().zip(tables) {
            let n = tree.pre.len();
            if n == 1 {
                continue; // a lone leaf: every hybrid row gets the same value, no attribution
            }
            xdirs.resize(n, false);
            for (r, x) in rows.chunks_exact(m).enumerate() {
                tree.pre.directions(x, &mut xdirs);
                let phi = &mut out[r * width + tree.output * m..r * width + (tree.output + 1) * m];
                if let Some(table) = table {
                    table.add_row(&xdirs, phi);
                    continue;
                }
                for (g, &w) in tree.weights.iter().enumerate() {
                    let mut walk = RawWalk {
                        nodes: &tree.pre.nodes,
                        xl: &xdirs,
                        zl: tree.pattern(g),
                        status: &mut status,
                        coef: &self.coef,
                        stride: self.stride,
                        phi,
                        weight: w,
                    };
                    walk.go(0, 0, 0);
                }
            }
        }
    }

    fn transformed_block(
        &self,
        rows: &[f64],
        m: usize,
        out: &mut [f64],
        width: usize,
        link: Link,
    ) -> std::result::Result<(), (usize, usize)> {
        let game = TransformedGame {
            trees: &self.trees,
            base_score: &self.ens.base_score,
            link,
            n_features: m,
            max_players: self.max_exact_players,
        };
        let mut scratch = PairScratch::new(&game);
        let n_bg = self.n_background();
        for (r, x) in rows.chunks_exact(m).enumerate() {
            scratch.set_row(&game, x);
            let phi = &mut out[r * width..(r + 1) * width];
            for z in 0..n_bg {
                game.add_pair(&mut scratch, z, self.bg_raw.row(z), 1.0 / n_bg as f64, phi)
                    .map_err(|d| (r, d))?;
            }
        }
        Ok(())
    }
}

/// `(a−1)! b! / (a+b)!`, the Shapley value per feature of `A` in the game `1[A ⊆ S, B ∩ S = ∅]`.
fn shapley_coef(a: usize, b: usize) -> f64 {
    // = 1 / (a · C(a+b, a)), the binomial built in f64.
    let mut binom = 1.0;
    for i in 0..b {
        binom = binom * (a + b - i) as f64 / (i + 1) as f64;
    }
    1.0 / (a as f64 * binom)
}

/// One (row, background pattern) walk over one tree in raw space.
struct RawWalk<'w> {
    nodes: &'w [Node],
    xl: &'w [bool],
    zl: &'w [bool],
    /// Per feature: +1 decided for `x` (in `S`), −1 decided for `z`, 0 undecided.
    status: &'w mut [i8],
    coef: &'w [f64],
    stride: usize,
    phi: &'w mut [f64],
    weight: f64,
}

impl RawWalk<'_> {
    /// Walks the subtree at `k` with `a` features decided for `x` and `b` for `z`; adds the
    /// contributions of features that part below `k` to `phi` and returns the sums
    /// `(Σ positive parts, Σ negative parts)` of the leaves reached, for the callers' features.
    fn go(&mut self, mut k: usize, a: usize, b: usize) -> (f64, f64) {
        loop {
            let node = &self.nodes[k];
            if node.is_leaf() {
                let v = node.value * self.weight;
                let pos = if a > 0 {
                    v * self.coef[a * self.stride + b]
                } else {
                    0.0
                };
                let neg = if b > 0 {
                    -v * self.coef[b * self.stride + a]
                } else {
                    0.0
                };
                return (pos, neg);
            }
            let f = node.feature as usize;
            let xc = if self.xl[k] { node.left } else { node.right } as usize;
            let zc = if self.zl[k] { node.left } else { node.right } as usize;
            match self.status[f] {
                1 => k = xc,
                -1 => k = zc,
                _ if xc == zc => k = xc,
                _ => {
                    self.status[f] = 1;
                    let (px, nx) = self.go(xc, a + 1, b);
                    self.status[f] = -1;
                    let (pz, nz) = self.go(zc, a, b + 1);
                    self.status[f] = 0;
                    self.phi[f] += px + nz;
                    return (px + pz, nx + nz);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_are_shapley_weights() {
        // a = 1, b = 0: the feature alone decides: weight 1.
        assert_eq!(shapley_coef(1, 0), 1.0);
        // a = 2, b = 0: two features needed: 1/2 each.
        assert_eq!(shapley_coef(2, 0), 0.5);
        // a = 1, b = 1: 0! 1! / 2! = 1/2.
        assert_eq!(shapley_coef(1, 1), 0.5);
        // a = 2, b = 1: 1! 1! / 3! = 1/6.
        assert!((shapley_coef(2, 1) - 1.0 / 6.0).abs() < 1e-16);
    }
}
