//! Models: the [`Model`] trait every explainer sees, the shared tree representation, model files.
//!
//! The trait is deliberately small — a schema, output names, a link, and a batch prediction into a
//! caller's buffer — so that model-agnostic explainers (Kernel SHAP, LIME) work for any model, and
//! model-specific explainers (Tree SHAP, additive contributions) take the concrete type.
//!
//! Raw output versus prediction: every model computes a *raw* score per output (log-odds for binary
//! classification, per-class scores for multiclass, the value for regression) and a [`Link`] maps it
//! to the *prediction* (probability or value). Explanations are of the raw score unless the caller
//! asks for probability space.

/// A builder setter for a parameters newtype `struct XParams(Inner)`: `setter!(/// doc
/// field: Type)` expands to `pub fn field(mut self, value: Type) -> Self`. Shared by every model
/// family's params builder (declared before the family modules so they all see it).
macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.0.$name = value;
            self
        }
    };
}

mod error;
pub mod file;
pub mod flat;
pub mod forest;
pub mod gam;
pub mod gbdt;
pub mod glm;
pub mod import;
pub mod nam;
pub mod tree;

pub use error::{ModelError, Result};
pub use file::AnyModel;
pub use tree::{EnsembleSource, Node, Tree, TreeEnsemble};

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

use crate::data::FeatureSchema;

/// Maps a model's raw scores to predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Prediction = raw score (regression).
    Identity,
    /// Prediction = 1 / (1 + e^−raw) (binary classification, raw = log-odds).
    Logistic,
    /// Prediction = softmax over the outputs (multiclass).
    Softmax,
    /// Prediction = e^raw (log-link GLMs: raw = log of the mean).
    Exp,
    /// Prediction = Φ(raw), the standard normal CDF (probit GLMs).
    NormalCdf,
    /// Prediction = 1 − exp(−e^raw) (complementary log-log GLMs).
    InverseCloglog,
    /// Prediction = 1 / raw (inverse-link GLMs).
    Reciprocal,
}

impl Link {
    /// Applies the link to one row of raw scores, in place.
    pub fn apply(self, row: &mut [f64]) {
        match self {
            Link::Identity => {}
            Link::Logistic => row.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Link::Softmax => {
                // Shifted by the maximum so exp never overflows.
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut sum = 0.0;
                for v in row.iter_mut() {
                    *v = (*v - max).exp();
                    sum += *v;
                }
                row.iter_mut().for_each(|v| *v /= sum);
            }
            Link::Exp => row.iter_mut().for_each(|v| *v = v.exp()),
            Link::NormalCdf => {
                use statrs::distribution::{ContinuousCDF, Normal};
                let n = Normal::standard();
                row.iter_mut().for_each(|v| *v = n.cdf(*v));
            }
            Link::InverseCloglog => row.iter_mut().for_each(|v| *v = 1.0 - (-v.exp()).exp()),
            Link::Reciprocal => row.iter_mut().for_each(|v| *v = 1.0 / *v),
        }
    }
}

/// The logistic function, computed without overflow for large |x|.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// A fitted model that predicts a batch of encoded rows.
///
/// Implementors must be deterministic: the same rows give bit-identical outputs whatever the
/// thread count.
pub trait Model: Send + Sync {
    /// The features, in the column order of the matrices this model takes.
    fn schema(&self) -> &FeatureSchema;

    /// One name per output (class labels, or the target's name).
    fn output_names(&self) -> &[String];

    /// Raw score → prediction.
    fn link(&self) -> Link;

    /// Writes raw scores for the rows of `x` (rows × features) into `out` (rows × outputs).
    ///
    /// # Panics
    /// When the shapes do not match the schema and output count (a programming error: the data
    /// layer checks user input first).
    fn predict_raw_into(&self, x: ArrayView2<f64>, out: ArrayViewMut2<f64>);

    /// The tree ensemble behind this model, when it is one. Explainers that evaluate many rows
    /// differing from each other in a few features (Kernel SHAP's hybrid rows) use the trees'
    /// structure to evaluate them faster, with the same results. Default: `None`.
    fn as_tree_ensemble(&self) -> Option<&TreeEnsemble> {
        None
    }

    /// Number of outputs.
    fn n_outputs(&self) -> usize {
        self.output_names().len()
    }

    /// Raw scores, rows × outputs.
    fn predict_raw(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros((x.nrows(), self.n_outputs()));
        self.predict_raw_into(x, out.view_mut());
        out
    }

    /// Predictions (probabilities or values), rows × outputs.
    fn predict(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = self.predict_raw(x);
        let link = self.link();
        for mut row in out.axis_iter_mut(Axis(0)) {
            if let Some(slice) = row.as_slice_mut() {
                link.apply(slice);
            }
        }
        out
    }
}
