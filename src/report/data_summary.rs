//! What the data look like, and what in them deserves a warning before anyone trusts an
//! explanation of a model run on them.

use ndarray::{ArrayView1, ArrayView2};

use crate::data::{FeatureKind, FeatureSchema, TargetKind};

/// Summary of one feature column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// `numeric`, `categorical` or `category code`.
    pub kind: &'static str,
    /// Missing values.
    pub missing: usize,
    /// Distinct non-missing values.
    pub distinct: usize,
    /// Minimum, median and maximum (numeric columns).
    pub min_median_max: Option<(f64, f64, f64)>,
    /// The most frequent value (as displayed) and its share of the non-missing values.
    pub top_value: Option<(String, f64)>,
}

/// Summary of the explained data set.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSummary {
    /// Rows.
    pub rows: usize,
    /// Per feature, in model order.
    pub columns: Vec<ColumnSummary>,
    /// Data-quality warnings, one sentence each.
    pub warnings: Vec<String>,
}

/// A column with at least this share of missing values gets a warning.
pub const MISSING_WARNING: f64 = 0.20;
/// A column whose most frequent value has at least this share is nearly constant.
pub const NEAR_CONSTANT: f64 = 0.99;
/// A categorical column with more levels than this gets a warning.
pub const MANY_LEVELS: usize = 50;

impl DataSummary {
    /// Summarises the encoded matrix `x` (rows × features, NaN = missing) and, when given, the
    /// target, and collects warnings: heavily missing, constant and nearly constant columns,
    /// categories with very many levels, few rows per feature, and a rare or near-universal
    /// positive class.
    pub fn from_data(
        x: ArrayView2<f64>,
        schema: &FeatureSchema,
        target: Option<(&TargetKind, ArrayView1<f64>)>,
    ) -> Self {
        let n = x.nrows();
        let mut warnings = Vec::new();
        let mut columns = Vec::with_capacity(schema.len());
        for (j, f) in schema.features().iter().enumerate() {
            let mut vals: Vec<f64> = x
                .column(j)
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .collect();
            let missing = n - vals.len();
            vals.sort_by(f64::total_cmp);
            // Distinct values and the most frequent one, from the sorted list.
            let (mut distinct, mut best, mut best_count) = (0usize, f64::NAN, 0usize);
            let mut i = 0;
            while i < vals.len() {
                let mut k = i;
                while k < vals.len() && vals[k] == vals[i] {
                    k += 1;
                }
                distinct += 1;
                if k - i > best_count {
                    best_count = k - i;
                    best = vals[i];
                }
                i = k;
            }
            let kind = match f.kind {
                FeatureKind::Numeric => "numeric",
                FeatureKind::Categorical { .. } => "categorical",
                _ => "category code",
            };
            let min_median_max =
                (matches!(f.kind, FeatureKind::Numeric) && !vals.is_empty()).then(|| {
                    (
                        vals[0],
                        super::reasons::quantile_sorted(&vals, 0.5),
                        vals[vals.len() - 1],
                    )
                });
            let top_share = if vals.is_empty() {
                0.0
            } else {
                best_count as f64 / vals.len() as f64
            };
            let top_value =
                (!vals.is_empty()).then(|| (crate::plot::display_value(f, best), top_share));
            let name = &f.name;
            if n > 0 && missing as f64 / n as f64 >= MISSING_WARNING {
                warnings.push(format!(
                    "{name}: {:.0}% of values are missing; check that missingness means the same in training and here",
                    100.0 * missing as f64 / n as f64
                ));
            }
            if vals.is_empty() {
                warnings.push(format!("{name}: every value is missing"));
            } else if distinct == 1 {
                warnings.push(format!(
                    "{name}: constant ({}); it cannot explain differences between rows",
                    crate::plot::display_value(f, best)
                ));
            } else if top_share >= NEAR_CONSTANT {
                warnings.push(format!(
                    "{name}: {:.1}% of values are {}; attributions to it rest on very few rows",
                    100.0 * top_share,
                    crate::plot::display_value(f, best)
                ));
            }
            if let FeatureKind::Categorical { levels } = &f.kind {
                if levels.len() > MANY_LEVELS {
                    warnings.push(format!(
                        "{name}: {} levels; rare levels get unstable attributions",
                        levels.len()
                    ));
                }
            }
            columns.push(ColumnSummary {
                name: name.clone(),
                kind,
                missing,
                distinct,
                min_median_max,
                top_value,
            });
        }
        if n < 10 * schema.len() {
            warnings.push(format!(
                "only {n} rows for {} features: global summaries are noisy",
                schema.len()
            ));
        }
        if let Some((TargetKind::Binary { classes }, y)) = target {
            let rate = y.iter().filter(|&&v| v == 1.0).count() as f64 / y.len().max(1) as f64;
            if !(0.05..=0.95).contains(&rate) {
                let positive = classes.get(1).map_or("1", String::as_str);
                warnings.push(format!(
                    "the positive class ({positive}) is {:.1}% of rows; accuracy is misleading, read AUC and calibration",
                    100.0 * rate
                ));
            }
        }
        DataSummary {
            rows: n,
            columns,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Feature;

    #[test]
    fn warns_about_missing_constant_and_near_constant_columns() {
        let nan = f64::NAN;
        let mut x = ndarray::Array2::zeros((200, 3));
        for i in 0..200 {
            x[[i, 0]] = if i < 50 { nan } else { i as f64 };
            x[[i, 1]] = 7.0;
            x[[i, 2]] = if i == 0 { 1.0 } else { 0.0 };
        }
        let schema = FeatureSchema::new(vec![
            Feature::numeric("income"),
            Feature::numeric("flag"),
            Feature {
                name: "rare".into(),
                kind: FeatureKind::Categorical {
                    levels: vec!["no".into(), "yes".into()],
                },
            },
        ]);
        let s = DataSummary::from_data(x.view(), &schema, None);
        assert_eq!(s.columns[0].missing, 50);
        assert_eq!(s.columns[0].min_median_max, Some((50.0, 124.5, 199.0)));
        assert_eq!(s.columns[2].top_value, Some(("no".to_string(), 0.995)));
        let w = s.warnings.join("\n");
        assert!(w.contains("income: 25% of values are missing"), "{w}");
        assert!(w.contains("flag: constant (7)"), "{w}");
        assert!(w.contains("rare: 99.5% of values are no"), "{w}");
        assert_eq!(s.warnings.len(), 3, "{w}");
    }

    #[test]
    fn warns_about_a_rare_positive_class() {
        let x = ndarray::Array2::from_shape_fn((100, 1), |(i, _)| i as f64);
        let y = ndarray::Array1::from_shape_fn(100, |i| if i < 2 { 1.0 } else { 0.0 });
        let kind = TargetKind::Binary {
            classes: vec!["good".into(), "bad".into()],
        };
        let s = DataSummary::from_data(
            x.view(),
            &FeatureSchema::numeric(["a"]),
            Some((&kind, y.view())),
        );
        assert!(s
            .warnings
            .iter()
            .any(|w| w.contains("positive class (bad) is 2.0%")));
    }
}
