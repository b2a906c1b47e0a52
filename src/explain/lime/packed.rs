//! Byte-packed feature codes, so that a row's match mask against the explained row — bit j set
//! when sample and row have the same code in feature j, i.e. z_j = 1 — costs a few word
//! operations instead of a compare per feature.
//!
//! When every feature is discrete (discretised or categorical) and there are at most 64 of them
//! with codes below 255, each perturbed row's codes are packed once per pool, eight per `u64`.
//! Each explained row then gets, per sample, the 64-bit mask of features that match its own codes
//! (SWAR zero-byte detection on `sample ^ row`), from which the squared distance (the number of
//! mismatches) and the Gram matrices follow with popcounts (see `Gram::from_masks`). Rejected:
//! SSE2 byte compares — faster by a few instructions per row but `unsafe` loads, and this is
//! already a small part of a run.

/// Codes packed eight to a word, `words` words per row.
pub(crate) struct Packed {
    words: usize,
    data: Vec<u64>,
    /// Bits 0..m set.
    valid: u64,
}

impl Packed {
    /// Packs n rows of m codes (row-major); `None` when m > 64 or a code does not fit a byte
    /// below 255.
    pub fn new(codes: &[u32], m: usize) -> Option<Packed> {
        if m == 0 || m > 64 || codes.iter().any(|&c| c >= 255) {
            return None;
        }
        let words = m.div_ceil(8);
        let mut data = Vec::with_capacity(codes.len() / m * words);
        for row in codes.chunks_exact(m) {
            data.extend(pack(row, words));
        }
        Some(Packed {
            words,
            data,
            valid: if m == 64 { u64::MAX } else { (1u64 << m) - 1 },
        })
    }

    /// All features matching (the explained row against itself).
    pub fn all(&self) -> u64 {
        self.valid
    }

    /// The match masks of every packed row against the codes `cx` of the explained row, into
    /// `out` (cleared first); `false` (and `out` empty) when a code of `cx` does not fit a byte.
    pub fn masks(&self, cx: &[u32], out: &mut Vec<u64>) -> bool {
        out.clear();
        if cx.iter().any(|&c| c >= 255) {
            return false;
        }
        let px: Vec<u64> = pack(cx, self.words).collect();
        out.extend(self.data.chunks_exact(self.words).map(|row| {
            let mut mask = 0u64;
            for (w, (a, b)) in row.iter().zip(&px).enumerate() {
                mask |= zero_bytes(a ^ b) << (8 * w);
            }
            mask & self.valid
        }));
        true
    }
}

/// Codes (each < 255) as little-endian bytes of `words` words, padding bytes 0.
fn pack(codes: &[u32], words: usize) -> impl Iterator<Item = u64> + '_ {
    (0..words).map(move |w| {
        codes
            .iter()
            .skip(8 * w)
            .take(8)
            .enumerate()
            .fold(0u64, |acc, (b, &c)| acc | u64::from(c as u8) << (8 * b))
    })
}

/// Bit b (0..8) set when byte b of t is zero.
#[inline]
fn zero_bytes(t: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit of each byte: set when the byte is non-zero (no carries cross bytes: ≤ 0xFE).
    let nonzero = ((t & LOW7) + LOW7) | t;
    let zero = !nonzero & HIGH;
    // Gather the eight high bits (at 7, 15, …, 63) into the top byte, then down.
    (zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: a compare per feature.
    #[test]
    fn masks_match_a_compare_per_feature() {
        let mut s = 99u64;
        let mut next = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as u32
        };
        for m in [1, 7, 8, 9, 61, 64] {
            let n = 40;
            // Few distinct codes (many matches) and the extremes 0 and 254.
            let pick = |r: u32| [0, 1, 2, 254][(r % 4) as usize];
            let codes: Vec<u32> = (0..n * m).map(|_| pick(next())).collect();
            let cx: Vec<u32> = (0..m).map(|_| pick(next())).collect();
            let p = Packed::new(&codes, m).unwrap();
            let mut got = Vec::new();
            assert!(p.masks(&cx, &mut got));
            for (i, &mask) in got.iter().enumerate() {
                let expected = (0..m)
                    .filter(|&j| codes[i * m + j] == cx[j])
                    .fold(0u64, |a, j| a | 1 << j);
                assert_eq!(mask, expected, "m {m}, row {i}");
            }
        }
        assert!(Packed::new(&[255], 1).is_none());
        assert!(Packed::new(&[0; 65], 65).is_none());
        let p = Packed::new(&[3, 4], 2).unwrap();
        assert!(!p.masks(&[3, u32::MAX], &mut Vec::new()));
    }
}
