//! `glassbox plot shape`: one shape-function plot per term of a GAM, and the conversion from the
//! model's [`ShapeCurve`]s to the plot layer's [`ShapeFunction`]s (also used by `report`).

use std::path::Path;

use glassbox::data::{Dataset, UnseenPolicy};
use glassbox::model::gam::Gam;
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
        .ok_or_else(|| UsageError("plot shape needs --model GAM.json".into()))?;
    let model = AnyModel::load(path)?;
    let gam = model.as_gam().ok_or_else(|| {
        UsageError(format!(
            "{}: plot shape draws the terms of a GAM, but this is a {} model",
            path.display(),
            model.kind_name()
        ))
    })?;
    let data = match &args.source.data {
        Some(d) => Some(Dataset::load_with_schema(
            d,
            glassbox::model::Model::schema(gam),
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
    let mut n = 0;
    for sf in shape_functions(gam, data.as_ref().map(|d| d.x().view())) {
        let canvas = plot::shape_function(&sf, &opts).map_err(plot_error)?;
        let file = out.join(format!("{}.svg", file_stem(&sf.name)));
        plot::save(&canvas, &file).map_err(plot_error)?;
        n += 1;
    }
    super::status(ctx, format!("wrote {n} shape plots to {}", out.display()));
    Ok(())
}
