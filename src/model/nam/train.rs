//! Training a NAM ensemble: data preparation, the loss and its gradient for a mini-batch, Adam,
//! early stopping, and the parallel loop over members.
//!
//! The loss of a batch of B rows over m features, in the paper's form (Agarwal et al. 2021, §3 and
//! their code's `penalized_loss`):
//!
//! ```text
//! L = (1/B) Σ_b ℓ(y_b, bias + Σ_j d_bj f_j(x_bj))           data loss (log-loss or ½·squared error)
//!   + λ_out · (1/(B·m)) Σ_b Σ_j f_j(x_bj)²                     output penalty
//!   + λ_wd / (2m) · Σ θ²                                      weight decay (all weights and learned values)
//! ```
//!
//! where `d_bj ∈ {0, 1/(1−p_f)}` is feature dropout. Gradients are derived by hand
//! ([`super::layers`]); the tests below compare every parameter kind with central finite
//! differences.

use ndarray::Axis;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::layers::{Activation, Cache, Dropout, FeatureNet};
use super::params::NamValidParams;
use super::{Input, Member, MemberReport, Nam, NamReport, NamTask, Term};
use crate::data::{Dataset, FeatureKind, TargetKind};
use crate::model::{sigmoid, ModelError, Result};

/// Rows per forward pass when scoring validation rows (no effect on results).
const EVAL_CHUNK: usize = 1024;

/// One feature's training column.
#[derive(Clone)]
pub(crate) enum Col {
    /// Standardised values; `NaN` = missing.
    Numeric(Vec<f64>),
    /// Level indices; `levels` = missing.
    Categorical { codes: Vec<usize>, levels: usize },
}

/// The training data in the form the loop uses.
#[derive(Clone)]
pub(crate) struct Data {
    pub(crate) cols: Vec<Col>,
    pub(crate) y: Vec<f64>,
    pub(crate) task: NamTask,
    pub(crate) activation: Activation,
}

/// Loss settings of a batch.
#[derive(Clone, Copy)]
pub(crate) struct Penalties {
    pub(crate) dropout: f64,
    pub(crate) feature_dropout: f64,
    pub(crate) weight_decay: f64,
    pub(crate) output_penalty: f64,
}

/// Reusable buffers of one member's batches.
#[derive(Default)]
pub(crate) struct Workspace {
    caches: Vec<Cache>,
    /// Per feature: batch positions of the non-missing rows, their inputs, outputs and gradients.
    idx: Vec<Vec<usize>>,
    xs: Vec<Vec<f64>>,
    fo: Vec<Vec<f64>>,
    dfo: Vec<Vec<f64>>,
    /// Per feature: term value and feature-dropout factor of each batch row.
    f: Vec<Vec<f64>>,
    mask: Vec<Vec<f64>>,
    pub(crate) logit: Vec<f64>,
}

impl Workspace {
    pub(crate) fn sized(m: usize) -> Self {
        Workspace {
            caches: (0..m).map(|_| Cache::default()).collect(),
            idx: vec![Vec::new(); m],
            xs: vec![Vec::new(); m],
            fo: vec![Vec::new(); m],
            dfo: vec![Vec::new(); m],
            f: vec![Vec::new(); m],
            mask: vec![Vec::new(); m],
            logit: Vec::new(),
        }
    }
}

/// Pointwise loss and its derivative in the raw score.
#[inline]
pub(crate) fn loss(task: NamTask, z: f64, y: f64) -> (f64, f64) {
    match task {
        // log(1 + e^z) − y·z, stably: max(z, 0) − y·z + log1p(e^−|z|).
        NamTask::Binary => (
            z.max(0.0) - y * z + (-z.abs()).exp().ln_1p(),
            sigmoid(z) - y,
        ),
        NamTask::Regression => {
            let r = z - y;
            (0.5 * r * r, r)
        }
    }
}

