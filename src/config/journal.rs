//! The `[journal]` table and where it leads: the journal's location, password, witness
//! and configuration, of either backend.

use std::path::PathBuf;

use serde::Deserialize;

use super::Config;

/// The `[journal]` table: where the journal is (`dir` or `url`, exactly one) and how it is
/// anchored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// A file journal's folder (created 0700 when missing).
    pub dir: Option<PathBuf>,
    /// A PostgreSQL journal: `postgres://ROLE@HOST[:PORT]/DATABASE[?schema=...&sslmode=...]`
    /// (see [`PgLocation`](crate::audit::pg::PgLocation)). Never with a password in it.
    pub url: Option<String>,
    /// The environment variable holding the database password (with `url`, or a
    /// `postgres://` witness).
    pub password_env: Option<String>,
    /// The file holding the database password (idem).
    pub password_file: Option<PathBuf>,
    /// The environment variable holding a `postgres://` witness's own password, when it
    /// connects as another role (in another database, say); default: the journal's.
    pub witness_password_env: Option<String>,
    /// The file holding the witness's own password (idem).
    pub witness_password_file: Option<PathBuf>,
    /// An Ed25519 private key (PKCS#8 PEM) that signs the journal's genesis record,
    /// checkpoints and witnessed heads.
    pub signing_key: Option<PathBuf>,
    /// Where the journal's heads are kept outside it: a witness file (JSON lines) on
    /// another volume ([`FileWitness`](crate::audit::FileWitness)), or a `postgres://` URL
    /// naming the witness's schema ([`PgWitness`](crate::audit::pg::PgWitness); its
    /// password as for `url`).
    pub witness: Option<PathBuf>,
    /// The largest record body, in bytes (default 32 MiB, at most 64 MiB); it must leave
    /// room for `[limits] max_reply_bytes`.
    pub max_record_bytes: Option<usize>,
    /// How long, in seconds, opening the journal waits while another process holds it
    /// (default 30): see [`FileJournalConfig::lock_wait`](crate::audit::FileJournalConfig::lock_wait).
    pub lock_wait_seconds: Option<u64>,
}

impl Config {
    /// The database password's source: `[journal] password_env` or `password_file`, else
    /// the `PGPASSWORD` environment variable when it is set (as libpq reads it).
    pub fn journal_password(&self) -> Option<crate::transport::http::PasswordSource> {
        use crate::transport::http::PasswordSource;
        match (&self.journal.password_env, &self.journal.password_file) {
            (Some(var), _) => Some(PasswordSource::Env(var.clone())),
            (None, Some(file)) => Some(PasswordSource::File(self.resolve(file))),
            // As libpq and the `bcss audit` commands: PGPASSWORD when it is set.
            (None, None) => std::env::var_os("PGPASSWORD")
                .is_some()
                .then(|| PasswordSource::Env("PGPASSWORD".to_string())),
        }
    }

    /// Where the journal is: `[journal] dir` (resolved against the file's folder) or
    /// `[journal] url` (with the password's source).
    pub fn journal_location(
        &self,
    ) -> Result<crate::audit::JournalLocation, crate::audit::AuditError> {
        use crate::audit::{AuditError, JournalLocation};
        match (&self.journal.dir, &self.journal.url) {
            (Some(dir), None) => Ok(JournalLocation::Dir(self.resolve(dir))),
            (None, Some(url)) if JournalLocation::is_postgres(url) => {
                match JournalLocation::parse(url, self.journal_password())? {
                    JournalLocation::Postgres(location) => Ok(JournalLocation::Postgres(
                        location.resolve_files_against(&self.base_dir),
                    )),
                    dir => Ok(dir),
                }
            }
            (None, Some(_)) => Err(AuditError::Config(
                "url must be a postgres:// URL (a folder is given with dir)".to_string(),
            )),
            (Some(_), Some(_)) => Err(AuditError::Config(
                "give dir (a file journal) or url (a PostgreSQL journal), not both".to_string(),
            )),
            (None, None) => Err(AuditError::Config(
                "give dir = \"FOLDER\" (a file journal) or url = \"postgres://...\" (a PostgreSQL journal)".to_string(),
            )),
        }
    }

    /// The witness `[journal] witness` names: a file, or a `postgres://` witness schema.
    pub fn journal_witness(
        &self,
    ) -> Result<Option<std::sync::Arc<dyn crate::audit::Witness>>, crate::audit::AuditError> {
        use crate::audit::{FileWitness, Witness, pg};
        let Some(witness) = &self.journal.witness else {
            return Ok(None);
        };
        let text = witness.to_string_lossy();
        let witness: std::sync::Arc<dyn Witness> = if pg::PgLocation::is_url(&text) {
            use crate::transport::http::PasswordSource;
            let password = match (
                &self.journal.witness_password_env,
                &self.journal.witness_password_file,
            ) {
                (Some(var), _) => Some(PasswordSource::Env(var.clone())),
                (None, Some(file)) => Some(PasswordSource::File(self.resolve(file))),
                (None, None) => self.journal_password(),
            };
            let location =
                pg::PgLocation::parse(&text, password)?.resolve_files_against(&self.base_dir);
            std::sync::Arc::new(pg::PgWitness::new(location))
        } else {
            std::sync::Arc::new(FileWitness::new(self.resolve(witness)))
        };
        Ok(Some(witness))
    }

    /// The journal this configuration describes, of either backend: its location, signing
    /// key, witness and record limit (the other settings are the defaults).
    pub fn journal_config(
        &self,
    ) -> Result<crate::audit::AnyJournalConfig, crate::audit::AuditError> {
        let location = self.journal_location()?;
        if location_is_dir(&location)
            && self.journal.url.is_none()
            && (self.journal.password_env.is_some() || self.journal.password_file.is_some())
            && !self
                .journal
                .witness
                .as_ref()
                .is_some_and(|w| crate::audit::pg::PgLocation::is_url(&w.to_string_lossy()))
        {
            return Err(crate::audit::AuditError::Config(
                "password_env and password_file are for a PostgreSQL journal (url) or witness"
                    .to_string(),
            ));
        }
        let witness_password = self.journal.witness_password_env.is_some()
            || self.journal.witness_password_file.is_some();
        let pg_witness = self
            .journal
            .witness
            .as_ref()
            .is_some_and(|w| crate::audit::pg::PgLocation::is_url(&w.to_string_lossy()));
        if witness_password && !pg_witness {
            return Err(crate::audit::AuditError::Config(
                "witness_password_env and witness_password_file are for a postgres:// witness"
                    .to_string(),
            ));
        }
        if self.journal.witness_password_env.is_some()
            && self.journal.witness_password_file.is_some()
        {
            return Err(crate::audit::AuditError::Config(
                "give witness_password_env or witness_password_file, not both".to_string(),
            ));
        }
        if self.journal.password_env.is_some() && self.journal.password_file.is_some() {
            return Err(crate::audit::AuditError::Config(
                "give password_env or password_file, not both".to_string(),
            ));
        }
        let mut c = crate::audit::AnyJournalConfig::new(location);
        c.set_signing_key(self.journal.signing_key.as_ref().map(|p| self.resolve(p)));
        c.set_witness(self.journal_witness()?);
        if let Some(bytes) = self.journal.max_record_bytes {
            c.set_max_record_bytes(bytes);
        }
        if let Some(seconds) = self.journal.lock_wait_seconds {
            c.set_lock_wait(std::time::Duration::from_secs(seconds));
        }
        Ok(c)
    }
}

fn location_is_dir(location: &crate::audit::JournalLocation) -> bool {
    matches!(location, crate::audit::JournalLocation::Dir(_))
}
