//! Choosing an explainer by name: the one dispatch point shared by the CLI and the report.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::kernel_shap::KernelShapParams;
use super::lime::LimeParams;
use super::tree_shap::{InterventionalTreeShap, TreeShap};
use super::{ExplainError, Explanation, OutputSpace, Result};
use crate::model::AnyModel;

/// An explanation method, named as on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Method {
    /// Exact path-dependent Tree SHAP (no background).
    TreeShap,
    /// Exact interventional Tree SHAP against a background set.
    TreeShapInterventional,
    /// Model-agnostic Kernel SHAP against a background set.
    KernelShap,
    /// LIME local surrogate.
    Lime,
    /// Exact contributions of an additive model (GLM, GAM, NAM).
    Additive,
}

impl Method {
    /// The name used on the command line and in output metadata.
    pub fn name(self) -> &'static str {
        match self {
            Method::TreeShap => "tree-shap",
            Method::TreeShapInterventional => "tree-shap-interventional",
            Method::KernelShap => "kernel-shap",
            Method::Lime => "lime",
            Method::Additive => "additive",
        }
    }

    /// Whether the method needs a background data set (for LIME: the training sample it draws
    /// perturbations from).
    pub fn needs_background(self) -> bool {
        matches!(
            self,
            Method::TreeShapInterventional | Method::KernelShap | Method::Lime
        )
    }

    /// The exact method that suits a model best: Tree SHAP for ensembles, additive contributions
    /// for GLMs, GAMs and NAMs.
    pub fn default_for(model: &AnyModel) -> Method {
        match model {
            AnyModel::TreeEnsemble(_) => Method::TreeShap,
            AnyModel::Glm(_) | AnyModel::Gam(_) | AnyModel::Nam(_) => Method::Additive,
        }
    }
}

/// Options shared by the explainers.
#[derive(Clone, Debug)]
pub struct ExplainOptions {
    /// Raw score or probability space.
    pub output_space: OutputSpace,
    /// Seed of any random step.
    pub seed: u64,
    /// Relative tolerance of the run-time additivity check.
    pub additivity_tolerance: f64,
    /// Exact probability-space interventional Tree SHAP enumerates `2^players` coalitions per
    /// (row, background row) pair; pairs with more players are refused (see
    /// [`InterventionalTreeShap`](super::tree_shap::InterventionalTreeShap)).
    pub max_exact_players: usize,
    /// Index of the first row of `x` in the whole data set. Sampling explainers key each row's
    /// random stream by (seed, row_offset + row), so explaining in chunks gives the same result
    /// as explaining everything at once.
    pub row_offset: usize,
    /// Kernel SHAP settings.
    pub kernel_shap: KernelShapParams,
    /// LIME settings.
    pub lime: LimeParams,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            output_space: OutputSpace::Raw,
            seed: 0,
            additivity_tolerance: 1e-6,
            max_exact_players: super::tree_shap::DEFAULT_MAX_EXACT_PLAYERS,
            row_offset: 0,
            kernel_shap: KernelShapParams::default(),
            lime: LimeParams::default(),
        }
    }
}

/// Explains the rows `x` of `model` with `method`. `background` is required by the methods for
/// which [`Method::needs_background`] is true. To explain many chunks with the same model and
/// background, [`prepare`] once and call [`Prepared::explain`] per chunk.
///
/// # Errors
/// [`ExplainError::Unsupported`] when the method does not apply to the model, a missing
/// background, or an additivity failure of the run-time guard.
pub fn explain<'a>(
    model: &'a AnyModel,
    x: ArrayView2<f64>,
    method: Method,
    background: Option<ArrayView2<'a, f64>>,
    options: &ExplainOptions,
) -> Result<Explanation> {
    prepare(model, method, background, options)?.explain(x)
}

/// An explainer bound to a model, a method, a background and options, with its per-model work
/// (Tree SHAP tables, background direction patterns and leaf tables) done once and reused for
/// every chunk of rows.
#[derive(Debug)]
pub struct Prepared<'a> {
    kind: PreparedKind<'a>,
    options: ExplainOptions,
}

