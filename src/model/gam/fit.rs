//! Building a GAM fit: the model matrix in the constrained (θ) parametrisation, the penalties,
//! the monotone constraints, and the way back from θ to each term's coefficients and covariance.
//! The iteration itself (penalised IRLS with REML smoothing) is in [`super::irls`].
//!
//! A smooth's columns are `B(x) Z` (see [`super::basis`]), a factor's the treatment dummies of its
//! non-reference levels, a tensor's the row-wise Kronecker product of its two constrained
//! marginals. Each penalty is scaled so that its Frobenius norm equals that of its block of `XᵀX`,
//! so λ = 1 is a sensible start whatever the feature's units (mgcv does the same).

use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::basis::{difference_matrix, difference_penalty, null_space_of, BSpline, Knots};
use super::irls::solve;
use super::{Gam, GamError, GamParams, GamReport, GamTerm, GamWarning, Smoothing, TermKind};
use crate::data::{Dataset, FeatureKind};
use crate::model::glm::{check, Design, Family, GlmError, LinkFunction};

/// Fixed normalised ridge on the directions the smoothing penalties leave free (a smooth's linear
/// trend, factor and linear coefficients): small against the data (the penalties are scaled to
/// ‖XᵀX‖), but it keeps the fit finite when the training data are separable, as pyGAM's default
/// ridge does.
///
/// Not chosen by REML, and that was measured rather than assumed (issue 5; held-out AUC/RMSE over
/// split seeds 0–4 of the four data sets of `bench/peers/gam_splits.py`, glassbox alone):
/// - per-term REML null-space penalties (mgcv's `select = TRUE`, Marra & Wood 2011) converge but
///   lose on average: breast_cancer 0.9879 → 0.9863, german 0.7861 → 0.7824 (seed 0 of
///   breast_cancer alone rose 0.9885 → 0.9912, which is why one split is not evidence);
///   treating factor ridges as REML random effects too: german 0.7871, breast_cancer 0.9863;
/// - one REML-chosen ridge shared by all these directions: german 0.7934, diabetes RMSE
///   54.95 → 54.82, but breast_cancer 0.9857 and credit_scoring 0.8395 → 0.8388;
/// - fixed 10⁻² / 10⁻¹ instead of 10⁻³: german 0.7920 / 0.7944 but credit_scoring 0.8370 /
///   0.8235 and breast_cancer 0.9853 / 0.9860 (so no fixed value suits every data set).
pub(super) const NULL_RIDGE: f64 = 1e-3;

/// Whether numeric features with missing training values get a missing-value term
/// ([`TermKind::Missing`]): one coefficient added to the linear predictor of the rows where the
/// feature is missing, on top of the smooth's value at the fill (the training mean), with the
/// same fixed ridge as a factor level.
///
/// Why: a mean fill says "a missing value behaves like an average one", which the data may
/// contradict. In credit_scoring, `Income` is missing in 381 of 4454 rows, with a bad-credit rate
/// of 0.57 against 0.25 where it is present; interpret's EBM gives missing values their own bin
/// and so sees that, a mean-filled GAM cannot. Categorical features keep the most-frequent-level
/// fill (a missing level is what a user adds as a category of its own).
const MISSING_TERMS: bool = true;

/// Whether a factor with `levels` levels gets a REML-chosen ridge on its level coefficients (a
/// random effect, as mgcv's `s(f, bs = "re")`) instead of the fixed [`NULL_RIDGE`]: with
/// automatic smoothing and at least three levels.
///
/// Why: an unpenalised factor fits every level's mean, so rare levels of many-level factors
/// (german_credit has 13 categorical features) are fitted to a handful of rows; the ridge pulls
/// them towards the reference as far as REML finds the levels alike. Why not for two levels:
/// a variance estimated from a single contrast is poorly determined, and measured (issue 5, held-out
/// scores over split seeds 0–4 of `bench/peers/gam_splits.py`) a REML ridge on every factor moved
/// german_credit AUC 0.7861 → 0.7906 but diabetes_progression RMSE 54.95 → 55.12, whose one factor
/// (`sex`) has two levels. With a fixed λ (`--lam`) factors keep the fixed ridge, as before.
fn factor_reml(levels: usize, smoothing: Smoothing) -> bool {
    smoothing == Smoothing::Auto && levels >= 3
}

