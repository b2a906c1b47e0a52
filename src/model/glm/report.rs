//! Computing the fit report from a fit: standard errors, deviances, log-likelihood, information
//! criteria, and the warnings a reader must see (definitions in [`super::summary`]).

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::error::GlmError;
use super::family::{Family, LinkFunction};
use super::irls::{self, IrlsSettings};
use super::penalised::PenalisedFit;
use super::summary::{CoefficientRow, CvReport, FitReport, FitWarning, PenaltyReport};

/// Everything about the problem the report needs.
pub(super) struct Ctx<'a> {
    pub family: Family,
    pub link: LinkFunction,
    pub x: ArrayView2<'a, f64>,
    pub y: ArrayView1<'a, f64>,
    pub w: &'a [f64],
    pub offset: &'a [f64],
    pub names: &'a [String],
    pub target: &'a str,
    pub settings: IrlsSettings,
}

/// Distance from 0 or 1 below which a fitted probability counts as separated.
const SEPARATION_EPS: f64 = 1e-8;

/// Statistics shared by penalised and unpenalised fits, at coefficients with means `mu` and
/// `k` estimated coefficients.
struct Common {
    deviance: f64,
    null_deviance: f64,
    pearson: f64,
    scale: f64,
    llf: Option<f64>,
}

fn common(ctx: &Ctx, mu: &[f64], k: usize) -> Common {
    let n = ctx.y.len();
    let df_resid = n.saturating_sub(k) as f64;
    let deviance = irls::deviance(ctx.family, ctx.y, mu, ctx.w);
    let pearson = irls::pearson_chi2(ctx.family, ctx.y, mu, ctx.w);
    let scale = if ctx.family.estimates_scale() {
        pearson / df_resid
    } else {
        1.0
    };
    // statsmodels: the Gaussian with identity link reports the profile log-likelihood
    // (σ² = RSS / n); every other case uses the estimated scale.
    let llf_scale = if ctx.family == Family::Gaussian && ctx.link == LinkFunction::Identity {
        (0..n)
            .map(|i| ctx.w[i] * (ctx.y[i] - mu[i]).powi(2))
            .sum::<f64>()
            / n as f64
    } else {
        scale
    };
    let llf: f64 = (0..n)
        .map(|i| ctx.family.loglike_obs(ctx.y[i], mu[i], ctx.w[i], llf_scale))
        .sum();
    Common {
        deviance,
        null_deviance: null_deviance(ctx),
        pearson,
        scale,
        llf: llf.is_finite().then_some(llf),
    }
}

/// Deviance of the intercept-only model: the weighted mean without an offset (the MLE for every
/// family and link), otherwise an intercept-only IRLS fit with the offset.
fn null_deviance(ctx: &Ctx) -> f64 {
    let n = ctx.y.len();
    if ctx.offset.iter().all(|&o| o == 0.0) {
        let wsum: f64 = ctx.w.iter().sum();
        let m = (0..n).map(|i| ctx.w[i] * ctx.y[i]).sum::<f64>() / wsum;
        return irls::deviance(ctx.family, ctx.y, &vec![m; n], ctx.w);
    }
    let ones = Array2::<f64>::ones((n, 1));
    match irls::irls(
        ctx.family,
        ctx.link,
        ones.view(),
        ctx.y,
        ctx.w,
        ctx.offset,
        ctx.settings,
    ) {
        Ok(r) => irls::deviance(ctx.family, ctx.y, &r.mu, ctx.w),
        // The intercept-only fit broke down: fall back to the weighted mean (ignoring the offset)
        // rather than writing NaN into the report.
        Err(_) => {
            let wsum: f64 = ctx.w.iter().sum();
            let m = (0..n).map(|i| ctx.w[i] * ctx.y[i]).sum::<f64>() / wsum;
            irls::deviance(ctx.family, ctx.y, &vec![m; n], ctx.w)
        }
    }
}

