//! LIME (Ribeiro et al. 2016) for tabular data, as the `lime` package's `LimeTabularExplainer`,
//! with the kernel width tuned per row and stability measured across seeds.
//!
//! # The procedure (per explained row x and output)
//! 1. Draw perturbations from the training sample's per-feature distributions (or around x),
//!    optionally with quartile/decile discretisation; map each to its interpretable vector z
//!    (see `sampler.rs`). The first sample is x itself.
//! 2. Evaluate the model on all perturbations in one batched call (raw score, or the link applied
//!    for [`super::OutputSpace::Probability`]).
//! 3. Weight sample i by lime's exponential kernel on the Euclidean distance in z space,
//!    k(d) = √exp(−d²/width²).
//! 4. Select features (forward, lasso path, highest weights, none) and fit a weighted ridge (or
//!    lasso) surrogate; report its weighted R² on the fitting samples and on an independent
//!    held-out sample set weighted by the same kernel.
//!
//! # Output convention
//! `values[j] = coef_j · z0_j`, base value = the surrogate's intercept, so base + Σ values is the
//! surrogate's prediction at x (reported as `local_prediction`; it is *not* forced to equal the
//! model's output — compare `model_prediction` and the R²). For discretised and categorical
//! features z0_j = 1, so the value is the coefficient itself, exactly lime's `as_list()` weight:
//! the effect of being in x's bin/category rather than another. For continuous features
//! z0_j = (x_j − mean_j)/sd_j and the value is the contribution of x_j relative to the training
//! mean (lime reports the per-sd coefficient instead). Unselected features get 0.
//!
//! # Kernel width: tuned, not 0.75·√M
//! lime's fixed width 0.75·√M is arbitrary, and results depend strongly on it. Following
//! OptiLIME (Visani et al. 2020) — fidelity falls and stability rises as the width grows — we
//! evaluate a geometric grid of widths 0.75·√M · 2^(i/2), i = −8..4, on the *same* samples (one
//! set of model evaluations) and choose, per row and output, **the largest width whose held-out
//! R² is at least min(target, best − 0.05)**, where best is the highest held-out R² over the grid
//! and target defaults to 0.9. Widths whose kernel leaves fewer than max(50, 5(K+1)) effective
//! fitting samples or 30 effective held-out samples (Kish) are not eligible. The held-out R²
//! guards against the over-fitting that makes the in-sample R² favour tiny widths; the "best −
//! 0.05" clause keeps the rule meaningful when no width reaches the target (common for
//! nonlinear models). Rejected: Bayesian optimisation of the width (OptiLIME) — a 13-point grid
//! costs no model evaluations here (the Gram matrices are reused, see `surrogate.rs`) and is
//! deterministic.
//!
//! # Stability
//! With `repeats` ≥ 2 LIME is re-run with new seeds at the chosen width and we report, per row
//! and output, the variables stability index and coefficient stability index of Visani et al.
//! (2022, "Statistical stability indices for LIME") — as fractions in \[0, 1\] — and the mean
//! pairwise Jaccard index of the top-k features by |value|.
//!
//! # Draws and cost
//! Perturbations come from a randomised Sobol' sequence keyed by (seed, repeat) — a
//! variance-reduction step, see `sampler.rs` for why and what it bought. With sampling from the
//! training distribution (the default, as lime's) the perturbed *values* do not depend on the
//! explained row — lime draws them the same way for every row; only their interpretable
//! representation z (same bin/category as the row or not) does. So the fitting and held-out
//! perturbations are drawn **once per seed and repeat, and the model is evaluated on them once**
//! (in parallel blocks), for all rows; each row then only maps the shared values to its own z,
//! weights and Gram matrices. Each row's sample has exactly the distribution lime's has; what
//! changes is that the rows' estimation errors are correlated (common random numbers), which no
//! per-row result depends on. This removes the model evaluations that dominated the cost
//! (70–85 % of a run before). Continuous features sampled around the instance
//! ([`SampleAround::Instance`]) make the values row-dependent; then each row draws and evaluates
//! its own sample (same sequence and seed). Either way rows run in parallel and the draws depend
//! only on (seed, repeat), so results do not depend on threads or chunking.
//!
//! # Where the time went, and the fast paths
//! Profiled with callgrind (instruction counts, one thread) on `glassbox explain --method lime`
//! with the german_credit XGBoost fixture (61 features, 200 trees of depth 5, 5000 + 1000
//! samples): one row cost 381 M instructions, of which evaluating the 6000 perturbations was
//! 221 M, drawing them 54 M, reading the model 38 M and the CSVs ~25 M; ten rows cost 623 M, the
//! extra ~27 M per row going to the per-class Grams (9 M), the 13 widths' surrogate fits (9 M,
//! mostly 61-feature Cholesky factorisations), the per-width Grams (4 M) and held-out R² (2 M).
//! Now, with the same output bit for bit (tests compare each fast path with the general one): a
//! tree ensemble's pool is evaluated by `model::flat` (branch-free, rows in lock-step: 91 M); the
//! values are drawn in parallel blocks with their codes read off the pool position; with every
//! feature discrete and M ≤ 64 each row's distance classes and Grams come from byte-packed codes
//! (`packed.rs`: one match mask per sample, a bit-matrix transpose per 64 samples); the Cholesky
//! runs over row slices; widths and classes run in parallel. One row: 232 M, ten rows 398 M.
//! What is left is mostly the model evaluation, the JSON model parse and CSV reading (serial).
//!
//! A second pass (same outputs bit for bit, checked against the previous build on the harness
//! cases and on regression, multiclass, missing-value, continuous, repeated and forward/lasso
//! selection runs): the flat predictor walks 16 rows per tree at once; width tuning decides
//! eligibility from the weight sums alone and fits only widths that can be chosen (the last one
//! always: it is the fallback), and weighs held-out samples once per distinct distance; the
//! held-out set of a discrete pool is kept as match masks (no per-row z matrix); the Cholesky
//! runs as row updates on Lᵀ and the Gram sums vectorise (AVX2 when the CPU has it); a
//! discrete shared pool is drawn and evaluated block by block, drawing column by column. Ten
//! rows, 5000 samples, 2 threads on a loaded 2-core machine (41 alternating runs, medians of the
//! `--timings` explain step): tuned width 1.7× faster, fixed width 1.3×; whole-run instructions
//! (callgrind, one thread) 456 M → 398 M tuned, 355 M → 343 M fixed (issue 6).

