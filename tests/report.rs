//! Reason codes on hand-made explanations, and the report: self-contained HTML, every section,
//! the CSV tables next to it.

use glassbox::data::{Feature, FeatureKind, FeatureSchema, TargetKind};
use glassbox::explain::{Explanation, ExplanationMeta};
use glassbox::model::{sigmoid, Link};
use glassbox::report::{self, Direction, ReasonOptions, ReferenceQuantiles};
use ndarray::{Array1, Array2, Array3};

fn schema() -> FeatureSchema {
    FeatureSchema::new(vec![
        Feature::numeric("credit_amount"),
        Feature {
            name: "checking_status".into(),
            kind: FeatureKind::Categorical {
                levels: vec!["0<=X<200".into(), "<0".into(), "no checking".into()],
            },
        },
        Feature::numeric("age"),
        Feature::numeric("duration"),
    ])
}

/// Row 0: credit_amount 15945 (+0.9), checking_status <0 (+0.6), age 22 (+0.3), duration 12
/// (−0.4). Row 1: everything pushes down except duration 66 (+0.2).
fn hand_made() -> Explanation {
    let v = Array3::from_shape_vec((2, 1, 4), vec![0.9, 0.6, 0.3, -0.4, -0.5, -0.7, -0.1, 0.2])
        .unwrap();
    let x = Array2::from_shape_vec(
        (2, 4),
        vec![15945.0, 1.0, 22.0, 12.0, 1200.0, 2.0, 45.0, 66.0],
    )
    .unwrap();
    Explanation::new(
        v,
        Array2::from_elem((2, 1), -0.8),
        schema(),
        vec!["bad_credit".into()],
        ExplanationMeta::new("tree-shap"),
    )
    .unwrap()
    .with_data(x)
    .unwrap()
}

/// A reference where credit_amount spans 250..18424 (15945 is high), age 19..75 (22 is low),
/// duration 4..72 (48 is high).
fn reference() -> ReferenceQuantiles {
    let n = 101;
    let x = Array2::from_shape_fn((n, 4), |(i, j)| {
        let t = i as f64 / (n - 1) as f64;
        match j {
            0 => 250.0 + t * (18424.0 - 250.0),
            1 => (i % 3) as f64,
            2 => 19.0 + t * 56.0,
            _ => 4.0 + t * 68.0,
        }
    });
    ReferenceQuantiles::from_data(x.view(), &schema())
}

#[test]
fn reason_codes_name_the_adverse_features_with_high_and_low() {
    let e = hand_made();
    let r = report::reason_codes(&e, Some(&reference()), &ReasonOptions::default()).unwrap();
    let texts: Vec<&str> = r[0].reasons.iter().map(|x| x.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "credit_amount = 15,945 (high)",
            "checking_status = <0",
            "age = 22 (low)"
        ]
    );
    assert!((r[0].score - (-0.8 + 0.9 + 0.6 + 0.3 - 0.4)).abs() < 1e-12);
    // Row 1 has one adverse feature only: no reason is invented from the others.
    assert_eq!(r[1].reasons.len(), 1);
    assert_eq!(r[1].reasons[0].text, "duration = 66 (high)");
    // Down: the most negative first.
    let down = ReasonOptions {
        direction: Direction::Down,
        top_n: 2,
        ..Default::default()
    };
    let r = report::reason_codes(&e, Some(&reference()), &down).unwrap();
    let texts: Vec<&str> = r[1].reasons.iter().map(|x| x.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "checking_status = no checking",
            "credit_amount = 1,200 (low)"
        ]
    );
    // Without a reference, no qualifiers.
    let r = report::reason_codes(&e, None, &ReasonOptions::default()).unwrap();
    assert_eq!(r[0].reasons[0].text, "credit_amount = 15,945");
}

