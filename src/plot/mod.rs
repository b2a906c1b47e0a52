//! Plots of explanations: summary (beeswarm), bar, dependence, waterfall, shape functions, LIME;
//! and the calibration diagram of the audit report.
//!
//! Every plot reads an [`Explanation`](crate::explain::Explanation) (or, for shape functions and
//! LIME weights, plain arrays) and never recomputes attributions: what is drawn is what the
//! explainer returned. Labels — method, output space, rows shown — come from the explanation's
//! metadata, so a plot says what it shows.
//!
//! # Design
//! Each plot function lays the figure out into a [`Canvas`] — a list of pixel-space primitives —
//! and [`Canvas::render`] replays that list on any plotters backend. SVG and PNG are therefore the
//! same code path and the same geometry ([`to_svg`], [`to_png`], [`save`]). Laying out ourselves
//! instead of using plotters' chart builder is deliberate: a beeswarm (dots stacked by pixel bin),
//! a waterfall (cumulative arrows with value labels) and truncated feature labels need pixel
//! control that the chart builder does not give. Text uses an embedded DejaVu Sans (see
//! `assets/fonts/`), so rendering needs no fontconfig or system fonts.
//!
//! Large inputs stay fast and legible: the beeswarm draws at most
//! [`SummaryOptions::max_dots`] rows (a seeded random sample, stated on the plot), and dependence
//! plots likewise.
//!
//! ```
//! use glassbox::plot;
//! let pf = plot::ShapeFunction {
//!     name: "age".into(),
//!     x: vec![20.0, 40.0, 60.0],
//!     y: vec![0.3, 0.0, -0.2],
//!     lower: Some(vec![0.1, -0.1, -0.4]),
//!     upper: Some(vec![0.5, 0.1, 0.0]),
//!     rug: vec![22.0, 35.0, 41.0, 58.0],
//!     levels: None,
//!     y_label: "contribution to log-odds".into(),
//! };
//! let canvas = plot::shape_function(&pf, &plot::PlotOptions::default())?;
//! let svg = plot::to_svg(&canvas)?;
//! assert!(svg.contains("age"));
//! # Ok::<(), glassbox::plot::PlotError>(())
//! ```

mod axis;
mod bar;
mod calibration;
mod canvas;
mod color;
mod dependence;
mod influence;
mod interaction;
mod labels;
mod lime;
mod shape;
mod signed_bar;
mod summary;
mod theme;
mod waterfall;

use std::path::{Path, PathBuf};

use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};

pub use axis::{format_signed, format_value};
pub use bar::{bar, BarOptions};
pub use calibration::{calibration, wilson_interval, CalibrationBins};
pub use canvas::{text_width, truncate, Anchor, Canvas, Item};
pub use dependence::{dependence, DependenceOptions, Interaction};
pub use influence::{influence_bar, InfluenceRows};
pub use interaction::strongest_interaction;
pub use labels::{display_value, method_label, output_label};
pub use lime::{lime_bar, LimeWeights};
pub use shape::{shape_function, ShapeFunction};
pub use summary::{summary, SummaryOptions};
pub use waterfall::{waterfall, WaterfallOptions};

/// Result alias of the plot layer.
pub type Result<T> = std::result::Result<T, PlotError>;

/// What went wrong while plotting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The plot needs feature values, and the explanation has none attached.
    #[error("the {plot} plot needs the explained feature values, and the explanation has none; attach them (CLI: --data FILE with the explained rows in the same order)")]
    NoData {
        /// The plot kind.
        plot: &'static str,
    },
    /// A feature name that is not in the explanation.
    #[error("no feature named '{name}'{hint}")]
    UnknownFeature {
        /// The name asked for.
        name: String,
        /// A suggestion, e.g. ` (did you mean 'age'?)`, or the list of features.
        hint: String,
    },
    /// A row index past the end.
    #[error(
        "row {row} is out of range: the explanation has {n_rows} rows (rows are numbered from 0)"
    )]
    RowOutOfRange {
        /// The row asked for.
        row: usize,
        /// Number of rows.
        n_rows: usize,
    },
    /// An output index past the end.
    #[error("output {output} is out of range: the explanation has {n_outputs} outputs")]
    OutputOutOfRange {
        /// The output asked for.
        output: usize,
        /// Number of outputs.
        n_outputs: usize,
    },
    /// Inputs that cannot be drawn (empty, mismatched lengths, non-finite).
    #[error("cannot draw {what}: {reason}")]
    Invalid {
        /// What was being drawn.
        what: String,
        /// Why it cannot be.
        reason: String,
    },
    /// The output file's extension is neither `.svg` nor `.png`.
    #[error("{path}: unknown image format; use a .svg or .png file name")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The drawing backend failed.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The file could not be written.
    #[error("{path}: cannot write the plot: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Options shared by every plot.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// Which output to plot, for multi-output explanations. Default 0.
    pub output: usize,
    /// Figure width in pixels; each plot has its own default (about 900).
    pub width: Option<u32>,
    /// A title replacing the default one (which names the method and output space).
    pub title: Option<String>,
    /// What the attributions are of, e.g. `"log-odds of bad_credit = 1"`. Default: from the
    /// explanation's output space (`raw score` or `probability`) and output name.
    pub output_label: Option<String>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            output: 0,
            width: None,
            title: None,
            output_label: None,
        }
    }
}

