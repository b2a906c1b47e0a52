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
use std::hash::{BuildHasherDefault, Hasher};

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

/// What does not depend on the explained row: the background as the trees compare it, and the
/// direction every background row takes at every node (computed once per explanation).
pub(crate) struct TreeBackground<'a> {
    ens: &'a TreeEnsemble,
    m: usize,
    /// First node of each tree in the flat direction arrays, and the total.
    offsets: Vec<usize>,
    total: usize,
    /// Background rows (f32-rounded for XGBoost), nb × M.
    bg: Vec<f64>,
    /// nb × total: true when the background row goes left at the node.
    left: Vec<bool>,
}

impl<'a> TreeBackground<'a> {
    pub fn new(ens: &'a TreeEnsemble, bg: ArrayView2<f64>) -> TreeBackground<'a> {
        let m = bg.ncols();
        let mut offsets = Vec::with_capacity(ens.trees.len());
        let mut total = 0;
        for t in &ens.trees {
            offsets.push(total);
            total += t.nodes.len();
        }
        let mut cast = Vec::new();
        let mut row = Vec::with_capacity(m);
        let mut pbg = Vec::with_capacity(bg.nrows() * m);
        let mut left = Vec::with_capacity(bg.nrows() * total);
        for b in bg.rows() {
            row.clear();
            row.extend(b.iter().copied());
            let pb = ens.prepare_row(&row, &mut cast);
            pbg.extend_from_slice(pb);
            push_directions(ens, pb, &mut left);
        }
        TreeBackground {
            ens,
            m,
            offsets,
            total,
            bg: pbg,
            left,
        }
    }
}

/// Appends, for every node of every tree, whether `row` goes left there.
fn push_directions(ens: &TreeEnsemble, row: &[f64], left: &mut Vec<bool>) {
    for t in &ens.trees {
        left.extend(
            t.nodes
                .iter()
                .map(|n| !n.is_leaf() && n.goes_left(row[n.feature as usize], &t.category_words)),
        );
    }
}

/// The value of every background row's hybrid (probability space: `groups` = background rows),
/// or of their weighted sum (raw space: one group), for the coalitions of one explained row.
pub(crate) struct TreeGame<'a> {
    tb: &'a TreeBackground<'a>,
    k: usize,
    /// The explained row as the trees compare it.
    x: Vec<f64>,
    /// Per group: constant part (K values), tables and direct pairs.
    konst: Vec<f64>,
    tables: Vec<Vec<Table>>,
    direct: Vec<Vec<Direct>>,
    vars: Vec<usize>,
    values: Vec<f64>,
}

/// A multiply-rotate hasher (rustc's FxHash) for the table index: its keys are a few machine
/// words, which SipHash (the std default, built against hash flooding, which cannot happen here)
/// made a tenth of the game's construction time.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Table index key: (group, output, variables as a bit mask when M ≤ 64, else the list).
#[derive(PartialEq, Eq, Hash)]
enum Key {
    Mask(usize, usize, u64),
    List(usize, usize, Vec<usize>),
}

