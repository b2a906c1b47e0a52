//! Neural additive models (Agarwal et al., "Neural Additive Models: Interpretable Machine
//! Learning with Neural Nets", NeurIPS 2021): one small network per feature, outputs summed.
//!
//! # Architecture
//! The raw score of one member is `bias + Σⱼ fⱼ(xⱼ)`:
//! - a **numeric** feature is standardised with the training mean and standard deviation (stored
//!   in the model) and fed to its own net: a first layer of ExU units
//!   `h = min(max(e^w·(x − b), 0), 1)` — the paper's exp-centred units with a ReLU capped at
//!   n = 1, which let a net bend sharply and so fit jagged shapes — or plain ReLU units
//!   (`--activation relu`), then dense ReLU layers, then one linear output (sizes `--hidden`,
//!   default 64 → 32 → 1);
//! - a **categorical** feature gets one learned value per level (a level's net output is a free
//!   parameter; a network over a one-hot input would learn exactly that, more slowly);
//! - a **missing** value, numeric or categorical, gets one more learned value per feature, so
//!   missingness is modelled rather than imputed (a feature with no missing training value gets
//!   its term's training mean instead, so a missing value later contributes 0).
//!
//! The ensemble averages the members' raw scores; its shape function `fⱼ` is the average of the
//! members' (each centred on its training mean), and the members' spread is the band
//! ([`Nam::shape_curve`]). Binary targets use the logistic loss (raw = log-odds); regression
//! targets are standardised for training and the scale is folded back, so raw = the prediction.
//!
//! # Training loop ([`train`])
//! Each member draws its own validation split, initialisation, shuffles and dropout masks from a
//! ChaCha8 stream keyed by (seed, member). Per epoch it shuffles its training rows and takes
//! Adam steps on mini-batches of the loss `mean loss + λ_out·mean(fⱼ²) + λ_wd/(2·features)·Σθ²`
//! (the paper's output penalty and weight decay), with dropout on hidden units and feature
//! dropout (a feature's whole output dropped for a row); after each epoch the validation loss
//! decides early stopping (patience), and the best epoch's weights are kept. Members train in
//! parallel with rayon and are collected in member order, so the model is bit-identical whatever
//! the thread count.
//!
//! # Why hand-derived gradients
//! The nets are tiny (one input, ~2,200 weights) and the architecture is fixed, so the backward
//! pass is a page of code ([`layers`]) checked against finite differences for every parameter
//! kind (tests in [`train`]). A tensor/autodiff crate (candle, burn, tch) was rejected: it would
//! add minutes of compile time on 2-core CI and hundreds of transitive crates for three small
//! matrix products per layer, its f32 defaults clash with the crate's f64 convention, and its
//! per-op dispatch costs more than the arithmetic at these sizes. The dense products go through
//! `ndarray`'s matrixmultiply kernels (already a dependency), which are SIMD and deterministic.
//!
//! # Explanations
//! A NAM is additive in raw space, so `explain --method additive` is exact: a feature's
//! contribution is its ensemble-averaged output minus that output's training mean, and the base
//! value is the mean training raw score ([`Nam::contributions`]). These are the interventional
//! Shapley values with the training rows as background.
//!
//! ```
//! use glassbox::data::{Dataset, SchemaOptions};
//! use glassbox::model::nam::NamParams;
//! use glassbox::model::Model;
//!
//! let ds = Dataset::load_training("data/german_credit.csv", "bad_credit", &SchemaOptions::default())?;
//! let nam = NamParams::default().members(2).epochs(3).hidden(vec![8, 4]).seed(7).fit(&ds.head(200))?;
//! let p = nam.predict(ds.head(5).x().view());
//! assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod layers;
mod params;
mod refit;
pub mod train;

pub use layers::{Activation, FeatureNet};
pub use params::{NamParams, NamValidParams};
pub use refit::{MemberObjective, NamObjective};

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Link, Model};
use crate::data::{Dataset, FeatureKind, FeatureSchema, TargetSpec};
use layers::Cache;

