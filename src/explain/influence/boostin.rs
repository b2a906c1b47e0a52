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
//! The model file stores trees, not training-time state. Everything BoostIn needs is recomputed
//! by replaying the ensemble on the training data: scores start at the stored base score,
//! gradients and hessians come from glassbox's own [`Objective`] (known from the target), rows
//! are routed to leaves by the stored splits. This is exact for glassbox-trained GBDTs when the
//! training file is the one the model was trained on, **without row subsampling or a validation
//! split** (every tree then saw every row). Two checks enforce it: the number of training rows
//! reaching each leaf must equal the leaf's recorded cover, and the leaf values must be
//! reproduced by `−η G/(H + λ)`. The learning rate η and the L2 strength λ are not stored in the
//! model: they are recovered from the leaves themselves by least squares on
//! `η G + λ v = −v H` (two unknowns, one equation per leaf), and the fit residual is the second
//! check. Imported XGBoost/LightGBM models are refused: their objectives, leaf refinements and
//! sampling are not replayable here.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::{need_label, Influence, InfluenceTarget};
use crate::explain::{ExplainError, Result};
use crate::model::gbdt::Objective;
use crate::model::{EnsembleSource, TreeEnsemble};

/// BoostIn influence estimator of a glassbox gradient-boosted ensemble on its training data.
pub struct BoostIn {
    model: TreeEnsemble,
    objective: Objective,
    n_train: usize,
    learning_rate: f64,
    lambda: f64,
    /// Per tree, the training rows grouped by leaf: `order[t]` lists rows, `range[t][node]` the
    /// slice of `order[t]` that reached leaf `node`.
    order: Vec<Vec<u32>>,
    range: Vec<Vec<(u32, u32)>>,
    /// Per tree and training row (tree-major): `(η gᵢ + v hᵢ)/(H + λ)`.
    deriv: Vec<Vec<f64>>,
    /// Per tree and training row: the row's own gradient at that round (for self-influence).
    grad: Vec<Vec<f64>>,
}

