//! Model files: glassbox's own JSON format, and detection of XGBoost / LightGBM files by content.
//!
//! A glassbox model file is one JSON object:
//!
//! ```json
//! {"format": "glassbox-model", "format_version": 1, "glassbox_version": "0.1.0",
//!  "model": {"type": "tree_ensemble", ...}}
//! ```
//!
//! The format version is bumped whenever an older glassbox could misread a newer file; an older
//! glassbox then refuses the file with [`ModelError::NewerFormat`] instead of guessing. The schema
//! (feature names, kinds, category levels) lives inside the model, so a model file alone is enough
//! to check new data. Files are written atomically (temp file, then rename).
//!
//! Files are recognised by content, not extension: a JSON object with `"format": "glassbox-model"`
//! is glassbox's; one with a `"learner"` key is XGBoost's `save_model` JSON; text starting with
//! `tree` and a `version=` line is a LightGBM model.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{ModelError, Result};
use super::import;
use super::{Model, TreeEnsemble};

/// The tag in the `format` field of glassbox model files.
pub const FORMAT_TAG: &str = "glassbox-model";
/// The newest model format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Any model glassbox can load, save and explain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnyModel {
    /// A tree ensemble (trained or imported).
    TreeEnsemble(TreeEnsemble),
    /// A generalised linear model.
    Glm(super::glm::Glm),
    /// A generalised additive model.
    Gam(super::gam::Gam),
    /// A neural additive model (an ensemble of NAMs).
    Nam(super::nam::Nam),
}

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    format: &'static str,
    format_version: u32,
    glassbox_version: &'static str,
    model: &'a AnyModel,
}

#[derive(Deserialize)]
struct EnvelopeHead {
    format_version: u32,
}

#[derive(Deserialize)]
struct EnvelopeIn {
    model: AnyModel,
}

impl AnyModel {
    /// The model behind the [`Model`] trait.
    pub fn as_model(&self) -> &dyn Model {
        match self {
            AnyModel::TreeEnsemble(m) => m,
            AnyModel::Glm(m) => m,
            AnyModel::Nam(m) => m,
            AnyModel::Gam(m) => m,
        }
    }

    /// The GAM, when this is one.
    pub fn as_gam(&self) -> Option<&super::gam::Gam> {
        match self {
            AnyModel::Gam(m) => Some(m),
            _ => None,
        }
    }

    /// The GLM, when this is one.
    pub fn as_glm(&self) -> Option<&super::glm::Glm> {
        match self {
            AnyModel::Glm(m) => Some(m),
            _ => None,
        }
    }

    /// The neural additive model, when this is one.
    pub fn as_nam(&self) -> Option<&super::nam::Nam> {
        match self {
            AnyModel::Nam(m) => Some(m),
            _ => None,
        }
    }

    /// The tree ensemble, when this is one.
    pub fn as_trees(&self) -> Option<&TreeEnsemble> {
        match self {
            AnyModel::TreeEnsemble(m) => Some(m),
            _ => None,
        }
    }

    /// The training target (name and kind), when the model knows it: every glassbox-trained
    /// model does; imported XGBoost/LightGBM files do not.
    pub fn target(&self) -> Option<&crate::data::TargetSpec> {
        match self {
            AnyModel::TreeEnsemble(m) => m.target.as_ref(),
            AnyModel::Glm(m) => Some(m.target()),
            AnyModel::Gam(m) => Some(m.target()),
            AnyModel::Nam(m) => Some(m.target()),
        }
    }

