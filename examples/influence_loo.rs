//! Influence benchmark: predicted influence against leave-one-out retraining on more rows than the
//! tests use, mislabel detection over several seeds, and the GLM's all-rows timing on
//! adult_income.
//!
//! ```sh
//! cargo run --release --example influence_loo -- [loo|gbdt|mislabel|timing|all] [ADULT.csv]
//! ```
//! `ADULT.csv` defaults to `../shared/data/adult_income.csv` (target `income_gt_50k`).

#[path = "../tests/common/influence_loo.rs"]
mod loo;

use std::time::Instant;

use glassbox::data::{Dataset, SchemaOptions};
use glassbox::explain::influence::{
    gbdt_exact_loo, top_by_magnitude, BoostIn, GlmInfluence, Influence, InfluenceTarget,
    LeafInfluence, SelfInfluence,
};
use glassbox::model::gbdt::GbdtParams;
use glassbox::model::glm::{Family, GlmParams, Penalty};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn german() -> Dataset {
    Dataset::load_training(
        "data/german_credit.csv",
        "bad_credit",
        &SchemaOptions::default(),
    )
    .unwrap()
}

fn loo_glm() {
    let ds = german();
    let train = ds.select_rows(&(0..800).collect::<Vec<_>>());
    let test = ds.select_rows(&(800..1000).collect::<Vec<_>>());
    let params = GlmParams::new(Family::Binomial).penalty(Penalty::Fixed { l1: 0.0, l2: 0.01 });
    let glm = params.fit(&train, None, None).unwrap();
    let est = GlmInfluence::new(
        &glm,
        train.x().view(),
        train.y().unwrap().view(),
        None,
        None,
    )
    .unwrap();
    let rows = loo::spread(800, 200);
    let pred = loo::predicted(&est, &test, &rows).0;
    let changes = loo::glm_loo(&params, &train, &test, &rows);
    loo::print_agreement(
        "GLM logistic L2 (german_credit, 800 train / 200 test, 49 design columns)",
        &pred,
        &changes,
    );
}

fn test_loss(m: &glassbox::model::TreeEnsemble, test: &Dataset) -> f64 {
    use glassbox::model::Model;
    let p = m.predict(test.x().view());
    let y = test.y().unwrap();
    let prob = m.link != glassbox::model::Link::Identity;
    (0..test.n_rows())
        .map(|r| loo::loss(prob, y[r], p[[r, 0]]))
        .sum()
}

/// Leading trees of `b` whose structure equals `a`'s (splits, not leaf values).
fn same_leading_trees(
    a: &glassbox::model::TreeEnsemble,
    b: &glassbox::model::TreeEnsemble,
) -> usize {
    a.trees
        .iter()
        .zip(&b.trees)
        .take_while(|(ta, tb)| {
            ta.nodes.len() == tb.nodes.len()
                && ta.nodes.iter().zip(&tb.nodes).all(|(x, y)| {
                    (x.feature, x.left, x.right, x.flags, x.cat_start)
                        == (y.feature, y.left, y.right, y.flags, y.cat_start)
                        && x.threshold.total_cmp(&y.threshold).is_eq()
                })
                && ta.category_words == tb.category_words
        })
        .count()
}

fn corr_line(name: &str, pred: &[f64], full: &[f64], fixed: &[f64], n_top: usize) {
    let c = |p: &[f64], a: &[f64]| format!("{:.3}/{:.3}", loo::pearson(p, a), loo::spearman(p, a));
    println!(
        "  {name:<26} full retrain P/S {} (top {}, random {}) | bins fixed P/S {}",
        c(pred, full),
        c(&pred[..n_top], &full[..n_top]),
        c(&pred[n_top..], &full[n_top..]),
        c(pred, fixed)
    );
}

