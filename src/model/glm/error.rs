//! Errors of GLM fitting. They reach users through [`crate::model::ModelError::Glm`].

/// What went wrong while fitting a GLM. Rows are 1-based data rows (the header is not counted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GlmError {
    /// A response value outside the family's support.
    #[error("target '{target}' row {row} is {value}, but the {family} family needs a value that is {need}; {fix}")]
    BadTarget {
        /// Target column name.
        target: String,
        /// The family.
        family: &'static str,
        /// 1-based data row.
        row: usize,
        /// The offending value.
        value: f64,
        /// What the family needs.
        need: &'static str,
        /// The fix.
        fix: &'static str,
    },
    /// The target's kind does not suit the family (for example a multiclass target for binomial).
    #[error("target '{target}' is {found}; the {family} family needs {need}")]
    TargetKind {
        /// Target column name.
        target: String,
        /// The family.
        family: &'static str,
        /// What the target is.
        found: String,
        /// What the family needs.
        need: &'static str,
    },
    /// A link the family does not support.
    #[error("the {family} family does not support the {link} link; use one of: {allowed}")]
    BadLink {
        /// The family.
        family: &'static str,
        /// The requested link.
        link: &'static str,
        /// The links it supports.
        allowed: String,
    },
    /// A design column that is a linear combination of earlier ones.
    #[error("the design matrix is rank deficient: {}; drop the redundant column(s) (--ignore COL) or ask glassbox to drop them (--drop-collinear)", .relations.join("; "))]
    Collinear {
        /// The redundant terms, in design order.
        terms: Vec<String>,
        /// One "term = combination" line per redundant term.
        relations: Vec<String>,
    },
    /// A categorical level that no training row has, so its dummy column is all zeros.
    #[error("feature '{feature}' level '{level}' has no rows in the training data, so its coefficient cannot be estimated; remove the level from the data's schema or add rows that have it")]
    EmptyLevel {
        /// The feature.
        feature: String,
        /// The level.
        level: String,
    },
    /// Not enough rows to estimate the parameters.
    #[error("{rows} rows cannot estimate {params} parameters ({terms}); a GLM needs more rows than coefficients: use fewer features or more data")]
    TooFewRows {
        /// Number of rows.
        rows: usize,
        /// Number of coefficients.
        params: usize,
        /// The first few term names.
        terms: String,
    },
    /// A weight or offset that is not usable.
    #[error("{what} row {row} is {value}; {need}")]
    BadAuxiliary {
        /// `weights` or `offset` (with the column name).
        what: String,
        /// 1-based data row.
        row: usize,
        /// The value.
        value: f64,
        /// What is needed.
        need: &'static str,
    },
    /// A feature kind the GLM cannot use.
    #[error("feature '{feature}' holds raw category codes (an imported model's encoding); a GLM needs named levels: re-read the data with the column declared categorical")]
    CategoryCodes {
        /// The feature.
        feature: String,
    },
    /// Arrays whose lengths disagree (a caller's mistake with the matrix-level API).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// The iteration broke down (non-finite deviance that step halving could not repair).
    #[error("IRLS broke down at iteration {iteration}: {reason}; try another link (log for gamma/poisson/tweedie), check the target for extreme values, or add an L2 penalty (--l2)")]
    Diverged {
        /// The iteration (0 = the starting values).
        iteration: usize,
        /// What happened.
        reason: String,
    },
    /// An invalid parameter.
    #[error("invalid GLM parameter {name} = {value}: {reason}")]
    InvalidParam {
        /// The parameter.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// The rule.
        reason: String,
    },
}