/// Forward pass of `member` over the batch `rows`: fills `ws.f`, `ws.mask`, `ws.logit`. With
/// `rng`, hidden-unit and feature dropout are drawn (training); without, none (evaluation).
pub(crate) fn forward_batch<R: Rng>(
    member: &Member,
    data: &Data,
    rows: &[usize],
    pen: &Penalties,
    mut rng: Option<&mut R>,
    ws: &mut Workspace,
) {
    let b = rows.len();
    ws.logit.clear();
    ws.logit.resize(b, member.bias);
    let fd_scale = 1.0 / (1.0 - pen.feature_dropout);
    for (j, (col, term)) in data.cols.iter().zip(&member.terms).enumerate() {
        let f = &mut ws.f[j];
        f.clear();
        f.resize(b, 0.0);
        match col {
            Col::Numeric(values) => {
                let (idx, xs) = (&mut ws.idx[j], &mut ws.xs[j]);
                idx.clear();
                xs.clear();
                for (pos, &r) in rows.iter().enumerate() {
                    let v = values[r];
                    if v.is_nan() {
                        f[pos] = term.values[0];
                    } else {
                        idx.push(pos);
                        xs.push(v);
                    }
                }
                let fo = &mut ws.fo[j];
                fo.resize(xs.len(), 0.0);
                let net = term.net.as_ref().expect("numeric terms have nets");
                let dropout = rng.as_deref_mut().map(|rng| Dropout {
                    p: pen.dropout,
                    rng,
                });
                net.forward(data.activation, xs, fo, &mut ws.caches[j], dropout);
                for (&pos, &v) in idx.iter().zip(fo.iter()) {
                    f[pos] = v;
                }
            }
            Col::Categorical { codes, .. } => {
                for (pos, &r) in rows.iter().enumerate() {
                    f[pos] = term.values[codes[r]];
                }
            }
        }
        let mask = &mut ws.mask[j];
        mask.clear();
        match rng.as_deref_mut() {
            Some(rng) if pen.feature_dropout > 0.0 => {
                for _ in 0..b {
                    let keep = rng.gen::<f64>() >= pen.feature_dropout;
                    mask.push(if keep { fd_scale } else { 0.0 });
                }
            }
            _ => mask.resize(b, 1.0),
        }
        for ((l, &fv), &d) in ws.logit.iter_mut().zip(f.iter()).zip(mask.iter()) {
            *l += d * fv;
        }
    }
}

/// Every parameter slice of a member in a fixed order: the bias, then per term the net's
/// slices and the learned values.
pub(crate) fn member_slices_mut(m: &mut Member) -> Vec<&mut [f64]> {
    let mut v: Vec<&mut [f64]> = vec![std::slice::from_mut(&mut m.bias)];
    for t in &mut m.terms {
        if let Some(net) = &mut t.net {
            v.extend(net.slices_mut());
        }
        v.push(&mut t.values);
    }
    v
}

/// A member of the same shape with every parameter zero.
pub(crate) fn zeros_like(m: &Member) -> Member {
    Member {
        bias: 0.0,
        terms: m
            .terms
            .iter()
            .map(|t| Term {
                net: t.net.as_ref().map(FeatureNet::zeros_like),
                values: vec![0.0; t.values.len()],
                center: 0.0,
            })
            .collect(),
    }
}

