//! `glassbox explain`.

use std::path::PathBuf;

use super::explain_sampling::SamplingArgs;
use super::predict::UnseenArg;
use super::stream::{id_column, write_output, RowStream};
use super::{CliError, Context, UsageError};
use clap::{Args, ValueEnum};
use glassbox::data::Dataset;
use glassbox::explain::{prepare, ExplainOptions, Method, OutputSpace};
use glassbox::model::AnyModel;

/// Explanation methods on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MethodArg {
    /// Exact path-dependent Tree SHAP (tree ensembles; no background needed).
    TreeShap,
    /// Exact interventional Tree SHAP (tree ensembles; needs --background).
    TreeShapInterventional,
    /// Kernel SHAP for any model (needs --background).
    KernelShap,
    /// LIME local linear surrogates.
    Lime,
    /// Exact contributions of additive models (GLM, GAM, NAM).
    Additive,
    /// The exact method that suits the model.
    Auto,
}

/// Output space of attributions.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SpaceArg {
    /// The raw score (log-odds for binary models).
    Raw,
    /// Probability (binary models).
    Probability,
}

/// Explain rows of a model: one output row per explained row, one column per feature, then
/// `base_value` (repeated per output as `<output>:<feature>` for multiclass models).
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Model file: glassbox JSON, XGBoost JSON or LightGBM text.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Rows to explain (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Explanation method.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
    /// Background rows for interventional methods (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub background: Option<PathBuf>,
    /// Explain only the first N rows.
    #[arg(long, value_name = "N")]
    pub rows: Option<usize>,
    /// Output table: CSV, or Parquet by extension. Written atomically.
    #[arg(long, value_name = "OUT.csv")]
    pub out: PathBuf,
    /// Attribution space: raw score (default) or probability (binary models).
    #[arg(long, value_enum, default_value = "raw")]
    pub output: SpaceArg,
    /// Seed for methods that sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Add `<feature>_se` standard-error columns (methods that estimate them).
    #[arg(long)]
    pub se: bool,
    /// Rows per chunk: the input is read and the results written chunk by chunk, so memory is
    /// bounded by the chunk, not the file.
    #[arg(long, default_value_t = 4096, value_name = "N")]
    pub chunk_size: usize,
    /// Categories not seen in training: error (default) or missing.
    #[arg(long, value_enum, default_value = "error")]
    pub unseen: UnseenArg,
    /// Carry this column of --data (an application or patient id, read as text) into the
    /// output as its last column, so rows can be joined back without relying on row order.
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
    /// Exact probability-space interventional Tree SHAP: refuse (row, background row) pairs with
    /// more than N players, i.e. features on which the two rows take different branches (the cost
    /// is 2^N per pair; default 16, at most 30).
    #[arg(long, value_name = "N")]
    pub max_players: Option<usize>,
    /// Print `timings: load=… explain=… total=…` seconds on stderr (even with --quiet), for
    /// benchmarks: load = model, background and reading the input; explain = the computation.
    #[arg(long)]
    pub timings: bool,
    /// Also write per-row diagnostics of Kernel SHAP (coalitions, exact) or LIME (kernel width,
    /// R² on fitting and held-out samples, surrogate and model predictions, stability) as CSV.
    #[arg(long, value_name = "DIAG.csv")]
    pub diagnostics: Option<PathBuf>,
    #[command(flatten)]
    pub sampling: SamplingArgs,
}

impl MethodArg {
    /// The method this flag names; `auto` is resolved against `model` (`None` when there is no
    /// model to resolve it against).
    pub fn resolve(self, model: Option<&AnyModel>) -> Option<Method> {
        Some(match self {
            MethodArg::TreeShap => Method::TreeShap,
            MethodArg::TreeShapInterventional => Method::TreeShapInterventional,
            MethodArg::KernelShap => Method::KernelShap,
            MethodArg::Lime => Method::Lime,
            MethodArg::Additive => Method::Additive,
            MethodArg::Auto => return model.map(Method::default_for),
        })
    }

    /// The method this flag names for `model` (`auto`: the exact method that suits it).
    pub fn for_model(self, model: &AnyModel) -> Method {
        self.resolve(Some(model))
            .unwrap_or_else(|| Method::default_for(model))
    }
}

impl From<SpaceArg> for OutputSpace {
    fn from(arg: SpaceArg) -> Self {
        match arg {
            SpaceArg::Raw => OutputSpace::Raw,
            SpaceArg::Probability => OutputSpace::Probability,
        }
    }
}

