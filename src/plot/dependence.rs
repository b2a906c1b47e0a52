//! The dependence plot of one feature: its attribution (y) against its value (x), one dot per row,
//! coloured by the feature it interacts with most.
//!
//! Numeric values sit on a linear axis; categorical values on one slot per level, named, with the
//! dots jittered across the slot; missing values get a slot of their own at the left, so they are
//! visible rather than silently dropped. A light histogram along the bottom shows where the data
//! are, so a steep curve over three rows is not mistaken for a trend. The colouring feature is
//! chosen by [`strongest_interaction`](super::strongest_interaction) unless the caller names one.

use rand::{Rng, SeedableRng};

use super::axis::{self, Scale};
use super::canvas::{legend_swatch, text_width, truncate, Canvas, TextSpec};
use super::color;
use super::interaction::strongest_interaction;
use super::labels::{self, count};
use super::{check_output, sample_rows, theme, PlotError, PlotOptions, Result};
use crate::data::FeatureKind;
use crate::explain::Explanation;

/// Which feature colours the dots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Interaction {
    /// The strongest interaction, by the residual-variance heuristic. The default.
    #[default]
    Auto,
    /// No colouring.
    None,
    /// This feature (index into the schema).
    Feature(usize),
}

/// Options of [`dependence`].
#[derive(Clone, Debug, PartialEq)]
pub struct DependenceOptions {
    /// The feature plotted (index into the schema).
    pub feature: usize,
    /// The colouring feature. Default automatic.
    pub interaction: Interaction,
    /// Rows drawn at most (a seeded random sample beyond). Default 5000.
    pub max_dots: usize,
    /// Seed of the row sample and the jitter. Default 0.
    pub seed: u64,
    /// Shared options.
    pub common: PlotOptions,
}

impl Default for DependenceOptions {
    fn default() -> Self {
        DependenceOptions {
            feature: 0,
            interaction: Interaction::Auto,
            max_dots: 5000,
            seed: 0,
            common: PlotOptions::default(),
        }
    }
}

