//! Which coalitions to evaluate: the exact enumeration, or enumerated subset sizes plus paired
//! samples from the rest, with the importance weights that make the regression consistent.
//!
//! Notation: M features, coalition z ∈ {0,1}^M of size s = |z|. The Shapley kernel puts mass
//! K(s) ∝ (M−1)/(s(M−s)) on each size s ∈ 1..M−1, spread evenly over its C(M,s) coalitions.
//! The plan computed here is the same for every explained row; only the random draws differ.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Sampler;

/// The coalitions of one Kernel SHAP run.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Number of features.
    pub m: usize,
    /// Enumerated coalitions, row-major L_E × M of 0/1.
    pub enum_masks: Vec<u8>,
    /// Kernel weight of each enumerated coalition, K(s)/C(M,s).
    pub enum_weights: Vec<f64>,
    /// Σ over enumerated coalitions of weight · z zᵀ (M × M).
    pub a_enum: Vec<f64>,
    /// The exact expectation of the sampled part of A (M × M): the fallback when the sampled
    /// matrix is singular.
    pub a_rest: Vec<f64>,
    /// Sizes that are sampled (symmetric: s and M−s together), their cumulative probabilities,
    /// and each size's importance weight K(s)/q(s).
    pub sizes: Vec<usize>,
    cdf: Vec<f64>,
    pub size_weight: Vec<f64>,
    /// Paired samples (two coalitions each) that the budget leaves after the enumeration.
    pub pairs: usize,
}

/// Binomial coefficient as f64 (exact for the sizes used here, M ≤ 1000 fits in f64 range).
pub(crate) fn binom(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    let mut r = 1.0;
    for i in 0..k {
        r = r * (n - i) as f64 / (i + 1) as f64;
    }
    r.round()
}

/// The Shapley kernel's mass per size, K(s) for s = 0..=M (zero at 0 and M), summing to one.
pub(crate) fn size_mass(m: usize) -> Vec<f64> {
    let mut k = vec![0.0; m + 1];
    for (s, v) in k.iter_mut().enumerate().take(m).skip(1) {
        *v = (m - 1) as f64 / (s * (m - s)) as f64;
    }
    let total: f64 = k.iter().sum();
    if total > 0.0 {
        k.iter_mut().for_each(|v| *v /= total);
    }
    k
}

impl Plan {
    /// The plan for M features and a budget of `budget` coalitions per row.
    ///
    /// Sizes are taken in pairs (s, M−s) from the outside in. A pair is enumerated when the
    /// samples the budget would send to it, under the sampler's distribution over the sizes
    /// still open, are at least its number of coalitions (shap's rule), and when what is left
    /// afterwards is either nothing to sample or at least `min_pairs` pairs. The rest of the
    /// budget becomes paired samples.
    pub fn new(m: usize, budget: usize, sampler: Sampler, min_pairs: usize) -> Plan {
        let mass = size_mass(m);
        let half = m / 2;
        let mut open: Vec<usize> = (1..m).collect();
        let mut enumerated: Vec<usize> = Vec::new();
        let mut left = budget as f64;
        for s in 1..=half {
            let pair: Vec<usize> = if 2 * s == m { vec![s] } else { vec![s, m - s] };
            let count: f64 = pair.iter().map(|&t| binom(m, t)).sum();
            let share = match sampler {
                Sampler::Kernel => {
                    let open_mass: f64 = open.iter().map(|&t| mass[t]).sum();
                    pair.iter().map(|&t| mass[t]).sum::<f64>() / open_mass
                }
                Sampler::Leverage => pair.len() as f64 / open.len() as f64,
            };
            let rest_after = left - count;
            let closes = open.len() == pair.len();
            if left * share >= count - 1e-8
                && (closes || rest_after >= 2.0 * min_pairs as f64)
                && rest_after >= 0.0
            {
                enumerated.extend(&pair);
                open.retain(|t| !pair.contains(t));
                left = rest_after;
            } else {
                break;
            }
        }
        let pairs = if open.is_empty() {
            0
        } else {
            (left / 2.0).floor() as usize
        };

        let mut enum_masks = Vec::new();
        let mut enum_weights = Vec::new();
        for &s in &enumerated {
            let w = mass[s] / binom(m, s);
            for_each_subset(m, s, |mask| {
                enum_masks.extend_from_slice(mask);
                enum_weights.push(w);
            });
        }
        let mut a_enum = vec![0.0; m * m];
        for (mask, &w) in enum_masks.chunks_exact(m.max(1)).zip(&enum_weights) {
            for j in 0..m {
                if mask[j] == 0 {
                    continue;
                }
                for l in 0..m {
                    if mask[l] != 0 {
                        a_enum[j * m + l] += w;
                    }
                }
            }
        }
        // E over a uniform coalition of size s of z zᵀ: s/M on the diagonal,
        // s(s−1)/(M(M−1)) off it.
        let mut a_rest = vec![0.0; m * m];
        for &s in &open {
            let diag = s as f64 / m as f64;
            let off = if m > 1 {
                (s * (s - 1)) as f64 / (m * (m - 1)) as f64
            } else {
                0.0
            };
            for j in 0..m {
                for l in 0..m {
                    a_rest[j * m + l] += mass[s] * if j == l { diag } else { off };
                }
            }
        }
        let q: Vec<f64> = match sampler {
            Sampler::Kernel => {
                let total: f64 = open.iter().map(|&t| mass[t]).sum();
                open.iter().map(|&t| mass[t] / total).collect()
            }
            Sampler::Leverage => vec![1.0 / open.len().max(1) as f64; open.len()],
        };
        let mut cdf = Vec::with_capacity(q.len());
        let mut acc = 0.0;
        for p in &q {
            acc += p;
            cdf.push(acc);
        }
        let size_weight = open.iter().zip(&q).map(|(&s, p)| mass[s] / p).collect();
        Plan {
            m,
            enum_masks,
            enum_weights,
            a_enum,
            a_rest,
            sizes: open,
            cdf,
            size_weight,
            pairs,
        }
    }

