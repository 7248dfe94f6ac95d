//! The journal's readers: the record codec (`bcss::audit::codec::decode`) on the bytes as a
//! record body, and the segment and frame reading of `bcss::audit::verify` and
//! `bcss::audit::query` on a journal folder holding the bytes as segment files, twice:
//!
//! - as they are (the bytes are split into segments where the segment magic `BCSSJRNL`
//!   starts again, each named after the first sequence its header announces): the
//!   framing, checksum and torn-tail logic;
//! - repaired (every checksum, sequence number and chain hash made right, the bodies and
//!   write times as fuzzed): the record checks behind them (genesis, checkpoints,
//!   prunes, truncations), which damage would otherwise hide; then opened for writing
//!   (`FileJournal::open`, which quarantines a bad final record) and closed.
//!
//! Checks: no panic, hang or unbounded memory; a decoded body encodes and decodes back
//! to the same record; a journal that is sound but for its final record (torn or
//! damaged) verifies once opened (which cuts that record off) and closed.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use bcss::audit::{
    FileJournal, FileJournalConfig, QueryFilter, VerifyOptions, VerifyReport, codec, query, verify,
};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"BCSSJRNL";
const HEADER_LEN: usize = 80;
const FRAME_HEADER_LEN: usize = 60;

/// This process's folders, in memory (/dev/shm) where there is one.
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("bcss-fuzz-journal-{}", std::process::id()))
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("no tokio runtime: {e}"),
    }
});

/// The journal's clock while the fuzzed journal is opened: fixed, so that a run repeats.
fn clock() -> DateTime<Utc> {
    match DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z") {
        Ok(t) => t.with_timezone(&Utc),
        Err(e) => panic!("{e}"),
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// The segments in `data`: split where the magic starts again.
fn split_segments(data: &[u8]) -> Vec<&[u8]> {
    let mut starts: Vec<usize> = data
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(i, w)| *i > 0 && *w == MAGIC)
        .map(|(i, _)| i)
        .collect();
    starts.insert(0, 0);
    starts.push(data.len());
    starts.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

/// A fresh folder holding `segments`, each named after its header's first sequence (the
/// segment's position when its header is too short to tell).
fn journal_dir(name: &str, segments: &[Vec<u8>]) -> PathBuf {
    let dir = DIR.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    for (i, segment) in segments.iter().enumerate() {
        let first = if segment.len() >= 20 {
            u64_at(segment, 12)
        } else {
            i as u64 + 1
        };
        let path = dir.join(format!("seg-{first:020}-20250115.bcj"));
        if let Err(e) = std::fs::write(&path, segment) {
            panic!("cannot write {}: {e}", path.display());
        }
    }
    dir
}

/// The segments with every checksum, sequence number and chain hash made right: the first
/// segment chains from its header's hash and sequence; each frame's body is as long as its
/// header says, or as what is left. What follows the last whole frame is kept as is (a
/// torn or damaged tail).
fn repair(segments: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut chain: Option<(u64, [u8; 32])> = None;
    for raw in segments {
        if raw.len() < HEADER_LEN {
            out.push(raw.to_vec());
            continue;
        }
        let mut seg = raw[..HEADER_LEN].to_vec();
        seg[0..8].copy_from_slice(MAGIC);
        seg[8..10].copy_from_slice(&2u16.to_le_bytes());
        seg[10..12].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        let (mut sequence, mut hash) = match chain {
            Some(c) => c,
            None => {
                let mut prev = [0u8; 32];
                prev.copy_from_slice(&seg[28..60]);
                (u64_at(&seg, 12).max(1), prev)
            }
        };
        seg[12..20].copy_from_slice(&sequence.to_le_bytes());
        seg[28..60].copy_from_slice(&hash);
        let crc = crc32c::crc32c(&seg[0..76]);
        seg[76..80].copy_from_slice(&crc.to_le_bytes());

        let mut rest = &raw[HEADER_LEN..];
        while rest.len() > FRAME_HEADER_LEN + 4 {
            let announced = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let body_len = announced.clamp(1, rest.len() - FRAME_HEADER_LEN - 4);
            let mut frame = rest[..FRAME_HEADER_LEN].to_vec();
            let body = &rest[FRAME_HEADER_LEN..FRAME_HEADER_LEN + body_len];
            frame[0..4].copy_from_slice(&(body_len as u32).to_le_bytes());
            frame[4..6].copy_from_slice(&2u16.to_le_bytes());
            frame[6..8].copy_from_slice(&[0, 0]);
            frame[8..16].copy_from_slice(&sequence.to_le_bytes());
            let body_digest: [u8; 32] = Sha256::digest(body).into();
            let mut h = Sha256::new();
            h.update(hash);
            h.update(&frame[4..24]);
            h.update(body_digest);
            hash = h.finalize().into();
            frame[24..56].copy_from_slice(&hash);
            let crc = crc32c::crc32c(&frame[0..56]);
            frame[56..60].copy_from_slice(&crc.to_le_bytes());
            seg.extend_from_slice(&frame);
            seg.extend_from_slice(body);
            seg.extend_from_slice(&crc32c::crc32c(body).to_le_bytes());
            sequence = sequence.saturating_add(1);
            rest = &rest[FRAME_HEADER_LEN + body_len + 4..];
        }
        seg.extend_from_slice(rest);
        chain = Some((sequence, hash));
        out.push(seg);
    }
    out
}

/// Whether the journal of `segments` verifies with segment `name` cut at `offset`.
fn sound_without(segments: &[Vec<u8>], name: &str, offset: u64) -> bool {
    let dir = journal_dir("cut", segments);
    let path = dir.join(name);
    let cut = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(offset));
    if cut.is_err() {
        return false;
    }
    verify(&dir, &VerifyOptions::default()).is_ok_and(|r| r.is_ok())
}

