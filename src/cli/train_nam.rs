//! `glassbox train --model nam`: the NAM flags and the fit.
//!
//! Kept out of `train.rs` so the NAM plumbing lives in one place and `train.rs` only dispatches.
//! Unset flags keep the library defaults ([`NamParams::default`]).

use clap::{Args, ValueEnum};
use glassbox::data::Dataset;
use glassbox::model::nam::{Activation, NamParams};
use glassbox::model::AnyModel;

use super::{CliError, Context};

/// First-layer units of a NAM.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ActivationArg {
    /// Exp-centred units with a ReLU capped at 1 (the NAM paper's ExU): fits jagged shapes.
    Exu,
    /// Plain ReLU units: smoother shapes.
    Relu,
}

/// Flags of `--model nam` (using them with another model is an error).
#[derive(Args, Debug, Default)]
#[command(next_help_heading = "NAM settings (--model nam; unset: library defaults)")]
pub struct NamArgs {
    /// Ensemble members, trained in parallel with different seeds (default 5).
    #[arg(long, value_name = "N")]
    pub members: Option<usize>,
    /// Most epochs per member (default 200; early stopping usually ends sooner).
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Hidden layer sizes of each feature's net, comma-separated (default 64,32).
    #[arg(long, value_name = "N,N,..", value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// First-layer units (default exu).
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
    /// Adam step size (default 0.01).
    #[arg(long, value_name = "X")]
    pub lr: Option<f64>,
    /// Rows per mini-batch (default 512).
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Probability of dropping a hidden unit (default 0.1).
    #[arg(long, value_name = "P")]
    pub dropout: Option<f64>,
    /// Probability of dropping a feature's whole output for a row (default 0.05).
    #[arg(long, value_name = "P")]
    pub feature_dropout: Option<f64>,
    /// L2 penalty on the weights (default 1e-5).
    #[arg(long, value_name = "X")]
    pub weight_decay: Option<f64>,
    /// Penalty on the squared feature outputs (default 1e-3).
    #[arg(long, value_name = "X")]
    pub output_penalty: Option<f64>,
    /// Epochs without validation improvement before a member stops (default 20).
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
}

impl NamArgs {
    /// Whether any NAM-only flag was given.
    pub fn any(&self) -> bool {
        [self.members, self.epochs, self.batch_size, self.patience]
            .iter()
            .any(Option::is_some)
            || self.hidden.is_some()
            || self.activation.is_some()
            || [
                self.lr,
                self.dropout,
                self.feature_dropout,
                self.weight_decay,
                self.output_penalty,
            ]
            .iter()
            .any(Option::is_some)
    }

    /// The library parameters; `validation_fraction` is the shared `--validation-fraction` flag
    /// (each member's early-stopping hold-out; library default 0.15, 0 = none).
    fn params(&self, seed: u64, validation_fraction: Option<f64>) -> NamParams {
        let mut p = NamParams::default().seed(seed);
        if let Some(v) = self.members {
            p = p.members(v);
        }
        if let Some(v) = self.epochs {
            p = p.epochs(v);
        }
        if let Some(v) = &self.hidden {
            p = p.hidden(v.clone());
        }
        if let Some(v) = self.activation {
            p = p.activation(match v {
                ActivationArg::Exu => Activation::Exu,
                ActivationArg::Relu => Activation::Relu,
            });
        }
        if let Some(v) = self.lr {
            p = p.learning_rate(v);
        }
        if let Some(v) = self.batch_size {
            p = p.batch_size(v);
        }
        if let Some(v) = self.dropout {
            p = p.dropout(v);
        }
        if let Some(v) = self.feature_dropout {
            p = p.feature_dropout(v);
        }
        if let Some(v) = self.weight_decay {
            p = p.weight_decay(v);
        }
        if let Some(v) = self.output_penalty {
            p = p.output_penalty(v);
        }
        if let Some(v) = self.patience {
            p = p.patience(v);
        }
        if let Some(v) = validation_fraction {
            p = p.validation_fraction(v);
        }
        p
    }
}

/// Trains the NAM; returns the model and a one-line summary.
pub fn train(
    _ctx: &Context,
    args: &NamArgs,
    ds: &Dataset,
    seed: u64,
    validation_fraction: Option<f64>,
) -> Result<(AnyModel, String), CliError> {
    let nam = args.params(seed, validation_fraction).fit(ds)?;
    let r = nam.report();
    let epochs: Vec<String> = r
        .members
        .iter()
        .map(|m| format!("{}/{}", m.best_epoch, m.epochs_run))
        .collect();
    let losses: Vec<f64> = r.members.iter().filter_map(|m| m.validation_loss).collect();
    let validation = if losses.is_empty() {
        "no validation split".to_string()
    } else {
        format!(
            "mean validation {} {:.5}",
            r.loss_name,
            losses.iter().sum::<f64>() / losses.len() as f64
        )
    };
    let summary = format!(
        "nam: {} members ({} units, hidden {:?}), best/run epochs {}, {validation}",
        r.members.len(),
        nam.activation().name(),
        nam.hidden(),
        epochs.join(" "),
    );
    Ok((AnyModel::Nam(nam), summary))
}