impl<'a> TreeGame<'a> {
    /// The game of row `x` against the background of `tb` with weights `weights`. With `merge`
    /// the background rows are summed (weighted) into one group.
    pub fn new(
        tb: &'a TreeBackground<'a>,
        x: &[f64],
        weights: &[f64],
        merge: bool,
    ) -> TreeGame<'a> {
        let ens = tb.ens;
        let m = tb.m;
        let k = ens.n_outputs();
        let nb = tb.bg.len() / m.max(1);
        let mut cast = Vec::new();
        let px = ens.prepare_row(x, &mut cast).to_vec();
        let mut x_left = Vec::with_capacity(tb.total);
        push_directions(ens, &px, &mut x_left);
        let groups = if merge { 1 } else { nb };
        let mut game = TreeGame {
            tb,
            k,
            x: px,
            konst: Vec::with_capacity(groups * k),
            tables: (0..groups).map(|_| Vec::new()).collect(),
            direct: (0..groups).map(|_| Vec::new()).collect(),
            vars: Vec::new(),
            values: Vec::new(),
        };
        for _ in 0..groups {
            game.konst.extend_from_slice(&ens.base_score);
        }
        let mut index: HashMap<Key, usize, BuildHasherDefault<FxHasher>> = HashMap::default();
        let mut stack = Vec::with_capacity(64);
        let mut d = Vec::with_capacity(MAX_VARS);
        let mut sorted = Vec::with_capacity(MAX_VARS);
        let mut leaves = Vec::new();
        for (b, &wb) in weights.iter().enumerate().take(nb) {
            let (g, w) = if merge { (0, wb) } else { (b, 1.0) };
            let b_left = &tb.left[b * tb.total..(b + 1) * tb.total];
            for (t, tree) in ens.trees.iter().enumerate() {
                let off = tb.offsets[t];
                let len = tree.nodes.len();
                let dirs = Dirs {
                    tree,
                    x: &x_left[off..off + len],
                    b: &b_left[off..off + len],
                };
                let out = ens.tree_output[t] as usize;
                d.clear();
                if !dirs.discover(&mut d, &mut leaves, &mut stack) {
                    game.direct[g].push(Direct {
                        tree: t,
                        b,
                        weight: w,
                    });
                    continue;
                }
                if d.is_empty() {
                    game.konst[g * k + out] += w * tree.nodes[leaves[0].0].value;
                    continue;
                }
                // Discovery positions → positions in sorted order.
                sorted.clear();
                sorted.extend_from_slice(&d);
                sorted.sort_unstable();
                let mut rank = [0u32; MAX_VARS];
                for (r, f) in rank.iter_mut().zip(&d) {
                    *r = sorted.iter().position(|v| v == f).unwrap_or(0) as u32;
                }
                let rank = &rank[..d.len()];
                let remap = |bits: u32| {
                    rank.iter()
                        .enumerate()
                        .fold(0u32, |acc, (p, &r)| acc | ((bits >> p) & 1) << r)
                };
                std::mem::swap(&mut d, &mut sorted);
                let key = if m <= 64 {
                    Key::Mask(g, out, d.iter().fold(0u64, |a, &j| a | 1 << j))
                } else {
                    Key::List(g, out, d.clone())
                };
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
                // Each leaf fixes the bits it depends on; it fills every entry that agrees.
                let full = (1u32 << d.len()) - 1;
                for &(leaf, known, from_x) in &leaves {
                    let (known, from_x) = (remap(known), remap(from_x));
                    let free = full & !known;
                    let v = w * tree.nodes[leaf].value;
                    let mut sub = free;
                    loop {
                        game.values[at + (from_x | sub) as usize] += v;
                        if sub == 0 {
                            break;
                        }
                        sub = (sub - 1) & free;
                    }
                }
            }
        }
        if m <= 64 {
            for g in 0..game.tables.len() {
                game.absorb_subsets(g, m);
            }
        }
        game
    }

    /// Adds every table whose variables are a subset of another table's (same output) into that
    /// table, so a coalition costs fewer lookups. Needs M ≤ 64 (variable sets as bit masks).
    fn absorb_subsets(&mut self, g: usize, m: usize) {
        let tables = std::mem::take(&mut self.tables[g]);
        let masks: Vec<u64> = tables
            .iter()
            .map(|t| {
                self.vars[t.vars.clone()]
                    .iter()
                    .fold(0u64, |a, &j| a | 1 << j)
            })
            .collect();
        let mut order: Vec<usize> = (0..tables.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(tables[i].vars.len()), i));
        let mut kept: Vec<usize> = Vec::with_capacity(tables.len());
        // Kept tables by their smallest variable's... every variable: a host of table i must
        // contain i's first variable, so only that list is searched.
        let mut by_var: Vec<Vec<usize>> = vec![Vec::new(); m];
        let mut pos = Vec::with_capacity(MAX_VARS);
        for i in order {
            let (ti, mi) = (&tables[i], masks[i]);
            let first = self.vars[ti.vars.start];
            // The smallest host: absorbing costs one pass over the host's table.
            let host = by_var[first]
                .iter()
                .copied()
                .filter(|&h| tables[h].out == ti.out && mi & !masks[h] == 0)
                .min_by_key(|&h| (tables[h].vars.len(), h));
            let Some(h) = host else {
                kept.push(i);
                for &j in &self.vars[ti.vars.clone()] {
                    by_var[j].push(i);
                }
                continue;
            };
            let th = &tables[h];
            let hv = &self.vars[th.vars.clone()];
            pos.clear();
            pos.extend(
                self.vars[ti.vars.clone()]
                    .iter()
                    .map(|j| hv.iter().position(|v| v == j).unwrap_or(0)),
            );
            // Each entry of the host gets the entry of table i that agrees on i's variables:
            // walk i's entries, scatter each to the host's bits, and enumerate the host's other
            // bits (every host entry still receives exactly one addition, as a direct loop over
            // the host would give, but without re-deriving i's key for each).
            let placed = pos.iter().fold(0usize, |a, &p| a | 1 << p);
            let rest = ((1usize << hv.len()) - 1) & !placed;
            for key in 0..(1usize << pos.len()) {
                let base = pos
                    .iter()
                    .enumerate()
                    .fold(0usize, |acc, (q, &p)| acc | ((key >> q) & 1) << p);
                let v = self.values[ti.values + key];
                let mut sub = rest;
                loop {
                    self.values[th.values + (base | sub)] += v;
                    if sub == 0 {
                        break;
                    }
                    sub = (sub - 1) & rest;
                }
            }
        }
        kept.sort_unstable();
        let mut tables: Vec<Option<Table>> = tables.into_iter().map(Some).collect();
        self.tables[g] = kept.iter().filter_map(|&i| tables[i].take()).collect();
    }

    /// Number of groups (outputs per coalition are groups × K).
    pub fn groups(&self) -> usize {
        self.tables.len()
    }

    /// Writes the raw scores of coalition `z` (0/1 per feature) for every group into `out`
    /// (groups × K).
    pub fn eval(&self, z: &[u8], out: &mut [f64]) {
        let k = self.k;
        let m = self.tb.m;
        let ens = self.tb.ens;
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
                let tree = &ens.trees[dp.tree];
                let b = &self.tb.bg[dp.b * m..(dp.b + 1) * m];
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
                acc[ens.tree_output[dp.tree] as usize] += dp.weight * tree.nodes[i].value;
            }
        }
    }
}

