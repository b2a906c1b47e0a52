//! The boosting loop: gradients, one tree per output per round, score updates, early stopping.

use std::borrow::Cow;

use rand::seq::index::sample;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::binning::BinnedData;
use super::grow::{Features, GrowParams, Grower};
use super::objective::Objective;
use super::params::{GbdtParams, GbdtValidParams};
use super::split::SplitParams;
use crate::data::{Dataset, TargetKind, TargetSpec};
use crate::model::tree::{EnsembleSource, Tree, TreeEnsemble};
use crate::model::{ModelError, Result};

/// What happened while boosting.
#[derive(Clone, Debug, PartialEq)]
pub struct GbdtReport {
    /// Rounds kept in the model (the best round under early stopping).
    pub rounds: usize,
    /// Rounds trained (more than `rounds` when early stopping cut back).
    pub rounds_trained: usize,
    /// Whether early stopping ended training before `n_trees` rounds.
    pub stopped_early: bool,
    /// The loss the numbers below are in: `l2` (mean squared error), `logloss` or
    /// `multi_logloss`.
    pub loss_name: &'static str,
    /// Mean training loss of the kept model.
    pub train_loss: f64,
    /// Mean validation loss after each round (empty without a validation split).
    pub validation_loss: Vec<f64>,
    /// Validation loss of the kept model.
    pub best_validation_loss: Option<f64>,
    /// Rows trained on.
    pub n_train_rows: usize,
    /// Rows held out for validation.
    pub n_validation_rows: usize,
}

impl GbdtParams {
    /// Checks the parameters and trains on `ds` (see [`GbdtValidParams::fit`]).
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for a bad parameter; otherwise as [`GbdtValidParams::fit`].
    pub fn fit(&self, ds: &Dataset) -> Result<(TreeEnsemble, GbdtReport)> {
        self.clone().check()?.fit(ds)
    }

    /// Checks the parameters and retrains without the rows `removed`, with the bin cuts of all
    /// of `ds` (see [`GbdtValidParams::fit_without`]).
    ///
    /// # Errors
    /// As [`GbdtParams::fit`] and [`GbdtValidParams::fit_without`].
    pub fn fit_without(
        &self,
        ds: &Dataset,
        removed: &[usize],
    ) -> Result<(TreeEnsemble, GbdtReport)> {
        self.clone().check()?.fit_without(ds, removed)
    }
}

impl GbdtValidParams {
    /// Trains a gradient-boosted ensemble on `ds`, whose target decides the objective.
    ///
    /// # Errors
    /// [`ModelError::Training`] when `ds` has no target, a target value does not fit its kind,
    /// a categorical value is not a level code, or the validation split leaves a side empty.
    pub fn fit(&self, ds: &Dataset) -> Result<(TreeEnsemble, GbdtReport)> {
        self.fit_impl(ds, &[])
    }

    /// Leave-rows-out retraining: trains as [`GbdtValidParams::fit`] on `ds` without the rows
    /// `removed` (0-based, any order), with the numeric bin cuts computed from **all** of `ds`.
    ///
    /// Binning is treated as fixed preprocessing (a feature transform fitted once, like a
    /// standardisation): the retrained model differs from the full one only through what
    /// boosting learns from the remaining rows — base score, split choices, leaf values — and
    /// not through histogram cuts that move because one row fewer was quantiled. This is the
    /// retraining protocol influence estimates are validated against and that exact
    /// leave-one-out refinement uses. Without removed rows it equals `fit`. With a validation
    /// split, the split is drawn on all of `ds` and removed rows leave whichever side they fell on.
    ///
    /// # Errors
    /// As [`GbdtValidParams::fit`], plus [`ModelError::Training`] for a removed row index out of
    /// range or fewer than 2 rows left.
    pub fn fit_without(
        &self,
        ds: &Dataset,
        removed: &[usize],
    ) -> Result<(TreeEnsemble, GbdtReport)> {
        if let Some(&r) = removed.iter().find(|&&r| r >= ds.n_rows()) {
            return Err(ModelError::Training(format!(
                "cannot leave out row {r}: {} has {} rows",
                ds.source().display(),
                ds.n_rows()
            )));
        }
        self.fit_impl(ds, removed)
    }

    fn fit_impl(&self, ds: &Dataset, removed: &[usize]) -> Result<(TreeEnsemble, GbdtReport)> {
        let (target, y) = training_target(ds)?;
        let objective = Objective::for_target(target);
        let k = objective.n_outputs();
        let x = ds.x().as_standard_layout();
        let n_features = ds.n_features();
        let x_flat = x.as_slice().expect("standard layout is contiguous");
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);

