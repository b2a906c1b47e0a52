//! LIME's weighted surrogate regressions, computed from sufficient statistics.
//!
//! Every fit LIME makes — the feature selection (forward, lasso path, highest weights), the final
//! ridge or lasso, its R² — is a weighted least-squares problem on the same samples, so all of
//! them are computed from one weighted Gram matrix of (z, y): Σw, Σw z, Σw y, Σw z zᵀ, Σw z y,
//! Σw y². A fit on a feature subset is then an (|F|+1)-sized solve instead of a pass over the
//! samples. For kernel-width tuning this matters more: when the samples' distances to the
//! explained row take few distinct values (discretised and categorical features: the distance is
//! the number of mismatching features), the Gram matrix of any width is Σ_c k_width(d_c) G_c over
//! per-distance-class matrices G_c built once — each extra width costs O(classes · M²), not a
//! pass over the samples.
//!
//! The intercept is never penalised; ridge and lasso follow scikit-learn's `Ridge` (objective
//! Σ w (y − b₀ − zβ)² + α‖β‖², weights not normalised, as lime calls it) and `Lasso`
//! ((1/(2Σw)) Σ w (y − b₀ − zβ)² + α‖β‖₁).

use crate::explain::linalg::{cholesky, cholesky_solve, solve_spd};

/// Weighted sufficient statistics of K outputs regressed on M features.
#[derive(Clone, Debug)]
pub(crate) struct Gram {
    m: usize,
    k: usize,
    sw: f64,
    sw2: f64,
    mz: Vec<f64>,
    my: Vec<f64>,
    zz: Vec<f64>,
    zy: Vec<f64>,
    yy: Vec<f64>,
}

impl Gram {
    pub fn zeros(m: usize, k: usize) -> Gram {
        Gram {
            m,
            k,
            sw: 0.0,
            sw2: 0.0,
            mz: vec![0.0; m],
            my: vec![0.0; k],
            zz: vec![0.0; m * m],
            zy: vec![0.0; m * k],
            yy: vec![0.0; k],
        }
    }

    /// Adds one sample with weight w (upper triangle of zz only; see [`Gram::symmetrise`]).
    pub fn add(&mut self, w: f64, z: &[f64], y: &[f64]) {
        let (m, k) = (self.m, self.k);
        self.sw += w;
        self.sw2 += w * w;
        for j in 0..m {
            let wz = w * z[j];
            if wz == 0.0 {
                continue;
            }
            self.mz[j] += wz;
            let row = &mut self.zz[j * m..(j + 1) * m];
            for l in j..m {
                row[l] += wz * z[l];
            }
            for o in 0..k {
                self.zy[j * k + o] += wz * y[o];
            }
        }
        for o in 0..k {
            self.my[o] += w * y[o];
            self.yy[o] += w * y[o] * y[o];
        }
    }

