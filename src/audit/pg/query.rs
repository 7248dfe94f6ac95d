//! The advisor's questions on a PostgreSQL journal, through the columns beside the
//! records (indexed: subject, user, service, time, outcome, ticket), never trusting them
//! alone: every record a query returns is read back and checked against the chain (its
//! hash recomputed from the previous record's hash and its body, and the next record's
//! hash from it, or the head row's), its columns checked against its body, and the filter
//! applied again to what the body says.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::columns::subject_key;
use super::connect::Connection;
use super::read::{ROW_COLUMNS, StoredRow, fetch_head, open_reader, row_of, sql};
use super::verify::columns_problem;
use super::{PgHead, PgLocation, db_error, records_table};
use crate::audit::chain::{canonical_prefix, chain_hash, sha256};
use crate::audit::{AuditError, Exchange, QueryFilter, Record, codec};

/// One matching exchange: where its records are.
#[derive(Debug, Clone)]
struct Hit {
    ticket: Uuid,
    first: u64,
    outcome: Option<u64>,
    classification: Option<u64>,
    /// The subjects its decision's column holds (checked against the body when read back).
    subjects: Vec<String>,
}

/// The exchanges a [`query()`] matched, in journal order, read back (and checked) page by
/// page. Holds a read-only snapshot of the journal until dropped.
pub struct PgQueryResult {
    location: PgLocation,
    connection: Connection,
    head: Option<PgHead>,
    hits: Vec<Hit>,
    /// Calls (intents and denials) the index found before the outcome filter.
    pub candidates: u64,
}

impl std::fmt::Debug for PgQueryResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgQueryResult")
            .field("location", &self.location)
            .field("matches", &self.hits.len())
            .field("candidates", &self.candidates)
            .finish_non_exhaustive()
    }
}

/// Builds the index query with only the criteria given.
struct Criteria {
    conditions: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Criteria {
    fn add<T: ToSql + Sync + Send + 'static>(&mut self, condition: &str, value: T) {
        self.params.push(Box::new(value));
        let n = self.params.len();
        self.conditions
            .push(condition.replace("$?", &format!("${n}")));
    }
}

/// What the index is asked for: decisions (intents and denials) by every criterion, or
/// reads by those that apply to them (see [`QueryFilter::matches_read`]: the reader, whom
/// the read was about, its time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    Calls,
    Reads,
}

fn criteria(wanted: Wanted, filter: &QueryFilter) -> Criteria {
    let kinds = match wanted {
        Wanted::Calls => "kind IN ('intent', 'denial')",
        Wanted::Reads => "kind = 'read'",
    };
    let mut c = Criteria {
        conditions: vec![kinds.to_string()],
        params: Vec::new(),
    };
    if let Some(who) = &filter.who {
        c.add("user_id = $?", who.clone());
    }
    if let Some(subject) = &filter.subject {
        c.add("subjects @> ARRAY[$?::text]", subject_key(subject));
    }
    if let Some(since) = filter.since {
        c.add("decided_at >= $?", floor_micros(since));
    }
    if let Some(until) = filter.until {
        c.add("decided_at <= $?", floor_micros(until));
    }
    if wanted == Wanted::Calls {
        if let Some(service) = &filter.service {
            c.add("lower(service) = lower($?)", service.clone());
        }
        if let Some(ticket) = filter.ticket {
            c.add("ticket = $?", ticket);
        }
    }
    c
}

impl Criteria {
    /// The rows of `select`, with `{}` replaced by the conditions.
    async fn query(
        &self,
        connection: &Connection,
        location: &PgLocation,
        select: &str,
    ) -> Result<Vec<tokio_postgres::Row>, AuditError> {
        let text = sql(
            location,
            &select.replace("{}", &self.conditions.join(" AND ")),
        );
        let params: Vec<&(dyn ToSql + Sync)> = self
            .params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        connection
            .client
            .query(&text, &params)
            .await
            .map_err(|e| db_error(location, "query the index", &e))
    }
}

/// A read-only snapshot of the journal at `location`, and its head row then.
async fn snapshot(location: &PgLocation) -> Result<(Connection, Option<PgHead>), AuditError> {
    let connection = open_reader(location).await?;
    connection
        .client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| db_error(location, "begin a snapshot", &e))?;
    let head = fetch_head(&connection.client, location).await?;
    Ok((connection, head))
}

