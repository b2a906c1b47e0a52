//! One feature's subnetwork: a first layer of ExU or ReLU units on the scalar input, dense ReLU
//! layers, and a linear output unit — forward and hand-derived backward passes over a batch of
//! rows.
//!
//! Layouts: a batch of activations is row-major `rows × units` in one `Vec<f64>`; dense weights
//! are row-major `inputs × outputs`. The dense products are `ndarray::linalg::general_mat_mul`
//! (matrixmultiply: runtime-selected SIMD kernels, single-threaded, a fixed summation order, so
//! a row's output does not depend on the other rows in its batch — `predict_is_batch_independent`
//! in the tests checks that).

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The first layer's units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Exp-centred units `h = min(max(e^w·(x − b), 0), n)` (Agarwal et al. 2021, §3), with the
    /// ReLU capped at [`EXU_CAP`].
    Exu,
    /// Plain `h = max(w·x + b, 0)`.
    Relu,
}

impl Activation {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Exu => "exu",
            Activation::Relu => "relu",
        }
    }
}

/// The cap n of ExU's ReLU-n (the paper uses n = 1).
pub const EXU_CAP: f64 = 1.0;

/// A dense layer `inputs → outputs`, weights row-major `inputs × outputs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Weights, `inputs × outputs`, row-major.
    pub w: Vec<f64>,
    /// Biases, one per output.
    pub b: Vec<f64>,
}

impl Dense {
    fn n_out(&self) -> usize {
        self.b.len()
    }
    fn n_in(&self) -> usize {
        self.w.len() / self.b.len().max(1)
    }
}

/// The subnetwork of one numeric feature: scalar in, scalar out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureNet {
    /// First layer: one weight and one bias per unit.
    pub first_w: Vec<f64>,
    /// First-layer biases (ExU: the centre b of `e^w·(x − b)`).
    pub first_b: Vec<f64>,
    /// Hidden dense ReLU layers after the first.
    pub hidden: Vec<Dense>,
    /// Output weights (last hidden layer → 1); no bias, the model's bias absorbs it.
    pub out: Vec<f64>,
}

/// Glorot-uniform limit for a layer.
fn glorot(n_in: usize, n_out: usize) -> f64 {
    (6.0 / (n_in + n_out) as f64).sqrt()
}

impl FeatureNet {
    /// A freshly initialised net with hidden sizes `sizes` (first layer first; at least one).
    ///
    /// ExU weights ~ N(4, 0.5²) as in the paper's code; ExU centres are drawn uniformly from
    /// `centres` (the feature's distinct standardised training values), so the kinks start where
    /// the data are. ReLU first
    /// layers and dense layers are Glorot-uniform with zero biases.
    pub fn init<R: Rng>(sizes: &[usize], act: Activation, centres: &[f64], rng: &mut R) -> Self {
        let h0 = sizes[0];
        let (first_w, first_b) = match act {
            Activation::Exu => {
                let w = (0..h0).map(|_| 4.0 + 0.5 * normal(rng)).collect();
                let b = (0..h0)
                    .map(|_| {
                        if centres.is_empty() {
                            0.0
                        } else {
                            centres[rng.gen_range(0..centres.len())]
                        }
                    })
                    .collect();
                (w, b)
            }
            Activation::Relu => {
                let lim = glorot(1, h0);
                let w: Vec<f64> = (0..h0).map(|_| rng.gen_range(-lim..lim)).collect();
                // b = −w·c puts each unit's kink at a training value c, where the data are.
                let b = w
                    .iter()
                    .map(|&wu| {
                        let c = if centres.is_empty() {
                            0.0
                        } else {
                            centres[rng.gen_range(0..centres.len())]
                        };
                        -wu * c
                    })
                    .collect();
                (w, b)
            }
        };
        let mut hidden = Vec::with_capacity(sizes.len() - 1);
        for win in sizes.windows(2) {
            let (a, b) = (win[0], win[1]);
            let lim = glorot(a, b);
            hidden.push(Dense {
                w: (0..a * b).map(|_| rng.gen_range(-lim..lim)).collect(),
                b: vec![0.0; b],
            });
        }
        let last = *sizes.last().unwrap_or(&h0);
        let lim = glorot(last, 1);
        let out = (0..last).map(|_| rng.gen_range(-lim..lim)).collect();
        FeatureNet {
            first_w,
            first_b,
            hidden,
            out,
        }
    }