/// One tree's node directions for the explained row and one background row.
struct Dirs<'t> {
    tree: &'t Tree,
    x: &'t [bool],
    b: &'t [bool],
}

impl Dirs<'_> {
    /// The child that the row going left (`true`) or right takes at node `n`.
    #[inline]
    fn child(&self, n: usize, left: bool) -> usize {
        let node = &self.tree.nodes[n];
        (if left { node.left } else { node.right }) as usize
    }

    /// Collects into `d` the features on which x and b part ways on some path the hybrids can
    /// take. Returns false when there are more than [`MAX_VARS`].
    fn discover(
        &self,
        d: &mut Vec<usize>,
        leaves: &mut Vec<(usize, u32, u32)>,
        stack: &mut Vec<(usize, u32, u32)>,
    ) -> bool {
        // (node, features of d already decided on this path, and which of them follow x)
        stack.clear();
        stack.push((0, 0, 0));
        leaves.clear();
        while let Some((mut i, mut known, mut from_x)) = stack.pop() {
            while !self.tree.nodes[i].is_leaf() {
                let (lx, lb) = (self.x[i], self.b[i]);
                if lx == lb {
                    i = self.child(i, lx);
                    continue;
                }
                let f = self.tree.nodes[i].feature as usize;
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
                    i = self.child(i, if from_x >> pos & 1 == 1 { lx } else { lb });
                    continue;
                }
                known |= 1 << pos;
                stack.push((self.child(i, lx), known, from_x | 1 << pos));
                from_x &= !(1 << pos);
                i = self.child(i, lb);
            }
            leaves.push((i, known, from_x));
        }
        true
    }
}
