//! Kernel SHAP's hybrid rows of a tree ensemble, evaluated through lookup tables.
//!
//! A hybrid row h = (x_S, b_{−S}) takes x's values on the coalition S and a background row b's
//! elsewhere. In one tree, a split on feature j sends h the way x goes when j ∈ S and the way b
//! goes otherwise — so where x and b go the *same* way, S does not matter. Following one tree
//! from the root, a hybrid's route is decided by the few features on which x and b part ways
//! along it (at most the depth, usually one to three): each leaf the hybrids of b can reach comes
//! with a *path* — those features, each following x or b — and the leaf is reached exactly by the
//! coalitions that agree with the path. We tabulate the leaf values by path features and
//! evaluate a coalition as a sum of table lookups instead of a descent through every tree for
//! every background row. Tables over the same features are added together (over trees, and in
//! raw space also over background rows, weighted: the value function is linear in the raw score
//! there), and a table whose features are a subset of another's is folded into it.
//!
//! **Construction** walks each tree once per explained row for a whole *set* of background rows
//! (bit sets of 64·W rows, W ≤ 16 words, larger backgrounds in chunks): at a split the set
//! divides into the rows that go x's way (the path is unchanged) and the others, which fork into
//! "the feature follows x" and "it follows b". Rows that share a route share the walk, so the
//! cost grows with the distinct routes rather than with trees × background rows (measured on the
//! 150-tree credit_scoring model against 100 background rows: under a fifth of the instructions
//! of one walk per (tree, row)). **Evaluation** packs the coalition into a 64-bit mask (M ≤ 64)
//! and extracts each table's key with one BMI2 `pext` where the CPU has it (a portable bit loop
//! otherwise: same keys, same values).
//!
//! The values are the model's own: the same leaves, summed in another order, so results agree
//! with row-by-row evaluation to rounding (≈1e-15 relative), and are deterministic. Rows whose
//! path in some tree has more than [`MAX_VARS`] features (deep trees) are evaluated for that
//! tree by direct traversal of the hybrid.
//!
//! Rejected: compiling the whole value function into its exact Shapley values (that is
//! interventional Tree SHAP, `--method tree-shap-interventional`); here the tables only evaluate
//! v(S) for the coalitions Kernel SHAP asks about, so the estimator and its error bars are
//! unchanged.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use ndarray::ArrayView2;

use crate::model::{Tree, TreeEnsemble};

/// log2 of the table cache's slots.
const CACHE_BITS: u32 = 10;

/// Most 64-bit words in one walk's row set (larger backgrounds are walked in chunks).
const MAX_CHUNK: usize = 16;

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
    nb: usize,
    /// First node of each tree in the flat direction arrays, and the total.
    offsets: Vec<usize>,
    total: usize,
    /// Background rows (f32-rounded for XGBoost), nb × M.
    bg: Vec<f64>,
    /// 64-bit words per node in `left` (a multiple of `chunk`).
    words: usize,
    /// Words per walk: the background is walked in chunks of 64 · `chunk` rows.
    chunk: usize,
    /// total × words: bit b is set when background row b goes left at the node.
    left: Vec<u64>,
    /// Per tree: whether some root-to-leaf path tests more than `max_vars` distinct features
    /// (only such trees can overflow a table and need the two-pass walk).
    deep: Vec<bool>,
    max_vars: usize,
}

