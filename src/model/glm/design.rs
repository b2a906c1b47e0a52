//! From encoded features to a GLM design matrix: intercept, numeric columns, treatment dummies,
//! and the missing-value fill that training recorded.
//!
//! Categorical features are dummy-coded with the **first** level as the reference (levels are
//! sorted in the schema, so this is the first level in sort order — the same reference as
//! pandas' `get_dummies(drop_first=True)` and R's default treatment contrasts). Term names are
//! `intercept`, the numeric column name, and `<feature>=<level>`.
//!
//! Missing values: a GLM cannot route them, so training fills them — numeric features with the
//! training mean of the observed values, categorical features with the most frequent level (ties
//! go to the earlier level). The fill and how many training values it replaced are stored in the
//! model and applied unchanged at predict and explain time. The rejected alternatives: dropping
//! rows (silently changes the population the coefficients describe and fails at predict time) and
//! filling categoricals with the reference level (an alphabetical accident, not a typical value).
//! Mean/mode imputation does bias standard errors downwards when many values are missing; the
//! count is in the fit report so a reader can judge that.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis, Zip};
use serde::{Deserialize, Serialize};

use super::error::GlmError;
use crate::data::{FeatureKind, FeatureSchema};

/// Where a design column comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TermSource {
    /// The constant 1.
    Intercept,
    /// A numeric feature, as is.
    Numeric {
        /// Feature index in the schema.
        feature: usize,
    },
    /// 1 when a categorical feature equals a level, else 0.
    Level {
        /// Feature index in the schema.
        feature: usize,
        /// Level index.
        level: usize,
    },
}

/// One column of the design matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// `intercept`, the feature name, or `<feature>=<level>`.
    pub name: String,
    /// What the column is computed from.
    pub source: TermSource,
}

impl Term {
    /// The schema feature behind this term (`None` for the intercept).
    pub fn feature(&self) -> Option<usize> {
        match self.source {
            TermSource::Intercept => None,
            TermSource::Numeric { feature } | TermSource::Level { feature, .. } => Some(feature),
        }
    }
}

/// The fill applied to one feature's missing values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Imputation {
    /// The feature.
    pub feature: String,
    /// The encoded fill: the mean, or a level index.
    pub fill: f64,
    /// The fill for people: the mean, or the level's name.
    pub display: String,
    /// How many training values were missing and filled.
    pub count: usize,
}

/// How encoded rows become design rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Design {
    terms: Vec<Term>,
    /// One per schema feature, in schema order.
    imputations: Vec<Imputation>,
}

impl Design {
    /// The design for a schema, with the fills computed from the training matrix `x`.
    ///
    /// # Errors
    /// [`GlmError::CategoryCodes`] for raw category codes, [`GlmError::EmptyLevel`] for a level
    /// (other than the reference) that no row has.
    pub fn from_training(
        schema: &FeatureSchema,
        x: ArrayView2<f64>,
        intercept: bool,
    ) -> Result<Design, GlmError> {
        let mut terms = Vec::new();
        if intercept {
            terms.push(Term {
                name: "intercept".into(),
                source: TermSource::Intercept,
            });
        }
        let mut imputations = Vec::with_capacity(schema.len());
        for (j, f) in schema.features().iter().enumerate() {
            let col = x.column(j);
            let missing = col.iter().filter(|v| v.is_nan()).count();
            match &f.kind {
                FeatureKind::Numeric => {
                    let (s, c) = col
                        .iter()
                        .filter(|v| !v.is_nan())
                        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
                    let mean = if c > 0 { s / c as f64 } else { 0.0 };
                    imputations.push(Imputation {
                        feature: f.name.clone(),
                        fill: mean,
                        display: crate::data::format_number(mean),
                        count: missing,
                    });
                    terms.push(Term {
                        name: f.name.clone(),
                        source: TermSource::Numeric { feature: j },
                    });
                }
                FeatureKind::Categorical { levels } => {
                    let mut counts = vec![0usize; levels.len()];
                    for &v in col.iter() {
                        if v >= 0.0 && (v as usize) < levels.len() {
                            counts[v as usize] += 1;
                        }
                    }
                    for (k, &c) in counts.iter().enumerate().skip(1) {
                        if c == 0 {
                            return Err(GlmError::EmptyLevel {
                                feature: f.name.clone(),
                                level: levels[k].clone(),
                            });
                        }
                    }
                    // Most frequent level; `max_by_key` keeps the last maximum, so scan reversed
                    // to let ties go to the earlier level.
                    let mode = (0..levels.len())
                        .rev()
                        .max_by_key(|&k| counts[k])
                        .unwrap_or(0);
                    imputations.push(Imputation {
                        feature: f.name.clone(),
                        fill: mode as f64,
                        display: levels.get(mode).cloned().unwrap_or_default(),
                        count: missing,
                    });
                    for (k, level) in levels.iter().enumerate().skip(1) {
                        terms.push(Term {
                            name: format!("{}={}", f.name, level),
                            source: TermSource::Level {
                                feature: j,
                                level: k,
                            },
                        });
                    }
                }
                FeatureKind::CategoryCode => {
                    return Err(GlmError::CategoryCodes {
                        feature: f.name.clone(),
                    })
                }
            }
        }
        Ok(Design { terms, imputations })
    }

