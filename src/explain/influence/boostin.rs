//! BoostIn (Brophy, Hammoudeh & Lowd, "Adapting and evaluating influence-estimation methods for
//! gradient-boosted decision trees", JMLR 24, 2023): TracIn (Pruthi et al. 2020) for GBDTs.
//!
//! Boosting round t fits leaf values `v = −η G/(H + λ)` (η the learning rate, G and H the sums of
//! the rows' gradients and hessians in the leaf). Giving training row i the weight `wᵢ`
//! and differentiating, `∂v/∂wᵢ = −η (gᵢ + (v/η) hᵢ)/(H + λ)` for the leaf that holds i, 0 for the
//! others. BoostIn keeps the trees' structure and the other rounds fixed and sums, over the
//! trees in which the explained row shares a leaf with i, the explained row's loss gradient at
//! that round times that derivative. Removing i (Δwᵢ = −1) therefore changes the explained loss by
//!
//! ```text
//! influence(r, i) = Σ_t [leaf_t(r) = leaf_t(i)] · ∂L_r/∂f |_(scores before round t) · (η gᵢ + v hᵢ)/(H + λ)
//! ```
//!
//! — positive when i helped, matching the module's convention (and BoostIn's "proponent" sign).
//!
//! # Replaying the ensemble
//! The model file stores trees, not training-time state; it is recomputed by replaying the
//! ensemble on the training data (see `replay.rs`: exact for glassbox-trained GBDTs without row
//! subsampling or a validation split, checked leaf by leaf; the learning rate and λ are recovered
//! from the leaves). Imported XGBoost/LightGBM models are refused: their objectives, leaf
//! refinements and sampling are not replayable here.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::replay::{check_labels, Replay};
use super::{need_label, Influence, InfluenceTarget};
use crate::explain::{ExplainError, Result};
use crate::model::TreeEnsemble;

/// BoostIn influence estimator of a glassbox gradient-boosted ensemble on its training data.
pub struct BoostIn {
    rp: Replay,
    /// Per tree and training row (tree-major): `(η gᵢ + v hᵢ)/(H + λ)`.
    deriv: Vec<Vec<f64>>,
}

impl BoostIn {
    /// Replays `model` on its training rows `x` (encoded features in the model's schema) with
    /// labels `y` (class indices for classifiers) and prepares the per-tree leaf derivatives.
    ///
    /// # Errors
    /// [`ExplainError::Unsupported`] for a model not trained by glassbox's gradient boosting, or
    /// training data that do not reproduce its trees (another file, a subsample, a validation
    /// split); [`ExplainError::Shape`] / [`ExplainError::InvalidParam`] for mismatched sizes or
    /// labels.
    ///
    /// # Example
    /// ```
    /// use glassbox::data::{Dataset, SchemaOptions};
    /// use glassbox::explain::influence::{BoostIn, Influence, InfluenceTarget};
    /// use glassbox::model::gbdt::GbdtParams;
    ///
    /// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?.head(300);
    /// let (model, _) = GbdtParams::default().n_trees(10).seed(1).fit(&ds)?;
    /// let b = BoostIn::new(&model, ds.x().view(), ds.y().unwrap().view())?;
    /// assert!((b.learning_rate() - 0.1).abs() < 1e-9); // recovered from the leaves
    /// let inf = b.influence(ds.x().row(0), Some(ds.y().unwrap()[0]), InfluenceTarget::Loss)?;
    /// assert_eq!(inf.len(), 300);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(model: &TreeEnsemble, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<BoostIn> {
        let rp = Replay::new(model, x, y)?;
        let lr = rp.learning_rate;
        let deriv: Vec<Vec<f64>> = (0..rp.model.trees.len())
            .into_par_iter()
            .map(|t| {
                let tree = &rp.model.trees[t];
                (0..rp.n)
                    .map(|i| {
                        let l = rp.leaf_of[t][i] as usize;
                        let d = rp.denom[t][l];
                        if d > 0.0 {
                            (lr * rp.grad[t][i] + tree.nodes[l].value * rp.hess[t][i]) / d
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(BoostIn { rp, deriv })
    }

    /// The learning rate recovered from the leaves.
    pub fn learning_rate(&self) -> f64 {
        self.rp.learning_rate
    }

    /// The leaf L2 strength λ recovered from the leaves.
    pub fn lambda(&self) -> f64 {
        self.rp.lambda
    }
}

impl Influence for BoostIn {
    fn n_train(&self) -> usize {
        self.rp.n
    }

    fn method(&self) -> &'static str {
        "boostin"
    }

    fn influence(
        &self,
        x: ArrayView1<f64>,
        y: Option<f64>,
        target: InfluenceTarget,
    ) -> Result<Vec<f64>> {
        let k = self.rp.objective.n_outputs();
        let label = match target {
            InfluenceTarget::Loss => {
                let y = need_label(y)?;
                check_labels(self.rp.objective, ArrayView1::from(&[y][..]))?;
                Some(y)
            }
            InfluenceTarget::Prediction if k > 1 => {
                return Err(ExplainError::Unsupported(
                    "the influence on the prediction of a multiclass model is not defined (one raw score per class): use the loss".into(),
                ))
            }
            InfluenceTarget::Prediction => None,
        };
        let row = x.to_vec();
        let mut scores = self.rp.model.base_score.clone();
        let mut gh = vec![vec![[0.0f64; 2]; 1]; k];
        let mut out = vec![0.0; self.rp.n];
        for (t, tree) in self.rp.model.trees.iter().enumerate() {
            let class = self.rp.model.tree_output[t] as usize;
            if class == 0 {
                if let Some(y) = label {
                    self.rp.objective.gradients(&[y], &scores, &mut gh);
                }
            }
            let g = if label.is_some() {
                gh[class][0][0]
            } else {
                1.0
            };
            let leaf = tree.leaf_index(&row);
            let (a, b) = self.rp.range[t][leaf];
            let d = &self.deriv[t];
            for &i in &self.rp.order[t][a as usize..b as usize] {
                out[i as usize] += g * d[i as usize];
            }
            scores[class] += tree.nodes[leaf].value;
        }
        Ok(out)
    }

    fn self_influence(&self) -> Result<Vec<f64>> {
        let t_n = self.deriv.len();
        Ok((0..self.rp.n)
            .into_par_iter()
            .map(|i| {
                (0..t_n)
                    .map(|t| self.rp.grad[t][i] * self.deriv[t][i])
                    .sum()
            })
            .collect())
    }
}
