//! Prediction throughput of imported tree ensembles (`Model::predict_raw`, rayon over rows).
//!
//! Models: the XGBoost and LightGBM credit-scoring fixtures (150 trees of depth ≤ 6 with `f32`
//! input rounding; 200 trees of ≤ 31 leaves with LightGBM's missing-value rules). Rows: the 300
//! fixture rows (with missing values) tiled to 1 000 and 20 000 rows. Bench ids name the model and
//! the row count; throughput is in rows per second.
//!
//! Run: `cargo bench --bench predict`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use glassbox::data::{Dataset, UnseenPolicy};
use glassbox::model::AnyModel;
use ndarray::{concatenate, Array2, Axis};

fn fixture(case: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
}

/// The model and `rows` rows of its fixture features (tiled).
fn setup(case: &str, file: &str, rows: usize) -> (AnyModel, Array2<f64>) {
    let model = AnyModel::load(fixture(case).join(file)).expect("fixture model loads");
    let ds = Dataset::load_with_schema(
        fixture(case).join("features.csv"),
        model.as_model().schema(),
        None,
        UnseenPolicy::Error,
    )
    .expect("fixture features load");
    let base = ds.x();
    let copies = rows.div_ceil(base.nrows());
    let views: Vec<_> = (0..copies).map(|_| base.view()).collect();
    let tiled = concatenate(Axis(0), &views).expect("same widths");
    (model, tiled.slice(ndarray::s![..rows, ..]).to_owned())
}

fn bench_predict(c: &mut Criterion) {
    let mut group = c.benchmark_group("predict_raw");
    group.sample_size(20);
    for (name, case, file) in [
        (
            "xgb_150trees_depth6",
            "xgb_credit_scoring_missing",
            "model.json",
        ),
        (
            "lgbm_200trees_31leaves",
            "lgbm_credit_scoring_missing",
            "model.txt",
        ),
    ] {
        for rows in [1_000usize, 20_000] {
            let (model, x) = setup(case, file, rows);
            let m = model.as_model();
            let mut out = Array2::zeros((rows, m.n_outputs()));
            group.throughput(Throughput::Elements(rows as u64));
            group.bench_with_input(
                BenchmarkId::new(name, format!("rows={rows}")),
                &rows,
                |b, _| {
                    b.iter(|| {
                        m.predict_raw_into(std::hint::black_box(x.view()), out.view_mut());
                        std::hint::black_box(&out);
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench_predict);
criterion_main!(benches);
