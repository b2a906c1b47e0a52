//! Exact interventional Shapley values of a transformed output `σ(F(x_S, z_S̄))` for one
//! (row, background row) pair, by Gray-code enumeration of the coalitions of the features on which
//! the two rows part (see the module docs of `interventional` for why not a rescaling).
//!
//! Cost per pair: finding the players is one walk per tree (as in raw space); each tree that
//! splits on players then tabulates its leaf value for every subset of *its* players (at most
//! `2^depth` entries); each of the `2^d` coalitions then costs one table lookup per tree that
//! splits on the flipped player (players split on by fewer trees get the low, often-flipped
//! bits), one link evaluation and `O(|S|)` accumulation. The output sum `F` is updated by
//! differences along the Gray code, which adds rounding of order `√(2^d)·ε·|F|`, far below the
//! additivity tolerance. Coalition values are used as they are produced, never stored.

use super::interventional::IvTree;
use super::quadrature::shapley_weight;
use crate::model::Link;

const NO_BIT: u8 = u8::MAX;

/// The ensemble seen as a transformed game; borrowed from the prepared explainer.
pub(super) struct TransformedGame<'g> {
    pub trees: &'g [IvTree],
    pub base_score: &'g [f64],
    pub link: Link,
    pub n_features: usize,
    pub max_players: usize,
}

/// Per-thread buffers for [`TransformedGame::add_pair`].
pub(super) struct PairScratch {
    /// The row's directions for every tree, concatenated; tree `t` starts at `offsets[t]`.
    xdirs: Vec<bool>,
    offsets: Vec<usize>,
    /// Per feature: +1 / −1 / 0 while walking (decided for x / for z / undecided).
    status: Vec<i8>,
    /// Per feature: its player index in the current pair, or [`NO_BIT`].
    bit_of: Vec<u8>,
    players: Vec<u32>,
    tree_mask: Vec<u64>,
    /// Per player bit: the trees splitting on it and the player's bit in each tree's table.
    trees_of_bit: Vec<Vec<(u32, u8)>>,
    /// Leaf values of each tree for every subset of its players, concatenated.
    tables: Vec<f64>,
    table_at: Vec<usize>,
    /// Each tree's current subset of its players.
    local: Vec<u32>,
    cur: Vec<f64>,
    f: Vec<f64>,
    y: Vec<f64>,
    acc: Vec<f64>,
    weights: Vec<f64>,
}

