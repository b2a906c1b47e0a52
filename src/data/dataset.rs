//! [`Dataset`]: the numeric matrix (and target) that models and explainers consume, built from a
//! polars [`DataFrame`] in exactly one place.
//!
//! Everything downstream sees a dense row-major `Array2<f64>` with `NaN` for missing values and
//! categories as level indices. Keeping the conversion here means the checks (types, non-finite
//! values, unseen categories) are written once and every model benefits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use polars::prelude::*;

use super::error::{column_hint, DataError, Result};
use super::read::read_table;
use super::schema::{
    Feature, FeatureKind, FeatureSchema, SchemaOptions, TargetKind, TargetSpec, Task, UnseenPolicy,
};

/// Features (and optionally a target) encoded for models, with the schema that encoded them.
#[derive(Clone, Debug)]
pub struct Dataset {
    x: Array2<f64>,
    y: Option<Array1<f64>>,
    schema: FeatureSchema,
    target: Option<TargetSpec>,
    source: PathBuf,
    /// Row identifiers carried through to outputs (see [`Dataset::ids`]).
    ids: Option<Vec<String>>,
}

impl Dataset {
    /// Builds a dataset directly from a matrix (rows × features, `NaN` = missing).
    ///
    /// # Errors
    /// When the matrix's width differs from the schema's length or the target's length from the
    /// number of rows.
    pub fn from_parts(
        x: Array2<f64>,
        y: Option<Array1<f64>>,
        schema: FeatureSchema,
        target: Option<TargetSpec>,
    ) -> Result<Self> {
        let bad = |message: String| DataError::Invalid {
            path: PathBuf::from("<memory>"),
            message,
        };
        if x.ncols() != schema.len() {
            return Err(bad(format!(
                "matrix has {} columns but the schema {} features",
                x.ncols(),
                schema.len()
            )));
        }
        if let Some(y) = &y {
            if y.len() != x.nrows() {
                return Err(bad(format!(
                    "target has {} values but the matrix {} rows",
                    y.len(),
                    x.nrows()
                )));
            }
        }
        Ok(Dataset {
            x,
            y,
            schema,
            target,
            source: PathBuf::from("<memory>"),
            ids: None,
        })
    }

    /// Reads a training table, infers the schema and encodes features and target.
    ///
    /// # Errors
    /// Any [`DataError`] from reading, a missing or unusable target, or a column that cannot be
    /// encoded.
    ///
    /// # Example
    /// ```
    /// use glassbox::data::{Dataset, SchemaOptions};
    /// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default()).unwrap();
    /// assert_eq!(ds.n_features(), 20);
    /// assert!(ds.schema().features()[0].kind.is_categorical());
    /// ```
    pub fn load_training(
        path: impl AsRef<Path>,
        target: &str,
        options: &SchemaOptions,
    ) -> Result<Self> {
        let path = path.as_ref();
        let df = read_table(path)?;
        Self::from_frame_infer(&df, path, target, options)
    }

    /// Reads new data for an existing model: columns matched by name to `schema`; the target is read
    /// too when `target` is given and the column is present.
    ///
    /// # Errors
    /// A missing feature column, a value of the wrong type, a non-finite number, or (with
    /// [`UnseenPolicy::Error`]) a category the model did not see.
    pub fn load_with_schema(
        path: impl AsRef<Path>,
        schema: &FeatureSchema,
        target: Option<&TargetSpec>,
        unseen: UnseenPolicy,
    ) -> Result<Self> {
        let path = path.as_ref();
        // Without a target every column the schema uses has a known type: no inference needed.
        let df = match target {
            None => super::read::read_table_with_schema(path, schema)?,
            Some(_) => read_table(path)?,
        };
        Self::from_frame_with_schema(&df, path, schema, target, unseen)
    }

