//! `glassbox plot shape`: one shape-function plot per term of a GAM or NAM, and the conversion
//! from the models' shape curves to the plot layer's [`ShapeFunction`]s (also used by `report`),
//! so neither the model nor the plot layer knows the other.

use std::path::Path;

use glassbox::data::{Dataset, UnseenPolicy};
use glassbox::model::gam::Gam;
use glassbox::model::nam::Nam;
use glassbox::model::{AnyModel, Link};
use glassbox::plot::{self, PlotOptions, ShapeFunction};
use ndarray::ArrayView2;

use super::plot::{plot_error, PlotArgs};
use super::{CliError, Context, UsageError};

/// Grid points of a numeric shape function.
const GRID: usize = 200;

/// The GAM's shape functions with a rug of the feature values in `x` (training rows).
pub fn shape_functions(gam: &Gam, x: Option<ArrayView2<f64>>) -> Vec<ShapeFunction> {
    let y_label = match glassbox::model::Model::link(gam) {
        Link::Logistic => "contribution to log-odds",
        Link::Exp => "contribution to log of the mean",
        Link::Identity => "contribution to the prediction",
        _ => "contribution to the linear predictor",
    };
    gam.shape_functions(GRID)
        .into_iter()
        .map(|c| ShapeFunction {
            rug: match (&c.levels, x) {
                (None, Some(x)) => x
                    .column(c.feature)
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect(),
                _ => Vec::new(),
            },
            name: c.name,
            x: c.x,
            y: c.y,
            lower: Some(c.lower),
            upper: Some(c.upper),
            levels: c.levels,
            y_label: y_label.to_string(),
        })
        .collect()
}

/// A NAM's shape functions (ensemble mean; band: the members' range) with a rug of the feature
/// values in `x` (training rows).
pub fn nam_shape_functions(nam: &Nam, x: Option<ArrayView2<f64>>) -> Vec<ShapeFunction> {
    let y_label = match glassbox::model::Model::link(nam) {
        Link::Logistic => "contribution to log-odds",
        _ => "contribution to the prediction",
    };
    let members = nam.members().len();
    (0..glassbox::model::Model::schema(nam).len())
        .map(|j| {
            let c = nam.shape_curve(j, GRID);
            ShapeFunction {
                rug: match (&c.levels, x) {
                    (None, Some(x)) => x
                        .column(j)
                        .iter()
                        .copied()
                        .filter(|v| v.is_finite())
                        .collect(),
                    _ => Vec::new(),
                },
                name: c.feature,
                x: c.x,
                y: c.mean,
                lower: (members > 1).then_some(c.lower),
                upper: (members > 1).then_some(c.upper),
                levels: c.levels,
                y_label: format!("{y_label} (mean of {members} NAMs; band: their range)"),
            }
        })
        .collect()
}

/// A file name for a term: letters, digits, `-` and `_` kept, the rest `_`.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// Writes `<out>/<term>.svg` for every main-effect term (`--out` is a directory).
pub fn run(ctx: &Context, args: &PlotArgs) -> Result<(), CliError> {
    let path = args
        .source
        .model
        .as_ref()
        .ok_or_else(|| UsageError("plot shape needs --model GAM.json or NAM.json".into()))?;
    let model = AnyModel::load(path)?;
    let schema = match (model.as_gam(), model.as_nam()) {
        (Some(gam), _) => glassbox::model::Model::schema(gam),
        (None, Some(nam)) => glassbox::model::Model::schema(nam),
        (None, None) => {
            return Err(UsageError(format!(
                "{}: plot shape draws the terms of a GAM or NAM, but this is a {} model",
                path.display(),
                model.kind_name()
            ))
            .into())
        }
    };
    let data = match &args.source.data {
        Some(d) => Some(Dataset::load_with_schema(
            d,
            schema,
            None,
            UnseenPolicy::from(args.source.unseen),
        )?),
        None => None,
    };
    let out: &Path = &args.out;
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the directory: {e}", out.display()))?;
    let opts = PlotOptions {
        width: args.width,
        ..PlotOptions::default()
    };
    let x = data.as_ref().map(|d| d.x().view());
    let shapes = match (model.as_gam(), model.as_nam()) {
        (Some(gam), _) => shape_functions(gam, x),
        (None, Some(nam)) => nam_shape_functions(nam, x),
        (None, None) => unreachable!("checked above"),
    };
    let mut n = 0;
    for sf in shapes {
        let canvas = plot::shape_function(&sf, &opts).map_err(plot_error)?;
        let file = out.join(format!("{}.svg", file_stem(&sf.name)));
        plot::save(&canvas, &file).map_err(plot_error)?;
        n += 1;
    }
    super::status(ctx, format!("wrote {n} shape plots to {}", out.display()));
    Ok(())
}
