//! Reason codes and the self-contained audit report.
//!
//! [`write_report`] turns one [`Explanation`] and what is known about the model and data into a
//! directory with `index.html` — one file, inline SVG figures and CSS, no JavaScript, nothing
//! fetched from the network, so it opens offline and can be archived as evidence — and the tables
//! behind it as CSV (`importance.csv`, `reasons.csv`, `performance.csv`, `calibration.csv`).
//!
//! The report reads, it does not compute explanations: every figure and table comes from the
//! explanation, the predictions and the targets given in [`ReportInput`]. The caller (the CLI's
//! `glassbox report`) loads the model and data, runs the explainer and hashes the files. This
//! keeps the report usable for any explainer, including ones run elsewhere, and keeps model code
//! out of the report layer.
//!
//! Sections: key numbers; data summary with data-quality warnings; performance on the data given
//! with a calibration diagram (binary models: decile bins, Wilson intervals, expected calibration
//! error) and table by decile; global importance; the summary (beeswarm) plot; dependence plots of
//! the top features; shape functions of additive models when given, in importance order; local
//! explanations (waterfalls and reason codes) of a few rows; explanation quality (additivity,
//! Kernel SHAP standard errors, LIME fidelity, held-out R² and stability); provenance (version,
//! SHA-256 of model, data and any background/reference file, seed, method, UTC date).

mod data_summary;
mod html;
pub mod metrics;
mod provenance;
pub mod reasons;
mod write;

use std::path::PathBuf;

use ndarray::{ArrayView1, ArrayView2};

pub use data_summary::{ColumnSummary, DataSummary};
pub use provenance::{format_utc, sha256_bytes, sha256_file, utc_now, Provenance};
pub use reasons::{
    reason_codes, write_reasons_csv, Direction, Level, Reason, ReasonOptions, ReferenceQuantiles,
    RowReasons,
};
pub use write::write_report;

use crate::data::TargetKind;
use crate::explain::Explanation;
use crate::model::Link;
use crate::plot::ShapeFunction;

/// Result alias of the report layer.
pub type Result<T> = std::result::Result<T, ReportError>;

/// What went wrong while building a report or reason codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Inputs that do not fit together or cannot be used.
    #[error("{what}: {reason}")]
    Invalid {
        /// What was being built.
        what: String,
        /// Why it cannot be.
        reason: String,
    },
    /// A plot failed.
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    /// A file could not be written.
    #[error("{path}: cannot write: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The model, as the report describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// A name, usually the model file's name.
    pub name: String,
    /// The model family, e.g. `gradient boosting (glassbox)`.
    pub kind: String,
    /// The task and class labels (class 1 of a binary model is the adverse outcome).
    pub task: TargetKind,
    /// The target column's name, when known.
    pub target_name: Option<String>,
    /// The link from raw score to prediction.
    pub link: Link,
}

/// Options of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOptions {
    /// Features in the importance and summary plots. Default 20.
    pub top_features: usize,
    /// Dependence plots, for the most important features. Default 4.
    pub dependence_plots: usize,
    /// Rows shown as local explanations; `None` picks the highest, lowest and median prediction
    /// and one random row. Default `None`.
    pub local_rows: Option<Vec<usize>>,
    /// Reason codes (the number per row, the adverse direction, the output).
    pub reasons: ReasonOptions,
    /// Rows drawn at most per summary-plot line and dependence plot. Default 1000.
    pub max_dots: usize,
    /// Seed of the plot samples and the random local row. Default 0.
    pub seed: u64,
    /// The output of multi-output explanations shown in global plots. Default 0.
    pub output: usize,
    /// Relative tolerance of the additivity check, as in the explainers. Default 1e-6.
    pub additivity_tolerance: f64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            top_features: 20,
            dependence_plots: 4,
            local_rows: None,
            reasons: ReasonOptions::default(),
            max_dots: 1000,
            seed: 0,
            output: 0,
            additivity_tolerance: 1e-6,
        }
    }
}

/// Everything a report shows. Build it from a model, data and an explanation; see
/// [`write_report`].
#[derive(Clone, Debug)]
pub struct ReportInput<'a> {
    /// The report's title.
    pub title: String,
    /// The model.
    pub model: ModelInfo,
    /// The explanation of the rows, with the feature values attached.
    pub explanation: &'a Explanation,
    /// The model's predictions for the same rows (probabilities or values), rows × outputs.
    pub predictions: ArrayView2<'a, f64>,
    /// The model's output in the explanation's space (raw score or probability), rows × outputs,
    /// for the additivity check; `None` skips the check.
    pub model_output: Option<ArrayView2<'a, f64>>,
    /// The encoded targets of the rows, when the data had them.
    pub targets: Option<ArrayView1<'a, f64>>,
    /// The data summary (see [`DataSummary::from_data`]).
    pub data: DataSummary,
    /// The training distribution for high/low in reason codes; `None` uses the explained rows.
    pub reference: Option<ReferenceQuantiles>,
    /// Shape functions of an additive model, if the model is one.
    pub shape_functions: Vec<ShapeFunction>,
    /// LIME's fidelity (weighted R²) per explained row, when LIME produced the explanation.
    pub lime_fidelity: Option<Vec<f64>>,
    /// Provenance.
    pub provenance: Provenance,
    /// Options.
    pub options: ReportOptions,
    /// Row identifiers `(column name, one id per explained row)`: shown with each local
    /// explanation and written to `reasons.csv`, so decisions can be traced to applications.
    pub row_ids: Option<(String, Vec<String>)>,
}

/// What [`write_report`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportFiles {
    /// The HTML report.
    pub index: PathBuf,
    /// The CSV tables, in the order written.
    pub tables: Vec<PathBuf>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::ReportInput<'static>>();
        check::<super::ReportError>();
        check::<super::RowReasons>();
    }
}