    /// Infers a schema from `df` (every column but the target and ignored ones is a feature) and
    /// encodes it. `path` only labels errors.
    ///
    /// # Errors
    /// As [`Dataset::load_training`].
    pub fn from_frame_infer(
        df: &DataFrame,
        path: &Path,
        target: &str,
        options: &SchemaOptions,
    ) -> Result<Self> {
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let target_col = get_column(df, path, target, &names)?;
        let target_spec = infer_target(path, target_col, options.task)?;
        for name in options
            .ignore
            .iter()
            .chain(&options.categorical)
            .chain(&options.numeric)
        {
            get_column(df, path, name, &names)?;
        }
        let mut features = Vec::new();
        for name in &names {
            if name == target || options.ignore.contains(name) {
                continue;
            }
            let col = get_column(df, path, name, &names)?;
            features.push(infer_feature(path, col, options)?);
        }
        if features.is_empty() {
            return Err(DataError::Invalid {
                path: path.into(),
                message: "no feature columns are left besides the target".into(),
            });
        }
        let schema = FeatureSchema::new(features);
        Self::from_frame_with_schema(df, path, &schema, Some(&target_spec), UnseenPolicy::Error)
    }

    /// Encodes `df` with an existing schema. `path` only labels errors.
    ///
    /// # Errors
    /// As [`Dataset::load_with_schema`].
    pub fn from_frame_with_schema(
        df: &DataFrame,
        path: &Path,
        schema: &FeatureSchema,
        target: Option<&TargetSpec>,
        unseen: UnseenPolicy,
    ) -> Result<Self> {
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let n = df.height();
        let mut x = Array2::<f64>::from_elem((n, schema.len()), f64::NAN);
        for (j, feature) in schema.features().iter().enumerate() {
            let col = get_column(df, path, &feature.name, &names)?;
            let values = encode_feature(path, col, feature, unseen)?;
            x.column_mut(j).assign(&Array1::from(values));
        }
        let (y, target) = match target {
            Some(spec) if names.contains(&spec.name) => {
                let col = get_column(df, path, &spec.name, &names)?;
                (Some(encode_target(path, col, spec)?), Some(spec.clone()))
            }
            Some(spec) => (None, Some(spec.clone())),
            None => (None, None),
        };
        Ok(Dataset {
            x,
            y: y.map(Array1::from),
            schema: schema.clone(),
            target,
            source: path.into(),
            ids: None,
        })
    }

    /// The feature matrix, rows × features, `NaN` = missing.
    pub fn x(&self) -> &Array2<f64> {
        &self.x
    }

    /// The encoded target, when the data had one.
    pub fn y(&self) -> Option<&Array1<f64>> {
        self.y.as_ref()
    }

    /// The schema that encoded the features.
    pub fn schema(&self) -> &FeatureSchema {
        &self.schema
    }

    /// The target's specification, when known.
    pub fn target(&self) -> Option<&TargetSpec> {
        self.target.as_ref()
    }

    /// The file the data came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }

    /// The first `n` rows (all rows when `n` is larger).
    pub fn head(&self, n: usize) -> Dataset {
        let n = n.min(self.n_rows());
        self.select_rows(&(0..n).collect::<Vec<_>>())
    }

    /// Row identifiers read from an id column (`--id` at the command line), one per row, when the
    /// data was read with one (see [`Dataset::chunks_with_ids`]); outputs carry them so that rows
    /// can be joined back without relying on row order. Missing values are empty strings.
    pub fn ids(&self) -> Option<&[String]> {
        self.ids.as_deref()
    }

    /// Attaches the values of `column` of `df` (the frame this dataset was encoded from) as row
    /// identifiers, as text.
    pub(crate) fn attach_ids(&mut self, df: &DataFrame, path: &Path, column: &str) -> Result<()> {
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let col = get_column(df, path, column, &names)?
            .cast(&DataType::String)
            .map_err(|e| parse_err(path, e))?;
        let ids = col
            .str()
            .map_err(|e| parse_err(path, e))?
            .into_iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect();
        self.ids = Some(ids);
        Ok(())
    }