/// The penalised loss of `member` on the batch `rows` (see the module docs), adding its
/// gradient to `grad`.
pub(crate) fn batch_loss_grad<R: Rng>(
    member: &Member,
    data: &Data,
    rows: &[usize],
    pen: &Penalties,
    rng: Option<&mut R>,
    grad: &mut Member,
    ws: &mut Workspace,
) -> f64 {
    let b = rows.len();
    let m = data.cols.len();
    if ws.f.len() != m {
        *ws = Workspace::sized(m);
    }
    forward_batch(member, data, rows, pen, rng, ws);
    let bf = b as f64;
    let mut total = 0.0;
    // ∂L/∂logit, reusing the logit buffer.
    for (pos, &r) in rows.iter().enumerate() {
        let (l, g) = loss(data.task, ws.logit[pos], data.y[r]);
        total += l;
        ws.logit[pos] = g / bf;
    }
    total /= bf;
    grad.bias += ws.logit.iter().sum::<f64>();
    let out_coef = 2.0 * pen.output_penalty / (bf * m as f64);
    let mut out_pen = 0.0;
    for (j, col) in data.cols.iter().enumerate() {
        let term = &member.terms[j];
        let gterm = &mut grad.terms[j];
        let f = &ws.f[j];
        out_pen += f.iter().map(|v| v * v).sum::<f64>();
        let df = |pos: usize| ws.logit[pos] * ws.mask[j][pos] + out_coef * f[pos];
        match col {
            Col::Numeric(values) => {
                let dfo = &mut ws.dfo[j];
                dfo.clear();
                for (pos, &r) in rows.iter().enumerate() {
                    if values[r].is_nan() {
                        gterm.values[0] += df(pos);
                    }
                }
                dfo.extend(ws.idx[j].iter().map(|&pos| df(pos)));
                let net = term.net.as_ref().expect("numeric terms have nets");
                let gnet = gterm.net.as_mut().expect("numeric terms have nets");
                net.backward(data.activation, &ws.xs[j], dfo, &mut ws.caches[j], gnet);
            }
            Col::Categorical { codes, .. } => {
                for (pos, &r) in rows.iter().enumerate() {
                    gterm.values[codes[r]] += df(pos);
                }
            }
        }
    }
    total += pen.output_penalty * out_pen / (bf * m as f64);
    if pen.weight_decay > 0.0 {
        let c = pen.weight_decay / m as f64;
        let mut sq = 0.0;
        for (t, g) in member.terms.iter().zip(grad.terms.iter_mut()) {
            if let (Some(net), Some(gnet)) = (&t.net, &mut g.net) {
                for (p, gp) in net.slices().into_iter().zip(gnet.slices_mut()) {
                    for (v, gv) in p.iter().zip(gp.iter_mut()) {
                        sq += v * v;
                        *gv += c * v;
                    }
                }
            }
            for (v, gv) in t.values.iter().zip(g.values.iter_mut()) {
                sq += v * v;
                *gv += c * v;
            }
        }
        total += 0.5 * c * sq;
    }
    total
}

/// Mean unpenalised loss of `member` on `rows`, without dropout.
fn eval_loss(member: &Member, data: &Data, rows: &[usize], ws: &mut Workspace) -> f64 {
    let pen = Penalties {
        dropout: 0.0,
        feature_dropout: 0.0,
        weight_decay: 0.0,
        output_penalty: 0.0,
    };
    let mut total = 0.0;
    for chunk in rows.chunks(EVAL_CHUNK) {
        forward_batch::<ChaCha8Rng>(member, data, chunk, &pen, None, ws);
        for (pos, &r) in chunk.iter().enumerate() {
            total += loss(data.task, ws.logit[pos], data.y[r]).0;
        }
    }
    total / rows.len() as f64
}

/// Adam (Kingma & Ba 2015) with β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
struct Adam {
    m: Member,
    v: Member,
    t: i32,
    lr: f64,
}

impl Adam {
    fn step(&mut self, params: &mut Member, grad: &mut Member) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        const EPS: f64 = 1e-8;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        let ps = member_slices_mut(params);
        let gs = member_slices_mut(grad);
        let ms = member_slices_mut(&mut self.m);
        let vs = member_slices_mut(&mut self.v);
        for (((p, g), m), v) in ps.into_iter().zip(gs).zip(ms).zip(vs) {
            for i in 0..p.len() {
                let gi = g[i];
                m[i] = B1 * m[i] + (1.0 - B1) * gi;
                v[i] = B2 * v[i] + (1.0 - B2) * gi * gi;
                p[i] -= self.lr * (m[i] / c1) / ((v[i] / c2).sqrt() + EPS);
                g[i] = 0.0;
            }
        }
    }
}

