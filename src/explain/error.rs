//! Errors of the explain layer.

use std::path::PathBuf;

/// Result alias of the explain layer.
pub type Result<T> = std::result::Result<T, ExplainError>;

/// What went wrong while explaining.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// Arrays whose shapes do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// Attributions that do not add up to the model output: a bug in the explainer or a model the
    /// explainer misreads. The message names the row so it can be reproduced.
    #[error("{method}: attributions of row {row} (output '{output}') sum to {got} but the model outputs {expected} (off by {diff:e}); this is a glassbox bug: please report it with the model file and that row")]
    Additivity {
        /// The method.
        method: String,
        /// 0-based row.
        row: usize,
        /// The output's name.
        output: String,
        /// The model's output.
        expected: f64,
        /// base + Σ attributions.
        got: f64,
        /// |got − expected|.
        diff: f64,
    },
    /// A method that does not apply to this model or setting.
    #[error("{0}")]
    Unsupported(String),
    /// An invalid option.
    #[error("invalid option {name} = {value}: {reason}")]
    InvalidParam {
        /// The option.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// The rule.
        reason: String,
    },
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Reading data failed.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A model problem.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
}
