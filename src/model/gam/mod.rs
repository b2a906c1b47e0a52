//! Generalised additive models: a penalised cubic B-spline smooth per numeric feature (P-splines),
//! a factor term per categorical feature, optional tensor-product interactions of named pairs and
//! optional monotone constraints, fitted by penalised IRLS with smoothing parameters chosen per
//! penalty by the generalised Fellner–Schall (REML) update.
//!
//! Why a GAM: it is the most flexible model whose explanation is still exact. η(x) = β₀ + Σ fⱼ(xⱼ)
//! (+ Σ f_jk(xⱼ, x_k)), so each feature's contribution is its term's value minus the term's
//! training mean, with no sampling ([`crate::explain::additive`]).
//!
//! Key decisions (details in the submodules):
//! - Basis: P-splines (Eilers & Marx 1996), equally spaced knots over the training range, values
//!   outside it clamped; sum-to-zero constraint absorbed by a Householder reparametrisation as in
//!   mgcv ([`basis`]). Knots at quantiles of the training values are an option
//!   ([`GamParams::knots`]).
//! - Smoothing: the generalised Fellner–Schall update of Wood & Fasiolo (2017, Biometrics
//!   73:1071–1081), which maximises the Laplace-approximate REML by a fixed-point step per
//!   smoothing parameter and needs no derivatives of the criterion. Newton on log λ (mgcv's
//!   default) converges in fewer steps but needs third derivatives of the likelihood; GCV grid
//!   search (pyGAM) costs a full fit per grid point and grows exponentially with the number of
//!   terms when each term gets its own λ.
//! - Monotone constraints: the asymmetric difference penalty of Bollaerts, Eilers & van Mechelen
//!   (2006, "Simple and multiple P-splines regression with shape constraints", BJMSP 59:451–469):
//!   a heavy penalty on first differences of the wrong sign, re-weighted until the set of
//!   violations stops changing. Increasing coefficients make a monotone spline, so the fitted curve
//!   is monotone up to the residual violation, which the fit report states.
//! - Interactions: mgcv's `ti()` construction, the tensor product of the two centred marginal
//!   bases, so the interaction carries no main effect and each marginal mean over the training rows
//!   is zero.
//! - Missing values: filled as the GLM fills them (training mean / most frequent level, recorded
//!   in the model; [`crate::model::glm::design`]); a numeric feature missing in some training rows
//!   also gets a missing-value term ([`TermKind::Missing`]), one coefficient for "missing", since
//!   missingness often carries signal that a mean fill hides (credit_scoring's `Income`).
//! - Factors with three or more levels get a REML-chosen ridge on their level coefficients (a
//!   random effect, mgcv's `bs = "re"`), so rare levels are shrunk; two-level factors and the
//!   missing-value terms keep the small fixed ridge.
//!
//! ```
//! use glassbox::data::{Dataset, SchemaOptions};
//! use glassbox::model::gam::GamParams;
//! use glassbox::model::glm::Family;
//! use glassbox::model::Model;
//!
//! let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?;
//! let gam = GamParams::new(Family::Binomial).n_splines(8).fit(&ds)?;
//! let p = gam.predict(ds.x().view());
//! assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod basis;
mod error;
mod fit;
mod irls;
mod screen;
mod shape;
pub mod significance;

pub use basis::{BSpline, Knots};
pub use error::GamError;
pub use fit::PenalisedSystem;
pub use screen::{rank_pairs, PairGain, SCREEN_BINS};
pub use shape::ShapeCurve;
pub use significance::{Significance, TermInference, TermTest, TestKind};

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Axis, Zip};
use serde::{Deserialize, Serialize};

use super::glm::{Design, Family, LinkFunction};
use super::{Link, Model};
use crate::data::{Dataset, FeatureSchema, TargetSpec};