impl<'a> TreeBackground<'a> {
    pub fn new(ens: &'a TreeEnsemble, bg: ArrayView2<f64>) -> TreeBackground<'a> {
        Self::with_limits(ens, bg, MAX_VARS, MAX_CHUNK)
    }

    /// As [`TreeBackground::new`] with a smaller table size limit and walk width (tests reach
    /// the traversal fallback and the chunked walk with them on small inputs).
    pub fn with_limits(
        ens: &'a TreeEnsemble,
        bg: ArrayView2<f64>,
        max_vars: usize,
        max_chunk: usize,
    ) -> TreeBackground<'a> {
        let max_vars = max_vars.min(MAX_VARS);
        let max_chunk = max_chunk.clamp(1, MAX_CHUNK);
        let m = bg.ncols();
        let nb = bg.nrows();
        let chunk = nb.div_ceil(64).next_power_of_two().min(max_chunk);
        let words = nb.div_ceil(64).div_ceil(chunk) * chunk;
        let mut offsets = Vec::with_capacity(ens.trees.len());
        let mut total = 0;
        for t in &ens.trees {
            offsets.push(total);
            total += t.nodes.len();
        }
        let mut cast = Vec::new();
        let mut row = Vec::with_capacity(m);
        let mut pbg = Vec::with_capacity(nb * m);
        let mut left = vec![0u64; total * words];
        for (b, r) in bg.rows().into_iter().enumerate() {
            row.clear();
            row.extend(r.iter().copied());
            let pb = ens.prepare_row(&row, &mut cast);
            pbg.extend_from_slice(pb);
            let (word, bit) = (b / 64, 1u64 << (b % 64));
            let mut at = 0;
            for t in &ens.trees {
                for n in &t.nodes {
                    if !n.is_leaf() && n.goes_left(pb[n.feature as usize], &t.category_words) {
                        left[at * words + word] |= bit;
                    }
                    at += 1;
                }
            }
        }
        let deep = ens
            .trees
            .iter()
            .map(|t| max_path_features(t) > max_vars)
            .collect();
        TreeBackground {
            ens,
            m,
            nb,
            offsets,
            total,
            bg: pbg,
            words,
            chunk,
            left,
            deep,
            max_vars,
        }
    }
}

