//! Kernel SHAP's hybrid rows of a tree ensemble, evaluated through lookup tables.
//!
//! A hybrid row h = (x_S, b_{−S}) takes x's values on the coalition S and a background row b's
//! elsewhere. In one tree, a split on feature j sends h the way x goes when j ∈ S and the way b
//! goes otherwise — so where x and b go the *same* way, S does not matter. For a pair (x, b) the
//! leaf that h reaches is therefore a function of S restricted to the few features D(t, b) on
//! which x and b part ways along the paths the tree can take (at most its depth, usually one to
//! three). We find D by one walk of the tree per (tree, background row), tabulate the leaf value
//! for all 2^|D| choices, and evaluate a coalition as a sum of table lookups instead of a descent
//! through every tree for every background row. Tables over the same features are added together
//! (over trees, and in raw space also over background rows, weighted: the value function is
//! linear in the raw score there), which is where most of the gain comes from.
//!
//! The values are the model's own: the same leaves, summed in another order, so results agree
//! with row-by-row evaluation to rounding (≈1e-15 relative), and are deterministic. Pairs with more
//! than [`MAX_VARS`] such features (deep trees) are evaluated by direct traversal of the hybrid.
//!
//! Rejected: compiling the whole value function into its exact Shapley values (that is
//! interventional Tree SHAP, `--method tree-shap-interventional`); here the tables only evaluate
//! v(S) for the coalitions Kernel SHAP asks about, so the estimator and its error bars are
//! unchanged.

use std::collections::HashMap;

use ndarray::ArrayView2;

use crate::model::{Tree, TreeEnsemble};

/// Largest |D(t, b)| tabulated (tables of 2^12 values); larger pairs are traversed directly.
pub(crate) const MAX_VARS: usize = 12;

/// One table: the output it adds to and where its variables and values are.
struct Table {
    out: usize,
    vars: std::ops::Range<usize>,
    values: usize,
}

/// A (tree, background row) pair evaluated by traversal.
struct Direct {
    tree: usize,
    b: usize,
    weight: f64,
}

/// The value of every background row's hybrid (probability space: `groups` = background rows),
/// or of their weighted sum (raw space: one group), for the coalitions of one explained row.
pub(crate) struct TreeGame<'a> {
    ens: &'a TreeEnsemble,
    k: usize,
    m: usize,
    /// The explained row and background, as the trees compare them (f32-rounded for XGBoost).
    x: Vec<f64>,
    bg: Vec<f64>,
    /// Per group: constant part (K values), tables and direct pairs.
    konst: Vec<f64>,
    tables: Vec<Vec<Table>>,
    direct: Vec<Vec<Direct>>,
    vars: Vec<usize>,
    values: Vec<f64>,
}

