//! `glassbox influence`: which training rows helped or hurt each explained row, and the
//! self-influence ranking of the training rows.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use glassbox::data::{Dataset, TargetSpec, UnseenPolicy};
use glassbox::explain::influence::{
    influence_table, BoostIn, Curvature, ExactTop, GamInfluence, GlmInfluence, Ihvp, Influence,
    InfluenceTarget, LeafInfluence, NamInfluence, NamInfluenceParams, SelfInfluence, DEFAULT_TOP,
};
use glassbox::model::AnyModel;
use ndarray::Array1;

use super::predict::UnseenArg;
use super::{CliError, Context, UsageError};

/// Influence method for tree ensembles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// The model's default: the exact influence function for GLMs and GAMs, inverse-Hessian-vector
    /// products for NAMs, BoostIn for GBDTs.
    Auto,
    /// BoostIn (Brophy et al. 2023): O(n·trees), any size (GBDT only).
    Boostin,
    /// LeafInfluence (Sharchilev et al. 2018): propagates through later trees, O(n²·trees),
    /// small and medium data (GBDT only, single output).
    LeafInfluence,
}

/// Inverse-Hessian-vector products for NAMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IhvpArg {
    /// Conjugate gradients (Koh & Liang 2017): fewer products.
    Cg,
    /// LiSSA (Agarwal et al. 2017), with exact Hessian-vector products.
    Lissa,
}

/// Curvature matrix for NAMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CurvatureArg {
    /// Generalised Gauss–Newton (positive semi-definite; the library default).
    GaussNewton,
    /// The Hessian, by finite differences of the gradients (unreliable at the kinks of ReLU/ExU
    /// units).
    Hessian,
}

/// What the influence is measured on.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OnArg {
    /// The explained row's loss (needs the target column in --data).
    Loss,
    /// The explained row's raw prediction (linear predictor / raw score).
    Prediction,
}

/// Influence of training rows on explained rows: for each row of --data, the top-K most helpful
/// and most harmful rows of --train, written long-form as `row,train_row,influence` (influence =
/// predicted loss without the training row minus loss with it: positive = it helped). GLMs and
/// GAMs get the exact influence function (a GAM's smoothing parameters held fixed), NAMs
/// inverse-Hessian-vector products (Koh & Liang 2017), glassbox GBDTs BoostIn (or
/// LeafInfluence).
#[derive(Args, Debug)]
pub struct InfluenceArgs {
    /// Model: a glassbox GLM, GAM, NAM or gradient-boosted model.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// The training data the model was fitted on, with its target column (and the GLM's
    /// weights/offset columns, if it used them).
    #[arg(long, value_name = "TRAIN.csv")]
    pub train: PathBuf,
    /// Rows to explain (CSV or Parquet); with the target column for --on loss.
    #[arg(long, value_name = "ROWS.csv")]
    pub data: PathBuf,
    /// Output CSV `row,train_row,influence`, per row from most helpful to most harmful. Written
    /// atomically.
    #[arg(long, value_name = "OUT.csv")]
    pub out: PathBuf,
    /// K helpful and K harmful training rows per explained row; 0 = all training rows
    /// [default: 10].
    #[arg(long, value_name = "K")]
    pub top: Option<usize>,
    /// Also write every training row's self-influence, highest (most suspicious: outliers,
    /// flipped labels) first, as `rank,train_row,self_influence`.
    #[arg(long, value_name = "OUT2.csv")]
    pub self_influence: Option<PathBuf>,
    /// Estimator: auto (exact for GLMs and GAMs, inverse-Hessian-vector products for NAMs, BoostIn
    /// for GBDTs), or for GBDTs boostin or leaf-influence.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
    /// Influence on the loss (default) or on the raw prediction.
    #[arg(long, value_enum, default_value = "loss")]
    pub on: OnArg,
    /// Categories not seen in training, in --data: error (default) or missing.
    #[arg(long, value_enum, default_value = "error")]
    pub unseen: UnseenArg,
    /// GBDT only: replace each explained row's K largest estimates by exact leave-one-out
    /// retraining (bins held fixed; one fit per distinct training row). Needs the model's
    /// training settings: pass the same model flags and --seed as `glassbox train` (checked by
    /// retraining the full model).
    #[arg(long, value_name = "K")]
    pub exact_top: Option<usize>,
    /// With --exact-top: the seed the model was trained with.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub hyper: Box<super::train::HyperArgs>,
    /// NAM only: inverse-Hessian-vector products by conjugate gradients or LiSSA [default: cg].
    #[arg(long, value_enum)]
    pub ihvp: Option<IhvpArg>,
    /// NAM only: damping δ ≥ 0 added to the curvature's diagonal, making a net's curvature
    /// positive definite [default: 0.01, Koh & Liang 2017].
    #[arg(long, value_name = "D")]
    pub damping: Option<f64>,
    /// NAM only: curvature matrix, gauss-newton or hessian [default: gauss-newton].
    #[arg(long, value_enum)]
    pub curvature: Option<CurvatureArg>,
}

