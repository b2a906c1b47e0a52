//! Tree SHAP kernels on random ensembles of a few depths (fixed seed): path-dependent,
//! interventional in raw space (automatic choice, and each of its two exact kernels forced:
//! per-pair walks and leaf tables), interventional in probability space (exact enumeration),
//! interactions (full tensor and top pairs). Ids carry the parameters:
//! `<kernel>/d<depth>_t<trees>_m<features>_n<rows>[_bg<background rows>]`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use glassbox::data::FeatureSchema;
use glassbox::explain::tree_shap::{
    InteractionShap, InterventionalAlgorithm, InterventionalTreeShap, TreeShap,
};
use glassbox::explain::OutputSpace;
use glassbox::model::{EnsembleSource, Link, Node, Tree, TreeEnsemble};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn node(rng: &mut ChaCha8Rng, m: usize, depth: usize, max_depth: usize, t: &mut Tree) -> u32 {
    let idx = t.nodes.len() as u32;
    t.nodes.push(Node::leaf(0.0, 0.0));
    // Mostly full trees, like boosted trees on data with enough rows.
    if depth == max_depth || (depth >= 2 && rng.gen_bool(0.1)) {
        t.nodes[idx as usize] = Node::leaf(rng.gen_range(-1.0..1.0), rng.gen_range(1.0..100.0));
        return idx;
    }
    let feature = rng.gen_range(0..m) as u32;
    let left = node(rng, m, depth + 1, max_depth, t);
    let right = node(rng, m, depth + 1, max_depth, t);
    let cover = t.nodes[left as usize].cover + t.nodes[right as usize].cover;
    t.nodes[idx as usize] = Node::numeric_split(
        feature,
        rng.gen_range(-1.0..1.0),
        left,
        right,
        rng.gen_bool(0.5),
        cover,
    );
    idx
}

fn ensemble(depth: usize, n_trees: usize, m: usize) -> TreeEnsemble {
    let mut rng = ChaCha8Rng::seed_from_u64(42 + depth as u64);
    let trees = (0..n_trees)
        .map(|_| {
            let mut t = Tree::default();
            node(&mut rng, m, 0, depth, &mut t);
            t
        })
        .collect();
    TreeEnsemble {
        schema: FeatureSchema::numeric((0..m).map(|j| format!("f{j}"))),
        target: None,
        trees,
        tree_output: vec![0; n_trees],
        base_score: vec![0.0],
        link: Link::Logistic,
        output_names: vec!["p".into()],
        f32_inputs: false,
        source: EnsembleSource::GradientBoosting,
    }
}

fn rows(n: usize, m: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, m), |_| {
        if rng.gen_bool(0.02) {
            f64::NAN
        } else {
            rng.gen_range(-1.5..1.5)
        }
    })
}

fn bench(c: &mut Criterion) {
    let (t, m) = (100, 30);
    let mut g = c.benchmark_group("tree_shap");
    g.sample_size(10);
    for depth in [4, 6, 8] {
        let ens = ensemble(depth, t, m);
        let x = rows(1000, m, 1);
        let shap = TreeShap::new(&ens).unwrap();
        g.bench_function(
            BenchmarkId::new("path_dependent", format!("d{depth}_t{t}_m{m}_n1000")),
            |b| b.iter(|| shap.values(x.view()).unwrap()),
        );
        let bg = rows(50, m, 2);
        let xs = rows(200, m, 3);
        let iv = InterventionalTreeShap::new(&ens, bg.view()).unwrap();
        g.bench_function(
            BenchmarkId::new("interventional", format!("d{depth}_t{t}_m{m}_n200_bg50")),
            |b| b.iter(|| iv.values(xs.view(), OutputSpace::Raw).unwrap()),
        );
        for (name, algorithm) in [
            ("interventional_per_pair", InterventionalAlgorithm::PerPair),
            (
                "interventional_leaf_tables",
                InterventionalAlgorithm::LeafTables,
            ),
        ] {
            // A fresh explainer per iteration: leaf tables are built on the first call, and that
            // build is part of the kernel's cost.
            g.bench_function(
                BenchmarkId::new(name, format!("d{depth}_t{t}_m{m}_n200_bg50")),
                |b| {
                    b.iter(|| {
                        InterventionalTreeShap::new(&ens, bg.view())
                            .unwrap()
                            .with_algorithm(algorithm)
                            .values(xs.view(), OutputSpace::Raw)
                            .unwrap()
                    })
                },
            );
        }
        if depth <= 6 {
            // Exponential in the players per pair: explained and background rows all near one
            // point keep every pair within the default cap.
            let center = rows(1, m, 5);
            let near = |seed: u64| {
                let noise = rows(20, m, seed);
                Array2::from_shape_fn((20, m), |(i, j)| {
                    let c = center[[0, j]];
                    if c.is_nan() || noise[[i, j]].is_nan() {
                        c
                    } else {
                        c + 0.03 * noise[[i, j]]
                    }
                })
            };
            let (xp, bgp) = (near(6), near(7));
            let ivp = InterventionalTreeShap::new(&ens, bgp.view()).unwrap();
            g.bench_function(
                BenchmarkId::new(
                    "interventional_probability",
                    format!("d{depth}_t{t}_m{m}_n20_bg20"),
                ),
                |b| b.iter(|| ivp.values(xp.view(), OutputSpace::Probability).unwrap()),
            );
        }
        let ix = InteractionShap::new(&ens).unwrap();
        let xi = rows(100, m, 4);
        g.bench_function(
            BenchmarkId::new("interactions_full", format!("d{depth}_t{t}_m{m}_n100")),
            |b| b.iter(|| ix.full(xi.view()).unwrap()),
        );
        g.bench_function(
            BenchmarkId::new("interactions_top5", format!("d{depth}_t{t}_m{m}_n100")),
            |b| b.iter(|| ix.top_pairs(xi.view(), 5).unwrap()),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
