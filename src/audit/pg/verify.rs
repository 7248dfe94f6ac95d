//! Verifying a PostgreSQL journal with the checks every backend shares: each row linked
//! with [`Chain::link`], decoded with the record codec and handed to the checks of
//! `verify` (genesis, checkpoints and signatures, prunes and the 10-year rule, the
//! witness, a trusted head); beside them, what only this backend has: the head row, and
//! the columns kept beside each record (an index, which must match the body).
//!
//! Also the check made when a journal is opened for writing: the last checkpoint in place
//! and only the records after it.

use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use uuid::Uuid;

use super::columns::Columns;
use super::read::{StoredRow, fetch_head, fetch_rows, open_reader};
use super::{PgHead, PgLocation, db_error, records_table};
use crate::audit::chain::{Chain, Location, Visit, canonical_prefix, chain_hash, sha256};
use crate::audit::signing::{check_checkpoint, parse_hash};
use crate::audit::verify::Checker;
use crate::audit::{
    AuditError, Head, Problem, Record, VerifyOptions, VerifyReport, Witness, WitnessedHead, codec,
};

/// Rows read per query.
const PAGE: i64 = 2000;

fn at(sequence: u64) -> Location {
    Location {
        segment: 0,
        offset: sequence,
    }
}

async fn witness_call<T: Send + 'static>(
    witness: Arc<dyn Witness>,
    call: impl FnOnce(&dyn Witness) -> Result<T, AuditError> + Send + 'static,
) -> Result<T, AuditError> {
    tokio::task::spawn_blocking(move || call(witness.as_ref()))
        .await
        .map_err(|_| AuditError::Closed("the witness task stopped".to_string()))?
}

/// Begin a read-only snapshot: the head row and every record as of one instant.
async fn snapshot(
    client: &tokio_postgres::Client,
    location: &PgLocation,
) -> Result<(), AuditError> {
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| db_error(location, "begin a snapshot", &e))
}

/// What is wrong with `row`'s columns, when they do not match its record.
pub(crate) fn columns_problem(row: &StoredRow, record: &Record) -> Option<String> {
    let expected = Columns::of(record);
    (expected != row.columns).then(|| {
        format!(
            "the columns kept beside this {} record (its index) do not match its body: they were altered",
            record.kind()
        )
    })
}

