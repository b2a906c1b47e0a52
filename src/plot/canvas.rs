//! A display list in pixel coordinates, rendered by plotters to SVG or PNG.
//!
//! Every plot is laid out once, into a [`Canvas`] of rectangles, circles, lines, polygons and text,
//! and then replayed on any plotters backend. Layout therefore happens in one place and the SVG and
//! the PNG of a plot have exactly the same geometry; tests can inspect the list (how many dots,
//! which labels in which order) without parsing either format.
//!
//! We use plotters as a *backend* only (its SVG writer, its rasteriser and its `ab_glyph` text
//! renderer), not its chart builder: the chart builder's automatic label placement cannot express
//! a beeswarm or a waterfall, and fighting it costs more than drawing the few axes ourselves.
//!
//! Text is measured with the embedded DejaVu Sans (no fontconfig, no system fonts), registered once
//! under the family name `sans-serif`. SVG output names that family, so a browser uses its own
//! sans-serif font; DejaVu is wider than most, so our width estimates err on the safe side.

use std::sync::Once;

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, RGBAColor};

use super::{PlotError, Result};

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
static FONTS: Once = Once::new();

/// The family name fonts are registered under, and the one SVG text names.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded fonts with plotters (idempotent, thread-safe).
pub(crate) fn ensure_fonts() {
    FONTS.call_once(|| {
        // The bytes are compiled in and are valid TrueType files: failure here is a build bug,
        // and the only consequence would be text drawn by a fallback-free backend as nothing.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, REGULAR);
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, BOLD);
    });
}

/// Horizontal text anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Text starts at x.
    Start,
    /// Text is centred on x.
    Middle,
    /// Text ends at x.
    End,
}

/// One drawing primitive, in pixels (origin top left, y down).
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// An axis-aligned rectangle.
    Rect {
        /// Corners.
        x0: f64,
        /// Corners.
        y0: f64,
        /// Corners.
        x1: f64,
        /// Corners.
        y1: f64,
        /// Fill colour, if filled.
        fill: Option<RGBAColor>,
        /// Outline colour and width, if outlined.
        stroke: Option<(RGBAColor, u32)>,
    },
    /// A filled circle (a dot of a scatter plot).
    Dot {
        /// Centre.
        x: f64,
        /// Centre.
        y: f64,
        /// Radius in pixels.
        r: u32,
        /// Colour.
        color: RGBAColor,
    },
    /// A polyline.
    Line {
        /// Vertices.
        points: Vec<(f64, f64)>,
        /// Colour.
        color: RGBAColor,
        /// Width in pixels.
        width: u32,
    },
    /// A filled polygon.
    Polygon {
        /// Vertices.
        points: Vec<(f64, f64)>,
        /// Colour.
        color: RGBAColor,
    },
    /// A line of text; `y` is its vertical centre.
    Text {
        /// Anchor point.
        x: f64,
        /// Anchor point (vertical centre of the text).
        y: f64,
        /// The text.
        text: String,
        /// Font size in pixels (line height).
        size: f64,
        /// Bold face.
        bold: bool,
        /// Colour.
        color: RGBAColor,
        /// Horizontal anchor.
        anchor: Anchor,
        /// Rotated 90° counter-clockwise (a y-axis title).
        vertical: bool,
    },
}

/// A laid-out figure: its size and the primitives to draw, in drawing order.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    width: u32,
    height: u32,
    items: Vec<Item>,
}

impl Canvas {
    /// An empty canvas of this size (pixels).
    pub fn new(width: u32, height: u32) -> Self {
        ensure_fonts();
        Canvas {
            width,
            height,
            items: Vec::new(),
        }
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The primitives, in drawing order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The texts drawn, in drawing order (for tests and accessibility checks).
    pub fn texts(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The number of dots drawn.
    pub fn n_dots(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, Item::Dot { .. }))
            .count()
    }