/// How smoothing parameters are set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Smoothing {
    /// Chosen per penalty by REML (generalised Fellner–Schall iteration).
    Auto,
    /// One fixed λ for every penalty (on the unscaled second-difference penalty, as pyGAM's `lam`).
    Fixed(f64),
}

/// Basis size per numeric feature when none is given.
pub const DEFAULT_SPLINES: usize = 20;

/// Settings of a GAM fit. Defaults: the family's default link; 20 cubic B-splines per numeric
/// feature (pyGAM's default `n_splines`), reduced (with a warning in the report) so that the model
/// has at most half as many coefficients as rows; 6 per margin of an interaction (mgcv's `ti` default
/// 5 + the constraint); automatic smoothing; at most 200 iterations; no monotone constraints; no
/// interactions; equally spaced knots.
#[derive(Clone, Debug)]
pub struct GamParams {
    family: Family,
    link: Option<LinkFunction>,
    n_splines: Option<usize>,
    knots: Knots,
    tensor_splines: usize,
    smoothing: Smoothing,
    monotone: Vec<(String, i8)>,
    interactions: Vec<(String, String)>,
    screen: usize,
    max_iter: usize,
}

impl GamParams {
    /// Parameters for a family, with the defaults listed on [`GamParams`].
    pub fn new(family: Family) -> Self {
        GamParams {
            family,
            link: None,
            n_splines: None,
            knots: Knots::Uniform,
            tensor_splines: 6,
            smoothing: Smoothing::Auto,
            monotone: Vec::new(),
            interactions: Vec::new(),
            screen: 0,
            max_iter: 200,
        }
    }

    /// The link (default: the family's).
    pub fn link(mut self, link: LinkFunction) -> Self {
        self.link = Some(link);
        self
    }

    /// Basis functions per numeric feature (≥ 4). Default 20, reduced for small data (see
    /// [`GamParams`]); a size given here is kept, and too few rows for it is an error.
    pub fn n_splines(mut self, k: usize) -> Self {
        self.n_splines = Some(k);
        self
    }

    /// Knot placement of every smooth and interaction margin (default [`Knots::Uniform`], the
    /// P-spline choice). [`Knots::Quantile`] puts them at quantiles of the training values, so the
    /// penalty shrinks towards a line on the quantile scale (see [`basis`]); tied quantiles are
    /// merged, and a basis made smaller that way is reported as
    /// [`GamWarning::ReducedBasis`].
    ///
    /// Not the default because it does not help everywhere: mean held-out accuracy over split
    /// seeds 0–4 (`bench/peers/gam_splits.py`) moved german_credit AUC 0.7861 → 0.7884,
    /// credit_scoring 0.8395 → 0.8439, breast_cancer_wisconsin 0.9879 → 0.9869 and
    /// diabetes_progression RMSE 54.95 → 55.08. Try it for skewed numeric features.
    pub fn knots(mut self, knots: Knots) -> Self {
        self.knots = knots;
        self
    }

    /// Basis functions per margin of an interaction (≥ 4; default 6).
    pub fn tensor_splines(mut self, k: usize) -> Self {
        self.tensor_splines = k;
        self
    }

    /// Smoothing (default automatic).
    pub fn smoothing(mut self, s: Smoothing) -> Self {
        self.smoothing = s;
        self
    }

    /// Monotone constraints: (numeric feature, +1 increasing or −1 decreasing).
    pub fn monotone(mut self, m: Vec<(String, i8)>) -> Self {
        self.monotone = m;
        self
    }

    /// Tensor-product interaction terms for these pairs of numeric features.
    pub fn interactions(mut self, pairs: Vec<(String, String)>) -> Self {
        self.interactions = pairs;
        self
    }

    /// Adds tensor-product terms for the `k` pairs of numeric features that interaction screening
    /// ranks highest (default 0: none), besides those named by [`GamParams::interactions`]. The
    /// main-effects model (with the named pairs) is fitted first; every other pair of numeric
    /// features with ≥ 4 distinct values is ranked by the FAST gain on its working residuals
    /// ([`rank_pairs`]); the top `k` with a positive gain are added and the model refitted. The
    /// chosen pairs and their gains are in [`GamReport::screened`].
    pub fn screen_interactions(mut self, k: usize) -> Self {
        self.screen = k;
        self
    }

