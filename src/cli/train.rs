//! `glassbox train`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use glassbox::data::{Dataset, SchemaOptions, Task};
use glassbox::model::AnyModel;

use super::{CliError, Context, UsageError};

/// Model families glassbox trains.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModelKind {
    /// Gradient-boosted trees (histogram, second order).
    Gbdt,
    /// Random forest.
    Forest,
    /// Generalised linear model (IRLS; see --family, --link, --l1/--l2/--cv).
    Glm,
}

/// The task, when not inferred from the target.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TaskArg {
    /// Real-valued target.
    Regression,
    /// Two classes.
    Binary,
    /// Several classes.
    Multiclass,
}

/// Train a model and save it, with its feature schema, as a glassbox JSON model file.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Training table (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Target column.
    #[arg(long, value_name = "COL")]
    pub target: String,
    /// Model family.
    #[arg(long, value_enum)]
    pub model: ModelKind,
    /// Seed of every random step (sampling, splits); the same seed gives the same model.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output model file (JSON). Written atomically.
    #[arg(long, value_name = "MODEL.json")]
    pub out: PathBuf,
    /// Task; inferred from the target when absent (2 values: binary; text: multiclass; else regression).
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Treat this column as categorical (repeatable).
    #[arg(long, value_name = "COL")]
    pub categorical: Vec<String>,
    /// Treat this column as numeric (repeatable).
    #[arg(long, value_name = "COL")]
    pub numeric: Vec<String>,
    /// Leave this column out of the model (repeatable).
    #[arg(long, value_name = "COL")]
    pub ignore: Vec<String>,
    /// Integer columns with at most N distinct values are categorical.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub max_int_levels: usize,
    #[command(flatten)]
    pub glm: super::train_glm::GlmArgs,
}

pub fn run(ctx: &Context, args: TrainArgs) -> Result<(), CliError> {
    let options = SchemaOptions {
        categorical: args.categorical.clone(),
        numeric: args.numeric.clone(),
        ignore: args.ignore.clone(),
        max_int_levels: args.max_int_levels,
        task: args.task.map(|t| match t {
            TaskArg::Regression => Task::Regression,
            TaskArg::Binary => Task::Binary,
            TaskArg::Multiclass => Task::Multiclass,
        }),
        ..SchemaOptions::default()
    };
    let is_glm = matches!(args.model, ModelKind::Glm);
    if !is_glm && args.glm.any() {
        return Err(
            UsageError("GLM flags (--family, --link, --l1, ...) need --model glm".into()).into(),
        );
    }
    let options = super::train_glm::adjust_options(&args.glm, is_glm, options);
    let ds = Dataset::load_training(&args.data, &args.target, &options)?;
    super::status(
        ctx,
        format!(
            "read {} rows x {} features from {}",
            ds.n_rows(),
            ds.n_features(),
            args.data.display()
        ),
    );
    let model: AnyModel = match args.model {
        ModelKind::Glm => super::train_glm::train(ctx, &args.glm, &args.data, &ds, args.seed)?,
        ModelKind::Gbdt | ModelKind::Forest => {
            return Err(UsageError(format!(
                "--model {:?} is not available in this build",
                args.model
            ))
            .into())
        }
    };
    #[allow(unreachable_code)]
    {
        model.save(&args.out)?;
        super::status(ctx, format!("saved {}", args.out.display()));
        Ok(())
    }
}