mod packed;
mod sampler;
mod stability;
mod surrogate;

pub use sampler::{Discretize, SampleAround};
pub use surrogate::{FeatureSelection, Surrogate};

use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use self::packed::Packed;
use self::sampler::{mix64, TrainingStats};
use self::surrogate::{Fit, Gram};
use super::diagnostics::{Diagnostics, LimeDiagnostics};
use super::{ExplainError, ExplainOptions, Explanation, ExplanationMeta, OutputSpace, Result};
use crate::model::flat::FlatEnsemble;
use crate::model::Model;

/// The kernel width rule.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum KernelWidth {
    /// Tuned per row and output (module docs), with this held-out R² target.
    Tuned {
        /// The held-out R² the width must keep (default 0.9).
        target_r2: f64,
    },
    /// lime's default, 0.75·√M.
    LimeDefault,
    /// A fixed width.
    Fixed(f64),
}

/// LIME parameters. Defaults (lime's unless noted): 5000 fitting samples, 1000 held-out samples
/// (ours), quartile discretisation, sampling from the training distribution, tuned kernel width
/// with target R² 0.9 (ours), 10 features chosen by `Auto`, ridge α = 1, one repeat, top-5
/// Jaccard.
#[derive(Clone, Debug, PartialEq)]
pub struct LimeParams {
    samples: usize,
    holdout: usize,
    discretize: Discretize,
    around: SampleAround,
    width: KernelWidth,
    num_features: usize,
    selection: FeatureSelection,
    surrogate: Surrogate,
    repeats: usize,
    top_k: usize,
}

impl Default for LimeParams {
    fn default() -> Self {
        LimeParams {
            samples: 5000,
            holdout: 1000,
            discretize: Discretize::Quartile,
            around: SampleAround::Training,
            width: KernelWidth::Tuned { target_r2: 0.9 },
            num_features: 10,
            selection: FeatureSelection::Auto,
            surrogate: Surrogate::Ridge(1.0),
            repeats: 1,
            top_k: 5,
        }
    }
}