/// Rows evaluated together at predict time. Results do not depend on it (each row's output is
/// computed in a fixed order); it only bounds the scratch memory.
const CHUNK: usize = 256;

/// How a feature's encoded values enter its term.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// A number, standardised as `(x − mean) / scale` before its net.
    Numeric {
        /// Training mean of the observed values.
        mean: f64,
        /// Training standard deviation of the observed values (1 when it is 0).
        scale: f64,
        /// Smallest observed training value (the shape-function grid starts here).
        min: f64,
        /// Largest observed training value.
        max: f64,
    },
    /// A level index `0..levels`.
    Categorical {
        /// Number of levels.
        levels: usize,
    },
}

impl Input {
    /// The standardised value of an observed number.
    #[inline]
    fn standardise(&self, v: f64) -> f64 {
        match self {
            Input::Numeric { mean, scale, .. } => (v - mean) / scale,
            Input::Categorical { .. } => v,
        }
    }
}

/// One feature's term in one member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// The subnetwork of a numeric feature (`None` for a categorical one).
    pub net: Option<FeatureNet>,
    /// Learned values: a categorical feature's one per level, then the missing value; a numeric
    /// feature's missing value alone.
    pub values: Vec<f64>,
    /// Mean of the term's output over the training rows: contributions are measured from it.
    pub center: f64,
}

/// One ensemble member: a bias and a term per feature (raw score = bias + Σ terms, in the
/// standardised target units for regression).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The bias.
    pub bias: f64,
    /// One term per feature, in schema order.
    pub terms: Vec<Term>,
}

/// How one member's training went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberReport {
    /// Epochs run.
    pub epochs_run: usize,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Whether early stopping ended training before the epoch limit.
    pub stopped_early: bool,
    /// Training rows (after the validation split).
    pub train_rows: usize,
    /// Validation rows.
    pub validation_rows: usize,
    /// Validation loss of the kept weights (log-loss, or mean squared error in target units);
    /// `None` without a validation split.
    pub validation_loss: Option<f64>,
}

/// The training summary stored with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamReport {
    /// `log_loss` (binary) or `mse` (regression).
    pub loss_name: String,
    /// One per member.
    pub members: Vec<MemberReport>,
}

/// The learning task of a NAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamTask {
    /// Two classes, logistic loss; raw = log-odds.
    Binary,
    /// A real number, squared loss; raw = the prediction.
    Regression,
}

/// A fitted neural additive model (an ensemble of NAMs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nam {
    schema: FeatureSchema,
    target: TargetSpec,
    output_names: Vec<String>,
    task: NamTask,
    activation: Activation,
    hidden: Vec<usize>,
    inputs: Vec<Input>,
    /// Raw score = `y_offset + y_scale · (member average)`: (0, 1) for binary; the target's
    /// training mean and standard deviation for regression.
    y_offset: f64,
    y_scale: f64,
    members: Vec<Member>,
    report: NamReport,
    /// The penalties and data split of training, for influence functions and warm-started
    /// refits (absent in model files written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    objective: Option<NamObjective>,
}

/// A feature's ensemble shape function on a grid: the mean of the members' centred terms and
/// their range, in raw-score units (log-odds or target units).
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeCurve {
    /// The feature's name.
    pub feature: String,
    /// Grid of feature values (level indices for categorical features).
    pub x: Vec<f64>,
    /// Ensemble-mean contribution at each grid point.
    pub mean: Vec<f64>,
    /// Smallest member's contribution at each grid point.
    pub lower: Vec<f64>,
    /// Largest member's contribution at each grid point.
    pub upper: Vec<f64>,
    /// Level names of a categorical feature.
    pub levels: Option<Vec<String>>,
    /// Contribution of a missing value: (mean, lower, upper).
    pub missing: (f64, f64, f64),
}

