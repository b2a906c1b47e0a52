//! [`Explanation`]: the one value every explainer returns and every plot and report consumes.
//!
//! Modelled on shap's `Explanation`: per-row, per-output, per-feature attributions, the base
//! value(s) they start from, the feature values that were explained, names, optional standard
//! errors, and provenance (method, seed, model hash, and the history of operations such as row
//! selection). Plots never recompute attributions; they read this value, and derive labels from
//! its metadata.
//!
//! Shapes: `values` is rows × outputs × features; `base_values` rows × outputs. A single-output
//! model (regression, binary log-odds) has one output. The invariant that makes an explanation an
//! explanation — *local accuracy*: `base + Σ values = model output` per row and output — is checked
//! by [`Explanation::check_additivity`], which every Tree SHAP / additive explainer runs as a cheap
//! run-time guard.

use std::path::Path;

use ndarray::{s, Array2, Array3, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::diagnostics::Diagnostics;
use super::error::{ExplainError, Result};
use crate::data::{Feature, FeatureSchema};

/// The space attributions are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputSpace {
    /// The model's raw score (log-odds for binary models).
    Raw,
    /// Probability (binary and multiclass models).
    Probability,
}

/// Provenance of an explanation, for reports and for reproducing it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplanationMeta {
    /// The method, e.g. `tree-shap`.
    pub method: String,
    /// The space the attributions are in.
    pub output_space: OutputSpace,
    /// The seed of any random step.
    pub seed: Option<u64>,
    /// A hash of the model file or model content.
    pub model_hash: Option<String>,
    /// Operations applied after the explainer ran (row selection, …), oldest first.
    pub history: Vec<String>,
    /// Per-row diagnostics of sampling explainers (Kernel SHAP, LIME); `None` for exact ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Diagnostics>,
}

impl ExplanationMeta {
    /// Metadata for a method, in raw space, with no seed or hash.
    pub fn new(method: impl Into<String>) -> Self {
        ExplanationMeta {
            method: method.into(),
            output_space: OutputSpace::Raw,
            seed: None,
            model_hash: None,
            history: Vec::new(),
            diagnostics: None,
        }
    }
}

/// How well attributions add up to the model output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdditivityReport {
    /// Largest |base + Σ values − output| over rows and outputs.
    pub max_abs_error: f64,
    /// The row where it occurred (0-based).
    pub worst_row: usize,
    /// The output where it occurred.
    pub worst_output: usize,
}

/// Per-row, per-output, per-feature attributions with their base values and context.
#[derive(Clone, Debug)]
pub struct Explanation {
    values: Array3<f64>,
    base_values: Array2<f64>,
    data: Option<Array2<f64>>,
    std_errors: Option<Array3<f64>>,
    schema: FeatureSchema,
    output_names: Vec<String>,
    meta: ExplanationMeta,
}

impl Explanation {
    /// An explanation from attributions (rows × outputs × features) and base values
    /// (rows × outputs).
    ///
    /// # Errors
    /// [`ExplainError::Shape`] when the shapes disagree with each other, the schema or the names.
    pub fn new(
        values: Array3<f64>,
        base_values: Array2<f64>,
        schema: FeatureSchema,
        output_names: Vec<String>,
        meta: ExplanationMeta,
    ) -> Result<Self> {
        let (n, k, m) = values.dim();
        if base_values.dim() != (n, k) {
            return Err(ExplainError::Shape(format!(
                "base values are {:?} but attributions have {n} rows and {k} outputs",
                base_values.dim()
            )));
        }
        if schema.len() != m {
            return Err(ExplainError::Shape(format!(
                "{m} attribution columns but {} features",
                schema.len()
            )));
        }
        if output_names.len() != k {
            return Err(ExplainError::Shape(format!(
                "{k} outputs but {} output names",
                output_names.len()
            )));
        }
        Ok(Explanation {
            values,
            base_values,
            data: None,
            std_errors: None,
            schema,
            output_names,
            meta,
        })
    }