impl LimeParams {
    /// Fitting samples per row (the explained row included).
    pub fn samples(mut self, n: usize) -> Self {
        self.samples = n;
        self
    }
    /// Held-out samples per row, for the held-out R² and width tuning.
    pub fn holdout(mut self, n: usize) -> Self {
        self.holdout = n;
        self
    }
    /// Discretisation of numeric features.
    pub fn discretize(mut self, d: Discretize) -> Self {
        self.discretize = d;
        self
    }
    /// Centre of continuous perturbations.
    pub fn sample_around(mut self, a: SampleAround) -> Self {
        self.around = a;
        self
    }
    /// The kernel width rule.
    pub fn kernel_width(mut self, w: KernelWidth) -> Self {
        self.width = w;
        self
    }
    /// Features in the surrogate (K).
    pub fn num_features(mut self, k: usize) -> Self {
        self.num_features = k;
        self
    }
    /// The feature selection method.
    pub fn feature_selection(mut self, s: FeatureSelection) -> Self {
        self.selection = s;
        self
    }
    /// The surrogate regression.
    pub fn surrogate(mut self, s: Surrogate) -> Self {
        self.surrogate = s;
        self
    }
    /// Runs per row with different seeds (≥ 2 computes the stability indices).
    pub fn repeats(mut self, r: usize) -> Self {
        self.repeats = r;
        self
    }
    /// The k of the top-k Jaccard index.
    pub fn top_k(mut self, k: usize) -> Self {
        self.top_k = k;
        self
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`ExplainError::InvalidParam`] naming the parameter.
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(ExplainError::InvalidParam {
                name,
                value,
                reason: reason.into(),
            })
        };
        if self.samples < 10 {
            return bad(
                "--samples",
                self.samples.to_string(),
                "LIME needs at least 10 samples per row (lime's default is 5000)",
            );
        }
        if self.holdout < 10 {
            return bad("holdout", self.holdout.to_string(), "at least 10");
        }
        match self.width {
            KernelWidth::Fixed(w) if !(w.is_finite() && w > 0.0) => {
                return bad("--kernel-width", w.to_string(), "must be a positive number")
            }
            KernelWidth::Tuned { target_r2 } if !(target_r2 <= 1.0) => {
                return bad(
                    "--target-r2",
                    target_r2.to_string(),
                    "must be a number at most 1",
                )
            }
            _ => {}
        }
        if self.num_features == 0 {
            return bad("--num-features", "0".into(), "must be at least 1");
        }
        match self.surrogate {
            Surrogate::Ridge(a) | Surrogate::Lasso(a) if !(a.is_finite() && a >= 0.0) => {
                return bad("surrogate alpha", a.to_string(), "must be ≥ 0")
            }
            _ => {}
        }
        if self.repeats == 0 {
            return bad("--lime-repeats", "0".into(), "must be at least 1");
        }
        if self.top_k == 0 {
            return bad("top k", "0".into(), "must be at least 1");
        }
        Ok(())
    }
}

/// Explains rows `x` of `model` with LIME, sampling from the training sample `training`.
///
/// # Errors
/// [`ExplainError::Shape`] when `x` or `training` do not have the model's feature count or
/// `training` is empty; [`ExplainError::InvalidParam`] for invalid parameters.
pub fn explain_lime(
    model: &dyn Model,
    x: ArrayView2<f64>,
    training: ArrayView2<f64>,
    params: &LimeParams,
    options: &ExplainOptions,
) -> Result<Explanation> {
    let schema = model.schema();
    let m = schema.len();
    for (what, cols) in [("rows", x.ncols()), ("training rows", training.ncols())] {
        if cols != m {
            return Err(ExplainError::Shape(format!(
                "{what} have {cols} columns but the model has {m} features"
            )));
        }
    }
    if training.nrows() == 0 {
        return Err(ExplainError::Shape(
            "LIME's training sample (--background) has no rows: pass a sample of the training data"
                .into(),
        ));
    }
    params.check()?;
    let stats = TrainingStats::new(training, schema, params.discretize, params.around);
    let k = model.n_outputs();
    let n = x.nrows();
    let mut fx = model.predict_raw(x);
    let link = match options.output_space {
        OutputSpace::Raw => None,
        OutputSpace::Probability => Some(model.link()),
    };
    apply_link(link, &mut fx);
    let x = x.as_standard_layout();
    let mut ctx = RowContext {
        model,
        stats: &stats,
        params,
        link,
        k,
        m,
        seed: options.seed,
        flat: model.as_tree_ensemble().and_then(FlatEnsemble::new),
        pools: Vec::new(),
    };
    if stats.row_independent() && n > 0 {
        // One fitting pool per repeat, one held-out pool (module docs).
        ctx.pools = (0..params.repeats)
            .map(|r| {
                let hold = (r == 0).then(|| ctx.pool(None, params.holdout, ctx.seed_of(r, 1)));
                (ctx.pool(None, params.samples - 1, ctx.seed_of(r, 0)), hold)
            })
            .collect();
    }
    let rows: Vec<RowOut> = (0..n)
        .into_par_iter()
        .map(|i| {
            let xi = x.row(i).to_vec();
            let fxi = fx.row(i).to_vec();
            ctx.explain_row(&xi, &fxi)
        })
        .collect();

    let mut values = Array3::zeros((n, k, m));
    let mut base = Array2::zeros((n, k));
    let mut d = LimeDiagnostics {
        n_outputs: k,
        kernel_width: Vec::with_capacity(n * k),
        r2_fit: Vec::with_capacity(n * k),
        r2_holdout: Vec::with_capacity(n * k),
        local_prediction: Vec::with_capacity(n * k),
        model_prediction: Vec::with_capacity(n * k),
        vsi: Vec::with_capacity(n * k),
        csi: Vec::with_capacity(n * k),
        top_k_jaccard: Vec::with_capacity(n * k),
        repeats: params.repeats,
        top_k: params.top_k,
    };
    for (i, r) in rows.into_iter().enumerate() {
        for (o, out) in r.outputs.into_iter().enumerate() {
            for (j, v) in out.values.iter().enumerate() {
                values[[i, o, j]] = *v;
            }
            base[[i, o]] = out.intercept;
            d.kernel_width.push(out.width);
            d.r2_fit.push(out.r2_fit);
            d.r2_holdout.push(out.r2_holdout);
            d.local_prediction.push(out.local);
            d.model_prediction.push(fx[[i, o]]);
            d.vsi.push(out.stability.vsi);
            d.csi.push(out.stability.csi);
            d.top_k_jaccard.push(out.stability.jaccard);
        }
    }
    let mut meta = ExplanationMeta::new("lime");
    meta.output_space = options.output_space;
    meta.seed = Some(options.seed);
    meta.diagnostics = Some(Diagnostics::Lime(d));
    Explanation::new(
        values,
        base,
        schema.clone(),
        model.output_names().to_vec(),
        meta,
    )?
    .with_data(x.to_owned())
}