/// Verify the PostgreSQL journal at `location`, as [`verify()`](crate::audit::verify())
/// verifies a directory: every record's link and body from the first kept one, the
/// genesis record, checkpoints and their signatures, prunes and the 10-year rule, the
/// witness's heads and a trusted head; and, for this backend, that the head row ends the
/// chain where the records do and that the columns beside each record match its body.
/// Reads one consistent snapshot, while other processes go on appending.
///
/// Problems name the records table as their `segment`, offset 0, and the sequence number.
/// `Err` only when the database or the witness cannot be read.
pub async fn verify(
    location: &PgLocation,
    options: &VerifyOptions,
) -> Result<VerifyReport, AuditError> {
    let witness_heads = match &options.witness {
        Some(w) => witness_call(Arc::clone(w), |w| w.heads()).await?,
        None => Vec::new(),
    };
    let connection = open_reader(location).await?;
    let client = &connection.client;
    snapshot(client, location).await?;
    let head = fetch_head(client, location).await?;
    let problem_at = |sequence: u64, reason: String| Problem {
        segment: records_table(location),
        offset: 0,
        sequence,
        reason,
        torn_tail: false,
        final_record: false,
    };
    let mut report = VerifyReport {
        records: 0,
        segments: 0,
        journal_id: head.map(|h| h.journal_id),
        first_sequence: None,
        anchored_at: None,
        attested_by_prune: None,
        head: None,
        genesis_signed: false,
        checkpoints: 0,
        signed_checkpoints: 0,
        last_signed_checkpoint: None,
        trusted_head_confirmed: false,
        witnessed_heads_confirmed: 0,
        last_witnessed_head: None,
        first_witnessed_head: None,
        unanchored: None,
        prunes: 0,
        truncations: 0,
        quarantined: Vec::new(),
        intents_without_outcome: Vec::new(),
        unapproved_decisions: Vec::new(),
        reads: None,
        problem: None,
    };
    let Some(head) = head else {
        if let Some(last) = witness_heads.last() {
            report.problem = Some(problem_at(
                1,
                format!(
                    "the journal is empty but the witness recorded heads of journal {} (its last {}:{}): the journal was deleted",
                    last.journal_id, last.sequence, last.hash
                ),
            ));
        } else if options.witness.is_none() && options.trusted_head.is_none() {
            report.unanchored = Some("no witness and no trusted head".to_string());
        }
        return Ok(report);
    };
    let mut checker = Checker::new(options, &witness_heads, head.journal_id);
    checker.start(
        at(head.first_sequence),
        head.first_sequence,
        head.first_prev_hash,
    );
    report.first_sequence = Some(head.first_sequence);
    let mut chain = Chain {
        next_sequence: head.first_sequence,
        hash: head.first_prev_hash,
    };
    let mut problem = None;
    // The bar's total: the bodies' sizes in this snapshot (a query of its own, asked only
    // when a bar is drawn; the sizes come from the rows, the bodies are not read).
    let progress = options.progress.as_deref();
    if let Some(p) = progress {
        let total: Option<i64> = client
            .query_one(
                &super::read::sql(
                    location,
                    "SELECT sum(octet_length(body))::bigint FROM __S__.records",
                ),
                &[],
            )
            .await
            .ok()
            .and_then(|row| row.get(0));
        p.start("verify", total.and_then(|t| u64::try_from(t).ok()));
    }
    'pages: loop {
        let rows = fetch_rows(client, location, chain.next_sequence, PAGE).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            if row.sequence >= head.next_sequence && chain.next_sequence == head.next_sequence {
                problem = Some(problem_at(
                    head.next_sequence,
                    format!(
                        "the head row says the chain ends at sequence {} ({}), but record {} follows: the head row was rewound",
                        head.next_sequence.saturating_sub(1),
                        hex::encode(head.hash),
                        row.sequence
                    ),
                ));
                break 'pages;
            }
            let prev_hash = chain.hash;
            if let Err(reason) = chain.link(&row.stored()) {
                let sequence = if reason.starts_with("expected") {
                    chain.next_sequence
                } else {
                    row.sequence
                };
                problem = Some(problem_at(sequence, reason));
                break 'pages;
            }
            let undo = |chain: &mut Chain| {
                *chain = Chain {
                    next_sequence: row.sequence,
                    hash: prev_hash,
                }
            };
            let record = match codec::decode(row.body.clone()) {
                Ok(record) => record,
                Err(e) => {
                    undo(&mut chain);
                    problem = Some(problem_at(row.sequence, e.to_string()));
                    break 'pages;
                }
            };
            if let Some(reason) = columns_problem(&row, &record) {
                undo(&mut chain);
                problem = Some(problem_at(row.sequence, reason));
                break 'pages;
            }
            let visit = Visit {
                at: at(row.sequence),
                sequence: row.sequence,
                written_at_micros: row.written_at_micros,
                prev_hash,
                hash: row.hash,
                len: row.body.len() as u64,
                record,
            };
            if let Some(p) = progress {
                p.advance(1, visit.len);
            }
            if let Err(reason) = checker.record(&visit) {
                undo(&mut chain);
                problem = Some(problem_at(row.sequence, reason));
                break 'pages;
            }
            report.records += 1;
            report.head = Some(Head {
                sequence: row.sequence,
                hash: row.hash,
            });
        }
    }
    if let Some(p) = progress {
        p.finish();
    }
    if problem.is_none() {
        problem = head_row_problem(&head, &chain).map(|(s, r)| problem_at(s, r));
    }
    let (gathered, found) = checker.finish(at(chain.next_sequence), chain.next_sequence);
    if problem.is_none()
        && let Some(f) = found
    {
        problem = Some(problem_at(f.sequence, f.reason));
    }
    if problem.is_none()
        && options.require_anchor
        && let Some(why) = &gathered.unanchored
    {
        problem = Some(problem_at(
            chain.next_sequence,
            format!("the journal is not anchored ({why}), and an anchor is required"),
        ));
    }
    let _ = client.batch_execute("COMMIT").await;
    report.anchored_at = gathered.attested_by_prune.and(report.first_sequence);
    report.attested_by_prune = gathered.attested_by_prune;
    report.genesis_signed = gathered.genesis_signed;
    report.checkpoints = gathered.checkpoints;
    report.signed_checkpoints = gathered.signed_checkpoints;
    report.last_signed_checkpoint = gathered.last_signed_checkpoint;
    report.trusted_head_confirmed = gathered.trusted_head_confirmed;
    report.witnessed_heads_confirmed = gathered.witnessed_heads_confirmed;
    report.last_witnessed_head = gathered.last_witnessed;
    report.first_witnessed_head = gathered.first_witnessed;
    report.unanchored = gathered.unanchored;
    report.prunes = gathered.prunes;
    report.truncations = gathered.truncations.len() as u64;
    report.intents_without_outcome = gathered.intents_without_outcome;
    report.unapproved_decisions = gathered.unapproved_decisions;
    report.problem = problem;
    Ok(report)
}