/// One configuration: the removed rows are the `n_top` with the largest |LeafInfluence| on the
/// test-set loss plus `n_rand` seeded random others; each is removed and the model retrained
/// twice — fully (bins re-cut) and with the bins of all rows (`fit_without`).
fn gbdt_config(
    label: &str,
    params: &GbdtParams,
    train: &Dataset,
    test: &Dataset,
    n_top: usize,
    n_rand: usize,
    n_exact: usize,
) {
    let n = train.n_rows();
    let (model, _) = params.fit(train).unwrap();
    let y = train.y().unwrap();
    let boostin = BoostIn::new(&model, train.x().view(), y.view()).unwrap();
    let leaf = LeafInfluence::new(&model, train.x().view(), y.view()).unwrap();
    let all: Vec<usize> = (0..n).collect();
    let pl_all = loo::predicted(&leaf, test, &all).0;
    let mut rows = top_by_magnitude(&pl_all, n_top);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let extra: Vec<usize> = sample(&mut rng, n, n_rand + n_top)
        .into_iter()
        .filter(|r| !rows.contains(r))
        .take(n_rand)
        .collect();
    rows.extend(extra);
    let base = test_loss(&model, test);
    let (mut full, mut fixed, mut kept_full, mut kept_fixed) = (vec![], vec![], 0usize, 0usize);
    for &k in &rows {
        let keep: Vec<usize> = (0..n).filter(|&i| i != k).collect();
        let (m1, _) = params.fit(&train.select_rows(&keep)).unwrap();
        let (m2, _) = params.fit_without(train, &[k]).unwrap();
        full.push(test_loss(&m1, test) - base);
        fixed.push(test_loss(&m2, test) - base);
        kept_full += same_leading_trees(&model, &m1);
        kept_fixed += same_leading_trees(&model, &m2);
    }
    let pb = loo::predicted(&boostin, test, &rows).0;
    let pl = loo::predicted(&leaf, test, &rows).0;
    // Hybrid: the n_exact largest estimates replaced by exact retraining (bins fixed).
    let exact = gbdt_exact_loo(
        params,
        train,
        &rows[..n_exact],
        test.x().view(),
        Some(test.y().unwrap().view()),
        InfluenceTarget::Loss,
    )
    .unwrap();
    let mut hybrid = pl.clone();
    for (h, e) in hybrid.iter_mut().zip(&exact) {
        *h = e.iter().sum();
    }
    if std::env::var_os("INFLUENCE_DUMP").is_some() {
        println!("  row, BoostIn, LeafInfluence, hybrid, full retrain, bins fixed");
        for j in 0..rows.len() {
            println!(
                "  {}, {:.5}, {:.5}, {:.5}, {:.5}, {:.5}",
                rows[j], pb[j], pl[j], hybrid[j], full[j], fixed[j]
            );
        }
    }
    let m = rows.len() as f64;
    let slope = pl.iter().zip(&full).map(|(p, a)| p * a).sum::<f64>()
        / full.iter().map(|a| a * a).sum::<f64>();
    println!(
        "{label}: {n} train / {} test rows, {} trees; {} removed rows ({n_top} top |LeafInfluence| + {n_rand} random); leading trees unchanged by the removal: {:.1} (full retrain), {:.1} (bins fixed) of {}; full vs bins-fixed retrain Pearson {:.3}; LeafInfluence/actual slope {slope:.3}",
        test.n_rows(),
        model.trees.len(),
        rows.len(),
        kept_full as f64 / m,
        kept_fixed as f64 / m,
        model.trees.len(),
        loo::pearson(&full, &fixed)
    );
    corr_line("BoostIn", &pb, &full, &fixed, n_top);
    corr_line("LeafInfluence", &pl, &full, &fixed, n_top);
    corr_line(
        &format!("hybrid (top {n_exact} exact)"),
        &hybrid,
        &full,
        &fixed,
        n_top,
    );
}

fn loo_gbdt(adult: &str) {
    let only_adult = std::env::var_os("INFLUENCE_ADULT_ONLY").is_some();
    let ds = german();
    let train = ds.select_rows(&(0..800).collect::<Vec<_>>());
    let test = ds.select_rows(&(800..1000).collect::<Vec<_>>());
    let stable = GbdtParams::default()
        .n_trees(100)
        .max_leaves(Some(4))
        .min_samples_leaf(50)
        .learning_rate(0.05)
        .seed(3);
    for (label, params) in [
        (
            "german_credit, GBDT 100 trees × 31 leaves, min 20 rows/leaf (defaults)",
            GbdtParams::default().seed(3),
        ),
        (
            "german_credit, GBDT 20 trees × 8 leaves, min 10, lambda 1",
            GbdtParams::default()
                .n_trees(20)
                .max_leaves(Some(8))
                .min_samples_leaf(10)
                .lambda(1.0)
                .seed(3),
        ),
        (
            "german_credit, GBDT 100 trees × 4 leaves, min 50, lr 0.05",
            stable.clone(),
        ),
    ] {
        if !only_adult {
            gbdt_config(label, &params, &train, &test, 30, 30, 15);
        }
    }
    let opts = SchemaOptions::default();
    match Dataset::load_training(adult, "income_gt_50k", &opts) {
        Ok(ds) => {
            let train = ds.select_rows(&(0..2000).collect::<Vec<_>>());
            let test = ds.select_rows(&(2000..2500).collect::<Vec<_>>());
            if !only_adult {
                gbdt_config(
                    "adult_income, GBDT 100 trees × 31 leaves, min 20 (defaults)",
                    &GbdtParams::default().seed(3),
                    &train,
                    &test,
                    30,
                    30,
                    15,
                );
            }
            gbdt_config(
                "adult_income, GBDT 100 trees × 4 leaves, min 50, lr 0.05",
                &stable,
                &train,
                &test,
                30,
                30,
                15,
            );
        }
        Err(e) => println!("adult_income skipped: {e}"),
    }
}