    /// A net of the same shape with every parameter zero (gradient and Adam moment buffers).
    pub fn zeros_like(&self) -> Self {
        FeatureNet {
            first_w: vec![0.0; self.first_w.len()],
            first_b: vec![0.0; self.first_b.len()],
            hidden: self
                .hidden
                .iter()
                .map(|d| Dense {
                    w: vec![0.0; d.w.len()],
                    b: vec![0.0; d.b.len()],
                })
                .collect(),
            out: vec![0.0; self.out.len()],
        }
    }

    /// Every parameter slice, in a fixed order (Adam and weight decay walk these).
    pub fn slices(&self) -> Vec<&[f64]> {
        let mut v: Vec<&[f64]> = vec![&self.first_w, &self.first_b];
        for d in &self.hidden {
            v.push(&d.w);
            v.push(&d.b);
        }
        v.push(&self.out);
        v
    }

    /// Every parameter slice, mutably, in the order of [`FeatureNet::slices`].
    pub fn slices_mut(&mut self) -> Vec<&mut [f64]> {
        let mut v: Vec<&mut [f64]> = vec![&mut self.first_w, &mut self.first_b];
        for d in &mut self.hidden {
            v.push(&mut d.w);
            v.push(&mut d.b);
        }
        v.push(&mut self.out);
        v
    }

    /// Hidden sizes, first layer first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.first_w.len()];
        s.extend(self.hidden.iter().map(Dense::n_out));
        s
    }

    /// Checks that the shapes chain (for model files).
    pub fn validate(&self) -> Result<(), String> {
        let mut width = self.first_w.len();
        if width == 0 || self.first_b.len() != width {
            return Err(
                "a feature net's first layer is empty or its weights and biases differ in length"
                    .into(),
            );
        }
        for d in &self.hidden {
            if d.b.is_empty() || d.n_in() != width || d.w.len() != width * d.n_out() {
                return Err("a feature net's hidden layer does not match the layer before".into());
            }
            width = d.n_out();
        }
        if self.out.len() != width {
            return Err("a feature net's output weights do not match its last layer".into());
        }
        let all_finite = self
            .slices()
            .iter()
            .all(|s| s.iter().all(|v| v.is_finite()));
        if !all_finite {
            return Err("a feature net has a non-finite weight".into());
        }
        Ok(())
    }
}

/// A standard normal draw (Box–Muller; two uniforms per draw keeps the stream simple).
pub fn normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Activations of one forward pass, kept for the backward pass. Reused across batches.
#[derive(Debug, Default, Clone)]
pub struct Cache {
    rows: usize,
    /// Post-activation (post-dropout) values per layer, `rows × units`.
    acts: Vec<Vec<f64>>,
    /// Per layer, `act'(z) · dropout scale` (0 where the unit is off or dropped).
    deriv: Vec<Vec<f64>>,
    /// First layer: `z = e^w (x − b)` (ExU) — the derivative of z in w.
    z0: Vec<f64>,
    /// Scratch for the backward pass.
    delta: Vec<f64>,
    delta_prev: Vec<f64>,
}

fn view(buf: &[f64], rows: usize, cols: usize) -> ArrayView2<'_, f64> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer holds rows × cols")
}

fn view_mut(buf: &mut [f64], rows: usize, cols: usize) -> ArrayViewMut2<'_, f64> {
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols])
        .expect("buffer holds rows × cols")
}