impl PairScratch {
    pub fn new(game: &TransformedGame) -> PairScratch {
        let mut offsets = Vec::with_capacity(game.trees.len());
        let mut total = 0;
        for t in game.trees {
            offsets.push(total);
            total += t.pre.len();
        }
        PairScratch {
            xdirs: vec![false; total],
            offsets,
            status: vec![0; game.n_features],
            bit_of: vec![NO_BIT; game.n_features],
            players: Vec::new(),
            tree_mask: vec![0; game.trees.len()],
            trees_of_bit: Vec::new(),
            tables: Vec::new(),
            table_at: vec![0; game.trees.len()],
            local: vec![0; game.trees.len()],
            cur: vec![0.0; game.trees.len()],
            f: vec![0.0; game.base_score.len()],
            y: vec![0.0; game.base_score.len()],
            acc: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Computes the row's directions in every tree.
    pub fn set_row(&mut self, game: &TransformedGame, x: &[f64]) {
        for (t, tree) in game.trees.iter().enumerate() {
            let o = self.offsets[t];
            tree.pre
                .directions(x, &mut self.xdirs[o..o + tree.pre.len()]);
        }
    }
}

impl TransformedGame<'_> {
    /// Adds `weight ×` the exact Shapley values of `link(F(x_S, z_S̄))` for background row `z`
    /// (whose raw output is `z_raw`) to `phi` (outputs × features).
    ///
    /// # Errors
    /// The number of players when it exceeds `max_players` (nothing is added then).
    pub fn add_pair(
        &self,
        s: &mut PairScratch,
        z: usize,
        z_raw: ndarray::ArrayView1<f64>,
        weight: f64,
        phi: &mut [f64],
    ) -> Result<(), usize> {
        // 1. Players: features on which x and z part at a node some hybrid row reaches.
        s.players.clear();
        let mut too_many = false;
        for (t, tree) in self.trees.iter().enumerate() {
            s.tree_mask[t] = 0;
            if tree.pre.len() == 1 {
                continue;
            }
            let o = s.offsets[t];
            let zdirs = tree.pattern(tree.pattern_of[z] as usize);
            let mut mask = 0u64;
            discover(
                tree,
                &s.xdirs[o..o + tree.pre.len()],
                zdirs,
                0,
                &mut s.status,
                &mut s.bit_of,
                &mut s.players,
                &mut mask,
                &mut too_many,
                self.max_players,
            );
            s.tree_mask[t] = mask;
        }
        let d = s.players.len();
        let result = if too_many || d > self.max_players {
            Err(d.max(self.max_players + 1))
        } else {
            if d > 0 {
                self.enumerate(s, z, z_raw, weight, phi);
            }
            Ok(())
        };
        for &f in &s.players {
            s.bit_of[f as usize] = NO_BIT;
        }
        result
    }

    fn enumerate(
        &self,
        s: &mut PairScratch,
        z: usize,
        z_raw: ndarray::ArrayView1<f64>,
        weight: f64,
        phi: &mut [f64],
    ) {
        let d = s.players.len();
        let k = self.base_score.len();
        // Gray-code order flips player 0 most often: give the low bits to the players that the
        // fewest trees split on, then re-express everything in that order.
        let mut count = vec![0u32; d];
        for &mask in &s.tree_mask {
            let mut rest = mask;
            while rest != 0 {
                count[rest.trailing_zeros() as usize] += 1;
                rest &= rest - 1;
            }
        }
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by_key(|&b| (count[b], s.players[b]));
        let mut new_bit = vec![0u8; d];
        for (nb, &ob) in order.iter().enumerate() {
            new_bit[ob] = nb as u8;
        }
        let players: Vec<u32> = order.iter().map(|&ob| s.players[ob]).collect();
        for (nb, &f) in players.iter().enumerate() {
            s.bit_of[f as usize] = nb as u8;
        }
        s.players = players;
        // Per tree splitting on players: its leaf value for every subset of its own players, so a
        // flip costs one table lookup per affected tree.
        s.trees_of_bit.iter_mut().for_each(Vec::clear);
        s.trees_of_bit.resize(d, Vec::new());
        s.tables.clear();
        for t in 0..s.tree_mask.len() {
            let old = s.tree_mask[t];
            s.local[t] = 0;
            if old == 0 {
                continue;
            }
            let mut mask = 0u64;
            let mut rest = old;
            while rest != 0 {
                mask |= 1 << new_bit[rest.trailing_zeros() as usize];
                rest &= rest - 1;
            }
            let bits: Vec<u32> = (0..d as u32).filter(|b| mask >> b & 1 == 1).collect();
            s.table_at[t] = s.tables.len();
            for local in 0u64..(1 << bits.len()) {
                let set = bits
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| local >> j & 1 == 1)
                    .fold(0u64, |acc, (_, &b)| acc | 1 << b);
                let v = self.hybrid_leaf(s, t, z, set);
                s.tables.push(v);
            }
            for (j, &b) in bits.iter().enumerate() {
                s.trees_of_bit[b as usize].push((t as u32, j as u8));
            }
            s.cur[t] = s.tables[s.table_at[t]];
        }
        s.weights.clear();
        s.weights.extend((0..d).map(|c| shapley_weight(c, d)));
        // φ_i = Σ_{S∋i} (w(|S|−1) + w(|S|)) y_S − Σ_S w(|S|) y_S (with w(−1) = w(d) = 0).
        s.acc.clear();
        s.acc.resize(k * d, 0.0);
        let mut total = vec![0.0; k];
        s.f.iter_mut().zip(z_raw.iter()).for_each(|(f, v)| *f = *v);
        let mut set = 0u64;
        for step in 0u64..(1u64 << d) {
            if step > 0 {
                let b = step.trailing_zeros() as usize;
                set ^= 1 << b;
                for i in 0..s.trees_of_bit[b].len() {
                    let (t, j) = s.trees_of_bit[b][i];
                    let t = t as usize;
                    s.local[t] ^= 1 << j;
                    let v = s.tables[s.table_at[t] + s.local[t] as usize];
                    s.f[self.trees[t].output] += v - s.cur[t];
                    s.cur[t] = v;
                }
            }
            s.y.copy_from_slice(&s.f);
            self.link.apply(&mut s.y);
            let size = set.count_ones() as usize;
            for o in 0..k {
                let y = s.y[o];
                let gain = if size > 0 {
                    s.weights[size - 1] * y
                } else {
                    0.0
                };
                let loss = if size < d { s.weights[size] * y } else { 0.0 };
                total[o] += loss;
                let acc = &mut s.acc[o * d..(o + 1) * d];
                let mut rest = set;
                while rest != 0 {
                    acc[rest.trailing_zeros() as usize] += gain + loss;
                    rest &= rest - 1;
                }
            }
        }
        let m = self.n_features;
        for o in 0..k {
            for (i, &f) in s.players.iter().enumerate() {
                phi[o * m + f as usize] += weight * (s.acc[o * d + i] - total[o]);
            }
        }
    }

