//! Retention on PostgreSQL: the oldest records, older than both a date and 10 years, are
//! removed by the schema's `prune()` function once a prune record attesting them (and a
//! checkpoint after it, signed and witnessed) is in the chain. The database refuses to
//! delete any record that record does not attest or that is not 10 years older than it.

use chrono::{DateTime, Months, Utc};

use super::journal::{PgJournal, PgJournalConfig};
use super::read::{fetch_head, open_reader, sql};
use super::{PgLocation, db_error};
use crate::audit::format::micros_to_time;
use crate::audit::prune::RETENTION_MONTHS;
use crate::audit::{AuditError, PruneRecord, Record, VerifyOptions};

/// What [`prune()`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgPruneReport {
    /// The effective cut-off: the earlier of `before` and 10 years before now.
    pub cutoff: DateTime<Utc>,
    /// Records removed.
    pub records_removed: u64,
    /// The first sequence number left.
    pub first_remaining_sequence: Option<u64>,
    /// The prune record's sequence number, when records were removed.
    pub prune_record: Option<u64>,
    /// Why nothing (more) was removed.
    pub kept_because: Option<String>,
}

/// Remove the oldest records of the journal `config` names whose every record is older
/// than both `before` and 10 years before now (the configuration's clock), never the last
/// record. The journal must verify first (a damaged journal is kept whole, as evidence).
/// The prune record and a checkpoint after it (signed with `config.signing_key`, recorded
/// in `config.witness`) are committed before anything is removed. Run it as the role that
/// owns the schema: only it may run `prune()`.
pub async fn prune(
    config: PgJournalConfig,
    before: DateTime<Utc>,
) -> Result<PgPruneReport, AuditError> {
    let location = config.location.clone();
    let now = (config.clock)();
    let report = super::verify(&location, &VerifyOptions::default()).await?;
    if let Some(problem) = report.problem {
        return Err(problem.to_error());
    }
    let journal = PgJournal::open(config).await?;
    let result = prune_open(&journal, &location, before, now).await;
    let closed = journal.close().await;
    let result = result?;
    closed?;
    Ok(result)
}

/// [`prune()`], kept for symmetry with the file journal's `prune_at`: `now` is the
/// configuration's clock.
pub async fn prune_at(
    config: PgJournalConfig,
    before: DateTime<Utc>,
) -> Result<PgPruneReport, AuditError> {
    prune(config, before).await
}

async fn prune_open(
    journal: &PgJournal,
    location: &PgLocation,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PgPruneReport, AuditError> {
    let ten_years_ago = now
        .checked_sub_months(Months::new(RETENTION_MONTHS))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let cutoff = before.min(ten_years_ago);
    let connection = open_reader(location).await?;
    let client = &connection.client;
    let may_prune: bool = client
        .query_one(
            &sql(
                location,
                "SELECT has_function_privilege(current_user, '__S__.prune(bigint)', 'EXECUTE')",
            ),
            &[],
        )
        .await
        .map_err(|e| db_error(location, "check the right to prune", &e))?
        .get(0);
    if !may_prune {
        return Err(AuditError::Config(format!(
            "{location}: permission denied for {}.prune(): connect as the role that owns the journal's schema (nothing was written)",
            location.schema()
        )));
    }
    let head = fetch_head(client, location)
        .await?
        .ok_or_else(|| AuditError::Config(format!("{location}: the journal is empty")))?;
    let mut report = PgPruneReport {
        cutoff,
        records_removed: 0,
        first_remaining_sequence: Some(head.first_sequence),
        prune_record: None,
        kept_because: None,
    };
    let first_kept: Option<i64> = client
        .query_one(
            &sql(
                location,
                "SELECT min(sequence) FROM __S__.records WHERE written_at_micros >= $1",
            ),
            &[&cutoff.timestamp_micros()],
        )
        .await
        .map_err(|e| db_error(location, "find the records to keep", &e))?
        .get(0);
    let last_record = head.next_sequence.saturating_sub(1);
    let bound = first_kept
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(u64::MAX)
        .min(last_record);
    let Some(last) = bound.checked_sub(1).filter(|l| *l >= head.first_sequence) else {
        report.kept_because = Some(if bound == last_record {
            "the last record is never removed".to_string()
        } else {
            format!(
                "record {} was written at or after the cut-off {}",
                bound,
                cutoff.to_rfc3339()
            )
        });
        return Ok(report);
    };
    let to = i64::try_from(last).unwrap_or(i64::MAX);
    let from = i64::try_from(head.first_sequence).unwrap_or(i64::MAX);
    let row = client
        .query_one(
            &sql(
                location,
                "SELECT min(written_at_micros), max(written_at_micros), (SELECT hash FROM __S__.records WHERE sequence = $2) FROM __S__.records WHERE sequence BETWEEN $1 AND $2",
            ),
            &[&from, &to],
        )
        .await
        .map_err(|e| db_error(location, "read the records to remove", &e))?;
    let (oldest, newest): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
    let last_hash: Option<Vec<u8>> = row.get(2);
    let (Some(oldest), Some(newest), Some(last_hash)) = (oldest, newest, last_hash) else {
        return Err(AuditError::Decode(format!(
            "records {from}..={to} are not all there"
        )));
    };
    let record = Record::Prune(PruneRecord {
        at: now,
        journal_id: journal.journal_id(),
        cutoff,
        segments: Vec::new(),
        first_sequence: head.first_sequence,
        last_sequence: last,
        last_hash: hex::encode(last_hash),
        oldest_at: micros_to_time(oldest),
        newest_at: micros_to_time(newest),
        retention_months: RETENTION_MONTHS,
    });
    let appended = journal.append_own(record).await?;
    let prune_sequence = i64::try_from(appended.sequence).unwrap_or(i64::MAX);
    let removed: i64 = client
        .query_one(&sql(location, "SELECT __S__.prune($1)"), &[&prune_sequence])
        .await
        .map_err(|e| db_error(location, "prune", &e))?
        .get(0);
    report.records_removed = u64::try_from(removed).unwrap_or(0);
    report.prune_record = Some(appended.sequence);
    report.first_remaining_sequence = Some(last + 1);
    Ok(report)
}
