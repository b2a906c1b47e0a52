//! Errors of GAM fitting. They reach users through [`crate::model::ModelError::Gam`].

use crate::model::glm::GlmError;

/// What went wrong while fitting a GAM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GamError {
    /// A check shared with the GLM failed (target support or kind, empty level, category codes).
    #[error(transparent)]
    Glm(#[from] GlmError),
    /// The unpenalised part of the model (intercept, the linear part of each smooth, factor
    /// dummies) is rank deficient.
    #[error("the GAM's unpenalised part is rank deficient: {}; drop the redundant feature(s) with --ignore COL", .relations.join("; "))]
    Collinear {
        /// One "column = combination" line per redundant column.
        relations: Vec<String>,
    },
    /// Fewer rows than coefficients.
    #[error("{rows} rows cannot fit {params} GAM coefficients ({n_smooth} smooths of up to {n_splines} basis functions); use --n-splines {suggest} or fewer features")]
    TooFewRows {
        /// Rows.
        rows: usize,
        /// Coefficients.
        params: usize,
        /// Number of smooth terms.
        n_smooth: usize,
        /// Basis size asked for.
        n_splines: usize,
        /// A basis size that would fit.
        suggest: usize,
    },
    /// A feature named in --monotone or --interactions that is not in the data, or not numeric.
    #[error("{option}: feature '{feature}' {problem}")]
    BadFeature {
        /// The option (`monotone`, `interactions`).
        option: &'static str,
        /// The feature named.
        feature: String,
        /// What is wrong.
        problem: String,
    },
    /// An invalid parameter.
    #[error("invalid GAM parameter {name} = {value}: {reason}")]
    InvalidParam {
        /// The parameter.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// The rule.
        reason: String,
    },
    /// The penalised system could not be solved (a bug or extreme data).
    #[error("the penalised IRLS system is singular at iteration {iteration}; check for constant or duplicated features, or fix the smoothing with --lam")]
    Singular {
        /// Iteration.
        iteration: usize,
    },
    /// The iteration broke down (non-finite deviance that step halving could not repair).
    #[error("penalised IRLS broke down at iteration {iteration}: the fitted means left the {family} family's range; try another link or check the target for extreme values")]
    Diverged {
        /// Iteration.
        iteration: usize,
        /// Family.
        family: &'static str,
    },
    /// The data given as the training data are not those the model was fitted on.
    #[error("term '{term}': {problem}; pass the exact training data the GAM was fitted on")]
    NotTrainingData {
        /// The term whose reconstruction failed.
        term: String,
        /// What differs.
        problem: String,
    },
    /// The model file predates the stored significance-test inputs.
    #[error("term '{term}': this GAM model file has no significance-test inputs (written before glassbox stored them); retrain it, or pass the training data (--data) so they can be rebuilt")]
    NoInference {
        /// The first term without them.
        term: String,
    },
}