#[derive(Debug)]
enum PreparedKind<'a> {
    TreeShap(TreeShap<'a>),
    Interventional(InterventionalTreeShap<'a>),
    Glm(&'a crate::model::glm::Glm),
    Gam(&'a crate::model::gam::Gam),
    Nam(&'a crate::model::nam::Nam),
    KernelShap(&'a AnyModel, ArrayView2<'a, f64>),
    Lime(&'a AnyModel, ArrayView2<'a, f64>),
}

/// Validates the method against the model and options and does the per-model preparation.
///
/// # Errors
/// As [`explain`], for everything that does not depend on the rows.
pub fn prepare<'a>(
    model: &'a AnyModel,
    method: Method,
    background: Option<ArrayView2<'a, f64>>,
    options: &ExplainOptions,
) -> Result<Prepared<'a>> {
    if method.needs_background() && background.is_none() {
        return Err(ExplainError::Unsupported(match method {
            Method::Lime => "--method lime draws perturbations from the training distribution: pass --background FILE with a sample of the training data".to_string(),
            _ => format!(
                "--method {} needs a background data set: pass --background FILE",
                method.name()
            ),
        }));
    }
    let kind = match (method, model) {
        (Method::Additive, AnyModel::Glm(glm)) => PreparedKind::Glm(glm),
        (Method::Additive, AnyModel::Gam(gam)) => PreparedKind::Gam(gam),
        (Method::Additive, AnyModel::Nam(nam)) => PreparedKind::Nam(nam),
        (Method::KernelShap, _) => match background {
            Some(bg) => PreparedKind::KernelShap(model, bg),
            None => unreachable!("checked above: the method needs a background"),
        },
        (Method::Lime, _) => match background {
            Some(bg) => PreparedKind::Lime(model, bg),
            None => unreachable!("checked above: the method needs a background"),
        },
        (Method::TreeShap, AnyModel::TreeEnsemble(ens)) => {
            if options.output_space == OutputSpace::Probability
                && !super::tree_shap::raw_is_probability(ens)
            {
                return Err(ExplainError::Unsupported(
                    "path-dependent Tree SHAP explains the raw score only (the probability of a \
                     coalition is not defined by the covers); for probability output use \
                     --method tree-shap-interventional with --background FILE"
                        .into(),
                ));
            }
            PreparedKind::TreeShap(TreeShap::new(ens)?)
        }
        (Method::TreeShapInterventional, AnyModel::TreeEnsemble(ens)) => {
            if options.max_exact_players > 30 {
                return Err(ExplainError::InvalidParam {
                    name: "max_exact_players",
                    value: options.max_exact_players.to_string(),
                    reason: "at most 30 (the cost is 2^players per row and background row)".into(),
                });
            }
            let Some(bg) = background else {
                unreachable!("checked above: the method needs a background");
            };
            let iv = InterventionalTreeShap::new(ens, bg)?
                .with_max_exact_players(options.max_exact_players);
            // Fail now, not at the first chunk, for probability output of a regression model.
            iv.base_values(options.output_space)?;
            PreparedKind::Interventional(iv)
        }
        _ => {
            return Err(ExplainError::Unsupported(format!(
                "--method {} is not available for a {} model",
                method.name(),
                model.kind_name()
            )))
        }
    };
    Ok(Prepared {
        kind,
        options: options.clone(),
    })
}

impl Prepared<'_> {
    /// Explains the rows `x` (rows × features, encoded as the model's schema).
    ///
    /// # Errors
    /// Shape errors, and the run-time additivity guard.
    pub fn explain(&self, x: ArrayView2<f64>) -> Result<Explanation> {
        self.explain_from(x, 0)
    }

    /// As [`Prepared::explain`], for rows that start at index `first_row` of the whole data set:
    /// sampling explainers key each row's random stream by its index there, so explaining in
    /// chunks gives the same result as explaining everything at once.
    ///
    /// # Errors
    /// As [`Prepared::explain`].
    pub fn explain_from(&self, x: ArrayView2<f64>, first_row: usize) -> Result<Explanation> {
        let o = &self.options;
        match &self.kind {
            PreparedKind::KernelShap(model, bg) => {
                let mut o = o.clone();
                o.row_offset = first_row;
                super::kernel_shap::explain_kernel_shap(
                    model.as_model(),
                    x,
                    *bg,
                    &o.kernel_shap,
                    &o,
                )
            }
            PreparedKind::Lime(model, bg) => {
                let mut o = o.clone();
                o.row_offset = first_row;
                super::lime::explain_lime(model.as_model(), x, *bg, &o.lime, &o)
            }
            PreparedKind::TreeShap(t) => {
                // Only reachable in probability space when the raw output is the probability.
                let mut e = t.explain(x, o.additivity_tolerance)?;
                e.meta_mut().output_space = o.output_space;
                Ok(e)
            }
            PreparedKind::Interventional(iv) => {
                iv.explain(x, o.output_space, o.additivity_tolerance)
            }
            PreparedKind::Glm(glm) => {
                super::additive::explain_glm(glm, x, o.output_space, o.additivity_tolerance)
            }
            PreparedKind::Gam(gam) => {
                super::additive::explain_gam(gam, x, o.output_space, o.additivity_tolerance)
            }
            PreparedKind::Nam(nam) => {
                super::additive::explain_nam(nam, x, o.output_space, o.additivity_tolerance)
            }
        }
    }
}
