//! `glassbox report`.

use std::path::PathBuf;

use clap::Args;
use glassbox::data::{Dataset, TargetKind, TargetSpec};
use glassbox::explain::{explain, ExplainOptions, OutputSpace};
use glassbox::model::{AnyModel, Link};
use glassbox::report::{self, ReasonOptions, ReferenceQuantiles, ReportInput, ReportOptions};

use super::explain::{MethodArg, SpaceArg};
use super::explain_sampling::SamplingArgs;
use super::predict::UnseenArg;
use super::reasons::DirectionArg;
use super::{CliError, Context, UsageError};

/// Write a self-contained audit report (DIR/index.html plus CSV tables): data summary and
/// warnings, performance, global importance, summary and dependence plots, local explanations
/// with reason codes, explanation quality and provenance.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Model file: glassbox JSON, XGBoost JSON or LightGBM text.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Rows to explain (CSV or Parquet); with the target column, performance is reported too.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Output directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Explanation method.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
    /// Background rows for interventional methods (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub background: Option<PathBuf>,
    /// Attribution space: raw score (default) or probability.
    #[arg(long, value_enum, default_value = "raw")]
    pub output_space: SpaceArg,
    /// Seed of every random step.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Explain only the first N rows.
    #[arg(long, value_name = "N")]
    pub rows: Option<usize>,
    /// Report title (default: the model and data file names).
    #[arg(long)]
    pub title: Option<String>,
    /// Reference rows (the training data) for high/low in reason codes; default: --data.
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Reasons per row.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub top_reasons: usize,
    /// Adverse direction for reason codes.
    #[arg(long, value_enum, default_value = "up")]
    pub direction: DirectionArg,
    /// Rows shown as local explanations (0-based, repeatable); default: highest, median and
    /// lowest prediction and one random row.
    #[arg(long = "show-row", value_name = "N")]
    pub show_rows: Vec<usize>,
    /// Dependence plots for the N most important features.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub dependence: usize,
    /// Categories not seen in training: error (default) or missing.
    #[arg(long, value_enum, default_value = "error")]
    pub unseen: UnseenArg,
    /// Kernel SHAP and LIME settings, as for `glassbox explain`.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// An identifier column of --data (read as text), shown with each local explanation and
    /// written to reasons.csv after `row`.
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}