/// The readable condition behind each feature's LIME value for the explained row `x` — lime's
/// `as_list()` labels, such as `12 < duration <= 24` or `checking_status = <0` — from the same
/// training statistics and discretisation that [`explain_lime`] uses with these `params`.
///
/// # Errors
/// [`ExplainError::Shape`] when `x` or `training` do not have the schema's feature count or
/// `training` is empty.
pub fn conditions(
    training: ArrayView2<f64>,
    schema: &crate::data::FeatureSchema,
    params: &LimeParams,
    x: &[f64],
) -> Result<Vec<String>> {
    let m = schema.len();
    if x.len() != m || training.ncols() != m || training.nrows() == 0 {
        return Err(ExplainError::Shape(format!(
            "LIME conditions need a row and a non-empty training sample with the model's {m} features (got {} values and {} × {})",
            x.len(),
            training.nrows(),
            training.ncols()
        )));
    }
    let stats = TrainingStats::new(training, schema, params.discretize, params.around);
    Ok(schema
        .features()
        .iter()
        .enumerate()
        .map(|(j, f)| stats.condition(j, f, x[j]))
        .collect())
}

fn apply_link(link: Option<crate::model::Link>, y: &mut Array2<f64>) {
    if let Some(link) = link {
        for mut row in y.rows_mut() {
            let mut v = row.to_vec();
            link.apply(&mut v);
            row.iter_mut().zip(v).for_each(|(d, s)| *d = s);
        }
    }
}

struct RowContext<'a> {
    model: &'a dyn Model,
    stats: &'a TrainingStats,
    params: &'a LimeParams,
    link: Option<crate::model::Link>,
    k: usize,
    m: usize,
    seed: u64,
    /// The model laid out for fast batch prediction, when it is a tree ensemble that allows it
    /// (same outputs, bit for bit).
    flat: Option<FlatEnsemble>,
    /// Per repeat, the shared fitting pool and (repeat 0) the held-out pool; empty when the
    /// draws depend on the row.
    pools: Vec<(Pool, Option<Pool>)>,
}

/// Perturbed rows (n × M), their codes and the model's outputs on them (n × K).
struct Pool {
    /// Empty for a shared pool of discrete features (only the codes are needed after the model
    /// has seen the values).
    v: Vec<f64>,
    codes: Vec<u32>,
    /// The codes byte-packed, for a shared pool of discrete features (packed.rs).
    packed: Option<Packed>,
    y: Vec<f64>,
}

/// Rows per model call when evaluating a shared pool (blocks run in parallel).
const EVAL_BLOCK: usize = 256;

struct OutputResult {
    values: Vec<f64>,
    intercept: f64,
    width: f64,
    r2_fit: f64,
    r2_holdout: f64,
    local: f64,
    stability: stability::Stability,
}

struct RowOut {
    outputs: Vec<OutputResult>,
}

/// Samples of one LIME run: interpretable rows, squared distances to z0, model outputs.
struct Draws {
    z: Vec<f64>,
    d2: Vec<f64>,
    y: Vec<f64>,
}

/// lime's kernel: √exp(−d²/w²).
#[inline]
fn kernel(d2: f64, width: f64) -> f64 {
    (-d2 / (2.0 * width * width)).exp()
}

