//! LeafInfluence (Sharchilev, Ustinovsky, Serdyukov & de Rijke, "Finding influential training
//! samples for gradient boosted decision trees", ICML 2018): the influence function of a GBDT
//! with its tree *structures* held fixed and every leaf value a function of the training weights.
//!
//! Unlike [`super::BoostIn`], an up-weighted row changes not only the leaves it sits in but,
//! through the changed scores, the gradients every later tree was fitted to. With the Newton leaf
//! `v = −η G/(H + λ)` and `Jⱼ = ∂F(xⱼ)/∂wᵢ` the derivative of row j's score before the tree,
//!
//! ```text
//! ∂v_l/∂wᵢ = −η [ 1[i∈l](gᵢ + ṽ hᵢ) + Σ_{j∈l} (hⱼ + ṽ h′ⱼ) Jⱼ ] / (H_l + λ),   ṽ = v/η
//! ```
//!
//! and `Jⱼ` then grows by the derivative of the leaf j falls in. Removing i changes the explained
//! row's loss by `−ℓ′(y, F(x)) (∂b/∂wᵢ + Σ_t ∂v_{leaf_t(x)}/∂wᵢ)`.
//!
//! Boosting starts from the best constant `b` (mean, log-odds), which retraining without i moves
//! too: every `Jⱼ` starts at `∂b/∂wᵢ = (yᵢ − ȳ)/n` (squared error) or
//! `(yᵢ − p̄)/(n p̄(1 − p̄))` (logistic). The paper starts from a fixed constant; the
//! term matters on summed losses, where the shift acts on every explained row alike.
//!
//! Cost: O(n·T) per training row, O(n²·T) for all of them, and n × (number of leaves) numbers of
//! memory — a method for small and medium data (the paper's own limitation); BoostIn is O(n·T)
//! in total. Single-output models only (squared error, logistic); multiclass trees interact
//! through the softmax and are refused.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::replay::{check_labels, Replay};
use super::{need_label, Influence, InfluenceTarget};
use crate::explain::{ExplainError, Result};
use crate::model::gbdt::Objective;
use crate::model::TreeEnsemble;

/// Largest n²·T LeafInfluence accepts (about a minute on one core).
const MAX_WORK: f64 = 3e10;
/// Largest n × leaves table it keeps (400 MB).
const MAX_TABLE: f64 = 5e7;

/// LeafInfluence estimator of a glassbox gradient-boosted ensemble on its training data.
pub struct LeafInfluence {
    rp: Replay,
    /// Per tree, the compact index of each leaf node (internal nodes unused), and its offset.
    leaf_index: Vec<Vec<u32>>,
    offset: Vec<usize>,
    n_leaves: usize,
    /// Row i: `∂v/∂wᵢ` of every leaf of every tree (n × n_leaves, row-major).
    dv: Vec<f64>,
    /// Row i: `∂b/∂wᵢ`, the derivative of the initial constant score.
    dbase: Vec<f64>,
}

/// `∂b/∂wᵢ` of the initial score `b` (the weighted mean of y, or its log-odds) for every row.
fn base_derivative(rp: &Replay) -> Vec<f64> {
    let n = rp.n as f64;
    let mean = rp.y.iter().sum::<f64>() / n;
    let scale = match rp.objective {
        Objective::Logistic if mean > 0.0 && mean < 1.0 => 1.0 / (n * mean * (1.0 - mean)),
        Objective::SquaredError => 1.0 / n,
        _ => 0.0, // a clamped (one-class) base does not move; multiclass is refused earlier
    };
    rp.y.iter().map(|&y| (y - mean) * scale).collect()
}

