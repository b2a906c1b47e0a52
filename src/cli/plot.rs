//! `glassbox plot`, and the explanation loading shared with `reasons`.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use glassbox::data::{read_table, Dataset, Feature, FeatureKind, FeatureSchema, UnseenPolicy};
use glassbox::explain::{explain, ExplainOptions, Explanation};
use glassbox::model::AnyModel;
use glassbox::plot::{self, PlotError, PlotOptions};

use super::explain::{MethodArg, SpaceArg};
use super::explain_sampling::SamplingArgs;
use super::predict::UnseenArg;
use super::{CliError, Context, UsageError};

/// Plot kinds.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PlotKind {
    /// Beeswarm: features ranked by mean |attribution|, one dot per row coloured by value.
    Summary,
    /// Mean |attribution| per feature (with error bars when standard errors are present).
    Bar,
    /// Attribution against value for one feature (--feature), coloured by an interacting one.
    Dependence,
    /// One row (--row) from the base value to the model output.
    Waterfall,
    /// Shape functions of an additive model (--model, training rows as --data): each term over
    /// its feature's range with a pointwise 95 % band and a rug; --out-dir for all features.
    Shape,
    /// LIME's local surrogate weights for one row (--row), explained now with --model, --data
    /// and --background (the training sample), labelled with lime's conditions.
    Lime,
    /// The training rows that most helped and most hurt one explained row (--row), from the
    /// table of `glassbox influence` (--influence FILE); --top of each kind (default 10).
    Influence,
}

/// Where the explanation comes from: a table written by `glassbox explain`, or a model to explain.
#[derive(Args, Debug)]
pub struct SourceArgs {
    /// Attributions written by `glassbox explain` (CSV or Parquet). Without it, --model and
    /// --data are explained now.
    #[arg(long, value_name = "FILE")]
    pub explanation: Option<PathBuf>,
    /// Model file. With --explanation it supplies the feature schema (category names); without,
    /// the model is explained on --data.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// The explained rows (CSV or Parquet), in the same order as the explanation: their values
    /// colour the plots and label the waterfall. Required with --model alone.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Explanation method when explaining a model; with --explanation it only names the method
    /// in titles.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
    /// Background rows for interventional methods (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub background: Option<PathBuf>,
    /// Seed of every random step (explainer sampling, plot subsampling).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Categories not seen in training: error (default) or missing.
    #[arg(long, value_enum, default_value = "error")]
    pub unseen: UnseenArg,
}

/// A schema for `names` read off the data file itself: text and boolean columns categorical
/// (levels sorted, as the data layer does), everything else numeric.
fn schema_from_file(path: &Path, names: &[String]) -> Result<FeatureSchema, CliError> {
    use polars::prelude::DataType;
    let df = read_table(path)?;
    let mut features = Vec::with_capacity(names.len());
    for name in names {
        let col = df.column(name).map_err(|_| {
            UsageError(format!(
                "{}: no column '{name}', which the explanation has; pass the explained rows",
                path.display()
            ))
        })?;
        let kind = match col.dtype() {
            DataType::String | DataType::Boolean => {
                let s = col.as_materialized_series().cast(&DataType::String)?;
                let mut levels: Vec<String> =
                    s.str()?.into_iter().flatten().map(str::to_string).collect();
                levels.sort();
                levels.dedup();
                FeatureKind::Categorical { levels }
            }
            _ => FeatureKind::Numeric,
        };
        features.push(Feature {
            name: name.clone(),
            kind,
        });
    }
    Ok(FeatureSchema::new(features))
}

