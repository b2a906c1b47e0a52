//! Exponential families and link functions: variance, unit deviance, log-likelihood, start values.
//!
//! Every formula here follows statsmodels 0.15 (`statsmodels/genmod/families/{family,links,
//! varfuncs}.py`) term for term — including its clipping of probabilities to `[ε, 1 − ε]` and the
//! `1e-20` guards in the binomial deviance — because the acceptance bar is agreement with
//! statsmodels to 1e-6 relative, and near the boundary those guards decide the digits. Where
//! statsmodels and R differ (R's `glm` starts the binomial at `(y + 0.5)/2` too, but reports the
//! Gaussian log-likelihood with the ML scale for every link) we follow statsmodels.
//!
//! The Tweedie log-likelihood for `1 < p < 2` is the Dunn–Smyth series (Dunn & Smyth 2005,
//! "Series evaluation of Tweedie exponential dispersion model densities", Statistics and
//! Computing 15:267–280), summed in log space around its largest term.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};
use statrs::function::gamma::ln_gamma;

/// `np.finfo(float).eps`, the clipping bound statsmodels uses.
pub(crate) const FLOAT_EPS: f64 = f64::EPSILON;

/// The response distribution of a GLM.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Family {
    /// Bernoulli/binomial proportions in `[0, 1]`; variance μ(1 − μ); scale fixed at 1.
    Binomial,
    /// Normal; constant variance; scale estimated.
    Gaussian,
    /// Counts ≥ 0; variance μ; scale fixed at 1.
    Poisson,
    /// Positive continuous; variance μ²; scale estimated.
    Gamma,
    /// Tweedie with variance μ^p; scale estimated. `p` in `[1, 2]` covers the compound
    /// Poisson–gamma case (zeros allowed for `p < 2`).
    Tweedie {
        /// The variance power `p`.
        var_power: f64,
    },
}

/// A link function g: μ ↦ η.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkFunction {
    /// log(μ / (1 − μ)).
    Logit,
    /// Φ⁻¹(μ).
    Probit,
    /// log(−log(1 − μ)).
    Cloglog,
    /// log(μ).
    Log,
    /// μ.
    Identity,
    /// 1 / μ.
    Inverse,
}

