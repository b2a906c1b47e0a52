//! Exact leave-one-out for gradient-boosted trees: retrain without a training row and measure
//! the change of the explained rows' losses — the quantity BoostIn and LeafInfluence estimate.
//!
//! # Why an exact path
//! Both estimators hold every tree's *structure* fixed. Retraining without a row also changes
//! which splits win: gains that were near ties flip, and the flip propagates through every later
//! round. On german_credit (800 rows, LightGBM-like defaults) no retrained model without one row
//! kept all 100 trees, and the structural part of the change is several times larger than the
//! smooth part the estimators see (`examples/influence_loo.rs` prints the numbers). No
//! first-order formula can predict that; only retraining can. It costs one fit per removed row,
//! so it is meant for the few rows an estimator ranks highest: [`refine_top`] replaces their
//! estimates with the exact numbers (the hybrid the CLI would expose as `--exact-top K`).
//!
//! # What the exact numbers contain that no estimator can
//! The change of the test loss after retraining has a part that does not depend on the
//! direction of the change of the data: on adult_income (2000 rows, 100 trees of 4 leaves)
//! removing a random row *or duplicating it* both raise the summed loss of 500 test rows by
//! 0.3–1.0, while permuting the rows changes nothing. First-order estimators are odd in the
//! perturbation and predict about 0 for such rows. A table that mixes exact and estimated
//! numbers ([`ExactTop`]) therefore has the refined rows on their own level: compare them among
//! themselves.
//!
//! # The retraining protocol
//! Retraining uses [`GbdtParams::fit_without`]: the same parameters and seed, the row removed,
//! and the histogram bin cuts of **all** training rows — binning is treated as fixed
//! preprocessing, like a standardisation fitted once. Everything boosting learns (base score,
//! splits, leaf values) is relearned. Rejected: re-quantiling without the row, which moves cuts
//! of features with more distinct values than bins and adds changes that say nothing about the
//! row's information.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::replay::check_labels;
use super::{need_label, Influence, InfluenceTarget};
use crate::data::Dataset;
use crate::explain::{ExplainError, Result};
use crate::model::gbdt::{GbdtParams, Objective};
use crate::model::TreeEnsemble;

/// The loss (or raw score, for [`InfluenceTarget::Prediction`]) of every explained row.
fn row_losses(
    model: &TreeEnsemble,
    objective: Objective,
    x: ArrayView2<f64>,
    y: Option<&[f64]>,
    target: InfluenceTarget,
) -> Vec<f64> {
    let k = objective.n_outputs();
    let mut s = vec![0.0; k];
    (0..x.nrows())
        .map(|r| {
            let row = x.row(r).to_vec();
            model.predict_row_into(&row, &mut s);
            match (target, y) {
                (InfluenceTarget::Loss, Some(y)) => match objective {
                    // half the squared error: the loss whose gradient boosting fits
                    Objective::SquaredError => 0.5 * (s[0] - y[r]) * (s[0] - y[r]),
                    _ => objective.loss(&y[r..=r], &s),
                },
                _ => s[0],
            }
        })
        .collect()
}