fn numeric_column(path: &Path, name: &str) -> Result<Array1<f64>, CliError> {
    super::train_glm::column(path, name)
}

fn load_train(path: &Path, model: &AnyModel, target: &TargetSpec) -> Result<Dataset, CliError> {
    let schema = model.as_model().schema();
    let ds = Dataset::load_with_schema(path, schema, Some(target), UnseenPolicy::Error)?;
    if ds.y().is_none() {
        return Err(UsageError(format!(
            "{}: no target column '{}': influence needs the training labels the model was fitted on",
            path.display(),
            target.name
        ))
        .into());
    }
    if ds.n_rows() == 0 {
        return Err(UsageError(format!("{}: no training rows", path.display())).into());
    }
    Ok(ds)
}

fn estimator(
    args: &InfluenceArgs,
    model: &AnyModel,
) -> Result<(Box<dyn Influence>, TargetSpec), CliError> {
    let nam_flags = args.ihvp.is_some() || args.damping.is_some() || args.curvature.is_some();
    if nam_flags && model.as_nam().is_none() {
        return Err(UsageError(format!(
            "--ihvp, --damping and --curvature apply to NAMs; {} is a {} model (leave them out)",
            args.model.display(),
            model.kind_name()
        ))
        .into());
    }
    if let Some(glm) = model.as_glm() {
        if args.exact_top.is_some() {
            return Err(UsageError(
                "--exact-top applies to gradient-boosted models; a GLM's influence is already exact (leave it out)".into(),
            )
            .into());
        }
        if args.method != MethodArg::Auto {
            return Err(UsageError(
                "--method boostin / leaf-influence apply to gradient-boosted models; a GLM's influence is exact (leave --method out)".into(),
            )
            .into());
        }
        let target = glm.target().clone();
        let ds = load_train(&args.train, model, &target)?;
        let report = glm.report();
        let weights = match &report.weights_column {
            Some(c) => Some(numeric_column(&args.train, c)?),
            None => None,
        };
        let offset = match &report.offset_column {
            Some(c) => Some(numeric_column(&args.train, c)?),
            None => None,
        };
        let y = ds.y().expect("checked in load_train");
        let est = GlmInfluence::new(
            glm,
            ds.x().view(),
            y.view(),
            weights.as_ref().map(|w| w.view()),
            offset.as_ref().map(|o| o.view()),
        )?;
        return Ok((Box::new(est), target));
    }
    if args.exact_top.is_some() && model.as_trees().is_none() {
        return Err(UsageError(format!(
            "--exact-top applies to gradient-boosted models; {} is a {} model, whose influence needs no retraining (leave it out)",
            args.model.display(),
            model.kind_name()
        ))
        .into());
    }
    if let Some(nam) = model.as_nam() {
        if args.method != MethodArg::Auto {
            return Err(UsageError(
                "--method boostin / leaf-influence apply to gradient-boosted models; a NAM uses inverse-Hessian-vector products (choose them with --ihvp)".into(),
            )
            .into());
        }
        let target = nam.target().clone();
        let ds = load_train(&args.train, model, &target)?;
        let mut params = NamInfluenceParams::default();
        if let Some(m) = args.ihvp {
            params = params.ihvp(match m {
                IhvpArg::Cg => Ihvp::Cg,
                IhvpArg::Lissa => Ihvp::Lissa,
            });
        }
        if let Some(c) = args.curvature {
            params = params.curvature(match c {
                CurvatureArg::GaussNewton => Curvature::GaussNewton,
                CurvatureArg::Hessian => Curvature::Hessian,
            });
        }
        if let Some(d) = args.damping {
            params = params.damping(d);
        }
        let est = NamInfluence::new(nam, &ds, params).map_err(|e| match e {
            glassbox::explain::ExplainError::InvalidParam { .. } => {
                anyhow::Error::from(UsageError(format!("--damping: {e}")))
            }
            e => anyhow::Error::from(UsageError(format!("{}: {e}", args.train.display()))),
        })?;
        return Ok((Box::new(est), target));
    }
    if let Some(gam) = model.as_gam() {
        if args.method != MethodArg::Auto {
            return Err(UsageError(
                "--method boostin / leaf-influence apply to gradient-boosted models; a GAM's influence is exact (leave --method out)".into(),
            )
            .into());
        }
        let target = gam.target().clone();
        let ds = load_train(&args.train, model, &target)?;
        let y = ds.y().expect("checked in load_train");
        let est = GamInfluence::new(gam, ds.x().view(), y.view()).map_err(|e| {
            anyhow::Error::from(UsageError(format!("{}: {e}", args.train.display())))
        })?;
        return Ok((Box::new(est), target));
    }
    let Some(ens) = model.as_trees() else {
        return Err(UsageError(format!(
            "influence supports GLMs, GAMs, NAMs and glassbox gradient-boosted models; {} is a {} model",
            args.model.display(),
            model.kind_name()
        ))
        .into());
    };
    if ens.source != glassbox::model::EnsembleSource::GradientBoosting {
        return Err(UsageError(format!(
            "influence needs a model whose training glassbox can replay: {} is a {} model; train it with `glassbox train --model gbdt` (no --subsample, no validation split)",
            args.model.display(),
            model.kind_name()
        ))
        .into());
    }
    let target = ens.target.clone().ok_or_else(|| {
        UsageError(format!(
            "{}: the model records no target",
            args.model.display()
        ))
    })?;
    let ds = load_train(&args.train, model, &target)?;
    let y = ds.y().expect("checked in load_train");
    let in_file = |e: glassbox::explain::ExplainError| {
        anyhow::Error::from(UsageError(format!("{}: {e}", args.train.display())))
    };
    let est: Box<dyn Influence> = match args.method {
        MethodArg::Auto | MethodArg::Boostin => {
            Box::new(BoostIn::new(ens, ds.x().view(), y.view()).map_err(in_file)?)
        }
        MethodArg::LeafInfluence => {
            Box::new(LeafInfluence::new(ens, ds.x().view(), y.view()).map_err(in_file)?)
        }
    };
    let est =
        match args.exact_top {
            Some(k) => {
                let params = args.hyper.gbdt(args.seed);
                Box::new(ExactTop::new(est, params, &ds, ens, k).map_err(|e| {
                    UsageError(format!("--exact-top: {}: {e}", args.model.display()))
                })?)
            }
            None => est,
        };
    Ok((est, target))
}