/// Dropout settings of a training forward pass.
pub struct Dropout<'a, R: Rng> {
    /// Probability of dropping a hidden unit.
    pub p: f64,
    /// The member's random stream.
    pub rng: &'a mut R,
}

impl FeatureNet {
    /// Forward pass over the (standardised) inputs `x`, writing one output per row into `out`.
    /// With `dropout`, hidden units are dropped (inverted dropout) and the cache is filled for
    /// [`FeatureNet::backward`].
    pub fn forward<R: Rng>(
        &self,
        act: Activation,
        x: &[f64],
        out: &mut [f64],
        cache: &mut Cache,
        mut dropout: Option<Dropout<'_, R>>,
    ) {
        let n = x.len();
        let sizes = self.sizes();
        let layers = sizes.len();
        cache.rows = n;
        cache.acts.resize(layers, Vec::new());
        cache.deriv.resize(layers, Vec::new());
        let keep_scale = dropout.as_ref().map_or(1.0, |d| 1.0 / (1.0 - d.p));
        // First layer.
        let h0 = sizes[0];
        {
            let a = &mut cache.acts[0];
            let d = &mut cache.deriv[0];
            a.resize(n * h0, 0.0);
            d.resize(n * h0, 0.0);
            cache.z0.resize(n * h0, 0.0);
            match act {
                Activation::Exu => {
                    let ew: Vec<f64> = self.first_w.iter().map(|w| w.exp()).collect();
                    for (i, &xi) in x.iter().enumerate() {
                        let row = i * h0;
                        for u in 0..h0 {
                            let z = ew[u] * (xi - self.first_b[u]);
                            cache.z0[row + u] = z;
                            let (h, g) = if z <= 0.0 {
                                (0.0, 0.0)
                            } else if z >= EXU_CAP {
                                (EXU_CAP, 0.0)
                            } else {
                                (z, 1.0)
                            };
                            a[row + u] = h;
                            d[row + u] = g;
                        }
                    }
                }
                Activation::Relu => {
                    for (i, &xi) in x.iter().enumerate() {
                        let row = i * h0;
                        for u in 0..h0 {
                            let z = self.first_w[u] * xi + self.first_b[u];
                            cache.z0[row + u] = z;
                            let pos = z > 0.0;
                            a[row + u] = if pos { z } else { 0.0 };
                            d[row + u] = if pos { 1.0 } else { 0.0 };
                        }
                    }
                }
            }
            if let Some(dr) = dropout.as_mut() {
                apply_dropout(a, d, dr, keep_scale);
            }
        }
        // Dense ReLU layers.
        for (l, dense) in self.hidden.iter().enumerate() {
            let (n_in, n_out) = (sizes[l], sizes[l + 1]);
            let (prev, rest) = cache.acts.split_at_mut(l + 1);
            let a = &mut rest[0];
            a.resize(n * n_out, 0.0);
            for r in 0..n {
                a[r * n_out..(r + 1) * n_out].copy_from_slice(&dense.b);
            }
            general_mat_mul(
                1.0,
                &view(&prev[l], n, n_in),
                &view(&dense.w, n_in, n_out),
                1.0,
                &mut view_mut(a, n, n_out),
            );
            let d = &mut cache.deriv[l + 1];
            d.resize(n * n_out, 0.0);
            for (v, g) in a.iter_mut().zip(d.iter_mut()) {
                if *v > 0.0 {
                    *g = 1.0;
                } else {
                    *v = 0.0;
                    *g = 0.0;
                }
            }
            if let Some(dr) = dropout.as_mut() {
                apply_dropout(a, d, dr, keep_scale);
            }
        }
        // Output unit.
        let last = sizes[layers - 1];
        let a = &cache.acts[layers - 1];
        for (i, o) in out.iter_mut().enumerate().take(n) {
            let row = &a[i * last..(i + 1) * last];
            *o = dot(row, &self.out);
        }
    }

