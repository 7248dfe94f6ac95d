//! A run: an immutable file of sorted, unique keys, laid out as a static B+tree of 4 KiB
//! blocks, so that a key range is found in one block read per level.
//!
//! Block 0 is the header; leaf blocks follow in key order, then the internal blocks, level
//! by level, the root last. Integers are little-endian.
//!
//! Header (block 0): magic `BCSSIDXR`, format version (u16), two zero bytes, block size
//! (u32), entries (u64), first and last journal sequence covered (u64 each), first leaf
//! block (u32), leaf blocks (u32), root block (u32), levels above the leaves (u32), and the
//! smallest and largest decision sequence among its link keys (u64 each; `u64::MAX` and 0
//! when it has none), so that looking up a decision's outcome skips the runs that cannot
//! hold it.
//!
//! Every block: kind (1 byte: 0 header, 1 leaf, 2 internal), entry count (u16), bytes
//! used (u16), entries, zero padding, and the CRC32C of the first 4092 bytes in its last 4.
//! A leaf entry is `shared (u16) | suffix length (u16) | suffix`: the key is the first
//! `shared` bytes of the previous key in the block followed by the suffix; an internal
//! entry adds its child's block number (u32), whose first key it is.
//!
//! Nothing here is trusted: a block that does not check is an error, and the records the
//! keys lead to are read back and checked against the chain by the query.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::key::MAX_KEY;

/// The block size.
pub(crate) const BLOCK: usize = 4096;
const MAGIC: [u8; 8] = *b"BCSSIDXR";
const VERSION: u16 = 1;
const LEAF: u8 = 1;
const INTERNAL: u8 = 2;
/// Where entries start in a block.
const BODY: usize = 5;
/// Where the block's CRC32C is.
const CRC_AT: usize = BLOCK - 4;

/// A run file's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunHeader {
    pub entries: u64,
    pub first_sequence: u64,
    pub last_sequence: u64,
    leaf_first: u32,
    leaf_count: u32,
    root: u32,
    levels: u32,
    /// The decisions its link keys lead from: smallest and largest.
    pub link_min: u64,
    pub link_max: u64,
}

/// The decision a link key leads from.
fn link_of(key: &[u8]) -> Option<u64> {
    if key.first() != Some(&(super::key::Kind::Link as u8)) {
        return None;
    }
    let term: [u8; 8] = super::key::term_of(key)?.try_into().ok()?;
    Some(u64::from_be_bytes(term))
}