impl LinkFunction {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            LinkFunction::Logit => "logit",
            LinkFunction::Probit => "probit",
            LinkFunction::Cloglog => "cloglog",
            LinkFunction::Log => "log",
            LinkFunction::Identity => "identity",
            LinkFunction::Inverse => "inverse",
        }
    }

    /// The [`crate::model::Link`] that maps the linear predictor to the mean.
    pub fn model_link(self) -> crate::model::Link {
        use crate::model::Link;
        match self {
            LinkFunction::Logit => Link::Logistic,
            LinkFunction::Probit => Link::NormalCdf,
            LinkFunction::Cloglog => Link::InverseCloglog,
            LinkFunction::Log => Link::Exp,
            LinkFunction::Identity => Link::Identity,
            LinkFunction::Inverse => Link::Reciprocal,
        }
    }

    fn clip_prob(p: f64) -> f64 {
        p.clamp(FLOAT_EPS, 1.0 - FLOAT_EPS)
    }

    /// η = g(μ).
    pub fn link(self, mu: f64) -> f64 {
        match self {
            LinkFunction::Logit => {
                let p = Self::clip_prob(mu);
                (p / (1.0 - p)).ln()
            }
            LinkFunction::Probit => probit(Self::clip_prob(mu)),
            LinkFunction::Cloglog => (-(1.0 - Self::clip_prob(mu)).ln()).ln(),
            LinkFunction::Log => mu.max(FLOAT_EPS).ln(),
            LinkFunction::Identity => mu,
            LinkFunction::Inverse => 1.0 / mu,
        }
    }

    /// μ = g⁻¹(η).
    pub fn inverse(self, eta: f64) -> f64 {
        match self {
            LinkFunction::Logit => 1.0 / (1.0 + (-eta).exp()),
            LinkFunction::Probit => std_normal().cdf(eta),
            LinkFunction::Cloglog => 1.0 - (-eta.exp()).exp(),
            LinkFunction::Log => eta.exp(),
            LinkFunction::Identity => eta,
            LinkFunction::Inverse => 1.0 / eta,
        }
    }

    /// g′(μ).
    pub fn deriv(self, mu: f64) -> f64 {
        match self {
            LinkFunction::Logit => {
                let p = Self::clip_prob(mu);
                1.0 / (p * (1.0 - p))
            }
            LinkFunction::Probit => 1.0 / std_normal().pdf(probit(Self::clip_prob(mu))),
            LinkFunction::Cloglog => {
                let p = Self::clip_prob(mu);
                1.0 / ((p - 1.0) * (1.0 - p).ln())
            }
            LinkFunction::Log => 1.0 / mu.max(FLOAT_EPS),
            LinkFunction::Identity => 1.0,
            LinkFunction::Inverse => -1.0 / (mu * mu),
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<LinkFunction> {
        Some(match name {
            "logit" => LinkFunction::Logit,
            "probit" => LinkFunction::Probit,
            "cloglog" => LinkFunction::Cloglog,
            "log" => LinkFunction::Log,
            "identity" => LinkFunction::Identity,
            "inverse" => LinkFunction::Inverse,
            _ => return None,
        })
    }
}

fn std_normal() -> Normal {
    Normal::standard()
}

/// Φ⁻¹(p). statrs' inverse CDF is good to about 1e-10 relative; one Newton step on Φ(x) = p
/// (Φ from the complementary error function, accurate to a few ulp) brings it to rounding level,
/// which matters because g′(μ) = 1/φ(Φ⁻¹(μ)) enters every IRLS weight.
fn probit(p: f64) -> f64 {
    let n = std_normal();
    let x = n.inverse_cdf(p);
    let d = n.pdf(x);
    if d > 0.0 && x.is_finite() {
        // Use the smaller tail for Φ(x) − p so the difference keeps its digits.
        let err = if x < 0.0 {
            n.cdf(x) - p
        } else {
            (1.0 - p) - n.sf(x)
        };
        x - err / d
    } else {
        x
    }
}

/// What a family requires of the response, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Support {
    /// `0 ≤ y ≤ 1`.
    UnitInterval,
    /// Any finite value.
    Real,
    /// `y ≥ 0`.
    NonNegative,
    /// `y > 0`.
    Positive,
}

impl Support {
    pub(crate) fn contains(self, y: f64) -> bool {
        y.is_finite()
            && match self {
                Support::UnitInterval => (0.0..=1.0).contains(&y),
                Support::Real => true,
                Support::NonNegative => y >= 0.0,
                Support::Positive => y > 0.0,
            }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Support::UnitInterval => "between 0 and 1 (a binary 0/1 outcome or a proportion)",
            Support::Real => "a finite number",
            Support::NonNegative => "zero or positive",
            Support::Positive => "strictly positive",
        }
    }
}

