//! The data layer: tables in, encoded matrices out.
//!
//! [`read_table`] reads CSV or Parquet into a polars `DataFrame`, with a validation pass that turns
//! malformed files into errors naming the line. A [`FeatureSchema`] (inferred once at training time,
//! stored in the model) turns a frame into a [`Dataset`]: a dense `f64` matrix with `NaN` for missing
//! values and categories as level indices — the only representation models and explainers see.
//! [`Dataset::chunks_with_schema`] reads new data a chunk of rows at a time ([`TableChunks`]), so
//! commands that stream their results (`explain`, `interactions`) never hold the whole input.
//!
//! Missing values stay missing here. Tree models route them natively; models that cannot (GLMs,
//! GAMs, NAMs) impute at fit time and record the imputation in the model file, so the same fill is
//! applied at predict time.

mod chunks;
mod dataset;
mod error;
mod read;
mod schema;
mod split;

pub use chunks::{DatasetChunks, TableChunks};
pub use dataset::Dataset;
pub use error::{DataError, Result};
pub use read::read_table;
pub use schema::{
    format_number, Feature, FeatureKind, FeatureSchema, SchemaOptions, TargetKind, TargetSpec,
    Task, UnseenPolicy,
};
pub use split::{split_indices, take_rows, write_csv};