fn check_labels(objective: Objective, y: ArrayView1<f64>) -> Result<()> {
    let classes = match objective {
        Objective::SquaredError => None,
        Objective::Logistic => Some(2),
        Objective::Softmax { n_classes } => Some(n_classes),
    };
    if let Some(i) = y.iter().position(|&v| match classes {
        None => !v.is_finite(),
        Some(c) => !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < c),
    }) {
        return Err(ExplainError::InvalidParam {
            name: "label",
            value: y[i].to_string(),
            reason: format!("training row {}: not a valid label for this model", i + 1),
        });
    }
    Ok(())
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
        if model.source != EnsembleSource::GradientBoosting {
            return Err(ExplainError::Unsupported(
                "BoostIn needs a gradient-boosted model trained by glassbox (its training can be replayed); this model is not one".into(),
            ));
        }
        let target = model.target.as_ref().ok_or_else(|| {
            ExplainError::Unsupported("the model records no target, so its loss is unknown".into())
        })?;
        let objective = Objective::for_target(target);
        let k = objective.n_outputs();
        let n = x.nrows();
        if y.len() != n || x.ncols() != model.n_features() {
            return Err(ExplainError::Shape(format!(
                "training data {}×{} with {} labels; the model has {} features",
                n,
                x.ncols(),
                y.len(),
                model.n_features()
            )));
        }
        check_labels(objective, y)?;
        let x = x.as_standard_layout();
        let nf = x.ncols();
        let xs = x.as_slice().expect("standard layout");
        let y = y.to_vec();
        let n_trees = model.trees.len();
        let mut scores: Vec<f64> = model.base_score.iter().copied().cycle().take(n * k).collect();
        let mut gh = vec![vec![[0.0f64; 2]; n]; k];
        let mut order = Vec::with_capacity(n_trees);
        let mut range = Vec::with_capacity(n_trees);
        let mut grad = Vec::with_capacity(n_trees);
        let mut hess = Vec::with_capacity(n_trees);
        let mut leaf_of: Vec<Vec<u32>> = Vec::with_capacity(n_trees);
        // Per leaf (G, H, v) for recovering η and λ.
        let mut leaves: Vec<(f64, f64, f64)> = Vec::new();
        for (t, tree) in model.trees.iter().enumerate() {
            let class = model.tree_output[t] as usize;
            if class == 0 {
                // A new round: gradients at the scores before it (all outputs at once).
                objective.gradients(&y, &scores, &mut gh);
            }
            let leaf: Vec<u32> = (0..n)
                .into_par_iter()
                .with_min_len(1024)
                .map(|i| tree.leaf_index(&xs[i * nf..(i + 1) * nf]) as u32)
                .collect();
            let m = tree.nodes.len();
            let mut stats = vec![(0.0f64, 0.0f64, 0u32); m];
            for (i, &l) in leaf.iter().enumerate() {
                let s = &mut stats[l as usize];
                s.0 += gh[class][i][0];
                s.1 += gh[class][i][1];
                s.2 += 1;
            }
            let mut r = vec![(0u32, 0u32); m];
            let mut start = 0u32;
            for (node, s) in stats.iter().enumerate() {
                if !tree.nodes[node].is_leaf() {
                    continue;
                }
                let cover = tree.nodes[node].cover;
                if f64::from(s.2) != cover {
                    return Err(ExplainError::Unsupported(format!(
                        "the training data do not reproduce the model: {} training rows reach leaf {node} of tree {t}, but the model recorded {cover}; BoostIn needs exactly the rows the model was trained on, trained without row subsampling or a validation split",
                        s.2
                    )));
                }
                r[node] = (start, start + s.2);
                start += s.2;
                leaves.push((s.0, s.1, tree.nodes[node].value));
            }
            let mut fill: Vec<u32> = r.iter().map(|x| x.0).collect();
            let mut ord = vec![0u32; n];
            for (i, &l) in leaf.iter().enumerate() {
                ord[fill[l as usize] as usize] = i as u32;
                fill[l as usize] += 1;
            }
            for (i, &l) in leaf.iter().enumerate() {
                scores[i * k + class] += tree.nodes[l as usize].value;
            }
            order.push(ord);
            range.push(r);
            grad.push(gh[class].iter().map(|g| g[0]).collect::<Vec<f64>>());
            hess.push(gh[class].iter().map(|g| g[1]).collect::<Vec<f64>>());
            leaf_of.push(leaf);
        }
        let (learning_rate, lambda) = recover_rate_and_l2(&leaves)?;
        let deriv: Vec<Vec<f64>> = (0..n_trees)
            .into_par_iter()
            .map(|t| {
                let tree = &model.trees[t];
                let mut hsum = vec![0.0; tree.nodes.len()];
                for (i, &l) in leaf_of[t].iter().enumerate() {
                    hsum[l as usize] += hess[t][i];
                }
                (0..n)
                    .map(|i| {
                        let l = leaf_of[t][i] as usize;
                        let d = hsum[l] + lambda;
                        if d > 0.0 {
                            (learning_rate * grad[t][i] + tree.nodes[l].value * hess[t][i]) / d
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(BoostIn {
            model: model.clone(),
            objective,
            n_train: n,
            learning_rate,
            lambda,
            order,
            range,
            deriv,
            grad,
        })
    }

    /// The learning rate recovered from the leaves.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// The leaf L2 strength λ recovered from the leaves.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
}

/// Least squares for (η, λ) in `η G + λ v = −v H` over the leaves, then a check that every leaf
/// value is reproduced.
fn recover_rate_and_l2(leaves: &[(f64, f64, f64)]) -> Result<(f64, f64)> {
    let (mut a11, mut a12, mut a22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(g, h, v) in leaves {
        a11 += g * g;
        a12 += g * v;
        a22 += v * v;
        b1 += -v * h * g;
        b2 += -v * h * v;
    }
    let det = a11 * a22 - a12 * a12;
    let (mut eta, mut lambda) = if det.abs() > 1e-12 * (a11 * a22).max(f64::MIN_POSITIVE) {
        ((b1 * a22 - b2 * a12) / det, (a11 * b2 - a12 * b1) / det)
    } else if a11 > 0.0 {
        (b1 / a11, 0.0)
    } else {
        (0.0, 0.0)
    };
    if lambda.abs() < 1e-9 {
        lambda = 0.0;
    }
    if !(eta > 0.0 && eta.is_finite()) {
        eta = 1.0; // all-zero leaves: any rate reproduces them, and derivatives scale with v anyway
    }
    let vmax = leaves.iter().map(|l| l.2.abs()).fold(0.0, f64::max);
    for &(g, h, v) in leaves {
        let d = h + lambda;
        let pred = if d > 0.0 { -eta * g / d } else { 0.0 };
        if (pred - v).abs() > 1e-7 * vmax.max(1e-300) {
            return Err(ExplainError::Unsupported(format!(
                "the training data do not reproduce the model's leaf values (a leaf holds {v:e}; the replayed gradients give {pred:e} with learning rate {eta} and λ {lambda}): BoostIn needs exactly the rows and labels the model was trained on"
            )));
        }
    }
    Ok((eta, lambda))
}

impl Influence for BoostIn {
    fn n_train(&self) -> usize {
        self.n_train
    }

    fn method(&self) -> &'static str {
        "boostin"
    }

    fn influence(&self, x: ArrayView1<f64>, y: Option<f64>, target: InfluenceTarget) -> Result<Vec<f64>> {
        let k = self.objective.n_outputs();
        let label = match target {
            InfluenceTarget::Loss => {
                let y = need_label(y)?;
                check_labels(self.objective, ArrayView1::from(&[y][..]))?;
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
        let mut scores = self.model.base_score.clone();
        let mut gh = vec![vec![[0.0f64; 2]; 1]; k];
        let mut out = vec![0.0; self.n_train];
        for (t, tree) in self.model.trees.iter().enumerate() {
            let class = self.model.tree_output[t] as usize;
            if class == 0 {
                if let Some(y) = label {
                    self.objective.gradients(&[y], &scores, &mut gh);
                }
            }
            let g = if label.is_some() { gh[class][0][0] } else { 1.0 };
            let leaf = tree.leaf_index(&row);
            let (a, b) = self.range[t][leaf];
            let d = &self.deriv[t];
            for &i in &self.order[t][a as usize..b as usize] {
                out[i as usize] += g * d[i as usize];
            }
            scores[class] += tree.nodes[leaf].value;
        }
        Ok(out)
    }

    fn self_influence(&self) -> Result<Vec<f64>> {
        let t_n = self.deriv.len();
        Ok((0..self.n_train)
            .into_par_iter()
            .map(|i| (0..t_n).map(|t| self.grad[t][i] * self.deriv[t][i]).sum())
            .collect())
    }
}