/// Where the head row disagrees with the records read up to it.
fn head_row_problem(head: &PgHead, chain: &Chain) -> Option<(u64, String)> {
    if chain.next_sequence < head.next_sequence {
        return Some((
            chain.next_sequence,
            format!(
                "the head row says the chain ends at sequence {}, but the records end at {}: records were removed from its end",
                head.next_sequence.saturating_sub(1),
                chain.next_sequence.saturating_sub(1)
            ),
        ));
    }
    if chain.hash != head.hash {
        return Some((
            head.next_sequence.saturating_sub(1),
            format!(
                "the head row's hash {} is not the chain's {} after the last record: the head row was altered",
                hex::encode(head.hash),
                hex::encode(chain.hash)
            ),
        ));
    }
    None
}

fn damaged(location: &PgLocation, sequence: u64, reason: String) -> AuditError {
    AuditError::Damaged {
        segment: records_table(location),
        offset: 0,
        sequence,
        reason,
    }
}

/// Where opening starts checking: just after the checkpoint the head row names, once that
/// checkpoint checks in place (its link from the head it claims, its journal, its
/// signature with the configured key, not older than the witness's last head).
fn checkpoint_start(
    row: &StoredRow,
    journal_id: Uuid,
    key: Option<&VerifyingKey>,
    witnessed: Option<&Head>,
) -> Result<Chain, String> {
    let Record::Checkpoint(c) = codec::decode(row.body.clone()).map_err(|e| e.to_string())? else {
        return Err("the head row's last checkpoint is not a checkpoint".into());
    };
    let covered = parse_hash(&c.head).ok_or("the checkpoint's head is not 64 hex digits")?;
    let computed = chain_hash(
        &covered,
        &canonical_prefix(row.sequence, row.written_at_micros),
        &sha256(&row.body),
    );
    if computed != row.hash || c.sequence.saturating_add(1) != row.sequence {
        return Err("the checkpoint's chain hash does not follow from the head it claims".into());
    }
    if c.journal_id != journal_id {
        return Err("the checkpoint names another journal".into());
    }
    if let Some(key) = key {
        match check_checkpoint(&c, &covered, key) {
            Ok(true) => {}
            Ok(false) => return Err("the checkpoint is not signed by the configured key".into()),
            Err(reason) => return Err(reason),
        }
    }
    if let Some(w) = witnessed
        && w.sequence < c.sequence
    {
        return Err("the witness's last head precedes the checkpoint".into());
    }
    Ok(Chain {
        next_sequence: row.sequence + 1,
        hash: row.hash,
    })
}

/// The witness's last head of `journal_id`; an error when it holds other journals' only.
async fn witnessed_head(
    location: &PgLocation,
    witness: Option<Arc<dyn Witness>>,
    journal_id: Uuid,
) -> Result<Option<Head>, AuditError> {
    let Some(witness) = witness else {
        return Ok(None);
    };
    let last = witness_call(Arc::clone(&witness), move |w| w.last_head(journal_id)).await?;
    if let Some(last) = last {
        return last.head().map(Some).ok_or_else(|| {
            AuditError::Decode(format!(
                "the witness's head {} is not 64 hex digits",
                last.hash
            ))
        });
    }
    let heads: Vec<WitnessedHead> = witness_call(witness, |w| w.heads()).await?;
    // This journal's head may have been recorded since `last_head` was asked.
    if let Some(own) = heads.iter().rev().find(|h| h.journal_id == journal_id) {
        return own.head().map(Some).ok_or_else(|| {
            AuditError::Decode(format!(
                "the witness's head {} is not 64 hex digits",
                own.hash
            ))
        });
    }
    match heads.last() {
        None => Ok(None),
        Some(other) => Err(AuditError::WitnessMismatch {
            dir: location.to_string(),
            reason: format!(
                "the witness holds heads of journal {} (its last {}:{}) but none of this journal {journal_id}: the journal was replaced by another one",
                other.journal_id, other.sequence, other.hash
            ),
        }),
    }
}

