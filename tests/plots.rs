//! Plots on hand-made explanations: what is drawn (labels in order, dot counts, legends, errors),
//! checked on the display list, the SVG text and the decoded PNG.

use glassbox::data::{Feature, FeatureKind, FeatureSchema};
use glassbox::explain::{Explanation, ExplanationMeta};
use glassbox::plot::{self, Item, PlotError, PlotOptions};
use ndarray::{Array2, Array3};

/// `n` rows; feature `big` has attributions ±3, `mid` ±1, `small` ±0.1 (so the importance order is
/// big, mid, small although the schema order is small, big, mid). `checking_status` is categorical.
fn explanation(n: usize) -> Explanation {
    let m = 4;
    let mut v = Array3::zeros((n, 1, m));
    let mut x = Array2::zeros((n, m));
    for i in 0..n {
        let s = if i % 2 == 0 { 1.0 } else { -1.0 };
        let t = i as f64 / n as f64;
        v[[i, 0, 0]] = 0.1 * s; // small
        v[[i, 0, 1]] = 3.0 * s * (0.5 + t); // big
        v[[i, 0, 2]] = 1.0 * s; // mid
        v[[i, 0, 3]] = 0.5 * s; // checking_status
        x[[i, 0]] = t;
        x[[i, 1]] = 1000.0 * t;
        x[[i, 2]] = if i % 7 == 0 { f64::NAN } else { t * 10.0 };
        x[[i, 3]] = (i % 3) as f64;
    }
    let schema = FeatureSchema::new(vec![
        Feature::numeric("small"),
        Feature::numeric("big"),
        Feature::numeric("mid"),
        Feature {
            name: "checking_status".into(),
            kind: FeatureKind::Categorical {
                levels: vec!["0<=X<200".into(), "<0".into(), "no checking".into()],
            },
        },
    ]);
    Explanation::new(
        v,
        Array2::from_elem((n, 1), -0.5),
        schema,
        vec!["bad_credit".into()],
        ExplanationMeta::new("tree-shap"),
    )
    .unwrap()
    .with_data(x)
    .unwrap()
}

fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("'{needle}' not found"))
}

#[test]
fn summary_ranks_features_and_draws_one_dot_per_row() {
    let e = explanation(60);
    let c = plot::summary(&e, &plot::SummaryOptions::default()).unwrap();
    assert_eq!(c.n_dots(), 60 * 4);
    let svg = plot::to_svg(&c).unwrap();
    assert_eq!(svg.matches("<circle").count(), 60 * 4);
    // Names in importance order: big (mean 3.0), mid (1), checking_status (0.5), small (0.1).
    let order: Vec<usize> = [">big<", ">mid<", ">checking_status<", ">small<"]
        .iter()
        .map(|n| position(&svg.replace('\n', ""), n))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // Colour bar (a gradient of rectangles with its labels), missing values of `mid` in grey.
    assert!(svg.contains(">high<") || svg.replace('\n', "").contains(">high<"));
    let texts = c.texts();
    assert!(texts.contains(&"feature value"));
    assert!(texts.contains(&"missing"));
    assert!(texts.iter().any(|t| t.contains("Tree SHAP")));
    assert!(texts.iter().any(|t| t.contains("raw score")));
    let gradient = c
        .items()
        .iter()
        .filter(|i| matches!(i, Item::Rect { fill: Some(_), .. }))
        .count();
    assert!(gradient >= 40, "{gradient}");
}

#[test]
fn summary_subsamples_and_says_so() {
    let e = explanation(500);
    let opts = plot::SummaryOptions {
        max_dots: 100,
        top_n: 2,
        ..Default::default()
    };
    let c = plot::summary(&e, &opts).unwrap();
    // Two features plus the "other features" row, 100 rows each.
    assert_eq!(c.n_dots(), 3 * 100);
    let texts = c.texts();
    assert!(texts
        .iter()
        .any(|t| t.contains("100 rows drawn (random sample, seed 0)")));
    assert!(texts.contains(&"sum of 2 other features"));
    assert!(texts.iter().any(|t| t.contains("top 2 of 4 features")));
    // Same seed, same picture.
    assert_eq!(c, plot::summary(&e, &opts).unwrap());
}

