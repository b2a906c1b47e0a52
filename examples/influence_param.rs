//! Influence benchmark for GAMs and NAMs: predicted influence against leave-one-out refits on
//! more rows than the tests use, and GAM mislabel detection over several seeds.
//!
//! ```sh
//! cargo run --release --example influence_param -- [gam|nam|mislabel|all] [NAM_TEST_ROWS]
//! ```
//! GAM ground truth: refits without the row with the smoothing parameters fixed at the model's
//! (`Smoothing::Fixed`). NAM ground truth: Koh & Liang's (2017) protocol, retraining without the
//! row warm-started from the fitted (L-BFGS-polished) parameters, minus the same refit with
//! every row.

#[path = "../tests/common/influence_loo.rs"]
mod loo;

use std::time::Instant;

use glassbox::data::{Dataset, SchemaOptions};
use glassbox::explain::influence::{
    Curvature, GamInfluence, Ihvp, NamInfluence, NamInfluenceParams, SelfInfluence,
};
use glassbox::model::gam::{GamParams, Smoothing};
use glassbox::model::glm::Family;
use glassbox::model::nam::{Activation, NamParams};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn load(path: &str, target: &str) -> Dataset {
    Dataset::load_training(path, target, &SchemaOptions::default()).unwrap()
}

fn loo_gam() {
    let german = load("data/german_credit.csv", "bad_credit");
    let (train, test) = loo::split(&german, 800, 200);
    // REML first; then the refits hold its λ fixed... Fixed smoothing applies one λ to every
    // penalty, so the benchmark fits with one fixed λ, as the refits do.
    for lam in [1.0, 10.0] {
        let params = GamParams::new(Family::Binomial)
            .n_splines(10)
            .smoothing(Smoothing::Fixed(lam));
        let gam = params.fit(&train).unwrap();
        let t = Instant::now();
        let est = GamInfluence::new(&gam, train.x().view(), train.y().unwrap().view()).unwrap();
        let prep = t.elapsed().as_secs_f64();
        let rows = loo::spread(800, 200);
        let pred = loo::predicted(&est, &test, &rows).0;
        let t = Instant::now();
        let changes = loo::gam_loo(&params, &train, &test, &rows);
        let refit = t.elapsed().as_secs_f64() / rows.len() as f64;
        loo::print_agreement(
            &format!(
                "GAM logistic, λ = {lam} fixed, 10 splines (german_credit, 800 train / 200 test)"
            ),
            &pred,
            &changes,
        );
        println!(
            "  prepare (system + Hessian + Cholesky) = {:.2} refits",
            prep / refit
        );
    }
}

fn loo_nam(n_test: usize) {
    let diabetes = load("data/diabetes_progression.csv", "disease_progression");
    let (train, test) = loo::split(&diabetes, 300, n_test);
    let nam = NamParams::default()
        .members(3)
        .epochs(100)
        .hidden(vec![16, 8])
        .activation(Activation::Relu)
        .dropout(0.0)
        .feature_dropout(0.0)
        .weight_decay(0.05)
        .validation_fraction(0.0)
        .batch_size(64)
        .seed(3)
        .fit(&train)
        .unwrap();
    let (nam, g) = nam.refit_warm(&train, None, 1e-9, 1000).unwrap();
    println!("NAM (diabetes, 300 train / {n_test} test, 3 members, ReLU 16 → 8, weight decay 0.05): polished to |∇F| {g:.1e}");
    let rows = loo::spread(300, 60);
    let (changes, worst) = loo::nam_loo(&nam, &train, &test, &rows, 1e-9, 300);
    println!("  warm-started LOO refits: largest final |∇F| {worst:.1e}");
    for (label, p) in [
        (
            "CG, Gauss-Newton, damping 1e-3",
            NamInfluenceParams::default().damping(1e-3),
        ),
        (
            "CG, Gauss-Newton, damping 1e-2",
            NamInfluenceParams::default().damping(1e-2),
        ),
        (
            "LiSSA, Gauss-Newton, damping 1e-2",
            NamInfluenceParams::default()
                .damping(1e-2)
                .ihvp(Ihvp::Lissa),
        ),
        (
            "CG, Hessian (finite differences), damping 1e-2",
            NamInfluenceParams::default()
                .damping(1e-2)
                .curvature(Curvature::Hessian),
        ),
    ] {
        let est = NamInfluence::new(&nam, &train, p).unwrap();
        let t = Instant::now();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            loo::predicted(&est, &test, &rows).0
        })) {
            Ok(pred) => {
                loo::print_agreement(&format!("NAM {label}"), &pred, &changes);
                println!(
                    "  {:.2} s per explained row",
                    t.elapsed().as_secs_f64() / test.n_rows() as f64
                );
            }
            Err(_) => println!("NAM {label}: the solver failed (see the message above)"),
        }
    }
}

fn mislabel() {
    let base = load("data/german_credit.csv", "bad_credit");
    let n = base.n_rows();
    let seeds = [1u64, 2, 3, 4, 5, 2026];
    let mut sum = 0.0;
    for &seed in &seeds {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let flipped = sample(&mut rng, n, n / 20).into_vec();
        let mut y = base.y().unwrap().clone();
        for &i in &flipped {
            y[i] = 1.0 - y[i];
        }
        let ds = Dataset::from_parts(
            base.x().clone(),
            Some(y),
            base.schema().clone(),
            base.target().cloned(),
        )
        .unwrap();
        let gam = GamParams::new(Family::Binomial).fit(&ds).unwrap();
        let est = GamInfluence::new(&gam, ds.x().view(), ds.y().unwrap().view()).unwrap();
        let si = SelfInfluence::compute(&est).unwrap();
        let top = &si.ranking()[..n / 10];
        let found =
            flipped.iter().filter(|i| top.contains(i)).count() as f64 / flipped.len() as f64;
        println!("mislabel seed {seed}: flipped found in top 10% of GAM (REML) self-influence: {:.0}% (random 10%)", 100.0 * found);
        sum += found;
    }
    println!(
        "mislabel mean over {} seeds: GAM {:.1}%",
        seeds.len(),
        100.0 * sum / seeds.len() as f64
    );
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    if matches!(what.as_str(), "gam" | "all") {
        loo_gam();
    }
    if matches!(what.as_str(), "mislabel" | "all") {
        mislabel();
    }
    if matches!(what.as_str(), "nam" | "all") {
        // Test rows (default 100; LiSSA at depth 1000 costs ~10× CG per row).
        let n_test = std::env::args()
            .nth(2)
            .map_or(100, |s| s.parse().expect("NAM test rows: a number"));
        loo_nam(n_test);
    }
}