    /// The unit-weight Gram of samples given by their feature codes and outputs, when every
    /// interpretable value is "same code as the explained row's `cx`" (z = 0/1: discretised and
    /// categorical features). Σ z zᵀ comes from popcounts of per-feature bit sets over the
    /// samples — M²/2 · n/64 word operations instead of up to M²/2 · n multiply-adds — and the y
    /// sums are taken in sample order. Counts are exact, so the result equals adding the
    /// samples' z one by one.
    pub fn binary<'s>(
        m: usize,
        k: usize,
        cx: &[u32],
        rows: impl ExactSizeIterator<Item = (&'s [u32], &'s [f64])>,
    ) -> Gram {
        let mut g = Gram::zeros(m, k);
        let n = rows.len();
        let words = n.div_ceil(64);
        // Word-major bit sets (word w of every feature together) and per-output z·y sums, so the
        // per-sample loops run over contiguous memory and vectorise.
        let mut bits = vec![0u64; words * m];
        let mut zy = vec![0.0; k * m];
        let mut z = vec![0.0; m];
        for (r, (codes, y)) in rows.enumerate() {
            let (word, shift) = (r / 64, r % 64);
            for ((zj, &c), &cj) in z.iter_mut().zip(codes).zip(cx) {
                // 1.0 when the codes agree, branch-free (a compare-and-branch per feature was
                // the slowest part of the loop): (c ^ cj) − 1 wraps to ≥ 2^63 only when equal.
                *zj = ((u64::from(c ^ cj)).wrapping_sub(1) >> 63) as f64;
            }
            for (b, &v) in bits[word * m..(word + 1) * m].iter_mut().zip(&z) {
                *b |= u64::from(v != 0.0) << shift;
            }
            for (o, &yo) in y.iter().enumerate() {
                for (a, &v) in zy[o * m..(o + 1) * m].iter_mut().zip(&z) {
                    *a += v * yo;
                }
                g.my[o] += yo;
                g.yy[o] += yo * yo;
            }
        }
        g.finish_binary(n, &zy, &bits);
        g
    }

    /// [`Gram::binary`] for samples given by their match masks (bit j set when z_j = 1, see
    /// `packed.rs`; M ≤ 64) and outputs, with the same arithmetic in the same order (so a
    /// bit-identical result) but cheaper steps: z is read from a table per mask byte instead of
    /// compared feature by feature, and the per-feature bit sets of each 64 samples are one
    /// 64 × 64 bit-matrix transpose of their masks.
    pub fn from_masks<'s>(
        m: usize,
        k: usize,
        rows: impl ExactSizeIterator<Item = (u64, &'s [f64])>,
    ) -> Gram {
        assert!(m <= 64, "match masks hold at most 64 features");
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            /// [`Gram::from_masks_in`] compiled for AVX2.
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<'s>(
                m: usize,
                k: usize,
                rows: impl ExactSizeIterator<Item = (u64, &'s [f64])>,
            ) -> Gram {
                Gram::from_masks_in(m, k, rows)
            }
            // SAFETY: the CPU supports AVX2 (checked just above), the only feature `avx2` is
            // compiled with beyond the baseline.
            return unsafe { avx2(m, k, rows) };
        }
        Gram::from_masks_in(m, k, rows)
    }

    /// [`Gram::from_masks`]'s body, inlined into each instruction-set version.
    #[inline(always)]
    fn from_masks_in<'s>(
        m: usize,
        k: usize,
        rows: impl ExactSizeIterator<Item = (u64, &'s [f64])>,
    ) -> Gram {
        let mut g = Gram::zeros(m, k);
        let n = rows.len();
        let mut bits = vec![0u64; n.div_ceil(64) * m];
        let mut zy = vec![0.0; k * m];
        let mut z = [0.0; 64];
        let mut block = [0u64; 64];
        let bytes = m.div_ceil(8);
        let mut flush = |block: &mut [u64; 64], word: usize| {
            transpose64(block);
            bits[word * m..(word + 1) * m].copy_from_slice(&block[..m]);
            *block = [0; 64];
        };
        for (r, (mask, y)) in rows.enumerate() {
            block[r % 64] = mask;
            for (b, chunk) in z.chunks_exact_mut(8).take(bytes).enumerate() {
                chunk.copy_from_slice(&ZERO_ONE[((mask >> (8 * b)) & 0xFF) as usize]);
            }
            for (o, &yo) in y.iter().enumerate() {
                for (a, &v) in zy[o * m..(o + 1) * m].iter_mut().zip(&z) {
                    *a += v * yo;
                }
                g.my[o] += yo;
                g.yy[o] += yo * yo;
            }
            if r % 64 == 63 {
                flush(&mut block, r / 64);
            }
        }
        if n % 64 != 0 {
            flush(&mut block, n / 64);
        }
        g.finish_binary(n, &zy, &bits);
        g
    }

    /// Completes a Gram of `n` unit-weight binary samples from the output-major sums `zy`
    /// (`zy[o * m + j]`) and the feature-major bit columns `bits` (`n.div_ceil(64)` words each).
    fn finish_binary(&mut self, n: usize, zy: &[f64], bits: &[u64]) {
        let (m, k) = (self.m, self.k);
        for o in 0..k {
            for j in 0..m {
                self.zy[j * k + o] = zy[o * m + j];
            }
        }
        self.sw = n as f64;
        self.sw2 = n as f64;
        let mut counts = vec![0u32; m * m];
        pair_counts(bits, m, &mut counts);
        for (d, &c) in self.zz.iter_mut().zip(&counts) {
            *d = f64::from(c);
        }
        for j in 0..m {
            self.mz[j] = self.zz[j * m + j];
        }
    }

    /// Adds c × another Gram of unit-weight samples (a distance class). Only the upper triangle
    /// of zz is added: it is all that [`Gram::add`] and [`Gram::binary`] fill, and all that
    /// [`Gram::symmetrise`] reads.
    #[inline(always)]
    pub fn add_scaled(&mut self, other: &Gram, c: f64) {
        self.sw += c * other.sw;
        self.sw2 += c * c * other.sw2;
        let pairs = [
            (&mut self.mz, &other.mz),
            (&mut self.my, &other.my),
            (&mut self.zy, &other.zy),
            (&mut self.yy, &other.yy),
        ];
        for (dst, src) in pairs {
            dst.iter_mut().zip(src).for_each(|(d, s)| *d += c * s);
        }
        let m = self.m;
        for (j, (dst, src)) in self
            .zz
            .chunks_exact_mut(m.max(1))
            .zip(other.zz.chunks_exact(m.max(1)))
            .enumerate()
        {
            dst[j..]
                .iter_mut()
                .zip(&src[j..])
                .for_each(|(d, s)| *d += c * s);
        }
    }

    /// Copies the upper triangle of zz to the lower.
    #[inline(always)]
    pub fn symmetrise(&mut self) {
        let m = self.m;
        for j in 0..m {
            for l in 0..j {
                self.zz[j * m + l] = self.zz[l * m + j];
            }
        }
    }

    /// Kish effective sample size (Σw)² / Σw².
    pub fn ess(&self) -> f64 {
        kish(self.sw, self.sw2)
    }

    /// (Σw, Σw²).
    pub fn weight_sums(&self) -> (f64, f64) {
        (self.sw, self.sw2)
    }

    /// Centred statistics of output o: (C = Cov_w(z)·Σw, c = Cov_w(z, y)·Σw, TSS, means).
    fn centred(&self, o: usize) -> Centred {
        let (m, k) = (self.m, self.k);
        let sw = self.sw.max(f64::MIN_POSITIVE);
        let mut c = vec![0.0; m * m];
        for j in 0..m {
            for l in 0..m {
                c[j * m + l] = self.zz[j * m + l] - self.mz[j] * self.mz[l] / sw;
            }
        }
        let cy = (0..m)
            .map(|j| self.zy[j * k + o] - self.mz[j] * self.my[o] / sw)
            .collect();
        Centred {
            m,
            c,
            cy,
            tss: (self.yy[o] - self.my[o] * self.my[o] / sw).max(0.0),
            mean_z: self.mz.iter().map(|v| v / sw).collect(),
            mean_y: self.my[o] / sw,
            sw,
            ess: self.ess(),
        }
    }
}