/// A freshly initialised member (see [`FeatureNet::init`]); learned values start at 0, the bias
/// at the training rows' mean response (log-odds for binary).
pub(crate) fn init_member<R: Rng>(
    data: &Data,
    hidden: &[usize],
    train_rows: &[usize],
    rng: &mut R,
) -> Member {
    let ybar = train_rows.iter().map(|&r| data.y[r]).sum::<f64>() / train_rows.len() as f64;
    let bias = match data.task {
        NamTask::Binary => {
            let p = ybar.clamp(1e-6, 1.0 - 1e-6);
            (p / (1.0 - p)).ln()
        }
        NamTask::Regression => ybar,
    };
    let terms = data
        .cols
        .iter()
        .map(|col| match col {
            Col::Numeric(values) => {
                // Kinks start at the feature's distinct training values, drawn uniformly: a
                // skewed feature (capital gains, mostly 0) then still gets kinks across its
                // range instead of nearly all of them at its mode.
                let mut centres: Vec<f64> = train_rows
                    .iter()
                    .map(|&r| values[r])
                    .filter(|v| !v.is_nan())
                    .collect();
                centres.sort_by(f64::total_cmp);
                centres.dedup();
                Term {
                    net: Some(FeatureNet::init(hidden, data.activation, &centres, rng)),
                    values: vec![0.0],
                    center: 0.0,
                }
            }
            Col::Categorical { levels, .. } => Term {
                net: None,
                values: vec![0.0; levels + 1],
                center: 0.0,
            },
        })
        .collect();
    Member { bias, terms }
}

/// Member `k`'s random stream after drawing its split, its validation rows and its training rows.
pub(crate) fn member_split(
    seed: u64,
    k: usize,
    n: usize,
    validation_fraction: f64,
) -> (ChaCha8Rng, Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(k as u64);
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut rng);
    let n_val = (n as f64 * validation_fraction).round() as usize;
    let (val, train) = perm.split_at(n_val);
    (rng, val.to_vec(), train.to_vec())
}

/// Trains member `k` (its own random stream, validation split, initialisation).
fn train_member(p: &NamValidParams, data: &Data, k: usize) -> Result<(Member, MemberReport)> {
    let (mut rng, val, mut train) = member_split(p.seed, k, data.y.len(), p.validation_fraction);
    let mut member = init_member(data, &p.hidden, &train, &mut rng);
    let mut grad = zeros_like(&member);
    let mut adam = Adam {
        m: zeros_like(&member),
        v: zeros_like(&member),
        t: 0,
        lr: p.learning_rate,
    };
    let pen = Penalties {
        dropout: p.dropout,
        feature_dropout: p.feature_dropout,
        weight_decay: p.weight_decay,
        output_penalty: p.output_penalty,
    };
    let mut ws = Workspace::sized(data.cols.len());
    let mut best: Option<(f64, Member, usize)> = None;
    let mut since_best = 0;
    let mut epochs_run = 0;
    let mut stopped_early = false;
    for epoch in 1..=p.epochs {
        epochs_run = epoch;
        train.shuffle(&mut rng);
        for batch in train.chunks(p.batch_size) {
            let l = batch_loss_grad(
                &member,
                data,
                batch,
                &pen,
                Some(&mut rng),
                &mut grad,
                &mut ws,
            );
            if !l.is_finite() {
                return Err(ModelError::Training(format!(
                    "the NAM's training loss became non-finite in epoch {epoch} (member {k}); lower --learning-rate (now {})",
                    p.learning_rate
                )));
            }
            adam.step(&mut member, &mut grad);
        }
        if val.is_empty() {
            continue;
        }
        let vl = eval_loss(&member, data, &val, &mut ws);
        let improved = match &best {
            None => true,
            Some((b, _, _)) => vl < *b,
        };
        if improved {
            best = Some((vl, member.clone(), epoch));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= p.patience {
                stopped_early = true;
                break;
            }
        }
    }
    let (member, best_epoch, validation_loss) = match best {
        Some((vl, m, e)) => (m, e, Some(vl)),
        None => (member, epochs_run, None),
    };
    let report = MemberReport {
        epochs_run,
        best_epoch,
        stopped_early,
        train_rows: train.len(),
        validation_rows: val.len(),
        validation_loss,
    };
    Ok((member, report))
}

