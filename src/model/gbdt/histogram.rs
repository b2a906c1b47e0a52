//! Gradient histograms: per feature and bin, the sums of gradients, hessians and row counts of the
//! rows in a leaf.
//!
//! A histogram is one flat `Vec<Stats>` covering every feature; feature `f` owns the section
//! `offsets[f]..offsets[f + 1]` (see [`BinnedData::offsets`]). Flat storage lets the grower recycle
//! whole buffers between leaves and trees instead of allocating per node.
//!
//! # Histogram subtraction
//! A parent's histogram is the sum of its children's, so only the smaller child is built from its
//! rows and the larger one is `parent − smaller` (Ke et al. 2017, LightGBM, §2; XGBoost `hist`).
//! That halves the row scans per level. Counts are whole numbers stored in `f64`, so they subtract
//! exactly; gradient sums subtract with the usual rounding, which is deterministic because the
//! order of operations never depends on threads.
//!
//! # Parallelism
//! Features are built in parallel (each thread owns whole feature sections and walks the rows in
//! order), so the result is bit-identical for any thread count. Parallelising over rows would need
//! per-thread histograms merged afterwards — faster on wide data, but the merge order would have to
//! be fixed by row blocks; features are enough for tabular widths.

use std::ops::{Add, AddAssign, Sub, SubAssign};

use rayon::prelude::*;

use super::binning::BinnedData;

/// Sums of gradient, hessian and row count (a histogram bin, or the totals of a leaf).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Stats {
    /// Sum of gradients.
    pub g: f64,
    /// Sum of hessians.
    pub h: f64,
    /// Number of rows (with bootstrap multiplicity).
    pub n: f64,
}

impl Stats {
    /// Totals of a slice of `(gradient, hessian)` pairs, summed in order.
    pub fn sum_of(gh: &[[f64; 2]]) -> Stats {
        let mut s = Stats::default();
        for &[g, h] in gh {
            s.g += g;
            s.h += h;
        }
        s.n = gh.len() as f64;
        s
    }
}

impl Add for Stats {
    type Output = Stats;
    #[inline]
    fn add(self, o: Stats) -> Stats {
        Stats {
            g: self.g + o.g,
            h: self.h + o.h,
            n: self.n + o.n,
        }
    }
}

impl Sub for Stats {
    type Output = Stats;
    #[inline]
    fn sub(self, o: Stats) -> Stats {
        Stats {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n - o.n,
        }
    }
}

impl AddAssign for Stats {
    #[inline]
    fn add_assign(&mut self, o: Stats) {
        *self = *self + o;
    }
}

impl SubAssign for Stats {
    #[inline]
    fn sub_assign(&mut self, o: Stats) {
        *self = *self - o;
    }
}

/// Below this many (row, feature) visits a histogram is built on the calling thread: spawning
/// rayon tasks costs more than the work.
const PARALLEL_MIN_WORK: usize = 1 << 15;

/// Splits `hist` into the mutable sections of `features` (ascending, distinct).
fn feature_sections<'h>(
    data: &BinnedData,
    features: &[usize],
    hist: &'h mut [Stats],
) -> Vec<(usize, &'h mut [Stats])> {
    let offsets = data.offsets();
    let mut out = Vec::with_capacity(features.len());
    let mut rest = hist;
    let mut consumed = 0;
    for &f in features {
        debug_assert!(offsets[f] >= consumed, "features must be ascending");
        let (_, tail) = rest.split_at_mut(offsets[f] - consumed);
        let (section, tail) = tail.split_at_mut(offsets[f + 1] - offsets[f]);
        out.push((f, section));
        rest = tail;
        consumed = offsets[f + 1];
    }
    out
}