/// The name of the missing-value term of a feature.
pub(super) fn missing_term_name(feature: &str) -> String {
    format!("{feature} (missing)")
}
/// Weight of the asymmetric monotonicity penalty, relative to the block's scale.
const MONO_KAPPA: f64 = 1e7;

mod system;
pub use system::PenalisedSystem;

/// A term in the θ parametrisation.
#[derive(Clone, Debug)]
enum Spec {
    Smooth {
        feature: usize,
        basis: BSpline,
        z: Vec<f64>,
        monotone: i8,
    },
    Linear {
        feature: usize,
    },
    Factor {
        feature: usize,
        levels: usize,
        /// Whether the level coefficients get a REML-chosen ridge ([`factor_reml`]) rather
        /// than the fixed [`NULL_RIDGE`].
        reml: bool,
    },
    Tensor {
        features: [usize; 2],
        bases: [BSpline; 2],
        z: [Vec<f64>; 2],
        means: [Vec<f64>; 2],
    },
    /// The missing-value indicator of `feature`, read from `column` of the matrix that
    /// [`filled_matrix`] builds.
    Missing {
        feature: usize,
        column: usize,
    },
}

impl Spec {
    fn width(&self) -> usize {
        match self {
            Spec::Smooth { basis, .. } => basis.k - 1,
            Spec::Linear { .. } => 1,
            Spec::Factor { levels, .. } => levels - 1,
            Spec::Tensor { bases, .. } => (bases[0].k - 1) * (bases[1].k - 1),
            Spec::Missing { .. } => 1,
        }
    }

    /// Writes the term's θ-space design columns for one row of [`filled_matrix`].
    fn row(&self, x: ArrayView1<f64>, out: &mut [f64]) {
        match self {
            Spec::Smooth {
                feature, basis, z, ..
            } => constrained_row(basis, z, x[*feature], out),
            Spec::Linear { feature } => out[0] = x[*feature],
            Spec::Missing { column, .. } => out[0] = x[*column],
            Spec::Factor { feature, .. } => {
                out.iter_mut().for_each(|v| *v = 0.0);
                let l = x[*feature] as usize;
                if l >= 1 && l <= out.len() {
                    out[l - 1] = 1.0;
                }
            }
            Spec::Tensor {
                features, bases, z, ..
            } => {
                let (k1, k2) = (bases[0].k - 1, bases[1].k - 1);
                let mut r1 = vec![0.0; k1];
                let mut r2 = vec![0.0; k2];
                constrained_row(&bases[0], &z[0], x[features[0]], &mut r1);
                constrained_row(&bases[1], &z[1], x[features[1]], &mut r2);
                for a in 0..k1 {
                    for b in 0..k2 {
                        out[a * k2 + b] = r1[a] * r2[b];
                    }
                }
            }
        }
    }
}

/// The rows `x` (encoded, schema order) with missing values replaced by `fills`, followed by one
/// column per feature of `flagged`: 1 where that feature was missing, else 0. Every term reads
/// the filled values; a [`Spec::Missing`] term reads its indicator column.
pub(super) fn filled_matrix(x: ArrayView2<f64>, fills: &[f64], flagged: &[usize]) -> Array2<f64> {
    let m = x.ncols();
    let mut out = Array2::<f64>::zeros((x.nrows(), m + flagged.len()));
    for (mut o, row) in out.axis_iter_mut(Axis(0)).zip(x.axis_iter(Axis(0))) {
        for j in 0..m {
            o[j] = if row[j].is_nan() { fills[j] } else { row[j] };
        }
        for (q, &f) in flagged.iter().enumerate() {
            o[m + q] = f64::from(u8::from(row[f].is_nan()));
        }
    }
    out
}

/// `B(x) Z` for a basis with k functions and Z of k × (k − 1).
fn constrained_row(basis: &BSpline, z: &[f64], x: f64, out: &mut [f64]) {
    let w = basis.k - 1;
    out.iter_mut().for_each(|v| *v = 0.0);
    let (i, b) = basis.eval(x);
    for (r, br) in b.iter().enumerate() {
        let zr = &z[(i + r) * w..(i + r + 1) * w];
        out.iter_mut().zip(zr).for_each(|(o, zv)| *o += br * zv);
    }
}