/// Loads or computes the explanation, with feature values attached when data are given.
/// Returns the model too when one was loaded.
pub fn load_explanation(src: &SourceArgs) -> Result<(Explanation, Option<AnyModel>), CliError> {
    let model = match &src.model {
        Some(p) => Some(AnyModel::load(p)?),
        None => None,
    };
    let unseen: UnseenPolicy = src.unseen.into();
    match &src.explanation {
        Some(path) => {
            let read = Explanation::read(path)?;
            let names = read.feature_names();
            let schema = match (&model, &src.data) {
                (Some(m), _) => {
                    let schema = m.as_model().schema().clone();
                    if schema.names() != names {
                        return Err(UsageError(format!(
                            "{}: its features ({}) are not the model's ({}) in the same order; was it made with this model?",
                            path.display(),
                            names.join(", "),
                            schema.names().join(", ")
                        ))
                        .into());
                    }
                    schema
                }
                (None, Some(data)) => schema_from_file(data, &names)?,
                (None, None) => read.schema().clone(),
            };
            let mut meta = read.meta().clone();
            if let Some(m) = src.method.resolve(model.as_ref()) {
                meta.method = m.name().to_string();
            }
            meta.seed = Some(src.seed);
            let mut e = Explanation::new(
                read.values().clone(),
                read.base_values().clone(),
                schema.clone(),
                read.output_names().to_vec(),
                meta,
            )?;
            if let Some(se) = read.std_errors() {
                e = e.with_std_errors(se.clone())?;
            }
            if let Some(data) = &src.data {
                let ds = Dataset::load_with_schema(data, &schema, None, unseen)?;
                if ds.n_rows() != e.n_rows() {
                    return Err(UsageError(format!(
                        "{} has {} rows but {} has {}; pass the explained rows, in the same order",
                        data.display(),
                        ds.n_rows(),
                        path.display(),
                        e.n_rows()
                    ))
                    .into());
                }
                e = e.with_data(ds.x().clone())?;
            }
            Ok((e, model))
        }
        None => {
            let (Some(m), Some(data)) = (&model, &src.data) else {
                return Err(UsageError(
                    "pass --explanation FILE, or --model MODEL with --data FILE".into(),
                )
                .into());
            };
            let schema = m.as_model().schema().clone();
            let ds = Dataset::load_with_schema(data, &schema, None, unseen)?;
            let background = match &src.background {
                Some(p) => Some(Dataset::load_with_schema(p, &schema, None, unseen)?),
                None => None,
            };
            let method = src.method.for_model(m);
            let options = ExplainOptions {
                seed: src.seed,
                ..ExplainOptions::default()
            };
            let e = explain(
                m,
                ds.x().view(),
                method,
                background.as_ref().map(|b| b.x().view()),
                &options,
            )?;
            let e = if e.data().is_none() {
                e.with_data(ds.x().clone())?
            } else {
                e
            };
            Ok((e, model))
        }
    }
}

/// Resolves `--output NAME|INDEX` against the explanation's output names.
pub fn output_index(e: &Explanation, output: Option<&str>) -> Result<usize, CliError> {
    let Some(o) = output else { return Ok(0) };
    if let Some(k) = e.output_names().iter().position(|n| n == o) {
        return Ok(k);
    }
    match o.parse::<usize>() {
        Ok(k) if k < e.n_outputs() => Ok(k),
        _ => Err(UsageError(format!(
            "--output {o}: the outputs are {}",
            e.output_names().join(", ")
        ))
        .into()),
    }
}

/// Plot errors caused by the user's request are input errors (exit 2).
pub fn plot_error(e: PlotError) -> CliError {
    match e {
        PlotError::NoData { .. }
        | PlotError::UnknownFeature { .. }
        | PlotError::RowOutOfRange { .. }
        | PlotError::OutputOutOfRange { .. }
        | PlotError::UnknownFormat { .. }
        | PlotError::Invalid { .. } => UsageError(e.to_string()).into(),
        other => other.into(),
    }
}

/// Draw a plot of an explanation to SVG or PNG.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// What to draw.
    #[arg(value_enum)]
    pub kind: PlotKind,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output image: .svg or .png. Written atomically.
    #[arg(long, value_name = "FILE.svg|png", required_unless_present = "out_dir")]
    pub out: Option<PathBuf>,
    /// Shape plots: one image per feature in DIR (shape_<feature>.png), instead of --out.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub out_dir: Option<PathBuf>,
    /// Image format of --out-dir files.
    #[arg(long, value_enum, default_value = "png")]
    pub format: ImageFormat,
    /// LIME plots: the space LIME explains, raw score (default) or probability.
    #[arg(long, value_enum, default_value = "raw")]
    pub output_space: SpaceArg,
    /// Feature of a dependence plot.
    #[arg(long, value_name = "NAME")]
    pub feature: Option<String>,
    /// Colouring feature of a dependence plot: a name, `auto` (strongest interaction) or `none`.
    #[arg(long, value_name = "NAME", default_value = "auto")]
    pub interaction: String,
    /// Row of a waterfall plot (0-based, in the explanation's order).
    #[arg(long, value_name = "N")]
    pub row: Option<usize>,
    /// Features shown (summary, bar, waterfall); the rest are summed into one line.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Output to plot for multi-output explanations (name or 0-based index).
    #[arg(long, value_name = "NAME")]
    pub output: Option<String>,
    /// Rows drawn at most in summary and dependence plots (a seeded sample beyond).
    #[arg(long, value_name = "N")]
    pub max_dots: Option<usize>,
    /// Figure width in pixels.
    #[arg(long, value_name = "PX")]
    pub width: Option<u32>,
    /// Title replacing the default.
    #[arg(long)]
    pub title: Option<String>,
    /// What the attributions are of, for axis labels, e.g. "log-odds of default".
    #[arg(long, value_name = "TEXT")]
    pub output_label: Option<String>,
    /// Waterfall: the raw score is log-odds; also print probabilities.
    #[arg(long)]
    pub probability: bool,
    /// LIME plots: the explainer's settings, as for `glassbox explain --method lime`.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Influence plots: the long-form table written by `glassbox influence --out`.
    #[arg(long, value_name = "FILE")]
    pub influence: Option<PathBuf>,
}

