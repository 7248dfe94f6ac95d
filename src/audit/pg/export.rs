//! `bcss audit export DIR --to postgres://...`: a file journal moved into PostgreSQL as
//! it is: the same sequence numbers, write times, bodies and chain hashes (the database
//! checks every link as it inserts), then verified, to the same head.

use std::path::Path;

use tokio::sync::mpsc;

use super::columns::Columns;
use super::insert::{NewRow, insert_rows, prepare_insert};
use super::read::{fetch_head, open_reader, sql};
use super::{PgLocation, db_error};
use crate::audit::progress::segments_bytes;
use crate::audit::scan::{Issue, SegmentReader, list_segments};
use crate::audit::{AuditError, Head, Progress, VerifyOptions, VerifyReport, codec};

/// Records inserted per transaction.
const BATCH: usize = 1000;

/// What [`export`] did.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// Records copied.
    pub records: u64,
    /// The head both journals end at.
    pub head: Option<Head>,
    /// The PostgreSQL journal's verification, after the copy.
    pub verified: VerifyReport,
}

/// One record read from a segment, ready to insert.
struct Copied {
    sequence: u64,
    written_at_micros: i64,
    hash: [u8; 32],
    body: bytes::Bytes,
    columns: Columns,
    /// Its frame's size in the segment, in bytes (for progress).
    frame_bytes: u64,
}

/// Copy the file journal in `dir` into the empty PostgreSQL journal at `to` (made by
/// [`init`](super::init)). The file journal must verify with `options` first (so a torn
/// tail must be recovered by opening it once); the copy keeps every sequence number and
/// hash and starts where the file journal starts (after a prune, its first kept record).
/// Then the PostgreSQL journal is verified with the same `options` (the same witness
/// confirms both) and its head compared with the file journal's. `progress`, when given,
/// is told about the copy (`export`: records and frame bytes copied, of the segments'
/// total size), once per batch of 1000 records.
///
/// The file journal's write lock is held from before the file journal is verified to
/// the end, so that no record is written into it meanwhile: while an application holds
/// it, this waits up to `lock_wait` (saying so once, as a writer does; see
/// [`LOCK_WAIT_TARGET`](crate::audit::LOCK_WAIT_TARGET)).
///
/// Fails with [`AuditError::Locked`] when the lock is still held after `lock_wait`,
/// [`AuditError::Config`] when the PostgreSQL journal is not empty, and
/// [`AuditError::Damaged`] when either journal does not verify or the heads differ.
pub async fn export(
    dir: &Path,
    to: &PgLocation,
    options: &VerifyOptions,
    lock_wait: std::time::Duration,
    progress: Option<&dyn Progress>,
) -> Result<ExportReport, AuditError> {
    if !dir.is_dir() {
        return Err(AuditError::Config(format!(
            "{} is not a journal directory",
            dir.display()
        )));
    }
    let wait_dir = dir.to_path_buf();
    let _lock = tokio::task::spawn_blocking(move || {
        crate::audit::lock::take(&wait_dir, crate::audit::format::LOCK_FILE, lock_wait)
    })
    .await
    .map_err(|_| AuditError::Closed("waiting for the journal's lock stopped".to_string()))??;
    let source = crate::audit::verify(dir, options)?;
    if let Some(problem) = source.problem {
        return Err(problem.to_error());
    }
    let (Some(journal_id), Some(first)) = (source.journal_id, source.first_sequence) else {
        return Err(AuditError::Config(format!(
            "{} holds no journal to export",
            dir.display()
        )));
    };
    let segments = list_segments(dir)?;
    let prev_hash = match segments.first() {
        Some(s) => crate::audit::scan::read_header(s)?.prev_hash,
        None => crate::audit::chain::GENESIS_HASH,
    };
    let mut connection = open_reader(to).await?;
    if let Some(head) = fetch_head(&connection.client, to).await? {
        return Err(AuditError::Config(format!(
            "{to} already holds journal {} (up to sequence {}): export into an empty journal (a new schema made by `bcss audit init`)",
            head.journal_id,
            head.next_sequence.saturating_sub(1)
        )));
    }
    let first_i = i64::try_from(first).unwrap_or(i64::MAX);
    connection
        .client
        .query_one(
            &sql(to, "SELECT __S__.start_journal($1, $2, $3)"),
            &[&journal_id, &first_i, &&prev_hash[..]],
        )
        .await
        .map_err(|e| db_error(to, "start the journal", &e))?;
    if let Some(p) = progress {
        p.start("export", Some(segments_bytes(&segments)));
    }
    let copied = copy(dir, to, &mut connection.client, progress).await;
    if let Some(p) = progress {
        p.finish();
    }
    let records = copied?;
    drop(connection);
    let verified = super::verify(to, options).await?;
    if let Some(problem) = &verified.problem {
        return Err(problem.to_error());
    }
    if verified.head != source.head {
        return Err(AuditError::Damaged {
            segment: super::records_table(to),
            offset: 0,
            sequence: verified.head.map_or(0, |h| h.sequence),
            reason: format!(
                "the exported journal ends at {} but the file journal at {}",
                verified.head.map_or("nothing".into(), |h| h.to_string()),
                source.head.map_or("nothing".into(), |h| h.to_string())
            ),
        });
    }
    Ok(ExportReport {
        records,
        head: verified.head,
        verified,
    })
}

