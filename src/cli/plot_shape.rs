//! `glassbox plot shape`: a NAM's shape function, converted from the model layer's
//! [`ShapeCurve`](glassbox::model::nam::ShapeCurve) to the plot layer's
//! [`ShapeFunction`](glassbox::plot::ShapeFunction) here, so neither layer knows the other.

use glassbox::data::{Dataset, TargetKind};
use glassbox::model::AnyModel;
use glassbox::plot::{self, PlotOptions, ShapeFunction};

use super::plot::{plot_error, PlotArgs};
use super::{CliError, Context, UsageError};

/// Grid points of a numeric shape function.
const GRID: usize = 200;

pub fn run(ctx: &Context, args: &PlotArgs) -> Result<(), CliError> {
    let src = &args.source;
    let Some(model_path) = &src.model else {
        return Err(UsageError("a shape plot needs --model MODEL (a NAM)".into()).into());
    };
    let model = AnyModel::load(model_path)?;
    let Some(nam) = model.as_nam() else {
        return Err(UsageError(format!(
            "{}: a shape plot draws a neural additive model's terms; this is a {} model",
            model_path.display(),
            model.kind_name()
        ))
        .into());
    };
    let schema = glassbox::model::Model::schema(nam);
    let name = args.feature.as_deref().ok_or_else(|| {
        UsageError(format!(
            "a shape plot needs --feature NAME, one of: {}",
            schema.names().join(", ")
        ))
    })?;
    let j = schema.index_of(name).ok_or_else(|| {
        UsageError(format!(
            "--feature {name}: the model's features are {}",
            schema.names().join(", ")
        ))
    })?;
    let rug = match &src.data {
        Some(path) => {
            let ds = Dataset::load_with_schema(path, schema, None, src.unseen.into())?;
            ds.x().column(j).to_vec()
        }
        None => Vec::new(),
    };
    let curve = nam.shape_curve(j, GRID);
    let y_label = match &nam.target().kind {
        TargetKind::Binary { classes } => format!("contribution to log-odds of {}", classes[1]),
        _ => format!("contribution to {}", nam.target().name),
    };
    let members = nam.members().len();
    let pf = ShapeFunction {
        name: curve.feature.clone(),
        x: curve.x,
        y: curve.mean,
        lower: (members > 1).then_some(curve.lower),
        upper: (members > 1).then_some(curve.upper),
        rug,
        levels: curve.levels,
        y_label,
    };
    let title = args.title.clone().unwrap_or_else(|| {
        format!("NAM shape function: {name} (mean of {members} members; band: their range)")
    });
    let opts = PlotOptions {
        width: args.width,
        title: Some(title),
        ..PlotOptions::default()
    };
    let canvas = plot::shape_function(&pf, &opts).map_err(plot_error)?;
    plot::save(&canvas, &args.out).map_err(plot_error)?;
    let (m, lo, hi) = curve.missing;
    super::status(
        ctx,
        format!(
            "wrote {} (a missing {name} contributes {m:+.4}, members {lo:+.4} to {hi:+.4})",
            args.out.display()
        ),
    );
    Ok(())
}