/// Fits by IRLS and reports.
pub(super) fn unpenalised(
    ctx: &Ctx,
    mut warnings: Vec<FitWarning>,
) -> Result<(Vec<f64>, Vec<f64>, FitReport), GlmError> {
    let res = irls::irls(
        ctx.family,
        ctx.link,
        ctx.x,
        ctx.y,
        ctx.w,
        ctx.offset,
        ctx.settings,
    )?;
    let n = ctx.y.len();
    let k = ctx.x.ncols();
    let c = common(ctx, &res.mu, k);
    let coefficients: Vec<CoefficientRow> = (0..k)
        .map(|j| {
            let se = (c.scale * res.cov_unscaled[[j, j]]).sqrt();
            CoefficientRow::with_inference(ctx.names[j].clone(), res.coef[j], se)
        })
        .collect();
    if !res.converged {
        let dev_now = irls::deviance(ctx.family, ctx.y, &res.mu, ctx.w);
        warnings.push(FitWarning::NotConverged {
            iterations: res.iterations,
            last_change: Some(last_change(ctx, &res.previous_coef, dev_now)),
        });
    }
    if let Some(sep) = separation(ctx, &res.mu, &res.coef, &res.previous_coef) {
        warnings.push(sep);
    }
    let kf = k as f64;
    let report = FitReport {
        family: ctx.family,
        link: ctx.link,
        target: ctx.target.to_string(),
        n_obs: n,
        df_model: k.saturating_sub(1),
        df_resid: n - k,
        deviance: c.deviance,
        null_deviance: c.null_deviance,
        log_likelihood: c.llf,
        aic: c.llf.map(|l| -2.0 * l + 2.0 * kf),
        bic: c.llf.map(|l| -2.0 * l + kf * (n as f64).ln()),
        scale: c.scale,
        pearson_chi2: c.pearson,
        iterations: res.iterations,
        converged: res.converged,
        coefficients,
        warnings,
        penalty: None,
        weights_column: None,
        offset_column: None,
        covariance: Some(
            res.cov_unscaled
                .rows()
                .into_iter()
                .map(|r| r.iter().map(|v| c.scale * v).collect())
                .collect(),
        ),
    };
    Ok((res.coef, res.mu, report))
}

fn last_change(ctx: &Ctx, previous: &[f64], dev_now: f64) -> f64 {
    let n = ctx.y.len();
    let mu_prev: Vec<f64> = (0..n)
        .map(|i| {
            ctx.link
                .inverse(irls::dot_row(ctx.x, i, previous) + ctx.offset[i])
        })
        .collect();
    (irls::deviance(ctx.family, ctx.y, &mu_prev, ctx.w) - dev_now).abs()
}

/// Binomial fits with fitted probabilities at 0 or 1: (quasi-)complete separation.
fn separation(ctx: &Ctx, mu: &[f64], coef: &[f64], previous: &[f64]) -> Option<FitWarning> {
    if ctx.family != Family::Binomial {
        return None;
    }
    let rows = mu
        .iter()
        .filter(|&&m| !(SEPARATION_EPS..=1.0 - SEPARATION_EPS).contains(&m))
        .count();
    if rows == 0 {
        return None;
    }
    let terms = coef
        .iter()
        .zip(previous)
        .enumerate()
        .filter(|(_, (c, p))| (*c - *p).abs() > 1e-4 * c.abs().max(1.0))
        .map(|(j, _)| ctx.names[j].clone())
        .collect();
    Some(FitWarning::Separation { rows, terms })
}

/// Reports a penalised fit (no inference columns, no AIC/BIC).
pub(super) fn penalised(
    ctx: &Ctx,
    mut warnings: Vec<FitWarning>,
    fit: PenalisedFit,
    lambda: f64,
    alpha: f64,
    cv: Option<CvReport>,
) -> Result<(Vec<f64>, Vec<f64>, FitReport), GlmError> {
    let n = ctx.y.len();
    let nonzero = fit.coef.iter().filter(|&&b| b != 0.0).count();
    let c = common(ctx, &fit.mu, nonzero);
    let coefficients = fit
        .coef
        .iter()
        .zip(ctx.names)
        .map(|(&b, name)| CoefficientRow::estimate_only(name.clone(), b))
        .collect();
    warnings.push(FitWarning::Penalised);
    if !fit.converged {
        warnings.push(FitWarning::NotConverged {
            iterations: fit.iterations,
            last_change: None,
        });
    }
    let report = FitReport {
        family: ctx.family,
        link: ctx.link,
        target: ctx.target.to_string(),
        n_obs: n,
        df_model: nonzero.saturating_sub(1),
        df_resid: n.saturating_sub(nonzero),
        deviance: c.deviance,
        null_deviance: c.null_deviance,
        log_likelihood: c.llf,
        aic: None,
        bic: None,
        scale: c.scale,
        pearson_chi2: c.pearson,
        iterations: fit.iterations,
        converged: fit.converged,
        coefficients,
        warnings,
        penalty: Some(PenaltyReport { lambda, alpha, cv }),
        weights_column: None,
        offset_column: None,
        covariance: None,
    };
    Ok((fit.coef, fit.mu, report))
}