    /// Backward pass for the rows of the last [`FeatureNet::forward`]: `d_out[i]` is ∂loss/∂output
    /// of row i; the parameter gradients are **added** to `grad`.
    pub fn backward(
        &self,
        act: Activation,
        x: &[f64],
        d_out: &[f64],
        cache: &mut Cache,
        grad: &mut FeatureNet,
    ) {
        let n = cache.rows;
        let sizes = self.sizes();
        let layers = sizes.len();
        let last = sizes[layers - 1];
        // Output weights: ∂/∂out_u = Σ_i d_out[i] · a_L[i, u].
        let a_last = &cache.acts[layers - 1];
        for i in 0..n {
            let g = d_out[i];
            if g == 0.0 {
                continue;
            }
            let row = &a_last[i * last..(i + 1) * last];
            for (gw, &a) in grad.out.iter_mut().zip(row) {
                *gw += g * a;
            }
        }
        // δ_L = d_out ⊗ out ⊙ deriv_L.
        let delta = &mut cache.delta;
        delta.resize(n * last, 0.0);
        for i in 0..n {
            for u in 0..last {
                delta[i * last + u] =
                    d_out[i] * self.out[u] * cache.deriv[layers - 1][i * last + u];
            }
        }
        for l in (0..self.hidden.len()).rev() {
            let (n_in, n_out) = (sizes[l], sizes[l + 1]);
            let dense = &self.hidden[l];
            let gd = &mut grad.hidden[l];
            // ∂W = a_lᵀ δ, ∂b = Σ_rows δ.
            general_mat_mul(
                1.0,
                &view(&cache.acts[l], n, n_in).t(),
                &view(&cache.delta, n, n_out),
                1.0,
                &mut view_mut(&mut gd.w, n_in, n_out),
            );
            for i in 0..n {
                for (gb, &d) in
                    gd.b.iter_mut()
                        .zip(&cache.delta[i * n_out..(i + 1) * n_out])
                {
                    *gb += d;
                }
            }
            // δ_l = (δ Wᵀ) ⊙ deriv_l.
            cache.delta_prev.resize(n * n_in, 0.0);
            general_mat_mul(
                1.0,
                &view(&cache.delta, n, n_out),
                &view(&dense.w, n_in, n_out).t(),
                0.0,
                &mut view_mut(&mut cache.delta_prev, n, n_in),
            );
            for (d, &g) in cache.delta_prev.iter_mut().zip(&cache.deriv[l]) {
                *d *= g;
            }
            std::mem::swap(&mut cache.delta, &mut cache.delta_prev);
        }
        // First layer.
        let h0 = sizes[0];
        let delta = &cache.delta;
        match act {
            Activation::Exu => {
                // z = e^w (x − b): ∂z/∂w = z, ∂z/∂b = −e^w.
                for u in 0..h0 {
                    let ew = self.first_w[u].exp();
                    let (mut gw, mut gb) = (0.0, 0.0);
                    for i in 0..n {
                        let d = delta[i * h0 + u];
                        gw += d * cache.z0[i * h0 + u];
                        gb -= d * ew;
                    }
                    grad.first_w[u] += gw;
                    grad.first_b[u] += gb;
                }
            }
            Activation::Relu => {
                for u in 0..h0 {
                    let (mut gw, mut gb) = (0.0, 0.0);
                    for i in 0..n {
                        let d = delta[i * h0 + u];
                        gw += d * x[i];
                        gb += d;
                    }
                    grad.first_w[u] += gw;
                    grad.first_b[u] += gb;
                }
            }
        }
    }
}

fn apply_dropout<R: Rng>(a: &mut [f64], d: &mut [f64], dr: &mut Dropout<'_, R>, scale: f64) {
    if dr.p <= 0.0 {
        return;
    }
    for (v, g) in a.iter_mut().zip(d.iter_mut()) {
        if dr.rng.gen::<f64>() < dr.p {
            *v = 0.0;
            *g = 0.0;
        } else {
            *v *= scale;
            *g *= scale;
        }
    }
}

/// Dot product in a fixed order.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
