//! Plot and report generation at scale: the summary (beeswarm) plot to SVG and PNG, and the whole
//! HTML report (bar, summary, 4 dependence plots, 4 waterfalls, reason codes for every row, data
//! summary, performance and calibration, CSV tables), for 1 000 and 10 000 rows × 60 features.
//!
//! The explanation is synthetic but shaped like a real one: 50 numeric features (normal, a few
//! skewed, 2 % missing) and 10 categorical ones (3–8 levels); attribution = a per-feature slope or
//! level effect, centred, plus an interaction term and noise; predictions and 0/1 targets follow the
//! logistic model of base + Σ attributions. All draws are seeded (ChaCha8, seed 7). What is timed
//! is only the plot/report layer: the explanation is built once outside the timing.
//!
//! Run: `cargo bench --bench plots`. The acceptance: seconds, not minutes, at 10k × 60.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use glassbox::data::{Feature, FeatureKind, FeatureSchema, TargetKind};
use glassbox::explain::{Explanation, ExplanationMeta};
use glassbox::model::{sigmoid, Link};
use glassbox::plot::{self, SummaryOptions};
use glassbox::report::{self, DataSummary, ModelInfo, Provenance, ReportInput, ReportOptions};
use ndarray::{Array1, Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FEATURES: usize = 60;
const CATEGORICAL: usize = 10;

struct Case {
    e: Explanation,
    predictions: Array2<f64>,
    raw: Array2<f64>,
    targets: Array1<f64>,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn case(n: usize) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let numeric = FEATURES - CATEGORICAL;
    let mut features = Vec::with_capacity(FEATURES);
    for j in 0..numeric {
        features.push(Feature::numeric(format!("numeric_feature_{j:02}")));
    }
    for j in 0..CATEGORICAL {
        let k = 3 + j % 6;
        features.push(Feature {
            name: format!("category_{j:02}"),
            kind: FeatureKind::Categorical {
                levels: (0..k).map(|l| format!("level_{l}")).collect(),
            },
        });
    }
    let schema = FeatureSchema::new(features);
    let x = Array2::from_shape_fn((n, FEATURES), |(_, j)| {
        if j >= numeric {
            let k = 3 + (j - numeric) % 6;
            return rng.gen_range(0..k) as f64;
        }
        if rng.gen::<f64>() < 0.02 {
            return f64::NAN;
        }
        let z = normal(&mut rng);
        if j % 7 == 0 {
            (1000.0 * z.exp()).round() // skewed, like an amount
        } else {
            20.0 + 10.0 * z
        }
    });
    let slope: Vec<f64> = (0..FEATURES).map(|j| 0.8 / (1.0 + j as f64)).collect();
    let mut values = Array3::<f64>::zeros((n, 1, FEATURES));
    for i in 0..n {
        for j in 0..FEATURES {
            let v = x[[i, j]];
            let effect = if v.is_nan() {
                0.0
            } else if j >= numeric {
                slope[j] * (v - 1.0)
            } else if j % 7 == 0 {
                slope[j] * (v.ln() - 6.9)
            } else {
                slope[j] * (v - 20.0) / 10.0
            };
            let inter = if j == 1 && !x[[i, 2]].is_nan() {
                0.1 * (x[[i, 2]] - 20.0) / 10.0
            } else {
                0.0
            };
            values[[i, 0, j]] = effect + inter + 0.02 * normal(&mut rng);
        }
    }
    let base = -1.0;
    let raw = Array2::from_shape_fn((n, 1), |(i, _)| {
        base + (0..FEATURES).map(|j| values[[i, 0, j]]).sum::<f64>()
    });
    let predictions = raw.mapv(sigmoid);
    let targets = Array1::from_shape_fn(n, |i| f64::from(rng.gen::<f64>() < predictions[[i, 0]]));
    let e = Explanation::new(
        values,
        Array2::from_elem((n, 1), base),
        schema,
        vec!["default".into()],
        ExplanationMeta::new("tree-shap"),
    )
    .expect("consistent shapes")
    .with_data(x)
    .expect("data shape");
    Case {
        e,
        predictions,
        raw,
        targets,
    }
}

fn write_report(c: &Case, dir: &std::path::Path) {
    let task = TargetKind::Binary {
        classes: vec!["0".into(), "1".into()],
    };
    let data = DataSummary::from_data(
        c.e.data().expect("data attached").view(),
        c.e.schema(),
        Some((&task, c.targets.view())),
    );
    let input = ReportInput {
        title: "bench".into(),
        model: ModelInfo {
            name: "synthetic".into(),
            kind: "synthetic".into(),
            task,
            target_name: Some("default".into()),
            link: Link::Logistic,
        },
        explanation: &c.e,
        predictions: c.predictions.view(),
        model_output: Some(c.raw.view()),
        targets: Some(c.targets.view()),
        data,
        reference: None,
        row_ids: None,
        shape_functions: Vec::new(),
        lime_fidelity: None,
        provenance: Provenance {
            glassbox_version: env!("CARGO_PKG_VERSION").into(),
            seed: Some(7),
            method: "tree-shap".into(),
            generated_utc: "2026-01-01 00:00:00 UTC".into(),
            ..Provenance::default()
        },
        options: ReportOptions::default(),
    };
    report::write_report(dir, &input).expect("report written");
}

fn bench_plots(c: &mut Criterion) {
    let mut group = c.benchmark_group("plots");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let case = case(n);
        let id = format!("rows={n}/features={FEATURES}");
        let opts = SummaryOptions::default();
        group.bench_with_input(BenchmarkId::new("summary_svg", &id), &case, |b, c| {
            b.iter(|| plot::to_svg(&plot::summary(&c.e, &opts).expect("summary")).expect("svg"))
        });
        group.bench_with_input(BenchmarkId::new("summary_png", &id), &case, |b, c| {
            b.iter(|| plot::to_png(&plot::summary(&c.e, &opts).expect("summary")).expect("png"))
        });
        let dir = tempfile::tempdir().expect("temp dir");
        group.bench_with_input(BenchmarkId::new("report", &id), &case, |b, c| {
            b.iter(|| write_report(c, dir.path()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_plots);
criterion_main!(benches);