    /// A short name of the model family, for reports.
    pub fn kind_name(&self) -> &'static str {
        match self {
            AnyModel::TreeEnsemble(m) => match m.source {
                super::EnsembleSource::GradientBoosting => "gradient boosting (glassbox)",
                super::EnsembleSource::RandomForest => "random forest (glassbox)",
                super::EnsembleSource::XGBoost { .. } => "XGBoost (imported)",
                super::EnsembleSource::LightGbm { .. } => "LightGBM (imported)",
            },
            AnyModel::Glm(_) => "GLM (glassbox)",
            AnyModel::Gam(_) => "GAM (glassbox)",
            AnyModel::Nam(_) => "neural additive model (glassbox)",
        }
    }

    /// Writes the model as a glassbox JSON model file, atomically.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let envelope = EnvelopeOut {
            format: FORMAT_TAG,
            format_version: FORMAT_VERSION,
            glassbox_version: env!("CARGO_PKG_VERSION"),
            model: self,
        };
        crate::output::write_atomic(path, |w| {
            serde_json::to_writer(&mut *w, &envelope).map_err(std::io::Error::other)
        })
        .map_err(|source| ModelError::Io {
            path: path.into(),
            source,
        })
    }

    /// Loads a glassbox, XGBoost JSON or LightGBM text model, recognised by content.
    ///
    /// # Errors
    /// [`ModelError::NotAModel`] for anything else, [`ModelError::NewerFormat`] for a glassbox file
    /// from a newer version, [`ModelError::Corrupt`] for a recognised but inconsistent file.
    pub fn load(path: impl AsRef<Path>) -> Result<AnyModel> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.into(),
            source,
        })?;
        let not_a_model = |reason: &str| ModelError::NotAModel {
            path: path.into(),
            reason: reason.to_string(),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| not_a_model("not UTF-8 text"))?;
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Err(not_a_model("the file is empty"));
        }
        if trimmed.starts_with('{') {
            // One typed pass reads an XGBoost model outright and only tells a glassbox file by its
            // tag (its model is skipped here and read by `load_glassbox`).
            let doc: import::xgboost::Document = serde_json::from_str(text).map_err(|e| {
                if e.is_eof() {
                    not_a_model(&format!(
                        "the JSON ends early, at line {} column {}: the file looks truncated",
                        e.line(),
                        e.column()
                    ))
                } else if e.is_data() {
                    // A key given twice in one object.
                    not_a_model(&format!("invalid JSON: {e}"))
                } else {
                    not_a_model(&format!(
                        "invalid JSON at line {} column {}",
                        e.line(),
                        e.column()
                    ))
                }
            })?;
            if doc.format() == Some(FORMAT_TAG) {
                return load_glassbox(path, text);
            }
            if doc.has_learner() {
                return import::xgboost::from_document(path, &doc).map(AnyModel::TreeEnsemble);
            }
            return Err(not_a_model(
                "a JSON object, but neither a glassbox nor an XGBoost model",
            ));
        }
        if trimmed.starts_with("tree") && text.contains("version=") {
            return import::lightgbm::from_text(path, text).map(AnyModel::TreeEnsemble);
        }
        Err(not_a_model("unrecognised content"))
    }
}

fn load_glassbox(path: &Path, text: &str) -> Result<AnyModel> {
    let head: EnvelopeHead = serde_json::from_str(text).map_err(|e| ModelError::Corrupt {
        path: path.into(),
        message: format!("no valid format_version: {e}"),
    })?;
    if head.format_version > FORMAT_VERSION {
        return Err(ModelError::NewerFormat {
            path: path.into(),
            found: head.format_version,
            supported: FORMAT_VERSION,
        });
    }
    let envelope: EnvelopeIn = serde_json::from_str(text).map_err(|e| ModelError::Corrupt {
        path: path.into(),
        message: e.to_string(),
    })?;
    let model = envelope.model;
    match &model {
        AnyModel::TreeEnsemble(m) => m.validate().map_err(|message| ModelError::Corrupt {
            path: path.into(),
            message,
        })?,
        AnyModel::Glm(m) => m.validate().map_err(|message| ModelError::Corrupt {
            path: path.into(),
            message,
        })?,
        AnyModel::Gam(m) => m.validate().map_err(|message| ModelError::Corrupt {
            path: path.into(),
            message,
        })?,
        AnyModel::Nam(m) => m.validate().map_err(|message| ModelError::Corrupt {
            path: path.into(),
            message,
        })?,
    }
    Ok(model)
}