    /// Most penalised IRLS iterations (default 200).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    fn check(&self) -> Result<LinkFunction, GamError> {
        let link = self.link.unwrap_or(self.family.default_link());
        if !self.family.allowed_links().contains(&link) {
            return Err(GamError::InvalidParam {
                name: "link",
                value: link.name().into(),
                reason: format!("the {} family does not support it", self.family.name()),
            });
        }
        for (name, k) in [
            ("n_splines", self.n_splines.unwrap_or(DEFAULT_SPLINES)),
            ("tensor_splines", self.tensor_splines),
        ] {
            if !(4..=200).contains(&k) {
                return Err(GamError::InvalidParam {
                    name,
                    value: k.to_string(),
                    reason: "a cubic basis needs 4 to 200 functions".into(),
                });
            }
        }
        if let Smoothing::Fixed(l) = self.smoothing {
            if !(l.is_finite() && l >= 0.0) {
                return Err(GamError::InvalidParam {
                    name: "lam",
                    value: l.to_string(),
                    reason: "must be finite and ≥ 0".into(),
                });
            }
        }
        if self.max_iter == 0 {
            return Err(GamError::InvalidParam {
                name: "max_iter",
                value: "0".into(),
                reason: "at least 1 iteration".into(),
            });
        }
        for (f, s) in &self.monotone {
            if *s != 1 && *s != -1 {
                return Err(GamError::InvalidParam {
                    name: "monotone",
                    value: format!("{f}:{s}"),
                    reason: "the direction is +1 (increasing) or -1 (decreasing)".into(),
                });
            }
        }
        Ok(link)
    }

    /// Fits on a dataset.
    ///
    /// # Errors
    /// [`GamError`] for a target the family cannot model (non-binary for binomial, non-positive
    /// for gamma, negative for Poisson), an empty categorical level, collinear features, too few
    /// rows for the basis, unknown or non-numeric features in the monotone/interaction lists.
    /// Non-convergence is not an error: it is a warning in the [`GamReport`].
    pub fn fit(&self, ds: &Dataset) -> Result<Gam, GamError> {
        let link = self.check()?;
        if self.screen == 0 {
            return fit::fit(self, link, ds).map(|g| with_inference(g, ds));
        }
        let main = fit::fit(self, link, ds)?;
        let named: Vec<[usize; 2]> = main
            .terms
            .iter()
            .filter_map(|t| match &t.kind {
                TermKind::Tensor { features, .. } => Some(*features),
                _ => None,
            })
            .collect();
        // Coefficient budget: as for the default basis size, at most half as many coefficients
        // as rows, so screening never turns a fitting model into one with too few rows.
        let mut used = 1 + main
            .terms
            .iter()
            .map(|t| match &t.kind {
                TermKind::Smooth { basis, .. } => basis.k - 1,
                TermKind::Linear { .. } | TermKind::Missing { .. } => 1,
                TermKind::Factor { .. } => t.coef.len().saturating_sub(1),
                TermKind::Tensor { bases, .. } => (bases[0].k - 1) * (bases[1].k - 1),
            })
            .sum::<usize>();
        let budget = ds.n_rows() / 2;
        let mut chosen: Vec<PairGain> = Vec::new();
        for p in screen::screen(&main, ds, &named)
            .into_iter()
            .filter(|p| p.gain > 0.0)
            .take(self.screen)
        {
            let width: usize = p
                .features
                .iter()
                .map(|&f| screen::distinct_values(ds, &main, f).min(self.tensor_splines) - 1)
                .product();
            if used + width > budget {
                break;
            }
            used += width;
            chosen.push(p);
        }
        let names = |p: &PairGain| {
            let f = ds.schema().features();
            (f[p.features[0]].name.clone(), f[p.features[1]].name.clone())
        };
        let mut full = self.clone();
        full.screen = 0;
        full.interactions.extend(chosen.iter().map(names));
        let mut gam = fit::fit(&full, link, ds)?;
        if chosen.len() < self.screen {
            gam.report.warnings.push(GamWarning::ScreeningCapped {
                asked: self.screen,
                added: chosen.len(),
            });
        }
        gam.report.screened = chosen
            .iter()
            .map(|p| {
                let (a, b) = names(p);
                ScreenedPair { a, b, gain: p.gain }
            })
            .collect();
        Ok(with_inference(gam, ds))
    }
}