impl Family {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Family::Binomial => "binomial",
            Family::Gaussian => "gaussian",
            Family::Poisson => "poisson",
            Family::Gamma => "gamma",
            Family::Tweedie { .. } => "tweedie",
        }
    }

    /// statsmodels' default link: logit, identity, log, inverse (the canonical one for the
    /// gamma — R's default too, though log is often the better-behaved choice), log.
    pub fn default_link(self) -> LinkFunction {
        match self {
            Family::Binomial => LinkFunction::Logit,
            Family::Gaussian => LinkFunction::Identity,
            Family::Poisson => LinkFunction::Log,
            Family::Gamma => LinkFunction::Inverse,
            Family::Tweedie { .. } => LinkFunction::Log,
        }
    }

    /// The links this family accepts (those statsmodels accepts for it).
    pub fn allowed_links(self) -> &'static [LinkFunction] {
        use LinkFunction::*;
        match self {
            Family::Binomial => &[Logit, Probit, Cloglog, Log, Identity],
            Family::Gaussian => &[Identity, Log, Inverse],
            Family::Poisson => &[Log, Identity],
            Family::Gamma => &[Inverse, Log, Identity],
            Family::Tweedie { .. } => &[Log, Identity, Inverse],
        }
    }

    /// Whether the dispersion is estimated (Pearson χ² / df_resid) rather than fixed at 1.
    pub fn estimates_scale(self) -> bool {
        !matches!(self, Family::Binomial | Family::Poisson)
    }

    pub(crate) fn support(self) -> Support {
        match self {
            Family::Binomial => Support::UnitInterval,
            Family::Gaussian => Support::Real,
            Family::Poisson => Support::NonNegative,
            Family::Gamma => Support::Positive,
            Family::Tweedie { var_power } if var_power < 2.0 => Support::NonNegative,
            Family::Tweedie { .. } => Support::Positive,
        }
    }

    /// Starting mean for IRLS (statsmodels `starting_mu`).
    pub(crate) fn starting_mu(self, y: f64, y_mean: f64) -> f64 {
        match self {
            Family::Binomial => (y + 0.5) / 2.0,
            _ => (y + y_mean) / 2.0,
        }
    }

    /// Variance function V(μ).
    pub fn variance(self, mu: f64) -> f64 {
        match self {
            Family::Binomial => {
                let p = mu.clamp(FLOAT_EPS, 1.0 - FLOAT_EPS);
                p * (1.0 - p)
            }
            Family::Gaussian => 1.0,
            Family::Poisson => mu.abs(),
            Family::Gamma => mu * mu,
            Family::Tweedie { var_power } => mu.abs().powf(var_power),
        }
    }

    /// Unit deviance d(y, μ) (statsmodels `_resid_dev`): the deviance is Σ wᵢ d(yᵢ, μᵢ).
    pub fn unit_deviance(self, y: f64, mu: f64) -> f64 {
        let clean = |v: f64| v.max(FLOAT_EPS);
        match self {
            Family::Binomial => {
                let a = clean(y / (mu + 1e-20));
                let b = clean((1.0 - y) / (1.0 - mu + 1e-20));
                2.0 * (y * a.ln() + (1.0 - y) * b.ln())
            }
            Family::Gaussian => (y - mu) * (y - mu),
            Family::Poisson => 2.0 * (y * clean(y / mu).ln() - (y - mu)),
            Family::Gamma => 2.0 * (-clean(y / mu).ln() + (y - mu) / mu),
            Family::Tweedie { var_power: p } => {
                let d = if p == 1.0 {
                    if y == 0.0 {
                        mu
                    } else {
                        y * (y / mu).ln() + (mu - y)
                    }
                } else if p == 2.0 {
                    (y - mu) / mu - (clean(y) / mu).ln()
                } else {
                    y.powf(2.0 - p) / ((1.0 - p) * (2.0 - p)) - y * mu.powf(1.0 - p) / (1.0 - p)
                        + mu.powf(2.0 - p) / (2.0 - p)
                };
                2.0 * d
            }
        }
    }

    /// Log-likelihood of one observation with prior weight `w` at dispersion `scale`
    /// (statsmodels `loglike_obs`). NaN where statsmodels has no likelihood (Tweedie with
    /// `p` outside `[1, 2]`).
    pub fn loglike_obs(self, y: f64, mu: f64, w: f64, scale: f64) -> f64 {
        match self {
            Family::Binomial => {
                (ln_gamma(2.0) - ln_gamma(y + 1.0) - ln_gamma(2.0 - y)
                    + y * ((mu + 1e-20) / (1.0 - mu + 1e-20)).ln()
                    + (1.0 - mu + 1e-20).ln())
                    * w
            }
            Family::Gaussian => {
                let ll = -w * (y - mu) * (y - mu) / scale
                    - (scale / w).ln()
                    - (2.0 * std::f64::consts::PI).ln();
                ll / 2.0
            }
            Family::Poisson => w / scale * (y * mu.ln() - mu - ln_gamma(y + 1.0)),
            Family::Gamma => {
                let ym = (y / mu).max(FLOAT_EPS);
                let ws = w / scale;
                ws * (ws * ym).ln() - ws * ym - ln_gamma(ws) - y.ln()
            }
            Family::Tweedie { var_power: p } => {
                if p == 1.0 {
                    Family::Poisson.loglike_obs(y, mu, w, scale)
                } else if p == 2.0 {
                    Family::Gamma.loglike_obs(y, mu, w, scale)
                } else if p > 1.0 && p < 2.0 {
                    tweedie_loglike(y, mu, p, scale / w)
                } else {
                    f64::NAN
                }
            }
        }
    }
}