pub fn run(ctx: &Context, args: InfluenceArgs) -> Result<(), CliError> {
    if args.exact_top.is_none() && (args.hyper.any() || args.seed != 0) {
        return Err(UsageError(
            "model settings and --seed are only used with --exact-top (to retrain the model); add --exact-top K or leave them out".into(),
        )
        .into());
    }
    let model = AnyModel::load(&args.model)?;
    let (est, target) = estimator(&args, &model)?;
    let on = match args.on {
        OnArg::Loss => InfluenceTarget::Loss,
        OnArg::Prediction => InfluenceTarget::Prediction,
    };
    let schema = model.as_model().schema();
    let rows = Dataset::load_with_schema(&args.data, schema, Some(&target), args.unseen.into())?;
    if matches!(on, InfluenceTarget::Loss) && rows.y().is_none() {
        return Err(UsageError(format!(
            "{}: no target column '{}': the influence on the loss needs each row's label (add the column, or use --on prediction)",
            args.data.display(),
            target.name
        ))
        .into());
    }
    let top = args.top.unwrap_or(DEFAULT_TOP);
    let table = influence_table(
        est.as_ref(),
        rows.x().view(),
        rows.y().map(|y| y.view()),
        on,
        top,
    )?;
    // Everything is computed before anything is written, so a failure leaves no output.
    let si = match &args.self_influence {
        Some(_) => Some(SelfInfluence::compute(est.as_ref())?),
        None => None,
    };
    glassbox::output::write_atomic(&args.out, |w| {
        writeln!(w, "row,train_row,influence")?;
        for r in table.rows() {
            writeln!(w, "{},{},{}", r.row, r.train_row, r.influence)?;
        }
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", args.out.display()))?;
    if let (Some(path), Some(si)) = (&args.self_influence, &si) {
        glassbox::output::write_atomic(path, |w| {
            writeln!(w, "rank,train_row,self_influence")?;
            for (rank, &k) in si.ranking().iter().enumerate() {
                writeln!(w, "{},{},{}", rank + 1, k, si.values()[k])?;
            }
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
    }
    super::status(
        ctx,
        format!(
            "{} influence of {} training rows on {} rows -> {}",
            est.method(),
            est.n_train(),
            rows.n_rows(),
            args.out.display()
        ),
    );
    Ok(())
}
