//! `glassbox summary`: the coefficient table and fit statistics of a GLM model file, or the term
//! table (edf, λ) of a GAM.

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
    if let Some(gam) = model.as_gam() {
        if args.out.is_some() {
            return Err(UsageError(
                "--out writes a GLM's coefficient table; a GAM has no such table (see `plot shape`)"
                    .into(),
            )
            .into());
        }
        let mut stdout = std::io::stdout().lock();
        write!(stdout, "{}", super::train_gam::table(gam))?;
        stdout.flush()?;
        return Ok(());
    }
    let glm = model.as_glm().ok_or_else(|| {
        UsageError(format!(
            "{}: `summary` describes GLMs and GAMs, but this is a {} model",
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