/// log f(y; μ, φ, p) of the Tweedie compound Poisson–gamma (1 < p < 2), by the Dunn–Smyth series.
///
/// f = a(y, φ) · exp((y θ − κ(θ)) / φ) with θ = μ^{1−p}/(1−p), κ = μ^{2−p}/(2−p). At y = 0,
/// a = 1. For y > 0, a = W(y)/y with W = Σ_{j≥1} W_j and
/// log W_j = j·log z − lnΓ(1 + j) − lnΓ(−j α), α = (2−p)/(1−p) < 0,
/// z = (p−1)^{−α}... written as in Dunn & Smyth eq. (8): log z = −α log y + α log(p−1)
/// − log(2−p) − (1−α) log φ. The terms peak near j* = y^{2−p}/(φ(2−p)); we sum outward from
/// j* until the terms fall below e^{−37} of the peak.
fn tweedie_loglike(y: f64, mu: f64, p: f64, phi: f64) -> f64 {
    let theta = mu.powf(1.0 - p) / (1.0 - p);
    let kappa = mu.powf(2.0 - p) / (2.0 - p);
    let base = (y * theta - kappa) / phi;
    if y <= 0.0 {
        return base;
    }
    let alpha = (2.0 - p) / (1.0 - p);
    let log_z =
        -alpha * y.ln() + alpha * (p - 1.0).ln() - (2.0 - p).ln() - (1.0 - alpha) * phi.ln();
    let log_w = |j: f64| j * log_z - ln_gamma(1.0 + j) - ln_gamma(-j * alpha);
    let j_max = (y.powf(2.0 - p) / (phi * (2.0 - p))).round().max(1.0);
    let peak = log_w(j_max);
    let mut sum = 1.0;
    let mut j = j_max + 1.0;
    loop {
        let t = log_w(j) - peak;
        sum += t.exp();
        if t < -37.0 || j > j_max + 1e6 {
            break;
        }
        j += 1.0;
    }
    let mut j = j_max - 1.0;
    while j >= 1.0 {
        let t = log_w(j) - peak;
        sum += t.exp();
        if t < -37.0 {
            break;
        }
        j -= 1.0;
    }
    base + peak + sum.ln() - y.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_invert() {
        for link in [
            LinkFunction::Logit,
            LinkFunction::Probit,
            LinkFunction::Cloglog,
            LinkFunction::Log,
            LinkFunction::Identity,
            LinkFunction::Inverse,
        ] {
            for mu in [0.1, 0.37, 0.8] {
                let back = link.inverse(link.link(mu));
                assert!((back - mu).abs() < 1e-15, "{link:?} {mu} {back}");
                // g'(μ) against a central finite difference.
                let h = 1e-6;
                let fd = (link.link(mu + h) - link.link(mu - h)) / (2.0 * h);
                assert!(
                    (fd - link.deriv(mu)).abs() < 1e-5 * fd.abs().max(1.0),
                    "{link:?}"
                );
            }
        }
    }

    #[test]
    fn tweedie_density_integrates_to_one() {
        // ∫ f dy over y > 0 plus the point mass at 0 equals 1 (trapezoid on a fine grid).
        let (mu, p, phi) = (1.3, 1.5, 0.8);
        let fam = Family::Tweedie { var_power: p };
        let p0 = fam.loglike_obs(0.0, mu, 1.0, phi).exp();
        let h = 1e-3;
        let mut total = p0;
        let mut prev = 0.0;
        let mut y = h;
        while y < 40.0 {
            let f = fam.loglike_obs(y, mu, 1.0, phi).exp();
            total += 0.5 * (prev + f) * h;
            prev = f;
            y += h;
        }
        assert!((total - 1.0).abs() < 2e-3, "mass {total}");
    }
}