/// Stores the significance-test inputs of a fresh fit ([`TermInference`]). They are an addition
/// to the model, not part of it: should the rebuild fail (it re-solves the fitted system, which
/// the fit has just done), the model is returned without them and
/// [`Gam::significance`] says so.
fn with_inference(mut gam: Gam, ds: &Dataset) -> Gam {
    if gam.attach_inference(ds.x().view()).is_err() {
        gam.terms.iter_mut().for_each(|t| t.inference = None);
    }
    gam
}

/// What a term is computed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TermKind {
    /// A penalised cubic B-spline of a numeric feature: value Σ βₐ Bₐ(x).
    Smooth {
        /// Feature index.
        feature: usize,
        /// The basis.
        basis: BSpline,
        /// +1 increasing, −1 decreasing, 0 unconstrained.
        monotone: i8,
    },
    /// A numeric feature with too few distinct values for a spline: value β·x.
    Linear {
        /// Feature index.
        feature: usize,
    },
    /// A categorical feature: one coefficient per level (0 for the first, the reference).
    Factor {
        /// Feature index.
        feature: usize,
    },
    /// A tensor-product interaction of two numeric features (mgcv `ti`): value
    /// Σ Γₐ_b Bₐ(x₁) C_b(x₂), Γ row-major.
    Tensor {
        /// The two feature indices.
        features: [usize; 2],
        /// The two marginal bases.
        bases: [BSpline; 2],
        /// Training means of each marginal basis (the background of the exact Shapley split).
        basis_means: [Vec<f64>; 2],
    },
    /// The missing-value term of a numeric feature: value β where the feature is missing, 0
    /// elsewhere (where it is missing, the feature's smooth or linear term reads the fill).
    Missing {
        /// Feature index.
        feature: usize,
    },
}

/// One fitted term.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GamTerm {
    /// Feature name, or `a:b` for an interaction.
    pub name: String,
    /// What the term is computed from.
    pub kind: TermKind,
    /// Coefficients: basis coefficients (smooth, tensor row-major), the slope (linear), one per
    /// level (factor).
    pub coef: Vec<f64>,
    /// Bayesian posterior covariance of `coef` (row-major, scale included), for confidence bands;
    /// empty for tensor terms.
    pub cov: Vec<f64>,
    /// Mean of the term's value over the training rows (missing values filled).
    pub mean: f64,
    /// Effective degrees of freedom.
    pub edf: f64,
    /// Smoothing parameters of the term's penalties (empty if unpenalised).
    pub lambda: Vec<f64>,
    /// Inputs of the term's significance test ([`Gam::significance`]), computed at fit time;
    /// absent in model files written before they were stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<TermInference>,
}