/// Zᵀ S Z for square S (k × k) and Z (k × w), all row-major.
fn sandwich(s: &[f64], z: &[f64], k: usize, w: usize) -> Vec<f64> {
    let mut sz = vec![0.0; k * w];
    for a in 0..k {
        for c in 0..k {
            let v = s[a * k + c];
            if v != 0.0 {
                for j in 0..w {
                    sz[a * w + j] += v * z[c * w + j];
                }
            }
        }
    }
    let mut out = vec![0.0; w * w];
    for i in 0..w {
        for a in 0..k {
            let zi = z[a * w + i];
            if zi != 0.0 {
                for j in 0..w {
                    out[i * w + j] += zi * sz[a * w + j];
                }
            }
        }
    }
    out
}

fn kron(a: &[f64], na: usize, b: &[f64], nb: usize) -> Vec<f64> {
    let n = na * nb;
    let mut out = vec![0.0; n * n];
    for i in 0..na {
        for j in 0..na {
            for k in 0..nb {
                for l in 0..nb {
                    out[(i * nb + k) * n + j * nb + l] = a[i * na + j] * b[k * nb + l];
                }
            }
        }
    }
    out
}

fn identity(n: usize) -> Vec<f64> {
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    v
}

/// One penalty on a block of θ.
pub(super) struct Pen {
    pub(super) term: usize,
    pub(super) start: usize,
    pub(super) len: usize,
    /// Normalised penalty matrix (len × len).
    pub(super) s: Vec<f64>,
    /// Factor from the unscaled penalty: S_normalised = norm · S_raw.
    pub(super) norm: f64,
    pub(super) rank: usize,
    /// A penalty on what the smoothing penalty leaves free (a smooth's linear trend, a factor's
    /// or linear term's coefficients), with the fixed weight [`NULL_RIDGE`].
    pub(super) null: bool,
}

/// A monotone constraint on a smooth's block: D₁Z maps θ to first differences of β.
pub(super) struct Mono {
    pub(super) start: usize,
    pub(super) len: usize,
    pub(super) dz: Vec<f64>,
    pub(super) sign: f64,
    pub(super) kappa: f64,
}

/// The projection onto the null space of a symmetric penalty (len × len) and its rank: the
/// "double penalty" of Marra & Wood (2011, "Practical variable selection for generalized additive
/// models", CSDA 55:2372–2387), which lets REML shrink a smooth's linear trend too. Without it a
/// data set that a linear model separates (breast_cancer_wisconsin) has no finite fit.
fn null_space_penalty(s: &[f64], len: usize) -> (Vec<f64>, usize) {
    let m = Mat::<f64>::from_fn(len, len, |a, b| s[a * len + b]);
    let Ok(evd) = m.self_adjoint_eigen(Side::Lower) else {
        return (vec![0.0; len * len], 0);
    };
    let ev: Vec<f64> = (0..len).map(|i| evd.S()[i]).collect();
    let top = ev.iter().copied().fold(0.0, f64::max);
    let u = evd.U();
    let mut out = vec![0.0; len * len];
    let mut rank = 0;
    for (i, &l) in ev.iter().enumerate() {
        if l <= top * 1e-9 {
            rank += 1;
            for a in 0..len {
                for b in 0..len {
                    out[a * len + b] += u[(a, i)] * u[(b, i)];
                }
            }
        }
    }
    (out, rank)
}