/// Lays out the dependence plot of one feature of `e`.
///
/// # Errors
/// [`PlotError::NoData`] without attached feature values; [`PlotError::OutputOutOfRange`];
/// [`PlotError::Invalid`] for a feature index out of range or an explanation without rows.
pub fn dependence(e: &Explanation, opts: &DependenceOptions) -> Result<Canvas> {
    let k = opts.common.output;
    check_output(e, k)?;
    let data = e.data().ok_or(PlotError::NoData { plot: "dependence" })?;
    let (n, m, j) = (e.n_rows(), e.n_features(), opts.feature);
    if j >= m || n == 0 {
        return Err(PlotError::Invalid {
            what: "a dependence plot".into(),
            reason: format!("feature {j} of {m}, {n} rows"),
        });
    }
    let features = e.schema().features();
    let feat = &features[j];
    let (partner, score) = match opts.interaction {
        Interaction::Auto => match strongest_interaction(e, k, j) {
            Some((c, s)) => (Some(c), Some(s)),
            None => (None, None),
        },
        Interaction::None => (None, None),
        Interaction::Feature(c) if c < m && c != j => (Some(c), None),
        Interaction::Feature(c) => {
            return Err(PlotError::Invalid {
                what: "a dependence plot".into(),
                reason: format!("the colouring feature {c} must be another of the {m} features"),
            })
        }
    };
    let drawn = sample_rows(n, opts.max_dots.max(1), opts.seed);
    let phi = e.output_values(k);
    let xs: Vec<f64> = drawn.iter().map(|&i| data[[i, j]]).collect();
    let ys: Vec<f64> = drawn.iter().map(|&i| phi[[i, j]]).collect();
    let levels: Option<Vec<String>> = match &feat.kind {
        FeatureKind::Numeric => None,
        FeatureKind::Categorical { levels } => Some(levels.clone()),
        _ => {
            let k = labels::n_levels(feat, xs.iter().copied()).unwrap_or(1);
            Some((0..k).map(|v| v.to_string()).collect())
        }
    };
    let any_missing_x = xs.iter().any(|v| v.is_nan());

    // Colours from the partner.
    let colors: Vec<Option<f64>> = match partner {
        Some(c) => {
            let xc: Vec<f64> = drawn.iter().map(|&i| data[[i, c]]).collect();
            super::summary::color_positions(&features[c], &xc)
        }
        None => vec![Some(-1.0); drawn.len()],
    };
    // Unordered categories with few levels get distinct colours and a legend; anything else the
    // blue→red scale.
    let partner_levels: Option<Vec<String>> = partner.and_then(|c| match &features[c].kind {
        FeatureKind::Categorical { levels } if levels.len() <= color::CATEGORICAL.len() => {
            Some(levels.clone())
        }
        _ => None,
    });
    let partner_codes: Vec<f64> = match partner {
        Some(c) => drawn.iter().map(|&i| data[[i, c]]).collect(),
        None => Vec::new(),
    };
    let level_color = |v: f64| color::CATEGORICAL[(v.max(0.0) as usize) % color::CATEGORICAL.len()];

    // Text.
    let method = &e.meta().method;
    let noun = labels::attribution_noun(method);
    let out_label = labels::output_label(e, k, opts.common.output_label.as_deref());
    let title = opts
        .common
        .title
        .clone()
        .unwrap_or_else(|| format!("Dependence: {}", feat.name));
    let mut subtitle = format!("{} · {}", labels::method_label(method), out_label);
    match (partner, score) {
        (Some(c), Some(s)) => subtitle.push_str(&format!(
            " · coloured by {} (explains {:.0}% of the vertical spread)",
            features[c].name,
            s * 100.0
        )),
        (Some(c), None) => subtitle.push_str(&format!(" · coloured by {}", features[c].name)),
        (None, _) if opts.interaction == Interaction::Auto => {
            subtitle.push_str(" · no interacting feature found")
        }
        _ => {}
    }
    if drawn.len() < n {
        subtitle.push_str(&format!(
            " · {} of {} rows drawn (seed {})",
            count(drawn.len()),
            count(n),
            opts.seed
        ));
    }

    // Layout.
    let width = opts.common.width.unwrap_or(theme::WIDTH).max(400) as f64;
    let height = (width * 0.62).round().max(360.0);
    let mut c = Canvas::new(width as u32, height as u32);
    let y_top = c.header(&title, &subtitle) + 8.0;
    let y_bottom = height - theme::MARGIN - 56.0;
    let (ylo, yhi) = axis::finite_range(ys.iter().copied()).unwrap_or((-1.0, 1.0));
    let (ylo, yhi) = axis::pad(ylo.min(0.0), yhi.max(0.0), 0.05);
    let x0 = theme::MARGIN + theme::LABEL + 10.0 + axis::y_tick_width(ylo, yhi, 6) + 10.0;
    let legend_w = match (&partner_levels, partner) {
        (Some(lv), _) => {
            16.0 + lv
                .iter()
                .map(|l| text_width(l, theme::TICK, false))
                .fold(
                    text_width(&features[partner.unwrap_or(0)].name, theme::TICK, true),
                    f64::max,
                )
                .min(160.0)
                + 12.0
        }
        (None, Some(_)) => axis::COLOR_BAR_WIDTH + 16.0,
        (None, None) => 0.0,
    };
    let x1 = width - theme::MARGIN - legend_w - 8.0;
    let yscale = Scale::new(ylo, yhi, y_bottom, y_top);
    axis::y_axis(
        &mut c,
        &yscale,
        x0,
        Some(x1),
        &format!("{noun} of {}", feat.name),
        theme::MARGIN + theme::LABEL / 2.0,
        6,
    );

    // The x axis: an optional "missing" slot, then levels or a linear range.
    let miss_w = if any_missing_x { 60.0 } else { 0.0 };
    let px0 = x0 + miss_w + 10.0;
    let px1 = x1 - 10.0;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed ^ 0xd1ce);
    let xpix: Vec<f64>;
    let mut hist: Vec<(f64, f64, usize)> = Vec::new(); // (x from, x to, count)
    let miss_x = x0 + 5.0 + miss_w / 2.0;
    match &levels {
        Some(lv) => {
            let slots = lv.len().max(1);
            let sw = (px1 - px0) / slots as f64;
            let spec = TextSpec::new(theme::TICK).color(color::MUTED).middle();
            for (l, name) in lv.iter().enumerate() {
                let cx = px0 + (l as f64 + 0.5) * sw;
                c.line(vec![(cx, y_bottom), (cx, y_bottom + 4.0)], color::AXIS, 1);
                let label = truncate(name, theme::TICK, false, (sw - 4.0).max(10.0));
                c.text(cx, y_bottom + 6.0 + theme::TICK / 2.0, label, spec);
                let cnt = xs.iter().filter(|&&v| v == l as f64).count();
                hist.push((cx - sw * 0.4, cx + sw * 0.4, cnt));
            }
            c.line(vec![(px0, y_bottom), (px1, y_bottom)], color::AXIS, 1);
            c.text(
                (px0 + px1) / 2.0,
                y_bottom + 16.0 + theme::TICK + theme::LABEL / 2.0,
                feat.name.clone(),
                TextSpec::new(theme::LABEL).middle(),
            );
            xpix = xs
                .iter()
                .map(|&v| {
                    if v.is_nan() {
                        miss_x + rng.gen_range(-0.3..0.3) * miss_w
                    } else {
                        px0 + (v + 0.5) * sw + rng.gen_range(-0.3..0.3) * sw
                    }
                })
                .collect();
        }
        None => {
            let (xlo, xhi) = axis::finite_range(xs.iter().copied()).unwrap_or((0.0, 1.0));
            let (xlo, xhi) = axis::pad(xlo, xhi, 0.03);
            let xscale = Scale::new(xlo, xhi, px0, px1);
            axis::x_axis(&mut c, &xscale, y_bottom, Some(y_top), &feat.name, 7);
            const BINS: usize = 40;
            let bw = (xscale.d1 - xscale.d0) / BINS as f64;
            let mut counts = [0usize; BINS];
            for &v in xs.iter().filter(|v| v.is_finite()) {
                let b = (((v - xscale.d0) / bw) as usize).min(BINS - 1);
                counts[b] += 1;
            }
            for (b, &cnt) in counts.iter().enumerate() {
                let a = xscale.d0 + b as f64 * bw;
                hist.push((xscale.map(a), xscale.map(a + bw), cnt));
            }
            xpix = xs
                .iter()
                .map(|&v| {
                    if v.is_nan() {
                        miss_x + rng.gen_range(-0.3..0.3) * miss_w
                    } else {
                        xscale.map(v)
                    }
                })
                .collect();
        }
    }
    if any_missing_x {
        let spec = TextSpec::new(theme::TICK).color(color::MUTED).middle();
        c.rect(
            x0 + 2.0,
            y_top,
            x0 + miss_w + 6.0,
            y_bottom,
            color::with_alpha(color::GRID, 0.5),
        );
        c.text(miss_x, y_bottom + 6.0 + theme::TICK / 2.0, "missing", spec);
        let cnt = xs.iter().filter(|v| v.is_nan()).count();
        hist.push((miss_x - miss_w * 0.3, miss_x + miss_w * 0.3, cnt));
    }
    // Histogram along the bottom: at most 15% of the plot height.
    let max_cnt = hist.iter().map(|h| h.2).max().unwrap_or(0).max(1) as f64;
    let hh = (y_bottom - y_top) * 0.15;
    for &(a, b, cnt) in &hist {
        if cnt > 0 {
            let top = y_bottom - hh * cnt as f64 / max_cnt;
            c.rect(
                a + 0.5,
                top,
                b - 0.5,
                y_bottom,
                color::with_alpha(color::MISSING, 0.35),
            );
        }
    }
    let zero = yscale.map(0.0);
    c.line(vec![(x0, zero), (x1, zero)], color::AXIS, 1);

    let r: u32 = if drawn.len() > 1500 { 2 } else { 3 };
    for pass in [true, false] {
        for i in 0..drawn.len() {
            if !ys[i].is_finite() || colors[i].is_none() != pass {
                continue;
            }
            let col = match (colors[i], &partner_levels) {
                (None, _) => color::MISSING,
                (Some(t), _) if t < 0.0 => color::NEUTRAL,
                (Some(_), Some(_)) => level_color(partner_codes[i]),
                (Some(t), None) => color::value_color(t),
            };
            c.dot(xpix[i], yscale.map(ys[i]), r, color::with_alpha(col, 0.8));
        }
    }

    // Legend.
    if let Some(pc) = partner {
        let lx = x1 + 24.0;
        match &partner_levels {
            Some(lv) => {
                let name = truncate(&features[pc].name, theme::TICK, true, legend_w - 10.0);
                c.text(
                    lx - 6.0,
                    y_top + 8.0,
                    name,
                    TextSpec::new(theme::TICK).bold(),
                );
                for (l, level) in lv.iter().enumerate() {
                    let y = y_top + 30.0 + l as f64 * 20.0;
                    legend_swatch(&mut c, lx, y, level_color(l as f64));
                    let t = truncate(level, theme::TICK, false, legend_w - 26.0);
                    c.text(lx + 10.0, y, t, TextSpec::new(theme::TICK));
                }
                if colors.iter().any(Option::is_none) {
                    let y = y_top + 30.0 + lv.len() as f64 * 20.0;
                    legend_swatch(&mut c, lx, y, color::MISSING);
                    c.text(lx + 10.0, y, "missing", TextSpec::new(theme::TICK));
                }
            }
            None => {
                let mid = (y_top + y_bottom) / 2.0;
                let span = ((y_bottom - y_top) * 0.7).min(300.0);
                let (bt, bb) = (mid - span / 2.0, mid + span / 2.0);
                let name = truncate(&features[pc].name, theme::LABEL, false, y_bottom - y_top);
                axis::color_bar(&mut c, lx - 6.0, bt, bb, ("high", "low"), &name);
                if colors.iter().any(Option::is_none) {
                    legend_swatch(&mut c, lx, bb + 30.0, color::MISSING);
                    c.text(
                        lx,
                        bb + 44.0,
                        "missing",
                        TextSpec::new(theme::TICK).color(color::MUTED).middle(),
                    );
                }
            }
        }
    }
    Ok(c)
}
