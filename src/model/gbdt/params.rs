//! Parameters of gradient boosting: a builder ([`GbdtParams`]) and its checked form
//! ([`GbdtValidParams`]), validated in one place ([`GbdtParams::check`]).
//!
//! Defaults are LightGBM's (`num_leaves` 31, `learning_rate` 0.1, `min_data_in_leaf` 20,
//! `min_sum_hessian_in_leaf` 1e-3, `lambda_l2` 0, `max_bin` 255, 100 rounds), so results are
//! comparable with the tool most users know; the CLI adds no defaults of its own.

use crate::model::{ModelError, Result};

use super::binning::MAX_BINS;
use super::split::CategoricalParams;

/// Checked gradient-boosting parameters; build them with [`GbdtParams`].
#[derive(Clone, Debug, PartialEq)]
pub struct GbdtValidParams {
    pub(crate) n_trees: usize,
    pub(crate) learning_rate: f64,
    pub(crate) max_leaves: Option<usize>,
    pub(crate) max_depth: Option<usize>,
    pub(crate) min_child_weight: f64,
    pub(crate) min_samples_leaf: usize,
    pub(crate) lambda: f64,
    pub(crate) min_split_gain: f64,
    pub(crate) subsample: f64,
    pub(crate) colsample: f64,
    pub(crate) max_bin: usize,
    pub(crate) early_stopping_rounds: Option<usize>,
    pub(crate) validation_fraction: Option<f64>,
    pub(crate) categorical: CategoricalParams,
    pub(crate) seed: u64,
}

/// Gradient-boosting parameters (unchecked builder). Every setter consumes and returns the
/// builder; [`GbdtParams::fit`] checks them first.
///
/// # Example
/// ```
/// use glassbox::data::{Dataset, SchemaOptions};
/// use glassbox::model::gbdt::GbdtParams;
/// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?;
/// let (model, report) = GbdtParams::default().n_trees(20).learning_rate(0.2).seed(7).fit(&ds)?;
/// assert_eq!(model.trees.len(), 20);
/// assert_eq!(report.rounds, 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GbdtParams(GbdtValidParams);

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams(GbdtValidParams {
            n_trees: 100,
            learning_rate: 0.1,
            max_leaves: Some(31),
            max_depth: None,
            min_child_weight: 1e-3,
            min_samples_leaf: 20,
            lambda: 0.0,
            min_split_gain: 0.0,
            subsample: 1.0,
            colsample: 1.0,
            max_bin: 255,
            early_stopping_rounds: None,
            validation_fraction: None,
            categorical: CategoricalParams::default(),
            seed: 0,
        })
    }
}

impl GbdtParams {
    setter!(
        /// Boosting rounds (trees per output). Default 100.
        n_trees: usize
    );
    setter!(
        /// Shrinkage of every tree, in (0, 1]. Default 0.1.
        learning_rate: f64
    );
    setter!(
        /// Most leaves per tree (≥ 2), `None` for no limit (then `max_depth` is required).
        /// Default 31.
        max_leaves: Option<usize>
    );
    setter!(
        /// Most depth per tree (≥ 1), `None` for no limit. Default `None`.
        max_depth: Option<usize>
    );
    setter!(
        /// Least hessian sum in a leaf (≥ 0). Default 1e-3.
        min_child_weight: f64
    );
    setter!(
        /// Least training rows in a leaf (≥ 1). Default 20.
        min_samples_leaf: usize
    );
    setter!(
        /// L2 penalty on leaf values (≥ 0). Default 0.
        lambda: f64
    );
    setter!(
        /// Least gain `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)` of a split (≥ 0). Default 0.
        min_split_gain: f64
    );
    setter!(
        /// Fraction of training rows drawn (without replacement) for each round, in (0, 1].
        /// Default 1.
        subsample: f64
    );
    setter!(
        /// Fraction of features drawn for each tree, in (0, 1]. Default 1.
        colsample: f64
    );
    setter!(
        /// Most bins of a numeric feature, in 2..=65534. Default 255.
        max_bin: usize
    );
    setter!(
        /// Stop when the validation loss has not improved for this many rounds (≥ 1) and keep
        /// the best round. Default `None` (no early stopping).
        early_stopping_rounds: Option<usize>
    );
    setter!(
        /// Fraction of rows held out for validation, in (0, 1); stratified by class for
        /// classification. `None` holds out 0.1 when early stopping is on, nothing otherwise.
        validation_fraction: Option<f64>
    );
    setter!(
        /// Categorical split search (LightGBM's defaults).
        categorical: CategoricalParams
    );
    setter!(
        /// Seed of every random step (validation split, row and feature sampling, bin sampling).
        /// Default 0.
        seed: u64
    );

