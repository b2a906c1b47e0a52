//! `glassbox summary`: the coefficient table and fit statistics of a GLM model file.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use glassbox::model::AnyModel;

use super::{CliError, Context, UsageError};

/// Print a GLM's statsmodels-style summary; optionally write its coefficient table as CSV.
#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// GLM model file written by `glassbox train --model glm`.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Also write the coefficient table as CSV (columns
    /// `term,coef,std_err,z,p_value,ci_low,ci_high`; empty where not reported). Written atomically.
    #[arg(long, value_name = "COEF.csv")]
    pub out: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: SummaryArgs) -> Result<(), CliError> {
    let model = AnyModel::load(&args.model)?;
    let glm = model.as_glm().ok_or_else(|| {
        UsageError(format!(
            "{}: `summary` describes GLMs, but this is a {} model",
            args.model.display(),
            model.kind_name()
        ))
    })?;
    let report = glm.report();
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{report}")?;
    let imputed: Vec<String> = glm
        .design()
        .imputations()
        .iter()
        .map(|i| format!("{} -> {}", i.feature, i.display))
        .collect();
    writeln!(
        stdout,
        "Missing values at prediction are filled with: {}",
        imputed.join(", ")
    )?;
    stdout.flush()?;
    if let Some(out) = &args.out {
        let csv = report.coefficients_csv();
        glassbox::output::write_atomic(out, |w| w.write_all(csv.as_bytes()))
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", out.display()))?;
        super::status(ctx, format!("wrote {}", out.display()));
    }
    Ok(())
}