impl<'a> TreeGame<'a> {
    /// The game of row `x` against the background rows `bg` with weights `weights`. With
    /// `merge` the background rows are summed (weighted) into one group.
    pub fn new(
        ens: &'a TreeEnsemble,
        x: &[f64],
        bg: ArrayView2<f64>,
        weights: &[f64],
        merge: bool,
    ) -> TreeGame<'a> {
        let m = x.len();
        let k = ens.n_outputs();
        let nb = bg.nrows();
        let mut cast = Vec::new();
        let px = ens.prepare_row(x, &mut cast).to_vec();
        let mut pbg = Vec::with_capacity(nb * m);
        let mut row = Vec::with_capacity(m);
        for b in bg.rows() {
            row.clear();
            row.extend(b.iter().copied());
            pbg.extend_from_slice(ens.prepare_row(&row, &mut cast));
        }
        let groups = if merge { 1 } else { nb };
        let mut game = TreeGame {
            ens,
            k,
            m,
            x: px,
            bg: pbg,
            konst: Vec::with_capacity(groups * k),
            tables: (0..groups).map(|_| Vec::new()).collect(),
            direct: (0..groups).map(|_| Vec::new()).collect(),
            vars: Vec::new(),
            values: Vec::new(),
        };
        for _ in 0..groups {
            game.konst.extend_from_slice(&ens.base_score);
        }
        let mut index: HashMap<(usize, usize, Vec<usize>), usize> = HashMap::new();
        let mut d = Vec::with_capacity(MAX_VARS);
        for (b, &wb) in weights.iter().enumerate().take(nb) {
            let (g, w) = if merge { (0, wb) } else { (b, 1.0) };
            let pb = &game.bg[b * m..(b + 1) * m];
            for (t, tree) in ens.trees.iter().enumerate() {
                let out = ens.tree_output[t] as usize;
                d.clear();
                if !discover(tree, &game.x, pb, &mut d) {
                    game.direct[g].push(Direct { tree: t, b, weight: w });
                    continue;
                }
                if d.is_empty() {
                    let leaf = tabulate_leaf(tree, &game.x, pb, &d, 0);
                    game.konst[g * k + out] += w * tree.nodes[leaf].value;
                    continue;
                }
                d.sort_unstable();
                let key = (g, out, d.clone());
                let at = *index.entry(key).or_insert_with(|| {
                    let start = game.vars.len();
                    game.vars.extend_from_slice(&d);
                    let values = game.values.len();
                    game.values.resize(values + (1 << d.len()), 0.0);
                    game.tables[g].push(Table {
                        out,
                        vars: start..start + d.len(),
                        values,
                    });
                    values
                });
                for a in 0..(1usize << d.len()) {
                    let leaf = tabulate_leaf(tree, &game.x, pb, &d, a);
                    game.values[at + a] += w * tree.nodes[leaf].value;
                }
            }
        }
        game
    }

    /// Number of groups (outputs per coalition are groups × K).
    pub fn groups(&self) -> usize {
        self.tables.len()
    }

    /// Writes the raw scores of coalition `z` (0/1 per feature) for every group into `out`
    /// (groups × K).
    pub fn eval(&self, z: &[u8], out: &mut [f64]) {
        let k = self.k;
        let m = self.m;
        out.copy_from_slice(&self.konst);
        for (g, tables) in self.tables.iter().enumerate() {
            let acc = &mut out[g * k..(g + 1) * k];
            for t in tables {
                let mut key = 0usize;
                for (i, &j) in self.vars[t.vars.clone()].iter().enumerate() {
                    key |= usize::from(z[j]) << i;
                }
                acc[t.out] += self.values[t.values + key];
            }
            for dp in &self.direct[g] {
                let tree = &self.ens.trees[dp.tree];
                let b = &self.bg[dp.b * m..(dp.b + 1) * m];
                let mut i = 0usize;
                loop {
                    let n = &tree.nodes[i];
                    if n.is_leaf() {
                        break;
                    }
                    let f = n.feature as usize;
                    let v = if z[f] != 0 { self.x[f] } else { b[f] };
                    i = n.next(v, &tree.category_words) as usize;
                }
                acc[self.ens.tree_output[dp.tree] as usize] += dp.weight * tree.nodes[i].value;
            }
        }
    }
}

/// Collects into `d` the features on which x and b part ways on some path the hybrids can take.
/// Returns false when there are more than [`MAX_VARS`].
fn discover(tree: &Tree, x: &[f64], b: &[f64], d: &mut Vec<usize>) -> bool {
    // (node, features of d already decided on this path, and which of them follow x)
    let mut stack: Vec<(usize, u32, u32)> = vec![(0, 0, 0)];
    while let Some((mut i, mut known, mut from_x)) = stack.pop() {
        loop {
            let n = &tree.nodes[i];
            if n.is_leaf() {
                break;
            }
            let f = n.feature as usize;
            let lx = n.next(x[f], &tree.category_words) as usize;
            let lb = n.next(b[f], &tree.category_words) as usize;
            if lx == lb {
                i = lx;
                continue;
            }
            let pos = match d.iter().position(|&v| v == f) {
                Some(p) => p,
                None => {
                    if d.len() == MAX_VARS {
                        return false;
                    }
                    d.push(f);
                    d.len() - 1
                }
            };
            if known >> pos & 1 == 1 {
                i = if from_x >> pos & 1 == 1 { lx } else { lb };
                continue;
            }
            known |= 1 << pos;
            stack.push((lx, known, from_x | 1 << pos));
            from_x &= !(1 << pos);
            i = lb;
        }
    }
    true
}

/// The leaf reached by the hybrid that takes x's value on the features `d[i]` with bit i of `a`
/// set and b's elsewhere (only features of `d` can matter, by construction).
fn tabulate_leaf(tree: &Tree, x: &[f64], b: &[f64], d: &[usize], a: usize) -> usize {
    let mut i = 0usize;
    loop {
        let n = &tree.nodes[i];
        if n.is_leaf() {
            return i;
        }
        let f = n.feature as usize;
        let use_x = d.iter().position(|&v| v == f).is_some_and(|p| a >> p & 1 == 1);
        let v = if use_x { x[f] } else { b[f] };
        i = n.next(v, &tree.category_words) as usize;
    }
}