#[test]
fn reasons_csv_is_wide_and_padded() {
    let e = hand_made();
    let r = report::reason_codes(&e, Some(&reference()), &ReasonOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("reasons.csv");
    report::write_reasons_csv(&p, &r, e.schema(), 4, None).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("row,score,reason_1,feature_1,contribution_1,percentile_1,reason_2")
    );
    assert_eq!(lines[0].split(',').count(), 2 + 4 * 4);
    let expected = format!(
        "0,{},\"credit_amount = 15,945 (high)\",credit_amount,0.9,",
        glassbox::output::csv_number(r[0].score)
    );
    assert!(lines[1].starts_with(&expected), "{}", lines[1]);
    assert_eq!(lines[2].split(',').count(), 2 + 4 * 4);
    assert!(lines[2].ends_with(",,,,,,,,,,,,"));
}

/// A synthetic binary model's explanation: 300 rows, 5 features (one categorical with missing
/// values), attributions additive in the log-odds.
fn synthetic() -> (Explanation, Array2<f64>, Array2<f64>, Array1<f64>) {
    let n = 300;
    let mut sc = schema().features().to_vec();
    sc.push(Feature::numeric(
        "a_very_long_feature_name_from_the_warehouse_export",
    ));
    let schema = FeatureSchema::new(sc);
    let mut x = Array2::zeros((n, 5));
    let mut v = Array3::zeros((n, 1, 5));
    for i in 0..n {
        let t = (i as f64 * 0.618).fract();
        x[[i, 0]] = 250.0 + 18000.0 * t;
        x[[i, 1]] = if i % 4 == 0 { f64::NAN } else { (i % 3) as f64 };
        x[[i, 2]] = 19.0 + (i % 57) as f64;
        x[[i, 3]] = 4.0 + (i % 69) as f64;
        x[[i, 4]] = (i % 5) as f64;
        v[[i, 0, 0]] = (t - 0.5) * 1.2;
        v[[i, 0, 1]] = [0.3, 0.8, -0.9][i % 3] * if i % 4 == 0 { 0.0 } else { 1.0 };
        v[[i, 0, 2]] = (40.0 - x[[i, 2]]) * 0.02;
        v[[i, 0, 3]] = (x[[i, 3]] - 30.0) * 0.015 * (1.0 + t);
        v[[i, 0, 4]] = 0.01 * x[[i, 4]];
    }
    let base = Array2::from_elem((n, 1), -0.9);
    let e = Explanation::new(
        v,
        base,
        schema,
        vec!["bad_credit".into()],
        ExplanationMeta::new("tree-shap"),
    )
    .unwrap()
    .with_data(x)
    .unwrap();
    let raw = e.reconstructed_output();
    let pred = raw.mapv(sigmoid);
    let y = Array1::from_shape_fn(n, |i| {
        if pred[[i, 0]] > 0.3 + 0.4 * ((i * 7 % 10) as f64 / 10.0) {
            1.0
        } else {
            0.0
        }
    });
    (e, raw, pred, y)
}

fn input<'a>(
    e: &'a Explanation,
    raw: &'a Array2<f64>,
    pred: &'a Array2<f64>,
    y: &'a Array1<f64>,
) -> report::ReportInput<'a> {
    let task = TargetKind::Binary {
        classes: vec!["good".into(), "bad".into()],
    };
    report::ReportInput {
        title: "Synthetic credit model".into(),
        model: report::ModelInfo {
            name: "model.json".into(),
            kind: "gradient boosting (glassbox)".into(),
            task: task.clone(),
            target_name: Some("bad_credit".into()),
            link: Link::Logistic,
        },
        explanation: e,
        predictions: pred.view(),
        model_output: Some(raw.view()),
        targets: Some(y.view()),
        data: report::DataSummary::from_data(
            e.data().unwrap().view(),
            e.schema(),
            Some((&task, y.view())),
        ),
        reference: None,
        shape_functions: vec![],
        lime_fidelity: None,
        row_ids: None,
        provenance: report::Provenance {
            glassbox_version: "0.1.0".into(),
            model_sha256: Some(report::sha256_bytes(b"model")),
            data_sha256: Some(report::sha256_bytes(b"data")),
            seed: Some(0),
            method: "tree-shap".into(),
            generated_utc: report::format_utc(1_700_000_000),
            ..Default::default()
        },
        options: report::ReportOptions::default(),
    }
}

