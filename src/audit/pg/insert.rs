//! Writing rows: the one `INSERT` of a batch (arrays unnested into rows, the subjects as
//! one string each), shared by the writer and the export; and a failed batch's error, copied
//! for each of its callers.

use chrono::{DateTime, Utc};
use tokio_postgres::Statement;

use super::columns::Columns;
use super::read::sql;
use super::{PgLocation, db_error};
use crate::audit::AuditError;

/// A copy of `e` for each caller of a failed batch.
pub(crate) fn duplicate(e: &AuditError) -> AuditError {
    match e {
        AuditError::Database {
            location,
            operation,
            message,
        } => AuditError::Database {
            location: location.clone(),
            operation,
            message: message.clone(),
        },
        AuditError::Io {
            path,
            operation,
            source,
        } => AuditError::Io {
            path: path.clone(),
            operation,
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        AuditError::TooLarge {
            kind,
            bytes,
            limit,
            limit_name,
        } => AuditError::TooLarge {
            kind,
            bytes: *bytes,
            limit: *limit,
            limit_name,
        },
        AuditError::Damaged {
            segment,
            offset,
            sequence,
            reason,
        } => AuditError::Damaged {
            segment: segment.clone(),
            offset: *offset,
            sequence: *sequence,
            reason: reason.clone(),
        },
        AuditError::WitnessMismatch { dir, reason } => AuditError::WitnessMismatch {
            dir: dir.clone(),
            reason: reason.clone(),
        },
        AuditError::Config(m) => AuditError::Config(m.clone()),
        AuditError::Decode(m) => AuditError::Decode(m.clone()),
        AuditError::Encode(m) => AuditError::Encode(m.clone()),
        other => AuditError::Closed(other.to_string()),
    }
}

const INSERT: &str = "INSERT INTO __S__.records (sequence, written_at_micros, hash, body, kind, ticket, user_id, service, decided_at, outcome, subjects, covers_to) \
SELECT s, w, h, b, k, tk, u, sv, d, o, string_to_array(sj, ' '), c FROM unnest($1::int8[], $2::int8[], $3::bytea[], $4::bytea[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::int8[]) AS r(s, w, h, b, k, tk, u, sv, d, o, sj, c)";

/// One row to insert.
pub(crate) struct NewRow<'a> {
    pub sequence: u64,
    pub written_at_micros: i64,
    pub hash: [u8; 32],
    pub body: &'a [u8],
    pub columns: &'a Columns,
}

/// Insert `rows` with one statement (a prepared [`INSERT`]).
pub(crate) async fn insert_rows(
    client: &impl tokio_postgres::GenericClient,
    insert: &Statement,
    rows: &[NewRow<'_>],
) -> Result<u64, tokio_postgres::Error> {
    let n = rows.len();
    let mut seq = Vec::with_capacity(n);
    let mut written = Vec::with_capacity(n);
    let mut hash = Vec::with_capacity(n);
    let mut body = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut ticket = Vec::with_capacity(n);
    let mut user = Vec::with_capacity(n);
    let mut service = Vec::with_capacity(n);
    let mut decided = Vec::with_capacity(n);
    let mut outcome = Vec::with_capacity(n);
    let mut subjects = Vec::with_capacity(n);
    let mut covers = Vec::with_capacity(n);
    for r in rows {
        seq.push(i64::try_from(r.sequence).unwrap_or(i64::MAX));
        written.push(r.written_at_micros);
        hash.push(&r.hash[..]);
        body.push(r.body);
        kind.push(r.columns.kind.as_str());
        ticket.push(r.columns.ticket);
        user.push(r.columns.user_id.as_deref());
        service.push(r.columns.service.as_deref());
        decided.push(
            r.columns
                .decided_at
                .and_then(DateTime::<Utc>::from_timestamp_micros),
        );
        outcome.push(r.columns.outcome.as_deref());
        subjects.push(r.columns.subjects_joined());
        covers.push(r.columns.covers_to);
    }
    client
        .execute(
            insert,
            &[
                &seq, &written, &hash, &body, &kind, &ticket, &user, &service, &decided, &outcome,
                &subjects, &covers,
            ],
        )
        .await
}

/// Prepare the insert statement on `client`.
pub(crate) async fn prepare_insert(
    client: &tokio_postgres::Client,
    location: &PgLocation,
) -> Result<Statement, AuditError> {
    client
        .prepare(&sql(location, INSERT))
        .await
        .map_err(|e| db_error(location, "prepare the insert", &e))
}
