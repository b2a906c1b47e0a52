//! Replaying a glassbox-trained gradient-boosted ensemble on its training data: the
//! training-time state (per-round gradients, hessians, leaf membership) that BoostIn and
//! LeafInfluence need, recomputed from the model file and the training rows.
//!
//! Scores start at the stored base score; gradients and hessians come from glassbox's own
//! [`Objective`] (known from the target); rows are routed to leaves by the stored splits. This is
//! exact when the training file is the one the model was trained on, **without row subsampling
//! or a validation split** (every tree then saw every row). Two checks enforce it: the number of
//! training rows reaching each leaf must equal the leaf's recorded cover, and every leaf value
//! must be reproduced by `−η G/(H + λ)`. The learning rate η and the L2 strength λ are not
//! stored in the model: they are recovered from the leaves by least squares on
//! `η G + λ v = −v H` (two unknowns, one equation per leaf), and the residual is the second check.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::explain::{ExplainError, Result};
use crate::model::gbdt::Objective;
use crate::model::{sigmoid, EnsembleSource, TreeEnsemble};

/// Training-time state of every tree, tree-major.
pub(crate) struct Replay {
    pub model: TreeEnsemble,
    pub objective: Objective,
    pub n: usize,
    pub learning_rate: f64,
    pub lambda: f64,
    /// Leaf node of each training row, per tree.
    pub leaf_of: Vec<Vec<u32>>,
    /// Training rows grouped by leaf: `order[t][range[t][node].0..range[t][node].1]`.
    pub order: Vec<Vec<u32>>,
    pub range: Vec<Vec<(u32, u32)>>,
    /// Gradient, hessian and third derivative (∂h/∂score; logistic only, else 0) of each row's
    /// loss for the tree's output at the scores before its round.
    pub grad: Vec<Vec<f64>>,
    pub hess: Vec<Vec<f64>>,
    pub third: Vec<Vec<f64>>,
    /// Per tree and leaf node: H + λ (0 for internal nodes).
    pub denom: Vec<Vec<f64>>,
    /// Raw scores of the finished model, rows × outputs.
    pub final_scores: Vec<f64>,
    /// The training labels.
    pub y: Vec<f64>,
}

pub(crate) fn check_labels(objective: Objective, y: ArrayView1<f64>) -> Result<()> {
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
            reason: format!("row {}: not a valid label for this model", i + 1),
        });
    }
    Ok(())
}

impl Replay {
    /// Replays `model` on `x` (encoded features) with labels `y` (class indices for
    /// classifiers). Errors as [`super::BoostIn::new`].
    pub fn new(model: &TreeEnsemble, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<Replay> {
        if model.source != EnsembleSource::GradientBoosting {
            return Err(ExplainError::Unsupported(
                "influence on trees needs a gradient-boosted model trained by glassbox (its training can be replayed); this model is not one".into(),
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
        let mut scores: Vec<f64> = model
            .base_score
            .iter()
            .copied()
            .cycle()
            .take(n * k)
            .collect();
        let mut gh = vec![vec![[0.0f64; 2]; n]; k];
        let mut third_round = vec![vec![0.0f64; n]; k];
        let mut rp = Replay {
            model: model.clone(),
            objective,
            n,
            learning_rate: 0.0,
            lambda: 0.0,
            leaf_of: Vec::with_capacity(n_trees),
            order: Vec::with_capacity(n_trees),
            range: Vec::with_capacity(n_trees),
            grad: Vec::with_capacity(n_trees),
            hess: Vec::with_capacity(n_trees),
            third: Vec::with_capacity(n_trees),
            denom: Vec::with_capacity(n_trees),
            final_scores: Vec::new(),
            y: y.clone(),
        };
        // Per leaf (G, H, v) for recovering η and λ.
        let mut leaves: Vec<(f64, f64, f64)> = Vec::new();
        for (t, tree) in model.trees.iter().enumerate() {
            let class = model.tree_output[t] as usize;
            if class == 0 {
                // A new round: gradients at the scores before it (all outputs at once).
                objective.gradients(&y, &scores, &mut gh);
                if objective == Objective::Logistic {
                    for i in 0..n {
                        let p = sigmoid(scores[i]);
                        third_round[0][i] = p * (1.0 - p) * (1.0 - 2.0 * p);
                    }
                }
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
                        "the training data do not reproduce the model: {} training rows reach leaf {node} of tree {t}, but the model recorded {cover}; influence needs exactly the rows the model was trained on, trained without row subsampling or a validation split",
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
            rp.order.push(ord);
            rp.range.push(r);
            rp.grad.push(gh[class].iter().map(|g| g[0]).collect());
            rp.hess.push(gh[class].iter().map(|g| g[1]).collect());
            rp.third.push(third_round[class].clone());
            rp.denom.push(stats.iter().map(|s| s.1).collect());
            rp.leaf_of.push(leaf);
        }
        let (learning_rate, lambda) = recover_rate_and_l2(&leaves)?;
        for (t, d) in rp.denom.iter_mut().enumerate() {
            for (node, h) in d.iter_mut().enumerate() {
                *h = if model.trees[t].nodes[node].is_leaf() {
                    *h + lambda
                } else {
                    0.0
                };
            }
        }
        rp.learning_rate = learning_rate;
        rp.lambda = lambda;
        rp.final_scores = scores;
        Ok(rp)
    }

    /// Leaf nodes that row `x` reaches, per tree.
    pub fn leaves_of(&self, x: &[f64]) -> Vec<usize> {
        self.model.trees.iter().map(|t| t.leaf_index(x)).collect()
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
                "the training data do not reproduce the model's leaf values (a leaf holds {v:e}; the replayed gradients give {pred:e} with learning rate {eta} and λ {lambda}): influence needs exactly the rows and labels the model was trained on"
            )));
        }
    }
    Ok((eta, lambda))
}