pub fn run(ctx: &Context, args: ExplainArgs) -> Result<(), CliError> {
    if args.chunk_size == 0 {
        return Err(UsageError("--chunk-size must be at least 1".into()).into());
    }
    let t0 = std::time::Instant::now();
    let model = AnyModel::load(&args.model)?;
    let schema = model.as_model().schema().clone();
    if let Some(id) = &args.id {
        if schema.names().contains(id) {
            return Err(UsageError(format!(
                "--id {id} is one of the model's features; its attribution column already has that name: pick an identifier column the model does not use"
            ))
            .into());
        }
    }
    // The background is read on a second thread while the first chunk of the input is read here.
    // The input's error still comes first, as when the whole file was read up front.
    let unseen = args.unseen.into();
    let (input, background) = std::thread::scope(|scope| {
        let schema = &schema;
        let background = args
            .background
            .as_ref()
            .map(|p| scope.spawn(move || Dataset::load_with_schema(p, schema, None, unseen)));
        let input = RowStream::open(
            ctx,
            args.method.for_model(&model).name(),
            &args.data,
            schema,
            unseen,
            args.chunk_size,
            args.rows,
            args.id.as_deref(),
        )
        .and_then(|mut input| Ok((input.next_chunk()?, input)));
        let background =
            background.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (input, background)
    });
    let (mut pending, mut input) = input?;
    let background = background.transpose()?;
    let method = args.method.for_model(&model);
    let mut options = ExplainOptions {
        output_space: args.output.into(),
        seed: args.seed,
        ..ExplainOptions::default()
    };
    if let Some(players) = args.max_players {
        options.max_exact_players = players;
    }
    args.sampling.apply(method, &mut options)?;
    if args.diagnostics.is_some() && !matches!(method, Method::KernelShap | Method::Lime) {
        return Err(UsageError(format!(
            "--diagnostics applies to --method kernel-shap or lime, not --method {}",
            method.name()
        ))
        .into());
    }
    // Diagnostics columns, gathered chunk by chunk.
    let mut diag: Option<(Vec<String>, Vec<Vec<f64>>)> = None;
    let mut gather = |e: &glassbox::explain::Explanation, first_row: usize| {
        if let Some(d) = &e.meta().diagnostics {
            let (h, cols) = d.to_columns(first_row);
            match &mut diag {
                None => diag = Some((h, cols)),
                Some((_, acc)) => acc.iter_mut().zip(cols).for_each(|(a, c)| a.extend(c)),
            }
        }
    };
    let bg_view = background.as_ref().map(|b| b.x().view());
    // Per-model work (Tree SHAP tables, background patterns) is done once for all chunks.
    let prepared = prepare(&model, method, bg_view, &options)?;
    let mut load_s = t0.elapsed().as_secs_f64();
    let mut explain_s = 0.0;
    // Input and output are both streamed chunk by chunk (CSV lines or Parquet row groups), so
    // memory is bounded by the chunk, not the data.
    let parquet = glassbox::output::is_parquet(&args.out);
    write_output(&args.out, |w| {
        let mut table = glassbox::output::NumericTableWriter::new(w, parquet);
        loop {
            let t = std::time::Instant::now();
            let next = match pending.take() {
                Some(chunk) => Some(chunk),
                None => input.next_chunk()?,
            };
            let Some((start, ds)) = next else {
                break;
            };
            load_s += t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let e = prepared.explain_from(ds.x().view(), start)?;
            explain_s += t.elapsed().as_secs_f64();
            gather(&e, start);
            let (headers, columns) = e.to_columns(args.se);
            table.write_chunk_with_text(&headers, &columns, id_column(args.id.as_deref(), &ds))?;
        }
        table.finish()?;
        Ok(())
    })?;
    let n = input.rows();
    if let (Some(path), Some((headers, columns))) = (&args.diagnostics, &diag) {
        glassbox::output::write_numeric_table(path, headers, columns)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
    }
    if args.timings {
        eprintln!(
            "timings: load={load_s:.4} explain={explain_s:.4} total={:.4}",
            t0.elapsed().as_secs_f64()
        );
    }
    super::status(
        ctx,
        format!(
            "explained {n} rows with {} -> {}",
            method.name(),
            args.out.display()
        ),
    );
    Ok(())
}
