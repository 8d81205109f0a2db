//! Bob Jenkins's SpookyHash V2, the hash behind Trino's `spooky_hash_v2_32` and
//! `spooky_hash_v2_64` (airlift's port of the public-domain reference): a short path for
//! messages under 192 bytes, whole 96-byte blocks for longer ones. Words are read
//! little-endian, as the reference reads them on the machines it was written for.

const CONST: u64 = 0xdead_beef_dead_beef;
const BLOCK: usize = 96;
const SHORT: usize = 2 * BLOCK;

/// The 128-bit hash of `message` with two seeds, as the reference's `Hash128`.
pub fn hash128(message: &[u8], seed1: u64, seed2: u64) -> (u64, u64) {
    if message.len() < SHORT {
        return short(message, seed1, seed2);
    }
    let mut h = [seed1, seed2, CONST, seed1, seed2, CONST, seed1, seed2, CONST, seed1, seed2, CONST];
    let mut blocks = message.chunks_exact(BLOCK);
    for block in blocks.by_ref() {
        mix(&words::<12>(block), &mut h);
    }
    // The last block: what is left, zeros, and its length in the last byte.
    let rest = blocks.remainder();
    let mut last = [0u8; BLOCK];
    last[..rest.len()].copy_from_slice(rest);
    last[BLOCK - 1] = rest.len() as u8;
    for (h, w) in h.iter_mut().zip(words::<12>(&last)) {
        *h = h.wrapping_add(w);
    }
    for _ in 0..3 {
        end_partial(&mut h);
    }
    (h[0], h[1])
}

/// The 64-bit hash: the first half of the 128-bit one with `seed` as both seeds.
pub fn hash64(message: &[u8], seed: u64) -> u64 {
    hash128(message, seed, seed).0
}

/// `N` little-endian words from the first `8 * N` bytes.
fn words<const N: usize>(bytes: &[u8]) -> [u64; N] {
    std::array::from_fn(|i| le(&bytes[8 * i..8 * i + 8]))
}

/// Up to eight bytes as a little-endian word.
fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0, |w, &b| (w << 8) | u64::from(b))
}

fn short(message: &[u8], seed1: u64, seed2: u64) -> (u64, u64) {
    let mut h = [seed1, seed2, CONST, CONST];
    let mut rest = message;
    if message.len() > 15 {
        while rest.len() >= 32 {
            let w = words::<4>(rest);
            h[2] = h[2].wrapping_add(w[0]);
            h[3] = h[3].wrapping_add(w[1]);
            short_mix(&mut h);
            h[0] = h[0].wrapping_add(w[2]);
            h[1] = h[1].wrapping_add(w[3]);
            rest = &rest[32..];
        }
        if rest.len() >= 16 {
            let w = words::<2>(rest);
            h[2] = h[2].wrapping_add(w[0]);
            h[3] = h[3].wrapping_add(w[1]);
            short_mix(&mut h);
            rest = &rest[16..];
        }
    }
    h[3] = h[3].wrapping_add((message.len() as u64) << 56);
    if rest.is_empty() {
        h[2] = h[2].wrapping_add(CONST);
        h[3] = h[3].wrapping_add(CONST);
    } else {
        let (low, high) = rest.split_at(rest.len().min(8));
        h[2] = h[2].wrapping_add(le(low));
        h[3] = h[3].wrapping_add(le(high));
    }
    short_end(&mut h);
    (h[0], h[1])
}

fn short_mix(h: &mut [u64; 4]) {
    for (i, r) in [50, 52, 30, 41, 54, 48, 38, 37, 62, 34, 5, 36].into_iter().enumerate() {
        let (a, b, c) = ((i + 2) % 4, (i + 3) % 4, i % 4);
        h[a] = h[a].rotate_left(r).wrapping_add(h[b]);
        h[c] ^= h[a];
    }
}

fn short_end(h: &mut [u64; 4]) {
    for (i, r) in [15, 52, 26, 51, 28, 9, 47, 54, 32, 25, 63].into_iter().enumerate() {
        let (a, b) = ((i + 2) % 4, (i + 3) % 4);
        h[b] ^= h[a];
        h[a] = h[a].rotate_left(r);
        h[b] = h[b].wrapping_add(h[a]);
    }
}

fn mix(data: &[u64; 12], s: &mut [u64; 12]) {
    for (i, r) in [11, 32, 43, 31, 17, 28, 39, 57, 55, 54, 22, 46].into_iter().enumerate() {
        s[i] = s[i].wrapping_add(data[i]);
        s[(i + 2) % 12] ^= s[(i + 10) % 12];
        s[(i + 11) % 12] ^= s[i];
        s[i] = s[i].rotate_left(r);
        s[(i + 11) % 12] = s[(i + 11) % 12].wrapping_add(s[(i + 1) % 12]);
    }
}

fn end_partial(h: &mut [u64; 12]) {
    for (i, r) in [44, 15, 34, 21, 38, 33, 10, 13, 38, 53, 42, 54].into_iter().enumerate() {
        h[(i + 11) % 12] = h[(i + 11) % 12].wrapping_add(h[(i + 1) % 12]);
        h[(i + 2) % 12] ^= h[(i + 11) % 12];
        h[(i + 1) % 12] = h[(i + 1) % 12].rotate_left(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from the reference implementation (the C++ `SpookyHash::Hash64`, seed 0) over the
    /// bytes `i % 251`: both paths, and the lengths where they meet.
    #[test]
    fn matches_the_reference_on_short_and_long_messages() {
        let reference = [
            (0, 0x2327_06FC_6BF5_0919),
            (20, 0xBC4F_93F0_2C86_32E4),
            (40, 0xD9E4_5A43_710F_312A),
            (100, 0x227A_7341_0F9A_8C4C),
            (191, 0x7104_3A03_B5BB_462F),
            (192, 0x02D1_3F94_B2A3_1A54),
            (300, 0x0E21_6319_3BC1_F214),
            (1000, 0x933A_2FD9_41EF_D7FE),
        ];
        for (length, expected) in reference {
            let message: Vec<u8> = (0..length).map(|i| (i % 251) as u8).collect();
            assert_eq!(hash64(&message, 0), expected, "{length} bytes");
        }
        assert_eq!(hash64(b"hello", 0), 0x3768_826A_D382_E6CA);
    }
}
