//! Errors of the model layer: loading, saving, training parameters.

use std::path::PathBuf;

/// Result alias of the model layer.
pub type Result<T> = std::result::Result<T, ModelError>;

/// What went wrong with a model file or a model's parameters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not a model glassbox knows.
    #[error("{path}: not a model file: {reason}; expected a glassbox model (.json), an XGBoost JSON model or a LightGBM text model")]
    NotAModel {
        /// The file.
        path: PathBuf,
        /// Why it was not recognised.
        reason: String,
    },
    /// A glassbox model file written by a newer glassbox.
    #[error("{path}: model format version {found} is newer than this glassbox supports ({supported}); upgrade glassbox")]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// A recognised model file whose content is inconsistent.
    #[error("{path}: corrupt model: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is inconsistent, with the location (tree, node).
        message: String,
    },
    /// A model feature glassbox does not support (an objective, a booster type).
    #[error("{path}: unsupported model: {message}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        message: String,
    },
    /// A GLM could not be fitted (bad target, collinear design, …).
    #[error(transparent)]
    Glm(#[from] super::glm::GlmError),
    /// A GAM could not be fitted (bad target, collinear features, too few rows, …).
    #[error(transparent)]
    Gam(#[from] super::gam::GamError),
    /// An invalid training parameter.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParam {
        /// The parameter.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// The allowed range or rule.
        reason: String,
    },
    /// The training data do not suit the model.
    #[error("cannot train: {0}")]
    Training(String),
}
