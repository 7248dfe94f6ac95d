//! Opening the journal for writing: the directory, the lock, a genesis record for a new
//! journal; for an existing one, the last checkpoint checked in place (through the
//! locator) and only what follows it walked, or everything when that checkpoint does not
//! check; the witness's last head confirmed; a bad final record quarantined and cut.

use std::fs::OpenOptions;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use tokio::time::Instant;
use uuid::Uuid;

use super::sync::Syncer;
use super::{Active, Opened, Writer};
use crate::audit::chain::{Chain, canonical_prefix, chain_hash, sha256};
use crate::audit::file_journal::{FileJournalConfig, Shared};
use crate::audit::format::{HEAD_FILE, LOCK_FILE, QUARANTINE_DIR, micros_to_time};
use crate::audit::locator::{self, Locator};
use crate::audit::prune::sync_dir;
use crate::audit::quarantine::{accounts_for, quarantine_and_cut, read_tail, recomputed_head};
use crate::audit::scan::{SegmentFile, list_segments, read_frame_at, read_header};
use crate::audit::signing::{self, genesis_message, parse_hash, sign};
use crate::audit::walk::{Start, Visit, WalkEnd, walk};
use crate::audit::{
    AuditError, GenesisRecord, Head, Record, TruncationRecord, WitnessedHead, codec,
};

/// The largest sequence number a journal continues at: far beyond any journal's life (a
/// million records a second for 290,000 years), it keeps every sequence a signed 64-bit
/// integer (a database journal's `bigint`) and the writer's count from overflowing.
const MAX_SEQUENCE: u64 = i64::MAX as u64;