#[test]
fn summary_without_values_still_draws() {
    let e = explanation(20);
    let bare = Explanation::new(
        e.values().clone(),
        e.base_values().clone(),
        e.schema().clone(),
        e.output_names().to_vec(),
        e.meta().clone(),
    )
    .unwrap();
    let c = plot::summary(&bare, &Default::default()).unwrap();
    assert_eq!(c.n_dots(), 80);
    assert!(c
        .texts()
        .iter()
        .any(|t| t.contains("feature values not attached")));
    assert!(!c.texts().contains(&"feature value"));
}

#[test]
fn png_decodes_with_the_canvas_size() {
    let e = explanation(40);
    let c = plot::summary(&e, &Default::default()).unwrap();
    let bytes = plot::to_png(&c).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), c.size());
    let px = &buf[..info.buffer_size()];
    // Some strongly red and some strongly blue pixels (dots and colour bar), mostly white.
    let pixels: Vec<&[u8]> = px.chunks(3).collect();
    let red = pixels.iter().filter(|p| p[0] > 200 && p[1] < 60).count();
    let blue = pixels.iter().filter(|p| p[2] > 200 && p[0] < 60).count();
    let white = pixels
        .iter()
        .filter(|p| p.iter().all(|&v| v == 255))
        .count();
    assert!(red > 50 && blue > 50, "red {red} blue {blue}");
    assert!(white > pixels.len() / 2);
}

#[test]
fn save_writes_svg_and_png_and_refuses_other_formats() {
    let dir = tempfile::tempdir().unwrap();
    let c = plot::bar(&explanation(10), &Default::default()).unwrap();
    plot::save(&c, dir.path().join("b.svg")).unwrap();
    plot::save(&c, dir.path().join("b.png")).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("b.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
    let png = std::fs::read(dir.path().join("b.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(matches!(
        plot::save(&c, dir.path().join("b.pdf")),
        Err(PlotError::UnknownFormat { .. })
    ));
}

#[test]
fn bar_shows_mean_abs_in_order_with_error_bars() {
    let e = explanation(10);
    // Standard errors 0.2 everywhere: SE of the mean = sqrt(10 · 0.04) / 10 = 0.0632.
    let e = e
        .with_std_errors(Array3::from_elem((10, 1, 4), 0.2))
        .unwrap();
    let c = plot::bar(&e, &Default::default()).unwrap();
    let texts = c.texts();
    let mean_big: f64 = (0..10).map(|i| e.values()[[i, 0, 1]].abs()).sum::<f64>() / 10.0;
    let label = plot::format_value(mean_big);
    let names: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|t| ["big", "mid", "checking_status", "small"].contains(t))
        .collect();
    assert_eq!(names, ["big", "mid", "checking_status", "small"]);
    assert!(texts.contains(&label.as_str()), "{label} in {texts:?}");
    assert!(texts.iter().any(|t| t.contains("error bars: 95%")));
    // Each error bar is three lines (whisker and two caps) of width 1.96 · 0.0632 on each side.
    let half = 1.96 * (10.0f64 * 0.04).sqrt() / 10.0;
    assert!((half - 0.1239).abs() < 1e-3);
    let lines = c
        .items()
        .iter()
        .filter(
            |i| matches!(i, Item::Line { points, color, .. } if points.len() == 2 && color.0 == 33),
        )
        .count();
    assert_eq!(lines, 4 * 3);
}