/// Scratch buffers of term evaluation.
#[derive(Default)]
struct Scratch {
    cache: Cache,
    xs: Vec<f64>,
    idx: Vec<usize>,
    fo: Vec<f64>,
    col: Vec<f64>,
    term: Vec<f64>,
}

impl NamParams {
    /// Trains the ensemble on a dataset with a binary or continuous target.
    ///
    /// # Errors
    /// [`ModelError::InvalidParam`](super::ModelError::InvalidParam) for a parameter out of
    /// range; [`ModelError::Training`](super::ModelError::Training) for a missing or multiclass
    /// target, raw category codes, or too few rows for the validation split.
    pub fn fit(&self, ds: &Dataset) -> super::Result<Nam> {
        let p = self.clone().check()?;
        train::fit(&p, ds)
    }
}

impl Nam {
    /// The target.
    pub fn target(&self) -> &TargetSpec {
        &self.target
    }

    /// Binary or regression.
    pub fn task(&self) -> NamTask {
        self.task
    }

    /// The first layer's units.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Hidden layer sizes.
    pub fn hidden(&self) -> &[usize] {
        &self.hidden
    }

    /// The ensemble members.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Per-feature input encodings (standardisation of numbers, level counts).
    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    /// The training summary.
    pub fn report(&self) -> &NamReport {
        &self.report
    }

    /// Raw score = `offset + scale · (member average)`: (0, 1) for binary; the target's training
    /// mean and standard deviation for regression.
    pub fn target_scale(&self) -> (f64, f64) {
        (self.y_offset, self.y_scale)
    }

    /// The training objective's penalties and split (`None` for models saved before it was
    /// recorded).
    pub fn objective(&self) -> Option<&NamObjective> {
        self.objective.as_ref()
    }

    /// The mean raw score over the training rows: the base value of additive explanations.
    pub fn base_value(&self) -> f64 {
        let k = self.members.len() as f64;
        let s: f64 = self
            .members
            .iter()
            .map(|m| m.bias + m.terms.iter().map(|t| t.center).sum::<f64>())
            .sum();
        self.y_offset + self.y_scale * s / k
    }

    /// Evaluates member `k`'s term `j` (uncentred, standardised units) on encoded values `col`.
    fn eval_term(&self, k: usize, j: usize, col: &[f64], out: &mut [f64], s: &mut Scratch) {
        let term = &self.members[k].terms[j];
        let input = &self.inputs[j];
        match (&term.net, input) {
            (Some(net), Input::Numeric { .. }) => {
                s.xs.clear();
                s.idx.clear();
                let missing = term.values[0];
                for (i, &v) in col.iter().enumerate() {
                    if v.is_nan() {
                        out[i] = missing;
                    } else {
                        s.idx.push(i);
                        s.xs.push(input.standardise(v));
                    }
                }
                s.fo.resize(s.xs.len(), 0.0);
                net.forward::<rand_chacha::ChaCha8Rng>(
                    self.activation,
                    &s.xs,
                    &mut s.fo,
                    &mut s.cache,
                    None,
                );
                for (&i, &f) in s.idx.iter().zip(&s.fo) {
                    out[i] = f;
                }
            }
            (_, Input::Categorical { levels }) => {
                for (o, &v) in out.iter_mut().zip(col) {
                    *o = level_value(&term.values, *levels, v);
                }
            }
            (None, Input::Numeric { .. }) => unreachable!("validated: numeric terms have nets"),
        }
    }

