//! Shape functions of a fitted GAM: each term's centred value over its feature's range with a
//! pointwise 95% band from the Bayesian posterior covariance (Wood 2006, "On confidence intervals
//! for generalized additive models based on penalized regression splines", ANZJS 48:445–464 —
//! mgcv's `plot.gam` bands, which have close to nominal *across-the-function* coverage).
//!
//! The model layer returns plain arrays; turning them into a plot is the plot layer's job.

use super::{Gam, TermKind};
use crate::data::FeatureKind;

/// z of a two-sided 95% normal interval.
const Z95: f64 = 1.959_963_984_540_054;

/// One term's shape function: `y` is the term's value minus its training mean, in link space.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeCurve {
    /// Term name.
    pub name: String,
    /// Feature index.
    pub feature: usize,
    /// Grid of feature values (level indices for a factor).
    pub x: Vec<f64>,
    /// Centred term value at each grid point.
    pub y: Vec<f64>,
    /// Lower limit of the pointwise 95% band.
    pub lower: Vec<f64>,
    /// Upper limit of the pointwise 95% band.
    pub upper: Vec<f64>,
    /// Level names for a factor term.
    pub levels: Option<Vec<String>>,
}

impl Gam {
    /// The shape function of every main-effect term (smooth, linear, factor), `grid` points for
    /// numeric features. Interaction terms are two-dimensional and left out.
    pub fn shape_functions(&self, grid: usize) -> Vec<ShapeCurve> {
        let grid = grid.max(2);
        let mut out = Vec::new();
        for t in &self.terms {
            let quad = |row: &[f64]| -> f64 {
                let k = row.len();
                if t.cov.len() != k * k {
                    return 0.0;
                }
                let mut s = 0.0;
                for a in 0..k {
                    if row[a] == 0.0 {
                        continue;
                    }
                    for b in 0..k {
                        s += row[a] * t.cov[a * k + b] * row[b];
                    }
                }
                s.max(0.0).sqrt()
            };
            let (feature, x, rows, levels): (usize, Vec<f64>, Vec<Vec<f64>>, Option<Vec<String>>) =
                match &t.kind {
                    TermKind::Smooth { feature, basis, .. } => {
                        let x: Vec<f64> = (0..grid)
                            .map(|i| {
                                basis.lo + (basis.hi - basis.lo) * i as f64 / (grid - 1) as f64
                            })
                            .collect();
                        let rows = x.iter().map(|&v| basis.row(v)).collect();
                        (*feature, x, rows, None)
                    }
                    TermKind::Linear { feature } => {
                        let fill = self.design.imputations()[*feature].fill;
                        // The slope's band is about the training mean (the intercept absorbs the rest).
                        let mean_x = if t.coef[0] != 0.0 {
                            t.mean / t.coef[0]
                        } else {
                            fill
                        };
                        let x: Vec<f64> = vec![mean_x - 1.0, mean_x, mean_x + 1.0];
                        let rows = x.iter().map(|&v| vec![v - mean_x]).collect();
                        let _ = fill;
                        (*feature, x, rows, None)
                    }
                    TermKind::Factor { feature } => {
                        let levels = match &self.schema.features()[*feature].kind {
                            FeatureKind::Categorical { levels } => levels.clone(),
                            _ => continue,
                        };
                        let k = levels.len();
                        let rows = (0..k)
                            .map(|l| (0..k).map(|j| f64::from(j == l)).collect())
                            .collect();
                        (
                            *feature,
                            (0..k).map(|l| l as f64).collect(),
                            rows,
                            Some(levels),
                        )
                    }
                    // A single coefficient, shown in the term table rather than as a curve.
                    TermKind::Tensor { .. } | TermKind::Missing { .. } => continue,
                };
            let y: Vec<f64> = match &t.kind {
                TermKind::Linear { .. } => x.iter().map(|&v| t.coef[0] * v - t.mean).collect(),
                _ => rows
                    .iter()
                    .map(|r| r.iter().zip(&t.coef).map(|(a, b)| a * b).sum::<f64>() - t.mean)
                    .collect(),
            };
            let se: Vec<f64> = rows.iter().map(|r| quad(r)).collect();
            out.push(ShapeCurve {
                name: t.name.clone(),
                feature,
                lower: y.iter().zip(&se).map(|(v, s)| v - Z95 * s).collect(),
                upper: y.iter().zip(&se).map(|(v, s)| v + Z95 * s).collect(),
                x,
                y,
                levels,
            });
        }
        out
    }
}