/// The key of a journal's genesis lock: a PostgreSQL advisory lock (one per schema) that
/// the process writing a new journal's genesis holds until its head is in the witness,
/// and that opening with a witness takes (shared) while it reads the witness and the
/// journal. Derived from the schema's name; advisory locks need no grant.
pub(crate) fn genesis_lock(location: &PgLocation) -> i64 {
    let digest =
        crate::audit::chain::sha256(format!("bcss genesis {}", location.schema()).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// What opening for writing found at the journal's end.
pub(crate) struct Tail {
    /// Records checked (those after the last checkpoint).
    pub checked: u64,
    /// The witness is to be started: it holds no head of this journal, and
    /// `start_witness` was asked.
    pub start_witness: bool,
}

/// The check made when opening for writing: the last checkpoint in place, then only the
/// records after it up to the head row (the whole journal when that checkpoint does not
/// check), and the witness's last head. A journal whose last checkpoint (or genesis) says
/// it has a witness is refused without one; a journal with records beyond its genesis
/// whose given witness holds no head of it is refused unless `start_witness` (then
/// [`Tail::start_witness`] says to start it), as the file journal does.
pub(crate) async fn check_tail(
    client: &tokio_postgres::Client,
    location: &PgLocation,
    journal_id: Uuid,
    key: Option<VerifyingKey>,
    witness: Option<Arc<dyn Witness>>,
    start_witness: bool,
) -> Result<Tail, AuditError> {
    let witness_location = witness.as_ref().map(|w| w.location());
    let signing = key;
    // With a witness: the witness's last head and the snapshot are read under the genesis
    // lock (shared), so never between a new journal's genesis and its head in the witness.
    let genesis_key = genesis_lock(location);
    if witness.is_some() {
        client
            .execute("SELECT pg_advisory_lock_shared($1)", &[&genesis_key])
            .await
            .map_err(|e| db_error(location, "take the genesis lock", &e))?;
    }
    let checked = async {
        let witnessed = witnessed_head(location, witness.clone(), journal_id).await?;
        snapshot(client, location).await?;
        let end = check_tail_in_snapshot(client, location, journal_id, key, witnessed).await;
        Ok::<_, AuditError>((witnessed, end))
    }
    .await;
    if witness.is_some() {
        let _ = client
            .execute("SELECT pg_advisory_unlock_shared($1)", &[&genesis_key])
            .await;
    }
    let (witnessed, result) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e);
        }
    };
    let result = result.and_then(|end| {
        if let Some(why) = crate::audit::key_problem(end.says_signed.as_deref(), signing.as_ref()) {
            return Err(AuditError::Config(format!("{location}: {why}")));
        }
        let mismatch = |reason: String| AuditError::WitnessMismatch {
            dir: location.to_string(),
            reason,
        };
        let Some(witness_location) = witness_location else {
            if end.says_witnessed {
                return Err(mismatch("this journal has a witness (its last checkpoint, or its genesis record, was recorded in one) but none was given: give it ([journal] witness, or --witness FILE or postgres://...?schema=NAME); a checkpoint written without it would not be in the witness, and verify would report it as forged".to_string()));
            }
            return Ok(Tail {
                checked: end.checked,
                start_witness: false,
            });
        };
        let holds_nothing = witnessed.is_none();
        let start = holds_nothing && start_witness;
        if holds_nothing && !start_witness && end.last_sequence > 1 {
            let why = if end.says_witnessed {
                "the witness is missing or empty (another database or schema, or its heads lost), and is not recreated silently; restore it, or, when it is lost for good, start a new one explicitly"
            } else {
                "this journal was written without a witness (its last checkpoint, or its genesis record, says so); a witness is added to an existing journal only explicitly"
            };
            return Err(mismatch(format!(
                "the witness {witness_location} holds no head of this journal, which has {} records: {why}: `bcss audit start-witness {location} --witness {witness_location}` (or PgJournalConfig::start_witness), which is journaled; records before it are then anchored by the chain alone",
                end.last_sequence
            )));
        }
        Ok(Tail {
            checked: end.checked,
            start_witness: start,
        })
    });
    let _ = client.batch_execute("COMMIT").await;
    result
}

