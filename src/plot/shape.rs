//! Shape functions of additive models: a term's contribution over its feature's range, with a
//! confidence band and a rug of the training values.
//!
//! The plot takes plain arrays — the grid, the term values and optional band limits — so any
//! additive model (GLM splines, GAM smooths, NAM subnetworks) can use it without the plot layer
//! knowing how the term was fitted. Categorical terms (given `levels`) are drawn as one point per
//! level with an error bar. The rug draws at most 2000 ticks, as evenly spaced order statistics of
//! the values given, so it keeps the shape of the distribution without a random sample.

use super::axis::{self, Scale};
use super::canvas::{truncate, Canvas, TextSpec};
use super::color;
use super::labels::count;
use super::{theme, PlotError, PlotOptions, Result};

/// One additive term's shape function, in plain arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeFunction {
    /// The feature (or term) name.
    pub name: String,
    /// Grid of feature values (level indices 0..k for categorical terms), increasing.
    pub x: Vec<f64>,
    /// The term's value at each grid point.
    pub y: Vec<f64>,
    /// Lower limit of the confidence band at each grid point, if known.
    pub lower: Option<Vec<f64>>,
    /// Upper limit of the confidence band at each grid point, if known.
    pub upper: Option<Vec<f64>>,
    /// Observed feature values for the rug (training data); may be empty.
    pub rug: Vec<f64>,
    /// Level names when the term is categorical (`x` then holds level indices).
    pub levels: Option<Vec<String>>,
    /// What the term's values are, e.g. `contribution to log-odds`.
    pub y_label: String,
}

fn check(pf: &ShapeFunction) -> Result<()> {
    let bad = |reason: String| PlotError::Invalid {
        what: format!("the shape function of '{}'", pf.name),
        reason,
    };
    if pf.x.is_empty() {
        return Err(bad("the grid is empty".into()));
    }
    if pf.y.len() != pf.x.len() {
        return Err(bad(format!(
            "{} grid points but {} values",
            pf.x.len(),
            pf.y.len()
        )));
    }
    for (name, band) in [("lower", &pf.lower), ("upper", &pf.upper)] {
        if let Some(b) = band {
            if b.len() != pf.x.len() {
                return Err(bad(format!(
                    "{} grid points but {} {name} limits",
                    pf.x.len(),
                    b.len()
                )));
            }
        }
    }
    if pf.x.iter().chain(&pf.y).any(|v| !v.is_finite()) {
        return Err(bad("grid points and values must be finite".into()));
    }
    if pf.levels.is_none() && pf.x.windows(2).any(|w| w[1] < w[0]) {
        return Err(bad("the grid must be increasing".into()));
    }
    Ok(())
}

/// The y range: the values, 0 and the band — unless some band limits lie far outside (more than
/// 3 value-spans beyond the values, as the band of a separated, diverging GLM level does); those
/// are cut at the axis and counted. Returns ((lo, hi) padded, number of grid points cut).
fn y_range(pf: &ShapeFunction, band: Option<(&Vec<f64>, &Vec<f64>)>) -> ((f64, f64), usize) {
    let (vlo, vhi) = axis::finite_range(pf.y.iter().copied().chain([0.0])).unwrap_or((-1.0, 1.0));
    let span = (vhi - vlo).max(f64::MIN_POSITIVE);
    let (far_lo, far_hi) = (vlo - 3.0 * span, vhi + 3.0 * span);
    let mut cut = 0;
    let mut kept = Vec::new();
    if let Some((l, u)) = band {
        for (&a, &b) in l.iter().zip(u) {
            if a < far_lo || b > far_hi {
                cut += 1;
            }
            kept.push(a.max(far_lo));
            kept.push(b.min(far_hi));
        }
    }
    let (lo, hi) =
        axis::finite_range(pf.y.iter().copied().chain(kept).chain([0.0])).unwrap_or((-1.0, 1.0));
    (axis::pad(lo, hi, 0.06), cut)
}

