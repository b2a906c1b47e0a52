//! The fit report: a statsmodels-style coefficient table and goodness-of-fit statistics.
//!
//! Definitions follow statsmodels 0.15 `GLMResults` so the numbers can be compared one to one:
//! - standard errors `√(scale · diag((XᵀWX)⁻¹))`, Wald `z = coef / se`, two-sided normal p-values and
//!   95% intervals `coef ± Φ⁻¹(0.975)·se` for **every** family (statsmodels uses z, not t, even for
//!   the Gaussian with estimated scale);
//! - `scale` = 1 for binomial and Poisson, Pearson χ² / df_resid otherwise;
//! - `log_likelihood` at that scale, except the Gaussian with identity link, whose log-likelihood
//!   is the profile one at σ² = RSS / n;
//! - `aic = −2 llf + 2 (df_model + 1)`, `bic = −2 llf + (df_model + 1) log n` (the
//!   log-likelihood BIC, statsmodels' `bic_llf`), `df_model = rank − 1` and
//!   `df_resid = n − rank`;
//! - `null_deviance` from the intercept-only model (with the offset when there is one).
//!
//! Penalised fits get no standard errors, z, p-values or intervals: after shrinkage and selection
//! the Wald statistics are not valid for inference, and printing them invites misuse. Their AIC and
//! BIC are left out too (the degrees of freedom of a penalised fit are not `rank − 1`).

use std::fmt;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::family::{Family, LinkFunction};

/// One row of the coefficient table. Inference columns are `None` for penalised fits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoefficientRow {
    /// Term name (`intercept`, a numeric feature, or `<feature>=<level>`).
    pub term: String,
    /// The estimate.
    pub coef: f64,
    /// Standard error.
    pub std_err: Option<f64>,
    /// Wald statistic coef / std_err.
    pub z: Option<f64>,
    /// Two-sided p-value under the standard normal.
    pub p_value: Option<f64>,
    /// Lower end of the 95% Wald interval.
    pub ci_low: Option<f64>,
    /// Upper end of the 95% Wald interval.
    pub ci_high: Option<f64>,
}

impl CoefficientRow {
    /// A row with Wald inference from a standard error.
    pub fn with_inference(term: String, coef: f64, std_err: f64) -> CoefficientRow {
        let normal = Normal::standard();
        let z = coef / std_err;
        let q = normal.inverse_cdf(0.975);
        CoefficientRow {
            term,
            coef,
            std_err: Some(std_err),
            z: Some(z),
            p_value: Some(2.0 * normal.sf(z.abs())),
            ci_low: Some(coef - q * std_err),
            ci_high: Some(coef + q * std_err),
        }
    }

    /// A row without inference (penalised fits).
    pub fn estimate_only(term: String, coef: f64) -> CoefficientRow {
        CoefficientRow {
            term,
            coef,
            std_err: None,
            z: None,
            p_value: None,
            ci_low: None,
            ci_high: None,
        }
    }
}

/// Something a reader of the fit must know: the fit stands, but with a caveat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FitWarning {
    /// IRLS stopped at the iteration limit.
    NotConverged {
        /// Iterations run.
        iterations: usize,
        /// |Δ deviance| of the last iteration, when known.
        last_change: Option<f64>,
    },
    /// Fitted probabilities of 0 or 1: (quasi-)complete separation. The maximum-likelihood
    /// estimate does not exist; the named coefficients grow without bound.
    Separation {
        /// Rows whose fitted probability is within 1e-8 of 0 or 1.
        rows: usize,
        /// Terms still moving at the last iteration (the diverging ones).
        terms: Vec<String>,
    },
    /// A collinear design column was dropped on request.
    DroppedCollinear {
        /// The dropped term and its expression in the others.
        relation: String,
    },
    /// Missing feature values were filled with the recorded training fill.
    Imputed {
        /// The feature.
        feature: String,
        /// How many values.
        count: usize,
        /// The fill, for people.
        fill: String,
    },
    /// Coefficients are penalised: no standard errors or p-values are reported.
    Penalised,
}

