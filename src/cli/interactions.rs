//! `glassbox interactions`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use glassbox::explain::tree_shap::InteractionShap;
use glassbox::model::AnyModel;

use super::predict::UnseenArg;
use super::stream::{write_output, RowStream};
use super::{CliError, Context, UsageError};

/// Exact path-dependent SHAP interaction values of a tree ensemble, written long-form as
/// `row,output,feature_i,feature_j,value` (Φ_ij; main effects have feature_i = feature_j). The full
/// rows × M × M tensor rarely fits, so ask for the top pairs per row or the pairs among chosen
/// features.
#[derive(Args, Debug)]
pub struct InteractionsArgs {
    /// Tree ensemble: glassbox, XGBoost JSON or LightGBM text model.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Rows to explain (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Output CSV. Written atomically.
    #[arg(long, value_name = "OUT.csv")]
    pub out: PathBuf,
    /// The K pairs with the largest |Φ_ij| per row and output.
    #[arg(long, value_name = "K", conflicts_with = "features")]
    pub top: Option<usize>,
    /// All pairs and main effects among these features (comma-separated names).
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub features: Vec<String>,
    /// Explain only the first N rows.
    #[arg(long, value_name = "N")]
    pub rows: Option<usize>,
    /// Rows per chunk: the input is read and the output written chunk by chunk.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub chunk_size: usize,
    /// Categories not seen in training: error (default) or missing.
    #[arg(long, value_enum, default_value = "error")]
    pub unseen: UnseenArg,
}

pub fn run(ctx: &Context, args: InteractionsArgs) -> Result<(), CliError> {
    if args.chunk_size == 0 {
        return Err(UsageError("--chunk-size must be at least 1".into()).into());
    }
    let model = AnyModel::load(&args.model)?;
    let Some(ens) = model.as_trees() else {
        return Err(UsageError(format!(
            "interaction values need a tree ensemble; {} is a {} model",
            args.model.display(),
            model.kind_name()
        ))
        .into());
    };
    let schema = ens.schema.clone();
    let names = schema.names();
    let chosen: Vec<usize> = args
        .features
        .iter()
        .map(|f| {
            schema.index_of(f).ok_or_else(|| {
                UsageError(format!("--features: the model has no feature named '{f}'"))
            })
        })
        .collect::<Result<_, _>>()?;
    let top = match (args.top, chosen.is_empty()) {
        (Some(0), _) => return Err(UsageError("--top must be at least 1".into()).into()),
        (Some(k), _) => Some(k),
        (None, true) => Some(10),
        (None, false) => None,
    };
    let ix = InteractionShap::new(ens)?;
    let outputs = ens.output_names.clone();
    let mut input = RowStream::open(
        ctx,
        "interactions",
        &args.data,
        &schema,
        args.unseen.into(),
        args.chunk_size,
        args.rows,
        None,
    )?;
    write_output(&args.out, |w| {
        writeln!(w, "row,output,feature_i,feature_j,value")?;
        let field = glassbox::output::csv_field;
        while let Some((start, ds)) = input.next_chunk()? {
            let chunk = ds.x().view();
            if let Some(k) = top {
                for r in ix.top_pairs(chunk, k)? {
                    for p in r.pairs {
                        writeln!(
                            w,
                            "{},{},{},{},{}",
                            start + r.row,
                            field(&outputs[r.output]),
                            field(&names[p.i]),
                            field(&names[p.j]),
                            p.value
                        )?;
                    }
                }
            } else {
                let vals = ix.among(chunk, &chosen)?;
                let (rows, k_out, _, _) = vals.values.dim();
                for r in 0..rows {
                    for o in 0..k_out {
                        for (a, &fi) in vals.features.iter().enumerate() {
                            for (b, &fj) in vals.features.iter().enumerate().skip(a) {
                                writeln!(
                                    w,
                                    "{},{},{},{},{}",
                                    start + r,
                                    field(&outputs[o]),
                                    field(&names[fi]),
                                    field(&names[fj]),
                                    vals.values[[r, o, a, b]]
                                )?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    })?;
    super::status(
        ctx,
        format!(
            "interaction values of {} rows -> {}",
            input.rows(),
            args.out.display()
        ),
    );
    Ok(())
}
