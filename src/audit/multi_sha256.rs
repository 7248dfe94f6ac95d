//! SHA-256 of many messages at once, for the journal writer's batches: one message per
//! vector lane (16 with AVX-512F, 8 with AVX2). On a CPU without the SHA extensions, a
//! pass over 16 messages of 4 KiB costs about what `ring` needs for four of them one by one.
//! The digests are plain SHA-256 (FIPS 180-4), identical to [`sha256`]: the tests compare
//! every kernel with `ring` for every padding case and group size. Other CPUs and
//! architectures, and groups too small to gain, hash each message with [`sha256`].
//!
//! The kernels are safe code except for the unaligned vector loads and stores of local
//! arrays; entering them is `unsafe` only because the CPU feature must have been detected
//! first, which [`sha256_many`] does.

use super::format::sha256;

/// The most messages hashed in one pass (AVX-512's lanes): a batch of whole groups is
/// hashed cheapest.
pub(crate) const MAX_GROUP: usize = 16;

/// Fewer messages than this are hashed one by one: a vector pass costs about as much as
/// hashing four messages of its length with [`sha256`], whatever the number of lanes used.
const MIN_GROUP: usize = 4;

/// The SHA-256 digest of each message, in order.
pub(crate) fn sha256_many(messages: &[&[u8]]) -> Vec<[u8; 32]> {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    {
        if messages.len() >= MIN_GROUP && std::arch::is_x86_feature_detected!("avx512f") {
            let mut out = Vec::with_capacity(messages.len());
            for group in messages.chunks(x86::avx512::LANES) {
                if group.len() < MIN_GROUP {
                    out.extend(group.iter().map(|m| sha256(m)));
                } else {
                    // SAFETY: AVX-512F is available (checked just above).
                    unsafe { x86::avx512::hash_group(group, &mut out) };
                }
            }
            return out;
        }
        if messages.len() >= MIN_GROUP && std::arch::is_x86_feature_detected!("avx2") {
            let mut out = Vec::with_capacity(messages.len());
            for group in messages.chunks(x86::avx2::LANES) {
                if group.len() < MIN_GROUP {
                    out.extend(group.iter().map(|m| sha256(m)));
                } else {
                    // SAFETY: AVX2 is available (checked just above).
                    unsafe { x86::avx2::hash_group(group, &mut out) };
                }
            }
            return out;
        }
    }
    messages.iter().map(|m| sha256(m)).collect()
}