/// Verify and query a journal folder (neither may panic, whatever it holds).
fn read(dir: &Path) -> Option<VerifyReport> {
    let report = verify(dir, &VerifyOptions::default());
    if let Ok(result) = query(dir, &QueryFilter::default()) {
        for exchange in result.exchanges() {
            let _ = exchange.map(|e| format!("{:?} {:?}", e.status(), e.code()));
        }
    }
    match report {
        Ok(report) => {
            let _ = format!("{report:?}");
            if let Some(problem) = &report.problem {
                let _ = (problem.to_string(), problem.to_error().to_string());
            }
            Some(report)
        }
        Err(e) => {
            let _ = e.to_string();
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The codec, on the bytes as one body.
    if let Ok(record) = codec::decode(Bytes::copy_from_slice(data)) {
        match codec::encode(&record).map(|body| codec::decode(body.to_bytes())) {
            Ok(Ok(again)) => assert_eq!(again, record, "a record re-encoded decodes differently"),
            other => panic!("a decoded record does not encode and decode again: {other:?}"),
        }
    }

    let segments = split_segments(data);
    let raw: Vec<Vec<u8>> = segments.iter().map(|s| s.to_vec()).collect();
    read(&journal_dir("raw", &raw));

    let repaired = repair(&segments);
    let dir = journal_dir("repaired", &repaired);
    // Whether the journal is sound once its final record is cut off: what opening must
    // then recover to (opening checks framing and the chain, not what verify checks
    // beyond them, such as a prefix removed without a prune record).
    let recoverable = match read(&dir) {
        Some(report) => match &report.problem {
            None => true,
            Some(p) if p.final_record => sound_without(&repaired, &p.segment, p.offset),
            Some(_) => false,
        },
        None => false,
    };
    let mut config = FileJournalConfig::new(&dir);
    config.clock = clock;
    config.checkpoint_on_close = false;
    let closed = RUNTIME.block_on(async {
        let journal = FileJournal::open(config).await.ok()?;
        Some(journal.close().await)
    });
    if recoverable && let Some(Ok(())) = closed {
        match verify(&dir, &VerifyOptions::default()) {
            Ok(report) => assert!(
                report.is_ok(),
                "a journal sound but for its final record does not verify once opened and closed: {:?}",
                report.problem
            ),
            Err(e) => panic!("a journal opened and closed cannot be read: {e}"),
        }
    }
});