    /// Writes the centred, ensemble-averaged contributions of the rows of `x` (chunk) into
    /// `phi` (rows × features), in raw-score units, and their sum plus the base into `raw`.
    fn chunk(&self, x: ArrayView2<f64>, mut phi: ArrayViewMut2<f64>, raw: &mut [f64]) {
        let n = x.nrows();
        let m = self.schema.len();
        let k = self.members.len() as f64;
        let mut s = Scratch::default();
        let mut member_raw = vec![0.0; n];
        let mut acc = vec![0.0; n];
        phi.fill(0.0);
        for (mi, member) in self.members.iter().enumerate() {
            member_raw.iter_mut().for_each(|v| *v = member.bias);
            for j in 0..m {
                s.col.clear();
                s.col.extend(x.column(j).iter());
                s.term.resize(n, 0.0);
                let mut term = std::mem::take(&mut s.term);
                let col = std::mem::take(&mut s.col);
                self.eval_term(mi, j, &col, &mut term, &mut s);
                let c = member.terms[j].center;
                for i in 0..n {
                    member_raw[i] += term[i];
                    phi[[i, j]] += term[i] - c;
                }
                s.term = term;
                s.col = col;
            }
            for (a, r) in acc.iter_mut().zip(&member_raw) {
                *a += r;
            }
        }
        for i in 0..n {
            raw[i] = self.y_offset + self.y_scale * acc[i] / k;
            for j in 0..m {
                phi[[i, j]] *= self.y_scale / k;
            }
        }
    }

