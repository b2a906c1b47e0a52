//! `glassbox reasons`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use glassbox::data::Dataset;
use glassbox::report::{self, Direction, ReasonOptions, ReferenceQuantiles};

use super::plot::{load_explanation, output_index, SourceArgs};
use super::{CliError, Context, UsageError};

/// Which attributions count as adverse.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DirectionArg {
    /// Positive attributions (towards class 1, or a higher score).
    Up,
    /// Negative attributions (for scores where low is bad).
    Down,
}

/// Reason codes: per row, the features pushing the score most towards the adverse outcome,
/// e.g. "credit_amount = 15,945 (high)".
#[derive(Args, Debug)]
pub struct ReasonsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output CSV: row, score, then reason_k, feature_k, contribution_k, percentile_k.
    #[arg(long, value_name = "OUT.csv")]
    pub out: PathBuf,
    /// Reasons per row.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub top: usize,
    /// Adverse direction: up (positive attributions, default) or down.
    #[arg(long, value_enum, default_value = "up")]
    pub direction: DirectionArg,
    /// Reference rows (the training data) for calling values high or low; default: --data.
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Output for multi-output explanations (name or 0-based index).
    #[arg(long, value_name = "NAME")]
    pub output: Option<String>,
    /// Carry this column of --data (an application id, read as text) into the output, after
    /// `row`, so decisions can be joined back without relying on row order.
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
}

pub fn run(ctx: &Context, args: ReasonsArgs) -> Result<(), CliError> {
    if args.source.data.is_none() {
        return Err(UsageError(
            "reason codes describe feature values: pass the explained rows with --data FILE".into(),
        )
        .into());
    }
    let (e, _model) = load_explanation(&args.source)?;
    let ids = match (&args.id, &args.source.data) {
        (Some(column), Some(data)) => Some(Dataset::read_ids(data, column)?),
        _ => None,
    };
    let reference = match &args.reference {
        Some(p) => {
            let ds = Dataset::load_with_schema(p, e.schema(), None, args.source.unseen.into())?;
            ReferenceQuantiles::from_data(ds.x().view(), e.schema())
        }
        None => match e.data() {
            Some(d) => ReferenceQuantiles::from_data(d.view(), e.schema()),
            None => return Err(UsageError("no feature values attached".into()).into()),
        },
    };
    let opts = ReasonOptions {
        top_n: args.top,
        direction: match args.direction {
            DirectionArg::Up => Direction::Up,
            DirectionArg::Down => Direction::Down,
        },
        output: output_index(&e, args.output.as_deref())?,
        ..ReasonOptions::default()
    };
    let rows = report::reason_codes(&e, Some(&reference), &opts)
        .map_err(|err| UsageError(err.to_string()))?;
    report::write_reasons_csv(
        &args.out,
        &rows,
        e.schema(),
        args.top,
        args.id.as_deref().zip(ids.as_deref()),
    )
    .map_err(|err| anyhow::anyhow!("{}: cannot write: {err}", args.out.display()))?;
    super::status(
        ctx,
        format!(
            "reason codes for {} rows -> {}",
            rows.len(),
            args.out.display()
        ),
    );
    Ok(())
}
