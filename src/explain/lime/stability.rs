//! Stability of LIME across seeds (Visani et al. 2022, "Statistical stability indices for LIME:
//! obtaining reliable explanations for machine learning models", JORS 73(1)).
//!
//! Given R runs of LIME on the same row with different seeds:
//!
//! * **VSI** (variables stability index): for each pair of runs, the share of selected features
//!   the two have in common, |A ∩ B| / max(|A|, |B|); averaged over pairs. 1 = the same
//!   features every time. (The paper reports it in percent; we use \[0, 1\].)
//! * **CSI** (coefficient stability index): for each pair of runs and each feature selected in
//!   both, whether the two 95% confidence intervals of its coefficient overlap; averaged. 1 = no
//!   run contradicts another. Intervals use the surrogate's approximate standard errors.
//! * **Top-k Jaccard**: for each pair, |A ∩ B| / |A ∪ B| of the k features with the largest
//!   |value| (non-zero only; ties to the lower index); averaged.
//!
//! With fewer than two runs every index is `NaN`.

/// The three indices of one row and output.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stability {
    pub vsi: f64,
    pub csi: f64,
    pub jaccard: f64,
}

/// One run: selected features (ascending), their coefficients and standard errors, and the
/// values of all M features.
pub(crate) type Run = (Vec<usize>, Vec<f64>, Vec<f64>, Vec<f64>);

impl Stability {
    pub fn none() -> Stability {
        Stability {
            vsi: f64::NAN,
            csi: f64::NAN,
            jaccard: f64::NAN,
        }
    }

    pub fn of(runs: &[Run], top_k: usize) -> Stability {
        if runs.len() < 2 {
            return Stability::none();
        }
        let selected: Vec<Vec<usize>> = runs
            .iter()
            .map(|(f, c, _, _)| {
                f.iter()
                    .zip(c)
                    .filter(|(_, b)| **b != 0.0)
                    .map(|(j, _)| *j)
                    .collect()
            })
            .collect();
        let tops: Vec<Vec<usize>> = runs.iter().map(|r| top(&r.3, top_k)).collect();
        let (mut vsi, mut jac, mut pairs) = (0.0, 0.0, 0.0);
        let (mut overlap, mut compared) = (0.0, 0.0);
        for a in 0..runs.len() {
            for b in a + 1..runs.len() {
                pairs += 1.0;
                let common = intersect(&selected[a], &selected[b]);
                let size = selected[a].len().max(selected[b].len());
                vsi += if size == 0 {
                    1.0
                } else {
                    common.len() as f64 / size as f64
                };
                let inter = intersect(&tops[a], &tops[b]).len();
                let union = tops[a].len() + tops[b].len() - inter;
                jac += if union == 0 {
                    1.0
                } else {
                    inter as f64 / union as f64
                };
                for j in common {
                    let (Some((ba, sa)), Some((bb, sb))) = (coef(&runs[a], j), coef(&runs[b], j))
                    else {
                        continue;
                    };
                    if sa.is_finite() && sb.is_finite() {
                        compared += 1.0;
                        overlap += f64::from((ba - bb).abs() <= 1.96 * (sa + sb));
                    }
                }
            }
        }
        Stability {
            vsi: vsi / pairs,
            csi: if compared > 0.0 {
                overlap / compared
            } else {
                f64::NAN
            },
            jaccard: jac / pairs,
        }
    }
}

fn coef(run: &Run, j: usize) -> Option<(f64, f64)> {
    let i = run.0.iter().position(|&f| f == j)?;
    Some((run.1[i], run.2[i]))
}

/// Sorted intersection of two ascending lists.
fn intersect(a: &[usize], b: &[usize]) -> Vec<usize> {
    a.iter().copied().filter(|j| b.contains(j)).collect()
}

/// Indices of the k largest |values| (non-zero), ascending.
fn top(values: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).filter(|&j| values[j] != 0.0).collect();
    idx.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()).then(a.cmp(&b)));
    idx.truncate(k);
    idx.sort_unstable();
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(features: &[usize], coef: &[f64], se: f64, m: usize) -> Run {
        let mut values = vec![0.0; m];
        for (&j, &b) in features.iter().zip(coef) {
            values[j] = b;
        }
        (
            features.to_vec(),
            coef.to_vec(),
            vec![se; coef.len()],
            values,
        )
    }

    #[test]
    fn indices_by_hand() {
        // Runs select {0,1,2}, {0,1,3}, {0,1,2}: VSI = mean(2/3, 1, 2/3) = 7/9.
        let runs = vec![
            run(&[0, 1, 2], &[3.0, -2.0, 0.5], 0.1, 4),
            run(&[0, 1, 3], &[3.1, -2.0, 0.6], 0.1, 4),
            run(&[0, 1, 2], &[2.0, -2.0, 0.5], 0.1, 4),
        ];
        let s = Stability::of(&runs, 2);
        assert!((s.vsi - 7.0 / 9.0).abs() < 1e-15);
        // Top-2 is {0, 1} in every run.
        assert_eq!(s.jaccard, 1.0);
        // Common features per pair: (0,1): 0,1 → overlap, overlap; (0,2): 0 (3 vs 2: no),
        // 1, 2 → 2 of 3; (1,2): 0 (no), 1 → 1 of 2. CSI = 5/7.
        assert!((s.csi - 5.0 / 7.0).abs() < 1e-15, "{}", s.csi);
        assert!(Stability::of(&runs[..1], 2).vsi.is_nan());
    }
}