/// Whether to run the AVX2 versions of the element-wise Gram loops (wider vectors). They do
/// the same IEEE operations per element as the baseline versions — Rust never fuses a multiply
/// and an add — so results are bit-identical.
#[inline]
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Kish effective sample size (Σw)² / Σw² from the weight sums.
pub(crate) fn kish(sw: f64, sw2: f64) -> f64 {
    if sw2 > 0.0 {
        sw * sw / sw2
    } else {
        0.0
    }
}

/// Bit j of byte b as 0.0 / 1.0: `ZERO_ONE[b][j]`.
static ZERO_ONE: [[f64; 8]; 256] = {
    let mut t = [[0.0; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < 8 {
            t[b][j] = ((b >> j) & 1) as f64;
            j += 1;
        }
        b += 1;
    }
    t
};

/// Transposes the 64 × 64 bit matrix whose row r is `a[r]` (bit c = column c): afterwards bit r of
/// `a[c]` is the old bit c of `a[r]`. Recursive block swaps (Warren, *Hacker's Delight*, 7–3).
fn transpose64(a: &mut [u64; 64]) {
    let mut j = 32;
    let mut mask: u64 = 0x0000_0000_FFFF_FFFF;
    while j != 0 {
        let mut k = 0;
        while k < 64 {
            let t = ((a[k] >> j) ^ a[k + j]) & mask;
            a[k] ^= t << j;
            a[k + j] ^= t;
            k = (k + j + 1) & !j;
        }
        j >>= 1;
        mask ^= mask << j;
    }
}

/// counts\[j·M + l\] += |B_j ∩ B_l| for l ≥ j, over word-major bit sets (M words per word index).
fn pair_counts(bits: &[u64], m: usize, counts: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports the popcnt instruction (checked just above), the only
            // feature the function is compiled with beyond the baseline.
            unsafe { pair_counts_popcnt(bits, m, counts) };
            return;
        }
    }
    pair_counts_portable(bits, m, counts);
}