    /// The design columns, in order.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The term names, in order.
    pub fn term_names(&self) -> Vec<String> {
        self.terms.iter().map(|t| t.name.clone()).collect()
    }

    /// The per-feature missing-value fills, in schema order.
    pub fn imputations(&self) -> &[Imputation] {
        &self.imputations
    }

    /// Keeps only the terms whose flag is true (after dropping collinear columns).
    pub(crate) fn retain(&mut self, keep: &[bool]) {
        let mut it = keep.iter();
        self.terms.retain(|_| *it.next().unwrap_or(&true));
    }

    /// Number of features the design reads.
    pub fn n_features(&self) -> usize {
        self.imputations.len()
    }

    /// The design matrix of encoded rows `x` (rows × features), missing values filled.
    ///
    /// # Panics
    /// When `x` has fewer columns than the schema (the data layer checks this first).
    pub fn matrix(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = Array2::<f64>::zeros((x.nrows(), self.terms.len()));
        Zip::from(out.axis_iter_mut(Axis(0)))
            .and(x.axis_iter(Axis(0)))
            .par_for_each(|mut o, row| {
                for (c, t) in self.terms.iter().enumerate() {
                    o[c] = self.term_value(t, row);
                }
            });
        out
    }

    /// The value of one design column for one encoded row.
    #[inline]
    pub(crate) fn term_value(&self, t: &Term, row: ArrayView1<f64>) -> f64 {
        match t.source {
            TermSource::Intercept => 1.0,
            TermSource::Numeric { feature } => self.value(row[feature], feature),
            TermSource::Level { feature, level } => {
                f64::from(self.value(row[feature], feature) == level as f64)
            }
        }
    }

    /// Σ coef·(design value) for one encoded row, without building the design row.
    #[inline]
    pub(crate) fn dot(&self, row: ArrayView1<f64>, coef: &[f64]) -> f64 {
        self.terms
            .iter()
            .zip(coef)
            .map(|(t, b)| b * self.term_value(t, row))
            .sum()
    }

    #[inline]
    fn value(&self, v: f64, feature: usize) -> f64 {
        if v.is_nan() {
            self.imputations[feature].fill
        } else {
            v
        }
    }

    /// Total number of training values that were missing and filled.
    pub fn total_imputed(&self) -> usize {
        self.imputations.iter().map(|i| i.count).sum()
    }

    /// Checks the design against a schema (for model files).
    pub(crate) fn validate(&self, schema: &FeatureSchema) -> Result<(), String> {
        if self.imputations.len() != schema.len() {
            return Err(format!(
                "{} imputations for {} features",
                self.imputations.len(),
                schema.len()
            ));
        }
        for t in &self.terms {
            match t.source {
                TermSource::Intercept => {}
                TermSource::Numeric { feature } => {
                    if feature >= schema.len() {
                        return Err(format!("term '{}' reads feature {feature}", t.name));
                    }
                }
                TermSource::Level { feature, level } => {
                    let ok = schema
                        .features()
                        .get(feature)
                        .is_some_and(|f| match &f.kind {
                            FeatureKind::Categorical { levels } => level < levels.len(),
                            _ => false,
                        });
                    if !ok {
                        return Err(format!(
                            "term '{}' reads a level that does not exist",
                            t.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