impl RowContext<'_> {
    /// The sequence seed of repeat r and sample set (0 fitting, 1 held-out).
    fn seed_of(&self, repeat: usize, set: u64) -> u64 {
        mix64(mix64(self.seed ^ mix64(repeat as u64)) ^ set)
    }

    /// Draws n perturbed rows (around x for instance-centred continuous features) and evaluates
    /// the model on them: in parallel blocks when shared (`x` = None), in one call for a row.
    fn pool(&self, x: Option<&[f64]>, n: usize, seed: u64) -> Pool {
        let (m, k) = (self.m, self.k);
        let eval = |block: &[f64], rows: usize, out: &mut [f64]| {
            // Invariant: block holds rows × m values, out rows × k.
            let view = ArrayView2::from_shape((rows, m), block)
                .unwrap_or_else(|_| unreachable!("sample buffer shape"));
            let mut p = ArrayViewMut2::from_shape((rows, k), out)
                .unwrap_or_else(|_| unreachable!("output buffer shape"));
            match &self.flat {
                Some(flat) => flat.predict_raw_into(view, p.view_mut()),
                None => self.model.predict_raw_into(view, p.view_mut()),
            }
            if let Some(link) = self.link {
                out.chunks_exact_mut(k).for_each(|row| link.apply(row));
            }
        };
        let mut codes = vec![0; n * m];
        let mut y = vec![0.0; n * k];
        if x.is_none() && m > 0 && k > 0 && self.stats.all_discrete() {
            // Every feature discrete: the interpretable rows need only the codes, so the values
            // live one block at a time, drawn and evaluated together (no pool-sized buffer to
            // fault in and stream through memory). Same points, same outputs.
            codes
                .par_chunks_mut(EVAL_BLOCK * m)
                .zip(y.par_chunks_mut(EVAL_BLOCK * k))
                .enumerate()
                .for_each_init(Vec::new, |vb, (b, (cb, out))| {
                    let rows = cb.len() / m;
                    vb.clear();
                    vb.resize(rows * m, 0.0);
                    self.stats.draw_block(None, b * EVAL_BLOCK, seed, vb, cb);
                    eval(vb, rows, out);
                });
            let packed = Packed::new(&codes, m);
            return Pool {
                v: Vec::new(),
                codes,
                packed,
                y,
            };
        }
        let mut v = vec![0.0; n * m];
        self.stats.draw(x, n, seed, &mut v, &mut codes);
        if x.is_none() && m > 0 && k > 0 {
            y.par_chunks_mut(EVAL_BLOCK * k)
                .zip(v.par_chunks(EVAL_BLOCK * m))
                .for_each(|(out, block)| eval(block, block.len() / m, out));
        } else {
            eval(&v, n, &mut y);
        }
        let packed = (x.is_none() && self.stats.all_discrete())
            .then(|| Packed::new(&codes, m))
            .flatten();
        Pool {
            v,
            codes,
            packed,
            y,
        }
    }

    /// The fitting (`include_x`: x first, with output fx) or held-out samples of row x for a
    /// repeat: from the shared pool, or drawn for this row.
    fn draws(&self, x: &[f64], z0: &[f64], fx: &[f64], repeat: usize, hold: bool) -> Draws {
        let (m, k, p) = (self.m, self.k, self.params);
        let own;
        let pool = match self.pools.get(repeat) {
            Some((fit, h)) => match (hold, h) {
                (false, _) => fit,
                (true, Some(h)) => h,
                (true, None) => unreachable!("held-out pool of repeat 0"),
            },
            None => {
                let n = if hold { p.holdout } else { p.samples - 1 };
                own = self.pool(Some(x), n, self.seed_of(repeat, u64::from(hold)));
                &own
            }
        };
        let lead = usize::from(!hold);
        let n = lead + pool.y.len() / k.max(1);
        let mut z = vec![0.0; n * m];
        let mut y = Vec::with_capacity(n * k);
        if !hold {
            z[..m].copy_from_slice(z0);
            y.extend_from_slice(fx);
        }
        self.stats
            .fill_z(x, &pool.v, &pool.codes, &mut z[lead * m..]);
        y.extend_from_slice(&pool.y);
        let d2 = z
            .chunks_exact(m.max(1))
            .take(n)
            .map(|r| r.iter().zip(z0).map(|(a, b)| (a - b) * (a - b)).sum())
            .collect();
        Draws { z, d2, y }
    }

    /// The held-out samples of row x (repeat 0) as match masks against x's codes, when the
    /// shared held-out pool is byte-packed (every feature discrete): no interpretable rows are
    /// built. `None` otherwise.
    fn hold_masks(&self, x: &[f64]) -> Option<Hold<'_>> {
        let (_, Some(hold)) = self.pools.first()? else {
            return None;
        };
        let packed = hold.packed.as_ref()?;
        let cx: Vec<u32> = (0..self.m).map(|j| self.stats.code(j, x[j])).collect();
        let mut masks = Vec::new();
        if !packed.masks(&cx, &mut masks) {
            return None;
        }
        // The squared distance in z is the number of features that differ.
        let d2 = masks
            .iter()
            .map(|mask| (self.m - mask.count_ones() as usize) as f64)
            .collect();
        Some(Hold::Masks {
            masks,
            d2,
            y: &hold.y,
        })
    }

    /// The per-distance-class Grams of the fitting samples of row x and repeat r straight from
    /// the shared pool's codes, without building z, when every feature is discrete (z is "same
    /// code as x's"; the squared distance is the number of features that differ).
    fn binary_grams(&self, x: &[f64], fx: &[f64], repeat: usize) -> Option<GramSource<'static>> {
        if !self.stats.all_discrete() {
            return None;
        }
        let (fit, _) = self.pools.get(repeat)?;
        let (m, k) = (self.m, self.k);
        let cx: Vec<u32> = (0..m).map(|j| self.stats.code(j, x[j])).collect();
        let n = 1 + fit.y.len() / k.max(1);
        // Sample 0 is x itself.
        let row = |i: usize| -> (&[u32], &[f64]) {
            if i == 0 {
                (&cx, fx)
            } else {
                (&fit.codes[(i - 1) * m..i * m], &fit.y[(i - 1) * k..i * k])
            }
        };
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); m + 1];
        let mut masks = Vec::new();
        if let Some(packed) = fit.packed.as_ref().filter(|p| p.masks(&cx, &mut masks)) {
            // Match masks from the byte-packed codes (packed.rs): same classes, same Grams.
            masks.insert(0, packed.all());
            for (i, mask) in masks.iter().enumerate() {
                members[m - mask.count_ones() as usize].push(i);
            }
            // Classes in parallel (collected in distance order): one row's work spreads too.
            let classes = members
                .par_iter()
                .enumerate()
                .filter(|(_, r)| !r.is_empty())
                .map(|(d, r)| {
                    let rows = r.iter().map(|&i| (masks[i], row(i).1));
                    (d as f64, Gram::from_masks(m, k, rows))
                })
                .collect();
            return Some(GramSource::Classes { classes, m, k });
        }
        for i in 0..n {
            let d = row(i).0.iter().zip(&cx).filter(|(a, b)| a != b).count();
            members[d].push(i);
        }
        let classes = members
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.is_empty())
            .map(|(d, r)| (d as f64, Gram::binary(m, k, &cx, r.iter().map(|&i| row(i)))))
            .collect();
        Some(GramSource::Classes { classes, m, k })
    }

    fn explain_row(&self, x: &[f64], fx: &[f64]) -> RowOut {
        let (m, k, p) = (self.m, self.k, self.params);
        let z0 = self.stats.represent(x);
        let fit_set;
        let grams = match self.binary_grams(x, fx, 0) {
            Some(g) => g,
            None => {
                fit_set = self.draws(x, &z0, fx, 0, false);
                GramSource::new(&fit_set, m, k)
            }
        };
        let hold_dense;
        let hold = match self.hold_masks(x) {
            Some(h) => h,
            None => {
                hold_dense = self.draws(x, &z0, fx, 0, true);
                Hold::Dense(&hold_dense)
            }
        };
        let default_width = 0.75 * (m as f64).sqrt();
        let widths: Vec<f64> = match p.width {
            KernelWidth::Tuned { .. } => (-8..=4)
                .map(|i| default_width * 2f64.powf(i as f64 / 2.0))
                .collect(),
            KernelWidth::LimeDefault => vec![default_width],
            KernelWidth::Fixed(w) => vec![w],
        };
        // Per width: the Gram matrix, the fits of every output, held-out R².
        let kk = p.num_features.min(m);
        let min_fit = (5 * (kk + 1)).max(50) as f64;
        // The held-out distances take few values when features are discrete: the kernel is
        // computed once per distinct distance (the same numbers as once per sample).
        let hold_classes = DistanceClasses::new(hold.d2());
        let last = widths.len() - 1;
        // Widths are independent: in parallel (a lone row would otherwise use one thread),
        // collected in grid order. Eligibility needs only the weight sums, so widths that cannot
        // be chosen are not fitted (the last one is: it is the fallback).
        let table: Vec<WidthRow> = widths
            .par_iter()
            .enumerate()
            .map(|(i, &w)| {
                let hw = hold_classes.weights(hold.d2(), w);
                let hess = {
                    let (s, s2) = hw.iter().fold((0.0, 0.0), |(a, b), v| (a + v, b + v * v));
                    if s2 > 0.0 {
                        s * s / s2
                    } else {
                        0.0
                    }
                };
                let (sw, sw2) = grams.weight_sums(w);
                let eligible = surrogate::kish(sw, sw2) >= min_fit && hess >= 30.0;
                let fits = (eligible || i == last).then(|| {
                    let g = grams.at(w);
                    (0..k)
                        .map(|o| {
                            let f = surrogate::fit(&g, o, &z0, p.selection, kk, p.surrogate);
                            let r2h = holdout_r2(&f, &hold, &hw, m, k, o);
                            (f, r2h)
                        })
                        .collect()
                });
                (w, eligible, fits)
            })
            .collect();
        let mut outputs = Vec::with_capacity(k);
        for o in 0..k {
            let chosen = match p.width {
                KernelWidth::Tuned { target_r2 } => choose_width(&table, o, target_r2),
                _ => 0,
            };
            let (w, _, fits) = &table[chosen];
            let (fit, r2h) = &fitted(fits)[o];
            let mut values = vec![0.0; m];
            for (&j, b) in fit.features.iter().zip(&fit.coef) {
                values[j] = b * z0[j];
            }
            outputs.push(OutputResult {
                local: fit.predict(&z0),
                intercept: fit.intercept,
                width: *w,
                r2_fit: fit.r2,
                r2_holdout: *r2h,
                stability: stability::Stability::none(),
                values,
            });
        }
        if p.repeats >= 2 {
            // Repeat at each output's chosen width with fresh seeds.
            let mut runs: Vec<Vec<stability::Run>> = vec![Vec::new(); k];
            for (o, out) in outputs.iter().enumerate() {
                let (_, _, fits) = &table[widths.iter().position(|&w| w == out.width).unwrap_or(0)];
                let f = &fitted(fits)[o].0;
                runs[o].push((
                    f.features.clone(),
                    f.coef.clone(),
                    f.se.clone(),
                    out.values.clone(),
                ));
            }
            for r in 1..p.repeats {
                let s;
                let gs = match self.binary_grams(x, fx, r) {
                    Some(g) => g,
                    None => {
                        s = self.draws(x, &z0, fx, r, false);
                        GramSource::new(&s, m, k)
                    }
                };
                for (o, out) in outputs.iter().enumerate() {
                    let g = gs.at(out.width);
                    let f = surrogate::fit(&g, o, &z0, p.selection, kk, p.surrogate);
                    let mut values = vec![0.0; m];
                    for (&j, b) in f.features.iter().zip(&f.coef) {
                        values[j] = b * z0[j];
                    }
                    runs[o].push((f.features, f.coef, f.se, values));
                }
            }
            for (o, out) in outputs.iter_mut().enumerate() {
                out.stability = stability::Stability::of(&runs[o], p.top_k);
            }
        }
        RowOut { outputs }
    }
}