/// [`pair_counts`] compiled with the popcnt instruction (x86-64's baseline lacks it, and the
/// software popcount made these counts several times slower).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn pair_counts_popcnt(bits: &[u64], m: usize, counts: &mut [u32]) {
    pair_counts_portable(bits, m, counts);
}

#[inline(always)]
fn pair_counts_portable(bits: &[u64], m: usize, counts: &mut [u32]) {
    for w in bits.chunks_exact(m.max(1)) {
        for (j, &bj) in w.iter().enumerate() {
            if bj == 0 {
                continue;
            }
            for (c, &bl) in counts[j * m + j..(j + 1) * m].iter_mut().zip(&w[j..]) {
                *c += (bj & bl).count_ones();
            }
        }
    }
}

struct Centred {
    m: usize,
    c: Vec<f64>,
    cy: Vec<f64>,
    tss: f64,
    mean_z: Vec<f64>,
    mean_y: f64,
    sw: f64,
    ess: f64,
}

impl Centred {
    fn sub(&self, f: &[usize]) -> (Vec<f64>, Vec<f64>) {
        let p = f.len();
        if f.iter().copied().eq(0..self.m) {
            // All features, in order (highest-weights selection, every width): a copy.
            return (self.c.clone(), self.cy.clone());
        }
        let mut a = vec![0.0; p * p];
        for (r, &j) in f.iter().enumerate() {
            for (s, &l) in f.iter().enumerate() {
                a[r * p + s] = self.c[j * self.m + l];
            }
        }
        (a, f.iter().map(|&j| self.cy[j]).collect())
    }

    /// Ridge on features f: coefficients (α > 0, or a tiny jitter for α = 0).
    fn ridge(&self, f: &[usize], alpha: f64) -> Vec<f64> {
        let p = f.len();
        if p == 0 {
            return Vec::new();
        }
        let (mut a, b) = self.sub(f);
        let scale = (0..p).map(|r| a[r * p + r]).fold(0.0, f64::max).max(1e-300);
        let reg = if alpha > 0.0 { alpha } else { 1e-10 * scale };
        for r in 0..p {
            a[r * p + r] += reg;
        }
        solve_spd(&mut a, p, b).unwrap_or_else(|| vec![0.0; p])
    }

    /// Lasso on features f by coordinate descent, warm-started from `beta`.
    fn lasso(&self, f: &[usize], alpha: f64, beta: &mut [f64]) {
        let p = f.len();
        let (a, b) = self.sub(f);
        let sw = self.sw;
        for _ in 0..1000 {
            let mut delta = 0.0f64;
            for r in 0..p {
                let arr = a[r * p + r] / sw;
                if arr <= 0.0 {
                    beta[r] = 0.0;
                    continue;
                }
                let mut g = b[r] / sw;
                for s in 0..p {
                    if s != r {
                        g -= a[r * p + s] / sw * beta[s];
                    }
                }
                let new = soft(g, alpha) / arr;
                delta = delta.max((new - beta[r]).abs() * arr.sqrt());
                beta[r] = new;
            }
            if delta < 1e-10 * (self.tss / sw).sqrt().max(1e-300) {
                break;
            }
        }
    }

