//! `glassbox train --model gam`: the GAM flags and the fit.
//!
//! The family and link flags are the GLM's (`--family`, `--link`, `--var-power`, `--max-iter`);
//! the GLM's penalty, weight and offset flags do not apply to a GAM and are refused.

use clap::Args;
use glassbox::data::Dataset;
use glassbox::model::gam::{Gam, GamParams, Knots, Smoothing};
use glassbox::model::AnyModel;

use super::train_glm::GlmArgs;
use super::{CliError, Context, UsageError};

/// Flags of `--model gam`.
#[derive(Args, Debug, Default)]
#[command(next_help_heading = "GAM settings (--model gam; --family/--link as for glm)")]
pub struct GamArgs {
    /// Cubic B-spline basis functions per numeric feature (default 20).
    #[arg(long, value_name = "K")]
    pub n_splines: Option<usize>,
    /// Basis functions per margin of an interaction term (default 6).
    #[arg(long, value_name = "K")]
    pub tensor_splines: Option<usize>,
    /// Knot placement: `uniform` (equally spaced over the training range, P-splines; default) or
    /// `quantile` (at quantiles of the training values: flexibility where the rows are, and the
    /// penalty shrinks towards a line in the rank rather than the raw value, which suits skewed
    /// features).
    #[arg(long, value_name = "uniform|quantile")]
    pub knots: Option<KnotsArg>,
    /// Smoothing: `auto` (REML, per term; default) or one fixed λ for every smooth.
    #[arg(long, value_name = "auto|LAMBDA")]
    pub lam: Option<String>,
    /// Monotone features: `feat:+1` increasing, `feat:-1` decreasing, comma-separated.
    #[arg(long, value_name = "FEAT:±1,...")]
    pub monotone: Option<String>,
    /// Tensor-product interaction terms: named pairs of numeric features `a:b,c:d`, and/or
    /// `auto[:K]` to add the K pairs (default 3) that screening ranks highest.
    ///
    /// Screening fits the main-effects model (with any named pairs) first, then ranks every other
    /// pair of numeric features with at least 4 distinct values by the FAST statistic (Lou et al.
    /// 2013, as interpret's EBM does): the best four-quadrant split of the pair on 32 quantile
    /// bins, scored by its gain on the working residuals. The top K are added as ti() terms and
    /// the model refitted; `summary` lists them with their gains.
    #[arg(long, value_name = "A:B,...|auto[:K]")]
    pub interactions: Option<String>,
}

impl GamArgs {
    /// Whether any GAM-only flag was given.
    pub fn any(&self) -> bool {
        self.n_splines.is_some()
            || self.tensor_splines.is_some()
            || self.knots.is_some()
            || self.lam.is_some()
            || self.monotone.is_some()
            || self.interactions.is_some()
    }
}

/// `--knots` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum KnotsArg {
    /// Equally spaced over the training range.
    Uniform,
    /// At quantiles of the training values.
    Quantile,
}

impl From<KnotsArg> for Knots {
    fn from(k: KnotsArg) -> Knots {
        match k {
            KnotsArg::Uniform => Knots::Uniform,
            KnotsArg::Quantile => Knots::Quantile,
        }
    }
}

fn pairs(flag: &str, text: &str) -> Result<Vec<(String, String)>, UsageError> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.rsplit_once(':') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                Ok((a.trim().to_string(), b.trim().to_string()))
            }
            _ => Err(UsageError(format!(
                "{flag} '{p}': expected NAME:VALUE pairs separated by commas"
            ))),
        })
        .collect()
}

/// Pairs screening adds when `--interactions auto` gives no K.
const DEFAULT_SCREENED: usize = 3;

/// `--interactions`: the named pairs and how many screened pairs to add.
fn interaction_list(text: &str) -> Result<(Vec<(String, String)>, usize), UsageError> {
    let mut named = Vec::new();
    let mut screen = 0;
    for item in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if item == "auto" {
            screen = DEFAULT_SCREENED;
        } else if let Some(k) = item.strip_prefix("auto:") {
            screen = match k.trim().parse::<usize>() {
                Ok(k) if k >= 1 => k,
                _ => {
                    return Err(UsageError(format!(
                        "--interactions '{item}': K in auto:K is the number of screened pairs to add, a whole number ≥ 1"
                    )))
                }
            };
        } else {
            named.extend(pairs("--interactions", item)?);
        }
    }
    Ok((named, screen))
}