/// Copy every record of the segments of `dir` into `to` (its journal started), in
/// transactions of [`BATCH`] records, each under the head row's lock. Records copied.
async fn copy(
    dir: &Path,
    to: &PgLocation,
    client: &mut tokio_postgres::Client,
    progress: Option<&dyn Progress>,
) -> Result<u64, AuditError> {
    let insert = prepare_insert(client, to).await?;
    let lock = client
        .prepare(&sql(to, "SELECT next_sequence FROM __S__.lock_head()"))
        .await
        .map_err(|e| db_error(to, "prepare lock_head", &e))?;
    let (tx, mut rx) = mpsc::channel::<Result<Vec<Copied>, AuditError>>(4);
    let dir = dir.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || read_segments(&dir, &tx));
    let mut records = 0u64;
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        let rows: Vec<NewRow<'_>> = batch
            .iter()
            .map(|c| NewRow {
                sequence: c.sequence,
                written_at_micros: c.written_at_micros,
                hash: c.hash,
                body: &c.body,
                columns: &c.columns,
            })
            .collect();
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_error(to, "begin", &e))?;
        tx.query_one(&lock, &[])
            .await
            .map_err(|e| db_error(to, "lock the head row", &e))?;
        insert_rows(&tx, &insert, &rows)
            .await
            .map_err(|e| db_error(to, "insert exported records", &e))?;
        tx.commit()
            .await
            .map_err(|e| db_error(to, "commit exported records", &e))?;
        records += rows.len() as u64;
        if let Some(p) = progress {
            p.advance(rows.len() as u64, batch.iter().map(|c| c.frame_bytes).sum());
        }
    }
    reader
        .await
        .map_err(|_| AuditError::Closed("the segment reader stopped".to_string()))?;
    Ok(records)
}

/// Read every frame of every segment, in batches, into `tx`.
fn read_segments(dir: &Path, tx: &mpsc::Sender<Result<Vec<Copied>, AuditError>>) {
    let send = |batch| tx.blocking_send(batch).is_ok();
    let segments = match list_segments(dir) {
        Ok(s) => s,
        Err(e) => {
            send(Err(e));
            return;
        }
    };
    let mut batch = Vec::with_capacity(BATCH);
    for segment in &segments {
        let mut reader = match SegmentReader::open(segment) {
            Ok((reader, _)) => reader,
            Err(Issue::Io(e)) => {
                send(Err(e));
                return;
            }
            Err(Issue::Bad(bad)) => {
                send(Err(AuditError::Damaged {
                    segment: segment.name.clone(),
                    offset: bad.offset,
                    sequence: segment.first_sequence,
                    reason: bad.reason,
                }));
                return;
            }
        };
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(Issue::Io(e)) => {
                    send(Err(e));
                    return;
                }
                Err(Issue::Bad(bad)) => {
                    send(Err(AuditError::Damaged {
                        segment: segment.name.clone(),
                        offset: bad.offset,
                        sequence: 0,
                        reason: bad.reason,
                    }));
                    return;
                }
            };
            let record = match codec::decode(frame.body.clone()) {
                Ok(r) => r,
                Err(e) => {
                    send(Err(e));
                    return;
                }
            };
            batch.push(Copied {
                sequence: frame.header.sequence,
                written_at_micros: frame.header.written_at_micros,
                hash: frame.header.hash,
                frame_bytes: frame.header.frame_len(),
                body: frame.body,
                columns: Columns::of(&record),
            });
            if batch.len() == BATCH && !send(Ok(std::mem::take(&mut batch))) {
                return;
            }
        }
    }
    if !batch.is_empty() {
        send(Ok(batch));
    }
}