    /// Weighted residual sum of squares of coefficients `beta` on features f.
    fn rss(&self, f: &[usize], beta: &[f64]) -> f64 {
        let (a, b) = self.sub(f);
        let p = f.len();
        let mut quad = 0.0;
        for r in 0..p {
            for s in 0..p {
                quad += beta[r] * a[r * p + s] * beta[s];
            }
        }
        let lin: f64 = beta.iter().zip(&b).map(|(x, y)| x * y).sum();
        (self.tss - 2.0 * lin + quad).max(0.0)
    }

    fn r2(&self, rss: f64) -> f64 {
        r2(rss, self.tss)
    }
}

/// scikit-learn's R² convention for a constant target: 1 when fitted perfectly, else 0.
pub(crate) fn r2(rss: f64, tss: f64) -> f64 {
    if tss > 1e-300 {
        1.0 - rss / tss
    } else if rss <= 1e-300 {
        1.0
    } else {
        0.0
    }
}

fn soft(x: f64, t: f64) -> f64 {
    if x > t {
        x - t
    } else if x < -t {
        x + t
    } else {
        0.0
    }
}

/// How LIME chooses the features of the surrogate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeatureSelection {
    /// Forward selection when at most 6 features are wanted, else highest weights (lime).
    Auto,
    /// Greedy forward selection by weighted R² of an unpenalised fit.
    Forward,
    /// The least-penalised point of the lasso path with at most K features.
    LassoPath,
    /// The K largest |coefficient × z₀| of a ridge (α = 0.01) on all features.
    HighestWeights,
    /// All features.
    None,
}

/// The surrogate regression.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Surrogate {
    /// Weighted ridge with this α (lime: `Ridge(alpha=1)`).
    Ridge(f64),
    /// Weighted lasso with this α.
    Lasso(f64),
}

/// A fitted surrogate for one output.
#[derive(Clone, Debug)]
pub(crate) struct Fit {
    /// Selected features, ascending.
    pub features: Vec<usize>,
    /// Their coefficients.
    pub coef: Vec<f64>,
    /// Approximate standard errors of the coefficients (see [`fit`]).
    pub se: Vec<f64>,
    pub intercept: f64,
    /// Weighted R² on the fitting samples.
    pub r2: f64,
}

impl Fit {
    /// Surrogate prediction at interpretable point z.
    pub fn predict(&self, z: &[f64]) -> f64 {
        self.intercept
            + self
                .features
                .iter()
                .zip(&self.coef)
                .map(|(&j, b)| b * z[j])
                .sum::<f64>()
    }
}

impl Fit {
    /// [`Fit::predict`] at the 0/1 point whose bit j is z_j (M ≤ 64): the same sum, term by term.
    pub fn predict_mask(&self, mask: u64) -> f64 {
        self.intercept
            + self
                .features
                .iter()
                .zip(&self.coef)
                .map(|(&j, b)| b * ((mask >> j) & 1) as f64)
                .sum::<f64>()
    }
}