/// A warning of the fit (kept in the model file and printed by `train` and `summary`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GamWarning {
    /// The iteration stopped at the limit.
    NotConverged {
        /// Iterations run.
        iterations: usize,
    },
    /// A feature's basis was made smaller (or the feature made linear) for lack of distinct values.
    ReducedBasis {
        /// Feature.
        feature: String,
        /// Distinct values in training.
        distinct: usize,
        /// Basis size used (0 = linear term).
        k: usize,
    },
    /// The default basis was made smaller to keep the coefficients at most half the rows.
    BasisForRows {
        /// Training rows.
        rows: usize,
        /// Basis size used per numeric feature.
        k: usize,
    },
    /// Missing training values were filled.
    Imputed {
        /// Feature.
        feature: String,
        /// How many.
        count: usize,
        /// The fill.
        fill: String,
        /// The feature also got its own missing-value coefficient (numeric features), so the
        /// fill only stands in for the curve's input. Absent in model files written before it.
        #[serde(default)]
        missing_term: bool,
    },
    /// Binomial: the fitted linear predictor separates the training classes completely (every
    /// positive row above every negative one), so the maximum-likelihood fit does not exist and
    /// the coefficients are held finite only by the small fixed ridge on each term's unpenalised
    /// part.
    Separation {
        /// Smallest positive-row linear predictor minus the largest negative-row one (> 0).
        gap: f64,
    },
    /// The smoothing-parameter updates cycled between IRLS steps and were damped (each reversal
    /// halved the step in log λ), so λ is the centre of the cycle rather than an exact REML
    /// fixed point.
    DampedSmoothing {
        /// Number of halvings.
        halvings: usize,
    },
    /// Interaction screening added fewer pairs than asked: no more pairs improved the fit, or more
    /// would have made the model have more than half as many coefficients as rows.
    ScreeningCapped {
        /// Pairs asked for.
        asked: usize,
        /// Pairs added.
        added: usize,
    },
    /// A monotone constraint holds only up to this violation of the coefficient differences.
    MonotoneViolation {
        /// Feature.
        feature: String,
        /// Largest wrong-signed difference between adjacent coefficients.
        max_violation: f64,
    },
}

impl std::fmt::Display for GamWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GamWarning::NotConverged { iterations } => write!(f, "penalised IRLS did not converge in {iterations} iterations; the smoothing parameters may not be optimal"),
            GamWarning::ReducedBasis { feature, distinct, k: 0 } => write!(f, "feature '{feature}' has {distinct} distinct values: fitted as a linear term"),
            GamWarning::ReducedBasis { feature, distinct, k } => write!(f, "feature '{feature}' has {distinct} distinct values: basis reduced to {k} functions"),
            GamWarning::BasisForRows { rows, k } => write!(f, "{rows} rows: {k} basis functions per numeric feature instead of {DEFAULT_SPLINES}, so the model has at most half as many coefficients as rows (set --n-splines to choose)"),
            GamWarning::Imputed { feature, count, fill, missing_term: false } => write!(f, "feature '{feature}': {count} missing training values filled with {fill}"),
            GamWarning::Imputed { feature, count, fill, missing_term: true } => write!(f, "feature '{feature}': {count} missing training values: the curve reads them as {fill}, and a missing-value coefficient models their difference"),
            GamWarning::Separation { gap } => write!(f, "the training classes are perfectly separated (every positive row's linear predictor exceeds every negative row's by at least {gap:.3}): the maximum-likelihood fit does not exist, the coefficients are kept finite only by a small ridge, so the shape functions' size is arbitrary though the ranking is usable; remove the separating feature or smooth more (--lam)"),
            GamWarning::DampedSmoothing { halvings } => write!(f, "the smoothing-parameter updates cycled (terms nearly aliased, e.g. many interactions) and were damped {halvings} times: λ is the centre of the cycle, not an exact REML optimum; fewer interaction terms avoid this"),
            GamWarning::ScreeningCapped { asked, added } => write!(f, "interaction screening added {added} of the {asked} pairs asked for: more would leave fewer than two rows per coefficient, or no other pair improves the fit"),
            GamWarning::MonotoneViolation { feature, max_violation } => write!(f, "feature '{feature}': monotone constraint violated by up to {max_violation:.3e} between adjacent coefficients"),
        }
    }
}