    /// Categorical features that look like row identifiers: a different level in every row that
    /// has a value, on at least 20 such rows. As features they memorise rows (a tree can isolate
    /// each one; a GLM gets a coefficient per row), so callers warn and suggest `--ignore`.
    /// Returns `(name, number of levels)` in schema order.
    ///
    /// # Example
    /// ```
    /// use glassbox::data::{Dataset, SchemaOptions};
    /// let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?;
    /// assert!(ds.identifier_like_features().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn identifier_like_features(&self) -> Vec<(String, usize)> {
        const MIN_ROWS: usize = 20;
        self.schema
            .features()
            .iter()
            .enumerate()
            .filter_map(|(j, f)| {
                let FeatureKind::Categorical { levels } = &f.kind else {
                    return None;
                };
                let present = self.x.column(j).iter().filter(|v| !v.is_nan()).count();
                (present >= MIN_ROWS && levels.len() >= present)
                    .then(|| (f.name.clone(), levels.len()))
            })
            .collect()
    }

    /// The rows at these indices, in this order.
    ///
    /// # Panics
    /// When an index is out of range (a programming error).
    pub fn select_rows(&self, rows: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select(ndarray::Axis(0), rows),
            y: self.y.as_ref().map(|y| y.select(ndarray::Axis(0), rows)),
            schema: self.schema.clone(),
            target: self.target.clone(),
            source: self.source.clone(),
            ids: self
                .ids
                .as_ref()
                .map(|ids| rows.iter().map(|&r| ids[r].clone()).collect()),
        }
    }
}

fn get_column<'a>(
    df: &'a DataFrame,
    path: &Path,
    name: &str,
    names: &[String],
) -> Result<&'a Series> {
    df.column(name)
        .map(|c| c.as_materialized_series())
        .map_err(|_| DataError::MissingColumn {
            path: path.into(),
            column: name.to_string(),
            hint: column_hint(name, names),
        })
}

fn col_name(s: &Series) -> String {
    s.name().to_string()
}

/// The distinct non-missing values of a column as strings, sorted (numerically for numbers).
fn sorted_levels(path: &Path, s: &Series) -> Result<Vec<String>> {
    match s.dtype() {
        DataType::String => Ok(sorted_distinct(
            s.str()
                .map_err(|e| parse_err(path, e))?
                .into_iter()
                .flatten()
                .map(str::to_string),
        )),
        DataType::Boolean => Ok(sorted_distinct(
            s.bool()
                .map_err(|e| parse_err(path, e))?
                .into_iter()
                .flatten()
                .map(|v| v.to_string()),
        )),
        _ => {
            let values = numeric_values(path, s)?;
            let mut nums: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
            nums.sort_by(f64::total_cmp);
            nums.dedup();
            Ok(nums.into_iter().map(super::schema::format_number).collect())
        }
    }
}

/// The distinct values of `values`, sorted as strings.
fn sorted_distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut set: Vec<String> = values.collect();
    set.sort();
    set.dedup();
    set
}

fn parse_err(path: &Path, e: PolarsError) -> DataError {
    DataError::Parse {
        path: path.into(),
        message: e.to_string(),
    }
}

/// A column's values as `f64` (`NaN` = missing), refusing non-finite numbers written in the file.
fn numeric_values(path: &Path, s: &Series) -> Result<Vec<f64>> {
    let out: Vec<f64> = match s.dtype() {
        DataType::String => {
            let ca = s.str().map_err(|e| parse_err(path, e))?;
            let mut out = Vec::with_capacity(ca.len());
            for (i, v) in ca.into_iter().enumerate() {
                match v {
                    None => out.push(f64::NAN),
                    Some(text) => match text.trim().parse::<f64>() {
                        Ok(x) => out.push(x),
                        Err(_) => {
                            return Err(DataError::NotNumeric {
                                path: path.into(),
                                column: col_name(s),
                                row: i + 1,
                                value: text.to_string(),
                            })
                        }
                    },
                }
            }
            out
        }
        DataType::Null => vec![f64::NAN; s.len()],
        dt if dt.is_primitive_numeric() || matches!(dt, DataType::Boolean) => {
            let cast = s.cast(&DataType::Float64).map_err(|e| parse_err(path, e))?;
            let ca = cast.f64().map_err(|e| parse_err(path, e))?;
            let mut out = Vec::with_capacity(ca.len());
            // Straight from each chunk's value buffer; missing values (nulls) become NaN.
            for arr in ca.downcast_iter() {
                match arr.validity().filter(|valid| valid.unset_bits() > 0) {
                    None => out.extend_from_slice(arr.values()),
                    Some(valid) => {
                        out.extend(arr.values().iter().zip(valid.iter()).map(|(&v, ok)| {
                            if ok {
                                v
                            } else {
                                f64::NAN
                            }
                        }))
                    }
                }
            }
            out
        }
        other => {
            return Err(DataError::UnsupportedType {
                path: path.into(),
                column: col_name(s),
                dtype: other.to_string(),
            })
        }
    };
    // A NaN here came either from a missing field (polars null) or from "NaN" text in the file;
    // only the latter is an error, so look at the nulls to tell them apart.
    // The null mask is only built when there is a NaN to tell apart.
    let mut nulls: Option<BooleanChunked> = None;
    for (i, v) in out.iter().enumerate() {
        if v.is_finite() {
            continue;
        }
        let is_null = v.is_nan() && nulls.get_or_insert_with(|| s.is_null()).get(i) == Some(true);
        if !is_null {
            return Err(DataError::NonFinite {
                path: path.into(),
                column: col_name(s),
                row: i + 1,
                value: format!("{v}"),
            });
        }
    }
    Ok(out)
}

