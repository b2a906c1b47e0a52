//! Which feature to colour a dependence plot by: the one that best explains the vertical spread of
//! the attributions that the plotted feature's own value does not.
//!
//! In a dependence plot of feature `j`, rows with (almost) the same `x_j` but different attributions
//! φ_j show an interaction: something else changes how `x_j` matters. We make that precise:
//!
//! 1. Sort the rows by `x_j` and cut them into bins of about 2% of the rows (numeric `j`), or group
//!    them by level (categorical `j`). The residual `r = φ_j − mean of φ_j in the bin` is the spread
//!    that `x_j` itself does not explain.
//! 2. For each other feature `c`, measure within every bin how much of the residual's variance `c`
//!    explains — a straight-line fit for numeric `c`, group means for categorical `c` (with missing
//!    values as one more group) — and correct that for the degrees of freedom it used (explained
//!    sum of squares minus `df ×` the residual mean square), so that a 40-level category does not
//!    win by overfitting small bins.
//! 3. The score of `c` is the corrected explained sum of squares over all bins divided by the total
//!    residual sum of squares: the fraction of the residual spread that `c` accounts for.
//!
//! shap's `approximate_interactions` has the same idea (bin along `x_j`, then score other features
//! by how they co-vary with φ_j inside the bins) but sums absolute correlations per bin; we use
//! explained variance so the score has a meaning (a fraction) and categories are handled as groups
//! rather than as arbitrary level codes.

use crate::data::Feature;
use crate::explain::Explanation;