#[test]
fn waterfall_labels_values_and_adds_up() {
    let e = explanation(6);
    let opts = plot::WaterfallOptions {
        row: 1,
        top_n: 2,
        ..Default::default()
    };
    let c = plot::waterfall(&e, &opts).unwrap();
    let texts = c.texts();
    // Row 1: big = -3·(0.5 + 1/6), mid = -1, checking_status = -0.5, small = -0.1.
    let big = -3.0 * (0.5 + 1.0 / 6.0);
    assert!(texts.contains(&"big = 167"), "{texts:?}");
    assert!(texts.contains(&"mid = 1.67"), "{texts:?}");
    assert!(texts.contains(&"2 other features"));
    assert!(texts.contains(&plot::format_signed(big).as_str()));
    assert!(texts.contains(&"−1.00"));
    assert!(texts.contains(&"−0.60")); // checking_status + small
    let fx = -0.5 + big - 1.0 - 0.5 - 0.1;
    assert!(texts
        .iter()
        .any(|t| *t == format!("f(x) = {}", plot::format_value(fx))));
    assert!(texts.contains(&"base value = −0.5"));
    // Categorical values by level name, escaped in SVG.
    let c = plot::waterfall(
        &e,
        &plot::WaterfallOptions {
            row: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(c.texts().contains(&"checking_status = <0"));
    assert!(plot::to_svg(&c)
        .unwrap()
        .contains("checking_status = &lt;0"));
}

#[test]
fn waterfall_rejects_a_row_out_of_range() {
    let e = explanation(3);
    let err = plot::waterfall(
        &e,
        &plot::WaterfallOptions {
            row: 3,
            ..Default::default()
        },
    );
    assert!(matches!(
        err,
        Err(PlotError::RowOutOfRange { row: 3, n_rows: 3 })
    ));
}

#[test]
fn dependence_shows_levels_and_needs_values() {
    let e = explanation(90);
    let j = plot::feature_index(&e, "checking_status").unwrap();
    let opts = plot::DependenceOptions {
        feature: j,
        ..Default::default()
    };
    let c = plot::dependence(&e, &opts).unwrap();
    assert_eq!(c.n_dots(), 90);
    let texts = c.texts();
    for level in ["0<=X<200", "<0", "no checking"] {
        assert!(texts.contains(&level), "{level}");
    }
    let bare = Explanation::new(
        e.values().clone(),
        e.base_values().clone(),
        e.schema().clone(),
        e.output_names().to_vec(),
        e.meta().clone(),
    )
    .unwrap();
    assert!(matches!(
        plot::dependence(&bare, &opts),
        Err(PlotError::NoData { .. })
    ));
    // A missing-value slot for `mid`, which has missing values.
    let j = plot::feature_index(&e, "mid").unwrap();
    let c = plot::dependence(
        &e,
        &plot::DependenceOptions {
            feature: j,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(c.texts().contains(&"missing"));
    match plot::feature_index(&e, "Mid") {
        Err(PlotError::UnknownFeature { hint, .. }) => assert!(hint.contains("'mid'")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn long_names_are_truncated_with_an_ellipsis() {
    let long = "an_extremely_long_feature_name_from_a_data_warehouse_export_v2_final";
    let e = Explanation::new(
        Array3::from_elem((5, 1, 2), 0.5),
        Array2::zeros((5, 1)),
        FeatureSchema::numeric([long, "x"]),
        vec!["y".into()],
        ExplanationMeta::new("kernel-shap"),
    )
    .unwrap();
    let c = plot::bar(&e, &Default::default()).unwrap();
    let shown = c
        .texts()
        .into_iter()
        .find(|t| t.starts_with("an_extremely"))
        .unwrap()
        .to_string();
    assert!(shown.ends_with('…') && shown.len() < long.len(), "{shown}");
    assert!(c.texts().iter().any(|t| t.contains("Kernel SHAP")));
}

#[test]
fn shape_function_checks_its_arrays() {
    let ok = plot::ShapeFunction {
        name: "age".into(),
        x: vec![1.0, 2.0, 3.0],
        y: vec![0.0, 1.0, 0.5],
        lower: Some(vec![-0.1, 0.8, 0.3]),
        upper: Some(vec![0.1, 1.2, 0.7]),
        rug: vec![1.5, 2.5],
        levels: None,
        y_label: "contribution".into(),
    };
    let c = plot::shape_function(&ok, &PlotOptions::default()).unwrap();
    assert!(c
        .items()
        .iter()
        .any(|i| matches!(i, Item::Polygon { points, .. } if points.len() == 6)));
    let mut bad = ok.clone();
    bad.y.pop();
    assert!(matches!(
        plot::shape_function(&bad, &PlotOptions::default()),
        Err(PlotError::Invalid { .. })
    ));
}

#[test]
fn lime_bars_are_ordered_by_magnitude() {
    let w = plot::LimeWeights {
        row: Some(4),
        labels: vec!["a > 1".into(), "b <= 2".into(), "c = x".into()],
        weights: vec![0.1, -0.5, 0.3],
        score: Some(0.8),
        output_label: "probability".into(),
        ..Default::default()
    };
    let c = plot::lime_bar(&w, 10, &PlotOptions::default()).unwrap();
    let texts = c.texts();
    let names: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|t| w.labels.iter().any(|l| l == t))
        .collect();
    assert_eq!(names, ["b <= 2", "c = x", "a > 1"]);
    assert!(texts.iter().any(|t| t.contains("fidelity R² = 0.80")));
}
