//! # glassbox
//!
//! Faithful explanations for tabular models: exact Tree SHAP, Kernel SHAP, LIME, exact
//! contributions of additive models, with plots and an audit report — over polars dataframes.
//!
//! ## The pipeline: data → model → explain → plot/report
//!
//! Everything flows one way, and each layer is a module that depends only on the ones before it.
//! [`data`] reads a CSV or Parquet file with polars, infers (at training time) or applies (at
//! predict time) a [`FeatureSchema`](data::FeatureSchema) — names, numeric or categorical, category
//! levels — and encodes the table into one dense `f64` matrix with `NaN` for missing values. [`model`]
//! trains models on that matrix or imports them (XGBoost JSON, LightGBM text) into a shared tree
//! representation; every model implements the small [`Model`](model::Model) trait and stores its
//! schema in its file, so new data are checked against what the model was trained on. [`explain`]
//! turns a model and rows into one [`Explanation`](explain::Explanation) value — attributions, base
//! values, the explained data, names and provenance — checked for additivity at run time. Plots and
//! reports read only that value. The `glassbox` binary is a thin CLI over this library.
//!
//! ```
//! use glassbox::data::{Dataset, SchemaOptions};
//!
//! // data: read, infer the schema, encode
//! let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?;
//! assert_eq!((ds.n_rows(), ds.n_features()), (1000, 20));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Errors, determinism, output
//! Bad input is an error that names the file, the row or column and the fix — never a panic. Every
//! random step takes a seed, and the same seed gives bit-identical output at any thread count.
//! Every output file is written atomically (see [`output`]).

#![deny(missing_docs)]

pub mod data;
pub mod explain;
pub mod model;
pub mod output;
pub mod plot;
pub mod report;

/// The commonly used types, for `use glassbox::prelude::*`.
pub mod prelude {
    pub use crate::data::{Dataset, FeatureSchema, SchemaOptions};
    pub use crate::explain::{Explanation, OutputSpace};
    pub use crate::model::{AnyModel, Link, Model, TreeEnsemble};
}