    /// The leaf value tree `t` gives the hybrid row with players in `set` taken from x.
    fn hybrid_leaf(&self, s: &PairScratch, t: usize, z: usize, set: u64) -> f64 {
        let tree = &self.trees[t];
        let xdirs = &s.xdirs[s.offsets[t]..];
        let zdirs = tree.pattern(tree.pattern_of[z] as usize);
        let mut k = 0usize;
        loop {
            let node = &tree.pre.nodes[k];
            if node.is_leaf() {
                return node.value;
            }
            let bit = s.bit_of[node.feature as usize];
            let from_x = bit != NO_BIT && set >> bit & 1 == 1;
            let left = if from_x { xdirs[k] } else { zdirs[k] };
            k = if left { node.left } else { node.right } as usize;
        }
    }
}

/// Walks the nodes of `tree` reachable by some hybrid row, assigning a player index to every
/// feature on which x and z part there and recording it in the tree's mask.
#[allow(clippy::too_many_arguments)]
fn discover(
    tree: &IvTree,
    xl: &[bool],
    zl: &[bool],
    mut k: usize,
    status: &mut [i8],
    bit_of: &mut [u8],
    players: &mut Vec<u32>,
    mask: &mut u64,
    too_many: &mut bool,
    max_players: usize,
) {
    loop {
        let node = &tree.pre.nodes[k];
        if node.is_leaf() || *too_many {
            return;
        }
        let f = node.feature as usize;
        let xc = if xl[k] { node.left } else { node.right } as usize;
        let zc = if zl[k] { node.left } else { node.right } as usize;
        match status[f] {
            1 => k = xc,
            -1 => k = zc,
            _ if xc == zc => k = xc,
            _ => {
                if bit_of[f] == NO_BIT {
                    if players.len() >= max_players {
                        *too_many = true;
                        players.push(f as u32);
                        bit_of[f] = (players.len() - 1).min(NO_BIT as usize - 1) as u8;
                        return;
                    }
                    bit_of[f] = players.len() as u8;
                    players.push(f as u32);
                }
                *mask |= 1 << bit_of[f];
                status[f] = 1;
                discover(
                    tree,
                    xl,
                    zl,
                    xc,
                    status,
                    bit_of,
                    players,
                    mask,
                    too_many,
                    max_players,
                );
                status[f] = -1;
                discover(
                    tree,
                    xl,
                    zl,
                    zc,
                    status,
                    bit_of,
                    players,
                    mask,
                    too_many,
                    max_players,
                );
                status[f] = 0;
                return;
            }
        }
    }
}
