//! Explainers, and the [`Explanation`] value they all return.
//!
//! Each explainer is a module: exact Tree SHAP for tree ensembles (path-dependent, interventional,
//! interactions), exact contributions for additive models, and model-agnostic Kernel SHAP and LIME
//! for anything behind [`Model`](crate::model::Model). Explainers take the encoded matrix from the
//! data layer and never do I/O; the CLI and report layers write their results.

pub mod additive;
mod diagnostics;
mod error;
mod explanation;
pub mod influence;
pub mod kernel_shap;
pub mod lime;
mod linalg;
mod method;
pub mod tree_shap;

pub use diagnostics::{Diagnostics, KernelShapDiagnostics, LimeDiagnostics};
pub use error::{ExplainError, Result};
pub use explanation::{AdditivityReport, Explanation, ExplanationMeta, OutputSpace};
pub use method::{explain, prepare, ExplainOptions, Method, Prepared};