/// What [`check_tail_in_snapshot`] found.
struct TailEnd {
    checked: u64,
    says_witnessed: bool,
    /// The public key (hex) the last checkpoint (or the genesis record) is signed with.
    says_signed: Option<String>,
    /// The last record's sequence number (0: none).
    last_sequence: u64,
}

async fn check_tail_in_snapshot(
    client: &tokio_postgres::Client,
    location: &PgLocation,
    journal_id: Uuid,
    key: Option<VerifyingKey>,
    witnessed: Option<Head>,
) -> Result<TailEnd, AuditError> {
    let Some(head) = fetch_head(client, location).await? else {
        return Ok(TailEnd {
            checked: 0,
            says_witnessed: false,
            says_signed: None,
            last_sequence: 0,
        });
    };
    // Whether the journal says it has a witness and a signing key: its last checkpoint's
    // (or, before one, its genesis record's) flag and signature, as the records checked
    // below say.
    let mut says_witnessed = false;
    let mut says_signed: Option<String> = None;
    let mut witnessed_flag = |record: &Record| match record {
        Record::Checkpoint(c) => {
            says_witnessed = c.witnessed;
            says_signed = c.public_key.clone();
        }
        Record::Genesis(g) => {
            says_witnessed = g.witnessed;
            says_signed = g.public_key.clone();
        }
        _ => {}
    };
    let mismatch = |reason: String| AuditError::WitnessMismatch {
        dir: location.to_string(),
        reason,
    };
    if let Some(w) = &witnessed
        && w.sequence >= head.next_sequence
    {
        return Err(mismatch(format!(
            "the witness recorded head {}:{} but the journal ends at sequence {}: records were removed from its end, or the journal was replaced",
            w.sequence,
            hex::encode(w.hash),
            head.next_sequence.saturating_sub(1)
        )));
    }
    let mut chain = Chain {
        next_sequence: head.first_sequence,
        hash: head.first_prev_hash,
    };
    let cp = head.last_checkpoint_sequence;
    if cp >= head.first_sequence && cp > 0 {
        let rows = fetch_rows(client, location, cp, 1).await?;
        match rows.first().filter(|r| r.sequence == cp) {
            Some(row) => {
                match checkpoint_start(row, journal_id, key.as_ref(), witnessed.as_ref()) {
                    Ok(start) => {
                        chain = start;
                        if let Ok(record) = codec::decode(row.body.clone()) {
                            witnessed_flag(&record);
                        }
                    }
                    Err(reason) => {
                        tracing::info!(%reason, "PostgreSQL journal: the last checkpoint does not check; checking the whole journal");
                    }
                }
            }
            None => tracing::info!(
                "PostgreSQL journal: the head row's last checkpoint is missing; checking the whole journal"
            ),
        }
    }
    if let Some(w) = &witnessed
        && w.sequence < chain.next_sequence
        && w.sequence >= head.first_sequence
    {
        let rows = fetch_rows(client, location, w.sequence, 1).await?;
        if rows
            .first()
            .is_none_or(|r| r.sequence != w.sequence || r.hash != w.hash)
        {
            return Err(mismatch(format!(
                "the witness recorded head {}:{} but the journal holds another record there: it was rewritten",
                w.sequence,
                hex::encode(w.hash)
            )));
        }
    }
    let mut checked = 0u64;
    while chain.next_sequence < head.next_sequence {
        let rows = fetch_rows(client, location, chain.next_sequence, PAGE).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            if row.sequence >= head.next_sequence {
                break;
            }
            chain
                .link(&row.stored())
                .map_err(|reason| damaged(location, row.sequence, reason))?;
            let record = codec::decode(row.body.clone())
                .map_err(|e| damaged(location, row.sequence, e.to_string()))?;
            witnessed_flag(&record);
            if let Some(w) = &witnessed
                && w.sequence == row.sequence
                && w.hash != row.hash
            {
                return Err(mismatch(format!(
                    "the chain hash after record {} is {}, but the witness recorded {}: the journal was rewritten",
                    row.sequence,
                    hex::encode(row.hash),
                    hex::encode(w.hash)
                )));
            }
            checked += 1;
        }
    }
    if let Some((sequence, reason)) = head_row_problem(&head, &chain) {
        return Err(damaged(location, sequence, reason));
    }
    Ok(TailEnd {
        checked,
        says_witnessed,
        says_signed,
        last_sequence: head.next_sequence.saturating_sub(1),
    })
}
