//! `glassbox train --model glm`: the GLM flags and the fit.
//!
//! Kept out of `train.rs` so the GLM plumbing (family, link, penalties, weights/offset columns)
//! lives in one place and `train.rs` only dispatches.

use std::path::Path;

use clap::{Args, ValueEnum};
use glassbox::data::{Dataset, FeatureSchema, SchemaOptions, Task, UnseenPolicy};
use glassbox::model::glm::{Family, GlmParams, LinkFunction, Penalty};
use glassbox::model::AnyModel;
use ndarray::Array1;

use super::{CliError, Context, UsageError};

/// GLM families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FamilyArg {
    /// 0/1 outcome (logistic regression with the default logit link).
    Binomial,
    /// Real-valued target (linear regression with the default identity link).
    Gaussian,
    /// Counts (default log link).
    Poisson,
    /// Positive continuous target (default inverse link, as statsmodels and R; log is common).
    Gamma,
    /// Tweedie with variance power --var-power (default log link).
    Tweedie,
}

/// GLM link functions.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LinkArg {
    /// log(μ/(1−μ)).
    Logit,
    /// Φ⁻¹(μ).
    Probit,
    /// log(−log(1−μ)).
    Cloglog,
    /// log(μ).
    Log,
    /// μ.
    Identity,
    /// 1/μ.
    Inverse,
}

/// Flags of `--model glm` (ignored by no other model: using them elsewhere is an error).
#[derive(Args, Debug, Default)]
pub struct GlmArgs {
    /// GLM family (--model glm). Default: binomial for a two-class target, else gaussian.
    #[arg(long, value_enum)]
    pub family: Option<FamilyArg>,
    /// GLM link (default: the family's: logit, identity, log, inverse, log).
    #[arg(long, value_enum)]
    pub link: Option<LinkArg>,
    /// Tweedie variance power p (required with --family tweedie; 1 < p < 2 allows zeros).
    #[arg(long, value_name = "P")]
    pub var_power: Option<f64>,
    /// L2 (ridge) penalty strength λ₂ on standardised features: + λ₂/2·‖β‖².
    #[arg(long, value_name = "LAMBDA")]
    pub l2: Option<f64>,
    /// L1 (lasso) penalty strength λ₁ on standardised features: + λ₁·‖β‖₁ (with --l2: elastic net).
    #[arg(long, value_name = "LAMBDA")]
    pub l1: Option<f64>,
    /// Elastic-net mixing α in [0, 1] for --cv (1 = lasso, 0 = ridge; default 1).
    #[arg(long, value_name = "MIX")]
    pub alpha: Option<f64>,
    /// Choose λ by K-fold cross-validation of the deviance along a 100-value path (uses --seed).
    #[arg(long, value_name = "K")]
    pub cv: Option<usize>,
    /// Column of prior (variance) weights, left out of the features.
    #[arg(long, value_name = "COL")]
    pub weights: Option<String>,
    /// Column added to the linear predictor (e.g. log exposure), left out of the features.
    /// Predictions are made with offset 0 (per unit exposure).
    #[arg(long, value_name = "COL")]
    pub offset: Option<String>,
    /// Drop design columns that are linear combinations of earlier ones instead of failing.
    #[arg(long)]
    pub drop_collinear: bool,
    /// Maximum IRLS iterations (default 100).
    #[arg(long, value_name = "N")]
    pub max_iter: Option<usize>,
}

impl GlmArgs {
    /// Whether any GLM-only flag was given.
    pub fn any(&self) -> bool {
        self.family.is_some()
            || self.link.is_some()
            || self.var_power.is_some()
            || self.l2.is_some()
            || self.l1.is_some()
            || self.alpha.is_some()
            || self.cv.is_some()
            || self.weights.is_some()
            || self.offset.is_some()
            || self.drop_collinear
            || self.max_iter.is_some()
    }
}

/// Adjusts the schema options for a GLM: weights and offset columns are not features, and a
/// non-binomial family reads the target as numbers unless the task was given.
pub fn adjust_options(glm: &GlmArgs, is_glm: bool, mut options: SchemaOptions) -> SchemaOptions {
    if !is_glm {
        return options;
    }
    options.ignore.extend(glm.weights.iter().cloned());
    options.ignore.extend(glm.offset.iter().cloned());
    if options.task.is_none() {
        options.task = match glm.family {
            Some(FamilyArg::Binomial) => Some(Task::Binary),
            Some(_) => Some(Task::Regression),
            None => None,
        };
    }
    options
}

