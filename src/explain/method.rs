//! Choosing an explainer by name: the one dispatch point shared by the CLI and the report.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::kernel_shap::KernelShapParams;
use super::lime::LimeParams;
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
    /// for GLMs.
    pub fn default_for(model: &AnyModel) -> Method {
        match model {
            AnyModel::TreeEnsemble(_) => Method::TreeShap,
            AnyModel::Glm(_) => Method::Additive,
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
            row_offset: 0,
            kernel_shap: KernelShapParams::default(),
            lime: LimeParams::default(),
        }
    }
}

/// Explains the rows `x` of `model` with `method`. `background` is required by the methods for
/// which [`Method::needs_background`] is true.
///
/// # Errors
/// [`ExplainError::Unsupported`] when the method does not apply to the model, a missing
/// background, or an additivity failure of the run-time guard.
pub fn explain(
    model: &AnyModel,
    x: ArrayView2<f64>,
    method: Method,
    background: Option<ArrayView2<f64>>,
    options: &ExplainOptions,
) -> Result<Explanation> {
    if method.needs_background() && background.is_none() {
        return Err(ExplainError::Unsupported(match method {
            Method::Lime => "--method lime draws perturbations from the training distribution: pass --background FILE with a sample of the training data".to_string(),
            _ => format!(
                "--method {} needs a background data set: pass --background FILE",
                method.name()
            ),
        }));
    }
    if let (Method::Additive, AnyModel::Glm(glm)) = (method, model) {
        return super::additive::explain_glm(
            glm,
            x,
            options.output_space,
            options.additivity_tolerance,
        );
    }
    if let (Method::KernelShap, Some(bg)) = (method, background) {
        return super::kernel_shap::explain_kernel_shap(
            model.as_model(),
            x,
            bg,
            &options.kernel_shap,
            options,
        );
    }
    if let (Method::Lime, Some(bg)) = (method, background) {
        return super::lime::explain_lime(model.as_model(), x, bg, &options.lime, options);
    }
    Err(ExplainError::Unsupported(format!(
        "--method {} is not available for a {} model",
        method.name(),
        model.kind_name()
    )))
}