/// Image formats of --out-dir.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ImageFormat {
    /// PNG bitmaps.
    Png,
    /// SVG documents.
    Svg,
}

pub fn run(ctx: &Context, args: PlotArgs) -> Result<(), CliError> {
    if let Some(out) = &args.out {
        plot::Format::from_path(out).map_err(plot_error)?;
    }
    let plain = PlotOptions {
        output: 0,
        width: args.width,
        title: args.title.clone(),
        output_label: args.output_label.clone(),
    };
    match args.kind {
        PlotKind::Shape => {
            let format = match args.format {
                ImageFormat::Png => plot::Format::Png,
                ImageFormat::Svg => plot::Format::Svg,
            };
            return super::shape::run_plot(
                ctx,
                args.source.model.as_deref(),
                args.source.data.as_deref(),
                args.feature.as_slice(),
                args.out.as_deref(),
                args.out_dir.as_deref(),
                format,
                &plain,
            );
        }
        PlotKind::Influence => {
            let (Some(table), Some(out)) = (args.influence.as_deref(), args.out.as_deref()) else {
                return Err(UsageError(
                    "an influence plot needs --influence FILE (from `glassbox influence`) and --out FILE.svg|png".into(),
                )
                .into());
            };
            let row = args
                .row
                .ok_or_else(|| UsageError("an influence plot needs --row N".into()))?;
            return super::plot_influence::run(
                ctx,
                table,
                row,
                args.top.unwrap_or(10),
                args.output_label.as_deref().unwrap_or("the row's loss"),
                out,
                &plain,
            );
        }
        PlotKind::Lime => {
            let out = args
                .out
                .as_deref()
                .ok_or_else(|| UsageError("a LIME plot needs --out FILE.svg|png".into()))?;
            return super::plot_lime::run(
                ctx,
                &args.source,
                &args.sampling,
                args.row,
                args.top,
                args.output_space,
                args.output.as_deref(),
                out,
                plain,
            );
        }
        _ => {}
    }
    let out = args.out.as_deref().ok_or_else(|| {
        UsageError("--out-dir is for shape plots; pass --out FILE.svg|png".into())
    })?;
    let (e, model) = load_explanation(&args.source)?;
    let output = output_index(&e, args.output.as_deref())?;
    // A logistic model's raw score is log-odds: say so rather than "raw score".
    let output_label = args.output_label.clone().or_else(|| {
        let any = model.as_ref()?;
        let name = any
            .as_trees()
            .and_then(|t| t.target.as_ref())
            .map_or_else(|| e.output_names()[output].clone(), |t| t.name.clone());
        (any.as_model().link() == glassbox::model::Link::Logistic
            && e.meta().output_space == glassbox::explain::OutputSpace::Raw)
            .then(|| format!("log-odds of {name}"))
    });
    let common = PlotOptions {
        output,
        width: args.width,
        title: args.title.clone(),
        output_label,
    };
    let seed = args.source.seed;
    let canvas = match args.kind {
        PlotKind::Summary => {
            let d = plot::SummaryOptions::default();
            plot::summary(
                &e,
                &plot::SummaryOptions {
                    top_n: args.top.unwrap_or(d.top_n),
                    max_dots: args.max_dots.unwrap_or(d.max_dots),
                    seed,
                    common,
                },
            )
        }
        PlotKind::Bar => plot::bar(
            &e,
            &plot::BarOptions {
                top_n: args.top.unwrap_or(plot::BarOptions::default().top_n),
                common,
            },
        ),
        PlotKind::Dependence => {
            let name = args
                .feature
                .as_deref()
                .ok_or_else(|| UsageError("a dependence plot needs --feature NAME".into()))?;
            let feature = plot::feature_index(&e, name).map_err(plot_error)?;
            let interaction = match args.interaction.as_str() {
                "auto" => plot::Interaction::Auto,
                "none" => plot::Interaction::None,
                other => {
                    plot::Interaction::Feature(plot::feature_index(&e, other).map_err(plot_error)?)
                }
            };
            let d = plot::DependenceOptions::default();
            plot::dependence(
                &e,
                &plot::DependenceOptions {
                    feature,
                    interaction,
                    max_dots: args.max_dots.unwrap_or(d.max_dots),
                    seed,
                    common,
                },
            )
        }
        PlotKind::Shape | PlotKind::Lime | PlotKind::Influence => unreachable!("handled above"),
        PlotKind::Waterfall => {
            let row = args
                .row
                .ok_or_else(|| UsageError("a waterfall plot needs --row N".into()))?;
            plot::waterfall(
                &e,
                &plot::WaterfallOptions {
                    row,
                    top_n: args.top.unwrap_or(plot::WaterfallOptions::default().top_n),
                    show_probability: args.probability,
                    common,
                },
            )
        }
    }
    .map_err(plot_error)?;
    plot::save(&canvas, out).map_err(plot_error)?;
    super::status(ctx, format!("wrote {}", out.display()));
    Ok(())
}