/// One width of the grid: the width, whether it is eligible, and (when eligible, or the last
/// width) each output's fit with its held-out R².
type WidthRow = (f64, bool, Option<Vec<(Fit, f64)>>);

/// The fits of a width that can be chosen (eligible, or the last).
fn fitted(fits: &Option<Vec<(Fit, f64)>>) -> &[(Fit, f64)] {
    fits.as_deref()
        .unwrap_or_else(|| unreachable!("chosen widths are eligible or the last, all fitted"))
}

/// The largest eligible width whose held-out R² is at least min(target, best − 0.05); the
/// largest width when none is eligible.
fn choose_width(table: &[WidthRow], o: usize, target: f64) -> usize {
    let r2h = |i: usize| fitted(&table[i].2)[o].1;
    let eligible: Vec<usize> = (0..table.len())
        .filter(|&i| table[i].1 && r2h(i).is_finite())
        .collect();
    let Some(best) = eligible.iter().map(|&i| r2h(i)).reduce(f64::max) else {
        return table.len() - 1;
    };
    let threshold = target.min(best - 0.05);
    eligible
        .iter()
        .rev()
        .copied()
        .find(|&i| r2h(i) >= threshold)
        .unwrap_or(table.len() - 1)
}

/// The distinct values of a set of squared distances and each sample's index among them, when
/// there are at most [`MAX_CLASSES`] (discrete features); else none.
struct DistanceClasses(Option<(Vec<f64>, Vec<u16>)>);