/// Exact leave-one-out influence of the training rows `removed` on the explained rows `x`
/// (encoded features, rows × features) with labels `y`: `out[j][r]` = loss of row `r` after
/// retraining without `removed[j]` ([`GbdtParams::fit_without`]) minus its loss under the model
/// trained on all of `train` — the sign convention of [`super::Influence`].
///
/// `params` must be the parameters `train`'s model was trained with (the result is the exact
/// LOO of *that* training run). Retrains run in parallel; each is deterministic, so the output
/// does not depend on the thread count.
///
/// # Errors
/// [`ExplainError::InvalidParam`] for a missing or invalid label with
/// [`InfluenceTarget::Loss`], [`ExplainError::Unsupported`] for the prediction of a multiclass
/// model, [`ExplainError::Shape`] for mismatched sizes, and training errors (as
/// [`GbdtParams::fit`]) wrapped as [`ExplainError::Unsupported`].
///
/// # Example
/// ```
/// use glassbox::data::{Dataset, SchemaOptions};
/// use glassbox::explain::influence::{gbdt_exact_loo, InfluenceTarget};
/// use glassbox::model::gbdt::GbdtParams;
///
/// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?.head(200);
/// let params = GbdtParams::default().n_trees(10).max_leaves(Some(4)).seed(1);
/// let test = ds.head(3);
/// let y = test.y().unwrap();
/// let loo = gbdt_exact_loo(&params, &ds, &[5, 17], test.x().view(), Some(y.view()), InfluenceTarget::Loss)?;
/// assert_eq!((loo.len(), loo[0].len()), (2, 3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn gbdt_exact_loo(
    params: &GbdtParams,
    train: &Dataset,
    removed: &[usize],
    x: ArrayView2<f64>,
    y: Option<ArrayView1<f64>>,
    target: InfluenceTarget,
) -> Result<Vec<Vec<f64>>> {
    let (full, _) = params.fit(train).map_err(fit_error)?;
    let objective = Objective::for_target(full.target.as_ref().ok_or_else(|| {
        ExplainError::Unsupported("the model records no target, so its loss is unknown".into())
    })?);
    if x.ncols() != full.n_features() {
        return Err(ExplainError::Shape(format!(
            "explained rows have {} features; the model has {}",
            x.ncols(),
            full.n_features()
        )));
    }
    let labels: Option<Vec<f64>> = match target {
        InfluenceTarget::Loss => {
            let Some(y) = y else {
                return Err(need_label(None).expect_err("no label is an error"));
            };
            if y.len() != x.nrows() {
                return Err(ExplainError::Shape(format!(
                    "{} explained rows with {} labels",
                    x.nrows(),
                    y.len()
                )));
            }
            check_labels(objective, y)?;
            Some(y.to_vec())
        }
        InfluenceTarget::Prediction if objective.n_outputs() > 1 => {
            return Err(ExplainError::Unsupported(
                "the influence on the prediction of a multiclass model is not defined (one raw score per class): use the loss".into(),
            ))
        }
        InfluenceTarget::Prediction => None,
    };
    let base = row_losses(&full, objective, x, labels.as_deref(), target);
    removed
        .par_iter()
        .map(|&k| {
            let (m, _) = params.fit_without(train, &[k]).map_err(fit_error)?;
            Ok(row_losses(&m, objective, x, labels.as_deref(), target)
                .iter()
                .zip(&base)
                .map(|(a, b)| a - b)
                .collect())
        })
        .collect()
}

/// The `k` training rows with the largest `|influence|` (ties by index), largest first: the
/// candidates [`refine_top`] retrains exactly.
pub fn top_by_magnitude(influence: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..influence.len()).collect();
    idx.sort_by(|&i, &j| {
        influence[j]
            .abs()
            .total_cmp(&influence[i].abs())
            .then(i.cmp(&j))
    });
    idx.truncate(k);
    idx
}

/// The hybrid estimate for one explained row `x` (label `y`): the estimator's `influence` of
/// every training row, with the `k` largest in magnitude replaced by exact leave-one-out
/// retraining ([`gbdt_exact_loo`]). Returns the indices that were retrained.
///
/// # Errors
/// As [`gbdt_exact_loo`].
pub fn refine_top(
    params: &GbdtParams,
    train: &Dataset,
    influence: &mut [f64],
    k: usize,
    x: ArrayView1<f64>,
    y: Option<f64>,
    target: InfluenceTarget,
) -> Result<Vec<usize>> {
    let top = top_by_magnitude(influence, k);
    let xs = x.insert_axis(ndarray::Axis(0));
    let ys = y.map(|v| [v]);
    let exact = gbdt_exact_loo(
        params,
        train,
        &top,
        xs,
        ys.as_ref().map(|a| ArrayView1::from(&a[..])),
        target,
    )?;
    for (&i, e) in top.iter().zip(&exact) {
        influence[i] = e[0];
    }
    Ok(top)
}