/// Image formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics (text stays text).
    Svg,
    /// PNG bitmap.
    Png,
}

impl Format {
    /// The format named by a file's extension (`.svg` or `.png`, any case).
    ///
    /// # Errors
    /// [`PlotError::UnknownFormat`] for anything else.
    pub fn from_path(path: &Path) -> Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(PlotError::UnknownFormat { path: path.into() }),
        }
    }
}

/// Renders a laid-out figure as an SVG document.
///
/// # Errors
/// [`PlotError::Draw`] when the backend fails.
pub fn to_svg(canvas: &Canvas) -> Result<String> {
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, canvas.size()).into_drawing_area();
        canvas.render(&area)?;
    }
    Ok(compact_svg(&out))
}

/// Drops attributes that restate SVG defaults from plotters' output (a filled dot says
/// `stroke="none" stroke-width="1"` and `opacity="1"`): a third of a large beeswarm's bytes.
fn compact_svg(svg: &str) -> String {
    svg.replace(" stroke=\"none\" stroke-width=\"1\"/>", "/>")
        .replace(" opacity=\"1\"", "")
}

/// Renders a laid-out figure as RGB pixels, row-major (3 bytes per pixel).
///
/// # Errors
/// [`PlotError::Draw`] when the backend fails.
pub fn to_rgb(canvas: &Canvas) -> Result<Vec<u8>> {
    let (w, h) = canvas.size();
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        canvas.render_raster(&area)?;
    }
    Ok(buf)
}

/// Renders a laid-out figure as an encoded PNG file's bytes.
///
/// # Errors
/// [`PlotError::Draw`] when drawing or encoding fails.
pub fn to_png(canvas: &Canvas) -> Result<Vec<u8>> {
    let (w, h) = canvas.size();
    let rgb = to_rgb(canvas)?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc
            .write_header()
            .map_err(|e| PlotError::Draw(format!("PNG encoding: {e}")))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| PlotError::Draw(format!("PNG encoding: {e}")))?;
    }
    Ok(out)
}

/// Writes a figure to `path` as SVG or PNG (chosen by the extension), atomically.
///
/// # Errors
/// [`PlotError::UnknownFormat`] for another extension, [`PlotError::Io`] when writing fails.
pub fn save(canvas: &Canvas, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = match Format::from_path(path)? {
        Format::Svg => to_svg(canvas)?.into_bytes(),
        Format::Png => to_png(canvas)?,
    };
    crate::output::write_atomic(path, |w| std::io::Write::write_all(w, &bytes)).map_err(|source| {
        PlotError::Io {
            path: path.into(),
            source,
        }
    })
}

/// A seeded random sample of `k` of `0..n`, in increasing order (all of them when `k >= n`).
pub(crate) fn sample_rows(n: usize, k: usize, seed: u64) -> Vec<usize> {
    use rand::seq::index::sample;
    use rand::SeedableRng;
    if k >= n {
        return (0..n).collect();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut idx = sample(&mut rng, n, k).into_vec();
    idx.sort_unstable();
    idx
}

/// The index of the feature called `name`.
///
/// # Errors
/// [`PlotError::UnknownFeature`] with the closest name, or the list of names.
pub fn feature_index(e: &crate::explain::Explanation, name: &str) -> Result<usize> {
    let names = e.feature_names();
    if let Some(j) = names.iter().position(|n| n == name) {
        return Ok(j);
    }
    let lower = name.to_lowercase();
    let close = names.iter().find(|n| {
        let l = n.to_lowercase();
        l == lower || l.contains(&lower) || lower.contains(&l)
    });
    let hint = match close {
        Some(c) => format!(" (did you mean '{c}'?)"),
        None => {
            let mut shown: Vec<&str> = names.iter().take(12).map(String::as_str).collect();
            if names.len() > 12 {
                shown.push("…");
            }
            format!("; the features are: {}", shown.join(", "))
        }
    };
    Err(PlotError::UnknownFeature {
        name: name.to_string(),
        hint,
    })
}

/// Checks that `output` exists.
pub(crate) fn check_output(e: &crate::explain::Explanation, output: usize) -> Result<()> {
    if output >= e.n_outputs() {
        return Err(PlotError::OutputOutOfRange {
            output,
            n_outputs: e.n_outputs(),
        });
    }
    Ok(())
}

/// Features ordered by mean |attribution| of `output`, largest first (ties by model order).
pub(crate) fn ranked_features(e: &crate::explain::Explanation, output: usize) -> Vec<(usize, f64)> {
    let importance = e.mean_abs();
    let mut order: Vec<(usize, f64)> = importance.row(output).iter().copied().enumerate().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_seeded_and_sorted() {
        let a = sample_rows(10_000, 100, 7);
        assert_eq!(a, sample_rows(10_000, 100, 7));
        assert_ne!(a, sample_rows(10_000, 100, 8));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_rows(5, 10, 0), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn format_by_extension() {
        assert_eq!(Format::from_path(Path::new("a.SVG")).unwrap(), Format::Svg);
        assert_eq!(Format::from_path(Path::new("a.png")).unwrap(), Format::Png);
        assert!(Format::from_path(Path::new("a.pdf")).is_err());
    }
}