/// The instant at the microsecond (the column's precision): the index never leaves out a
/// record the exact filter keeps; the exact filter is applied to every body read back.
fn floor_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

const JOIN: &str = "SELECT c.sequence, c.ticket, c.kind, o.sequence, o.outcome, k.sequence, k.outcome, c.subjects FROM calls c \
LEFT JOIN LATERAL (SELECT r.sequence, r.outcome FROM __S__.records r WHERE c.kind = 'intent' AND r.ticket = c.ticket AND r.kind = 'outcome' AND r.sequence > c.sequence ORDER BY r.sequence DESC LIMIT 1) o ON true \
LEFT JOIN LATERAL (SELECT r.sequence, r.outcome FROM __S__.records r WHERE c.kind = 'intent' AND r.ticket = c.ticket AND r.kind = 'classification' AND r.sequence > c.sequence ORDER BY r.sequence LIMIT 1) k ON true \
ORDER BY c.sequence";

fn seq(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

/// Find the exchanges in the PostgreSQL journal at `location` matching `filter`, through
/// the indexed columns. The result reads every matching record back, checked, with
/// [`PgQueryResult::exchanges`].
pub async fn query(
    location: &PgLocation,
    filter: &QueryFilter,
) -> Result<PgQueryResult, AuditError> {
    let (connection, head) = snapshot(location).await?;
    let rows = criteria(Wanted::Calls, filter)
        .query(
            &connection,
            location,
            &format!(
                "WITH calls AS (SELECT sequence, ticket, kind, subjects FROM __S__.records WHERE {{}}) {JOIN}"
            ),
        )
        .await?;
    let candidates = rows.len() as u64;
    let mut hits = Vec::new();
    for row in rows {
        let kind: String = row.get(2);
        let outcome: Option<String> = row.get(4);
        let classification: Option<String> = row.get(6);
        let status = match (kind.as_str(), &classification, &outcome) {
            ("denial", _, _) => "denied",
            (_, Some(k), _) => k.as_str(),
            (_, None, Some(o)) => o.as_str(),
            _ => "no_outcome",
        };
        if !filter.matches_status(status) {
            continue;
        }
        let Some(ticket) = row.get::<_, Option<Uuid>>(1) else {
            continue;
        };
        hits.push(Hit {
            ticket,
            first: seq(row.get(0)).unwrap_or(0),
            outcome: seq(row.get(3)),
            classification: seq(row.get(5)),
            subjects: row.get::<_, Option<Vec<String>>>(7).unwrap_or_default(),
        });
    }
    Ok(PgQueryResult {
        location: location.clone(),
        connection,
        head,
        hits,
        candidates,
    })
}

impl PgQueryResult {
    /// How many exchanges matched.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether none matched.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// The subjects (SSINs, as indexed) of the matching exchanges, sorted, without repeats:
    /// whom a reader of this result learns about.
    pub fn subjects(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .hits
            .iter()
            .flat_map(|h| h.subjects.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The journal's last record the query's snapshot covered.
    pub fn head(&self) -> Option<crate::audit::Head> {
        let head = self.head.as_ref()?;
        let sequence = head.next_sequence.checked_sub(1).filter(|s| *s >= 1)?;
        Some(crate::audit::Head {
            sequence,
            hash: head.hash,
        })
    }

    /// The matching tickets, in journal order.
    pub fn tickets(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.hits.iter().map(|h| h.ticket)
    }

    /// The matching exchanges from `start` on (at most `count`), read back and checked.
    /// Fails with [`AuditError::Damaged`] naming the record that does not check.
    pub async fn exchanges(
        &self,
        start: usize,
        count: usize,
        filter: &QueryFilter,
    ) -> Result<Vec<Exchange>, AuditError> {
        let hits = self.hits.iter().skip(start).take(count);
        let hits: Vec<&Hit> = hits.collect();
        let wanted: Vec<i64> = hits
            .iter()
            .flat_map(|h| {
                std::iter::once(h.first)
                    .chain(h.outcome)
                    .chain(h.classification)
            })
            .filter_map(|s| i64::try_from(s).ok())
            .collect();
        let rows = self.rows(&wanted).await?;
        let links = self.links(&wanted).await?;
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let mut exchange = Exchange {
                ticket: hit.ticket,
                denial: None,
                intent: None,
                outcome: None,
                classification: None,
                sequences: Vec::new(),
            };
            for sequence in std::iter::once(hit.first)
                .chain(hit.outcome)
                .chain(hit.classification)
            {
                let row = rows.get(&sequence).ok_or_else(|| {
                    self.damaged(sequence, "the record disappeared while it was read".into())
                })?;
                let record = self.checked(row, &links)?;
                match record {
                    Record::Denial(d) => exchange.denial = Some(d),
                    Record::Intent(i) => exchange.intent = Some(i),
                    Record::Outcome(o) => exchange.outcome = Some(o),
                    Record::Classification(c) => exchange.classification = Some(c),
                    other => {
                        return Err(self.damaged(
                            sequence,
                            format!("a {} record, not part of an exchange", other.kind()),
                        ));
                    }
                }
                exchange.sequences.push(sequence);
            }
            let matches = match (&exchange.denial, &exchange.intent) {
                (Some(d), _) => filter.matches_call(
                    d.ticket,
                    d.decided_at,
                    &d.who,
                    &d.what,
                    d.manifest.as_ref(),
                ),
                (None, Some(i)) => filter.matches_call(
                    i.ticket,
                    i.decided_at,
                    &i.who,
                    &i.what,
                    i.manifest.as_ref(),
                ),
                _ => false,
            };
            if !matches || !filter.matches_status(exchange.status()) {
                return Err(self.damaged(
                    hit.first,
                    "the index returned this exchange but its records do not match the query: the index was altered".into(),
                ));
            }
            out.push(exchange);
        }
        Ok(out)
    }

    fn damaged(&self, sequence: u64, reason: String) -> AuditError {
        AuditError::Damaged {
            segment: records_table(&self.location),
            offset: 0,
            sequence,
            reason,
        }
    }

    async fn rows(&self, sequences: &[i64]) -> Result<HashMap<u64, StoredRow>, AuditError> {
        let text = sql(
            &self.location,
            &format!("SELECT {ROW_COLUMNS} FROM __S__.records WHERE sequence = ANY($1)"),
        );
        let rows = self
            .connection
            .client
            .query(&text, &[&sequences])
            .await
            .map_err(|e| db_error(&self.location, "read records", &e))?;
        rows.iter()
            .map(|r| row_of(r).map(|row| (row.sequence, row)))
            .collect()
    }

    /// For each record's neighbours: sequence to (write time, hash, SHA-256 of the body),
    /// the digest computed by the server.
    async fn links(&self, sequences: &[i64]) -> Result<HashMap<u64, Link>, AuditError> {
        let around: Vec<i64> = sequences
            .iter()
            .flat_map(|s| [s.saturating_sub(1), s.saturating_add(1)])
            .collect();
        let text = sql(
            &self.location,
            "SELECT sequence, written_at_micros, hash, sha256(body) FROM __S__.records WHERE sequence = ANY($1)",
        );
        let rows = self
            .connection
            .client
            .query(&text, &[&around])
            .await
            .map_err(|e| db_error(&self.location, "read neighbouring records", &e))?;
        let mut links = HashMap::new();
        for r in rows {
            let (Some(sequence), Ok(hash), Ok(digest)) = (
                seq(Some(r.get(0))),
                <[u8; 32]>::try_from(r.get::<_, &[u8]>(2)),
                <[u8; 32]>::try_from(r.get::<_, &[u8]>(3)),
            ) else {
                continue;
            };
            links.insert(
                sequence,
                Link {
                    written_at_micros: r.get(1),
                    hash,
                    digest,
                },
            );
        }
        Ok(links)
    }

    /// `row` checked against the chain (from the previous record's hash, and to the next
    /// record's or the head's) and its columns against its body; its record.
    fn checked(&self, row: &StoredRow, links: &HashMap<u64, Link>) -> Result<Record, AuditError> {
        let n = row.sequence;
        let head = self
            .head
            .ok_or_else(|| self.damaged(n, "the journal has no head row".into()))?;
        let prev = if n == head.first_sequence {
            head.first_prev_hash
        } else {
            links.get(&(n - 1)).map(|l| l.hash).ok_or_else(|| {
                self.damaged(
                    n,
                    format!("record {}, which this one chains from, is missing", n - 1),
                )
            })?
        };
        let hash = chain_hash(
            &prev,
            &canonical_prefix(n, row.written_at_micros),
            &sha256(&row.body),
        );
        if hash != row.hash {
            return Err(self.damaged(
                n,
                "the chain hash does not match: this record's body or stored hash, or the record before it, was altered".into(),
            ));
        }
        let next_ok = if n + 1 >= head.next_sequence {
            head.hash == row.hash
        } else {
            links.get(&(n + 1)).is_some_and(|l| {
                chain_hash(
                    &row.hash,
                    &canonical_prefix(n + 1, l.written_at_micros),
                    &l.digest,
                ) == l.hash
            })
        };
        if !next_ok {
            return Err(self.damaged(
                n,
                "the record after this one (or the head row) does not chain from it: this record's hash was rewritten".into(),
            ));
        }
        let record = codec::decode(row.body.clone()).map_err(|e| self.damaged(n, e.to_string()))?;
        if let Some(reason) = columns_problem(row, &record) {
            return Err(self.damaged(n, reason));
        }
        Ok(record)
    }
}

/// What a neighbouring record contributes to a link check.
#[derive(Debug, Clone, Copy)]
struct Link {
    written_at_micros: i64,
    hash: [u8; 32],
    digest: [u8; 32],
}

/// One exchange by ticket, request and reply included, checked; `None` when the ticket is
/// not in the journal.
pub async fn show(location: &PgLocation, ticket: Uuid) -> Result<Option<Exchange>, AuditError> {
    let filter = QueryFilter {
        ticket: Some(ticket),
        ..QueryFilter::default()
    };
    let result = query(location, &filter).await?;
    Ok(result.exchanges(0, 1, &filter).await?.into_iter().next())
}

/// The reads recorded in the PostgreSQL journal at `location` (its `read` records, in
/// chain order) matching `filter` as [`QueryFilter::matches_read`] says: found through the
/// indexed columns (reader, time, the subjects a read showed or was given), each read back
/// and checked against the chain like any record a query returns. Every entry's chain is
/// [`ReadChain::Journal`](crate::audit::ReadChain::Journal).
///
/// Fails with [`AuditError::Damaged`] naming a record that does not check (or that the
/// index returned although it does not match), and [`AuditError::Database`] when the
/// database cannot be read.
pub async fn query_reads(
    location: &PgLocation,
    filter: &QueryFilter,
) -> Result<Vec<crate::audit::ReadEntry>, AuditError> {
    let (connection, head) = snapshot(location).await?;
    let sequences: Vec<i64> = criteria(Wanted::Reads, filter)
        .query(
            &connection,
            location,
            "SELECT sequence FROM __S__.records WHERE {} ORDER BY sequence",
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let result = PgQueryResult {
        location: location.clone(),
        connection,
        head,
        hits: Vec::new(),
        candidates: sequences.len() as u64,
    };
    let mut out = Vec::with_capacity(sequences.len());
    for page in sequences.chunks(PAGE) {
        let rows = result.rows(page).await?;
        let links = result.links(page).await?;
        for &sequence in page {
            let Some(sequence) = seq(Some(sequence)) else {
                continue;
            };
            let row = rows.get(&sequence).ok_or_else(|| {
                result.damaged(sequence, "the record disappeared while it was read".into())
            })?;
            let record = match result.checked(row, &links)? {
                Record::Read(r) if filter.matches_read(&r) => r,
                _ => {
                    return Err(result.damaged(
                        sequence,
                        "the index returned this read but the record does not match the query: the index was altered".into(),
                    ));
                }
            };
            out.push(crate::audit::ReadEntry {
                chain: crate::audit::ReadChain::Journal,
                sequence,
                record,
            });
        }
    }
    Ok(out)
}

/// Reads read back (and checked) per round trip.
const PAGE: usize = 500;