    /// Checks every parameter.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for the first parameter out of range, naming the range.
    pub fn check(self) -> Result<GbdtValidParams> {
        let p = self.0;
        let bad = |name: &'static str, value: String, reason: &str| ModelError::InvalidParam {
            name,
            value,
            reason: reason.to_string(),
        };
        check_tree_size(p.n_trees, p.max_depth, p.max_leaves, p.min_samples_leaf)?;
        if !(p.learning_rate > 0.0 && p.learning_rate <= 1.0) {
            return Err(bad(
                "learning_rate",
                p.learning_rate.to_string(),
                "must be in (0, 1]",
            ));
        }
        if p.max_leaves.is_none() && p.max_depth.is_none() {
            return Err(bad(
                "max_leaves",
                "none".into(),
                "gradient boosting needs a size limit: set max_leaves or max_depth",
            ));
        }
        check_non_negative("min_child_weight", p.min_child_weight)?;
        check_non_negative("lambda", p.lambda)?;
        check_non_negative("min_split_gain", p.min_split_gain)?;
        check_fraction("subsample", p.subsample)?;
        check_fraction("colsample", p.colsample)?;
        check_max_bin(p.max_bin)?;
        if p.early_stopping_rounds == Some(0) {
            return Err(bad(
                "early_stopping_rounds",
                "0".into(),
                "must be at least 1",
            ));
        }
        if let Some(v) = p.validation_fraction {
            if !(v > 0.0 && v < 1.0) {
                return Err(bad(
                    "validation_fraction",
                    v.to_string(),
                    "must be in (0, 1)",
                ));
            }
        }
        check_categorical(&p.categorical)?;
        Ok(p)
    }
}

/// `value >= 0` and finite.
pub(crate) fn check_non_negative(name: &'static str, value: f64) -> Result<()> {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(ModelError::InvalidParam {
            name,
            value: value.to_string(),
            reason: "must be a finite number >= 0".into(),
        })
    }
}

/// `value >= min`.
pub(crate) fn check_at_least(name: &'static str, value: usize, min: usize) -> Result<()> {
    if value >= min {
        Ok(())
    } else {
        Err(ModelError::InvalidParam {
            name,
            value: value.to_string(),
            reason: format!("must be at least {min}"),
        })
    }
}

/// The size limits every tree learner shares (boosting and forests): at least one tree, depth
/// ≥ 1, ≥ 2 leaves, ≥ 1 row per leaf.
pub(crate) fn check_tree_size(
    n_trees: usize,
    max_depth: Option<usize>,
    max_leaves: Option<usize>,
    min_samples_leaf: usize,
) -> Result<()> {
    if n_trees == 0 {
        return Err(ModelError::InvalidParam {
            name: "n_trees",
            value: "0".into(),
            reason: "at least one tree is needed".into(),
        });
    }
    if let Some(d) = max_depth {
        check_at_least("max_depth", d, 1)?;
    }
    if let Some(l) = max_leaves {
        check_at_least("max_leaves", l, 2)?;
    }
    check_at_least("min_samples_leaf", min_samples_leaf, 1)
}

/// `value` in (0, 1].
pub(crate) fn check_fraction(name: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(ModelError::InvalidParam {
            name,
            value: value.to_string(),
            reason: "must be in (0, 1]".into(),
        })
    }
}

