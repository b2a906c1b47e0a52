//! `glassbox train`.

use std::path::PathBuf;

use std::time::Instant;

use clap::{Args, ValueEnum};
use glassbox::data::{Dataset, SchemaOptions, Task};
use glassbox::model::forest::{ForestParams, MaxFeatures};
use glassbox::model::gbdt::GbdtParams;
use glassbox::model::AnyModel;

use super::{CliError, Context, UsageError};

/// Model families glassbox trains.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModelKind {
    /// Gradient-boosted trees (histogram, second order).
    Gbdt,
    /// Random forest (regression; two or more classes: averaged class probabilities).
    Forest,
    /// Generalised linear model (IRLS; see --family, --link, --l1/--l2/--cv).
    Glm,
    /// Generalised additive model (P-spline smooths, REML smoothing; see --n-splines, --lam,
    /// --monotone, --interactions and --family/--link).
    Gam,
    /// Neural additive model: an ensemble of per-feature networks (see --members, --hidden, ...).
    Nam,
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
    pub hyper: Box<HyperArgs>,
    #[command(flatten)]
    pub glm: super::train_glm::GlmArgs,
    #[command(flatten)]
    pub gam: super::train_gam::GamArgs,
    #[command(flatten)]
    pub nam: super::train_nam::NamArgs,
}

/// Model settings. Unset flags keep the library's defaults (`GbdtParams::default()`,
/// `ForestParams::default()`): gbdt 100 rounds of 31 leaves at learning rate 0.1; forest 100
/// trees grown to 5 rows per leaf.
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Model settings (unset: library defaults)")]
pub struct HyperArgs {
    /// Boosting rounds (gbdt) or trees (forest).
    #[arg(long, value_name = "N")]
    pub trees: Option<usize>,
    /// Shrinkage of each tree, in (0, 1] (gbdt only).
    #[arg(long, value_name = "X")]
    pub learning_rate: Option<f64>,
    /// Most depth per tree; 0 = no limit.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Most leaves per tree, grown best-first; 0 = no limit (gbdt then needs --max-depth).
    #[arg(long, value_name = "N")]
    pub max_leaves: Option<usize>,
    /// Least hessian sum in a leaf (gbdt only).
    #[arg(long, value_name = "X")]
    pub min_child_weight: Option<f64>,
    /// Least training rows in a leaf.
    #[arg(long, value_name = "N")]
    pub min_samples_leaf: Option<usize>,
    /// L2 penalty on leaf values (gbdt only).
    #[arg(long, value_name = "X")]
    pub lambda: Option<f64>,
    /// Row fraction per round (gbdt, without replacement) or per tree (forest, bootstrap).
    #[arg(long, value_name = "X")]
    pub subsample: Option<f64>,
    /// Feature fraction per tree (gbdt) or per node (forest).
    #[arg(long, value_name = "X")]
    pub colsample: Option<f64>,
    /// Most bins of a numeric feature.
    #[arg(long, value_name = "N")]
    pub max_bin: Option<usize>,
    /// Stop after N rounds without validation improvement and keep the best round (gbdt only).
    #[arg(long, value_name = "N")]
    pub early_stopping_rounds: Option<usize>,
    /// Fraction of rows held out for validation (gbdt: 0.1 when early stopping is on; nam: each
    /// member's early-stopping hold-out, 0.15 by default, 0 = none).
    #[arg(long, value_name = "X")]
    pub validation_fraction: Option<f64>,
}

/// 0 means "no limit" on the command line.
fn limit(v: usize) -> Option<usize> {
    (v > 0).then_some(v)
}

impl HyperArgs {
    /// Whether any tree-ensemble flag other than --validation-fraction (shared with nam) was given.
    fn any_except_validation(&self) -> bool {
        HyperArgs {
            validation_fraction: None,
            ..self.clone()
        }
        .any()
    }

    /// Whether any tree-ensemble flag was given.
    pub(super) fn any(&self) -> bool {
        [
            self.trees,
            self.max_depth,
            self.max_leaves,
            self.min_samples_leaf,
            self.max_bin,
            self.early_stopping_rounds,
        ]
        .iter()
        .any(Option::is_some)
            || [
                self.learning_rate,
                self.min_child_weight,
                self.lambda,
                self.subsample,
                self.colsample,
                self.validation_fraction,
            ]
            .iter()
            .any(Option::is_some)
    }

    pub(super) fn gbdt(&self, seed: u64) -> GbdtParams {
        let mut p = GbdtParams::default().seed(seed);
        if let Some(v) = self.trees {
            p = p.n_trees(v);
        }
        if let Some(v) = self.learning_rate {
            p = p.learning_rate(v);
        }
        if let Some(v) = self.max_depth {
            p = p.max_depth(limit(v));
        }
        if let Some(v) = self.max_leaves {
            p = p.max_leaves(limit(v));
        }
        if let Some(v) = self.min_child_weight {
            p = p.min_child_weight(v);
        }
        if let Some(v) = self.min_samples_leaf {
            p = p.min_samples_leaf(v);
        }
        if let Some(v) = self.lambda {
            p = p.lambda(v);
        }
        if let Some(v) = self.subsample {
            p = p.subsample(v);
        }
        if let Some(v) = self.colsample {
            p = p.colsample(v);
        }
        if let Some(v) = self.max_bin {
            p = p.max_bin(v);
        }
        if let Some(v) = self.early_stopping_rounds {
            p = p.early_stopping_rounds(Some(v));
        }
        if let Some(v) = self.validation_fraction {
            p = p.validation_fraction(Some(v));
        }
        p
    }