        let (mut train, mut valid) = match self.effective_validation_fraction() {
            Some(f) => split_rows(&y, objective, f, &mut rng)?,
            None => ((0..ds.n_rows()).collect(), Vec::new()),
        };
        let bin_seed = rng.gen();
        let data = if removed.is_empty() {
            BinnedData::new(x.view(), &train, ds.schema(), self.max_bin, bin_seed)?
        } else {
            let cut_rows = train.clone();
            let mut drop = vec![false; ds.n_rows()];
            removed.iter().for_each(|&r| drop[r] = true);
            let (train_kept, valid_kept): (Vec<usize>, Vec<usize>) = (
                train.iter().copied().filter(|&r| !drop[r]).collect(),
                valid.iter().copied().filter(|&r| !drop[r]).collect(),
            );
            if train_kept.len() < 2 {
                return Err(ModelError::Training(format!(
                    "leaving out {} rows leaves {} training rows; at least 2 are needed",
                    removed.len(),
                    train_kept.len()
                )));
            }
            (train, valid) = (train_kept, valid_kept);
            BinnedData::with_cuts_from(
                x.view(),
                &train,
                &cut_rows,
                ds.schema(),
                self.max_bin,
                bin_seed,
            )?
        };
        let y_train: Vec<f64> = train.iter().map(|&r| y[r]).collect();
        let y_valid: Vec<f64> = valid.iter().map(|&r| y[r]).collect();
        let base = objective.initial_scores(&y_train);
        let mut train_scores: Vec<f64> =
            base.iter().copied().cycle().take(train.len() * k).collect();
        let mut valid_scores: Vec<f64> =
            base.iter().copied().cycle().take(valid.len() * k).collect();
        let mut gh = vec![vec![[0.0f64; 2]; train.len()]; k];

        let mut grower = Grower::new(
            &data,
            GrowParams {
                max_leaves: self.max_leaves,
                max_depth: self.max_depth,
                split: SplitParams {
                    lambda: self.lambda,
                    min_child_weight: self.min_child_weight,
                    min_samples_leaf: self.min_samples_leaf as f64,
                    min_split_gain: self.min_split_gain,
                    cat: self.categorical.clone(),
                },
                leaf_scale: self.learning_rate,
            },
        );
        let all_rows: Vec<u32> = (0..train.len() as u32).collect();
        let n_sub =
            ((train.len() as f64 * self.subsample).round() as usize).clamp(1, train.len().max(1));
        let n_cols =
            ((n_features as f64 * self.colsample).round() as usize).clamp(1, n_features.max(1));
        let all_features: Vec<usize> = (0..n_features).collect();

        let mut trees: Vec<Tree> = Vec::new();
        let mut tree_output: Vec<u32> = Vec::new();
        let mut validation_loss = Vec::new();
        let mut train_loss = Vec::new();
        let (mut best_round, mut best_loss) = (0usize, f64::INFINITY);
        let mut stopped_early = false;
        for round in 0..self.n_trees {
            objective.gradients(&y_train, &train_scores, &mut gh);
            let rows: Cow<[u32]> = if n_sub < train.len() {
                let mut picked: Vec<u32> = sample(&mut rng, train.len(), n_sub)
                    .into_iter()
                    .map(|i| i as u32)
                    .collect();
                picked.sort_unstable();
                Cow::Owned(picked)
            } else {
                Cow::Borrowed(&all_rows)
            };
            for (class, class_gh) in gh.iter().enumerate() {
                let features: Cow<[usize]> = if n_cols < n_features {
                    let mut f = sample(&mut rng, n_features, n_cols).into_vec();
                    f.sort_unstable();
                    Cow::Owned(f)
                } else {
                    Cow::Borrowed(&all_features)
                };
                let tree = grower.grow(class_gh, &rows, Features::Fixed(&features));
                if rows.len() == train.len() {
                    // every training row is in a leaf's range: no traversal needed
                    for (leaf, leaf_rows) in grower.leaf_rows() {
                        let v = tree.nodes[leaf].value;
                        for &r in leaf_rows {
                            train_scores[r as usize * k + class] += v;
                        }
                    }
                } else {
                    add_tree(
                        &tree,
                        x_flat,
                        n_features,
                        &train,
                        &mut train_scores,
                        k,
                        class,
                    );
                }
                add_tree(
                    &tree,
                    x_flat,
                    n_features,
                    &valid,
                    &mut valid_scores,
                    k,
                    class,
                );
                trees.push(tree);
                tree_output.push(class as u32);
            }
            train_loss.push(objective.loss(&y_train, &train_scores));
            if !valid.is_empty() {
                let loss = objective.loss(&y_valid, &valid_scores);
                validation_loss.push(loss);
                if loss < best_loss {
                    (best_round, best_loss) = (round + 1, loss);
                } else if self
                    .early_stopping_rounds
                    .is_some_and(|patience| round + 1 - best_round >= patience)
                {
                    stopped_early = true;
                    break;
                }
            }
        }
        let rounds_trained = trees.len() / k;
        let rounds = if self.early_stopping_rounds.is_some() && best_round > 0 {
            best_round
        } else {
            rounds_trained
        };
        trees.truncate(rounds * k);
        tree_output.truncate(rounds * k);
        let output_names = match &target.kind {
            TargetKind::Multiclass { classes } => classes.clone(),
            _ => vec![target.name.clone()],
        };
        let model = TreeEnsemble {
            schema: ds.schema().clone(),
            target: Some(target.clone()),
            trees,
            tree_output,
            base_score: base,
            link: objective.link(),
            output_names,
            f32_inputs: false,
            source: EnsembleSource::GradientBoosting,
        };
        let report = GbdtReport {
            rounds,
            rounds_trained,
            stopped_early,
            loss_name: objective.loss_name(),
            train_loss: train_loss
                .get(rounds.wrapping_sub(1))
                .copied()
                .unwrap_or(f64::NAN),
            best_validation_loss: validation_loss.get(rounds.wrapping_sub(1)).copied(),
            validation_loss,
            n_train_rows: train.len(),
            n_validation_rows: valid.len(),
        };
        Ok((model, report))
    }
}

