//! `glassbox plot influence`: the training rows that most helped and most hurt one explained row,
//! drawn from the long-form table `glassbox influence --out` writes (`row, train_row, influence`).

use std::path::Path;

use glassbox::data::read_table;
use glassbox::plot::{self, InfluenceRows, PlotOptions};
use polars::prelude::DataType;

use super::plot::plot_error;
use super::{CliError, Context, UsageError};

/// The column `name` of `table` as numbers, or a usage error naming the file and the fix.
fn numeric_column(
    df: &polars::prelude::DataFrame,
    table: &Path,
    name: &str,
) -> Result<Vec<f64>, CliError> {
    let col = df.column(name).map_err(|_| {
        UsageError(format!(
            "{}: no column '{name}'; an influence table has the columns row, train_row, influence (write it with `glassbox influence --out`)",
            table.display()
        ))
    })?;
    let values = col
        .cast(&DataType::Float64)
        .map_err(|e| UsageError(format!("{}: column '{name}': {e}", table.display())))?;
    let values = values
        .f64()
        .map_err(|e| UsageError(format!("{}: column '{name}': {e}", table.display())))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.filter(|v| v.is_finite()).ok_or_else(|| {
                UsageError(format!(
                    "{}: line {}: column '{name}' is missing or not a finite number",
                    table.display(),
                    i + 2
                ))
                .into()
            })
        })
        .collect()
}

pub fn run(
    ctx: &Context,
    table: &Path,
    row: usize,
    top: usize,
    on: &str,
    out: &Path,
    opts: &PlotOptions,
) -> Result<(), CliError> {
    let df = read_table(table)?;
    let rows = numeric_column(&df, table, "row")?;
    let train_rows = numeric_column(&df, table, "train_row")?;
    let influence = numeric_column(&df, table, "influence")?;
    let mut picked = InfluenceRows {
        row,
        on: on.to_string(),
        ..InfluenceRows::default()
    };
    for ((&r, &t), &v) in rows.iter().zip(&train_rows).zip(&influence) {
        if r == row as f64 {
            picked.train_rows.push(t as usize);
            picked.influence.push(v);
        }
    }
    if picked.influence.is_empty() {
        let last = rows.iter().copied().fold(f64::NAN, f64::max);
        return Err(UsageError(format!(
            "{}: no lines for row {row} (the table explains rows 0..={last}); choose another --row",
            table.display()
        ))
        .into());
    }
    let canvas = plot::influence_bar(&picked, top, opts).map_err(plot_error)?;
    plot::save(&canvas, out).map_err(plot_error)?;
    super::status(ctx, format!("wrote {}", out.display()));
    Ok(())
}