fn seal(block: &mut [u8; BLOCK]) {
    let crc = crc32c::crc32c(&block[..CRC_AT]);
    block[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
}

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Fills blocks with prefix-compressed entries.
struct BlockBuilder {
    kind: u8,
    block: Box<[u8; BLOCK]>,
    used: usize,
    count: u16,
    prev: Vec<u8>,
    first: Option<Vec<u8>>,
}

impl BlockBuilder {
    fn new(kind: u8) -> Self {
        BlockBuilder {
            kind,
            block: Box::new([0; BLOCK]),
            used: BODY,
            count: 0,
            prev: Vec::new(),
            first: None,
        }
    }

    /// Add `key` (and a child for internal blocks); `false` when it does not fit.
    fn push(&mut self, key: &[u8], child: Option<u32>) -> bool {
        let shared = if self.count == 0 {
            0
        } else {
            key.iter()
                .zip(&self.prev)
                .take_while(|(a, b)| a == b)
                .count()
        };
        let suffix = &key[shared..];
        let need = 4 + suffix.len() + if child.is_some() { 4 } else { 0 };
        if self.used + need > CRC_AT || self.count == u16::MAX {
            return false;
        }
        let b = &mut self.block[self.used..self.used + need];
        // Keys are at most MAX_KEY (146) bytes.
        b[0..2].copy_from_slice(&(shared as u16).to_le_bytes());
        b[2..4].copy_from_slice(&(suffix.len() as u16).to_le_bytes());
        b[4..4 + suffix.len()].copy_from_slice(suffix);
        if let Some(child) = child {
            b[4 + suffix.len()..].copy_from_slice(&child.to_le_bytes());
        }
        self.used += need;
        self.count += 1;
        self.prev.clear();
        self.prev.extend_from_slice(key);
        if self.first.is_none() {
            self.first = Some(key.to_vec());
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The sealed block and its first key; the builder starts over.
    fn take(&mut self) -> (Box<[u8; BLOCK]>, Vec<u8>) {
        self.block[0] = self.kind;
        self.block[1..3].copy_from_slice(&self.count.to_le_bytes());
        // At most BLOCK (4096).
        self.block[3..5].copy_from_slice(&(self.used as u16).to_le_bytes());
        seal(&mut self.block);
        let block = std::mem::replace(&mut self.block, Box::new([0; BLOCK]));
        let first = self.first.take().unwrap_or_default();
        self.used = BODY;
        self.count = 0;
        self.prev.clear();
        (block, first)
    }
}

/// Writes a run from keys given in increasing order.
pub(crate) struct RunWriter {
    file: BufWriter<File>,
    leaf: BlockBuilder,
    /// Each leaf's first key and block number.
    leaves: Vec<(Vec<u8>, u32)>,
    next_block: u32,
    entries: u64,
    last: Vec<u8>,
    link_min: u64,
    link_max: u64,
}

impl RunWriter {
    /// Create `path` (it must not exist).
    pub(crate) fn create(path: &Path) -> std::io::Result<RunWriter> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        let mut file = BufWriter::with_capacity(256 * 1024, file);
        file.write_all(&[0; BLOCK])?;
        Ok(RunWriter {
            file,
            leaf: BlockBuilder::new(LEAF),
            leaves: Vec::new(),
            next_block: 1,
            entries: 0,
            last: Vec::new(),
            link_min: u64::MAX,
            link_max: 0,
        })
    }

    /// Add the next key; a key equal to the previous one is skipped. Keys must come in
    /// increasing order and be at most [`MAX_KEY`] bytes.
    pub(crate) fn add(&mut self, key: &[u8]) -> std::io::Result<()> {
        if key.len() > MAX_KEY || key.is_empty() {
            return Err(std::io::Error::other("index key length out of range"));
        }
        if self.entries > 0 {
            match key.cmp(&self.last) {
                std::cmp::Ordering::Equal => return Ok(()),
                std::cmp::Ordering::Less => {
                    return Err(std::io::Error::other("index keys out of order"));
                }
                std::cmp::Ordering::Greater => {}
            }
        }
        if !self.leaf.push(key, None) {
            self.flush_leaf()?;
            self.leaf.push(key, None);
        }
        self.entries += 1;
        if let Some(decision) = link_of(key) {
            self.link_min = self.link_min.min(decision);
            self.link_max = self.link_max.max(decision);
        }
        self.last.clear();
        self.last.extend_from_slice(key);
        Ok(())
    }

    fn flush_leaf(&mut self) -> std::io::Result<()> {
        let (block, first) = self.leaf.take();
        self.file.write_all(&block[..])?;
        self.leaves.push((first, self.next_block));
        self.next_block += 1;
        Ok(())
    }

    /// Write the internal levels and the header, and fsync. `first_sequence` and
    /// `last_sequence` are the journal records the run covers.
    pub(crate) fn finish(
        mut self,
        first_sequence: u64,
        last_sequence: u64,
    ) -> std::io::Result<RunHeader> {
        if !self.leaf.is_empty() || self.leaves.is_empty() {
            self.flush_leaf()?;
        }
        let leaf_count = self.leaves.len() as u32;
        let mut level = std::mem::take(&mut self.leaves);
        let mut levels = 0u32;
        while level.len() > 1 {
            let mut node = BlockBuilder::new(INTERNAL);
            let mut up = Vec::new();
            for (key, child) in &level {
                if !node.push(key, Some(*child)) {
                    let (block, first) = node.take();
                    self.file.write_all(&block[..])?;
                    up.push((first, self.next_block));
                    self.next_block += 1;
                    node.push(key, Some(*child));
                }
            }
            let (block, first) = node.take();
            self.file.write_all(&block[..])?;
            up.push((first, self.next_block));
            self.next_block += 1;
            level = up;
            levels += 1;
        }
        let root = level.first().map_or(1, |(_, b)| *b);
        let header = RunHeader {
            entries: self.entries,
            first_sequence,
            last_sequence,
            leaf_first: 1,
            leaf_count,
            root,
            levels,
            link_min: self.link_min,
            link_max: self.link_max,
        };
        let mut b = [0u8; BLOCK];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&(BLOCK as u32).to_le_bytes());
        b[16..24].copy_from_slice(&header.entries.to_le_bytes());
        b[24..32].copy_from_slice(&first_sequence.to_le_bytes());
        b[32..40].copy_from_slice(&last_sequence.to_le_bytes());
        b[40..44].copy_from_slice(&header.leaf_first.to_le_bytes());
        b[44..48].copy_from_slice(&leaf_count.to_le_bytes());
        b[48..52].copy_from_slice(&root.to_le_bytes());
        b[52..56].copy_from_slice(&levels.to_le_bytes());
        b[56..64].copy_from_slice(&self.link_min.to_le_bytes());
        b[64..72].copy_from_slice(&self.link_max.to_le_bytes());
        seal(&mut b);
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&b)?;
        file.sync_all()?;
        Ok(header)
    }
}

