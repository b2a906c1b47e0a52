//! Generalised linear models: binomial, Gaussian, Poisson, gamma and Tweedie families fitted by
//! IRLS, with a statsmodels-grade coefficient table, optional ridge/lasso/elastic-net penalties,
//! and exact additive explanations.
//!
//! Two entry points:
//! - [`GlmParams::fit_matrix`] fits on a raw design matrix (you supply the intercept column). This
//!   is the level the statsmodels reference cases are checked at.
//! - [`GlmParams::fit`] fits on a [`Dataset`]: it builds the design (intercept, numeric columns,
//!   treatment dummies with the first level as reference, recorded missing-value fills — see
//!   [`design`]) and returns a [`Glm`], which implements [`Model`] and is saved in model files.
//!
//! Why a GLM in an explanation library: it is the model whose explanation is exact and needs no
//! sampling — each feature's contribution to the linear predictor is `Σ coef·(x − mean)` over its
//! design columns — and the baseline a model-risk team compares every black box with.
//!
//! ```
//! use glassbox::data::{Dataset, SchemaOptions};
//! use glassbox::model::glm::{Family, GlmParams};
//! use glassbox::model::Model;
//!
//! let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?;
//! let glm = GlmParams::new(Family::Binomial).fit(&ds, None, None)?;
//! assert!(glm.report().converged);
//! let p = glm.predict(ds.x().view()); // probabilities
//! assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
pub mod design;
mod effects;
mod error;
pub mod family;
mod irls;
mod penalised;
mod report;
pub mod summary;

pub use design::{Design, Imputation, Term, TermSource};
pub use effects::TermEffect;
pub use error::GlmError;
pub use family::{Family, LinkFunction};
pub use summary::{CoefficientRow, CvReport, FitReport, FitWarning, PenaltyReport};

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Zip};
use serde::{Deserialize, Serialize};

use super::{Link, Model};
use crate::data::{Dataset, FeatureSchema, TargetSpec};

/// A penalty on the non-intercept coefficients, on standardised features (glmnet's objective:
/// `(1/W) Σ wᵢ dᵢ/2 + λ Σⱼ (α|βⱼ| + (1−α)/2 βⱼ²)`, intercept unpenalised).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Penalty {
    /// `l1·‖β‖₁ + l2/2·‖β‖²`: ridge when `l1 = 0`, lasso when `l2 = 0`, elastic net otherwise.
    Fixed {
        /// L1 strength (≥ 0).
        l1: f64,
        /// L2 strength (≥ 0).
        l2: f64,
    },
    /// λ chosen by K-fold cross-validation of the deviance along a glmnet-style path.
    CrossValidated {
        /// Mixing α in `[0, 1]`: 1 = lasso, 0 = ridge.
        alpha: f64,
        /// Number of folds K (≥ 2).
        folds: usize,
        /// Number of λ values on the path (default 100).
        n_lambda: usize,
        /// Seed of the fold assignment.
        seed: u64,
    },
}

/// Settings of a GLM fit. Defaults: the family's statsmodels default link, an intercept, at most
/// 100 IRLS iterations, tolerance 1e-8 on the change of the scaled deviance (both statsmodels'
/// defaults), no penalty, collinear columns are an error.
#[derive(Clone, Debug)]
pub struct GlmParams {
    family: Family,
    link: Option<LinkFunction>,
    intercept: bool,
    max_iter: usize,
    tol: f64,
    penalty: Option<Penalty>,
    drop_collinear: bool,
    weights_column: Option<String>,
    offset_column: Option<String>,
}

/// The result of [`GlmParams::fit_matrix`].
#[derive(Clone, Debug)]
pub struct GlmFit {
    /// Coefficients of the kept columns, in column order.
    pub coefficients: Vec<f64>,
    /// Which input columns were kept (false: dropped as collinear on request).
    pub kept: Vec<bool>,
    /// The coefficient table and statistics.
    pub report: FitReport,
    /// Fitted means μ, one per row.
    pub fitted: Vec<f64>,
}

impl GlmParams {
    /// Parameters for a family, with the defaults listed on [`GlmParams`].
    pub fn new(family: Family) -> Self {
        GlmParams {
            family,
            link: None,
            intercept: true,
            max_iter: 100,
            tol: 1e-8,
            penalty: None,
            drop_collinear: false,
            weights_column: None,
            offset_column: None,
        }
    }

