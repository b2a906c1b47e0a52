//! Shape functions of additive models, for `glassbox plot shape` and `glassbox report`: the
//! model's own terms turned into the plot layer's plain arrays ([`ShapeFunction`]).
//!
//! This glue lives in the CLI because it is the one layer that sees both the model (which
//! computes its terms and their standard errors) and the plot layer (which draws plain arrays and
//! must not know about models). Each additive model family adds one arm to [`shape_functions`].

use std::path::{Path, PathBuf};

use glassbox::data::{Dataset, FeatureKind};
use glassbox::model::gam::Gam;
use glassbox::model::glm::{Glm, LinkFunction};
use glassbox::model::nam::Nam;
use glassbox::model::{AnyModel, Link, Model};
use glassbox::plot::{self, PlotOptions, ShapeFunction};

use super::plot::plot_error;
use super::{CliError, Context, UsageError};

/// Φ⁻¹(0.975): the half-width of a pointwise 95 % band in standard errors.
const Z_95: f64 = 1.959_963_984_540_054;

/// Grid points of a GAM's or NAM's numeric shape function.
const GRID: usize = 200;

/// The shape functions of `model`'s terms over the rows `data` (the grid spans each numeric
/// feature's observed range; the rug shows its values), for the features `only` (schema indices)
/// or all of them. `None` when the model is not additive. Features with no observed value are
/// skipped: their term has no range to draw.
pub fn shape_functions(
    model: &AnyModel,
    data: &Dataset,
    only: Option<&[usize]>,
) -> Option<Vec<ShapeFunction>> {
    let wanted = |j: usize| only.is_none_or(|o| o.contains(&j));
    match model {
        AnyModel::Glm(glm) => Some(glm_shapes(glm, data, only)),
        AnyModel::Gam(gam) => Some(
            gam_shapes(gam, data)
                .into_iter()
                .filter(|(j, _)| wanted(*j))
                .map(|(_, s)| s)
                .collect(),
        ),
        AnyModel::Nam(nam) => Some(
            (0..nam.schema().len())
                .filter(|&j| wanted(j))
                .map(|j| nam_shape(nam, data, j))
                .collect(),
        ),
        // Tree ensembles are not additive in their features: dependence plots show them.
        _ => None,
    }
}

/// The observed (finite) values of feature `j`: the rug.
fn rug(data: &Dataset, j: usize) -> Vec<f64> {
    data.x()
        .column(j)
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect()
}

/// What a GAM's or NAM's term is a contribution to, for the y axis.
fn link_y_label(link: Link) -> &'static str {
    match link {
        Link::Logistic => "contribution to log-odds",
        Link::Exp => "contribution to log of the mean",
        Link::Identity => "contribution to the prediction",
        _ => "contribution to the linear predictor",
    }
}

/// A GAM's main-effect terms (feature index, shape) with pointwise 95 % bands from the
/// coefficients' posterior covariance.
fn gam_shapes(gam: &Gam, data: &Dataset) -> Vec<(usize, ShapeFunction)> {
    let y_label = link_y_label(gam.link());
    gam.shape_functions(GRID)
        .into_iter()
        .map(|c| {
            let rug = if c.levels.is_none() {
                rug(data, c.feature)
            } else {
                Vec::new()
            };
            (
                c.feature,
                ShapeFunction {
                    rug,
                    name: c.name,
                    x: c.x,
                    y: c.y,
                    lower: Some(c.lower),
                    upper: Some(c.upper),
                    levels: c.levels,
                    y_label: y_label.to_string(),
                },
            )
        })
        .collect()
}

/// A NAM's term `j`: the ensemble mean, with the members' range as the band.
fn nam_shape(nam: &Nam, data: &Dataset, j: usize) -> ShapeFunction {
    let members = nam.members().len();
    let c = nam.shape_curve(j, GRID);
    ShapeFunction {
        rug: if c.levels.is_none() {
            rug(data, j)
        } else {
            Vec::new()
        },
        name: c.feature,
        x: c.x,
        y: c.mean,
        lower: (members > 1).then_some(c.lower),
        upper: (members > 1).then_some(c.upper),
        levels: c.levels,
        y_label: format!(
            "{} (mean of {members} NAMs; band: their range)",
            link_y_label(nam.link())
        ),
    }
}

/// What a GLM term is a contribution to, for the y axis.
fn glm_y_label(glm: &Glm) -> String {
    let target = &glm.target().name;
    match glm.link_function() {
        LinkFunction::Logit => format!("contribution to log-odds of {target}"),
        LinkFunction::Log => format!("contribution to log of mean {target}"),
        LinkFunction::Identity => format!("contribution to {target}"),
        other => format!("contribution to {} link of {target}", other.name()),
    }
}

