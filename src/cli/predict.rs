//! `glassbox predict`: read in chunks and written chunk by chunk (like `explain`), so a file of
//! any size predicts in bounded memory, and an error on a late row leaves no partial output.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use glassbox::data::UnseenPolicy;
use glassbox::model::AnyModel;

use super::stream::{id_column, write_output, RowStream};
use super::{CliError, Context, UsageError};

/// What to do with categories the model never saw.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum UnseenArg {
    /// Stop with an error naming the column, row and value.
    Error,
    /// Treat them as missing values.
    Missing,
}

impl From<UnseenArg> for UnseenPolicy {
    fn from(u: UnseenArg) -> Self {
        match u {
            UnseenArg::Error => UnseenPolicy::Error,
            UnseenArg::Missing => UnseenPolicy::Missing,
        }
    }
}

/// Predict with a model; writes one row per input row.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Model file: glassbox JSON, XGBoost JSON or LightGBM text (recognised by content).
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Rows to predict (CSV or Parquet); columns are matched to the model's features by name.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Output table (CSV, or Parquet by extension): `raw` and `prediction` columns, or
    /// `raw:<output>` and `prediction:<output>` per output for multiclass models.
    #[arg(long, value_name = "PRED.csv")]
    pub out: PathBuf,
    /// Categories not seen in training: error (default) or missing.
    #[arg(long, value_enum, default_value = "error")]
    pub unseen: UnseenArg,
    /// Rows per chunk: the input is read and the predictions written chunk by chunk, so memory
    /// is bounded by the chunk, not the file.
    #[arg(long, default_value_t = 65536, value_name = "N")]
    pub chunk_size: usize,
    /// Carry this column of --data (an application or patient id, read as text) into the
    /// output as its last column, so rows can be joined back without relying on row order.
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
}

/// Column headers of prediction output for these output names.
pub fn prediction_headers(outputs: &[String]) -> Vec<String> {
    if outputs.len() == 1 {
        vec!["raw".into(), "prediction".into()]
    } else {
        let mut h: Vec<String> = outputs.iter().map(|o| format!("raw:{o}")).collect();
        h.extend(outputs.iter().map(|o| format!("prediction:{o}")));
        h
    }
}

pub fn run(ctx: &Context, args: PredictArgs) -> Result<(), CliError> {
    if args.chunk_size == 0 {
        return Err(UsageError("--chunk-size must be at least 1".into()).into());
    }
    let model = AnyModel::load(&args.model)?;
    let m = model.as_model();
    let mut input = RowStream::open(
        ctx,
        "predict",
        &args.data,
        m.schema(),
        args.unseen.into(),
        args.chunk_size,
        None,
        args.id.as_deref(),
    )?;
    let headers = prediction_headers(m.output_names());
    let parquet = glassbox::output::is_parquet(&args.out);
    write_output(&args.out, |w| {
        let mut table = glassbox::output::NumericTableWriter::new(w, parquet);
        while let Some((_, ds)) = input.next_chunk()? {
            let raw = m.predict_raw(ds.x().view());
            let pred = m.predict(ds.x().view());
            let mut columns: Vec<Vec<f64>> =
                raw.columns().into_iter().map(|c| c.to_vec()).collect();
            columns.extend(pred.columns().into_iter().map(|c| c.to_vec()));
            table.write_chunk_with_text(&headers, &columns, id_column(args.id.as_deref(), &ds))?;
        }
        table.finish()?;
        Ok(())
    })?;
    super::status(
        ctx,
        format!("predicted {} rows -> {}", input.rows(), args.out.display()),
    );
    Ok(())
}
