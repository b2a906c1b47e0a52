//! `glassbox plot lime`: LIME's local surrogate for one row, drawn as lime's bar chart.
//!
//! The row is explained here rather than read from a file because the chart's labels — lime's
//! conditions such as `12 < duration <= 24` — come from the training sample's bins, which an
//! attribution CSV does not carry. The row's random stream is keyed by its index in --data, so the
//! weights equal that row's line of `glassbox explain --method lime` over the same file with the
//! same seed and settings.

use std::path::Path;

use glassbox::data::Dataset;
use glassbox::explain::{lime, prepare, Diagnostics, ExplainOptions, Method, OutputSpace};
use glassbox::model::{AnyModel, Link};
use glassbox::plot::{self, LimeWeights, PlotOptions};

use super::explain::SpaceArg;
use super::explain_sampling::SamplingArgs;
use super::plot::{output_index, plot_error, SourceArgs};
use super::{CliError, Context, UsageError};

/// LIME weights with more features than this are cut to the largest by default.
const DEFAULT_TOP: usize = 10;

#[allow(clippy::too_many_arguments)]
pub fn run(
    ctx: &Context,
    src: &SourceArgs,
    sampling: &SamplingArgs,
    row: Option<usize>,
    top: Option<usize>,
    space: SpaceArg,
    output: Option<&str>,
    out: &Path,
    mut opts: PlotOptions,
) -> Result<(), CliError> {
    let (Some(model_path), Some(data), Some(background)) = (&src.model, &src.data, &src.background)
    else {
        return Err(UsageError(
            "a LIME plot needs --model MODEL, --data FILE (the rows) and --background FILE (a training sample to perturb from)".into(),
        )
        .into());
    };
    let row = row.ok_or_else(|| UsageError("a LIME plot needs --row N".into()))?;
    let model = AnyModel::load(model_path)?;
    let m = model.as_model();
    let schema = m.schema().clone();
    let unseen = src.unseen.into();
    let ds = Dataset::load_with_schema(data, &schema, None, unseen)?;
    if row >= ds.n_rows() {
        return Err(UsageError(format!(
            "--row {row}: {} has {} rows (numbered from 0)",
            data.display(),
            ds.n_rows()
        ))
        .into());
    }
    let bg = Dataset::load_with_schema(background, &schema, None, unseen)?;
    let output_space: OutputSpace = space.into();
    let mut options = ExplainOptions {
        seed: src.seed,
        output_space,
        ..ExplainOptions::default()
    };
    sampling.apply(Method::Lime, &mut options)?;
    let x = ds.x().slice(ndarray::s![row..row + 1, ..]);
    // The row's random stream is keyed by its index in the whole file, as in `explain`.
    let e = prepare(&model, Method::Lime, Some(bg.x().view()), &options)?.explain_from(x, row)?;
    let k = output_index(&e, output)?;
    opts.output = k;
    let xrow: Vec<f64> = x.row(0).to_vec();
    let conditions = lime::conditions(bg.x().view(), &schema, &options.lime, &xrow)?;
    // Features LIME did not select have weight 0: they are not part of the explanation.
    let (labels, weights): (Vec<String>, Vec<f64>) = conditions
        .into_iter()
        .enumerate()
        .map(|(j, c)| (c, e.values()[[0, k, j]]))
        .filter(|(_, w)| *w != 0.0)
        .unzip();
    if weights.is_empty() {
        return Err(anyhow::anyhow!(
            "LIME selected no feature for row {row}: the surrogate is its intercept alone"
        )
        .into());
    }
    let (local, score) = match &e.meta().diagnostics {
        Some(Diagnostics::Lime(d)) => {
            (d.local_prediction.get(k).copied(), d.r2_fit.get(k).copied())
        }
        _ => (None, None),
    };
    let model_prediction = {
        let mut p = m.predict_raw(x);
        if output_space == OutputSpace::Probability {
            p = m.predict(x);
        }
        p[[0, k]]
    };
    let output_name = &m.output_names()[k];
    let output_label =
        opts.output_label
            .clone()
            .unwrap_or_else(|| match (output_space, m.link()) {
                (OutputSpace::Probability, _) => format!("probability of {output_name}"),
                (OutputSpace::Raw, Link::Logistic) => format!("log-odds of {output_name}"),
                (OutputSpace::Raw, _) => format!("raw score of {output_name}"),
            });
    let w = LimeWeights {
        row: Some(row),
        labels,
        weights,
        intercept: Some(e.base_values()[[0, k]]),
        local_prediction: local,
        model_prediction: Some(model_prediction),
        score,
        output_label,
    };
    let canvas = plot::lime_bar(&w, top.unwrap_or(DEFAULT_TOP), &opts).map_err(plot_error)?;
    plot::save(&canvas, out).map_err(plot_error)?;
    super::status(ctx, format!("wrote {}", out.display()));
    Ok(())
}