/// Selects features and fits the surrogate of output o.
///
/// Standard errors (used only for the coefficient stability index) are the weighted
/// least-squares sandwich σ̂² A⁻¹ C A⁻¹ with A = C + αI and σ̂² = RSS / (ESS − p − 1), ESS the
/// Kish effective sample size: approximate, and conditional on the selection and the width.
pub(crate) fn fit(
    g: &Gram,
    o: usize,
    z0: &[f64],
    selection: FeatureSelection,
    k: usize,
    surrogate: Surrogate,
) -> Fit {
    let c = g.centred(o);
    let m = c.m;
    let k = k.min(m);
    let all: Vec<usize> = (0..m).collect();
    let selection = match selection {
        FeatureSelection::Auto if k <= 6 => FeatureSelection::Forward,
        FeatureSelection::Auto => FeatureSelection::HighestWeights,
        s => s,
    };
    let mut features = match selection {
        _ if k >= m => all.clone(),
        FeatureSelection::None => all.clone(),
        FeatureSelection::HighestWeights => {
            let beta = c.ridge(&all, 0.01);
            let mut order: Vec<usize> = all.clone();
            order.sort_by(|&a, &b| {
                (beta[b] * z0[b])
                    .abs()
                    .total_cmp(&(beta[a] * z0[a]).abs())
                    .then(a.cmp(&b))
            });
            order.truncate(k);
            order
        }
        FeatureSelection::Forward => {
            let mut chosen: Vec<usize> = Vec::new();
            for _ in 0..k {
                let mut best: Option<(f64, usize)> = None;
                for j in (0..m).filter(|j| !chosen.contains(j)) {
                    let mut f = chosen.clone();
                    f.push(j);
                    let beta = c.ridge(&f, 0.0);
                    let score = c.r2(c.rss(&f, &beta));
                    if best.map_or(true, |(s, _)| score > s) {
                        best = Some((score, j));
                    }
                }
                match best {
                    Some((_, j)) => chosen.push(j),
                    None => break,
                }
            }
            chosen
        }
        FeatureSelection::LassoPath => lasso_path_select(&c, k),
        FeatureSelection::Auto => unreachable!("resolved above"),
    };
    features.sort_unstable();
    let mut coef = match surrogate {
        Surrogate::Ridge(alpha) => c.ridge(&features, alpha),
        Surrogate::Lasso(alpha) => {
            let mut beta = vec![0.0; features.len()];
            c.lasso(&features, alpha, &mut beta);
            beta
        }
    };
    coef.iter_mut().for_each(|b| {
        if !b.is_finite() {
            *b = 0.0
        }
    });
    let rss = c.rss(&features, &coef);
    let intercept = c.mean_y
        - features
            .iter()
            .zip(&coef)
            .map(|(&j, b)| b * c.mean_z[j])
            .sum::<f64>();
    let se = coefficient_se(&c, &features, surrogate, rss);
    Fit {
        r2: c.r2(rss),
        features,
        coef,
        se,
        intercept,
    }
}

fn coefficient_se(c: &Centred, f: &[usize], surrogate: Surrogate, rss: f64) -> Vec<f64> {
    let p = f.len();
    if p == 0 {
        return Vec::new();
    }
    let dof = c.ess - p as f64 - 1.0;
    if !(dof > 0.0) {
        return vec![f64::NAN; p];
    }
    let sigma2 = rss / dof;
    let (cf, _) = c.sub(f);
    let alpha = match surrogate {
        Surrogate::Ridge(a) => a,
        Surrogate::Lasso(_) => 0.0,
    };
    // A⁻¹ column by column, then diag(A⁻¹ C A⁻¹).
    let mut a = cf.clone();
    let scale = (0..p).map(|r| a[r * p + r]).fold(0.0, f64::max).max(1e-300);
    for r in 0..p {
        a[r * p + r] += if alpha > 0.0 { alpha } else { 1e-10 * scale };
    }
    // One factorisation for all p right-hand sides.
    if !cholesky(&mut a, p) {
        return vec![f64::NAN; p];
    }
    let mut inv = vec![0.0; p * p];
    let mut col = vec![0.0; p];
    for r in 0..p {
        col.iter_mut().for_each(|v| *v = 0.0);
        col[r] = 1.0;
        cholesky_solve(&a, p, &mut col);
        (0..p).for_each(|s| inv[s * p + r] = col[s]);
    }
    (0..p)
        .map(|r| {
            let mut v = 0.0;
            for s in 0..p {
                for t in 0..p {
                    v += inv[r * p + s] * cf[s * p + t] * inv[t * p + r];
                }
            }
            (sigma2 * v).max(0.0).sqrt()
        })
        .collect()
}