/// A run opened for reading.
#[derive(Debug)]
pub(crate) struct RunReader {
    file: File,
    name: String,
    pub header: RunHeader,
    /// The root block, read (and checked) once.
    root: Box<[u8; BLOCK]>,
}

/// Why a run could not be read.
#[derive(Debug)]
pub(crate) enum RunError {
    Io(std::io::Error),
    Bad(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Io(e) => write!(f, "{e}"),
            RunError::Bad(reason) => write!(f, "{reason}"),
        }
    }
}

impl From<std::io::Error> for RunError {
    fn from(e: std::io::Error) -> Self {
        RunError::Io(e)
    }
}

impl RunReader {
    /// Open a run and check its header.
    pub(crate) fn open(path: &Path) -> Result<RunReader, RunError> {
        let file = File::open(path)?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut b = [0u8; BLOCK];
        file.read_exact_at(&mut b, 0)?;
        let bad = |what: &str| RunError::Bad(format!("index run {name}: {what}"));
        if b[0..8] != MAGIC || u16::from_le_bytes([b[8], b[9]]) != VERSION {
            return Err(bad("not a version 1 index run"));
        }
        if u32_at(&b, CRC_AT) != crc32c::crc32c(&b[..CRC_AT]) {
            return Err(bad("header checksum does not match"));
        }
        if u32_at(&b, 12) as usize != BLOCK {
            return Err(bad("unsupported block size"));
        }
        let header = RunHeader {
            entries: u64_at(&b, 16),
            first_sequence: u64_at(&b, 24),
            last_sequence: u64_at(&b, 32),
            leaf_first: u32_at(&b, 40),
            leaf_count: u32_at(&b, 44),
            root: u32_at(&b, 48),
            levels: u32_at(&b, 52),
            link_min: u64_at(&b, 56),
            link_max: u64_at(&b, 64),
        };
        let blocks = file.metadata()?.len() / BLOCK as u64;
        let leaf_end = u64::from(header.leaf_first) + u64::from(header.leaf_count);
        if header.leaf_first != 1
            || header.leaf_count == 0
            || leaf_end > blocks
            || u64::from(header.root) >= blocks
            || header.levels > 16
        {
            return Err(bad("header describes blocks the file does not have"));
        }
        let mut run = RunReader {
            file,
            name,
            header,
            root: Box::new([0; BLOCK]),
        };
        let mut root = Box::new([0u8; BLOCK]);
        run.block(header.root, &mut root)?;
        run.root = root;
        Ok(run)
    }

    fn block(&self, number: u32, buf: &mut [u8; BLOCK]) -> Result<(), RunError> {
        self.file
            .read_exact_at(buf, u64::from(number) * BLOCK as u64)?;
        if u32_at(buf, CRC_AT) != crc32c::crc32c(&buf[..CRC_AT]) {
            return Err(RunError::Bad(format!(
                "index run {}: block {number} checksum does not match",
                self.name
            )));
        }
        Ok(())
    }

    /// Every key in `[low, high)`, in order, appended to `out`.
    pub(crate) fn range(
        &self,
        low: &[u8],
        high: &[u8],
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), RunError> {
        let mut buf = Box::new([0u8; BLOCK]);
        let mut number = self.header.root;
        for level in 0..self.header.levels {
            if level == 0 {
                buf.copy_from_slice(&self.root[..]);
            } else {
                self.block(number, &mut buf)?;
            }
            if buf[0] != INTERNAL {
                return Err(self.bad(number, "expected an internal block"));
            }
            let mut child = None;
            for entry in Entries::new(&buf[..], true) {
                let (key, c) = entry.map_err(|r| self.bad(number, r))?;
                if child.is_some() && key.as_slice() > low {
                    break;
                }
                child = Some(c);
            }
            number = child.ok_or_else(|| self.bad(number, "empty internal block"))?;
        }
        let leaf_end = self.header.leaf_first + self.header.leaf_count;
        while number < leaf_end {
            if number < self.header.leaf_first {
                return Err(self.bad(number, "a child outside the leaves"));
            }
            self.block(number, &mut buf)?;
            if buf[0] != LEAF {
                return Err(self.bad(number, "expected a leaf block"));
            }
            for entry in Entries::new(&buf[..], false) {
                let (key, _) = entry.map_err(|r| self.bad(number, r))?;
                if key.as_slice() >= high {
                    return Ok(());
                }
                if key.as_slice() >= low {
                    out.push(key);
                }
            }
            number += 1;
        }
        Ok(())
    }

