//! Random forests (Breiman 2001), trained into the shared [`TreeEnsemble`].
//!
//! Each tree grows on a bootstrap sample of the rows, drawing a fresh subset of features at every
//! node, until leaves get too small. The split criterion is variance reduction, computed by the
//! gradient-boosting split finder with gradient `−y` and hessian `1` — for a 0/1 target that is
//! Gini impurity reduction (the Gini index of a node is twice its variance) — so forests share
//! binning, histograms, missing-value directions and categorical partitions with boosting. Splits
//! are therefore between quantile bins (255 by default), not between every pair of values.
//!
//! # Output semantics
//! Leaf values are the mean target of the leaf's bootstrap rows divided by the number of trees,
//! so the ensemble's plain sum is the forest average and Tree SHAP sees an ordinary additive
//! ensemble. Regression: the output is the predicted value. Binary classification: the output is
//! the **probability of the positive class** (`classes[1]`), with [`Link::Identity`] and the
//! positive class as output name — not log-odds: averaging trees' probabilities is what a forest
//! predicts, and it has no log-odds form. Explanations of a forest classifier are therefore in
//! probability units.
//!
//! Multiclass targets grow one multi-output Gini tree per round, as scikit-learn's
//! `RandomForestClassifier` does, stored as one tree per class with the same structure (see
//! `forest/multiclass.rs`): output `k` is the averaged frequency of class `k`, the outputs of a row sum
//! to 1, the link is again [`Link::Identity`] and the output names are the class labels. The
//! ensemble holds `n_trees × K` trees, round-major (tree `t·K + k` adds to class `k`).
//!
//! # Cover and out-of-bag loss
//! Covers count bootstrap rows with their repeats. Rows left out of a tree's bootstrap are its
//! out-of-bag rows; the report gives the mean squared error (the Brier score for classifiers,
//! summed over the classes for multiclass targets) of
//! each row's average over the trees that did not see it (Breiman 2001, §3.1), a free estimate of
//! the test loss. Log loss was rejected: a few out-of-bag trees that all vote 0 for a positive row
//! make it infinite.
//!
//! # Determinism
//! Tree `t` draws from `ChaCha8Rng::seed_from_u64(seed)` on stream `t + 1`, so trees can grow in
//! parallel and still come out the same at any thread count.

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

mod multiclass;

use multiclass::{ClassGrower, ClassTreeParams};

use super::gbdt::grow::{Features, GrowParams, Grower};
use super::gbdt::split::{CategoricalParams, SplitParams};
use super::gbdt::{
    check_at_least, check_fraction, check_max_bin, check_tree_size, training_target, BinnedData,
};
use super::tree::{EnsembleSource, Tree, TreeEnsemble};
use super::{Link, ModelError, Result};
use crate::data::{Dataset, TargetKind};

/// How many features a node draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaxFeatures {
    /// √M for classification, M/3 for regression (Breiman's and scikit-learn's conventions).
    Auto,
    /// ⌈fraction · M⌉, fraction in (0, 1].
    Fraction(f64),
    /// A fixed count (≥ 1; more than M means M).
    Count(usize),
}

/// Checked random-forest parameters; build them with [`ForestParams`].
#[derive(Clone, Debug, PartialEq)]
pub struct ForestValidParams {
    n_trees: usize,
    max_depth: Option<usize>,
    max_leaves: Option<usize>,
    min_samples_leaf: usize,
    max_features: MaxFeatures,
    sample_fraction: f64,
    bootstrap: bool,
    max_bin: usize,
    seed: u64,
}

/// Random-forest parameters (unchecked builder); [`ForestParams::fit`] checks them first.
///
/// # Example
/// ```
/// use glassbox::data::{Dataset, SchemaOptions};
/// use glassbox::model::forest::ForestParams;
/// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?;
/// let (model, report) = ForestParams::default().n_trees(10).seed(1).fit(&ds)?;
/// assert_eq!(model.trees.len(), 10);
/// assert!(report.oob_loss.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ForestParams(ForestValidParams);

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams(ForestValidParams {
            n_trees: 100,
            max_depth: None,
            max_leaves: None,
            min_samples_leaf: 5,
            max_features: MaxFeatures::Auto,
            sample_fraction: 1.0,
            bootstrap: true,
            max_bin: 255,
            seed: 0,
        })
    }
}