fn column(path: &Path, name: &str) -> Result<Array1<f64>, CliError> {
    let schema = FeatureSchema::numeric([name]);
    let ds = Dataset::load_with_schema(path, &schema, None, UnseenPolicy::Error)?;
    let col = ds.x().column(0).to_owned();
    if let Some(i) = col.iter().position(|v| v.is_nan()) {
        return Err(UsageError(format!(
            "{}: column '{name}' is missing at row {}; weights and offsets need a value in every row",
            path.display(),
            i + 1
        ))
        .into());
    }
    Ok(col)
}

/// The family (defaulted from the target when not given, with a note on stderr) and the link
/// asked for; shared by `--model glm` and `--model gam`.
pub fn family_and_link(
    ctx: &Context,
    glm: &GlmArgs,
    ds: &Dataset,
) -> Result<(Family, Option<LinkFunction>), CliError> {
    let family_arg = match glm.family {
        Some(f) => f,
        None => {
            let binary = matches!(
                ds.target().map(|t| &t.kind),
                Some(glassbox::data::TargetKind::Binary { .. })
            );
            let f = if binary {
                FamilyArg::Binomial
            } else {
                FamilyArg::Gaussian
            };
            super::status(
                ctx,
                format!("--family not given: using {f:?} for this target"),
            );
            f
        }
    };
    let family = match family_arg {
        FamilyArg::Binomial => Family::Binomial,
        FamilyArg::Gaussian => Family::Gaussian,
        FamilyArg::Poisson => Family::Poisson,
        FamilyArg::Gamma => Family::Gamma,
        FamilyArg::Tweedie => Family::Tweedie {
            var_power: glm.var_power.ok_or_else(|| {
                UsageError(
                    "--family tweedie needs --var-power P (1 < P < 2 for data with zeros)".into(),
                )
            })?,
        },
    };
    if glm.var_power.is_some() && family_arg != FamilyArg::Tweedie {
        return Err(UsageError("--var-power applies only to --family tweedie".into()).into());
    }
    let link = glm.link.map(|l| match l {
        LinkArg::Logit => LinkFunction::Logit,
        LinkArg::Probit => LinkFunction::Probit,
        LinkArg::Cloglog => LinkFunction::Cloglog,
        LinkArg::Log => LinkFunction::Log,
        LinkArg::Identity => LinkFunction::Identity,
        LinkArg::Inverse => LinkFunction::Inverse,
    });
    Ok((family, link))
}

/// Fits the GLM and prints its summary (unless quiet).
pub fn train(
    ctx: &Context,
    glm: &GlmArgs,
    data: &Path,
    ds: &Dataset,
    seed: u64,
) -> Result<AnyModel, CliError> {
    let (family, link) = family_and_link(ctx, glm, ds)?;
    let mut params = GlmParams::new(family)
        .drop_collinear(glm.drop_collinear)
        .auxiliary_columns(glm.weights.clone(), glm.offset.clone());
    if let Some(l) = link {
        params = params.link(l);
    }
    if let Some(n) = glm.max_iter {
        params = params.max_iter(n);
    }
    match (glm.cv, glm.l1, glm.l2) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(UsageError(
                "--cv chooses λ itself: give --alpha for the L1/L2 mix instead of --l1/--l2".into(),
            )
            .into())
        }
        (Some(folds), None, None) => {
            params = params.penalty(Penalty::CrossValidated {
                alpha: glm.alpha.unwrap_or(1.0),
                folds,
                n_lambda: 100,
                seed,
            })
        }
        (None, l1, l2) if l1.is_some() || l2.is_some() => {
            if glm.alpha.is_some() {
                return Err(UsageError(
                    "--alpha goes with --cv; with fixed penalties give --l1 and/or --l2".into(),
                )
                .into());
            }
            params = params.penalty(Penalty::Fixed {
                l1: l1.unwrap_or(0.0),
                l2: l2.unwrap_or(0.0),
            })
        }
        _ => {
            if glm.alpha.is_some() {
                return Err(UsageError("--alpha needs --cv".into()).into());
            }
        }
    }
    let weights = match &glm.weights {
        Some(c) => Some(column(data, c)?),
        None => None,
    };
    let offset = match &glm.offset {
        Some(c) => Some(column(data, c)?),
        None => None,
    };
    let fitted = params
        .fit(
            ds,
            weights.as_ref().map(|w| w.view()),
            offset.as_ref().map(|o| o.view()),
        )
        .map_err(glassbox::model::ModelError::from)?;
    if ctx.quiet {
        for w in &fitted.report().warnings {
            eprintln!("glassbox: warning: {w}");
        }
    } else {
        eprint!("{}", fitted.report());
    }
    Ok(AnyModel::Glm(fitted))
}