impl DistanceClasses {
    fn new(d2: &[f64]) -> DistanceClasses {
        let mut d: Vec<f64> = d2.to_vec();
        d.sort_by(f64::total_cmp);
        d.dedup();
        if d.len() > MAX_CLASSES {
            return DistanceClasses(None);
        }
        // Invariant: every distance is one of the sorted distinct values.
        let idx = d2
            .iter()
            .map(|&v| d.partition_point(|&c| c < v) as u16)
            .collect();
        DistanceClasses(Some((d, idx)))
    }

    /// The kernel weight of every sample at `width`.
    fn weights(&self, d2: &[f64], width: f64) -> Vec<f64> {
        match &self.0 {
            Some((d, idx)) => {
                let k: Vec<f64> = d.iter().map(|&v| kernel(v, width)).collect();
                idx.iter().map(|&c| k[usize::from(c)]).collect()
            }
            None => d2.iter().map(|&v| kernel(v, width)).collect(),
        }
    }
}

/// The held-out samples of a row: dense interpretable rows, or match masks (bit j set when
/// z_j = 1, every feature discrete) — the same z either way.
enum Hold<'a> {
    Dense(&'a Draws),
    Masks {
        masks: Vec<u64>,
        d2: Vec<f64>,
        y: &'a [f64],
    },
}

