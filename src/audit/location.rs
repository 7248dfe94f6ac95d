//! Where a journal is: a directory (the file journal) or a PostgreSQL database
//! (`postgres://...`). One way to name a journal, in `bcss.toml` (`[journal] dir` or
//! `[journal] url`) and on the command line (every `bcss audit` command takes either).

use std::fmt;
use std::path::PathBuf;

use super::AuditError;
use super::pg::PgLocation;
use crate::transport::http::PasswordSource;

/// A journal's location.
///
/// ```
/// use bcss::audit::JournalLocation;
/// let dir = JournalLocation::parse("/var/lib/myapp/journal", None)?;
/// assert!(matches!(dir, JournalLocation::Dir(_)));
/// let pg = JournalLocation::parse("postgres://bcss_app@db.example/cpas?schema=journal", None)?;
/// assert_eq!(pg.to_string(), "postgres://bcss_app@db.example/cpas?schema=journal");
/// // A password is never written in the URL: it comes from a variable or a file.
/// assert!(JournalLocation::parse("postgres://bcss_app:s3cret@db/cpas", None).is_err());
/// # Ok::<(), bcss::audit::AuditError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalLocation {
    /// A file journal's directory.
    Dir(PathBuf),
    /// A PostgreSQL journal.
    Postgres(PgLocation),
}

impl JournalLocation {
    /// `postgres://...` or `postgresql://...` names a PostgreSQL journal (see
    /// [`PgLocation::parse`]), with its password read from `password` when the server asks
    /// for one; anything else is a directory.
    pub fn parse(text: &str, password: Option<PasswordSource>) -> Result<Self, AuditError> {
        if PgLocation::is_url(text) {
            Ok(JournalLocation::Postgres(PgLocation::parse(
                text, password,
            )?))
        } else {
            Ok(JournalLocation::Dir(PathBuf::from(text)))
        }
    }

    /// Whether `text` names a PostgreSQL journal.
    pub fn is_postgres(text: &str) -> bool {
        PgLocation::is_url(text)
    }
}

impl fmt::Display for JournalLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalLocation::Dir(dir) => write!(f, "{}", dir.display()),
            JournalLocation::Postgres(pg) => write!(f, "{pg}"),
        }
    }
}