/// The feature that best explains the residual spread of `feature`'s attributions (see the module
/// docs), with its score: the fraction of that spread it explains (0..=1). `None` without feature
/// values, with fewer than 20 rows, or when no feature explains any of it.
pub fn strongest_interaction(
    e: &Explanation,
    output: usize,
    feature: usize,
) -> Option<(usize, f64)> {
    let data = e.data()?;
    if output >= e.n_outputs() || feature >= e.n_features() {
        return None;
    }
    let phi = e.output_values(output);
    let features = e.schema().features();
    let mut rows: Vec<usize> = (0..e.n_rows())
        .filter(|&i| !data[[i, feature]].is_nan() && phi[[i, feature]].is_finite())
        .collect();
    if rows.len() < 20 {
        return None;
    }
    rows.sort_by(|&a, &b| data[[a, feature]].total_cmp(&data[[b, feature]]));
    // Bins: by level for categories, consecutive rank groups for numbers.
    let mut bins: Vec<&[usize]> = Vec::new();
    if features[feature].kind.is_categorical() {
        let mut start = 0;
        for i in 1..=rows.len() {
            if i == rows.len() || data[[rows[i], feature]] != data[[rows[start], feature]] {
                bins.push(&rows[start..i]);
                start = i;
            }
        }
    } else {
        let size = (rows.len() / 50).clamp(10, 200);
        bins.extend(rows.chunks(size));
    }
    // Residuals within bins, in the order of `rows`.
    let mut resid = Vec::with_capacity(rows.len());
    for b in &bins {
        let mean = b.iter().map(|&i| phi[[i, feature]]).sum::<f64>() / b.len() as f64;
        resid.extend(b.iter().map(|&i| phi[[i, feature]] - mean));
    }
    let total: f64 = resid.iter().map(|r| r * r).sum();
    if !(total > 0.0) {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    for (c, feat) in features.iter().enumerate() {
        if c == feature {
            continue;
        }
        let mut explained = 0.0;
        let mut offset = 0;
        for b in &bins {
            let r = &resid[offset..offset + b.len()];
            offset += b.len();
            explained += bin_explained(feat, b, r, |i| data[[i, c]]);
        }
        // Per-bin values are unbiased but noisy (they may be negative); clamping them per bin
        // would bias every candidate upwards, so only the total is clamped.
        let score = explained.max(0.0) / total;
        if score > 0.0 && best.map_or(true, |(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best
}

/// Degrees-of-freedom-corrected sum of squares of `r` explained by the feature within one bin:
/// an unbiased estimate, hence possibly negative.
fn bin_explained(feat: &Feature, rows: &[usize], r: &[f64], x: impl Fn(usize) -> f64) -> f64 {
    if feat.kind.is_categorical() {
        // Group means; missing is one more group. Levels are small integers, so a sorted
        // (level, residual) list groups them without hashing floats.
        let mut pairs: Vec<(f64, f64)> = rows.iter().zip(r).map(|(&i, &ri)| (x(i), ri)).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = pairs.len() as f64;
        let grand = pairs.iter().map(|p| p.1).sum::<f64>() / n;
        let (mut between, mut within, mut groups) = (0.0, 0.0, 0usize);
        let mut start = 0;
        for i in 1..=pairs.len() {
            let same = i < pairs.len()
                && (pairs[i].0 == pairs[start].0
                    || (pairs[i].0.is_nan() && pairs[start].0.is_nan()));
            if !same {
                let g = &pairs[start..i];
                let mean = g.iter().map(|p| p.1).sum::<f64>() / g.len() as f64;
                between += g.len() as f64 * (mean - grand).powi(2);
                within += g.iter().map(|p| (p.1 - mean).powi(2)).sum::<f64>();
                groups += 1;
                start = i;
            }
        }
        if groups < 2 || pairs.len() <= groups {
            return 0.0;
        }
        let df = (groups - 1) as f64;
        between - df * within / (n - groups as f64)
    } else {
        let (mut n, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for (&i, &ri) in rows.iter().zip(r) {
            let xi = x(i);
            if xi.is_finite() {
                n += 1.0;
                sx += xi;
                sy += ri;
            }
        }
        if n < 4.0 {
            return 0.0;
        }
        let (mx, my) = (sx / n, sy / n);
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for (&i, &ri) in rows.iter().zip(r) {
            let xi = x(i);
            if xi.is_finite() {
                sxx += (xi - mx).powi(2);
                sxy += (xi - mx) * (ri - my);
                syy += (ri - my).powi(2);
            }
        }
        if sxx <= 0.0 {
            return 0.0;
        }
        let reg = sxy * sxy / sxx;
        reg - (syy - reg).max(0.0) / (n - 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Feature, FeatureKind, FeatureSchema};
    use crate::explain::ExplanationMeta;
    use ndarray::{Array2, Array3};
    use rand::{Rng, SeedableRng};

    /// φ_0 depends on x0 and, through an interaction, on `partner`; x2 is noise.
    fn explanation(interacting: bool, categorical_partner: bool) -> Explanation {
        let n = 600;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut x = Array2::zeros((n, 3));
        let mut v = Array3::zeros((n, 1, 3));
        for i in 0..n {
            let x0: f64 = rng.gen_range(-1.0..1.0);
            let x1: f64 = if categorical_partner {
                rng.gen_range(0..3) as f64
            } else {
                rng.gen_range(-1.0..1.0)
            };
            let x2: f64 = rng.gen_range(-1.0..1.0);
            x[[i, 0]] = x0;
            x[[i, 1]] = x1;
            x[[i, 2]] = x2;
            let noise: f64 = rng.gen_range(-0.05..0.05);
            let effect = if categorical_partner {
                [-1.0, 0.0, 2.0][x1 as usize]
            } else {
                x1
            };
            v[[i, 0, 0]] = x0 + if interacting { x0 * effect } else { 0.0 } + noise;
            v[[i, 0, 1]] = 0.3 * x1;
            v[[i, 0, 2]] = 0.1 * x2;
        }
        let mut f1 = Feature::numeric("partner");
        if categorical_partner {
            f1.kind = FeatureKind::Categorical {
                levels: vec!["a".into(), "b".into(), "c".into()],
            };
        }
        let schema =
            FeatureSchema::new(vec![Feature::numeric("x0"), f1, Feature::numeric("noise")]);
        Explanation::new(
            v,
            Array2::zeros((n, 1)),
            schema,
            vec!["y".into()],
            ExplanationMeta::new("t"),
        )
        .unwrap()
        .with_data(x)
        .unwrap()
    }

    #[test]
    fn finds_the_numeric_partner() {
        let (c, score) = strongest_interaction(&explanation(true, false), 0, 0).unwrap();
        assert_eq!(c, 1);
        assert!(score > 0.8, "{score}");
    }

    #[test]
    fn finds_the_categorical_partner() {
        let (c, score) = strongest_interaction(&explanation(true, true), 0, 0).unwrap();
        assert_eq!(c, 1);
        assert!(score > 0.8, "{score}");
    }

    #[test]
    fn additive_attributions_have_no_strong_partner() {
        // Only noise is left in the residual: whatever wins explains very little of it.
        let best = strongest_interaction(&explanation(false, false), 0, 0);
        assert!(best.map_or(true, |(_, s)| s < 0.05), "{best:?}");
    }

    #[test]
    fn no_data_no_interaction() {
        let e = Explanation::new(
            Array3::zeros((30, 1, 2)),
            Array2::zeros((30, 1)),
            FeatureSchema::numeric(["a", "b"]),
            vec!["y".into()],
            ExplanationMeta::new("t"),
        )
        .unwrap();
        assert_eq!(strongest_interaction(&e, 0, 0), None);
    }
}