impl Hold<'_> {
    fn d2(&self) -> &[f64] {
        match self {
            Hold::Dense(d) => &d.d2,
            Hold::Masks { d2, .. } => d2,
        }
    }

    fn y(&self) -> &[f64] {
        match self {
            Hold::Dense(d) => &d.y,
            Hold::Masks { y, .. } => y,
        }
    }
}

/// Weighted R² of a fit on the held-out samples.
fn holdout_r2(f: &Fit, hold: &Hold, w: &[f64], m: usize, k: usize, o: usize) -> f64 {
    let n = w.len();
    let ys = hold.y();
    let (mut sw, mut swy) = (0.0, 0.0);
    for i in 0..n {
        sw += w[i];
        swy += w[i] * ys[i * k + o];
    }
    if !(sw > 0.0) {
        return f64::NAN;
    }
    let mean = swy / sw;
    let (mut rss, mut tss) = (0.0, 0.0);
    let mut add = |i: usize, pred: f64| {
        let y = ys[i * k + o];
        let e = y - pred;
        rss += w[i] * e * e;
        tss += w[i] * (y - mean) * (y - mean);
    };
    match hold {
        Hold::Dense(d) => (0..n).for_each(|i| add(i, f.predict(&d.z[i * m..(i + 1) * m]))),
        Hold::Masks { masks, .. } => (0..n).for_each(|i| add(i, f.predict_mask(masks[i]))),
    }
    surrogate::r2(rss, tss)
}

/// Weighted Gram matrices of one sample set at any width: from per-distance-class matrices
/// when the distances take few values (discretised/categorical), else directly.
enum GramSource<'a> {
    Classes {
        classes: Vec<(f64, Gram)>,
        m: usize,
        k: usize,
    },
    Direct {
        s: &'a Draws,
        m: usize,
        k: usize,
    },
}

/// Above this many distinct distances the per-class matrices stop paying off.
const MAX_CLASSES: usize = 256;

impl<'a> GramSource<'a> {
    fn new(s: &'a Draws, m: usize, k: usize) -> GramSource<'a> {
        let mut d: Vec<f64> = s.d2.clone();
        d.sort_by(f64::total_cmp);
        d.dedup();
        if d.len() > MAX_CLASSES {
            return GramSource::Direct { s, m, k };
        }
        let mut classes: Vec<(f64, Gram)> = d.iter().map(|&v| (v, Gram::zeros(m, k))).collect();
        for (i, &di) in s.d2.iter().enumerate() {
            // Invariant: every distance is one of the sorted distinct values.
            let c = d.partition_point(|&v| v < di);
            classes[c]
                .1
                .add(1.0, &s.z[i * m..(i + 1) * m], &s.y[i * k..(i + 1) * k]);
        }
        GramSource::Classes { classes, m, k }
    }

    /// Σw and Σw² of the samples at `width`, computed exactly as [`GramSource::at`] sums them
    /// (so eligibility can be decided before building the Gram).
    fn weight_sums(&self, width: f64) -> (f64, f64) {
        let (mut sw, mut sw2) = (0.0, 0.0);
        match self {
            GramSource::Classes { classes, .. } => {
                for (d2, gc) in classes {
                    let (s, s2) = gc.weight_sums();
                    let c = kernel(*d2, width);
                    sw += c * s;
                    sw2 += c * c * s2;
                }
            }
            GramSource::Direct { s, .. } => {
                for &d2 in &s.d2 {
                    let w = kernel(d2, width);
                    sw += w;
                    sw2 += w * w;
                }
            }
        }
        (sw, sw2)
    }

    fn at(&self, width: f64) -> Gram {
        #[cfg(target_arch = "x86_64")]
        if surrogate::has_avx2() {
            /// [`GramSource::at_in`] compiled for AVX2 (see [`surrogate::has_avx2`]).
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(s: &GramSource<'_>, width: f64) -> Gram {
                s.at_in(width)
            }
            // SAFETY: the CPU supports AVX2 (checked just above), the only feature `avx2` is
            // compiled with beyond the baseline.
            return unsafe { avx2(self, width) };
        }
        self.at_in(width)
    }

    /// [`GramSource::at`]'s body, inlined into each instruction-set version.
    #[inline(always)]
    fn at_in(&self, width: f64) -> Gram {
        let mut g = match self {
            GramSource::Classes { classes, m, k } => {
                let mut g = Gram::zeros(*m, *k);
                for (d2, gc) in classes {
                    g.add_scaled(gc, kernel(*d2, width));
                }
                g
            }
            GramSource::Direct { s, m, k } => {
                let mut g = Gram::zeros(*m, *k);
                for (i, &d2) in s.d2.iter().enumerate() {
                    g.add(
                        kernel(d2, width),
                        &s.z[i * m..(i + 1) * m],
                        &s.y[i * k..(i + 1) * k],
                    );
                }
                g
            }
        };
        g.symmetrise();
        g
    }
}