/// The largest number of distinct features tested on one root-to-leaf path.
fn max_path_features(tree: &Tree) -> usize {
    let mut most = 0;
    // (node, features on the path to it, deduplicated)
    let mut stack: Vec<(usize, Vec<u32>)> = vec![(0, Vec::new())];
    while let Some((i, mut path)) = stack.pop() {
        let n = &tree.nodes[i];
        if n.is_leaf() {
            most = most.max(path.len());
            continue;
        }
        if !path.contains(&n.feature) {
            path.push(n.feature);
        }
        stack.push((n.left as usize, path.clone()));
        stack.push((n.right as usize, path));
    }
    most
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
    /// Per group and table, its variables as a bit mask (M ≤ 64; empty otherwise).
    masks: Vec<Vec<u64>>,
    /// The CPU has BMI2's `pext`.
    pext: bool,
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

/// Where the leaf terms of the walk go: the tables of one game, indexed by their key.
struct Sink<'g, 'a> {
    game: &'g mut TreeGame<'a>,
    index: HashMap<Key, usize, BuildHasherDefault<FxHasher>>,
    /// Recently used tables (M ≤ 64): (mask, group, output, filled, start of values).
    cache: Vec<(u64, usize, usize, bool, usize)>,
    m: usize,
    sorted: Vec<(usize, bool)>,
}

impl Sink<'_, '_> {
    /// Adds `v` to the entry of group `g`'s table over the path's features (output `out`)
    /// where each feature follows x or the background as the path says.
    fn add(&mut self, g: usize, out: usize, path: &Path, v: f64) {
        let k = self.game.k;
        if path.len == 0 {
            self.game.konst[g * k + out] += v;
            return;
        }
        if self.m <= 64 {
            // Tables list their variables in increasing order, as the mask's bits.
            let entry = extract(path.fx, path.mask);
            // A direct-mapped cache in front of the index: the same few hundred tables are hit
            // again and again.
            let slot = ((path.mask ^ (g as u64) << 40 ^ (out as u64) << 52)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                >> (64 - CACHE_BITS)) as usize;
            let c = self.cache[slot];
            let at = if c.3 && c.0 == path.mask && c.1 == g && c.2 == out {
                c.4
            } else {
                let at = self.table(Key::Mask(g, out, path.mask), g, out, |vars| {
                    vars.extend((0..64).filter(|j| (path.mask >> j) & 1 == 1))
                });
                self.cache[slot] = (path.mask, g, out, true, at);
                at
            };
            self.game.values[at + entry] += v;
            return;
        }
        self.sorted.clear();
        self.sorted.extend(
            path.vars[..path.len]
                .iter()
                .enumerate()
                .map(|(p, &j)| (j as usize, (path.from_x >> p) & 1 == 1)),
        );
        self.sorted.sort_unstable();
        let entry = self
            .sorted
            .iter()
            .enumerate()
            .fold(0usize, |a, (r, &(_, x))| a | usize::from(x) << r);
        let list: Vec<usize> = self.sorted.iter().map(|&(j, _)| j).collect();
        let at = self.table(Key::List(g, out, list.clone()), g, out, |vars| {
            vars.extend_from_slice(&list)
        });
        self.game.values[at + entry] += v;
    }

    /// The start of the values of the table with this key, created (zero) if new; `vars` writes
    /// its variables in increasing order.
    fn table(
        &mut self,
        key: Key,
        g: usize,
        out: usize,
        vars: impl FnOnce(&mut Vec<usize>),
    ) -> usize {
        let game = &mut *self.game;
        *self.index.entry(key).or_insert_with(|| {
            let start = game.vars.len();
            vars(&mut game.vars);
            let len = game.vars.len() - start;
            let values = game.values.len();
            game.values.resize(values + (1 << len), 0.0);
            game.tables[g].push(Table {
                out,
                vars: start..start + len,
                values,
            });
            values
        })
    }
}

/// The low bits of `key` placed at the set bits of `mask`, in increasing order (BMI2's `pdep`).
#[inline]
fn deposit(key: usize, mask: usize) -> usize {
    let (mut rest, mut out, mut i) = (mask, 0usize, 0);
    while rest != 0 {
        let j = rest.trailing_zeros();
        out |= ((key >> i) & 1) << j;
        i += 1;
        rest &= rest - 1;
    }
    out
}

/// The bits of `z` at the set bits of `mask`, packed in increasing order (BMI2's `pext`).
#[inline]
fn extract(z: u64, mask: u64) -> usize {
    let (mut rest, mut key, mut i) = (mask, 0usize, 0);
    while rest != 0 {
        let j = rest.trailing_zeros();
        key |= (((z >> j) & 1) as usize) << i;
        i += 1;
        rest &= rest - 1;
    }
    key
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
        let nb = tb.nb;
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
            masks: Vec::new(),
            pext: has_pext(),
        };
        for _ in 0..groups {
            game.konst.extend_from_slice(&ens.base_score);
        }
        let mut sink = Sink {
            game: &mut game,
            index: HashMap::default(),
            cache: vec![(0, 0, 0, false, 0); 1 << CACHE_BITS],
            m,
            sorted: Vec::with_capacity(MAX_VARS),
        };
        let direct = match tb.chunk {
            1 => build::<1>(tb, &x_left, weights, merge, &mut sink),
            2 => build::<2>(tb, &x_left, weights, merge, &mut sink),
            4 => build::<4>(tb, &x_left, weights, merge, &mut sink),
            8 => build::<8>(tb, &x_left, weights, merge, &mut sink),
            _ => build::<MAX_CHUNK>(tb, &x_left, weights, merge, &mut sink),
        };
        for (t, b) in direct {
            let (g, weight) = if merge { (0, weights[b]) } else { (b, 1.0) };
            game.direct[g].push(Direct { tree: t, b, weight });
        }
        if m <= 64 {
            for g in 0..game.tables.len() {
                game.absorb_subsets(g, m);
            }
            game.masks = game
                .tables
                .iter()
                .map(|ts| {
                    ts.iter()
                        .map(|t| {
                            game.vars[t.vars.clone()]
                                .iter()
                                .fold(0u64, |a, &j| a | 1 << j)
                        })
                        .collect()
                })
                .collect();
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
        order.sort_unstable_by_key(|&i| (std::cmp::Reverse(tables[i].vars.len()), i));
        let mut kept: Vec<usize> = Vec::with_capacity(tables.len());
        // Kept tables under each of their variables, (mask, output, size, index): a host of
        // table i is under every variable of i, so only the shortest of those lists is searched.
        let mut by_var: Vec<Vec<(u64, usize, usize, usize)>> = vec![Vec::new(); m];
        for i in order {
            let (ti, mi) = (&tables[i], masks[i]);
            let vi = &self.vars[ti.vars.clone()];
            let first = vi
                .iter()
                .copied()
                .min_by_key(|&j| by_var[j].len())
                .unwrap_or(0);
            // The smallest host: absorbing costs one pass over the host's table.
            let host = by_var[first]
                .iter()
                .filter(|&&(mh, out, _, _)| out == ti.out && mi & !mh == 0)
                .min_by_key(|&&(_, _, len, h)| (len, h));
            let Some(&(mh, _, _, h)) = host else {
                kept.push(i);
                for &j in vi {
                    by_var[j].push((mi, ti.out, vi.len(), i));
                }
                continue;
            };
            let th = &tables[h];
            // Host positions of i's variables (both lists are in increasing order).
            let placed = extract(mi, mh);
            let rest = ((1usize << th.vars.len()) - 1) & !placed;
            // Each entry of the host gets the entry of table i that agrees on i's variables:
            // walk i's entries, scatter each to the host's bits, and enumerate the host's other
            // bits (every host entry receives exactly one addition).
            for key in 0..(1usize << vi.len()) {
                let base = deposit(key, placed);
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
        out.copy_from_slice(&self.konst);
        if self.masks.is_empty() {
            for (g, tables) in self.tables.iter().enumerate() {
                let acc = &mut out[g * k..(g + 1) * k];
                for t in tables {
                    let mut key = 0usize;
                    for (i, &j) in self.vars[t.vars.clone()].iter().enumerate() {
                        key |= usize::from(z[j]) << i;
                    }
                    acc[t.out] += self.values[t.values + key];
                }
            }
        } else {
            let bits = z
                .iter()
                .enumerate()
                .fold(0u64, |a, (j, &v)| a | u64::from(v != 0) << j);
            #[cfg(target_arch = "x86_64")]
            {
                if self.pext {
                    // SAFETY: `pext` is set only when the CPU supports BMI2 (checked in
                    // `TreeGame::new`), the only feature the function is compiled with beyond
                    // the baseline.
                    unsafe { self.lookup_pext(bits, out) };
                    self.eval_direct(z, out);
                    return;
                }
            }
            self.lookup_portable(bits, out);
        }
        self.eval_direct(z, out);
    }

    /// Adds the table entries of the coalition with bits `z` (M ≤ 64) to `out`, extracting each
    /// table's key with one `pext` instruction: the coalition's bits at the table's variables,
    /// in increasing order — the table layout.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "bmi2")]
    unsafe fn lookup_pext(&self, z: u64, out: &mut [f64]) {
        use std::arch::x86_64::_pext_u64;
        // SAFETY: this function runs only on CPUs with BMI2 (see the caller). (Newer compilers
        // see the feature here and call the intrinsic safe; older ones need the block.)
        #[allow(unused_unsafe)]
        self.lookup_with(z, out, |z, mask| unsafe { _pext_u64(z, mask) } as usize);
    }

    /// [`TreeGame::lookup_pext`] without the instruction.
    fn lookup_portable(&self, z: u64, out: &mut [f64]) {
        self.lookup_with(z, out, extract);
    }

    /// Adds the table entries of coalition `z` to `out`, with `key(z, mask)` the table key.
    /// With one output the entries go to four running sums, added up in a fixed order at the
    /// end, so the additions do not wait on each other (same order for every coalition: the
    /// result is deterministic).
    #[inline(always)]
    fn lookup_with(&self, z: u64, out: &mut [f64], key: impl Fn(u64, u64) -> usize) {
        let k = self.k;
        let values = &self.values[..];
        for (g, tables) in self.tables.iter().enumerate() {
            let masks = &self.masks[g];
            if k == 1 {
                let entry = |t: &Table, mask: u64| values[t.values + key(z, mask)];
                let mut s = [0.0f64; 4];
                let quads = tables.chunks_exact(4).zip(masks.chunks_exact(4));
                for (ts, ms) in quads {
                    for q in 0..4 {
                        s[q] += entry(&ts[q], ms[q]);
                    }
                }
                let done = tables.len() / 4 * 4;
                for (t, &mask) in tables[done..].iter().zip(&masks[done..]) {
                    s[0] += entry(t, mask);
                }
                out[g] += (s[0] + s[1]) + (s[2] + s[3]);
                continue;
            }
            let acc = &mut out[g * k..(g + 1) * k];
            for (t, &mask) in tables.iter().zip(masks) {
                acc[t.out] += values[t.values + key(z, mask)];
            }
        }
    }

    /// Adds the values of the (tree, background row) pairs evaluated by traversal.
    fn eval_direct(&self, z: &[u8], out: &mut [f64]) {
        let k = self.k;
        let m = self.tb.m;
        let ens = self.tb.ens;
        for (g, direct) in self.direct.iter().enumerate() {
            let acc = &mut out[g * k..(g + 1) * k];
            for dp in direct {
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

/// Walks every tree against the background in chunks of 64·W rows and sends the leaf terms to
/// `sink`; returns the (tree, background row) pairs left to direct traversal.
fn build<const W: usize>(
    tb: &TreeBackground<'_>,
    x_left: &[bool],
    weights: &[f64],
    merge: bool,
    sink: &mut Sink<'_, '_>,
) -> Vec<(usize, usize)> {
    let ens = tb.ens;
    let nb = tb.nb;
    // Equal weights (an unsummarised background): a set's weight is its size times one.
    let uniform = weights[..nb]
        .iter()
        .all(|&v| v == weights[0])
        .then_some(weights[0]);
    let mut path = Path::default();
    let mut direct = Vec::new();
    for (c, first) in (0..nb).step_by(64 * W).enumerate() {
        let mut all = [0u64; W];
        for b in 0..(nb - first).min(64 * W) {
            all[b / 64] |= 1 << (b % 64);
        }
        for (t, tree) in ens.trees.iter().enumerate() {
            let off = tb.offsets[t];
            let len = tree.nodes.len();
            let walk = Walk::<W> {
                tree,
                x: &x_left[off..off + len],
                b: &tb.left[off * tb.words..(off + len) * tb.words],
                stride: tb.words,
                chunk: c * W,
                max_vars: tb.max_vars,
            };
            let out = ens.tree_output[t] as usize;
            let mut set = all;
            if tb.deep[t] {
                // First pass: which background rows need more than max_vars features here;
                // they are traversed directly and left out of the tables.
                let mut overflow = [0u64; W];
                walk.run(0, all, &mut path, &mut overflow, &mut |_, _, _| {});
                for (s, o) in set.iter_mut().zip(&overflow) {
                    *s &= !o;
                }
                direct.extend(bits(&overflow).map(|b| (t, first + b)));
            }
            let value = |leaf: usize| tree.nodes[leaf].value;
            let mut unused = [0u64; W];
            walk.run(0, set, &mut path, &mut unused, &mut |leaf, path, set| {
                if merge {
                    let wsum = match uniform {
                        Some(wb) => wb * set.iter().map(|v| v.count_ones()).sum::<u32>() as f64,
                        None => bits(set).map(|b| weights[first + b]).sum(),
                    };
                    sink.add(0, out, path, wsum * value(leaf));
                } else {
                    for b in bits(set) {
                        sink.add(first + b, out, path, value(leaf));
                    }
                }
            });
        }
    }
    direct
}

/// Whether the CPU has BMI2 (for `pext`).
fn has_pext() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("bmi2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The indices of the set bits of a bit set, in increasing order.
fn bits(set: &[u64]) -> impl Iterator<Item = usize> + '_ {
    set.iter().enumerate().flat_map(|(wi, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let b = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            Some(wi * 64 + b)
        })
    })
}

/// The features fixed on the way to a node, in the order met, and which of them follow x (by
/// position; and as feature bit masks for features below 64).
#[derive(Default)]
struct Path {
    vars: [u32; MAX_VARS],
    len: usize,
    from_x: u32,
    mask: u64,
    fx: u64,
}

impl Path {
    /// Whether feature `f` is on the path and, if so, whether it follows x.
    #[inline]
    fn find(&self, f: u32) -> Option<bool> {
        if f < 64 {
            return ((self.mask >> f) & 1 == 1).then_some((self.fx >> f) & 1 == 1);
        }
        let p = self.vars[..self.len].iter().position(|&v| v == f)?;
        Some((self.from_x >> p) & 1 == 1)
    }

    /// Appends feature `f`, following x.
    #[inline]
    fn push_x(&mut self, f: u32) {
        self.vars[self.len] = f;
        self.from_x |= 1 << self.len;
        self.len += 1;
        if f < 64 {
            self.mask |= 1 << f;
            self.fx |= 1 << f;
        }
    }

    /// Makes the last feature follow the background.
    #[inline]
    fn flip_last(&mut self) {
        self.from_x &= !(1 << (self.len - 1));
        let f = self.vars[self.len - 1];
        if f < 64 {
            self.fx &= !(1 << f);
        }
    }
}

/// One tree's node directions for the explained row and a chunk of 64·W background rows.
struct Walk<'t, const W: usize> {
    tree: &'t Tree,
    /// Per node: x goes left.
    x: &'t [bool],
    /// Per node, `stride` words (the chunk's W words from word `chunk`): the background rows
    /// that go left.
    b: &'t [u64],
    stride: usize,
    chunk: usize,
    max_vars: usize,
}

impl<const W: usize> Walk<'_, W> {
    /// The rows of the chunk that go left at node `i`.
    #[inline]
    fn left(&self, i: usize) -> [u64; W] {
        let at = i * self.stride + self.chunk;
        let mut out = [0u64; W];
        out.copy_from_slice(&self.b[at..at + W]);
        out
    }

    /// Walks the hybrids of every background row in `set` from node `i` at once. At a split on
    /// a feature not yet on the path, the rows that go x's way continue with x and the path
    /// unchanged; the others fork: the feature joins the path following x (they go x's way) or
    /// the background (they go their own way). On a feature already on the path, the rows
    /// follow x or their own directions as the path says. Every leaf reached calls
    /// `emit(leaf, path, rows)`: for those rows and every coalition that agrees with the path,
    /// the hybrid reaches that leaf, and those (path, leaf) pairs partition the coalitions.
    ///
    /// Rows that would need more than `max_vars` features on a path are added to `overflow` and
    /// left out from there on.
    fn run(
        &self,
        mut i: usize,
        mut set: [u64; W],
        path: &mut Path,
        overflow: &mut [u64; W],
        emit: &mut impl FnMut(usize, &Path, &[u64; W]),
    ) {
        let (base, mask, fx) = (path.len, path.mask, path.fx);
        loop {
            let node = &self.tree.nodes[i];
            if node.is_leaf() {
                emit(i, path, &set);
                break;
            }
            let goes_left = self.left(i);
            let (xc, oc) = if self.x[i] {
                (node.left as usize, node.right as usize)
            } else {
                (node.right as usize, node.left as usize)
            };
            if let Some(follows_x) = path.find(node.feature) {
                if follows_x {
                    i = xc;
                    continue;
                }
                // The rows follow their own directions.
                let (l, r) = split(&set, &goes_left);
                match (any(&l), any(&r)) {
                    (true, true) => {
                        self.run(node.left as usize, l, path, overflow, emit);
                        (set, i) = (r, node.right as usize);
                    }
                    (true, false) => (set, i) = (l, node.left as usize),
                    _ => i = node.right as usize,
                }
                continue;
            }
            // Rows that go x's way (same) and the others (differ).
            let (l, r) = split(&set, &goes_left);
            let (same, diff) = if self.x[i] { (l, r) } else { (r, l) };
            if !any(&diff) {
                i = xc;
                continue;
            }
            let has_same = any(&same);
            if path.len == self.max_vars {
                for (o, d) in overflow.iter_mut().zip(&diff) {
                    *o |= d;
                }
                if !has_same {
                    break;
                }
                (set, i) = (same, xc);
                continue;
            }
            if has_same {
                self.run(xc, same, path, overflow, emit);
            }
            path.push_x(node.feature);
            self.run(xc, diff, path, overflow, emit);
            path.flip_last();
            (set, i) = (diff, oc);
        }
        path.len = base;
        path.from_x &= (1u32 << base) - 1;
        path.mask = mask;
        path.fx = fx;
    }
}

/// (set ∩ left, set ∖ left).
#[inline]
fn split<const W: usize>(set: &[u64; W], left: &[u64; W]) -> ([u64; W], [u64; W]) {
    let (mut l, mut r) = ([0u64; W], [0u64; W]);
    for q in 0..W {
        l[q] = set[q] & left[q];
        r[q] = set[q] & !left[q];
    }
    (l, r)
}

/// Whether the set has a member.
#[inline]
fn any<const W: usize>(set: &[u64; W]) -> bool {
    set.iter().fold(0, |a, &v| a | v) != 0
}

#[cfg(test)]
mod tests;