/// Fills the sections of `features` in `hist` from the rows `rows`, whose `(gradient, hessian)`
/// pairs are `gh` in the same order (gathered by the caller: one random access per row instead of
/// one per row and feature).
///
/// # Panics
/// When `rows` and `gh` differ in length or `features` is not ascending (programming errors).
pub(crate) fn build(
    data: &BinnedData,
    features: &[usize],
    rows: &[u32],
    gh: &[[f64; 2]],
    hist: &mut [Stats],
) {
    assert_eq!(rows.len(), gh.len(), "rows and gradients differ in length");
    let fill = |(f, section): (usize, &mut [Stats])| {
        section.fill(Stats::default());
        let col = data.column(f);
        for (&r, &[g, h]) in rows.iter().zip(gh) {
            let e = &mut section[col[r as usize] as usize];
            e.g += g;
            e.h += h;
            e.n += 1.0;
        }
    };
    let sections = feature_sections(data, features, hist);
    if rows.len() * features.len() < PARALLEL_MIN_WORK || rayon::current_num_threads() == 1 {
        sections.into_iter().for_each(fill);
    } else {
        sections.into_par_iter().for_each(fill);
    }
}

/// `parent −= child` over the sections of `features`: turns the parent's histogram into the
/// histogram of the child's sibling.
pub(crate) fn subtract(
    data: &BinnedData,
    features: &[usize],
    parent: &mut [Stats],
    child: &[Stats],
) {
    let offsets = data.offsets();
    for &f in features {
        let range = offsets[f]..offsets[f + 1];
        for (p, c) in parent[range.clone()].iter_mut().zip(&child[range]) {
            *p -= *c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gbdt::binning::tests::binned;

    #[test]
    fn histogram_matches_direct_sums() {
        // feature 0: numeric with a missing value, feature 1: categorical with 3 levels
        let x = [
            [1.0, 0.0],
            [2.0, 2.0],
            [f64::NAN, 1.0],
            [2.0, f64::NAN],
            [3.0, 2.0],
        ];
        let data = binned(&x, &[false, true], 255);
        let rows: Vec<u32> = vec![0, 1, 2, 3, 4];
        let gh: Vec<[f64; 2]> = (0..5).map(|i| [i as f64 - 1.5, 0.5 + i as f64]).collect();
        let mut hist = vec![Stats::default(); data.total_bins()];
        build(&data, &[0, 1], &rows, &gh, &mut hist);
        for f in 0..2 {
            let section = &hist[data.offsets()[f]..data.offsets()[f + 1]];
            for (b, s) in section.iter().enumerate() {
                let mut want = Stats::default();
                for (i, &r) in rows.iter().enumerate() {
                    if data.column(f)[r as usize] as usize == b {
                        want += Stats {
                            g: gh[i][0],
                            h: gh[i][1],
                            n: 1.0,
                        };
                    }
                }
                assert_eq!(*s, want, "feature {f} bin {b}");
            }
        }
        // missing values land in the dedicated last bin
        let miss0 = data.mapper(0).missing_bin();
        assert_eq!(hist[data.offsets()[0] + miss0].n, 1.0);
        let miss1 = data.mapper(1).missing_bin();
        assert_eq!(hist[data.offsets()[1] + miss1].n, 1.0);
    }

    #[test]
    fn subtraction_gives_the_sibling_histogram() {
        let x: Vec<[f64; 2]> = (0..40)
            .map(|i| {
                let v = ((i * 7) % 13) as f64;
                [if i % 9 == 0 { f64::NAN } else { v }, (i % 4) as f64]
            })
            .collect();
        let data = binned(&x, &[false, true], 8);
        let gh: Vec<[f64; 2]> = (0..40)
            .map(|i| [(i as f64 * 0.37).sin(), 1.0 + (i % 3) as f64])
            .collect();
        let all: Vec<u32> = (0..40).collect();
        let (left, right): (Vec<u32>, Vec<u32>) = all.iter().partition(|&&r| r % 3 == 0);
        let gather = |rows: &[u32]| rows.iter().map(|&r| gh[r as usize]).collect::<Vec<_>>();
        let features = [0usize, 1];
        let mut parent = vec![Stats::default(); data.total_bins()];
        let mut small = parent.clone();
        let mut direct = parent.clone();
        build(&data, &features, &all, &gather(&all), &mut parent);
        build(&data, &features, &left, &gather(&left), &mut small);
        build(&data, &features, &right, &gather(&right), &mut direct);
        subtract(&data, &features, &mut parent, &small);
        for (a, b) in parent.iter().zip(&direct) {
            assert_eq!(a.n, b.n, "counts subtract exactly");
            assert!((a.g - b.g).abs() < 1e-12 && (a.h - b.h).abs() < 1e-12);
        }
    }
}
