//! Parameters of a neural additive model: a builder ([`NamParams`]) and its checked form
//! ([`NamValidParams`]), validated in one place ([`NamParams::check`]).
//!
//! Defaults follow the NAM paper's set-up where it gives one (ExU first layer, Adam, dropout,
//! feature dropout, weight decay and an output penalty, early stopping on a validation split,
//! an ensemble) with sizes chosen for CPU training in seconds: hidden layers 64 → 32, batch 512,
//! learning rate 0.01, 5 members. The CLI adds no defaults of its own.

use super::layers::Activation;
use crate::model::{ModelError, Result};

/// Checked NAM parameters; build them with [`NamParams`].
#[derive(Clone, Debug, PartialEq)]
pub struct NamValidParams {
    pub(crate) members: usize,
    pub(crate) epochs: usize,
    pub(crate) hidden: Vec<usize>,
    pub(crate) activation: Activation,
    pub(crate) learning_rate: f64,
    pub(crate) batch_size: usize,
    pub(crate) dropout: f64,
    pub(crate) feature_dropout: f64,
    pub(crate) weight_decay: f64,
    pub(crate) output_penalty: f64,
    pub(crate) patience: usize,
    pub(crate) validation_fraction: f64,
    pub(crate) seed: u64,
}

impl NamValidParams {
    /// Ensemble members.
    pub fn members(&self) -> usize {
        self.members
    }
    /// Most training epochs per member.
    pub fn epochs(&self) -> usize {
        self.epochs
    }
    /// Hidden layer sizes, first layer first.
    pub fn hidden(&self) -> &[usize] {
        &self.hidden
    }
    /// The first layer's units.
    pub fn activation(&self) -> Activation {
        self.activation
    }
    /// Adam's step size.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    /// Rows per mini-batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// Probability of dropping a hidden unit.
    pub fn dropout(&self) -> f64 {
        self.dropout
    }
    /// Probability of dropping a whole feature's output for a row.
    pub fn feature_dropout(&self) -> f64 {
        self.feature_dropout
    }
    /// L2 penalty λ on the weights: `λ/(2·features) · Σθ²`.
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
    }
    /// Penalty λ on the feature outputs: `λ · mean over rows and features of f_j(x)²`.
    pub fn output_penalty(&self) -> f64 {
        self.output_penalty
    }
    /// Epochs without validation improvement before a member stops.
    pub fn patience(&self) -> usize {
        self.patience
    }
    /// Fraction of rows each member holds out for early stopping.
    pub fn validation_fraction(&self) -> f64 {
        self.validation_fraction
    }
    /// Seed of every random step.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// NAM parameters (unchecked builder). Every setter consumes and returns the builder;
/// [`NamParams::fit`](super::NamParams::fit) checks them first.
///
/// Defaults: 5 members, at most 200 epochs, hidden layers `[64, 32]`, ExU first layer, learning
/// rate 0.01, batch 512, dropout 0.1, feature dropout 0.05, weight decay 1e-5, output penalty
/// 1e-3, patience 20 epochs, validation fraction 0.15, seed 0.
#[derive(Clone, Debug, PartialEq)]
pub struct NamParams(pub(crate) NamValidParams);

impl Default for NamParams {
    fn default() -> Self {
        NamParams(NamValidParams {
            members: 5,
            epochs: 200,
            hidden: vec![64, 32],
            activation: Activation::Exu,
            learning_rate: 0.01,
            batch_size: 512,
            dropout: 0.1,
            feature_dropout: 0.05,
            weight_decay: 1e-5,
            output_penalty: 1e-3,
            patience: 20,
            validation_fraction: 0.15,
            seed: 0,
        })
    }
}

impl NamParams {
    setter!(/// Ensemble members (≥ 1), trained in parallel with different seeds and validation splits.
        members: usize);
    setter!(/// Most epochs per member (≥ 1).
        epochs: usize);
    setter!(/// Hidden layer sizes, first layer first (at least one layer, each ≥ 1 unit).
        hidden: Vec<usize>);
    setter!(/// The first layer's units: ExU (default) or ReLU.
        activation: Activation);
    setter!(/// Adam's step size (> 0).
        learning_rate: f64);
    setter!(/// Rows per mini-batch (≥ 1).
        batch_size: usize);
    setter!(/// Probability of dropping a hidden unit, in [0, 1).
        dropout: f64);
    setter!(/// Probability of dropping a feature's output for a row, in [0, 1).
        feature_dropout: f64);
    setter!(/// L2 penalty on the weights (≥ 0).
        weight_decay: f64);
    setter!(/// Penalty on the squared feature outputs (≥ 0).
        output_penalty: f64);
    setter!(/// Epochs without validation improvement before stopping (≥ 1).
        patience: usize);
    setter!(/// Fraction of rows held out for early stopping, in [0, 0.9]; 0 trains every epoch on all rows.
        validation_fraction: f64);
    setter!(/// Seed of every random step (initialisation, shuffles, dropout, splits).
        seed: u64);

    /// Validates every parameter.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`] for the first parameter out of range, naming the range.
    pub fn check(self) -> Result<NamValidParams> {
        let p = self.0;
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(ModelError::InvalidParam {
                name,
                value,
                reason: reason.to_string(),
            })
        };
        if p.members == 0 {
            return bad("members", "0".into(), "at least one ensemble member");
        }
        if p.epochs == 0 {
            return bad("epochs", "0".into(), "at least one epoch");
        }
        if p.hidden.is_empty() || p.hidden.contains(&0) {
            return bad(
                "hidden",
                format!("{:?}", p.hidden),
                "one or more layer sizes, each at least 1 (e.g. 64,32)",
            );
        }
        if !(p.learning_rate.is_finite() && p.learning_rate > 0.0) {
            return bad(
                "learning_rate",
                p.learning_rate.to_string(),
                "must be a finite number > 0",
            );
        }
        if p.batch_size == 0 {
            return bad("batch_size", "0".into(), "at least one row per batch");
        }
        for (name, v) in [
            ("dropout", p.dropout),
            ("feature_dropout", p.feature_dropout),
        ] {
            if !(0.0..1.0).contains(&v) {
                return bad(name, v.to_string(), "must be in [0, 1)");
            }
        }
        for (name, v) in [
            ("weight_decay", p.weight_decay),
            ("output_penalty", p.output_penalty),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(name, v.to_string(), "must be a finite number >= 0");
            }
        }
        if p.patience == 0 {
            return bad("patience", "0".into(), "at least one epoch");
        }
        if !(0.0..=0.9).contains(&p.validation_fraction) {
            return bad(
                "validation_fraction",
                p.validation_fraction.to_string(),
                "must be in [0, 0.9]",
            );
        }
        Ok(p)
    }
}