impl LeafInfluence {
    /// Replays `model` on its training rows and differentiates every leaf value with respect to
    /// every training row's weight.
    ///
    /// # Errors
    /// As [`super::BoostIn::new`], plus [`ExplainError::Unsupported`] for a multiclass model or
    /// data too large for the O(n²·T) method.
    pub fn new(
        model: &TreeEnsemble,
        x: ArrayView2<f64>,
        y: ArrayView1<f64>,
    ) -> Result<LeafInfluence> {
        let rp = Replay::new(model, x, y)?;
        if rp.objective.n_outputs() != 1 {
            return Err(ExplainError::Unsupported(
                "LeafInfluence supports single-output models (regression, two classes); use BoostIn for multiclass models".into(),
            ));
        }
        let n = rp.n;
        let t_n = rp.model.trees.len();
        let mut leaf_index = Vec::with_capacity(t_n);
        let mut offset = Vec::with_capacity(t_n);
        let mut n_leaves = 0usize;
        for tree in &rp.model.trees {
            offset.push(n_leaves);
            let idx: Vec<u32> = tree
                .nodes
                .iter()
                .scan(0u32, |c, node| {
                    let v = *c;
                    if node.is_leaf() {
                        *c += 1;
                    }
                    Some(v)
                })
                .collect();
            n_leaves += tree.nodes.iter().filter(|nd| nd.is_leaf()).count();
            leaf_index.push(idx);
        }
        let (nf, work) = (n as f64, (n as f64).powi(2) * t_n as f64);
        if work > MAX_WORK || nf * n_leaves as f64 > MAX_TABLE {
            return Err(ExplainError::Unsupported(format!(
                "LeafInfluence costs O(n²·trees): {n} training rows × {t_n} trees is too much for it; use BoostIn"
            )));
        }
        let lr = rp.learning_rate;
        let dbase = base_derivative(&rp);
        let mut dv = vec![0.0; n * n_leaves];
        dv.par_chunks_mut(n_leaves.max(1))
            .enumerate()
            .for_each_init(
                || (vec![0.0; n], Vec::new()),
                |(jac, acc), (i, out)| {
                    jac.iter_mut().for_each(|v| *v = dbase[i]);
                    for (t, tree) in rp.model.trees.iter().enumerate() {
                        acc.clear();
                        acc.resize(tree.nodes.len(), 0.0);
                        let (leaf, g, h, h3) =
                            (&rp.leaf_of[t], &rp.grad[t], &rp.hess[t], &rp.third[t]);
                        for j in 0..n {
                            if jac[j] != 0.0 {
                                let l = leaf[j] as usize;
                                let vt = tree.nodes[l].value / lr;
                                acc[l] += (h[j] + vt * h3[j]) * jac[j];
                            }
                        }
                        let li = leaf[i] as usize;
                        acc[li] += g[i] + tree.nodes[li].value / lr * h[i];
                        for (node, a) in acc.iter_mut().enumerate() {
                            let d = rp.denom[t][node];
                            if tree.nodes[node].is_leaf() {
                                *a = if d > 0.0 { -lr * *a / d } else { 0.0 };
                                out[offset[t] + leaf_index[t][node] as usize] = *a;
                            }
                        }
                        for j in 0..n {
                            jac[j] += acc[leaf[j] as usize];
                        }
                    }
                },
            );
        Ok(LeafInfluence {
            rp,
            leaf_index,
            offset,
            n_leaves,
            dv,
            dbase,
        })
    }

    fn columns(&self, leaves: &[usize]) -> Vec<usize> {
        leaves
            .iter()
            .enumerate()
            .map(|(t, &l)| self.offset[t] + self.leaf_index[t][l] as usize)
            .collect()
    }
}

impl Influence for LeafInfluence {
    fn n_train(&self) -> usize {
        self.rp.n
    }

    fn method(&self) -> &'static str {
        "leaf-influence"
    }

    fn influence(
        &self,
        x: ArrayView1<f64>,
        y: Option<f64>,
        target: InfluenceTarget,
    ) -> Result<Vec<f64>> {
        let row = x.to_vec();
        let leaves = self.rp.leaves_of(&row);
        let score = self.rp.model.base_score[0]
            + leaves
                .iter()
                .enumerate()
                .map(|(t, &l)| self.rp.model.trees[t].nodes[l].value)
                .sum::<f64>();
        let g = match target {
            InfluenceTarget::Prediction => 1.0,
            InfluenceTarget::Loss => {
                let y = need_label(y)?;
                check_labels(self.rp.objective, ArrayView1::from(&[y][..]))?;
                let mut gh = vec![vec![[0.0f64; 2]; 1]; 1];
                self.rp.objective.gradients(&[y], &[score], &mut gh);
                gh[0][0][0]
            }
        };
        let cols = self.columns(&leaves);
        Ok(self
            .dv
            .par_chunks(self.n_leaves.max(1))
            .zip(self.dbase.par_iter())
            .map(|(d, &db)| -g * (db + cols.iter().map(|&c| d[c]).sum::<f64>()))
            .collect())
    }

    fn self_influence(&self) -> Result<Vec<f64>> {
        Ok((0..self.rp.n)
            .into_par_iter()
            .map(|i| {
                let leaves: Vec<usize> = (0..self.rp.model.trees.len())
                    .map(|t| self.rp.leaf_of[t][i] as usize)
                    .collect();
                let cols = self.columns(&leaves);
                let d = &self.dv[i * self.n_leaves..(i + 1) * self.n_leaves];
                -self.final_gradient(i) * (self.dbase[i] + cols.iter().map(|&c| d[c]).sum::<f64>())
            })
            .collect())
    }
}

impl LeafInfluence {
    /// Row i's loss gradient at the finished model.
    fn final_gradient(&self, i: usize) -> f64 {
        let mut gh = vec![vec![[0.0f64; 2]; 1]; 1];
        self.rp
            .objective
            .gradients(&[self.rp.y[i]], &[self.rp.final_scores[i]], &mut gh);
        gh[0][0][0]
    }
}