    fn forest(&self, seed: u64) -> Result<ForestParams, UsageError> {
        let gbdt_only = [
            ("--learning-rate", self.learning_rate.is_some()),
            ("--min-child-weight", self.min_child_weight.is_some()),
            ("--lambda", self.lambda.is_some()),
            (
                "--early-stopping-rounds",
                self.early_stopping_rounds.is_some(),
            ),
            ("--validation-fraction", self.validation_fraction.is_some()),
        ];
        if let Some((flag, _)) = gbdt_only.iter().find(|(_, set)| *set) {
            return Err(UsageError(format!(
                "{flag} applies to --model gbdt only; random forests do not use it"
            )));
        }
        let mut p = ForestParams::default().seed(seed);
        if let Some(v) = self.trees {
            p = p.n_trees(v);
        }
        if let Some(v) = self.max_depth {
            p = p.max_depth(limit(v));
        }
        if let Some(v) = self.max_leaves {
            p = p.max_leaves(limit(v));
        }
        if let Some(v) = self.min_samples_leaf {
            p = p.min_samples_leaf(v);
        }
        if let Some(v) = self.subsample {
            p = p.sample_fraction(v);
        }
        if let Some(v) = self.colsample {
            p = p.max_features(MaxFeatures::Fraction(v));
        }
        if let Some(v) = self.max_bin {
            p = p.max_bin(v);
        }
        Ok(p)
    }
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
    let is_gam = matches!(args.model, ModelKind::Gam);
    if !is_gam && args.gam.any() {
        return Err(UsageError(
            "GAM flags (--n-splines, --lam, --monotone, ...) need --model gam".into(),
        )
        .into());
    }
    // A GAM takes the GLM's family and link flags.
    let is_glm = matches!(args.model, ModelKind::Glm | ModelKind::Gam);
    if !is_glm && args.glm.any() {
        return Err(
            UsageError("GLM flags (--family, --link, --l1, ...) need --model glm".into()).into(),
        );
    }
    if is_glm && args.hyper.any() {
        return Err(UsageError(
            "tree flags (--trees, --learning-rate, --max-depth, ...) apply to --model gbdt|forest, not glm or gam"
                .into(),
        )
        .into());
    }
    let is_nam = matches!(args.model, ModelKind::Nam);
    if !is_nam && args.nam.any() {
        return Err(UsageError(
            "NAM flags (--members, --hidden, --activation, --lr, ...) need --model nam".into(),
        )
        .into());
    }
    if is_nam && args.hyper.any_except_validation() {
        return Err(UsageError(
            "tree flags (--trees, --max-depth, ...) do not apply to --model nam; its flags are --members, --epochs, --hidden, --activation, --lr, --batch-size, --dropout, --feature-dropout, --weight-decay, --output-penalty, --patience, --validation-fraction"
                .into(),
        )
        .into());
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
    for (name, levels) in ds.identifier_like_features() {
        eprintln!(
            "glassbox: warning: column '{name}' of {} has a different value in every row ({levels} levels): an identifier memorises rows instead of explaining them; pass --ignore {name} to leave it out",
            args.data.display()
        );
    }
    let start = Instant::now();
    let (model, summary) = match args.model {
        ModelKind::Gbdt => {
            let (m, r) = args.hyper.gbdt(args.seed).fit(&ds)?;
            let validation = match r.best_validation_loss {
                Some(v) => format!(
                    "validation {} {v:.5} on {} rows{}",
                    r.loss_name,
                    r.n_validation_rows,
                    if r.stopped_early {
                        format!(" (early stop after {} rounds)", r.rounds_trained)
                    } else {
                        String::new()
                    }
                ),
                None => "no validation split".to_string(),
            };
            let summary = format!(
                "gbdt: {} rounds, {} trees, train {} {:.5}, {validation}",
                r.rounds,
                m.trees.len(),
                r.loss_name,
                r.train_loss
            );
            (m, summary)
        }
        ModelKind::Nam => {
            let (model, summary) = super::train_nam::train(
                ctx,
                &args.nam,
                &ds,
                args.seed,
                args.hyper.validation_fraction,
            )?;
            let seconds = start.elapsed().as_secs_f64();
            model.save(&args.out)?;
            super::status(
                ctx,
                format!(
                    "{summary}; fit {seconds:.3} s; saved {}",
                    args.out.display()
                ),
            );
            return Ok(());
        }
        ModelKind::Gam => {
            let model = super::train_gam::train(ctx, &args.glm, &args.gam, &ds)?;
            model.save(&args.out)?;
            super::status(
                ctx,
                format!(
                    "fit {:.3} s; saved {}",
                    start.elapsed().as_secs_f64(),
                    args.out.display()
                ),
            );
            return Ok(());
        }
        ModelKind::Glm => {
            let model = super::train_glm::train(ctx, &args.glm, &args.data, &ds, args.seed)?;
            model.save(&args.out)?;
            super::status(ctx, format!("saved {}", args.out.display()));
            return Ok(());
        }
        ModelKind::Forest => {
            let (m, r) = args.hyper.forest(args.seed)?.fit(&ds)?;
            let oob = match r.oob_loss {
                Some(v) => format!("out-of-bag {} {v:.5} on {} rows", r.loss_name, r.oob_rows),
                None => "no out-of-bag rows".to_string(),
            };
            let summary = format!(
                "forest: {} trees, {:.1} leaves per tree, {} features per node, {oob}",
                r.n_trees, r.mean_leaves, r.features_per_node
            );
            (m, summary)
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    AnyModel::TreeEnsemble(model).save(&args.out)?;
    super::status(
        ctx,
        format!(
            "{summary}; fit {seconds:.3} s; saved {}",
            args.out.display()
        ),
    );
    Ok(())
}