    /// True when every coalition is enumerated (the regression is then exact).
    pub fn complete(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Number of enumerated coalitions.
    pub fn n_enumerated(&self) -> usize {
        self.enum_weights.len()
    }

    /// Draws one paired sample: writes z into `mask` (0/1) and returns its importance weight.
    /// `perm` is scratch of length M.
    pub fn draw(&self, rng: &mut ChaCha8Rng, mask: &mut [u8], perm: &mut [usize]) -> f64 {
        let u: f64 = rng.gen();
        let i = self
            .cdf
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cdf.len() - 1);
        let s = self.sizes[i];
        let m = self.m;
        for (j, p) in perm.iter_mut().enumerate() {
            *p = j;
        }
        mask.fill(0);
        for t in 0..s {
            let j = rng.gen_range(t..m);
            perm.swap(t, j);
            mask[perm[t]] = 1;
        }
        self.size_weight[i]
    }
}

/// Calls `f` with every 0/1 mask of length `m` with exactly `s` ones, in lexicographic order of
/// the chosen index sets.
pub(crate) fn for_each_subset(m: usize, s: usize, mut f: impl FnMut(&[u8])) {
    let mut idx: Vec<usize> = (0..s).collect();
    let mut mask = vec![0u8; m];
    loop {
        mask.fill(0);
        for &i in &idx {
            mask[i] = 1;
        }
        f(&mask);
        // Next combination.
        let mut i = s;
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            if idx[i] != i + m - s {
                break;
            }
            if i == 0 {
                return;
            }
        }
        idx[i] += 1;
        for t in i + 1..s {
            idx[t] = idx[t - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn subsets_are_all_enumerated_once() {
        for m in 1..8 {
            for s in 0..=m {
                let mut seen = std::collections::HashSet::new();
                for_each_subset(m, s, |mask| {
                    assert_eq!(mask.iter().filter(|&&b| b == 1).count(), s);
                    assert!(seen.insert(mask.to_vec()));
                });
                assert_eq!(seen.len() as f64, binom(m, s), "m={m} s={s}");
            }
        }
    }

    #[test]
    fn budget_large_enough_enumerates_everything() {
        let p = Plan::new(6, 62, Sampler::Kernel, 6);
        assert!(p.complete());
        assert_eq!(p.n_enumerated(), 62);
        assert_eq!(p.pairs, 0);
        // Enumerated A equals the closed form of the full kernel expectation.
        let full = Plan::new(6, 0, Sampler::Kernel, 6);
        for (a, b) in p.a_enum.iter().zip(&full.a_rest) {
            assert!((a - b).abs() < 1e-14);
        }
    }

    #[test]
    fn outer_sizes_are_enumerated_first() {
        // M = 20, budget 2088 (shap's default 2M + 2048): sizes 1/19 (40 coalitions) and 2/18
        // (380) are enumerated; 3/17 (2280) would need more than the samples it would get.
        let p = Plan::new(20, 2088, Sampler::Kernel, 20);
        assert_eq!(p.n_enumerated(), 40 + 380);
        assert_eq!(p.pairs, (2088 - 420) / 2);
        assert!(!p.sizes.contains(&1) && !p.sizes.contains(&2) && p.sizes.contains(&3));
        let cdf_last = *p.cdf.last().unwrap();
        assert!((cdf_last - 1.0).abs() < 1e-12);
    }

    #[test]
    fn importance_weights_make_the_sampled_a_unbiased() {
        // Monte Carlo mean of w · ½(z zᵀ + z̄ z̄ᵀ) → a_rest, for both samplers.
        for sampler in [Sampler::Kernel, Sampler::Leverage] {
            let m = 7;
            let p = Plan::new(m, 30, sampler, 2);
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut mask = vec![0u8; m];
            let mut perm = vec![0usize; m];
            let n = 200_000;
            let mut a = vec![0.0; m * m];
            for _ in 0..n {
                let w = p.draw(&mut rng, &mut mask, &mut perm);
                for j in 0..m {
                    for l in 0..m {
                        if mask[j] == mask[l] {
                            a[j * m + l] += 0.5 * w / n as f64;
                        }
                    }
                }
            }
            for (x, y) in a.iter().zip(&p.a_rest) {
                assert!(
                    (x - y).abs() < 0.01 * y.abs().max(0.01),
                    "{sampler:?}: {x} vs {y}"
                );
            }
        }
    }
}