impl Writer {
    /// Open the journal: create the directory, take the lock, check what must be checked,
    /// recover a bad final record.
    pub(super) fn open(
        config: FileJournalConfig,
        shared: Arc<Shared>,
    ) -> Result<(Writer, Opened), AuditError> {
        config.validate()?;
        let dir = config.dir.clone();
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| AuditError::io(&dir, "create the journal directory", e))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let lock = crate::audit::lock::take(&dir, LOCK_FILE, config.lock_wait)?;
        let signing = match &config.signing_key {
            Some(path) => Some(crate::audit::load_signing_key(path)?),
            None => None,
        };
        remove_temporary_files(&dir)?;
        let segments = list_segments(&dir)?;
        let syncer = Syncer::spawn(Arc::clone(&shared))
            .map_err(|e| AuditError::io(&dir, "start the journal's sync threads", e))?;
        let mut writer = Writer {
            syncer,
            config,
            shared,
            signing,
            _lock: lock,
            journal_id: Uuid::nil(),
            genesis: None,
            active: None,
            next_sequence: 1,
            head: crate::audit::format::GENESIS_HASH,
            since_checkpoint: 0,
            last_checkpoint: Instant::now(),
            last_witnessed: None,
            last_frame: None,
            indexer: None,
        };
        let opened = if segments.is_empty() {
            writer.create()?
        } else {
            writer.recover(&segments)?
        };
        Ok((writer, opened))
    }

    /// A new journal: its genesis record (written first by the writer thread).
    fn create(&mut self) -> Result<Opened, AuditError> {
        // A reads chain shares its journal's witness: that journal's heads are expected.
        let parent = self.config.parent;
        if let Some(witness) = &self.config.witness
            && let Some(last) = witness
                .heads()?
                .into_iter()
                .rfind(|h| Some(h.journal_id) != parent)
        {
            return Err(AuditError::WitnessMismatch {
                dir: self.config.dir.display().to_string(),
                reason: format!(
                    "the witness recorded heads of journal {} (its last {}:{} at {}) but the directory holds no journal: it was deleted or moved; restore it, or give a new journal a witness of its own",
                    last.journal_id,
                    last.sequence,
                    last.hash,
                    last.at.to_rfc3339()
                ),
            });
        }
        let journal_id = Uuid::now_v7();
        self.journal_id = journal_id;
        self.genesis = Some(self.genesis_record(journal_id));
        Ok(Opened {
            truncation: None,
            journal_id,
            from_checkpoint: false,
            records_read: 0,
            witness_started: false,
        })
    }

    /// The genesis record of journal `journal_id`, written now (signed when a key is
    /// configured).
    fn genesis_record(&self, journal_id: Uuid) -> GenesisRecord {
        let at = (self.config.clock)();
        let (public_key, signature) = match &self.signing {
            Some(key) => {
                let (p, s) = sign(key, &genesis_message(&journal_id, at.timestamp_micros()));
                (Some(p), Some(s))
            }
            None => (None, None),
        };
        GenesisRecord {
            at,
            journal_id,
            public_key,
            signature,
            witnessed: self.config.witness.is_some(),
        }
    }

    /// An existing journal: check from the last confirmed checkpoint (or from the start),
    /// confirm the witness's last head, quarantine a bad final record.
    fn recover(&mut self, segments: &[SegmentFile]) -> Result<Opened, AuditError> {
        let dir = self.config.dir.clone();
        let last_segment = segments.last().ok_or_else(|| {
            AuditError::Closed("the journal's segments disappeared while opening".into())
        })?;
        let journal_id = read_header(last_segment)?.journal_id;
        let witnessed = self.witnessed_head(journal_id)?;
        let verifying = self.signing.as_ref().map(SigningKey::verifying_key);
        let start = match tail_start(
            &dir,
            segments,
            journal_id,
            verifying.as_ref(),
            witnessed.as_ref(),
        ) {
            Ok(start) => Some(start),
            Err(why) => {
                tracing::info!(reason = %why, "audit journal: no confirmed checkpoint to start from; checking the whole journal");
                None
            }
        };
        let from_checkpoint = start.is_some();
        // Whether the journal says it has a witness: its last checkpoint (or genesis).
        let mut says_witnessed = start.as_ref().is_some_and(|(_, _, _, w, _)| *w);
        // Whether it says it is signed: the same record's signature.
        let mut says_signed: Option<String> = start
            .as_ref()
            .and_then(|(_, _, _, _, signed)| signed.clone());
        let mut since_checkpoint = 0u64;
        let mut confirmed = witnessed.as_ref().is_some_and(|w| {
            start
                .as_ref()
                .is_some_and(|(_, _, chain, _, _)| chain.next_sequence > w.sequence)
        });
        let mut mismatch = None;
        let mut last_checkpoint: Option<(usize, u64, u64, [u8; 32])> = None;
        let end = walk(
            &dir,
            start
                .clone()
                .map_or(Start::First, |(segment, offset, chain, _, _)| Start::At {
                    segment,
                    offset,
                    chain,
                }),
            &mut |v| {
                match &v.record {
                    Record::Checkpoint(c) => {
                        says_witnessed = c.witnessed;
                        says_signed = c.public_key.clone();
                    }
                    Record::Genesis(g) => {
                        says_witnessed = g.witnessed;
                        says_signed = g.public_key.clone();
                    }
                    _ => {}
                }
                if matches!(v.record, Record::Checkpoint(_)) {
                    since_checkpoint = 0;
                    last_checkpoint = Some((v.at.segment, v.at.offset, v.sequence, v.hash));
                } else {
                    since_checkpoint += 1;
                }
                if let Some(w) = &witnessed
                    && w.sequence == v.sequence
                {
                    match witnessed_here(&dir, w, v) {
                        Ok(()) => confirmed = true,
                        Err(why) => mismatch = Some(why),
                    }
                }
                None
            },
        )?;
        // A bad final record that is the witnessed head itself (its bytes still give that
        // head: only a checksum is damaged) is accounted for: it goes to quarantine whole,
        // and the truncation record says which head it had.
        let cut_head = match (&end.problem, &end.last) {
            (Some(p), Some(last)) if p.final_record => {
                recomputed_head(&read_tail(&last.file.path, p.offset)?, &end.chain.hash)
            }
            _ => None,
        };
        if mismatch.is_none() && cut_head.is_some() && cut_head == witnessed {
            confirmed = true;
        }
        if end.journal_id.is_some_and(|id| id != journal_id) {
            return Err(AuditError::Damaged {
                segment: last_segment.name.clone(),
                offset: 0,
                sequence: last_segment.first_sequence,
                reason: "the last segment belongs to another journal than the first".into(),
            });
        }
        if let Some(w) = &witnessed
            && !confirmed
        {
            let damaged_final = end
                .problem
                .as_ref()
                .filter(|p| p.final_record && end.chain.next_sequence == w.sequence);
            let reason = mismatch.unwrap_or_else(|| match damaged_final {
                Some(p) => format!(
                    "the witness recorded head {}:{}, the journal's final record (sequence {}, segment {} byte {}), but that record is damaged beyond its checksums ({}): its bytes no longer give the witnessed head, so it cannot be told from a forgery and is not moved to quarantine; restore the segment from a backup",
                    w.sequence,
                    hex::encode(w.hash),
                    p.sequence,
                    p.segment,
                    p.offset,
                    p.reason
                ),
                None => format!(
                    "the witness recorded head {}:{} but the journal ends at sequence {}: records were removed from its end",
                    w.sequence,
                    hex::encode(w.hash),
                    end.chain.next_sequence.saturating_sub(1)
                ),
            });
            return Err(AuditError::WitnessMismatch {
                dir: dir.display().to_string(),
                reason,
            });
        }
        let next = end.chain.next_sequence;
        if !(1..=MAX_SEQUENCE).contains(&next) {
            // Only damage gets here: a journal counts from 1, one record at a time.
            return Err(AuditError::Damaged {
                segment: last_segment.name.clone(),
                offset: 0,
                sequence: next,
                reason: format!(
                    "the journal would continue at sequence {next}, outside 1..={MAX_SEQUENCE}: its segment headers or records were altered"
                ),
            });
        }
        if says_witnessed && self.config.witness.is_none() {
            return Err(AuditError::WitnessMismatch {
                dir: dir.display().to_string(),
                reason: "this journal has a witness (its last checkpoint, or its genesis record, was recorded in one) but none was given: give it ([journal] witness, or --witness FILE); a checkpoint written without it would not be in the witness, and verify would report it as forged".to_string(),
            });
        }
        if let Some(why) = super::super::key_problem(
            says_signed.as_deref(),
            self.signing
                .as_ref()
                .map(SigningKey::verifying_key)
                .as_ref(),
        ) {
            return Err(AuditError::Config(format!(
                "audit journal at {}: {why}",
                dir.display()
            )));
        }
        let witness_started = self.unwitnessed(witnessed.is_none(), &end)?;
        let truncation = self.recover_tail(&end, cut_head)?;
        if !from_checkpoint && let Some((segment, offset, sequence, hash)) = last_checkpoint {
            // The next open starts from here.
            let locator = Locator {
                segment: end.segments[segment].name.clone(),
                offset,
                sequence,
                hash: hex::encode(hash),
            };
            if let Err(e) = locator::write(&dir, &locator) {
                tracing::warn!(error = %e, "audit journal: the checkpoint locator could not be written");
            }
        }
        if let Some(last) = &end.last {
            let file = OpenOptions::new()
                .append(true)
                .open(&last.file.path)
                .map_err(|e| AuditError::io(&last.file.path, "open for appending", e))?;
            self.active = Some(Active {
                file: Arc::new(file),
                path: last.file.path.clone(),
                size: truncation.as_ref().map_or(last.valid_len, |t| t.offset),
                day: micros_to_time(last.header.created_at_micros).date_naive(),
            });
        }
        // Opened from a checkpoint with nothing after it, the walk visited no record: the
        // head is the checkpoint's.
        let head = end.head.or_else(|| {
            (end.chain.next_sequence > 1).then(|| Head {
                sequence: end.chain.next_sequence - 1,
                hash: end.chain.hash,
            })
        });
        if let Some(head) = head {
            self.shared.set_head(head);
        }
        self.journal_id = journal_id;
        if end.chain.next_sequence == 1 {
            // No record survived: the process stopped while creating the journal, after
            // its first segment's header and before its genesis record was durable (or
            // with that record torn, now cut off). The journal starts with its genesis
            // record still, then the truncation record, if any.
            self.genesis = Some(self.genesis_record(journal_id));
        }
        self.next_sequence = end.chain.next_sequence;
        self.head = end.chain.hash;
        self.since_checkpoint = since_checkpoint;
        self.last_witnessed = witnessed;
        Ok(Opened {
            truncation,
            journal_id,
            from_checkpoint,
            records_read: end.records,
            witness_started,
        })
    }

    /// The witness's last head of `journal_id`; an error when the witness holds heads of
    /// other journals only (this one replaced another).
    fn witnessed_head(&self, journal_id: Uuid) -> Result<Option<Head>, AuditError> {
        let Some(witness) = &self.config.witness else {
            return Ok(None);
        };
        if let Some(last) = witness.last_head(journal_id)? {
            return last.head().map(Some).ok_or_else(|| {
                AuditError::Decode(format!(
                    "the witness's head {} is not 64 hex digits",
                    last.hash
                ))
            });
        }
        let heads: Vec<WitnessedHead> = witness.heads()?;
        // A reads chain shares its journal's witness: the journal's heads are not another
        // journal's.
        let parent = self.config.parent;
        match heads.iter().rev().find(|h| Some(h.journal_id) != parent) {
            None => Ok(None),
            Some(other) => Err(AuditError::WitnessMismatch {
                dir: self.config.dir.display().to_string(),
                reason: format!(
                    "the witness holds heads of journal {} (its last {}:{}) but none of this journal {journal_id}: the journal was replaced by another one",
                    other.journal_id, other.sequence, other.hash
                ),
            }),
        }
    }

    /// An existing journal whose configured witness holds nothing: refused (naming the
    /// witness) when it has records beyond its genesis, unless the witness is to be
    /// started ([`FileJournalConfig::start_witness`]); whether to start it.
    fn unwitnessed(&self, holds_nothing: bool, end: &WalkEnd) -> Result<bool, AuditError> {
        let Some(witness) = self.config.witness.as_ref().filter(|_| holds_nothing) else {
            return Ok(false);
        };
        let last = end.chain.next_sequence.saturating_sub(1);
        if self.config.start_witness {
            return Ok(true);
        }
        if last <= 1 {
            // Only the genesis record: the witness starts with the next checkpoint.
            return Ok(false);
        }
        Err(AuditError::WitnessMismatch {
            dir: self.config.dir.display().to_string(),
            reason: format!(
                "the witness {} holds no head of this journal, which has {last} records: the witness is missing or empty (its volume not mounted, or the file deleted), and is not recreated silently; mount or restore it, or, when this journal never had this witness or it is lost for good, start it explicitly (`bcss audit start-witness`, or FileJournalConfig::start_witness): that is journaled, and records before it are then anchored by the chain alone",
                witness.location()
            ),
        })
    }

    /// Quarantine and cut a bad final record; any other problem refuses to open.
    fn recover_tail(
        &self,
        end: &WalkEnd,
        cut_head: Option<Head>,
    ) -> Result<Option<TruncationRecord>, AuditError> {
        let Some(problem) = &end.problem else {
            return Ok(None);
        };
        let Some(last) = end.last.as_ref().filter(|_| problem.final_record) else {
            return Err(problem.to_error());
        };
        let moved = quarantine_and_cut(&self.config.dir, &last.file.path, problem.offset)?;
        let kind = if problem.torn_tail { "torn" } else { "damaged" };
        tracing::warn!(
            segment = %last.file.name,
            offset = problem.offset,
            bytes = moved.bytes,
            kind,
            quarantine = %moved.file,
            "audit journal: moved a bad final record to quarantine and cut it off"
        );
        Ok(Some(TruncationRecord {
            at: (self.config.clock)(),
            segment: last.file.name.clone(),
            offset: problem.offset,
            bytes_cut: moved.bytes,
            cut_sha256: moved.sha256,
            sequence: problem.sequence,
            reason: problem.reason.clone(),
            kind: kind.to_string(),
            quarantine: Some(moved.file),
            cut_head: cut_head.map(|h| h.to_string()),
        }))
    }
}

