//! `glassbox summary`: the coefficient table and fit statistics of a GLM model file, or the term
//! table (edf, λ) and per-term significance (edf, reference df, statistic, p-value as mgcv's
//! `summary.gam`) of a GAM.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use glassbox::data::{Dataset, UnseenPolicy};
use glassbox::model::gam::Gam;
use glassbox::model::{AnyModel, Model};

use super::{CliError, Context, UsageError};

/// Print a GLM's statsmodels-style summary or a GAM's term table with per-term significance;
/// optionally write the coefficient (GLM) or term (GAM) table as CSV.
#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// GLM or GAM model file written by `glassbox train --model glm|gam`.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Also write the table as CSV, atomically. GLM: the coefficient table (columns
    /// `term,coef,std_err,z,p_value,ci_low,ci_high`; empty where not reported). GAM: the
    /// significance table (columns `term,kind,edf,ref_df,statistic,p_value`; statistic is F when
    /// the scale is estimated, χ² otherwise).
    #[arg(long, value_name = "TABLE.csv")]
    pub out: Option<PathBuf>,
    /// GAM model files written before significance inputs were stored: the training data, from
    /// which they are rebuilt (not needed for newer files, ignored then).
    #[arg(long, value_name = "TRAIN.csv")]
    pub data: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: SummaryArgs) -> Result<(), CliError> {
    let model = AnyModel::load(&args.model)?;
    if let Some(gam) = model.as_gam() {
        return gam_summary(ctx, &args, gam.clone());
    }
    if args.data.is_some() {
        return Err(UsageError(format!(
            "{}: --data applies to GAM model files only (a GLM's summary needs no data)",
            args.model.display()
        ))
        .into());
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

/// A GAM's term table, then its significance table (rebuilt from `--data` for old model files).
fn gam_summary(ctx: &Context, args: &SummaryArgs, mut gam: Gam) -> Result<(), CliError> {
    if !gam.has_inference() {
        if let Some(path) = &args.data {
            let ds = Dataset::load_with_schema(
                path,
                gam.schema(),
                Some(gam.target()),
                UnseenPolicy::Error,
            )?;
            gam.attach_inference(ds.x().view())
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        }
    }
    let table = gam.significance();
    if let (Some(_), Err(e)) = (&args.out, &table) {
        return Err(UsageError(format!("{}: {e}", args.model.display())).into());
    }
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", super::train_gam::table(&gam))?;
    match &table {
        Ok(t) => write!(stdout, "{t}")?,
        Err(e) => writeln!(stdout, "no significance table: {e}")?,
    }
    stdout.flush()?;
    if let (Some(out), Ok(t)) = (&args.out, &table) {
        let csv = t.to_csv();
        glassbox::output::write_atomic(out, |w| w.write_all(csv.as_bytes()))
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", out.display()))?;
        super::status(ctx, format!("wrote {}", out.display()));
    }
    Ok(())
}