impl fmt::Display for FitWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitWarning::NotConverged { iterations, last_change } => write!(
                f,
                "IRLS did not converge in {iterations} iterations{}; the estimates are not the maximum-likelihood ones: raise --max-iter, rescale features, or add an L2 penalty",
                last_change.map(|c| format!(" (last deviance change {c:.3e})")).unwrap_or_default()
            ),
            FitWarning::Separation { rows, terms } => write!(
                f,
                "perfect or quasi-perfect separation: {rows} rows have fitted probability 0 or 1, so the maximum-likelihood estimate does not exist{}; their coefficients and standard errors are meaningless: remove or merge the separating feature/levels, or add an L2 penalty (--l2)",
                if terms.is_empty() { String::new() } else { format!(" (diverging: {})", terms.join(", ")) }
            ),
            FitWarning::DroppedCollinear { relation } => {
                write!(f, "dropped collinear column: {relation}")
            }
            FitWarning::Imputed { feature, count, fill } => write!(
                f,
                "{count} missing values of '{feature}' filled with {fill} (the same fill is applied at prediction)"
            ),
            FitWarning::Penalised => write!(
                f,
                "penalised fit: coefficients are shrunk, so standard errors, z, p-values and confidence intervals are not valid for inference and are not reported"
            ),
        }
    }
}

/// How a penalised fit was penalised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PenaltyReport {
    /// Overall strength λ of `λ·(α‖β‖₁ + (1−α)/2‖β‖²)` on standardised features.
    pub lambda: f64,
    /// Mixing α: 1 = lasso, 0 = ridge.
    pub alpha: f64,
    /// Cross-validation that chose λ, when it did.
    pub cv: Option<CvReport>,
}

/// The cross-validation curve that chose λ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// Number of folds.
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// The λ path, decreasing.
    pub lambdas: Vec<f64>,
    /// Mean held-out deviance per observation weight, per λ.
    pub mean_deviance: Vec<f64>,
    /// Its standard error over folds, per λ.
    pub std_error: Vec<f64>,
    /// λ with the smallest mean deviance (the one used).
    pub lambda_min: f64,
    /// Largest λ within one standard error of the minimum.
    pub lambda_1se: f64,
}

/// Everything `glassbox summary` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// The family.
    pub family: Family,
    /// The link.
    pub link: LinkFunction,
    /// Target name.
    pub target: String,
    /// Number of observations.
    pub n_obs: usize,
    /// rank − 1 (penalised: non-zero coefficients − 1).
    pub df_model: usize,
    /// n − rank.
    pub df_resid: usize,
    /// Σ wᵢ d(yᵢ, μᵢ).
    pub deviance: f64,
    /// Deviance of the intercept-only model.
    pub null_deviance: f64,
    /// Log-likelihood (see the module docs); `None` where the family has none.
    pub log_likelihood: Option<f64>,
    /// Akaike information criterion; `None` for penalised fits.
    pub aic: Option<f64>,
    /// Bayesian information criterion (log-likelihood based); `None` for penalised fits.
    pub bic: Option<f64>,
    /// Dispersion: 1, or Pearson χ² / df_resid.
    pub scale: f64,
    /// Σ wᵢ (yᵢ − μᵢ)² / V(μᵢ).
    pub pearson_chi2: f64,
    /// IRLS iterations.
    pub iterations: usize,
    /// Whether IRLS met its tolerance.
    pub converged: bool,
    /// The coefficient table, in design order.
    pub coefficients: Vec<CoefficientRow>,
    /// Caveats (non-convergence, separation, dropped columns, imputation, penalisation).
    pub warnings: Vec<FitWarning>,
    /// The penalty, for penalised fits.
    pub penalty: Option<PenaltyReport>,
    /// Prior-weights column, when the fit was weighted.
    pub weights_column: Option<String>,
    /// Offset column, when the fit had one.
    pub offset_column: Option<String>,
    /// Covariance of the coefficients (scale × (XᵀWX)⁻¹, statsmodels' `cov_params()`), design
    /// order, row by row: what confidence bands of shape functions need beyond the standard
    /// errors (categorical terms combine several coefficients). `None` for penalised fits, which
    /// report no inference, and for model files written before it was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covariance: Option<Vec<Vec<f64>>>,
}

fn fmt_opt(v: Option<f64>, width: usize, prec: usize) -> String {
    match v {
        Some(v) => format!("{v:>width$.prec$}"),
        None => format!("{:>width$}", "-"),
    }
}

