//! The feature schema: which columns a model uses, of what kind, with which category levels.
//!
//! A schema is inferred once, from the training table, and saved inside every model file. At
//! predict and explain time the same schema is applied to the new table: columns are matched by
//! name (their order may differ), a missing column or an unseen category is reported by name and
//! row, and the values are encoded the same way as in training. That is the whole defence against
//! the commonest silent failure of deployed models: a column that means something else today.
//!
//! # Kinds
//! - **Numeric**: any integer, float or boolean column, encoded as `f64`; an empty field is
//!   missing (`NaN` in the matrix).
//! - **Categorical**: text columns, and integer columns with at most
//!   [`SchemaOptions::max_int_levels`] distinct values. Levels are kept in sorted order (text
//!   lexicographically, integers numerically) and encoded as the level's index `0, 1, 2, …`;
//!   missing stays `NaN`. Sorting makes the encoding independent of row order, so two files with
//!   the same values give the same model.
//! - **Category codes**: integer codes given directly in the data, for imported XGBoost and
//!   LightGBM models with native categorical splits (their files know codes, not level names).
//!
//! Integer columns with a handful of values (an installment rate of 1–4, say) are ordinal more
//! often than not, so the default keeps them numeric unless they have at most 2 values, where the
//! two encodings are equivalent; raise `max_int_levels` or name columns in
//! [`SchemaOptions::categorical`] to change it.

use serde::{Deserialize, Serialize};

/// How a feature's values are encoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeatureKind {
    /// A number; missing is `NaN`.
    Numeric,
    /// A category from a fixed list of levels, encoded as the level's index.
    Categorical {
        /// The levels, in encoding order.
        levels: Vec<String>,
    },
    /// Non-negative integer category codes taken as they are (imported models).
    CategoryCode,
}

impl FeatureKind {
    /// True for the two categorical kinds.
    pub fn is_categorical(&self) -> bool {
        !matches!(self, FeatureKind::Numeric)
    }
}

/// One feature of a model: its column name and kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// The column name in the data.
    pub name: String,
    /// How the column is encoded.
    #[serde(flatten)]
    pub kind: FeatureKind,
}

impl Feature {
    /// A numeric feature.
    pub fn numeric(name: impl Into<String>) -> Self {
        Feature {
            name: name.into(),
            kind: FeatureKind::Numeric,
        }
    }

    /// Renders an encoded value for people: the level name for categories, the number otherwise.
    pub fn display_value(&self, v: f64) -> String {
        if v.is_nan() {
            return "missing".to_string();
        }
        match &self.kind {
            FeatureKind::Categorical { levels } if v >= 0.0 && (v as usize) < levels.len() => {
                levels[v as usize].clone()
            }
            _ => format_number(v),
        }
    }
}

/// Formats a number compactly: integers without a decimal point, others with up to 6 significant
/// digits.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// The ordered features a model takes: the contract between training data and new data.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct FeatureSchema {
    features: Vec<Feature>,
}

impl FeatureSchema {
    /// A schema from features in model order.
    pub fn new(features: Vec<Feature>) -> Self {
        FeatureSchema { features }
    }

    /// A schema of numeric features with these names.
    pub fn numeric<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        FeatureSchema::new(names.into_iter().map(Feature::numeric).collect())
    }

    /// The features in model order.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// True when there are no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The feature names in model order.
    pub fn names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.name.clone()).collect()
    }

    /// The index of a feature by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.features.iter().position(|f| f.name == name)
    }
}

/// What the target column is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TargetKind {
    /// A real number (regression).
    Continuous,
    /// Two classes, encoded 0 and 1; `classes[1]` is the positive class (the risk event).
    Binary {
        /// `[negative, positive]`.
        classes: Vec<String>,
    },
    /// Several classes, encoded `0..k`.
    Multiclass {
        /// Class labels in encoding order.
        classes: Vec<String>,
    },
}

/// The target column of a model: its name and kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetSpec {
    /// Column name.
    pub name: String,
    /// Kind and class labels.
    #[serde(flatten)]
    pub kind: TargetKind,
}

/// The learning task, when the user states it instead of letting glassbox infer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Predict a real number.
    Regression,
    /// Predict the probability of the positive class.
    Binary,
    /// Predict a probability per class.
    Multiclass,
}

/// What to do with a category the model did not see in training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnseenPolicy {
    /// Stop with an error naming the column, row and value (the default: it is usually a data bug).
    #[default]
    Error,
    /// Treat the value as missing.
    Missing,
}

/// Options for inferring a schema from a training table.
#[derive(Clone, Debug)]
pub struct SchemaOptions {
    /// Columns to treat as categorical whatever their type.
    pub categorical: Vec<String>,
    /// Columns to treat as numeric (text columns must then parse as numbers).
    pub numeric: Vec<String>,
    /// Columns to leave out of the model (identifiers, leaks).
    pub ignore: Vec<String>,
    /// Integer columns with at most this many distinct values become categorical. Default 2.
    pub max_int_levels: usize,
    /// A text column with more distinct values than this is refused as an identifier. Default 1000.
    pub max_levels: usize,
    /// The task; inferred from the target when `None`.
    pub task: Option<Task>,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            categorical: Vec::new(),
            numeric: Vec::new(),
            ignore: Vec::new(),
            max_int_levels: 2,
            max_levels: 1000,
            task: None,
        }
    }
}