/// Checks the dataset and converts it for training; returns the data, the input encodings and
/// the target's (offset, scale).
pub(crate) fn prepare(
    ds: &Dataset,
    activation: Activation,
) -> Result<(Data, Vec<Input>, f64, f64)> {
    let target = ds.target().ok_or_else(|| {
        ModelError::Training("the data have no target column; pass --target COL".into())
    })?;
    let y = ds.y().ok_or_else(|| {
        ModelError::Training(format!(
            "the target column '{}' is absent from the data",
            target.name
        ))
    })?;
    let task = match &target.kind {
        TargetKind::Binary { .. } => NamTask::Binary,
        TargetKind::Continuous => NamTask::Regression,
        TargetKind::Multiclass { classes } => {
            return Err(ModelError::Training(format!(
                "target '{}' has {} classes; a NAM models a two-class or a numeric target (pass --task regression if the labels are numbers)",
                target.name,
                classes.len()
            )))
        }
    };
    let n = ds.n_rows();
    if n < 2 {
        return Err(ModelError::Training(format!(
            "a NAM needs at least 2 training rows, got {n}"
        )));
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(ModelError::Training(format!(
            "target '{}' has no finite value at row {}; remove or fill that row",
            target.name,
            i + 1
        )));
    }
    let (y_offset, y_scale, y) = match task {
        NamTask::Binary => (0.0, 1.0, y.to_vec()),
        NamTask::Regression => {
            let (mean, sd) = mean_sd(y.iter().copied());
            (mean, sd, y.iter().map(|v| (v - mean) / sd).collect())
        }
    };
    let mut cols = Vec::new();
    let mut inputs = Vec::new();
    for (j, f) in ds.schema().features().iter().enumerate() {
        let col = ds.x().column(j);
        match &f.kind {
            FeatureKind::Numeric => {
                let (mean, scale) = mean_sd(col.iter().copied().filter(|v| !v.is_nan()));
                let (min, max) = col
                    .iter()
                    .filter(|v| !v.is_nan())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                let (min, max) = if min.is_finite() { (min, max) } else { (0.0, 0.0) };
                let input = Input::Numeric {
                    mean,
                    scale,
                    min,
                    max,
                };
                cols.push(Col::Numeric(
                    col.iter()
                        .map(|&v| if v.is_nan() { v } else { input.standardise(v) })
                        .collect(),
                ));
                inputs.push(input);
            }
            FeatureKind::Categorical { levels } => {
                let k = levels.len();
                let codes = col
                    .iter()
                    .map(|&v| {
                        if v >= 0.0 && v < k as f64 && v.fract() == 0.0 {
                            v as usize
                        } else {
                            k
                        }
                    })
                    .collect();
                cols.push(Col::Categorical { codes, levels: k });
                inputs.push(Input::Categorical { levels: k });
            }
            _ => {
                return Err(ModelError::Training(format!(
                    "feature '{}' holds raw category codes (imported-model data); a NAM needs named levels: read the column as categorical",
                    f.name
                )))
            }
        }
    }
    let data = Data {
        cols,
        y,
        task,
        activation,
    };
    Ok((data, inputs, y_offset, y_scale))
}

/// Mean and population standard deviation (1 when the values are constant or absent).
fn mean_sd(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (s, c) = values
        .clone()
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if c == 0 {
        return (0.0, 1.0);
    }
    let mean = s / c as f64;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / c as f64;
    let sd = var.sqrt();
    (mean, if sd > 0.0 && sd.is_finite() { sd } else { 1.0 })
}

/// Trains the ensemble (members in parallel) and centres every term on its training mean.
pub(crate) fn fit(p: &NamValidParams, ds: &Dataset) -> Result<Nam> {
    let (data, inputs, y_offset, y_scale) = prepare(ds, p.activation)?;
    let n = ds.n_rows();
    let n_val = (n as f64 * p.validation_fraction).round() as usize;
    if p.validation_fraction > 0.0 && (n_val == 0 || n_val >= n) {
        return Err(ModelError::Training(format!(
            "{n} rows are too few for a validation fraction of {}: raise it, or pass 0 to train without early stopping",
            p.validation_fraction
        )));
    }
    let trained: Vec<(Member, MemberReport)> = (0..p.members)
        .into_par_iter()
        .map(|k| train_member(p, &data, k))
        .collect::<Result<_>>()?;
    let (members, reports): (Vec<Member>, Vec<MemberReport>) = trained.into_iter().unzip();
    let target = ds.target().cloned().expect("checked in prepare");
    let mut nam = Nam {
        schema: ds.schema().clone(),
        output_names: vec![target.name.clone()],
        target,
        task: data.task,
        activation: p.activation,
        hidden: p.hidden.clone(),
        inputs,
        y_offset,
        y_scale,
        members,
        report: NamReport {
            loss_name: match data.task {
                NamTask::Binary => "log_loss".into(),
                NamTask::Regression => "mse".into(),
            },
            members: reports,
        },
        objective: Some(super::NamObjective {
            weight_decay: p.weight_decay,
            output_penalty: p.output_penalty,
            seed: p.seed,
            validation_fraction: p.validation_fraction,
        }),
    };
    // Validation losses in target units (squared error scales with y_scale²; ½ undone).
    if data.task == NamTask::Regression {
        for r in &mut nam.report.members {
            r.validation_loss = r.validation_loss.map(|v| 2.0 * v * y_scale * y_scale);
        }
    }
    let centers = term_means(&nam, ds);
    // A feature with no missing training value never trained its missing value: give it the
    // term's training mean, so a missing value at predict time contributes 0, not an accident
    // of initialisation. (Changing it does not move the training mean: no training row uses it.)
    let never_missing: Vec<bool> = (0..ds.n_features())
        .map(|j| !ds.x().column(j).iter().any(|v| v.is_nan()))
        .collect();
    for (member, c) in nam.members.iter_mut().zip(centers) {
        for ((t, c), &never) in member.terms.iter_mut().zip(c).zip(&never_missing) {
            t.center = c;
            if never {
                if let Some(v) = t.values.last_mut() {
                    *v = c;
                }
            }
        }
    }
    Ok(nam)
}