    /// The link (default: the family's, see [`Family::default_link`]).
    pub fn link(mut self, link: LinkFunction) -> Self {
        self.link = Some(link);
        self
    }

    /// Whether [`GlmParams::fit`] adds an intercept (default true).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// Maximum IRLS iterations (default 100).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Convergence tolerance on |Δ scaled deviance| (default 1e-8).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// A penalty (default none).
    pub fn penalty(mut self, penalty: Penalty) -> Self {
        self.penalty = Some(penalty);
        self
    }

    /// Drop collinear columns (reported as warnings) instead of failing (default false).
    pub fn drop_collinear(mut self, yes: bool) -> Self {
        self.drop_collinear = yes;
        self
    }

    /// Records the names of the weights and offset columns in the report.
    pub fn auxiliary_columns(mut self, weights: Option<String>, offset: Option<String>) -> Self {
        self.weights_column = weights;
        self.offset_column = offset;
        self
    }

    /// The link in effect.
    pub fn link_in_effect(&self) -> LinkFunction {
        self.link.unwrap_or(self.family.default_link())
    }

    fn check(&self) -> Result<LinkFunction, GlmError> {
        let link = self.link_in_effect();
        if !self.family.allowed_links().contains(&link) {
            return Err(GlmError::BadLink {
                family: self.family.name(),
                link: link.name(),
                allowed: self
                    .family
                    .allowed_links()
                    .iter()
                    .map(|l| l.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if let Family::Tweedie { var_power } = self.family {
            if !(var_power.is_finite() && var_power >= 1.0) {
                return Err(GlmError::InvalidParam {
                    name: "var_power",
                    value: var_power.to_string(),
                    reason: "the Tweedie variance power must be ≥ 1 (1 = Poisson, 1–2 = compound Poisson–gamma, 2 = gamma)".into(),
                });
            }
        }
        if self.max_iter == 0 {
            return Err(GlmError::InvalidParam {
                name: "max_iter",
                value: "0".into(),
                reason: "at least 1 iteration".into(),
            });
        }
        if !(self.tol > 0.0) {
            return Err(GlmError::InvalidParam {
                name: "tol",
                value: self.tol.to_string(),
                reason: "must be positive".into(),
            });
        }
        match self.penalty {
            Some(Penalty::Fixed { l1, l2 }) => {
                for (name, v) in [("l1", l1), ("l2", l2)] {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(GlmError::InvalidParam {
                            name,
                            value: v.to_string(),
                            reason: "must be finite and ≥ 0".into(),
                        });
                    }
                }
            }
            Some(Penalty::CrossValidated {
                alpha, n_lambda, ..
            }) => {
                if !(0.0..=1.0).contains(&alpha) {
                    return Err(GlmError::InvalidParam {
                        name: "alpha",
                        value: alpha.to_string(),
                        reason: "the mixing α must be in [0, 1]".into(),
                    });
                }
                if n_lambda < 2 {
                    return Err(GlmError::InvalidParam {
                        name: "n_lambda",
                        value: n_lambda.to_string(),
                        reason: "a path needs at least 2 values".into(),
                    });
                }
            }
            None => {}
        }
        Ok(link)
    }

    /// Fits on a design matrix `x` (rows × terms, including an intercept column of ones if you
    /// want one) and response `y`, with optional prior weights and offset.
    ///
    /// `names` labels the columns; `target` labels the response in messages. Prior weights are
    /// *variance* weights, as R's `glm(weights=)` and statsmodels' `var_weights`: row i has
    /// variance φ·V(μᵢ)/wᵢ, and `n` in df_resid counts rows, not weight.
    ///
    /// # Errors
    /// [`GlmError`] for a response outside the family's support (naming the row), bad weights or
    /// offsets, fewer rows than columns, collinear columns (naming them and their relation, unless
    /// dropping was requested), an unsupported link, or a breakdown of the iteration.
    /// Non-convergence and separation are *not* errors: they are [`FitWarning`]s in the report.
    pub fn fit_matrix(
        &self,
        x: ArrayView2<f64>,
        y: ArrayView1<f64>,
        weights: Option<ArrayView1<f64>>,
        offset: Option<ArrayView1<f64>>,
        names: &[String],
        target: &str,
    ) -> Result<GlmFit, GlmError> {
        let link = self.check()?;
        let (n, p) = x.dim();
        if y.len() != n || names.len() != p {
            return Err(GlmError::Shape(format!(
                "x is {n}×{p}, y has {} values and there are {} names",
                y.len(),
                names.len()
            )));
        }
        if weights.is_some_and(|w| w.len() != n) || offset.is_some_and(|o| o.len() != n) {
            return Err(GlmError::Shape(
                "weights/offset length differs from rows".into(),
            ));
        }
        if let Some((i, j)) = x
            .indexed_iter()
            .find(|(_, v)| !v.is_finite())
            .map(|(ij, _)| ij)
        {
            return Err(GlmError::Shape(format!(
                "design value at row {} column '{}' is not finite",
                i + 1,
                names[j]
            )));
        }
        check::check_response(self.family, y, target)?;
        check::check_auxiliary(weights, offset)?;
        check::check_rows(n, names)?;
        let redundant = check::find_collinear(x, names);
        let mut warnings = Vec::new();
        let mut kept = vec![true; p];
        if !redundant.is_empty() {
            if !self.drop_collinear {
                return Err(GlmError::Collinear {
                    terms: redundant.iter().map(|r| names[r.column].clone()).collect(),
                    relations: redundant.iter().map(|r| r.relation.clone()).collect(),
                });
            }
            for r in &redundant {
                kept[r.column] = false;
                warnings.push(FitWarning::DroppedCollinear {
                    relation: r.relation.clone(),
                });
            }
        }
        let cols: Vec<usize> = (0..p).filter(|&j| kept[j]).collect();
        let xk = x.select(Axis(1), &cols);
        let names_k: Vec<String> = cols.iter().map(|&j| names[j].clone()).collect();
        let w: Vec<f64> = weights.map_or_else(|| vec![1.0; n], |w| w.to_vec());
        let off: Vec<f64> = offset.map_or_else(|| vec![0.0; n], |o| o.to_vec());
        let intercept = (0..cols.len()).find(|&j| xk.column(j).iter().all(|&v| v == 1.0));
        let y = y.view();
        let settings = irls::IrlsSettings {
            max_iter: self.max_iter,
            tol: self.tol,
        };
        let ctx = report::Ctx {
            family: self.family,
            link,
            x: xk.view(),
            y,
            w: &w,
            offset: &off,
            names: &names_k,
            target,
            settings,
        };
        let (coef, mu, report) = match self.penalty {
            None => report::unpenalised(&ctx, warnings)?,
            Some(pen) => {
                let pb = penalised::Problem {
                    family: self.family,
                    link,
                    x: xk.view(),
                    y,
                    w: &w,
                    offset: &off,
                    intercept,
                    max_iter: self.max_iter,
                };
                let (fit, lambda, alpha, cv) = match pen {
                    Penalty::Fixed { l1, l2 } => {
                        let lambda = l1 + l2;
                        let alpha = if lambda > 0.0 { l1 / lambda } else { 1.0 };
                        (
                            penalised::fit_fixed(&pb, lambda, alpha)?,
                            lambda,
                            alpha,
                            None,
                        )
                    }
                    Penalty::CrossValidated {
                        alpha,
                        folds,
                        n_lambda,
                        seed,
                    } => {
                        let (fit, lambda, cv) =
                            penalised::fit_cv(&pb, alpha, folds, n_lambda, seed)?;
                        (fit, lambda, alpha, Some(cv))
                    }
                };
                report::penalised(&ctx, warnings, fit, lambda, alpha, cv)?
            }
        };
        let mut report = report;
        report.weights_column = self.weights_column.clone();
        report.offset_column = self.offset_column.clone();
        Ok(GlmFit {
            coefficients: coef,
            kept,
            report,
            fitted: mu,
        })
    }

    /// Fits on a dataset: builds the design from the schema (see [`design`]), then
    /// [`GlmParams::fit_matrix`]. `weights` and `offset` are per-row values (for example read
    /// from columns left out of the features).
    ///
    /// # Errors
    /// As [`GlmParams::fit_matrix`], plus a dataset without a target, a target kind the family
    /// cannot model (a multiclass target; a two-class target for a non-binomial family), a
    /// categorical level with no rows, or raw category codes.
    pub fn fit(
        &self,
        ds: &Dataset,
        weights: Option<ArrayView1<f64>>,
        offset: Option<ArrayView1<f64>>,
    ) -> Result<Glm, GlmError> {
        let target = ds.target().cloned().ok_or_else(|| GlmError::TargetKind {
            target: "?".into(),
            family: self.family.name(),
            found: "absent (the data have no target column)".into(),
            need: "a target column",
        })?;
        let y = ds.y().ok_or_else(|| GlmError::TargetKind {
            target: target.name.clone(),
            family: self.family.name(),
            found: "absent from the data".into(),
            need: "a target column",
        })?;
        check::check_target_kind(&target, self.family)?;
        let mut design = Design::from_training(ds.schema(), ds.x().view(), self.intercept)?;
        let xd = design.matrix(ds.x().view());
        let names = design.term_names();
        let mut fit =
            self.fit_matrix(xd.view(), y.view(), weights, offset, &names, &target.name)?;
        design.retain(&fit.kept);
        let cols: Vec<usize> = (0..fit.kept.len()).filter(|&j| fit.kept[j]).collect();
        let column_means: Vec<f64> = cols
            .iter()
            .map(|&j| xd.column(j).mean().unwrap_or(0.0))
            .collect();
        for imp in design.imputations().iter().filter(|i| i.count > 0) {
            fit.report.warnings.push(FitWarning::Imputed {
                feature: imp.feature.clone(),
                count: imp.count,
                fill: imp.display.clone(),
            });
        }
        Ok(Glm {
            schema: ds.schema().clone(),
            target,
            output_names: vec![ds.target().map(|t| t.name.clone()).unwrap_or_default()],
            design,
            coefficients: fit.coefficients,
            column_means,
            report: fit.report,
        })
    }
}

/// A fitted GLM on a feature schema: predicts, explains exactly, and carries its fit report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Glm {
    schema: FeatureSchema,
    target: TargetSpec,
    output_names: Vec<String>,
    design: Design,
    coefficients: Vec<f64>,
    /// Mean of each design column over the training rows (after filling missing values): the
    /// reference point of additive explanations.
    column_means: Vec<f64>,
    report: FitReport,
}

impl Glm {
    /// The design (terms, missing-value fills).
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// Coefficients, one per design term.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// Training means of the design columns.
    pub fn column_means(&self) -> &[f64] {
        &self.column_means
    }

    /// The fit report (coefficient table, statistics, warnings).
    pub fn report(&self) -> &FitReport {
        &self.report
    }

    /// The target.
    pub fn target(&self) -> &TargetSpec {
        &self.target
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.report.family
    }

    /// The link function.
    pub fn link_function(&self) -> LinkFunction {
        self.report.link
    }

    /// The linear predictor at the training mean design row: the base value of additive
    /// explanations (equal to the mean linear predictor over the training rows).
    pub fn base_value(&self) -> f64 {
        self.coefficients
            .iter()
            .zip(&self.column_means)
            .map(|(b, m)| b * m)
            .sum()
    }

    /// The design matrix of encoded rows (missing values filled as in training).
    pub fn design_matrix(&self, x: ArrayView2<f64>) -> Array2<f64> {
        self.design.matrix(x)
    }

    /// Checks internal consistency (for model files).
    pub(crate) fn validate(&self) -> Result<(), String> {
        let t = self.design.terms().len();
        if self.coefficients.len() != t
            || self.column_means.len() != t
            || self.report.coefficients.len() != t
        {
            return Err(format!(
                "GLM has {t} terms but {} coefficients, {} column means and {} table rows",
                self.coefficients.len(),
                self.column_means.len(),
                self.report.coefficients.len()
            ));
        }
        if self.output_names.len() != 1 {
            return Err("a GLM has exactly one output".into());
        }
        if let Some(cov) = &self.report.covariance {
            if cov.len() != t || cov.iter().any(|r| r.len() != t) {
                return Err(format!(
                    "GLM has {t} terms but its coefficient covariance is not {t} × {t}"
                ));
            }
        }
        self.design.validate(&self.schema)
    }
}

impl Model for Glm {
    fn schema(&self) -> &FeatureSchema {
        &self.schema
    }

    fn output_names(&self) -> &[String] {
        &self.output_names
    }

    fn link(&self) -> Link {
        self.report.link.model_link()
    }

    /// The linear predictor η = Xβ, **without** any training offset (so for a model with a
    /// log-exposure offset the prediction is the rate per unit exposure).
    fn predict_raw_into(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        assert_eq!(x.ncols(), self.schema.len(), "feature count");
        assert_eq!(out.dim(), (x.nrows(), 1), "output shape");
        let design = &self.design;
        let coef = &self.coefficients;
        Zip::from(out.axis_iter_mut(Axis(0)))
            .and(x.axis_iter(Axis(0)))
            .par_for_each(|mut o, row| o[0] = design.dot(row, coef));
    }
}
