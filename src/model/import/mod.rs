//! Importers of models saved by other libraries, into the shared [`TreeEnsemble`].
//!
//! Each importer reads the library's own save format (XGBoost's JSON, LightGBM's text) rather than
//! a dump or a converted file, because only the save format carries everything exact prediction
//! and path-dependent Tree SHAP need: thresholds at full precision, missing-value directions,
//! category sets and node covers. The libraries' decision rules are translated into the one rule
//! of [`Node::goes_left`](super::Node::goes_left) at import time, so prediction and every explainer
//! downstream never branch on where a model came from.
//!
//! Both importers treat the file as untrusted input: every index is range-checked while parsing,
//! every tree goes through [`TreeEnsemble::validate`](super::TreeEnsemble::validate) (no cycles, no
//! dangling children, no NaN thresholds), and every problem is reported as a
//! [`ModelError`] naming the file, the tree and the node.

mod json;
pub mod lightgbm;
pub mod xgboost;

use std::path::Path;

use super::ModelError;
use super::TreeEnsemble;

/// What went wrong while reading a foreign model, before the file name is attached.
#[derive(Debug)]
enum ImportError {
    /// The file is inconsistent (becomes [`ModelError::Corrupt`]).
    Corrupt(String),
    /// The file is fine but uses something glassbox does not support (becomes
    /// [`ModelError::Unsupported`]).
    Unsupported(String),
}

impl ImportError {
    fn into_model_error(self, path: &Path) -> ModelError {
        match self {
            ImportError::Corrupt(message) => ModelError::Corrupt {
                path: path.into(),
                message,
            },
            ImportError::Unsupported(message) => ModelError::Unsupported {
                path: path.into(),
                message,
            },
        }
    }
}

impl From<String> for ImportError {
    fn from(message: String) -> Self {
        ImportError::Corrupt(message)
    }
}

type ImportResult<T> = std::result::Result<T, ImportError>;

/// Early return with a [`ImportError::Corrupt`] message.
macro_rules! corrupt {
    ($($arg:tt)*) => {
        return Err($crate::model::import::ImportError::Corrupt(format!($($arg)*)))
    };
}
/// Early return with a [`ImportError::Unsupported`] message.
macro_rules! unsupported {
    ($($arg:tt)*) => {
        return Err($crate::model::import::ImportError::Unsupported(format!($($arg)*)))
    };
}
pub(crate) use corrupt;
pub(crate) use unsupported;

/// The smallest `f64` greater than `x` (`f64::next_up`, written out for the crate's MSRV).
///
/// LightGBM sends `x <= t` left; glassbox's rule is `x < t'`. With `t' = next_up(t)` the two tests
/// agree for every `f64` `x`, because no `f64` lies strictly between `t` and `t'`.
pub(crate) fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        // Both +0 and -0: the smallest positive subnormal.
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    }
}

/// Output names by convention: `output` for one output, `{prefix}0..` for several.
fn output_names(n_outputs: usize, prefix: &str) -> Vec<String> {
    if n_outputs == 1 {
        vec!["output".to_string()]
    } else {
        (0..n_outputs).map(|k| format!("{prefix}{k}")).collect()
    }
}

/// Rejects duplicate feature names: data columns are matched to features by name, so a duplicate
/// would silently feed one column to two features.
fn check_unique_names(names: &[String]) -> ImportResult<()> {
    let mut seen = std::collections::HashSet::new();
    for (j, name) in names.iter().enumerate() {
        if !seen.insert(name.as_str()) {
            corrupt!("feature name '{name}' appears twice (again at index {j}); data columns are matched by name, so names must be unique");
        }
    }
    Ok(())
}

/// Runs [`TreeEnsemble::validate`] and maps its message to [`ImportError::Corrupt`].
fn validated(model: TreeEnsemble) -> ImportResult<TreeEnsemble> {
    model.validate().map_err(ImportError::Corrupt)?;
    Ok(model)
}

/// Sets bit `code` in a growing bitset of 64-bit words.
fn set_bit(words: &mut Vec<u64>, code: usize) {
    let w = code / 64;
    if words.len() <= w {
        words.resize(w + 1, 0);
    }
    words[w] |= 1u64 << (code % 64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_up_is_the_next_float() {
        for &t in &[1.0, -1.0, 21.500000000000004, 1e-300, -1e-300, 3.5e10] {
            let u = next_up(t);
            assert!(u > t, "{t}");
            // Adjacent bit patterns: no f64 lies strictly between t and u.
            assert_eq!(u.to_bits().abs_diff(t.to_bits()), 1, "{t}");
        }
        assert_eq!(next_up(0.0), f64::from_bits(1));
        assert_eq!(next_up(-0.0), f64::from_bits(1));
        assert_eq!(next_up(-f64::from_bits(1)), -0.0);
        assert_eq!(next_up(1.0), 1.0 + f64::EPSILON);
        assert_eq!(next_up(-1.0), -1.0 + f64::EPSILON / 2.0);
        assert_eq!(next_up(f64::MAX), f64::INFINITY);
        assert!(next_up(f64::NAN).is_nan());
    }
}