impl fmt::Display for FitReport {
    /// A statsmodels-like summary table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tw = self
            .coefficients
            .iter()
            .map(|c| c.term.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 40);
        let width = (tw + 71).max(86);
        let rule = "=".repeat(width);
        let thin = "-".repeat(width);
        writeln!(
            f,
            "{:^width$}",
            "Generalized Linear Model Regression Results"
        )?;
        writeln!(f, "{rule}")?;
        let method = if self.penalty.is_some() {
            "penalised IRLS"
        } else {
            "IRLS"
        };
        let left: Vec<(&str, String)> = vec![
            ("Dep. Variable:", self.target.clone()),
            ("Model Family:", self.family_label()),
            ("Link Function:", self.link.name().to_string()),
            ("Method:", method.to_string()),
            ("No. Iterations:", self.iterations.to_string()),
            (
                "Converged:",
                if self.converged { "yes" } else { "NO" }.to_string(),
            ),
            ("Deviance:", format!("{:.6}", self.deviance)),
            ("Null deviance:", format!("{:.6}", self.null_deviance)),
        ];
        let right: Vec<(&str, String)> = vec![
            ("No. Observations:", self.n_obs.to_string()),
            ("Df Residuals:", self.df_resid.to_string()),
            ("Df Model:", self.df_model.to_string()),
            ("Scale:", format!("{:.6}", self.scale)),
            ("Log-Likelihood:", fmt_opt(self.log_likelihood, 0, 4)),
            ("AIC:", fmt_opt(self.aic, 0, 4)),
            ("BIC:", fmt_opt(self.bic, 0, 4)),
            ("Pearson chi2:", format!("{:.6}", self.pearson_chi2)),
        ];
        for ((lk, lv), (rk, rv)) in left.iter().zip(&right) {
            writeln!(f, "{lk:<16}{lv:>26}   {rk:<18}{rv:>23}")?;
        }
        if let Some(p) = &self.penalty {
            writeln!(
                f,
                "Penalty: lambda = {:.6e}, alpha = {} (on standardised features{})",
                p.lambda,
                p.alpha,
                match &p.cv {
                    Some(cv) => format!(
                        "; chosen by {}-fold CV, seed {}; lambda_1se = {:.6e}",
                        cv.folds, cv.seed, cv.lambda_1se
                    ),
                    None => String::new(),
                }
            )?;
        }
        writeln!(f, "{rule}")?;
        writeln!(
            f,
            "{:<tw$} {:>12} {:>11} {:>9} {:>9} {:>12} {:>12}",
            "", "coef", "std err", "z", "P>|z|", "[0.025", "0.975]"
        )?;
        writeln!(f, "{thin}")?;
        for c in &self.coefficients {
            let term: String = c.term.chars().take(40).collect();
            writeln!(
                f,
                "{term:<tw$} {:>12.6} {} {} {} {} {}",
                c.coef,
                fmt_opt(c.std_err, 11, 5),
                fmt_opt(c.z, 9, 3),
                fmt_opt(c.p_value, 9, 4),
                fmt_opt(c.ci_low, 12, 5),
                fmt_opt(c.ci_high, 12, 5),
            )?;
        }
        writeln!(f, "{rule}")?;
        for w in &self.warnings {
            writeln!(f, "Warning: {w}")?;
        }
        Ok(())
    }
}

impl FitReport {
    fn family_label(&self) -> String {
        match self.family {
            Family::Tweedie { var_power } => format!("tweedie (p = {var_power})"),
            other => other.name().to_string(),
        }
    }

    /// The coefficient table as CSV text: `term,coef,std_err,z,p_value,ci_low,ci_high`, empty
    /// fields where a value is not reported.
    pub fn coefficients_csv(&self) -> String {
        let mut s = String::from("term,coef,std_err,z,p_value,ci_low,ci_high\n");
        let num = |v: Option<f64>| v.map(crate::output::csv_number).unwrap_or_default();
        for c in &self.coefficients {
            s.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                crate::output::csv_field(&c.term),
                crate::output::csv_number(c.coef),
                num(c.std_err),
                num(c.z),
                num(c.p_value),
                num(c.ci_low),
                num(c.ci_high)
            ));
        }
        s
    }
}