/// `max_bin` in 2..=[`MAX_BINS`].
pub(crate) fn check_max_bin(value: usize) -> Result<()> {
    if (2..=MAX_BINS).contains(&value) {
        Ok(())
    } else {
        Err(ModelError::InvalidParam {
            name: "max_bin",
            value: value.to_string(),
            reason: format!("must be in 2..={MAX_BINS}"),
        })
    }
}

fn check_categorical(c: &CategoricalParams) -> Result<()> {
    check_non_negative("cat_smooth", c.cat_smooth)?;
    check_non_negative("cat_l2", c.cat_l2)?;
    check_at_least("max_cat_threshold", c.max_cat_threshold, 1)?;
    check_at_least("min_data_per_group", c.min_data_per_group, 1)?;
    check_at_least("min_data_per_category", c.min_data_per_category, 1)
}

impl GbdtValidParams {
    /// Boosting rounds.
    pub fn n_trees(&self) -> usize {
        self.n_trees
    }
    /// Shrinkage.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    /// Most leaves per tree.
    pub fn max_leaves(&self) -> Option<usize> {
        self.max_leaves
    }
    /// Most depth per tree.
    pub fn max_depth(&self) -> Option<usize> {
        self.max_depth
    }
    /// Early-stopping patience.
    pub fn early_stopping_rounds(&self) -> Option<usize> {
        self.early_stopping_rounds
    }
    /// The held-out fraction actually used (see [`GbdtParams::validation_fraction`]).
    pub fn effective_validation_fraction(&self) -> Option<f64> {
        self.validation_fraction
            .or(self.early_stopping_rounds.map(|_| 0.1))
    }
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_value_is_named() {
        let cases: Vec<(GbdtParams, &str)> = vec![
            (GbdtParams::default().n_trees(0), "n_trees"),
            (GbdtParams::default().learning_rate(0.0), "learning_rate"),
            (
                GbdtParams::default().learning_rate(f64::NAN),
                "learning_rate",
            ),
            (GbdtParams::default().max_leaves(Some(1)), "max_leaves"),
            (GbdtParams::default().max_leaves(None), "max_leaves"),
            (GbdtParams::default().max_depth(Some(0)), "max_depth"),
            (
                GbdtParams::default().min_child_weight(-1.0),
                "min_child_weight",
            ),
            (
                GbdtParams::default().min_samples_leaf(0),
                "min_samples_leaf",
            ),
            (GbdtParams::default().lambda(f64::INFINITY), "lambda"),
            (GbdtParams::default().min_split_gain(-0.1), "min_split_gain"),
            (GbdtParams::default().subsample(1.5), "subsample"),
            (GbdtParams::default().colsample(0.0), "colsample"),
            (GbdtParams::default().max_bin(1), "max_bin"),
            (
                GbdtParams::default().early_stopping_rounds(Some(0)),
                "early_stopping_rounds",
            ),
            (
                GbdtParams::default().validation_fraction(Some(1.0)),
                "validation_fraction",
            ),
            (
                GbdtParams::default().categorical(CategoricalParams {
                    cat_smooth: -1.0,
                    ..CategoricalParams::default()
                }),
                "cat_smooth",
            ),
        ];
        for (p, name) in cases {
            match p.check() {
                Err(ModelError::InvalidParam { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}: expected InvalidParam, got {other:?}"),
            }
        }
        assert!(GbdtParams::default().check().is_ok());
        assert!(GbdtParams::default()
            .max_leaves(None)
            .max_depth(Some(6))
            .check()
            .is_ok());
    }

    #[test]
    fn validation_fraction_defaults_only_with_early_stopping() {
        let p = GbdtParams::default().check().unwrap();
        assert_eq!(p.effective_validation_fraction(), None);
        let p = GbdtParams::default()
            .early_stopping_rounds(Some(5))
            .check()
            .unwrap();
        assert_eq!(p.effective_validation_fraction(), Some(0.1));
    }
}