    /// Every key, in order (for merging runs).
    pub(crate) fn keys(&self) -> RunKeys<'_> {
        RunKeys {
            run: self,
            next_block: self.header.leaf_first,
            buffered: Vec::new().into_iter(),
        }
    }

    fn bad(&self, number: u32, reason: &str) -> RunError {
        RunError::Bad(format!("index run {}: block {number}: {reason}", self.name))
    }
}

/// The keys of a run, leaf by leaf.
pub(crate) struct RunKeys<'r> {
    run: &'r RunReader,
    next_block: u32,
    buffered: std::vec::IntoIter<Vec<u8>>,
}

impl Iterator for RunKeys<'_> {
    type Item = Result<Vec<u8>, RunError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(key) = self.buffered.next() {
                return Some(Ok(key));
            }
            let h = &self.run.header;
            if self.next_block >= h.leaf_first + h.leaf_count {
                return None;
            }
            let number = self.next_block;
            self.next_block += 1;
            let mut buf = Box::new([0u8; BLOCK]);
            if let Err(e) = self.run.block(number, &mut buf) {
                self.next_block = u32::MAX;
                return Some(Err(e));
            }
            let mut keys = Vec::new();
            for entry in Entries::new(&buf[..], false) {
                match entry {
                    Ok((key, _)) => keys.push(key),
                    Err(reason) => {
                        self.next_block = u32::MAX;
                        return Some(Err(self.run.bad(number, reason)));
                    }
                }
            }
            self.buffered = keys.into_iter();
        }
    }
}

/// The entries of one block: keys (and children, for internal blocks).
struct Entries<'b> {
    block: &'b [u8],
    internal: bool,
    at: usize,
    left: usize,
    end: usize,
    key: Vec<u8>,
}

impl<'b> Entries<'b> {
    fn new(block: &'b [u8], internal: bool) -> Self {
        Entries {
            block,
            internal,
            at: BODY,
            left: u16_at(block, 1),
            end: u16_at(block, 3).min(CRC_AT),
            key: Vec::new(),
        }
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<(Vec<u8>, u32), &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let fail = |s: &mut Self, why| {
            s.left = 0;
            Some(Err(why))
        };
        if self.at + 4 > self.end {
            return fail(self, "an entry runs past the block");
        }
        let shared = u16_at(self.block, self.at);
        let len = u16_at(self.block, self.at + 2);
        let child_len = if self.internal { 4 } else { 0 };
        let start = self.at + 4;
        if shared > self.key.len() || start + len + child_len > self.end {
            return fail(self, "an entry runs past the block");
        }
        self.key.truncate(shared);
        self.key.extend_from_slice(&self.block[start..start + len]);
        let child = if self.internal {
            u32_at(self.block, start + len)
        } else {
            0
        };
        self.at = start + len + child_len;
        Some(Ok((self.key.clone(), child)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::index::key::{Kind, key, range};

    #[test]
    fn ranges_are_found_through_the_tree_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.idx");
        let mut keys: Vec<Vec<u8>> = (0..40_000u64)
            .map(|i| {
                key(
                    Kind::Subject,
                    format!("{:011}", i % 997).as_bytes(),
                    i as i64,
                    i,
                )
            })
            .collect();
        keys.sort();
        let mut w = RunWriter::create(&path).unwrap();
        for k in &keys {
            w.add(k).unwrap();
            w.add(k).unwrap();
        }
        let header = w.finish(1, 40_000).unwrap();
        assert_eq!(header.entries, 40_000);
        assert!(header.levels >= 1);
        let r = RunReader::open(&path).unwrap();
        let mut out = Vec::new();
        let (low, high) = range(Kind::Subject, b"00000000005", 0, i64::MAX);
        r.range(&low, &high, &mut out).unwrap();
        let expected: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| k.as_slice() >= low.as_slice() && k.as_slice() < high.as_slice())
            .cloned()
            .collect();
        assert_eq!(out, expected);
        assert!(out.len() > 30);
        let all: Vec<Vec<u8>> = r.keys().map(Result::unwrap).collect();
        assert_eq!(all, keys);
        // Nothing below the first key, nothing above the last.
        out.clear();
        r.range(b"a", b"b", &mut out).unwrap();
        assert!(out.is_empty());
        // A flipped byte in a leaf is reported, not returned.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[BLOCK + 100] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let r = RunReader::open(&path).unwrap();
        assert!(r.keys().any(|k| k.is_err()));
        // Out-of-order keys are refused.
        let mut w = RunWriter::create(&dir.path().join("bad.idx")).unwrap();
        w.add(b"b").unwrap();
        assert!(w.add(b"a").is_err());
    }
}