fn glm_shapes(glm: &Glm, data: &Dataset, only: Option<&[usize]>) -> Vec<ShapeFunction> {
    let schema = data.schema();
    let all: Vec<usize> = (0..schema.len()).collect();
    let y_label = glm_y_label(glm);
    let mut out = Vec::new();
    for &j in only.unwrap_or(&all) {
        let feature = &schema.features()[j];
        let rug: Vec<f64> = data
            .x()
            .column(j)
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let (x, levels) = match &feature.kind {
            FeatureKind::Categorical { levels } => (
                (0..levels.len()).map(|l| l as f64).collect(),
                Some(levels.clone()),
            ),
            _ => {
                let (lo, hi) = rug
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                if !lo.is_finite() {
                    continue;
                }
                // A GLM's numeric term is linear and its band |x − mean|·z·se has one kink, where
                // the term crosses zero: the ends and that point draw both exactly (a dense grid
                // would only add pixel-rounding wobble to a straight line).
                let ends = glm.term_effect(j, &[lo, hi]).value;
                let mut x = vec![lo];
                if hi > lo {
                    if ends[1] != ends[0] {
                        let zero = lo - ends[0] * (hi - lo) / (ends[1] - ends[0]);
                        if zero > lo && zero < hi {
                            x.push(zero);
                        }
                    }
                    x.push(hi);
                }
                (x, None)
            }
        };
        let effect = glm.term_effect(j, &x);
        let band = |sign: f64| {
            effect.std_error.as_ref().map(|se| {
                effect
                    .value
                    .iter()
                    .zip(se)
                    .map(|(v, s)| v + sign * Z_95 * s)
                    .collect()
            })
        };
        out.push(ShapeFunction {
            name: feature.name.clone(),
            lower: band(-1.0),
            upper: band(1.0),
            x,
            y: effect.value,
            rug,
            levels,
            y_label: y_label.clone(),
        });
    }
    out
}

/// A file-name stem for a feature: letters, digits, `-` and `_` kept, anything else `_`.
fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "feature".into()
    } else {
        s
    }
}

/// `glassbox plot shape`: one plot per feature into `out_dir` (`shape_<feature>.<ext>`), or the
/// one chosen feature into `out`.
pub fn run_plot(
    ctx: &Context,
    model_path: Option<&Path>,
    data: Option<&Path>,
    features: &[String],
    out: Option<&Path>,
    out_dir: Option<&Path>,
    format: plot::Format,
    opts: &PlotOptions,
) -> Result<(), CliError> {
    let (Some(model_path), Some(data)) = (model_path, data) else {
        return Err(UsageError(
            "a shape plot needs --model MODEL (an additive model) and --data FILE (the training rows, for the range and the rug)".into(),
        )
        .into());
    };
    let model = AnyModel::load(model_path)?;
    let schema = glassbox::model::Model::schema(model.as_model()).clone();
    let ds = Dataset::load_with_schema(data, &schema, None, glassbox::data::UnseenPolicy::Error)?;
    let mut only = Vec::new();
    for name in features {
        match schema.names().iter().position(|n| n == name) {
            Some(j) => only.push(j),
            None => {
                return Err(UsageError(format!(
                    "--feature {name}: the model has no such feature; its features are {}",
                    schema.names().join(", ")
                ))
                .into())
            }
        }
    }
    let shapes = shape_functions(&model, &ds, (!only.is_empty()).then_some(&only[..]))
        .ok_or_else(|| {
            UsageError(format!(
                "{}: shape functions need an additive model (a GLM, GAM or NAM); this is a {}: use `glassbox plot dependence` instead",
                model_path.display(),
                model.kind_name()
            ))
        })?;
    match (out, out_dir) {
        (Some(out), None) => {
            let [one] = &shapes[..] else {
                return Err(UsageError(
                    "--out draws one shape function: choose it with --feature NAME, or use --out-dir DIR for all of them".into(),
                )
                .into());
            };
            let canvas = plot::shape_function(one, opts).map_err(plot_error)?;
            plot::save(&canvas, out).map_err(plot_error)?;
            super::status(ctx, format!("wrote {}", out.display()));
        }
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("{}: cannot create the directory: {e}", dir.display())
            })?;
            let ext = match format {
                plot::Format::Svg => "svg",
                plot::Format::Png => "png",
            };
            let mut used: Vec<String> = Vec::new();
            for sf in &shapes {
                let mut stem = format!("shape_{}", file_stem(&sf.name));
                if used.contains(&stem) {
                    let mut k = 2;
                    while used.contains(&format!("{stem}_{k}")) {
                        k += 1;
                    }
                    stem = format!("{stem}_{k}");
                }
                used.push(stem.clone());
                let path: PathBuf = dir.join(format!("{stem}.{ext}"));
                let canvas = plot::shape_function(sf, opts).map_err(plot_error)?;
                plot::save(&canvas, &path).map_err(plot_error)?;
            }
            super::status(
                ctx,
                format!(
                    "wrote {} shape functions to {}",
                    shapes.len(),
                    dir.display()
                ),
            );
        }
        _ => {
            return Err(UsageError(
                "a shape plot needs either --out FILE.svg|png (with --feature) or --out-dir DIR"
                    .into(),
            )
            .into())
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("credit_amount"), "credit_amount");
        assert_eq!(file_stem("a/b c"), "a_b_c");
        assert_eq!(file_stem(""), "feature");
    }
}