/// Lays out the plot of one shape function.
///
/// # Errors
/// [`PlotError::Invalid`] for an empty grid, arrays of different lengths, non-finite values or a
/// grid that is not increasing.
pub fn shape_function(pf: &ShapeFunction, opts: &PlotOptions) -> Result<Canvas> {
    check(pf)?;
    let band = match (&pf.lower, &pf.upper) {
        (Some(l), Some(u)) => Some((l, u)),
        _ => None,
    };
    let title = opts
        .title
        .clone()
        .unwrap_or_else(|| format!("Shape function: {}", pf.name));
    let mut subtitle = pf.y_label.clone();
    match (band.is_some(), pf.levels.is_some()) {
        (true, false) => subtitle.push_str(" · shaded: confidence band"),
        (true, true) => subtitle.push_str(" · bars: confidence interval"),
        _ => {}
    }
    let finite_rug: Vec<f64> = {
        let mut r: Vec<f64> = pf.rug.iter().copied().filter(|v| v.is_finite()).collect();
        r.sort_by(f64::total_cmp);
        r
    };
    if !finite_rug.is_empty() {
        subtitle.push_str(&match pf.levels {
            None => format!(" · rug: {} observed values", count(finite_rug.len())),
            Some(_) => format!(" · %: share of {} observed rows", count(finite_rug.len())),
        });
    }
    // Many levels: a wider figure, and level names on two staggered lines.
    let n_levels = pf.levels.as_ref().map_or(0, Vec::len);
    let default_width = (150.0 + 80.0 * n_levels as f64).clamp(700.0, 1100.0);
    let width = opts.width.map_or(default_width, f64::from).max(300.0);
    let stagger = n_levels > 0 && {
        let sw = (width - 160.0) / n_levels as f64;
        pf.levels
            .iter()
            .flatten()
            .any(|l| super::canvas::text_width(l, theme::TICK, false) > sw - 4.0)
    };
    let extra = if stagger { theme::TICK + 4.0 } else { 0.0 };
    let (y_range, cut) = y_range(pf, band);
    if cut > 0 {
        subtitle.push_str(&format!(
            " · {cut} band{} cut at the axis",
            if cut == 1 { "" } else { "s" }
        ));
    }
    let height = (width.min(800.0) * 0.62).round().max(300.0) + extra;
    let mut c = Canvas::new(width as u32, height as u32);
    let y_top = c.header(&title, &subtitle) + 6.0;
    let y_bottom = height - theme::MARGIN - 56.0 - extra;
    let (ylo, yhi) = y_range;
    let x0 = theme::MARGIN + theme::LABEL + 10.0 + axis::y_tick_width(ylo, yhi, 6) + 10.0;
    let x1 = width - theme::MARGIN - 8.0;
    let ys = Scale::new(ylo, yhi, y_bottom - 14.0, y_top);
    axis::y_axis(&mut c, &ys, x0, Some(x1), "", 0.0, 6);
    c.vtext(
        theme::MARGIN + theme::LABEL / 2.0,
        (y_top + y_bottom) / 2.0,
        truncate(&pf.y_label, theme::LABEL, false, y_bottom - y_top),
        TextSpec::new(theme::LABEL),
    );
    let zero = ys.map(0.0);
    c.line(vec![(x0, zero), (x1, zero)], color::AXIS, 1);

    match &pf.levels {
        Some(levels) => {
            let slots = levels.len().max(1);
            let sw = (x1 - x0 - 20.0) / slots as f64;
            let slot = |v: f64| x0 + 10.0 + (v + 0.5) * sw;
            let spec = TextSpec::new(theme::TICK).color(color::MUTED).middle();
            for (l, name) in levels.iter().enumerate() {
                let cx = slot(l as f64);
                let (room, dy) = match (stagger, l % 2) {
                    (true, 1) => (2.0 * sw - 8.0, theme::TICK + 4.0),
                    (true, _) => (2.0 * sw - 8.0, 0.0),
                    _ => (sw - 4.0, 0.0),
                };
                let label = truncate(name, theme::TICK, false, room.max(10.0));
                c.text(cx, y_bottom + 6.0 + theme::TICK / 2.0 + dy, label, spec);
            }
            c.line(vec![(x0, y_bottom), (x1, y_bottom)], color::AXIS, 1);
            c.text(
                (x0 + x1) / 2.0,
                y_bottom + 16.0 + theme::TICK + theme::LABEL / 2.0 + extra,
                pf.name.clone(),
                TextSpec::new(theme::LABEL).middle(),
            );
            for (i, (&x, &y)) in pf.x.iter().zip(&pf.y).enumerate() {
                let cx = slot(x);
                if let Some((l, u)) = band {
                    let (a, b) = (ys.map(l[i].max(ylo)), ys.map(u[i].min(yhi)));
                    c.line(vec![(cx, a), (cx, b)], color::NEUTRAL, 2);
                    // A cap marks a limit; a limit cut at the axis has none.
                    if l[i] >= ylo {
                        c.line(vec![(cx - 6.0, a), (cx + 6.0, a)], color::NEUTRAL, 2);
                    }
                    if u[i] <= yhi {
                        c.line(vec![(cx - 6.0, b), (cx + 6.0, b)], color::NEUTRAL, 2);
                    }
                }
                c.dot(cx, ys.map(y), 5, color::NEUTRAL);
            }
            // A rug for levels is a count per level: drawn as small ticks stacked is unreadable,
            // so show the share of rows per level under each name instead.
            if !finite_rug.is_empty() {
                let n = finite_rug.len() as f64;
                for l in 0..levels.len() {
                    let share = finite_rug.iter().filter(|&&v| v == l as f64).count() as f64 / n;
                    c.text(
                        slot(l as f64),
                        y_bottom - 8.0,
                        format!("{:.0}%", share * 100.0),
                        TextSpec::new(theme::TICK - 2.0)
                            .color(color::MUTED)
                            .middle(),
                    );
                }
            }
        }
        None => {
            let (xlo, xhi) = axis::finite_range(pf.x.iter().copied()).unwrap_or((0.0, 1.0));
            let xs = Scale::new(xlo, xhi, x0 + 4.0, x1 - 4.0);
            axis::x_axis(&mut c, &xs, y_bottom, None, &pf.name, 7);
            if let Some((l, u)) = band {
                let mut poly: Vec<(f64, f64)> =
                    pf.x.iter()
                        .zip(u.iter())
                        .map(|(&x, &v)| (xs.map(x), ys.map(v.clamp(ylo, yhi))))
                        .collect();
                poly.extend(
                    pf.x.iter()
                        .zip(l.iter())
                        .rev()
                        .map(|(&x, &v)| (xs.map(x), ys.map(v.clamp(ylo, yhi)))),
                );
                c.polygon(poly, color::BAND);
            }
            let pts: Vec<(f64, f64)> =
                pf.x.iter()
                    .zip(&pf.y)
                    .map(|(&x, &y)| (xs.map(x), ys.map(y)))
                    .collect();
            c.line(pts, color::NEUTRAL, 2);
            // Rug: evenly spaced order statistics, inside the grid's range.
            let in_range: Vec<f64> = finite_rug
                .iter()
                .copied()
                .filter(|&v| v >= xs.d0 && v <= xs.d1)
                .collect();
            let k = in_range.len().min(2000);
            let mut last = f64::NAN;
            for t in 0..k {
                let idx = if k > 1 {
                    t * (in_range.len() - 1) / (k - 1)
                } else {
                    0
                };
                let px = xs.map(in_range[idx]).round();
                if px == last {
                    continue;
                }
                last = px;
                c.line(
                    vec![(px, y_bottom - 10.0), (px, y_bottom - 1.0)],
                    color::with_alpha(color::TEXT, 0.45),
                    1,
                );
            }
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(upper: f64) -> ShapeFunction {
        ShapeFunction {
            name: "purpose".into(),
            x: vec![0.0, 1.0, 2.0],
            y: vec![0.5, -0.2, 0.1],
            lower: Some(vec![0.2, -0.5, -upper]),
            upper: Some(vec![0.8, 0.1, upper]),
            rug: vec![0.0, 1.0, 2.0],
            levels: Some(vec!["a".into(), "b".into(), "c".into()]),
            y_label: "contribution".into(),
        }
    }

    #[test]
    fn a_diverging_band_is_cut_and_said_so() {
        let pf = levels(30_000.0);
        let band = Some((pf.lower.as_ref().unwrap(), pf.upper.as_ref().unwrap()));
        let ((lo, hi), cut) = y_range(&pf, band);
        assert_eq!(cut, 1);
        assert!(lo > -3.0 && hi < 3.0, "{lo} {hi}");
        let c = shape_function(&pf, &PlotOptions::default()).unwrap();
        assert!(c
            .texts()
            .iter()
            .any(|t| t.contains("1 band cut at the axis")));
        // A band of ordinary width is drawn in full.
        let pf = levels(0.6);
        let band = Some((pf.lower.as_ref().unwrap(), pf.upper.as_ref().unwrap()));
        let ((lo, hi), cut) = y_range(&pf, band);
        assert_eq!(cut, 0);
        assert!(lo < -0.6 && hi > 0.8);
    }
}