/// Whether the record `v` is the head `w` the witness recorded at its sequence: the same
/// chain hash, or a truncation record whose quarantined bytes are that very record (a
/// witnessed final record cut off because a checksum was damaged). Why not, otherwise.
fn witnessed_here(dir: &Path, w: &Head, v: &Visit) -> Result<(), String> {
    if w.hash == v.hash {
        return Ok(());
    }
    if let Record::Truncation(t) = &v.record {
        match accounts_for(dir, t, &v.prev_hash, w) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => {
                return Err(format!(
                    "the witness recorded {w} and the truncation record there names its quarantined record, which cannot be read: {e}"
                ));
            }
        }
    }
    Err(format!(
        "the witness recorded {} after sequence {} but the journal has {}: it was rewritten at or before that record",
        hex::encode(w.hash),
        w.sequence,
        hex::encode(v.hash)
    ))
}

/// Where to start walking: just after the checkpoint the locator names, once that
/// checkpoint checks in place (frame, chain hash from the head it claims, journal,
/// signature with the configured key, not older than the witness's last head), and whether
/// that checkpoint was witnessed. The reason when it does not.
fn tail_start(
    dir: &Path,
    segments: &[SegmentFile],
    journal_id: Uuid,
    key: Option<&ed25519_dalek::VerifyingKey>,
    witnessed: Option<&Head>,
) -> Result<(usize, u64, Chain, bool, Option<String>), String> {
    let loc = locator::read(dir)?;
    let index = segments
        .iter()
        .position(|s| s.name == loc.segment)
        .ok_or_else(|| {
            format!(
                "{HEAD_FILE} names segment {} which is not there",
                loc.segment
            )
        })?;
    let frame = read_frame_at(&segments[index].path, loc.offset).map_err(|e| e.to_string())?;
    if frame.header.sequence != loc.sequence || hex::encode(frame.header.hash) != loc.hash {
        return Err(format!(
            "{HEAD_FILE} does not match the record it points at"
        ));
    }
    let Record::Checkpoint(c) = codec::decode(frame.body.clone()).map_err(|e| e.to_string())?
    else {
        return Err(format!("{HEAD_FILE} does not point at a checkpoint"));
    };
    let covered = parse_hash(&c.head).ok_or("the checkpoint's head is not 64 hex digits")?;
    let sequence = frame.header.sequence;
    let computed = chain_hash(
        &covered,
        &canonical_prefix(sequence, frame.header.written_at_micros),
        &sha256(&frame.body),
    );
    if computed != frame.header.hash || c.sequence.saturating_add(1) != sequence {
        return Err("the checkpoint's chain hash does not follow from the head it claims".into());
    }
    if c.journal_id != journal_id {
        return Err("the checkpoint names another journal".into());
    }
    if let Some(key) = key {
        match signing::check_checkpoint(&c, &covered, key) {
            Ok(true) => {}
            Ok(false) => return Err("the checkpoint is not signed by the configured key".into()),
            Err(reason) => return Err(reason),
        }
    }
    if let Some(w) = witnessed {
        if w.sequence < c.sequence {
            return Err("the witness's last head precedes the checkpoint".into());
        }
        if (w.sequence == c.sequence && w.hash != covered)
            || (w.sequence == sequence && w.hash != frame.header.hash)
        {
            return Err("the checkpoint's head differs from the witness's".into());
        }
    }
    Ok((
        index,
        frame.end,
        Chain {
            next_sequence: sequence.saturating_add(1),
            hash: frame.header.hash,
        },
        c.witnessed,
        c.public_key.clone(),
    ))
}

/// Remove temporary files left by a crash: `*.bcj.tmp` (a segment being created, holding
/// only a header), `head.json.tmp`, and `quarantine/*.tmp` (a quarantine copy not renamed
/// yet: the bytes are still in the segment).
fn remove_temporary_files(dir: &Path) -> Result<(), AuditError> {
    let remove = |folder: &Path, is_tmp: &dyn Fn(&str) -> bool| -> Result<(), AuditError> {
        if !folder.is_dir() {
            return Ok(());
        }
        let entries =
            std::fs::read_dir(folder).map_err(|e| AuditError::io(folder, "list directory", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| AuditError::io(folder, "list directory", e))?;
            if entry.file_name().to_str().is_some_and(is_tmp) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|e| AuditError::io(&path, "remove", e))?;
            }
        }
        Ok(())
    };
    remove(dir, &|n| {
        (n.starts_with("seg-") && n.ends_with(".bcj.tmp")) || n == format!("{HEAD_FILE}.tmp")
    })?;
    remove(&dir.join(QUARANTINE_DIR), &|n| n.ends_with(".tmp"))
}