/// lime's `lasso_path` selection: along a decreasing penalty, the least penalised point with at
/// most k non-zero coefficients. lime traces the path with LARS; we use coordinate descent on a
/// 100-point geometric grid from λ_max to λ_max/1000 with warm starts (the same path, sampled).
fn lasso_path_select(c: &Centred, k: usize) -> Vec<usize> {
    let m = c.m;
    let all: Vec<usize> = (0..m).collect();
    let lambda_max = c.cy.iter().fold(0.0f64, |a, v| a.max(v.abs())) / c.sw;
    let mut beta = vec![0.0; m];
    let mut chosen: Vec<usize> = Vec::new();
    if !(lambda_max > 0.0) {
        return chosen;
    }
    for step in 0..100 {
        let lambda = lambda_max * 1e-3f64.powf(step as f64 / 99.0);
        c.lasso(&all, lambda, &mut beta);
        let nz: Vec<usize> = (0..m).filter(|&j| beta[j] != 0.0).collect();
        if nz.len() > k {
            break;
        }
        chosen = nz;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose64_transposes() {
        let mut a = [0u64; 64];
        let mut s = 7u64;
        for r in a.iter_mut() {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *r = s;
        }
        let before = a;
        transpose64(&mut a);
        for r in 0..64 {
            for c in 0..64 {
                assert_eq!((a[c] >> r) & 1, (before[r] >> c) & 1, "({r}, {c})");
            }
        }
    }

    /// The bit-set Gram equals adding the same 0/1 samples one by one (reference: `Gram::add`),
    /// across word boundaries and with two outputs.
    #[test]
    fn binary_gram_equals_sample_by_sample() {
        let (m, k, n) = (7, 2, 150);
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        let cx: Vec<u32> = (0..m).map(|j| (j % 3) as u32).collect();
        let codes: Vec<u32> = (0..n * m).map(|_| (next() % 3) as u32).collect();
        let y: Vec<f64> = (0..n * k).map(|_| next() as f64 / 7.0e8 - 1.0).collect();
        let mut reference = Gram::zeros(m, k);
        for i in 0..n {
            let z: Vec<f64> = (0..m)
                .map(|j| f64::from(u8::from(codes[i * m + j] == cx[j])))
                .collect();
            reference.add(1.0, &z, &y[i * k..(i + 1) * k]);
        }
        let rows = (0..n).map(|i| (&codes[i * m..(i + 1) * m], &y[i * k..(i + 1) * k]));
        let g = Gram::binary(m, k, &cx, rows);
        // The mask-built Gram is the same, bit for bit (y has negative values: ±0.0 terms).
        let masks: Vec<u64> = (0..n)
            .map(|i| {
                (0..m)
                    .filter(|&j| codes[i * m + j] == cx[j])
                    .fold(0, |a, j| a | 1 << j)
            })
            .collect();
        let gm = Gram::from_masks(m, k, (0..n).map(|i| (masks[i], &y[i * k..(i + 1) * k])));
        for (a, b) in [
            (&gm.mz, &g.mz),
            (&gm.my, &g.my),
            (&gm.zz, &g.zz),
            (&gm.zy, &g.zy),
            (&gm.yy, &g.yy),
        ] {
            let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(a), bits(b));
        }
        assert_eq!((gm.sw, gm.sw2), (g.sw, g.sw2));
        assert_eq!((g.sw, g.sw2), (reference.sw, reference.sw2));
        assert_eq!(g.mz, reference.mz);
        assert_eq!(g.my, reference.my);
        assert_eq!(g.yy, reference.yy);
        assert_eq!(g.zy, reference.zy);
        for j in 0..m {
            for l in j..m {
                assert_eq!(g.zz[j * m + l], reference.zz[j * m + l], "({j}, {l})");
            }
        }
    }
}