// The only unsafe code of the journal: the runtime-checked calls into the vector kernels
// and their unaligned loads and stores of local arrays. The tests compare them with `ring`.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    pub(super) const H0: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];

    pub(super) const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    /// One lane's message: its whole 64-byte blocks are read in place, the padded tail (one
    /// or two blocks) is built here.
    pub(super) struct Lane<'a> {
        message: &'a [u8],
        full_blocks: usize,
        tail: [u8; 128],
        pub(super) blocks: usize,
    }

    impl<'a> Lane<'a> {
        pub(super) fn new(message: &'a [u8]) -> Self {
            let full_blocks = message.len() / 64;
            let rest = &message[full_blocks * 64..];
            let mut tail = [0u8; 128];
            tail[..rest.len()].copy_from_slice(rest);
            tail[rest.len()] = 0x80;
            let tail_blocks = if rest.len() + 9 <= 64 { 1 } else { 2 };
            let bits = (message.len() as u64).wrapping_mul(8);
            tail[tail_blocks * 64 - 8..tail_blocks * 64].copy_from_slice(&bits.to_be_bytes());
            Lane {
                message,
                full_blocks,
                tail,
                blocks: full_blocks + tail_blocks,
            }
        }

        /// Block `i` (zeros past the end: the lane's state is then kept unchanged).
        pub(super) fn block(&self, i: usize) -> &[u8] {
            if i < self.full_blocks {
                &self.message[i * 64..i * 64 + 64]
            } else if i < self.blocks {
                let t = (i - self.full_blocks) * 64;
                &self.tail[t..t + 64]
            } else {
                &[0u8; 64]
            }
        }
    }

    impl Lane<'_> {
        /// A lane for each message, and the most blocks any of them has.
        pub(super) fn all<'m>(messages: &[&'m [u8]]) -> (Vec<Lane<'m>>, usize) {
            let lanes: Vec<Lane<'m>> = messages.iter().map(|m| Lane::new(m)).collect();
            let max_blocks = lanes.iter().map(|l| l.blocks).max().unwrap_or(0);
            (lanes, max_blocks)
        }
    }

    /// The digests of the first `lanes` lanes, from the final state (`words[i][lane]` is
    /// word `i` of lane `lane`'s state), appended to `out`.
    pub(super) fn push_digests<const L: usize>(
        words: &[[u32; L]; 8],
        lanes: usize,
        out: &mut Vec<[u8; 32]>,
    ) {
        for lane in 0..lanes.min(L) {
            let mut digest = [0u8; 32];
            for (i, word) in words.iter().enumerate() {
                digest[4 * i..4 * i + 4].copy_from_slice(&word[lane].to_be_bytes());
            }
            out.push(digest);
        }
    }

    /// Block `b` of each lane as 16 big-endian words, transposed: `words[t][lane]`.
    #[inline(always)]
    pub(super) fn block_words<const L: usize>(lanes: &[Lane<'_>], b: usize) -> [[u32; L]; 16] {
        let mut rows = [[0u32; 16]; L];
        for (row, lane) in rows.iter_mut().zip(lanes) {
            for (word, bytes) in row.iter_mut().zip(lane.block(b).chunks_exact(4)) {
                *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            }
        }
        let mut words = [[0u32; L]; 16];
        for (t, column) in words.iter_mut().enumerate() {
            for (slot, row) in column.iter_mut().zip(&rows) {
                *slot = row[t];
            }
        }
        words
    }

    /// Eight lanes of 256-bit vectors.
    pub(super) mod avx2 {
        use std::arch::x86_64::{
            __m256i, _mm256_add_epi32, _mm256_and_si256, _mm256_andnot_si256, _mm256_blendv_epi8,
            _mm256_loadu_si256, _mm256_or_si256, _mm256_set1_epi32, _mm256_setzero_si256,
            _mm256_slli_epi32, _mm256_srli_epi32, _mm256_storeu_si256, _mm256_xor_si256,
        };

        use super::{H0, K, Lane, block_words, push_digests};

        /// Messages hashed together.
        pub(in super::super) const LANES: usize = 8;

        macro_rules! ror {
            ($x:expr, $n:literal, $m:literal) => {
                _mm256_or_si256(_mm256_srli_epi32::<$n>($x), _mm256_slli_epi32::<$m>($x))
            };
        }

        #[target_feature(enable = "avx2")]
        #[inline]
        fn load(words: &[u32; 8]) -> __m256i {
            // SAFETY: `words` is 32 readable bytes; the load is unaligned.
            unsafe { _mm256_loadu_si256(words.as_ptr().cast()) }
        }

        #[target_feature(enable = "avx2")]
        #[inline]
        fn store(v: __m256i) -> [u32; 8] {
            let mut words = [0u32; 8];
            // SAFETY: `words` is 32 writable bytes; the store is unaligned.
            unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), v) };
            words
        }

        /// Hash up to [`LANES`] messages, appending their digests to `out` in order.
        #[target_feature(enable = "avx2")]
        pub(in super::super) fn hash_group(messages: &[&[u8]], out: &mut Vec<[u8; 32]>) {
            let (lanes, max_blocks) = Lane::all(messages);
            let zero = _mm256_setzero_si256();
            let mut state = [zero; 8];
            for (s, h) in state.iter_mut().zip(H0) {
                *s = _mm256_set1_epi32(h as i32);
            }
            for b in 0..max_blocks {
                let words = block_words::<8>(&lanes, b);
                let mut w = [zero; 16];
                for (v, words) in w.iter_mut().zip(&words) {
                    *v = load(words);
                }
                let next = compress(&state, &mut w);
                let mut done = [0u32; 8];
                for (flag, lane) in done.iter_mut().zip(&lanes) {
                    if b >= lane.blocks {
                        *flag = u32::MAX;
                    }
                }
                // Lanes without messages (a short group) are computed and ignored.
                let keep = load(&done);
                for (s, n) in state.iter_mut().zip(next) {
                    *s = _mm256_blendv_epi8(n, *s, keep);
                }
            }
            let mut words = [[0u32; 8]; 8];
            for (w, v) in words.iter_mut().zip(state) {
                *w = store(v);
            }
            push_digests(&words, lanes.len(), out);
        }

        /// One SHA-256 compression in each lane; `w` holds the block's 16 words and is used as
        /// the message schedule's ring buffer.
        #[target_feature(enable = "avx2")]
        #[inline]
        fn compress(state: &[__m256i; 8], w: &mut [__m256i; 16]) -> [__m256i; 8] {
            let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
            for (t, k) in K.iter().enumerate() {
                if t >= 16 {
                    let w15 = w[(t - 15) % 16];
                    let w2 = w[(t - 2) % 16];
                    let s0 = _mm256_xor_si256(
                        _mm256_xor_si256(ror!(w15, 7, 25), ror!(w15, 18, 14)),
                        _mm256_srli_epi32::<3>(w15),
                    );
                    let s1 = _mm256_xor_si256(
                        _mm256_xor_si256(ror!(w2, 17, 15), ror!(w2, 19, 13)),
                        _mm256_srli_epi32::<10>(w2),
                    );
                    w[t % 16] = _mm256_add_epi32(
                        _mm256_add_epi32(w[t % 16], s0),
                        _mm256_add_epi32(w[(t - 7) % 16], s1),
                    );
                }
                let big_s1 = _mm256_xor_si256(
                    _mm256_xor_si256(ror!(e, 6, 26), ror!(e, 11, 21)),
                    ror!(e, 25, 7),
                );
                let ch = _mm256_xor_si256(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g));
                let t1 = _mm256_add_epi32(
                    _mm256_add_epi32(h, big_s1),
                    _mm256_add_epi32(
                        ch,
                        _mm256_add_epi32(w[t % 16], _mm256_set1_epi32(*k as i32)),
                    ),
                );
                let big_s0 = _mm256_xor_si256(
                    _mm256_xor_si256(ror!(a, 2, 30), ror!(a, 13, 19)),
                    ror!(a, 22, 10),
                );
                let maj = _mm256_or_si256(
                    _mm256_and_si256(a, b),
                    _mm256_and_si256(c, _mm256_or_si256(a, b)),
                );
                let t2 = _mm256_add_epi32(big_s0, maj);
                h = g;
                g = f;
                f = e;
                e = _mm256_add_epi32(d, t1);
                d = c;
                c = b;
                b = a;
                a = _mm256_add_epi32(t1, t2);
            }
            let out = [a, b, c, d, e, f, g, h];
            let mut next = *state;
            for (n, o) in next.iter_mut().zip(out) {
                *n = _mm256_add_epi32(*n, o);
            }
            next
        }
    }

    /// Sixteen lanes of 512-bit vectors, with native rotations and three-input logic.
    pub(super) mod avx512 {
        use std::arch::x86_64::{
            __m512i, _mm512_add_epi32, _mm512_loadu_si512, _mm512_mask_blend_epi32,
            _mm512_ror_epi32, _mm512_set1_epi32, _mm512_setzero_si512, _mm512_srli_epi32,
            _mm512_storeu_si512, _mm512_ternarylogic_epi32,
        };

        use super::{H0, K, Lane, block_words, push_digests};

        /// Messages hashed together.
        pub(in super::super) const LANES: usize = super::super::MAX_GROUP;

        /// `a ^ b ^ c`.
        const XOR3: i32 = 0x96;
        /// `(a & b) ^ (!a & c)`: SHA-256's Ch.
        const CH: i32 = 0xca;
        /// The majority of `a`, `b`, `c`: SHA-256's Maj.
        const MAJ: i32 = 0xe8;

        #[target_feature(enable = "avx512f")]
        #[inline]
        fn load(words: &[u32; 16]) -> __m512i {
            // SAFETY: `words` is 64 readable bytes; the load is unaligned.
            unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
        }

        #[target_feature(enable = "avx512f")]
        #[inline]
        fn store(v: __m512i) -> [u32; 16] {
            let mut words = [0u32; 16];
            // SAFETY: `words` is 64 writable bytes; the store is unaligned.
            unsafe { _mm512_storeu_si512(words.as_mut_ptr().cast(), v) };
            words
        }

        /// Hash up to [`LANES`] messages, appending their digests to `out` in order.
        #[target_feature(enable = "avx512f")]
        pub(in super::super) fn hash_group(messages: &[&[u8]], out: &mut Vec<[u8; 32]>) {
            let (lanes, max_blocks) = Lane::all(messages);
            let zero = _mm512_setzero_si512();
            let mut state = [zero; 8];
            for (s, h) in state.iter_mut().zip(H0) {
                *s = _mm512_set1_epi32(h as i32);
            }
            for b in 0..max_blocks {
                let words = block_words::<16>(&lanes, b);
                let mut w = [zero; 16];
                for (v, words) in w.iter_mut().zip(&words) {
                    *v = load(words);
                }
                let next = compress(&state, &mut w);
                // Lanes whose message has ended (or that have none) keep their state.
                let mut active: u16 = 0;
                for (i, lane) in lanes.iter().enumerate() {
                    if b < lane.blocks {
                        active |= 1 << i;
                    }
                }
                for (s, n) in state.iter_mut().zip(next) {
                    *s = _mm512_mask_blend_epi32(active, *s, n);
                }
            }
            let mut words = [[0u32; 16]; 8];
            for (w, v) in words.iter_mut().zip(state) {
                *w = store(v);
            }
            push_digests(&words, lanes.len(), out);
        }

        /// One SHA-256 compression in each lane; `w` holds the block's 16 words and is used
        /// as the message schedule's ring buffer.
        #[target_feature(enable = "avx512f")]
        #[inline]
        fn compress(state: &[__m512i; 8], w: &mut [__m512i; 16]) -> [__m512i; 8] {
            let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
            for (t, k) in K.iter().enumerate() {
                if t >= 16 {
                    let w15 = w[(t - 15) % 16];
                    let w2 = w[(t - 2) % 16];
                    let s0 = _mm512_ternarylogic_epi32::<XOR3>(
                        _mm512_ror_epi32::<7>(w15),
                        _mm512_ror_epi32::<18>(w15),
                        _mm512_srli_epi32::<3>(w15),
                    );
                    let s1 = _mm512_ternarylogic_epi32::<XOR3>(
                        _mm512_ror_epi32::<17>(w2),
                        _mm512_ror_epi32::<19>(w2),
                        _mm512_srli_epi32::<10>(w2),
                    );
                    w[t % 16] = _mm512_add_epi32(
                        _mm512_add_epi32(w[t % 16], s0),
                        _mm512_add_epi32(w[(t - 7) % 16], s1),
                    );
                }
                let big_s1 = _mm512_ternarylogic_epi32::<XOR3>(
                    _mm512_ror_epi32::<6>(e),
                    _mm512_ror_epi32::<11>(e),
                    _mm512_ror_epi32::<25>(e),
                );
                let ch = _mm512_ternarylogic_epi32::<CH>(e, f, g);
                let t1 = _mm512_add_epi32(
                    _mm512_add_epi32(h, big_s1),
                    _mm512_add_epi32(
                        ch,
                        _mm512_add_epi32(w[t % 16], _mm512_set1_epi32(*k as i32)),
                    ),
                );
                let big_s0 = _mm512_ternarylogic_epi32::<XOR3>(
                    _mm512_ror_epi32::<2>(a),
                    _mm512_ror_epi32::<13>(a),
                    _mm512_ror_epi32::<22>(a),
                );
                let maj = _mm512_ternarylogic_epi32::<MAJ>(a, b, c);
                let t2 = _mm512_add_epi32(big_s0, maj);
                h = g;
                g = f;
                f = e;
                e = _mm512_add_epi32(d, t1);
                d = c;
                c = b;
                b = a;
                a = _mm512_add_epi32(t1, t2);
            }
            let out = [a, b, c, d, e, f, g, h];
            let mut next = *state;
            for (n, o) in next.iter_mut().zip(out) {
                *n = _mm512_add_epi32(*n, o);
            }
            next
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic bytes (xorshift), so that failures reproduce.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn matches_sha256_for_every_padding_case_and_group_size() {
        let lengths: Vec<usize> = (0..=130)
            .chain([183, 447, 448, 1000, 4096, 4160, 9000])
            .collect();
        let messages: Vec<Vec<u8>> = lengths
            .iter()
            .enumerate()
            .map(|(i, &len)| bytes(i as u64 + 1, len))
            .collect();
        for group in [1, 2, 3, 7, 8, 9, 16, 17, messages.len()] {
            for chunk in messages.chunks(group) {
                let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
                let expected: Vec<[u8; 32]> = refs.iter().map(|m| sha256(m)).collect();
                assert_eq!(sha256_many(&refs), expected, "group of {group}");
            }
        }
    }

    /// Each kernel the CPU supports, called directly with every group size it takes (the
    /// dispatch above only ever uses the widest).
    #[cfg(target_arch = "x86_64")]
    #[test]
    #[allow(unsafe_code)]
    fn each_vector_kernel_matches_sha256() {
        let lengths: Vec<usize> = (0..=130).chain([447, 448, 4096, 4160]).collect();
        let messages: Vec<Vec<u8>> = lengths
            .iter()
            .enumerate()
            .map(|(i, &len)| bytes(i as u64 + 7, len))
            .collect();
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let mut kernels = 0;
        for group in 1..=x86::avx512::LANES {
            for chunk in refs.chunks(group) {
                let expected: Vec<[u8; 32]> = chunk.iter().map(|m| sha256(m)).collect();
                if group <= x86::avx2::LANES && std::arch::is_x86_feature_detected!("avx2") {
                    let mut out = Vec::new();
                    // SAFETY: AVX2 is available (checked just above).
                    unsafe { x86::avx2::hash_group(chunk, &mut out) };
                    assert_eq!(out, expected, "AVX2, group of {group}");
                    kernels += 1;
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    let mut out = Vec::new();
                    // SAFETY: AVX-512F is available (checked just above).
                    unsafe { x86::avx512::hash_group(chunk, &mut out) };
                    assert_eq!(out, expected, "AVX-512, group of {group}");
                    kernels += 1;
                }
            }
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            assert!(kernels > 0);
        }
    }

    proptest::proptest! {
        /// Any number of messages of any lengths: the same digests as one by one.
        #[test]
        fn matches_sha256_for_any_messages(
            messages in proptest::collection::vec(
                proptest::collection::vec(proptest::num::u8::ANY, 0..700),
                0..40,
            )
        ) {
            let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            let expected: Vec<[u8; 32]> = refs.iter().map(|m| sha256(m)).collect();
            proptest::prop_assert_eq!(sha256_many(&refs), expected);
        }
    }

    #[test]
    fn known_answers() {
        let abc = hex::decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            .unwrap();
        let empty = hex::decode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            .unwrap();
        let digests = sha256_many(&[b"abc", b"", b"abc", b""]);
        assert_eq!(digests[0].as_slice(), abc.as_slice());
        assert_eq!(digests[1].as_slice(), empty.as_slice());
        assert_eq!(digests[2].as_slice(), abc.as_slice());
        assert_eq!(digests[3].as_slice(), empty.as_slice());
        assert!(sha256_many(&[]).is_empty());
    }
}