fn frobenius(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

fn numeric_of(ds: &Dataset, option: &'static str, name: &str) -> Result<usize, GamError> {
    let j = ds
        .schema()
        .features()
        .iter()
        .position(|f| f.name == name)
        .ok_or_else(|| GamError::BadFeature {
            option,
            feature: name.to_string(),
            problem: "is not a feature of the data".into(),
        })?;
    if !matches!(ds.schema().features()[j].kind, FeatureKind::Numeric) {
        return Err(GamError::BadFeature {
            option,
            feature: name.to_string(),
            problem:
                "is categorical; only numeric features can be monotone or part of an interaction"
                    .into(),
        });
    }
    Ok(j)
}

/// The basis of a training column (missing values filled) with `k` functions, knots placed as
/// asked, with its centring constraint and training basis means ([`centring`]).
fn make_basis(col: ArrayView1<f64>, k: usize, knots: Knots) -> (BSpline, Vec<f64>, Vec<f64>) {
    let basis = match knots {
        Knots::Uniform => {
            let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            BSpline::uniform(lo, hi, k)
        }
        Knots::Quantile => {
            let mut v = col.to_vec();
            v.sort_by(f64::total_cmp);
            BSpline::quantile(&v, k)
        }
    };
    let (z, c) = centring(&basis, col);
    (basis, z, c)
}

/// The training means c of a basis over `col` and the null space Z of cᵀ (k × (k − 1)).
fn centring(basis: &BSpline, col: ArrayView1<f64>) -> (Vec<f64>, Vec<f64>) {
    let k = basis.k;
    let mut c = vec![0.0; k];
    for &v in col {
        let (i, w) = basis.eval(v);
        for r in 0..4 {
            c[i + r] += w[r];
        }
    }
    let n = col.len().max(1) as f64;
    c.iter_mut().for_each(|v| *v /= n);
    (null_space_of(&c), c)
}

fn distinct(col: ArrayView1<f64>) -> usize {
    let mut v: Vec<f64> = col.to_vec();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v.len()
}

pub(crate) fn fit(params: &GamParams, link: LinkFunction, ds: &Dataset) -> Result<Gam, GamError> {
    let family = params.family;
    let target = ds.target().cloned().ok_or_else(|| GlmError::TargetKind {
        target: "?".into(),
        family: family.name(),
        found: "absent (the data have no target column)".into(),
        need: "a target column",
    })?;
    let y = ds.y().ok_or_else(|| GlmError::TargetKind {
        target: target.name.clone(),
        family: family.name(),
        found: "absent from the data".into(),
        need: "a target column",
    })?;
    check::check_target_kind(&target, family)?;
    check::check_response(family, y.view(), &target.name)?;
    let schema = ds.schema();
    let design = Design::from_training(schema, ds.x().view(), true)?;
    let n = ds.n_rows();
    // Numeric features missing in some training rows get a missing-value term (see
    // [`MISSING_TERMS`]).
    let flagged: Vec<usize> = schema
        .features()
        .iter()
        .zip(design.imputations())
        .enumerate()
        .filter(|(_, (f, imp))| {
            MISSING_TERMS && imp.count > 0 && matches!(f.kind, FeatureKind::Numeric)
        })
        .map(|(j, _)| j)
        .collect();
    // Training matrix with missing values filled, then the missing-value indicators.
    let fills: Vec<f64> = design.imputations().iter().map(|i| i.fill).collect();
    let xf = filled_matrix(ds.x().view(), &fills, &flagged);
    let mut monotone = vec![0i8; schema.len()];
    for (name, s) in &params.monotone {
        monotone[numeric_of(ds, "--monotone", name)?] = *s;
    }
    let mut pairs = Vec::new();
    for (a, b) in &params.interactions {
        let (i, j) = (
            numeric_of(ds, "--interactions", a)?,
            numeric_of(ds, "--interactions", b)?,
        );
        if i == j {
            return Err(GamError::BadFeature {
                option: "--interactions",
                feature: a.clone(),
                problem: "is paired with itself; name two different features".into(),
            });
        }
        pairs.push([i, j]);
    }
    let mut warnings = Vec::new();
    // Basis size: as asked, or the default made smaller for small data.
    let distincts: Vec<usize> = (0..schema.len()).map(|j| distinct(xf.column(j))).collect();
    let n_flagged = flagged.len();
    let n_splines = match params.n_splines {
        Some(k) => k,
        None => {
            let (mut smooth, mut other) = (0usize, 1 + n_flagged);
            for (j, f) in schema.features().iter().enumerate() {
                match &f.kind {
                    FeatureKind::Numeric if distincts[j] > 3 => smooth += 1,
                    FeatureKind::Categorical { levels } => other += levels.len().saturating_sub(1),
                    _ => other += 1,
                }
            }
            let budget = (n / 2).saturating_sub(other);
            let k = if smooth == 0 {
                super::DEFAULT_SPLINES
            } else {
                (budget / smooth + 1).clamp(4, super::DEFAULT_SPLINES)
            };
            if k < super::DEFAULT_SPLINES {
                warnings.push(GamWarning::BasisForRows { rows: n, k });
            }
            k
        }
    };
    let mut specs = Vec::new();
    let mut names = Vec::new();
    for (j, f) in schema.features().iter().enumerate() {
        match &f.kind {
            FeatureKind::Numeric => {
                let d = distincts[j];
                if d <= 3 {
                    if d > 1 {
                        warnings.push(GamWarning::ReducedBasis {
                            feature: f.name.clone(),
                            distinct: d,
                            k: 0,
                        });
                    }
                    specs.push(Spec::Linear { feature: j });
                } else {
                    let k = n_splines.min(d);
                    let (basis, z, _) = make_basis(xf.column(j), k, params.knots);
                    // Quantile knots merge tied quantiles, which can shrink the basis further.
                    if basis.k < n_splines {
                        warnings.push(GamWarning::ReducedBasis {
                            feature: f.name.clone(),
                            distinct: d,
                            k: basis.k,
                        });
                    }
                    specs.push(Spec::Smooth {
                        feature: j,
                        basis,
                        z,
                        monotone: monotone[j],
                    });
                }
            }
            FeatureKind::Categorical { levels } => specs.push(Spec::Factor {
                feature: j,
                levels: levels.len(),
                reml: factor_reml(levels.len(), params.smoothing),
            }),
            FeatureKind::CategoryCode => {
                return Err(GlmError::CategoryCodes {
                    feature: f.name.clone(),
                }
                .into())
            }
        }
        names.push(f.name.clone());
    }
    for (q, &f) in flagged.iter().enumerate() {
        specs.push(Spec::Missing {
            feature: f,
            column: schema.len() + q,
        });
        names.push(missing_term_name(&schema.features()[f].name));
    }
    for [a, b] in &pairs {
        let mut bases = Vec::new();
        let mut zs = Vec::new();
        let mut cs = Vec::new();
        for &f in [a, b] {
            let k = params.tensor_splines.min(distinct(xf.column(f)));
            if k < 4 {
                return Err(GamError::BadFeature {
                    option: "--interactions",
                    feature: schema.features()[f].name.clone(),
                    problem: "has fewer than 4 distinct values: too few for a smooth interaction"
                        .into(),
                });
            }
            let (basis, z, c) = make_basis(xf.column(f), k, params.knots);
            bases.push(basis);
            zs.push(z);
            cs.push(c);
        }
        let [b0, b1]: [BSpline; 2] = bases.try_into().expect("two bases");
        let [z0, z1]: [Vec<f64>; 2] = zs.try_into().expect("two");
        let [c0, c1]: [Vec<f64>; 2] = cs.try_into().expect("two");
        specs.push(Spec::Tensor {
            features: [*a, *b],
            bases: [b0, b1],
            z: [z0, z1],
            means: [c0, c1],
        });
        names.push(format!(
            "{}:{}",
            schema.features()[*a].name,
            schema.features()[*b].name
        ));
    }
    // Column layout: intercept, then each term's block.
    let mut starts = Vec::with_capacity(specs.len());
    let mut p = 1;
    for s in &specs {
        starts.push(p);
        p += s.width();
    }
    if n <= p {
        let n_smooth = specs
            .iter()
            .filter(|s| matches!(s, Spec::Smooth { .. }))
            .count()
            .max(1);
        let other = p - specs
            .iter()
            .filter_map(|s| match s {
                Spec::Smooth { basis, .. } => Some(basis.k - 1),
                _ => None,
            })
            .sum::<usize>();
        let suggest = ((n.saturating_sub(other + 1)) / n_smooth + 1).max(4);
        return Err(GamError::TooFewRows {
            rows: n,
            params: p,
            n_smooth,
            n_splines,
            suggest,
        });
    }
    check_parametric(&specs, &xf, &names, schema)?;
    // The model matrix.
    let mut x = Array2::<f64>::zeros((n, p));
    for (mut out, row) in x.axis_iter_mut(Axis(0)).zip(xf.axis_iter(Axis(0))) {
        out[0] = 1.0;
        let o = out.as_slice_mut().expect("standard layout");
        for (s, &st) in specs.iter().zip(&starts) {
            s.row(row, &mut o[st..st + s.width()]);
        }
    }
    let xtx = x.t().dot(&x);
    let (pens, monos) = penalties(&specs, &starts, &xtx);
    let auto = params.smoothing == Smoothing::Auto;
    let mut lambda: Vec<f64> = pens
        .iter()
        .map(|pn| match params.smoothing {
            _ if pn.null => NULL_RIDGE,
            Smoothing::Auto => 1.0,
            Smoothing::Fixed(l) => l / pn.norm,
        })
        .collect();
    let sol = solve(
        family,
        link,
        &x,
        y.view(),
        &pens,
        &monos,
        &mut lambda,
        auto,
        params.max_iter,
    )?;
    if !sol.converged {
        warnings.push(GamWarning::NotConverged {
            iterations: sol.iterations,
        });
    }
    if sol.damped > 0 {
        warnings.push(GamWarning::DampedSmoothing {
            halvings: sol.damped,
        });
    }
    if family == Family::Binomial {
        if let Some(w) = separation(&x, y.view(), &sol.theta) {
            warnings.push(w);
        }
    }
    for (j, imp) in design
        .imputations()
        .iter()
        .enumerate()
        .filter(|(_, i)| i.count > 0)
    {
        warnings.push(GamWarning::Imputed {
            feature: imp.feature.clone(),
            count: imp.count,
            fill: imp.display.clone(),
            missing_term: flagged.contains(&j),
        });
    }
    // Back to the β parametrisation.
    let theta = &sol.theta;
    let cov = &sol.cov;
    let mut terms = Vec::with_capacity(specs.len());
    for (t, (s, &st)) in specs.iter().zip(&starts).enumerate() {
        let len = s.width();
        let th = &theta[st..st + len];
        let block = |i: usize, j: usize| cov[[st + i, st + j]];
        let (kind, coef, cov_b) = match s {
            Spec::Smooth {
                feature,
                basis,
                z,
                monotone,
            } => {
                let k = basis.k;
                let w = k - 1;
                let coef: Vec<f64> = (0..k)
                    .map(|a| (0..w).map(|j| z[a * w + j] * th[j]).sum())
                    .collect();
                // Z V Zᵀ.
                let mut vz = vec![0.0; w * k];
                for i in 0..w {
                    for a in 0..k {
                        vz[i * k + a] = (0..w).map(|j| block(i, j) * z[a * w + j]).sum();
                    }
                }
                let mut c = vec![0.0; k * k];
                for a in 0..k {
                    for b in 0..k {
                        c[a * k + b] = (0..w).map(|i| z[a * w + i] * vz[i * k + b]).sum();
                    }
                }
                if *monotone != 0 {
                    let s = f64::from(*monotone);
                    let worst = coef
                        .windows(2)
                        .map(|d| (-(s * (d[1] - d[0]))).max(0.0))
                        .fold(0.0, f64::max);
                    let scale = coef.iter().map(|v| v.abs()).fold(0.0, f64::max);
                    if worst > 1e-9 * scale.max(1e-300) {
                        warnings.push(GamWarning::MonotoneViolation {
                            feature: names[t].clone(),
                            max_violation: worst,
                        });
                    }
                }
                (
                    TermKind::Smooth {
                        feature: *feature,
                        basis: basis.clone(),
                        monotone: *monotone,
                    },
                    coef,
                    c,
                )
            }
            Spec::Linear { feature } => (
                TermKind::Linear { feature: *feature },
                vec![th[0]],
                vec![block(0, 0)],
            ),
            Spec::Missing { feature, .. } => (
                TermKind::Missing { feature: *feature },
                vec![th[0]],
                vec![block(0, 0)],
            ),
            Spec::Factor {
                feature, levels, ..
            } => {
                let mut coef = vec![0.0];
                coef.extend_from_slice(th);
                let mut c = vec![0.0; levels * levels];
                for i in 1..*levels {
                    for j in 1..*levels {
                        c[i * levels + j] = block(i - 1, j - 1);
                    }
                }
                (TermKind::Factor { feature: *feature }, coef, c)
            }
            Spec::Tensor {
                features,
                bases,
                z,
                means,
            } => {
                let (k1, k2) = (bases[0].k, bases[1].k);
                let (w1, w2) = (k1 - 1, k2 - 1);
                // Γ = Z₁ Θ Z₂ᵀ.
                let mut tz = vec![0.0; w1 * k2];
                for a in 0..w1 {
                    for b in 0..k2 {
                        tz[a * k2 + b] = (0..w2).map(|j| th[a * w2 + j] * z[1][b * w2 + j]).sum();
                    }
                }
                let mut g = vec![0.0; k1 * k2];
                for a in 0..k1 {
                    for b in 0..k2 {
                        g[a * k2 + b] = (0..w1).map(|i| z[0][a * w1 + i] * tz[i * k2 + b]).sum();
                    }
                }
                (
                    TermKind::Tensor {
                        features: *features,
                        bases: bases.clone(),
                        basis_means: means.clone(),
                    },
                    g,
                    Vec::new(),
                )
            }
        };
        let lam: Vec<f64> = pens
            .iter()
            .zip(&lambda)
            .filter(|(pn, _)| pn.term == t && !pn.null)
            .map(|(pn, l)| l * pn.norm)
            .collect();
        terms.push(GamTerm {
            name: names[t].clone(),
            kind,
            coef,
            cov: cov_b,
            mean: 0.0,
            edf: sol.edf_cols[st..st + len].iter().sum(),
            lambda: lam,
            inference: None,
        });
    }
    let y_mean = y.mean().unwrap_or(0.0);
    let null_deviance: f64 = y.iter().map(|&v| family.unit_deviance(v, y_mean)).sum();
    let mut gam = Gam {
        schema: schema.clone(),
        target,
        output_names: vec![ds.target().map(|t| t.name.clone()).unwrap_or_default()],
        design,
        intercept: theta[0],
        terms,
        report: GamReport {
            family,
            link,
            n_rows: n,
            deviance: sol.deviance,
            null_deviance,
            edf: sol.edf_cols.iter().sum(),
            scale: sol.scale,
            iterations: sol.iterations,
            converged: sol.converged,
            smoothing: if auto { "reml" } else { "fixed" }.into(),
            warnings,
            screened: Vec::new(),
        },
    };
    // Training means of each term (smooths: zero up to rounding by construction).
    let means: Vec<f64> = gam
        .terms
        .iter()
        .map(|t| {
            ds.x()
                .axis_iter(Axis(0))
                .map(|row| gam.term_value(t, row))
                .sum::<f64>()
                / n as f64
        })
        .collect();
    for (t, m) in gam.terms.iter_mut().zip(means) {
        t.mean = m;
    }
    Ok(gam)
}

/// The smoothing penalties (each scaled to the Frobenius norm of its block of `xtx` = XᵀX), the
/// fixed null-space ridges, and the monotone constraints of the terms `specs` whose θ blocks
/// start at `starts`.
fn penalties(specs: &[Spec], starts: &[usize], xtx: &Array2<f64>) -> (Vec<Pen>, Vec<Mono>) {
    let block_norm = |st: usize, len: usize| -> f64 {
        let b = xtx.slice(ndarray::s![st..st + len, st..st + len]);
        b.iter().map(|v| v * v).sum::<f64>().sqrt()
    };
    // Penalties and monotone constraints.
    let mut pens = Vec::new();
    let mut monos = Vec::new();
    for (t, (s, &st)) in specs.iter().zip(starts).enumerate() {
        let len = s.width();
        let raw: Vec<(Vec<f64>, usize)> = match s {
            Spec::Smooth { basis, z, .. } => {
                let k = basis.k;
                let wiggly = sandwich(&difference_penalty(k, 2), z, k, k - 1);
                let null = null_space_penalty(&wiggly, k - 1);
                let rank = k - 1 - null.1;
                vec![(wiggly, rank), null]
            }
            Spec::Factor { levels, .. } => vec![(identity(levels - 1), levels - 1)],
            Spec::Linear { .. } | Spec::Missing { .. } => vec![(identity(1), 1)],
            Spec::Tensor { bases, z, .. } => {
                let (k1, k2) = (bases[0].k, bases[1].k);
                let s1 = sandwich(&difference_penalty(k1, 2), &z[0], k1, k1 - 1);
                let s2 = sandwich(&difference_penalty(k2, 2), &z[1], k2, k2 - 1);
                vec![
                    (
                        kron(&s1, k1 - 1, &identity(k2 - 1), k2 - 1),
                        (k1 - 2) * (k2 - 1),
                    ),
                    (
                        kron(&identity(k1 - 1), k1 - 1, &s2, k2 - 1),
                        (k1 - 1) * (k2 - 2),
                    ),
                ]
            }
        };
        let bn = block_norm(st, len);
        let first_of_term = pens.len();
        for (sm, rank) in raw {
            if rank == 0 {
                continue;
            }
            let fnorm = frobenius(&sm);
            let norm = if fnorm > 0.0 && bn > 0.0 {
                bn / fnorm
            } else {
                1.0
            };
            pens.push(Pen {
                term: t,
                start: st,
                len,
                s: sm.iter().map(|v| v * norm).collect(),
                norm,
                rank,
                null: !matches!(s, Spec::Tensor { .. } | Spec::Factor { reml: true, .. })
                    && (pens.len() > first_of_term || !matches!(s, Spec::Smooth { .. })),
            });
        }
        if let Spec::Smooth {
            basis, z, monotone, ..
        } = s
        {
            if *monotone != 0 {
                let k = basis.k;
                let d1 = difference_matrix(k, 1);
                let w = k - 1;
                let mut dz = vec![0.0; (k - 1) * w];
                for r in 0..k - 1 {
                    for c in 0..k {
                        let d = d1[r * k + c];
                        if d != 0.0 {
                            for j in 0..w {
                                dz[r * w + j] += d * z[c * w + j];
                            }
                        }
                    }
                }
                let dtd = {
                    let mut m = vec![0.0; w * w];
                    for r in 0..k - 1 {
                        for i in 0..w {
                            for j in 0..w {
                                m[i * w + j] += dz[r * w + i] * dz[r * w + j];
                            }
                        }
                    }
                    m
                };
                let fnorm = frobenius(&dtd);
                monos.push(Mono {
                    start: st,
                    len,
                    dz,
                    sign: f64::from(*monotone),
                    kappa: MONO_KAPPA * if fnorm > 0.0 { bn / fnorm } else { 1.0 },
                });
            }
        }
    }
    (pens, monos)
}

/// Complete separation: every positive training row has a higher fitted linear predictor than
/// every negative one. The unpenalised likelihood then has no maximum; the fit is finite only
/// because of the [`NULL_RIDGE`] on each term's unpenalised part, which the report must say.
/// (Quasi-complete separation leaves rows on both sides of a tie and is not flagged: the fit is
/// finite there and the probabilities of the overlapping rows are meaningful.)
fn separation(x: &Array2<f64>, y: ArrayView1<f64>, theta: &[f64]) -> Option<GamWarning> {
    let th = ArrayView1::from(theta);
    let (mut lo_pos, mut hi_neg) = (f64::INFINITY, f64::NEG_INFINITY);
    for (row, &v) in x.axis_iter(Axis(0)).zip(y) {
        let eta = row.dot(&th);
        if v > 0.5 {
            lo_pos = lo_pos.min(eta);
        } else {
            hi_neg = hi_neg.max(eta);
        }
    }
    (lo_pos.is_finite() && hi_neg.is_finite() && lo_pos > hi_neg).then(|| GamWarning::Separation {
        gap: lo_pos - hi_neg,
    })
}

/// Errors when the unpenalised part (intercept, each smooth's linear trend, dummies) is rank
/// deficient: the penalties cannot make up for that.
fn check_parametric(
    specs: &[Spec],
    xf: &Array2<f64>,
    names: &[String],
    schema: &crate::data::FeatureSchema,
) -> Result<(), GamError> {
    let n = xf.nrows();
    let mut cols: Vec<Array1<f64>> = vec![Array1::ones(n)];
    let mut col_names = vec!["intercept".to_string()];
    for (s, name) in specs.iter().zip(names) {
        match s {
            Spec::Smooth { feature, .. } | Spec::Linear { feature } => {
                cols.push(xf.column(*feature).to_owned());
                col_names.push(name.clone());
            }
            Spec::Missing { column, .. } => {
                cols.push(xf.column(*column).to_owned());
                col_names.push(name.clone());
            }
            Spec::Factor {
                feature, levels, ..
            } => {
                let lv = match &schema.features()[*feature].kind {
                    FeatureKind::Categorical { levels } => levels.clone(),
                    _ => vec![],
                };
                for l in 1..*levels {
                    cols.push(xf.column(*feature).mapv(|v| f64::from(v == l as f64)));
                    col_names.push(format!("{name}={}", lv.get(l).cloned().unwrap_or_default()));
                }
            }
            Spec::Tensor { .. } => {}
        }
    }
    let m = Array2::from_shape_fn((n, cols.len()), |(i, j)| cols[j][i]);
    let red = check::find_collinear(m.view(), &col_names);
    if red.is_empty() {
        Ok(())
    } else {
        Err(GamError::Collinear {
            relations: red.into_iter().map(|r| r.relation).collect(),
        })
    }
}