/// Fit statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GamReport {
    /// Family.
    pub family: Family,
    /// Link.
    pub link: LinkFunction,
    /// Training rows.
    pub n_rows: usize,
    /// Deviance at the fit.
    pub deviance: f64,
    /// Deviance of the intercept-only model.
    pub null_deviance: f64,
    /// Total effective degrees of freedom (intercept included).
    pub edf: f64,
    /// Dispersion φ (1 for binomial and Poisson).
    pub scale: f64,
    /// Iterations.
    pub iterations: usize,
    /// Whether the iteration converged.
    pub converged: bool,
    /// How λ was set: `reml` or `fixed`.
    pub smoothing: String,
    /// Warnings.
    pub warnings: Vec<GamWarning>,
    /// Pairs added by interaction screening, best first (empty when screening was off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub screened: Vec<ScreenedPair>,
}

/// A pair that interaction screening added as a tensor-product term.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScreenedPair {
    /// First feature.
    pub a: String,
    /// Second feature.
    pub b: String,
    /// FAST gain on the main-effects fit's working residuals ([`rank_pairs`]).
    pub gain: f64,
}

/// A fitted GAM: predicts, explains exactly, and draws its shape functions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gam {
    schema: FeatureSchema,
    target: TargetSpec,
    output_names: Vec<String>,
    /// Missing-value fills (the design's terms are not used).
    design: Design,
    intercept: f64,
    terms: Vec<GamTerm>,
    report: GamReport,
}

impl Gam {
    /// The terms, in order.
    pub fn terms(&self) -> &[GamTerm] {
        &self.terms
    }

    /// The intercept.
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// The fit report.
    pub fn report(&self) -> &GamReport {
        &self.report
    }

    /// The target.
    pub fn target(&self) -> &TargetSpec {
        &self.target
    }

    /// The link function.
    pub fn link_function(&self) -> LinkFunction {
        self.report.link
    }

    /// The missing-value fills, in schema order.
    pub fn imputations(&self) -> &[super::glm::Imputation] {
        self.design.imputations()
    }

    /// Intercept + Σ term training means: the mean training linear predictor, the base value of
    /// additive explanations.
    pub fn base_value(&self) -> f64 {
        self.intercept + self.terms.iter().map(|t| t.mean).sum::<f64>()
    }

    /// The value of `feature` in an encoded row, with the training fill applied when missing.
    #[inline]
    pub fn filled(&self, row: ArrayView1<f64>, feature: usize) -> f64 {
        let v = row[feature];
        if v.is_nan() {
            self.design.imputations()[feature].fill
        } else {
            v
        }
    }

    /// The value of term `t` at an encoded row.
    #[inline]
    pub fn term_value(&self, t: &GamTerm, row: ArrayView1<f64>) -> f64 {
        match &t.kind {
            TermKind::Smooth { feature, basis, .. } => {
                basis.dot(self.filled(row, *feature), &t.coef)
            }
            TermKind::Linear { feature } => t.coef[0] * self.filled(row, *feature),
            TermKind::Missing { feature } => {
                if row[*feature].is_nan() {
                    t.coef[0]
                } else {
                    0.0
                }
            }
            TermKind::Factor { feature } => {
                let v = self.filled(row, *feature);
                if v >= 0.0 && (v as usize) < t.coef.len() {
                    t.coef[v as usize]
                } else {
                    0.0
                }
            }
            TermKind::Tensor {
                features, bases, ..
            } => tensor_value(
                bases,
                &t.coef,
                self.filled(row, features[0]),
                self.filled(row, features[1]),
            ),
        }
    }