impl ForestParams {
    setter!(
        /// Number of trees. Default 100.
        n_trees: usize
    );
    setter!(
        /// Most depth per tree (≥ 1), `None` for no limit. Default `None`.
        max_depth: Option<usize>
    );
    setter!(
        /// Most leaves per tree (≥ 2, grown best-first), `None` for no limit. Default `None`.
        max_leaves: Option<usize>
    );
    setter!(
        /// Least bootstrap rows in a leaf (≥ 1). Default 5: fully grown trees (1) on large data
        /// make model files of hundreds of megabytes for little gain in accuracy.
        min_samples_leaf: usize
    );
    setter!(
        /// Features drawn at each node. Default [`MaxFeatures::Auto`].
        max_features: MaxFeatures
    );
    setter!(
        /// Rows drawn per tree as a fraction of the data, in (0, 1]. Default 1.
        sample_fraction: f64
    );
    setter!(
        /// Draw rows with replacement (bootstrap) or without. Default true.
        bootstrap: bool
    );
    setter!(
        /// Most bins of a numeric feature, in 2..=65534. Default 255.
        max_bin: usize
    );
    setter!(
        /// Seed of every random step. Default 0.
        seed: u64
    );

    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for the first parameter out of range.
    pub fn check(self) -> Result<ForestValidParams> {
        let p = self.0;
        check_tree_size(p.n_trees, p.max_depth, p.max_leaves, p.min_samples_leaf)?;
        match p.max_features {
            MaxFeatures::Fraction(f) => check_fraction("max_features", f)?,
            MaxFeatures::Count(c) => check_at_least("max_features", c, 1)?,
            MaxFeatures::Auto => {}
        }
        check_fraction("sample_fraction", p.sample_fraction)?;
        check_max_bin(p.max_bin)?;
        Ok(p)
    }

    /// Checks the parameters and trains on `ds` (see [`ForestValidParams::fit`]).
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for a bad parameter; otherwise as [`ForestValidParams::fit`].
    pub fn fit(&self, ds: &Dataset) -> Result<(TreeEnsemble, ForestReport)> {
        self.clone().check()?.fit(ds)
    }
}

/// What happened while growing a forest.
#[derive(Clone, Debug, PartialEq)]
pub struct ForestReport {
    /// Trees grown.
    pub n_trees: usize,
    /// Features drawn per node.
    pub features_per_node: usize,
    /// Mean number of leaves per tree.
    pub mean_leaves: f64,
    /// `l2` (mean squared error) for regression, `brier` (squared error of the probabilities,
    /// summed over the classes) for classification.
    pub loss_name: &'static str,
    /// Out-of-bag loss over the rows left out of at least one tree (`None` when every row was in
    /// every sample, e.g. without bootstrap at fraction 1).
    pub oob_loss: Option<f64>,
    /// Rows that have an out-of-bag prediction.
    pub oob_rows: usize,
}