    /// Exact additive contributions of the rows of `x` (rows × features, raw-score units) and
    /// the raw scores: `raw = base_value() + Σⱼ contributions[·, j]` up to rounding.
    ///
    /// # Panics
    /// When `x` does not have the model's feature count (the data layer checks user input first).
    pub fn contributions(&self, x: ArrayView2<f64>) -> (Array2<f64>, Vec<f64>) {
        assert_eq!(x.ncols(), self.schema.len(), "feature count");
        let n = x.nrows();
        let m = self.schema.len();
        let parts: Vec<(Array2<f64>, Vec<f64>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let rows = c * CHUNK..((c + 1) * CHUNK).min(n);
                let xc = x.slice(ndarray::s![rows.clone(), ..]);
                let mut p = Array2::<f64>::zeros((rows.len(), m));
                let mut r = vec![0.0; rows.len()];
                self.chunk(xc, p.view_mut(), &mut r);
                (p, r)
            })
            .collect();
        let mut phi = Array2::<f64>::zeros((n, m));
        let mut raw = Vec::with_capacity(n);
        for (c, (p, r)) in parts.into_iter().enumerate() {
            let lo = c * CHUNK;
            phi.slice_mut(ndarray::s![lo..lo + r.len(), ..]).assign(&p);
            raw.extend(r);
        }
        (phi, raw)
    }

    /// The shape function of feature `j` on `points` evenly spaced values between the training
    /// minimum and maximum (one point per level for a categorical feature): the ensemble mean of
    /// the members' centred terms, and the members' range as the band.
    ///
    /// # Panics
    /// When `j` is out of range.
    pub fn shape_curve(&self, j: usize, points: usize) -> ShapeCurve {
        let feature = &self.schema.features()[j];
        let (grid, levels) = match (&self.inputs[j], &feature.kind) {
            (Input::Numeric { min, max, .. }, _) => {
                let points = points.max(2);
                let grid = (0..points)
                    .map(|i| min + (max - min) * i as f64 / (points - 1) as f64)
                    .collect::<Vec<_>>();
                (grid, None)
            }
            (Input::Categorical { levels }, kind) => {
                let names = match kind {
                    FeatureKind::Categorical { levels } => levels.clone(),
                    _ => (0..*levels).map(|l| l.to_string()).collect(),
                };
                ((0..*levels).map(|l| l as f64).collect(), Some(names))
            }
        };
        let mut col = grid.clone();
        col.push(f64::NAN);
        let g = col.len();
        let k = self.members.len();
        let mut per = vec![vec![0.0; g]; k];
        let mut s = Scratch::default();
        for (mi, out) in per.iter_mut().enumerate() {
            self.eval_term(mi, j, &col, out, &mut s);
            let c = self.members[mi].terms[j].center;
            out.iter_mut().for_each(|v| *v = self.y_scale * (*v - c));
        }
        let stat = |i: usize| {
            let vals = per.iter().map(|p| p[i]);
            let mean = vals.clone().sum::<f64>() / k as f64;
            let lo = vals.clone().fold(f64::INFINITY, f64::min);
            let hi = vals.fold(f64::NEG_INFINITY, f64::max);
            (mean, lo, hi)
        };
        let mut curve = ShapeCurve {
            feature: feature.name.clone(),
            x: grid,
            mean: Vec::new(),
            lower: Vec::new(),
            upper: Vec::new(),
            levels,
            missing: stat(g - 1),
        };
        for i in 0..g - 1 {
            let (a, b, c) = stat(i);
            curve.mean.push(a);
            curve.lower.push(b);
            curve.upper.push(c);
        }
        curve
    }

    /// Checks internal consistency (for model files).
    pub(crate) fn validate(&self) -> Result<(), String> {
        let m = self.schema.len();
        if self.inputs.len() != m {
            return Err(format!(
                "NAM has {m} features but {} input encodings",
                self.inputs.len()
            ));
        }
        if self.members.is_empty() {
            return Err("NAM has no ensemble members".into());
        }
        if self.output_names.len() != 1 {
            return Err("a NAM has exactly one output".into());
        }
        if !(self.y_scale.is_finite() && self.y_scale > 0.0 && self.y_offset.is_finite()) {
            return Err("NAM target scale must be finite and positive".into());
        }
        for (j, input) in self.inputs.iter().enumerate() {
            if let Input::Numeric { scale, mean, .. } = input {
                if !(scale.is_finite() && *scale > 0.0 && mean.is_finite()) {
                    return Err(format!(
                        "feature {j}: standardisation must be finite, scale > 0"
                    ));
                }
            }
        }
        for (k, member) in self.members.iter().enumerate() {
            if member.terms.len() != m || !member.bias.is_finite() {
                return Err(format!(
                    "member {k} has {} terms for {m} features, or a non-finite bias",
                    member.terms.len()
                ));
            }
            for (j, (term, input)) in member.terms.iter().zip(&self.inputs).enumerate() {
                let where_ = format!("member {k}, feature {j}");
                let want = match input {
                    Input::Numeric { .. } => 1,
                    Input::Categorical { levels } => levels + 1,
                };
                if term.values.len() != want
                    || !term.center.is_finite()
                    || term.values.iter().any(|v| !v.is_finite())
                {
                    return Err(format!(
                        "{where_}: expected {want} finite learned values and a finite centre"
                    ));
                }
                match (input, &term.net) {
                    (Input::Numeric { .. }, Some(net)) => {
                        net.validate().map_err(|e| format!("{where_}: {e}"))?;
                        if net.sizes() != self.hidden {
                            return Err(format!("{where_}: layer sizes differ from the model's"));
                        }
                    }
                    (Input::Categorical { .. }, None) => {}
                    _ => {
                        return Err(format!(
                            "{where_}: a numeric feature needs a net, a categorical one none"
                        ))
                    }
                }
            }
        }
        Ok(())
    }
}

/// The learned value of an encoded categorical value (missing, or anything not a level index,
/// takes the missing value).
#[inline]
fn level_value(values: &[f64], levels: usize, v: f64) -> f64 {
    if v >= 0.0 && v < levels as f64 && v.fract() == 0.0 {
        values[v as usize]
    } else {
        values[levels]
    }
}

impl Model for Nam {
    fn schema(&self) -> &FeatureSchema {
        &self.schema
    }

    fn output_names(&self) -> &[String] {
        &self.output_names
    }

    fn link(&self) -> Link {
        match self.task {
            NamTask::Binary => Link::Logistic,
            NamTask::Regression => Link::Identity,
        }
    }

    fn predict_raw_into(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        assert_eq!(x.ncols(), self.schema.len(), "feature count");
        assert_eq!(out.dim(), (x.nrows(), 1), "output shape");
        let (_, raw) = self.contributions(x);
        for (o, r) in out.iter_mut().zip(raw) {
            *o = r;
        }
    }
}