pub fn run(ctx: &Context, args: ReportArgs) -> Result<(), CliError> {
    let model = AnyModel::load(&args.model)?;
    let m = model.as_model();
    let schema = m.schema().clone();
    let target: Option<TargetSpec> = model.target().cloned();
    let mut ds =
        Dataset::load_with_schema(&args.data, &schema, target.as_ref(), args.unseen.into())?;
    if let Some(n) = args.rows {
        ds = ds.head(n);
    }
    let row_ids = match &args.id {
        Some(column) => {
            let mut ids = Dataset::read_ids(&args.data, column)?;
            ids.truncate(ds.n_rows());
            Some((column.clone(), ids))
        }
        None => None,
    };
    let background = match &args.background {
        Some(p) => Some(Dataset::load_with_schema(
            p,
            &schema,
            None,
            args.unseen.into(),
        )?),
        None => None,
    };
    let method = args.method.for_model(&model);
    let space: OutputSpace = args.output_space.into();
    let mut options = ExplainOptions {
        output_space: space,
        seed: args.seed,
        ..ExplainOptions::default()
    };
    args.sampling.apply(method, &mut options)?;
    super::status(
        ctx,
        format!("explaining {} rows with {}", ds.n_rows(), method.name()),
    );
    let e = explain(
        &model,
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
    let raw = m.predict_raw(ds.x().view());
    let pred = m.predict(ds.x().view());
    let model_output = match space {
        OutputSpace::Raw => raw.clone(),
        OutputSpace::Probability => pred.clone(),
    };
    let task = match &target {
        Some(t) => t.kind.clone(),
        None => match m.link() {
            Link::Logistic | Link::NormalCdf | Link::InverseCloglog => TargetKind::Binary {
                classes: vec!["0".into(), "1".into()],
            },
            Link::Softmax => TargetKind::Multiclass {
                classes: m.output_names().to_vec(),
            },
            Link::Identity | Link::Exp | Link::Reciprocal => TargetKind::Continuous,
        },
    };
    let reference_rows = match &args.reference {
        Some(p) => Some(Dataset::load_with_schema(
            p,
            &schema,
            None,
            args.unseen.into(),
        )?),
        None => None,
    };
    let reference = reference_rows
        .as_ref()
        .map(|r| ReferenceQuantiles::from_data(r.x().view(), &schema));
    // Additive models: their terms over the training rows when given (--reference), else over
    // the explained rows.
    let shape_functions =
        super::shape::shape_functions(&model, reference_rows.as_ref().unwrap_or(&ds), None)
            .unwrap_or_default();
    // LIME's values add up to its surrogate's prediction, not the model's: its quality is the
    // surrogate's fidelity, and an additivity check against the model would be meaningless.
    let (model_output, lime_fidelity) = match &e.meta().diagnostics {
        Some(glassbox::explain::Diagnostics::Lime(d)) => {
            let k = d.n_outputs.max(1);
            (None, Some(d.r2_fit.iter().step_by(k).copied().collect()))
        }
        _ => (Some(model_output), None),
    };
    let targets = ds.y().map(|y| y.view());
    let data = report::DataSummary::from_data(ds.x().view(), &schema, targets.map(|y| (&task, y)));
    let provenance = report::Provenance {
        glassbox_version: env!("CARGO_PKG_VERSION").to_string(),
        model_file: Some(args.model.display().to_string()),
        model_sha256: Some(
            report::sha256_file(&args.model)
                .map_err(|err| anyhow::anyhow!("{}: cannot read: {err}", args.model.display()))?,
        ),
        data_file: Some(args.data.display().to_string()),
        data_sha256: Some(
            report::sha256_file(&args.data)
                .map_err(|err| anyhow::anyhow!("{}: cannot read: {err}", args.data.display()))?,
        ),
        seed: Some(args.seed),
        method: method.name().to_string(),
        generated_utc: report::utc_now(),
        command: Some(std::env::args().collect::<Vec<_>>().join(" ")),
        other_inputs: [
            ("background", &args.background),
            ("reference", &args.reference),
        ]
        .into_iter()
        .filter_map(|(role, p)| p.as_ref().map(|p| (role, p)))
        .map(|(role, p)| {
            let hash = report::sha256_file(p)
                .map_err(|err| anyhow::anyhow!("{}: cannot read: {err}", p.display()))?;
            Ok((role.to_string(), p.display().to_string(), hash))
        })
        .collect::<Result<_, anyhow::Error>>()?,
    };
    let input = ReportInput {
        title: args
            .title
            .clone()
            .unwrap_or_else(|| format!("{} on {}", file_name(&args.model), file_name(&args.data))),
        model: report::ModelInfo {
            name: file_name(&args.model),
            kind: model.kind_name().to_string(),
            task,
            target_name: target.as_ref().map(|t| t.name.clone()),
            link: m.link(),
        },
        explanation: &e,
        predictions: pred.view(),
        model_output: model_output.as_ref().map(|o| o.view()),
        targets,
        data,
        reference,
        shape_functions,
        lime_fidelity,
        provenance,
        row_ids,
        options: ReportOptions {
            dependence_plots: args.dependence,
            local_rows: (!args.show_rows.is_empty()).then(|| args.show_rows.clone()),
            reasons: ReasonOptions {
                top_n: args.top_reasons,
                direction: match args.direction {
                    DirectionArg::Up => report::Direction::Up,
                    DirectionArg::Down => report::Direction::Down,
                },
                ..ReasonOptions::default()
            },
            seed: args.seed,
            ..ReportOptions::default()
        },
    };
    if let Some(&bad) = args.show_rows.iter().find(|&&r| r >= e.n_rows()) {
        return Err(UsageError(format!(
            "--show-row {bad}: the data have {} rows (numbered from 0)",
            e.n_rows()
        ))
        .into());
    }
    let files = report::write_report(&args.out, &input)?;
    super::status(ctx, format!("wrote {}", files.index.display()));
    Ok(())
}