/// Refuses GLM-only flags with `--model gam`.
pub fn check_flags(glm: &GlmArgs) -> Result<(), UsageError> {
    let glm_only = [
        ("--l1", glm.l1.is_some()),
        ("--l2", glm.l2.is_some()),
        ("--alpha", glm.alpha.is_some()),
        ("--cv", glm.cv.is_some()),
        ("--weights", glm.weights.is_some()),
        ("--offset", glm.offset.is_some()),
        ("--drop-collinear", glm.drop_collinear),
    ];
    match glm_only.iter().find(|(_, set)| *set) {
        Some((flag, _)) => Err(UsageError(format!(
            "{flag} applies to --model glm only; a GAM's smooths are penalised by --lam"
        ))),
        None => Ok(()),
    }
}

/// Fits the GAM and prints its term table (unless quiet).
pub fn train(
    ctx: &Context,
    glm: &GlmArgs,
    gam: &GamArgs,
    ds: &Dataset,
) -> Result<AnyModel, CliError> {
    check_flags(glm)?;
    let (family, link) = super::train_glm::family_and_link(ctx, glm, ds)?;
    let mut params = GamParams::new(family);
    if let Some(l) = link {
        params = params.link(l);
    }
    if let Some(n) = glm.max_iter {
        params = params.max_iter(n);
    }
    if let Some(k) = gam.n_splines {
        params = params.n_splines(k);
    }
    if let Some(k) = gam.tensor_splines {
        params = params.tensor_splines(k);
    }
    if let Some(k) = gam.knots {
        params = params.knots(k.into());
    }
    if let Some(l) = &gam.lam {
        if l != "auto" {
            let v: f64 = l
                .parse()
                .map_err(|_| UsageError(format!("--lam '{l}': expected `auto` or a number ≥ 0")))?;
            params = params.smoothing(Smoothing::Fixed(v));
        }
    }
    if let Some(m) = &gam.monotone {
        let mut list = Vec::new();
        for (f, s) in pairs("--monotone", m)? {
            let dir = match s.as_str() {
                "+1" | "1" | "+" | "inc" | "increasing" => 1,
                "-1" | "-" | "dec" | "decreasing" => -1,
                _ => {
                    return Err(UsageError(format!(
                        "--monotone '{f}:{s}': the direction is +1 (increasing) or -1 (decreasing)"
                    ))
                    .into())
                }
            };
            list.push((f, dir));
        }
        params = params.monotone(list);
    }
    if let Some(i) = &gam.interactions {
        let (named, screen) = interaction_list(i)?;
        params = params.interactions(named).screen_interactions(screen);
    }
    let fitted = params.fit(ds).map_err(glassbox::model::ModelError::from)?;
    if ctx.quiet {
        for w in &fitted.report().warnings {
            eprintln!("glassbox: warning: {w}");
        }
    } else {
        eprint!("{}", table(&fitted));
    }
    Ok(AnyModel::Gam(fitted))
}

/// The per-term table: edf and smoothing parameters, then fit statistics and warnings.
pub fn table(gam: &Gam) -> String {
    let r = gam.report();
    let mut s = format!(
        "GAM ({} family, {} link), {} rows, smoothing {}\n{:<32} {:>8} {:>8}  {}\n",
        r.family.name(),
        r.link.name(),
        r.n_rows,
        r.smoothing,
        "term",
        "kind",
        "edf",
        "lambda"
    );
    for t in gam.terms() {
        use glassbox::model::gam::TermKind;
        let kind = match &t.kind {
            TermKind::Smooth { monotone: 1, .. } => "smooth+",
            TermKind::Smooth { monotone: -1, .. } => "smooth-",
            TermKind::Smooth { .. } => "smooth",
            TermKind::Linear { .. } => "linear",
            TermKind::Factor { .. } => "factor",
            TermKind::Tensor { .. } => "tensor",
            TermKind::Missing { .. } => "missing",
        };
        let lam: Vec<String> = t.lambda.iter().map(|l| format!("{l:.4e}")).collect();
        s.push_str(&format!(
            "{:<32} {:>8} {:>8.3}  {}\n",
            t.name,
            kind,
            t.edf,
            lam.join(", ")
        ));
    }
    let explained = if r.null_deviance > 0.0 {
        1.0 - r.deviance / r.null_deviance
    } else {
        f64::NAN
    };
    s.push_str(&format!(
        "deviance {:.4} (null {:.4}, {:.1}% explained), total edf {:.2}, scale {:.5}, {} iterations{}\n",
        r.deviance,
        r.null_deviance,
        100.0 * explained,
        r.edf,
        r.scale,
        r.iterations,
        if r.converged { "" } else { " (not converged)" }
    ));
    if !r.screened.is_empty() {
        let list: Vec<String> = r
            .screened
            .iter()
            .map(|p| format!("{}:{} (gain {:.4})", p.a, p.b, p.gain))
            .collect();
        s.push_str(&format!(
            "interaction screening added {}\n",
            list.join(", ")
        ));
    }
    for w in &r.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}