/// Per member and feature, the mean term output over the rows of `ds` (uncentred).
pub(super) fn term_means(nam: &Nam, ds: &Dataset) -> Vec<Vec<f64>> {
    let x = ds.x();
    let n = x.nrows();
    let m = x.ncols();
    (0..nam.members.len())
        .into_par_iter()
        .map(|k| {
            let mut s = super::Scratch::default();
            let mut sums = vec![0.0; m];
            let mut out = Vec::new();
            for chunk in x.axis_chunks_iter(Axis(0), super::CHUNK) {
                for (j, sum) in sums.iter_mut().enumerate() {
                    let col: Vec<f64> = chunk.column(j).to_vec();
                    out.resize(col.len(), 0.0);
                    nam.eval_term(k, j, &col, &mut out, &mut s);
                    *sum += out.iter().sum::<f64>();
                }
            }
            sums.into_iter().map(|s| s / n as f64).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 features: a numeric one with missing values, a categorical one with missing values, and
    /// a second numeric one.
    fn toy(task: NamTask, activation: Activation) -> Data {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 24;
        let a: Vec<f64> = (0..n)
            .map(|i| {
                if i % 5 == 2 {
                    f64::NAN
                } else {
                    rng.gen_range(-1.5..1.5)
                }
            })
            .collect();
        let codes: Vec<usize> = (0..n).map(|i| if i % 7 == 3 { 3 } else { i % 3 }).collect();
        let c: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let y = (0..n)
            .map(|i| match task {
                NamTask::Binary => f64::from(i % 2 == 0),
                NamTask::Regression => rng.gen_range(-2.0..2.0),
            })
            .collect();
        Data {
            cols: vec![
                Col::Numeric(a),
                Col::Categorical { codes, levels: 3 },
                Col::Numeric(c),
            ],
            y,
            task,
            activation,
        }
    }

    /// Central finite differences against the hand-derived gradient, for every parameter of
    /// every kind (ExU/ReLU first layer weights and centres, dense weights and biases, output
    /// weights, level values, missing values, the bias), with dropout, feature dropout, weight
    /// decay and the output penalty all on (the dropout masks are replayed from a cloned RNG).
    fn check_gradient(task: NamTask, activation: Activation) {
        let data = toy(task, activation);
        let rows: Vec<usize> = (0..data.y.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut member = init_member(&data, &[6, 4], &rows, &mut rng);
        // Learned values off their initial zeros so every path is exercised; ExU slopes small
        // enough that many units sit inside their linear range.
        for t in &mut member.terms {
            for (i, v) in t.values.iter_mut().enumerate() {
                *v = 0.1 * (i as f64 + 1.0);
            }
            if let Some(net) = &mut t.net {
                if activation == Activation::Exu {
                    for w in &mut net.first_w {
                        *w = -0.7 + 0.1 * rng.gen::<f64>();
                    }
                }
                // Initial kinks sit exactly on training values (that is the initialisation);
                // move them off so no row is at a kink, where the loss is not differentiable.
                for b in &mut net.first_b {
                    *b += 0.01 + 0.02 * rng.gen::<f64>();
                }
                // Likewise dense biases start at 0, so a row whose inputs are all 0 sits on a
                // kink; nonzero biases avoid that.
                for d in &mut net.hidden {
                    for b in &mut d.b {
                        *b = 0.05 + 0.1 * rng.gen::<f64>();
                    }
                }
            }
        }
        let pen = Penalties {
            dropout: 0.2,
            feature_dropout: 0.1,
            weight_decay: 0.05,
            output_penalty: 0.3,
        };
        let mask_rng = ChaCha8Rng::seed_from_u64(99);
        let mut ws = Workspace::default();
        let mut grad = zeros_like(&member);
        batch_loss_grad(
            &member,
            &data,
            &rows,
            &pen,
            Some(&mut mask_rng.clone()),
            &mut grad,
            &mut ws,
        );
        let mut analytic: Vec<f64> = Vec::new();
        for s in member_slices_mut(&mut grad) {
            analytic.extend(s.iter());
        }
        let total: usize = analytic.len();
        let mut worst: f64 = 0.0;
        let mut idx = 0;
        let n_slices = member_slices_mut(&mut member.clone()).len();
        for si in 0..n_slices {
            let len = member_slices_mut(&mut member.clone())[si].len();
            for i in 0..len {
                let h = 1e-6;
                let eval = |delta: f64| {
                    let mut m2 = member.clone();
                    member_slices_mut(&mut m2)[si][i] += delta;
                    let mut g = zeros_like(&m2);
                    let mut ws = Workspace::default();
                    batch_loss_grad(
                        &m2,
                        &data,
                        &rows,
                        &pen,
                        Some(&mut mask_rng.clone()),
                        &mut g,
                        &mut ws,
                    )
                };
                let fd = (eval(h) - eval(-h)) / (2.0 * h);
                let err = (fd - analytic[idx]).abs() / fd.abs().max(1e-3);
                assert!(
                    err < 1e-4,
                    "{task:?}/{activation:?}: slice {si} index {i}: analytic {} vs finite difference {fd}",
                    analytic[idx]
                );
                worst = worst.max(err);
                idx += 1;
            }
        }
        assert_eq!(idx, total);
        // The check must have looked at non-trivial gradients.
        assert!(analytic.iter().filter(|g| g.abs() > 1e-6).count() > total / 2);
    }

    #[test]
    fn gradient_matches_finite_differences_exu_binary() {
        check_gradient(NamTask::Binary, Activation::Exu);
    }

    #[test]
    fn gradient_matches_finite_differences_relu_regression() {
        check_gradient(NamTask::Regression, Activation::Relu);
    }

    #[test]
    fn gradient_check_fails_on_a_wrong_gradient() {
        // The harness must be able to fail: a sign error in one learned value's gradient is
        // caught by the same comparison.
        let data = toy(NamTask::Binary, Activation::Exu);
        let rows: Vec<usize> = (0..data.y.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let member = init_member(&data, &[6, 4], &rows, &mut rng);
        let pen = Penalties {
            dropout: 0.0,
            feature_dropout: 0.0,
            weight_decay: 0.0,
            output_penalty: 0.0,
        };
        let mut g = zeros_like(&member);
        let mut ws = Workspace::default();
        batch_loss_grad::<ChaCha8Rng>(&member, &data, &rows, &pen, None, &mut g, &mut ws);
        let wrong = -g.bias;
        let h = 1e-6;
        let eval = |d: f64| {
            let mut m2 = member.clone();
            m2.bias += d;
            let mut g = zeros_like(&m2);
            batch_loss_grad::<ChaCha8Rng>(
                &m2,
                &data,
                &rows,
                &pen,
                None,
                &mut g,
                &mut Workspace::default(),
            )
        };
        let fd = (eval(h) - eval(-h)) / (2.0 * h);
        assert!(fd.abs() > 1e-3);
        assert!((fd - wrong).abs() / fd.abs() > 1e-4);
        assert!((fd - g.bias).abs() / fd.abs() < 1e-6);
    }
}
