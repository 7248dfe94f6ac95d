//! [`PgWitness`]: a journal's heads kept in a table of the database (`heads`, in the
//! witness's own schema) that the application's role can insert into and read, never
//! update or delete (a trigger refuses it, to the owner too).

use uuid::Uuid;

use super::connect::connect;
use super::{PgLocation, db_error};
use crate::audit::{AuditError, Witness, WitnessedHead};

/// A witness in PostgreSQL: the `heads` table of `location`'s schema (made by
/// [`init`](super::init), by default `<journal schema>_witness`). It protects the journal
/// against whoever can rewrite the journal's rows but not this table: give it another
/// schema owned by another role, or another database
/// (`witness = "postgres://witness_writer@other-db/audit?schema=bcss_witness"`).
///
/// Each call connects, runs one statement and disconnects, on a thread of its own (the
/// [`Witness`] trait is synchronous); heads are recorded at checkpoints and at close only.
#[derive(Debug, Clone)]
pub struct PgWitness {
    location: PgLocation,
}

impl PgWitness {
    /// The witness in `location`'s schema.
    pub fn new(location: PgLocation) -> PgWitness {
        PgWitness { location }
    }

    /// Where it is.
    pub fn location(&self) -> &PgLocation {
        &self.location
    }

    fn block<T: Send>(
        &self,
        run: impl FnOnce(PgLocation) -> Result<T, AuditError> + Send,
    ) -> Result<T, AuditError> {
        let location = self.location.clone();
        std::thread::scope(|s| {
            s.spawn(move || run(location))
                .join()
                .unwrap_or_else(|_| Err(AuditError::Closed("the witness thread stopped".into())))
        })
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AuditError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AuditError::Closed(format!("cannot start the witness's runtime: {e}")))
}

const COLUMNS: &str = "journal_id, sequence, hash, at, reason, public_key, signature";

fn head_of(row: &tokio_postgres::Row) -> WitnessedHead {
    let sequence: i64 = row.get(1);
    WitnessedHead {
        journal_id: row.get(0),
        sequence: u64::try_from(sequence).unwrap_or(0),
        hash: row.get(2),
        at: row.get(3),
        reason: row.get(4),
        public_key: row.get(5),
        signature: row.get(6),
    }
}

async fn select(
    location: &PgLocation,
    filter: &str,
    journal_id: Option<Uuid>,
) -> Result<Vec<WitnessedHead>, AuditError> {
    let connection = connect(location).await?;
    let text = format!("SELECT {COLUMNS} FROM {}.heads {filter}", location.schema());
    let rows = match journal_id {
        Some(id) => connection.client.query(&text, &[&id]).await,
        None => connection.client.query(&text, &[]).await,
    }
    .map_err(|e| db_error(location, "read the witness", &e))?;
    Ok(rows.iter().map(head_of).collect())
}

impl Witness for PgWitness {
    fn location(&self) -> String {
        self.location.to_string()
    }

    fn record(&self, head: &WitnessedHead) -> Result<(), AuditError> {
        let head = head.clone();
        self.block(move |location| {
            runtime()?.block_on(async {
                let connection = connect(&location).await?;
                let sequence = i64::try_from(head.sequence).unwrap_or(i64::MAX);
                connection
                    .client
                    .execute(
                        &format!(
                            "INSERT INTO {}.heads ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            location.schema()
                        ),
                        &[
                            &head.journal_id,
                            &sequence,
                            &head.hash,
                            &head.at,
                            &head.reason,
                            &head.public_key,
                            &head.signature,
                        ],
                    )
                    .await
                    .map_err(|e| db_error(&location, "record the head in the witness", &e))?;
                Ok(())
            })
        })
    }

    fn heads(&self) -> Result<Vec<WitnessedHead>, AuditError> {
        self.block(|location| runtime()?.block_on(select(&location, "ORDER BY id", None)))
    }

    fn last_head(&self, journal_id: Uuid) -> Result<Option<WitnessedHead>, AuditError> {
        self.block(move |location| {
            runtime()?.block_on(async {
                let heads = select(
                    &location,
                    "WHERE journal_id = $1 ORDER BY sequence DESC, id DESC LIMIT 1",
                    Some(journal_id),
                )
                .await?;
                Ok(heads.into_iter().next())
            })
        })
    }
}
