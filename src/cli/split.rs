//! `glassbox split`.

use std::path::PathBuf;

use clap::Args;
use glassbox::data::{read_table, split_indices, take_rows, write_csv, DataError};

use super::{CliError, Context, UsageError};

/// Split a table into seeded train and test parts (stratified by a column on request).
#[derive(Args, Debug)]
pub struct SplitArgs {
    /// Table to split (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Fraction of rows in the test part.
    #[arg(long, default_value_t = 0.3)]
    pub test_fraction: f64,
    /// Keep this column's class balance in both parts (usually the target).
    #[arg(long, value_name = "COL")]
    pub stratify: Option<String>,
    /// Seed of the shuffle.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output CSV of the training part.
    #[arg(long, value_name = "TRAIN.csv")]
    pub train_out: PathBuf,
    /// Output CSV of the test part.
    #[arg(long, value_name = "TEST.csv")]
    pub test_out: PathBuf,
}

pub fn run(ctx: &Context, args: SplitArgs) -> Result<(), CliError> {
    if !(args.test_fraction > 0.0 && args.test_fraction < 1.0) {
        return Err(UsageError("--test-fraction must be between 0 and 1".into()).into());
    }
    let df = read_table(&args.data)?;
    let strata = match &args.stratify {
        None => None,
        Some(col) => {
            let s = df
                .column(col)
                .map_err(|_| DataError::MissingColumn {
                    path: args.data.clone(),
                    column: col.clone(),
                    hint: String::new(),
                })?
                .as_materialized_series()
                .cast(&polars::prelude::DataType::String)
                .map_err(anyhow::Error::from)?;
            let labels: Vec<String> = s
                .str()
                .map_err(anyhow::Error::from)?
                .into_iter()
                .map(|v| v.unwrap_or("").to_string())
                .collect();
            Some(labels)
        }
    };
    let (train, test) = split_indices(
        df.height(),
        args.test_fraction,
        args.seed,
        strata.as_deref(),
    );
    for (rows, out) in [(&train, &args.train_out), (&test, &args.test_out)] {
        let mut part = take_rows(&df, rows).map_err(anyhow::Error::from)?;
        write_csv(&mut part, out)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", out.display()))?;
    }
    super::status(
        ctx,
        format!(
            "split {} rows: {} train, {} test",
            df.height(),
            train.len(),
            test.len()
        ),
    );
    Ok(())
}