fn infer_feature(path: &Path, s: &Series, options: &SchemaOptions) -> Result<Feature> {
    let name = col_name(s);
    if s.null_count() == s.len() {
        return Err(DataError::AllMissing {
            path: path.into(),
            column: name,
        });
    }
    let forced_cat = options.categorical.contains(&name);
    let forced_num = options.numeric.contains(&name);
    let kind = match s.dtype() {
        _ if forced_num => {
            numeric_values(path, s)?;
            FeatureKind::Numeric
        }
        DataType::String => {
            if !forced_cat {
                check_not_stray_numeric(path, s)?;
            }
            let levels = sorted_levels(path, s)?;
            if levels.len() > options.max_levels && !forced_cat {
                return Err(DataError::Invalid {
                    path: path.into(),
                    message: format!(
                        "column '{name}' has {} distinct text values, which looks like an identifier; leave it out (--ignore {name}) or declare it categorical",
                        levels.len()
                    ),
                });
            }
            FeatureKind::Categorical { levels }
        }
        DataType::Boolean => FeatureKind::Categorical {
            levels: sorted_levels(path, s)?,
        },
        dt if dt.is_integer() => {
            let levels = sorted_levels(path, s)?;
            if forced_cat || levels.len() <= options.max_int_levels {
                FeatureKind::Categorical { levels }
            } else {
                FeatureKind::Numeric
            }
        }
        dt if dt.is_float() => {
            if forced_cat {
                FeatureKind::Categorical {
                    levels: sorted_levels(path, s)?,
                }
            } else {
                numeric_values(path, s)?;
                FeatureKind::Numeric
            }
        }
        other => {
            return Err(DataError::UnsupportedType {
                path: path.into(),
                column: name,
                dtype: other.to_string(),
            })
        }
    };
    Ok(Feature { name, kind })
}

/// A text column in which nearly every value is a number is a numeric column with stray text.
fn check_not_stray_numeric(path: &Path, s: &Series) -> Result<()> {
    let ca = s.str().map_err(|e| parse_err(path, e))?;
    let mut numbers = 0usize;
    let mut first_bad: Option<(usize, String)> = None;
    let mut bad = 0usize;
    for (i, v) in ca.into_iter().enumerate() {
        if let Some(text) = v {
            if text.trim().parse::<f64>().is_ok() {
                numbers += 1;
            } else {
                bad += 1;
                if first_bad.is_none() {
                    first_bad = Some((i + 1, text.to_string()));
                }
            }
        }
    }
    match first_bad {
        Some((row, value)) if numbers >= 10 && bad * 20 <= numbers => Err(DataError::NotNumeric {
            path: path.into(),
            column: col_name(s),
            row,
            value,
        }),
        _ => Ok(()),
    }
}