/// Adds `tree`'s value to output `class` of the scores of `rows` (rows of `x_flat`), in parallel
/// over rows; each score is written by one task, so the result does not depend on threads.
fn add_tree(
    tree: &Tree,
    x_flat: &[f64],
    n_features: usize,
    rows: &[usize],
    scores: &mut [f64],
    k: usize,
    class: usize,
) {
    scores
        .par_chunks_mut(k)
        .zip(rows.par_iter())
        .with_min_len(1024)
        .for_each(|(s, &r)| {
            s[class] += tree.predict_row(&x_flat[r * n_features..(r + 1) * n_features]);
        });
}

/// The dataset's target and its values, checked against the target's kind.
pub(crate) fn training_target(ds: &Dataset) -> Result<(&TargetSpec, Vec<f64>)> {
    let (Some(target), Some(y)) = (ds.target(), ds.y()) else {
        return Err(ModelError::Training(format!(
            "{} has no target values; name the target column to train",
            ds.source().display()
        )));
    };
    if ds.n_rows() < 2 {
        return Err(ModelError::Training(format!(
            "{} has {} row(s); at least 2 are needed",
            ds.source().display(),
            ds.n_rows()
        )));
    }
    let n_classes = match &target.kind {
        TargetKind::Continuous => None,
        TargetKind::Binary { .. } => Some(2),
        TargetKind::Multiclass { classes } => Some(classes.len()),
    };
    for (i, &v) in y.iter().enumerate() {
        let ok = match n_classes {
            None => v.is_finite(),
            Some(c) => v >= 0.0 && v.fract() == 0.0 && (v as usize) < c,
        };
        if !ok {
            return Err(ModelError::Training(format!(
                "{}: target '{}', row {}: value {v} does not fit a {} target",
                ds.source().display(),
                target.name,
                i + 1,
                match n_classes {
                    None => "continuous".to_string(),
                    Some(c) => format!("{c}-class"),
                }
            )));
        }
    }
    Ok((target, y.to_vec()))
}

/// A seeded split into (training, validation) row indices, both ascending; stratified by class
/// for classification so that rare classes appear on both sides.
pub(crate) fn split_rows(
    y: &[f64],
    objective: Objective,
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let groups: Vec<Vec<usize>> = match objective {
        Objective::SquaredError => vec![(0..y.len()).collect()],
        _ => {
            let k = objective.n_outputs().max(2);
            let mut g = vec![Vec::new(); k];
            for (i, &v) in y.iter().enumerate() {
                g[v as usize].push(i);
            }
            g
        }
    };
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for mut g in groups {
        g.shuffle(rng);
        let n_valid = (g.len() as f64 * fraction).round() as usize;
        valid.extend_from_slice(&g[..n_valid]);
        train.extend_from_slice(&g[n_valid..]);
    }
    if train.len() < 2 || valid.is_empty() {
        return Err(ModelError::Training(format!(
            "a validation fraction of {fraction} of {} rows leaves {} training and {} validation rows; use more data or another fraction",
            y.len(),
            train.len(),
            valid.len()
        )));
    }
    train.sort_unstable();
    valid.sort_unstable();
    Ok((train, valid))
}