    /// Checks internal consistency (for model files).
    pub(crate) fn validate(&self) -> Result<(), String> {
        let m = self.schema.len();
        for t in &self.terms {
            let (fs, want): (Vec<usize>, usize) = match &t.kind {
                TermKind::Smooth { feature, basis, .. } => (vec![*feature], basis.k),
                TermKind::Linear { feature } | TermKind::Missing { feature } => (vec![*feature], 1),
                TermKind::Factor { feature } => (
                    vec![*feature],
                    match self.schema.features().get(*feature).map(|f| &f.kind) {
                        Some(crate::data::FeatureKind::Categorical { levels }) => levels.len(),
                        _ => {
                            return Err(format!(
                                "factor term '{}' reads a non-categorical feature",
                                t.name
                            ))
                        }
                    },
                ),
                TermKind::Tensor {
                    features,
                    bases,
                    basis_means,
                } => {
                    if basis_means[0].len() != bases[0].k || basis_means[1].len() != bases[1].k {
                        return Err(format!(
                            "term '{}': basis means do not match the bases",
                            t.name
                        ));
                    }
                    (features.to_vec(), bases[0].k * bases[1].k)
                }
            };
            if fs.iter().any(|&f| f >= m) {
                return Err(format!(
                    "term '{}' reads a feature that does not exist",
                    t.name
                ));
            }
            if let TermKind::Smooth { basis, .. }
            | TermKind::Tensor {
                bases: [basis, _], ..
            } = &t.kind
            {
                if !basis_ok(basis) {
                    return Err(format!("term '{}' has an invalid basis", t.name));
                }
            }
            if let TermKind::Tensor { bases: [_, b], .. } = &t.kind {
                if !basis_ok(b) {
                    return Err(format!("term '{}' has an invalid basis", t.name));
                }
            }
            if t.coef.len() != want || !(t.cov.is_empty() || t.cov.len() == want * want) {
                return Err(format!(
                    "term '{}' has {} coefficients (expected {want}) and {} covariance entries",
                    t.name,
                    t.coef.len(),
                    t.cov.len()
                ));
            }
        }
        if self.output_names.len() != 1 {
            return Err("a GAM has exactly one output".into());
        }
        if self.design.imputations().len() != m {
            return Err("missing-value fills do not match the features".into());
        }
        Ok(())
    }
}

/// A basis from a model file is usable: k ≥ 4, lo ≤ hi, and a knot vector (when there is one) of
/// k + 4 strictly increasing finite values with lo and hi at positions 3 and k.
fn basis_ok(b: &BSpline) -> bool {
    b.k >= 4
        && b.lo <= b.hi
        && (b.knots.is_empty()
            || (b.knots.len() == b.k + 4
                && b.knots.iter().all(|v| v.is_finite())
                && b.knots.windows(2).all(|w| w[0] < w[1])
                && b.knots[3] == b.lo
                && b.knots[b.k] == b.hi))
}

/// Σ Γₐ_b Bₐ(x₁) C_b(x₂) with Γ row-major.
#[inline]
pub(crate) fn tensor_value(bases: &[BSpline; 2], gamma: &[f64], x1: f64, x2: f64) -> f64 {
    let (i, wi) = bases[0].eval(x1);
    let (j, wj) = bases[1].eval(x2);
    let k2 = bases[1].k;
    let mut s = 0.0;
    for (a, wa) in wi.iter().enumerate() {
        let row = &gamma[(i + a) * k2 + j..(i + a) * k2 + j + 4];
        s += wa * row.iter().zip(&wj).map(|(g, w)| g * w).sum::<f64>();
    }
    s
}

impl Model for Gam {
    fn schema(&self) -> &FeatureSchema {
        &self.schema
    }

    fn output_names(&self) -> &[String] {
        &self.output_names
    }

    fn link(&self) -> Link {
        self.report.link.model_link()
    }

    fn predict_raw_into(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        assert_eq!(x.ncols(), self.schema.len(), "feature count");
        assert_eq!(out.dim(), (x.nrows(), 1), "output shape");
        Zip::from(out.axis_iter_mut(Axis(0)))
            .and(x.axis_iter(Axis(0)))
            .par_for_each(|mut o, row| {
                let mut s = self.intercept;
                for t in &self.terms {
                    s += self.term_value(t, row);
                }
                o[0] = s;
            });
    }
}