    pub(crate) fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    pub(crate) fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, fill: RGBAColor) {
        self.push(Item::Rect {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
            fill: Some(fill),
            stroke: None,
        });
    }

    pub(crate) fn line(&mut self, points: Vec<(f64, f64)>, color: RGBAColor, width: u32) {
        self.push(Item::Line {
            points,
            color,
            width,
        });
    }

    pub(crate) fn dot(&mut self, x: f64, y: f64, r: u32, color: RGBAColor) {
        self.push(Item::Dot { x, y, r, color });
    }

    pub(crate) fn polygon(&mut self, points: Vec<(f64, f64)>, color: RGBAColor) {
        self.push(Item::Polygon { points, color });
    }

    /// Adds text at (x, y) (vertical centre) with the given style.
    pub(crate) fn text(&mut self, x: f64, y: f64, text: impl Into<String>, style: TextSpec) {
        self.push(Item::Text {
            x,
            y,
            text: text.into(),
            size: style.size,
            bold: style.bold,
            color: style.color,
            anchor: style.anchor,
            vertical: false,
        });
    }

    /// Adds text rotated to read bottom-to-top, centred on (x, y).
    pub(crate) fn vtext(&mut self, x: f64, y: f64, text: impl Into<String>, style: TextSpec) {
        self.push(Item::Text {
            x,
            y,
            text: text.into(),
            size: style.size,
            bold: style.bold,
            color: style.color,
            anchor: Anchor::Middle,
            vertical: true,
        });
    }

    /// Draws a bold title and a muted subtitle (either may be empty) at the top, truncated to the
    /// width; returns the y below them.
    pub(crate) fn header(&mut self, title: &str, subtitle: &str) -> f64 {
        use super::theme::{MARGIN, SUBTITLE, TITLE};
        let max_w = self.width as f64 - 2.0 * MARGIN;
        let mut y = MARGIN;
        if !title.is_empty() {
            let t = truncate(title, TITLE, true, max_w);
            self.text(MARGIN, y + TITLE / 2.0, t, TextSpec::new(TITLE).bold());
            y += TITLE + 6.0;
        }
        if !subtitle.is_empty() {
            let t = truncate(subtitle, SUBTITLE, false, max_w);
            self.text(
                MARGIN,
                y + SUBTITLE / 2.0,
                t,
                TextSpec::new(SUBTITLE).color(super::color::MUTED),
            );
            y += SUBTITLE + 6.0;
        }
        y + 8.0
    }

    /// Draws every item on a plotters drawing area of the same size, text as the backend's text
    /// (in SVG, `<text>` elements that stay selectable and searchable).
    ///
    /// # Errors
    /// [`PlotError::Draw`] when the backend fails.
    pub fn render<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        self.render_with(area, false)
    }

    /// Draws every item on a bitmap drawing area, rasterising text glyph by glyph at sub-pixel
    /// positions (see `raster_text`) instead of with plotters' text renderer.
    ///
    /// # Errors
    /// [`PlotError::Draw`] when the backend fails.
    pub fn render_raster<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        self.render_with(area, true)
    }

    fn render_with<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        raster: bool,
    ) -> Result<()> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| PlotError::Draw(e.to_string());
        area.fill(&WHITE).map_err(err)?;
        let p = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
        for item in &self.items {
            match item {
                Item::Rect {
                    x0,
                    y0,
                    x1,
                    y1,
                    fill,
                    stroke,
                } => {
                    if let Some(c) = fill {
                        area.draw(&Rectangle::new([p(*x0, *y0), p(*x1, *y1)], c.filled()))
                            .map_err(err)?;
                    }
                    if let Some((c, w)) = stroke {
                        area.draw(&Rectangle::new(
                            [p(*x0, *y0), p(*x1, *y1)],
                            c.stroke_width(*w),
                        ))
                        .map_err(err)?;
                    }
                }
                Item::Dot { x, y, r, color } => {
                    area.draw(&Circle::new(p(*x, *y), *r, color.filled()))
                        .map_err(err)?;
                }
                Item::Line {
                    points,
                    color,
                    width,
                } => {
                    let pts: Vec<(i32, i32)> = points.iter().map(|&(x, y)| p(x, y)).collect();
                    area.draw(&PathElement::new(pts, color.stroke_width(*width)))
                        .map_err(err)?;
                }
                Item::Polygon { points, color } => {
                    let pts: Vec<(i32, i32)> = points.iter().map(|&(x, y)| p(x, y)).collect();
                    area.draw(&plotters::element::Polygon::new(pts, color.filled()))
                        .map_err(err)?;
                }
                Item::Text {
                    x,
                    y,
                    text,
                    size,
                    bold,
                    color,
                    anchor,
                    vertical,
                } => {
                    if raster {
                        raster_text(
                            area,
                            (*x, *y),
                            text,
                            *size,
                            *bold,
                            color,
                            *anchor,
                            *vertical,
                        )?;
                        continue;
                    }
                    let style = if *bold {
                        FontStyle::Bold
                    } else {
                        FontStyle::Normal
                    };
                    let h = match anchor {
                        Anchor::Start => HPos::Left,
                        Anchor::Middle => HPos::Center,
                        Anchor::End => HPos::Right,
                    };
                    let mut font = FontDesc::new(FontFamily::Name(FAMILY), *size, style);
                    if *vertical {
                        font = font.transform(FontTransform::Rotate270);
                    }
                    let ts = TextStyle::from(font)
                        .color(color)
                        .pos(Pos::new(h, VPos::Center));
                    area.draw_text(text, &ts, p(*x, *y)).map_err(err)?;
                }
            }
        }
        area.present().map_err(err)?;
        Ok(())
    }
}