/// Any influence estimator of a glassbox GBDT with, for each explained row, its `k` largest
/// estimates (in magnitude) replaced by exact leave-one-out retraining — the hybrid behind
/// `glassbox influence --exact-top K`.
///
/// Each retrained model (one per removed training row) is kept and reused for later explained
/// rows, so explaining many rows costs at most one fit per distinct top row. Self-influence is
/// the inner estimator's, unrefined. The refined numbers include the structural change the
/// estimator cannot see (see the module docs): rank the refined rows among themselves.
pub struct ExactTop {
    inner: Box<dyn Influence>,
    params: GbdtParams,
    train: Dataset,
    objective: Objective,
    k: usize,
    full: TreeEnsemble,
    retrained: Mutex<HashMap<usize, Arc<TreeEnsemble>>>,
}

impl ExactTop {
    /// Wraps `inner`, an estimator for `model` trained on `train` with `params`.
    ///
    /// # Errors
    /// [`ExplainError::InvalidParam`] when training with `params` on `train` does not reproduce
    /// `model` (other parameters, seed or data: the exact numbers would belong to another
    /// model); training errors as [`ExplainError::Unsupported`].
    pub fn new(
        inner: Box<dyn Influence>,
        params: GbdtParams,
        train: &Dataset,
        model: &TreeEnsemble,
        k: usize,
    ) -> Result<ExactTop> {
        let (full, _) = params.fit(train).map_err(fit_error)?;
        if full.trees != model.trees
            || full.base_score != model.base_score
            || full.tree_output != model.tree_output
        {
            return Err(ExplainError::InvalidParam {
                name: "exact-top",
                value: k.to_string(),
                reason: "training with the given settings on the training data does not reproduce the model; pass the same model settings and seed it was trained with".into(),
            });
        }
        let objective = Objective::for_target(full.target.as_ref().ok_or_else(|| {
            ExplainError::Unsupported("the model records no target, so its loss is unknown".into())
        })?);
        Ok(ExactTop {
            inner,
            params,
            train: train.clone(),
            objective,
            k,
            full,
            retrained: Mutex::new(HashMap::new()),
        })
    }

    fn without(&self, i: usize) -> Result<Arc<TreeEnsemble>> {
        if let Some(m) = self
            .retrained
            .lock()
            .expect("no panics under the lock")
            .get(&i)
        {
            return Ok(Arc::clone(m));
        }
        let (m, _) = self
            .params
            .fit_without(&self.train, &[i])
            .map_err(fit_error)?;
        let m = Arc::new(m);
        self.retrained
            .lock()
            .expect("no panics under the lock")
            .insert(i, Arc::clone(&m));
        Ok(m)
    }
}

fn fit_error(e: crate::model::ModelError) -> ExplainError {
    ExplainError::Unsupported(format!("exact leave-one-out retraining failed: {e}"))
}

impl Influence for ExactTop {
    fn n_train(&self) -> usize {
        self.inner.n_train()
    }

    fn method(&self) -> &'static str {
        match self.inner.method() {
            "boostin" => "boostin+exact-top",
            "leaf-influence" => "leaf-influence+exact-top",
            _ => "exact-top",
        }
    }

    fn influence(
        &self,
        x: ArrayView1<f64>,
        y: Option<f64>,
        target: InfluenceTarget,
    ) -> Result<Vec<f64>> {
        let mut inf = self.inner.influence(x, y, target)?;
        let xs = x.insert_axis(ndarray::Axis(0));
        let label = y.map(|v| [v]);
        let label = label.as_ref().map(|l| &l[..]);
        let base = row_losses(&self.full, self.objective, xs, label, target)[0];
        for i in top_by_magnitude(&inf, self.k) {
            let m = self.without(i)?;
            inf[i] = row_losses(&m, self.objective, xs, label, target)[0] - base;
        }
        Ok(inf)
    }

    fn self_influence(&self) -> Result<Vec<f64>> {
        self.inner.self_influence()
    }
}