fn encode_feature(
    path: &Path,
    s: &Series,
    feature: &Feature,
    unseen: UnseenPolicy,
) -> Result<Vec<f64>> {
    match &feature.kind {
        FeatureKind::Numeric => numeric_values(path, s),
        FeatureKind::CategoryCode => {
            let values = numeric_values(path, s)?;
            for (i, &v) in values.iter().enumerate() {
                if !v.is_nan() && (v < 0.0 || v.fract() != 0.0) {
                    return Err(DataError::NotNumeric {
                        path: path.into(),
                        column: feature.name.clone(),
                        row: i + 1,
                        value: format!("{v} (expected a non-negative integer category code)"),
                    });
                }
            }
            Ok(values)
        }
        FeatureKind::Categorical { levels } => {
            let index: HashMap<&str, usize> = levels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.as_str(), i))
                .collect();
            let texts = column_as_text(path, s)?;
            let mut out = Vec::with_capacity(texts.len());
            for (i, t) in texts.into_iter().enumerate() {
                match t {
                    None => out.push(f64::NAN),
                    Some(t) => match index.get(t.as_str()) {
                        Some(&k) => out.push(k as f64),
                        None if unseen == UnseenPolicy::Missing => out.push(f64::NAN),
                        None => {
                            let mut known: Vec<&str> =
                                levels.iter().take(8).map(String::as_str).collect();
                            if levels.len() > 8 {
                                known.push("…");
                            }
                            return Err(DataError::UnseenCategory {
                                path: path.into(),
                                column: feature.name.clone(),
                                row: i + 1,
                                value: t,
                                known: known.join(", "),
                            });
                        }
                    },
                }
            }
            Ok(out)
        }
    }
}

/// A column's values as the text used for category levels (numbers formatted as in
/// [`sorted_levels`]).
fn column_as_text(path: &Path, s: &Series) -> Result<Vec<Option<String>>> {
    match s.dtype() {
        DataType::String => Ok(s
            .str()
            .map_err(|e| parse_err(path, e))?
            .into_iter()
            .map(|v| v.map(str::to_string))
            .collect()),
        DataType::Boolean => Ok(s
            .bool()
            .map_err(|e| parse_err(path, e))?
            .into_iter()
            .map(|v| v.map(|b| b.to_string()))
            .collect()),
        _ => Ok(numeric_values(path, s)?
            .into_iter()
            .map(|v| (!v.is_nan()).then(|| super::schema::format_number(v)))
            .collect()),
    }
}

fn infer_target(path: &Path, s: &Series, task: Option<Task>) -> Result<TargetSpec> {
    let name = col_name(s);
    if let Some(i) = s.is_null().into_iter().position(|v| v == Some(true)) {
        return Err(DataError::MissingTarget {
            path: path.into(),
            column: name,
            row: i + 1,
        });
    }
    let levels = sorted_levels(path, s)?;
    if levels.len() < 2 {
        return Err(DataError::ConstantTarget {
            path: path.into(),
            column: name,
            value: levels.first().cloned().unwrap_or_default(),
        });
    }
    let is_text = matches!(s.dtype(), DataType::String | DataType::Boolean);
    let bad = |reason: String| DataError::BadTarget {
        path: path.into(),
        column: name.clone(),
        reason,
    };
    let kind = match task {
        Some(Task::Regression) => {
            if is_text {
                return Err(bad("regression needs a numeric target".into()));
            }
            numeric_values(path, s)?;
            TargetKind::Continuous
        }
        Some(Task::Binary) => {
            if levels.len() != 2 {
                return Err(bad(format!(
                    "a binary model needs exactly 2 distinct values, found {}",
                    levels.len()
                )));
            }
            TargetKind::Binary { classes: levels }
        }
        Some(Task::Multiclass) => TargetKind::Multiclass { classes: levels },
        None if levels.len() == 2 => TargetKind::Binary { classes: levels },
        None if is_text => {
            if levels.len() > 100 {
                return Err(bad(format!(
                    "{} distinct text values is too many classes; is this the right column?",
                    levels.len()
                )));
            }
            TargetKind::Multiclass { classes: levels }
        }
        None => {
            numeric_values(path, s)?;
            TargetKind::Continuous
        }
    };
    Ok(TargetSpec { name, kind })
}

fn encode_target(path: &Path, s: &Series, spec: &TargetSpec) -> Result<Vec<f64>> {
    let fake = Feature {
        name: spec.name.clone(),
        kind: match &spec.kind {
            TargetKind::Continuous => FeatureKind::Numeric,
            TargetKind::Binary { classes } | TargetKind::Multiclass { classes } => {
                FeatureKind::Categorical {
                    levels: classes.clone(),
                }
            }
        },
    };
    let values = encode_feature(path, s, &fake, UnseenPolicy::Error)?;
    if let Some(i) = values.iter().position(|v| v.is_nan()) {
        return Err(DataError::MissingTarget {
            path: path.into(),
            column: spec.name.clone(),
            row: i + 1,
        });
    }
    Ok(values)
}