    /// Attaches the explained feature values (rows × features, encoded as in the schema).
    ///
    /// # Errors
    /// [`ExplainError::Shape`] when the shape does not match.
    pub fn with_data(mut self, data: Array2<f64>) -> Result<Self> {
        if data.dim() != (self.n_rows(), self.n_features()) {
            return Err(ExplainError::Shape(format!(
                "data is {:?}, expected ({}, {})",
                data.dim(),
                self.n_rows(),
                self.n_features()
            )));
        }
        self.data = Some(data);
        Ok(self)
    }

    /// Attaches standard errors, same shape as the attributions.
    ///
    /// # Errors
    /// [`ExplainError::Shape`] when the shape does not match.
    pub fn with_std_errors(mut self, se: Array3<f64>) -> Result<Self> {
        if se.dim() != self.values.dim() {
            return Err(ExplainError::Shape(format!(
                "standard errors are {:?}, expected {:?}",
                se.dim(),
                self.values.dim()
            )));
        }
        self.std_errors = Some(se);
        Ok(self)
    }

    /// Attributions, rows × outputs × features.
    pub fn values(&self) -> &Array3<f64> {
        &self.values
    }

    /// Attributions of one output, rows × features.
    ///
    /// # Panics
    /// When `output` is out of range.
    pub fn output_values(&self, output: usize) -> ArrayView2<'_, f64> {
        self.values.index_axis(Axis(1), output)
    }

    /// Base values, rows × outputs.
    pub fn base_values(&self) -> &Array2<f64> {
        &self.base_values
    }

    /// The explained feature values, when attached.
    pub fn data(&self) -> Option<&Array2<f64>> {
        self.data.as_ref()
    }

    /// Standard errors of the attributions, when the method estimates them.
    pub fn std_errors(&self) -> Option<&Array3<f64>> {
        self.std_errors.as_ref()
    }

    /// The features (names and kinds, for rendering values).
    pub fn schema(&self) -> &FeatureSchema {
        &self.schema
    }

    /// Feature names.
    pub fn feature_names(&self) -> Vec<String> {
        self.schema.names()
    }

    /// Output names.
    pub fn output_names(&self) -> &[String] {
        &self.output_names
    }

    /// Provenance.
    pub fn meta(&self) -> &ExplanationMeta {
        &self.meta
    }

    /// Mutable provenance (to set a seed or model hash after construction).
    pub fn meta_mut(&mut self) -> &mut ExplanationMeta {
        &mut self.meta
    }

    /// Number of explained rows.
    pub fn n_rows(&self) -> usize {
        self.values.dim().0
    }

    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.values.dim().1
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.values.dim().2
    }

    /// `base + Σ values` per row and output: what the attributions say the model output is.
    pub fn reconstructed_output(&self) -> Array2<f64> {
        &self.base_values + &self.values.sum_axis(Axis(2))
    }

    /// Compares [`Explanation::reconstructed_output`] with the model's output (rows × outputs).
    ///
    /// # Errors
    /// [`ExplainError::Additivity`] naming the worst row when any error exceeds
    /// `tolerance × max(1, |output|)`; [`ExplainError::Shape`] on a shape mismatch.
    pub fn check_additivity(
        &self,
        model_output: ArrayView2<f64>,
        tolerance: f64,
    ) -> Result<AdditivityReport> {
        if model_output.dim() != self.base_values.dim() {
            return Err(ExplainError::Shape(format!(
                "model output is {:?}, expected {:?}",
                model_output.dim(),
                self.base_values.dim()
            )));
        }
        let recon = self.reconstructed_output();
        let mut report = AdditivityReport {
            max_abs_error: 0.0,
            worst_row: 0,
            worst_output: 0,
        };
        let mut failure = None;
        for ((i, k), &r) in recon.indexed_iter() {
            let want = model_output[[i, k]];
            let err = (r - want).abs();
            if err > report.max_abs_error || err.is_nan() {
                report = AdditivityReport {
                    max_abs_error: err,
                    worst_row: i,
                    worst_output: k,
                };
            }
            if failure.is_none() && !(err <= tolerance * want.abs().max(1.0)) {
                failure = Some((i, k, want, r, err));
            }
        }
        match failure {
            Some((row, output, expected, got, diff)) => Err(ExplainError::Additivity {
                method: self.meta.method.clone(),
                row,
                output: self.output_names[output].clone(),
                expected,
                got,
                diff,
            }),
            None => Ok(report),
        }
    }

    /// Mean |attribution| per output and feature (outputs × features): global importance.
    pub fn mean_abs(&self) -> Array2<f64> {
        self.values
            .mapv(f64::abs)
            .mean_axis(Axis(0))
            .unwrap_or_else(|| Array2::zeros((self.n_outputs(), self.n_features())))
    }

    /// A new explanation of the rows at these indices; the selection is recorded in the history.
    ///
    /// # Panics
    /// When an index is out of range.
    pub fn select_rows(&self, rows: &[usize]) -> Explanation {
        let mut meta = self.meta.clone();
        meta.history
            .push(format!("select_rows({} rows)", rows.len()));
        meta.diagnostics = meta.diagnostics.map(|d| d.select_rows(rows));
        Explanation {
            values: self.values.select(Axis(0), rows),
            base_values: self.base_values.select(Axis(0), rows),
            data: self.data.as_ref().map(|d| d.select(Axis(0), rows)),
            std_errors: self.std_errors.as_ref().map(|s| s.select(Axis(0), rows)),
            schema: self.schema.clone(),
            output_names: self.output_names.clone(),
            meta,
        }
    }

    /// The table written by [`Explanation::write`]: headers and columns.
    ///
    /// One column per feature, then `base_value`; with several outputs the block repeats per
    /// output as `<output>:<feature>`, `<output>:base_value`. With `include_se` and standard errors
    /// present, `<feature>_se` columns follow each output's block.
    pub fn to_columns(&self, include_se: bool) -> (Vec<String>, Vec<Vec<f64>>) {
        let names = self.feature_names();
        let multi = self.n_outputs() > 1;
        let mut headers = Vec::new();
        let mut columns = Vec::new();
        for k in 0..self.n_outputs() {
            let prefix = if multi {
                format!("{}:", self.output_names[k])
            } else {
                String::new()
            };
            for (j, name) in names.iter().enumerate() {
                headers.push(format!("{prefix}{name}"));
                columns.push(self.values.slice(s![.., k, j]).to_vec());
            }
            headers.push(format!("{prefix}base_value"));
            columns.push(self.base_values.column(k).to_vec());
            if let (true, Some(se)) = (include_se, &self.std_errors) {
                for (j, name) in names.iter().enumerate() {
                    headers.push(format!("{prefix}{name}_se"));
                    columns.push(se.slice(s![.., k, j]).to_vec());
                }
            }
        }
        (headers, columns)
    }

    /// Writes the attributions to CSV, or Parquet when `path` ends in `.parquet`, atomically.
    ///
    /// # Errors
    /// [`ExplainError::Io`] when the file cannot be written.
    pub fn write(&self, path: impl AsRef<Path>, include_se: bool) -> Result<()> {
        let path = path.as_ref();
        let (headers, columns) = self.to_columns(include_se);
        crate::output::write_numeric_table(path, &headers, &columns).map_err(|source| {
            ExplainError::Io {
                path: path.into(),
                source,
            }
        })
    }

    /// Reads attributions written by [`Explanation::write`] (CSV or Parquet). Feature kinds are not
    /// stored in the table, so features come back numeric; data are not stored either.
    ///
    /// # Errors
    /// Read errors, or a table without `base_value` columns.
    pub fn read(path: impl AsRef<Path>) -> Result<Explanation> {
        let path = path.as_ref();
        let df = crate::data::read_table(path)?;
        let headers: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let column = |name: &str| -> Result<Vec<f64>> {
            let s = df
                .column(name)
                .map_err(|e| ExplainError::Shape(e.to_string()))?
                .as_materialized_series()
                .cast(&polars::prelude::DataType::Float64)
                .map_err(|e| ExplainError::Shape(e.to_string()))?;
            let ca = s.f64().map_err(|e| ExplainError::Shape(e.to_string()))?;
            Ok(ca.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        };
        let bad = |msg: &str| ExplainError::Shape(format!("{}: {msg}", path.display()));
        let outputs: Vec<String> = if headers.iter().any(|h| h == "base_value") {
            vec![String::new()]
        } else {
            headers
                .iter()
                .filter_map(|h| h.strip_suffix(":base_value").map(str::to_string))
                .collect()
        };
        if outputs.is_empty() {
            return Err(bad("no base_value column; not an explanation table"));
        }
        let multi = outputs.len() > 1 || !outputs[0].is_empty();
        let prefix = |o: &str| {
            if multi {
                format!("{o}:")
            } else {
                String::new()
            }
        };
        // Features: the first output's columns before its base_value.
        let p0 = prefix(&outputs[0]);
        let base0 = headers
            .iter()
            .position(|h| *h == format!("{p0}base_value"))
            .ok_or_else(|| bad("missing base_value"))?;
        let features: Vec<String> = headers[..base0]
            .iter()
            .filter_map(|h| h.strip_prefix(&p0).map(str::to_string))
            .collect();
        let n = df.height();
        let (k, m) = (outputs.len(), features.len());
        let mut values = Array3::zeros((n, k, m));
        let mut base = Array2::zeros((n, k));
        let mut se = Array3::zeros((n, k, m));
        let mut has_se = true;
        for (o, out) in outputs.iter().enumerate() {
            let p = prefix(out);
            for (j, f) in features.iter().enumerate() {
                let col = column(&format!("{p}{f}"))?;
                values
                    .slice_mut(s![.., o, j])
                    .assign(&ndarray::Array1::from(col));
                match column(&format!("{p}{f}_se")) {
                    Ok(c) => se.slice_mut(s![.., o, j]).assign(&ndarray::Array1::from(c)),
                    Err(_) => has_se = false,
                }
            }
            base.column_mut(o)
                .assign(&ndarray::Array1::from(column(&format!("{p}base_value"))?));
        }
        let names = if multi {
            outputs
        } else {
            vec!["output".to_string()]
        };
        let schema = FeatureSchema::new(features.into_iter().map(Feature::numeric).collect());
        let mut meta = ExplanationMeta::new("read");
        meta.history.push(format!("read({})", path.display()));
        let e = Explanation::new(values, base, schema, names, meta)?;
        if has_se && m > 0 {
            e.with_std_errors(se)
        } else {
            Ok(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn two_row() -> Explanation {
        let values = Array3::from_shape_vec((2, 1, 2), vec![0.5, -0.25, 1.0, 2.0]).unwrap();
        let base = array![[1.0], [1.0]];
        Explanation::new(
            values,
            base,
            FeatureSchema::numeric(["a", "b"]),
            vec!["y".into()],
            ExplanationMeta::new("test"),
        )
        .unwrap()
    }

    #[test]
    fn additivity_guard_names_the_row() {
        let e = two_row();
        let ok = e
            .check_additivity(array![[1.25], [4.0]].view(), 1e-12)
            .unwrap();
        assert_eq!(ok.max_abs_error, 0.0);
        match e.check_additivity(array![[1.25], [4.5]].view(), 1e-6) {
            Err(ExplainError::Additivity { row, diff, .. }) => {
                assert_eq!(row, 1);
                assert!((diff - 0.5).abs() < 1e-12);
            }
            other => panic!("expected an additivity error, got {other:?}"),
        }
    }

    #[test]
    fn csv_and_parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["e.csv", "e.parquet"] {
            let path = dir.path().join(name);
            let e = two_row();
            e.write(&path, false).unwrap();
            let back = Explanation::read(&path).unwrap();
            assert_eq!(back.values(), e.values());
            assert_eq!(back.base_values(), e.base_values());
            assert_eq!(back.feature_names(), vec!["a", "b"]);
        }
    }

    #[test]
    fn multi_output_headers() {
        let values = Array3::zeros((1, 2, 1));
        let e = Explanation::new(
            values,
            Array2::zeros((1, 2)),
            FeatureSchema::numeric(["x"]),
            vec!["c0".into(), "c1".into()],
            ExplanationMeta::new("t"),
        )
        .unwrap();
        let (h, _) = e.to_columns(false);
        assert_eq!(h, vec!["c0:x", "c0:base_value", "c1:x", "c1:base_value"]);
    }

    #[test]
    fn explanation_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Explanation>();
    }
}
