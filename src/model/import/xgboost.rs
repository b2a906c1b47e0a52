//! XGBoost JSON models (`Booster.save_model("model.json")`).

use std::path::Path;

use crate::model::{ModelError, Result, TreeEnsemble};

/// Reads an XGBoost JSON model.
///
/// # Errors
/// Not implemented yet: always [`ModelError::Unsupported`].
pub fn from_json(path: &Path, _value: &serde_json::Value) -> Result<TreeEnsemble> {
    Err(ModelError::Unsupported {
        path: path.into(),
        message: "XGBoost import is not implemented yet".into(),
    })
}