#[test]
fn report_is_one_self_contained_file_with_every_section() {
    let (e, raw, pred, y) = synthetic();
    let dir = tempfile::tempdir().unwrap();
    let files = report::write_report(dir.path(), &input(&e, &raw, &pred, &y)).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();
    let lower = html.to_lowercase();
    // Self-contained: no scripts, nothing loaded from the network.
    assert!(!lower.contains("<script"), "script found");
    for attr in ["src=", "href=", "url("] {
        for quote in ["\"", "'", ""] {
            for scheme in ["http://", "https://", "//"] {
                let bad = format!("{attr}{quote}{scheme}");
                assert!(!lower.contains(&bad), "{bad} found");
            }
        }
    }
    assert!(!lower.contains("<link"), "external stylesheet");
    assert!(!lower.contains("<iframe") && !lower.contains("<object"));
    // Sections.
    for id in [
        "overview",
        "data",
        "performance",
        "importance",
        "summary",
        "dependence",
        "local",
        "quality",
        "provenance",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    // Figures: calibration + bar + summary + 4 dependence + 4 local waterfalls, all inline SVG.
    assert_eq!(html.matches("<svg").count(), 1 + 1 + 1 + 4 + 4);
    assert_eq!(html.matches("</svg>").count(), 11);
    assert!(html.contains("Calibration: predicted vs observed"));
    assert!(html.contains("Additivity holds"));
    assert!(html.contains("2023-11-14 22:13:20 UTC"));
    assert!(html.contains(&report::sha256_bytes(b"model")));
    assert!(html.contains("log-odds of bad_credit = bad"));
    assert!(
        html.contains("checking_status: "),
        "missing-value warning expected"
    );
    // Tables next to it.
    let names: Vec<String> = files
        .tables
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "importance.csv",
            "reasons.csv",
            "performance.csv",
            "calibration.csv"
        ]
    );
    let imp = std::fs::read_to_string(dir.path().join("importance.csv")).unwrap();
    assert_eq!(
        imp.lines().next().unwrap(),
        "output,rank,feature,mean_abs,share"
    );
    assert_eq!(imp.lines().count(), 1 + 5);
    let reasons = std::fs::read_to_string(dir.path().join("reasons.csv")).unwrap();
    assert_eq!(reasons.lines().count(), 1 + 300);
    let perf = std::fs::read_to_string(dir.path().join("performance.csv")).unwrap();
    assert!(perf.contains("\nauc,"));
    assert!(perf.contains("\nmax_additivity_error,"));
    let cal = std::fs::read_to_string(dir.path().join("calibration.csv")).unwrap();
    assert_eq!(cal.lines().count(), 1 + 10);
}

#[test]
fn report_flags_attributions_that_do_not_add_up() {
    let (e, raw, pred, y) = synthetic();
    let mut off = raw.clone();
    off[[17, 0]] += 0.25;
    let dir = tempfile::tempdir().unwrap();
    let files = report::write_report(dir.path(), &input(&e, &off, &pred, &y)).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert!(html.contains("Additivity FAILS"));
    assert!(html.contains("at row 17"));
}

#[test]
fn report_refuses_mismatched_inputs() {
    let (e, raw, pred, y) = synthetic();
    let short = y.slice(ndarray::s![..10]).to_owned();
    let mut inp = input(&e, &raw, &pred, &y);
    inp.targets = Some(short.view());
    let dir = tempfile::tempdir().unwrap();
    let err = report::write_report(dir.path(), &inp).unwrap_err();
    assert!(
        err.to_string()
            .contains("10 targets for 300 explained rows"),
        "{err}"
    );
    assert!(!dir.path().join("index.html").exists());
}