/// Rasterises `text` with ab_glyph, anchored at `at` as [`Canvas::render`] anchors it: the
/// horizontal anchor on the advance width [`text_width`] measures, vertically centred as SVG's
/// `dominant-baseline: middle` (baseline half an x-height below the anchor).
///
/// Why not plotters' own text on bitmaps: its ab_glyph renderer truncates every glyph's position
/// to whole pixels and drops the left side bearing, so letters sit unevenly ("SH A") and a
/// decimal point floats above the baseline ("0·8"). Here each glyph is outlined at its exact
/// fractional pen position and its coverage blended into the pixels. Vertical text is drawn in a
/// horizontal frame and rotated a quarter turn anticlockwise (reading bottom to top, as SVG's
/// `rotate(270)`).
#[allow(clippy::too_many_arguments)]
fn raster_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (f64, f64),
    text: &str,
    size: f64,
    bold: bool,
    color: &RGBAColor,
    anchor: Anchor,
    vertical: bool,
) -> Result<()> {
    use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
    let bytes = if bold { BOLD } else { REGULAR };
    let font = FontRef::try_from_slice(bytes)
        .map_err(|e| PlotError::Draw(format!("embedded font: {e}")))?;
    let scale = PxScale::from(size as f32);
    let scaled = font.as_scaled(scale);
    let mut pen = 0.0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        glyphs.push((id, pen));
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    let start = match anchor {
        Anchor::Start => 0.0,
        Anchor::Middle => -pen / 2.0,
        Anchor::End => -pen,
    };
    let x_height = font
        .outline_glyph(scaled.glyph_id('x').with_scale(scale))
        .map_or(size as f32 * 0.45, |g| -g.px_bounds().min.y);
    let baseline = x_height / 2.0;
    let (ax, ay) = (at.0 as f32, at.1 as f32);
    let mut result = Ok(());
    for (id, dx) in glyphs {
        // Horizontal text is positioned at its absolute sub-pixel origin; vertical text in a
        // local frame, rotated pixel by pixel.
        let origin = if vertical {
            point(start + dx, baseline)
        } else {
            point(ax + start + dx, ay + baseline)
        };
        let Some(outline) = font.outline_glyph(id.with_scale_and_position(scale, origin)) else {
            continue; // a space
        };
        let min = outline.px_bounds().min;
        outline.draw(|gx, gy, coverage| {
            if coverage <= 0.0 || result.is_err() {
                return;
            }
            let (lx, ly) = (min.x + gx as f32, min.y + gy as f32);
            let (px, py) = if vertical {
                (ax + ly, ay - lx)
            } else {
                (lx, ly)
            };
            let c = color.mix(f64::from(coverage.min(1.0)));
            if let Err(e) = area.draw_pixel((px.round() as i32, py.round() as i32), &c) {
                result = Err(PlotError::Draw(e.to_string()));
            }
        });
        result
            .as_ref()
            .map_err(|e| PlotError::Draw(e.to_string()))?;
    }
    Ok(())
}

/// A legend marker: a small square centred on (x, y) (a rectangle, so that [`Canvas::n_dots`]
/// counts data points only).
pub(crate) fn legend_swatch(c: &mut Canvas, x: f64, y: f64, color: RGBAColor) {
    c.rect(x - 5.0, y - 5.0, x + 5.0, y + 5.0, color);
}

/// Style of a text item.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextSpec {
    pub size: f64,
    pub bold: bool,
    pub color: RGBAColor,
    pub anchor: Anchor,
}

impl TextSpec {
    pub fn new(size: f64) -> Self {
        TextSpec {
            size,
            bold: false,
            color: super::color::TEXT,
            anchor: Anchor::Start,
        }
    }
    pub fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    pub fn color(mut self, c: RGBAColor) -> Self {
        self.color = c;
        self
    }
    pub fn anchor(mut self, a: Anchor) -> Self {
        self.anchor = a;
        self
    }
    pub fn end(self) -> Self {
        self.anchor(Anchor::End)
    }
    pub fn middle(self) -> Self {
        self.anchor(Anchor::Middle)
    }
}

/// The width in pixels of `text` at `size` in the embedded font.
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    ensure_fonts();
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::Name(FAMILY), size, style)
        .box_size(text)
        .map(|(w, _)| w as f64)
        // Only if the font failed to register: assume an average glyph of 0.6 em.
        .unwrap_or_else(|_| text.chars().count() as f64 * size * 0.6)
}

/// `text` shortened with a trailing ellipsis so that it fits in `max_width` pixels.
pub fn truncate(text: &str, size: f64, bold: bool, max_width: f64) -> String {
    if text_width(text, size, bold) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    // Binary search on the number of characters kept.
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi + 1) / 2;
        let candidate: String = chars[..mid].iter().collect::<String>() + "…";
        if text_width(&candidate, size, bold) <= max_width {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let kept: String = chars[..lo].iter().collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_fits_and_marks_the_cut() {
        let long = "a_very_long_feature_name_that_does_not_fit_anywhere";
        let t = truncate(long, 13.0, false, 120.0);
        assert!(t.ends_with('…'), "{t}");
        assert!(text_width(&t, 13.0, false) <= 120.0);
        assert!(long.starts_with(t.trim_end_matches('…')));
        assert_eq!(truncate("age", 13.0, false, 120.0), "age");
    }

    #[test]
    fn wider_text_measures_wider() {
        assert!(text_width("WWWW", 13.0, false) > text_width("iiii", 13.0, false));
        assert!(text_width("abc", 20.0, false) > text_width("abc", 10.0, false));
    }
}
