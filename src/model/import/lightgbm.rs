//! LightGBM text models (`Booster.save_model("model.txt")`).

use std::path::Path;

use crate::model::{ModelError, Result, TreeEnsemble};

/// Reads a LightGBM text model.
///
/// # Errors
/// Not implemented yet: always [`ModelError::Unsupported`].
pub fn from_text(path: &Path, _text: &str) -> Result<TreeEnsemble> {
    Err(ModelError::Unsupported {
        path: path.into(),
        message: "LightGBM import is not implemented yet".into(),
    })
}