impl ForestValidParams {
    /// Grows a forest on `ds`.
    ///
    /// # Errors
    /// [`ModelError::Training`] when `ds` has no target, a target with fewer than two classes, a
    /// target value that does not fit its kind, or a categorical value that is not a level code.
    pub fn fit(&self, ds: &Dataset) -> Result<(TreeEnsemble, ForestReport)> {
        let (target, y) = training_target(ds)?;
        // `n_classes` is set for multiclass targets, which grow multi-output trees.
        let (classification, n_classes, output_names, loss_name) = match &target.kind {
            TargetKind::Continuous => (false, None, vec![target.name.clone()], "l2"),
            TargetKind::Binary { classes } => (
                true,
                None,
                vec![classes.get(1).cloned().unwrap_or_else(|| "1".into())],
                "brier",
            ),
            TargetKind::Multiclass { classes } if classes.len() < 2 => {
                return Err(ModelError::Training(format!(
                    "target '{}' has a single class; a classifier needs at least two distinct target values",
                    target.name
                )))
            }
            TargetKind::Multiclass { classes } => {
                (true, Some(classes.len()), classes.clone(), "brier")
            }
        };
        let n = ds.n_rows();
        let m = ds.n_features();
        let x = ds.x().as_standard_layout();
        let x_flat = x.as_slice().expect("standard layout is contiguous");
        let all: Vec<usize> = (0..n).collect();
        let bin_seed = ChaCha8Rng::seed_from_u64(self.seed).gen();
        let data = BinnedData::new(x.view(), &all, ds.schema(), self.max_bin, bin_seed)?;
        let gh: Vec<[f64; 2]> = y.iter().map(|&v| [-v, 1.0]).collect();
        let mtry = match self.max_features {
            MaxFeatures::Auto if classification => (m as f64).sqrt().floor() as usize,
            MaxFeatures::Auto => m / 3,
            MaxFeatures::Fraction(f) => (f * m as f64).ceil() as usize,
            MaxFeatures::Count(c) => c,
        }
        .clamp(1, m.max(1));
        let n_sample = ((n as f64 * self.sample_fraction).round() as usize).clamp(1, n);
        let params = GrowParams {
            max_leaves: self.max_leaves,
            max_depth: self.max_depth,
            split: SplitParams {
                lambda: 0.0,
                min_child_weight: 0.0,
                min_samples_leaf: self.min_samples_leaf as f64,
                min_split_gain: 0.0,
                cat: CategoricalParams::unregularised(),
            },
            leaf_scale: 1.0 / self.n_trees as f64,
        };
        let class_params = n_classes.map(|k| ClassTreeParams {
            n_classes: k,
            max_leaves: self.max_leaves,
            max_depth: self.max_depth,
            min_samples_leaf: self.min_samples_leaf.max(1) as f64,
            mtry,
        });
        let y_class: Vec<u32> = match n_classes {
            Some(_) => y.iter().map(|&v| v as u32).collect(),
            None => Vec::new(),
        };
        // One round = one forest tree: a single tree, or one per class sharing the structure.
        let grown: Vec<Round> = (0..self.n_trees)
            .into_par_iter()
            .map_init(
                || match &class_params {
                    Some(cp) => Growers::Class(ClassGrower::new(&data, &y_class, cp.clone())),
                    None => Growers::Single(Grower::new(&data, params.clone())),
                },
                |grower, t| {
                    let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                    rng.set_stream(t as u64 + 1);
                    let mut rows: Vec<u32> = if self.bootstrap {
                        (0..n_sample).map(|_| rng.gen_range(0..n as u32)).collect()
                    } else {
                        sample(&mut rng, n, n_sample)
                            .into_iter()
                            .map(|i| i as u32)
                            .collect()
                    };
                    rows.sort_unstable();
                    let mut in_bag = vec![0u64; n.div_ceil(64)];
                    for &r in &rows {
                        in_bag[r as usize / 64] |= 1 << (r % 64);
                    }
                    let trees = match grower {
                        Growers::Single(g) => vec![g.grow(
                            &gh,
                            &rows,
                            Features::PerNode {
                                count: mtry,
                                rng: &mut rng,
                            },
                        )],
                        Growers::Class(g) => g
                            .grow(&rows, &mut rng)
                            .per_class_trees(1.0 / self.n_trees as f64),
                    };
                    // Out-of-bag rows and their leaves, found while the tree is in cache
                    // (classes share the structure, so one walk serves all of them).
                    let oob: Vec<(u32, u32)> = (0..n)
                        .filter(|&i| (in_bag[i / 64] >> (i % 64)) & 1 == 0)
                        .map(|i| {
                            let row = &x_flat[i * m..(i + 1) * m];
                            (i as u32, trees[0].leaf_index(row) as u32)
                        })
                        .collect();
                    (trees, oob)
                },
            )
            .collect();

        // Out-of-bag: each row's mean over the trees that did not see it (trees in order).
        let t_count = self.n_trees as f64;
        let k = output_names.len();
        // Summed per row in tree order, as a row-by-row loop over the trees would.
        let mut sums = vec![0.0; n * k];
        let mut counts = vec![0usize; n];
        for (trees, oob) in &grown {
            for &(i, leaf) in oob {
                let (i, leaf) = (i as usize, leaf as usize);
                for (s, tree) in sums[i * k..(i + 1) * k].iter_mut().zip(trees) {
                    *s += tree.nodes[leaf].value * t_count;
                }
                counts[i] += 1;
            }
        }
        let oob: Vec<Option<Vec<f64>>> = (0..n)
            .map(|i| {
                (counts[i] > 0).then(|| {
                    sums[i * k..(i + 1) * k]
                        .iter()
                        .map(|s| s / counts[i] as f64)
                        .collect()
                })
            })
            .collect();
        let (mut loss_sum, mut oob_rows) = (0.0, 0usize);
        for (pred, &t) in oob.iter().zip(&y) {
            if let Some(p) = pred {
                oob_rows += 1;
                // Brier score for probabilities: log loss is infinite whenever a few trees all
                // vote 0 for a positive row, which is common out of bag. Multiclass: summed over
                // the classes (Brier 1950).
                loss_sum += match n_classes {
                    Some(_) => p
                        .iter()
                        .enumerate()
                        .map(|(c, q)| (q - (c as f64 == t) as u8 as f64).powi(2))
                        .sum::<f64>(),
                    None => (p[0] - t) * (p[0] - t),
                };
            }
        }
        let leaves: usize = grown
            .iter()
            .map(|(trees, _)| trees[0].nodes.iter().filter(|n| n.is_leaf()).count())
            .sum();
        let tree_output: Vec<u32> = (0..grown.len()).flat_map(|_| 0..k as u32).collect();
        let trees: Vec<Tree> = grown.into_iter().flat_map(|(t, _)| t).collect();
        let report = ForestReport {
            n_trees: self.n_trees,
            features_per_node: mtry,
            mean_leaves: leaves as f64 / self.n_trees as f64,
            loss_name,
            oob_loss: (oob_rows > 0).then(|| loss_sum / oob_rows as f64),
            oob_rows,
        };
        let model = TreeEnsemble {
            schema: ds.schema().clone(),
            target: Some(target.clone()),
            tree_output,
            trees,
            base_score: vec![0.0; k],
            link: Link::Identity,
            output_names,
            f32_inputs: false,
            source: EnsembleSource::RandomForest,
        };
        Ok((model, report))
    }
}

/// One grown round: its trees (one, or one per class) and its out-of-bag `(row, leaf)` pairs.
type Round = (Vec<Tree>, Vec<(u32, u32)>);

/// The tree learner of one worker thread.
enum Growers<'d> {
    /// Regression and binary targets: the boosting grower on `(−y, 1)`.
    Single(Grower<'d>),
    /// Multiclass targets: multi-output Gini trees.
    Class(ClassGrower<'d>),
}
