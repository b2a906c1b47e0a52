//! Labels derived from an explanation's metadata: method names, what the attributions are of, and
//! feature values as people read them.

use super::axis::format_value;
use crate::data::{Feature, FeatureKind};
use crate::explain::{Explanation, OutputSpace};

/// A method's name for titles: `tree-shap` → `Tree SHAP`. Unknown names are returned as they are.
pub fn method_label(method: &str) -> String {
    match method {
        "tree-shap" => "Tree SHAP".into(),
        "tree-shap-interventional" => "interventional Tree SHAP".into(),
        "kernel-shap" => "Kernel SHAP".into(),
        "lime" => "LIME".into(),
        "additive" => "exact additive contributions".into(),
        "read" => "attributions read from a file".into(),
        other => other.to_string(),
    }
}

/// What one attribution is called on an axis: `SHAP value`, `LIME weight` or `contribution`.
pub(crate) fn attribution_noun(method: &str) -> &'static str {
    if method.contains("shap") {
        "SHAP value"
    } else if method == "lime" {
        "LIME attribution"
    } else {
        "attribution"
    }
}

/// What the attributions of `output` are of: the caller's label when given, otherwise `raw score`
/// or `probability`, with the output's name when there are several outputs.
pub fn output_label(e: &Explanation, output: usize, custom: Option<&str>) -> String {
    if let Some(c) = custom {
        return c.to_string();
    }
    let space = match e.meta().output_space {
        OutputSpace::Raw => "raw score",
        OutputSpace::Probability => "probability",
    };
    if e.n_outputs() > 1 {
        let name = e.output_names().get(output).map_or("", String::as_str);
        format!("{space} of '{name}'")
    } else {
        space.to_string()
    }
}

/// A feature value as people read it: the level name for categories, a rounded number with
/// thousands separators otherwise, `missing` for NaN.
pub fn display_value(feature: &Feature, v: f64) -> String {
    match feature.kind {
        FeatureKind::Numeric => format_value(v),
        _ => feature.display_value(v),
    }
}

/// `name = value`.
pub(crate) fn name_value(feature: &Feature, v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{} = {}", feature.name, display_value(feature, v)),
        None => feature.name.clone(),
    }
}

/// The number of levels a categorical feature has (code features: the largest code seen + 1).
pub(crate) fn n_levels(feature: &Feature, values: impl Iterator<Item = f64>) -> Option<usize> {
    match &feature.kind {
        FeatureKind::Numeric => None,
        FeatureKind::Categorical { levels } => Some(levels.len()),
        _ => Some(
            values
                .filter(|v| v.is_finite() && *v >= 0.0)
                .fold(0.0f64, f64::max) as usize
                + 1,
        ),
    }
}

/// Thousands-separated count: `12345` → `12,345`.
pub(crate) fn count(n: usize) -> String {
    format_value(n as f64)
}