fn mislabel() {
    let base = german();
    let n = base.n_rows();
    let (mut glm_sum, mut gbdt_sum, mut leaf_sum) = (0.0, 0.0, 0.0);
    let seeds = [1u64, 2, 3, 4, 5, 2026];
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
        let found = |si: SelfInfluence| {
            let top = &si.ranking()[..n / 10];
            flipped.iter().filter(|i| top.contains(i)).count() as f64 / flipped.len() as f64
        };
        let glm = GlmParams::new(Family::Binomial)
            .penalty(Penalty::Fixed { l1: 0.0, l2: 0.01 })
            .fit(&ds, None, None)
            .unwrap();
        let e = GlmInfluence::new(&glm, ds.x().view(), ds.y().unwrap().view(), None, None).unwrap();
        let g = found(SelfInfluence::compute(&e).unwrap());
        let (m, _) = GbdtParams::default().n_trees(50).seed(5).fit(&ds).unwrap();
        let b = BoostIn::new(&m, ds.x().view(), ds.y().unwrap().view()).unwrap();
        let t = found(SelfInfluence::compute(&b).unwrap());
        let l = LeafInfluence::new(&m, ds.x().view(), ds.y().unwrap().view()).unwrap();
        let lf = found(SelfInfluence::compute(&l).unwrap());
        println!("mislabel seed {seed}: flipped found in top 10% of self-influence: GLM {:.0}%, BoostIn {:.0}%, LeafInfluence {:.0}% (random 10%)", 100.0 * g, 100.0 * t, 100.0 * lf);
        glm_sum += g;
        gbdt_sum += t;
        leaf_sum += lf;
    }
    println!(
        "mislabel mean over {} seeds: GLM {:.1}%, BoostIn {:.1}%, LeafInfluence {:.1}%",
        seeds.len(),
        100.0 * glm_sum / seeds.len() as f64,
        100.0 * gbdt_sum / seeds.len() as f64,
        100.0 * leaf_sum / seeds.len() as f64
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timing(path: &str) {
    // education_num is education's level order: collinear with its dummies.
    let opts = SchemaOptions {
        ignore: vec!["education_num".into()],
        ..SchemaOptions::default()
    };
    let ds = Dataset::load_training(path, "income_gt_50k", &opts).unwrap();
    let n = ds.n_rows();
    let params = GlmParams::new(Family::Binomial).penalty(Penalty::Fixed { l1: 0.0, l2: 1e-3 });
    let y = ds.y().unwrap();
    let t0 = Instant::now();
    let glm = params.fit(&ds, None, None).unwrap();
    let f = t0.elapsed().as_secs_f64();
    let p = glm.coefficients().len();
    let (mut prep_t, mut one_t, mut self_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let t0 = Instant::now();
        let est = GlmInfluence::new(&glm, ds.x().view(), y.view(), None, None).unwrap();
        prep_t.push(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let inf = est
            .influence(ds.x().row(7), Some(y[7]), InfluenceTarget::Loss)
            .unwrap();
        one_t.push(t0.elapsed().as_secs_f64());
        assert_eq!(inf.len(), n);
        let t0 = Instant::now();
        let _ = est.self_influence().unwrap();
        self_t.push(t0.elapsed().as_secs_f64());
    }
    let (pr, o, s) = (median(prep_t), median(one_t), median(self_t));
    println!("adult_income: {n} training rows, {p} design columns, logistic L2 (median of 3; the fit once)");
    println!("  one refit (what LOO costs per row):            {f:.3} s");
    println!(
        "  prepare (gradients + Hessian + Cholesky, once): {pr:.3} s  = {:.3} refits",
        pr / f
    );
    println!(
        "  influence of all {n} rows on one row:         {o:.4} s  = {:.5} refits",
        o / f
    );
    println!(
        "  self-influence of all rows:                     {s:.3} s  = {:.3} refits",
        s / f
    );
    println!(
        "  first row end to end (prepare + one row):       {:.3} s",
        pr + o
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map_or("all", |s| s.as_str());
    let adult = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "../shared/data/adult_income.csv".into());
    if matches!(what, "loo" | "all") {
        loo_glm();
    }
    if matches!(what, "loo" | "gbdt" | "all") {
        loo_gbdt(&adult);
    }
    if matches!(what, "mislabel" | "all") {
        mislabel();
    }
    if matches!(what, "timing" | "all") {
        timing(&adult);
    }
}
