//! `bcss audit init postgres://...`: the journal's schema, its triggers and functions, the
//! witness's schema, and the application roles' grants.

use super::connect::connect;
use super::location::valid_identifier;
use super::{PgLocation, SCHEMA_FORMAT, db_error};
use crate::audit::AuditError;

const SCHEMA: &str = include_str!("schema.sql");
const GRANTS: &str = include_str!("grants.sql");

/// What [`init`] sets up beside the journal's schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitOptions {
    /// The application roles: each may read the journal, append to it (through
    /// `lock_head()`) and record heads in the witness; none may update or delete. They
    /// must exist (`CREATE ROLE bcss_app LOGIN PASSWORD ...`).
    pub roles: Vec<String>,
    /// The witness's schema; default the journal's schema followed by `_witness`.
    pub witness_schema: Option<String>,
}

impl InitOptions {
    fn witness_schema(&self, location: &PgLocation) -> String {
        self.witness_schema
            .clone()
            .unwrap_or_else(|| format!("{}_witness", location.schema()))
    }

    fn check(&self, location: &PgLocation) -> Result<(), AuditError> {
        let witness = self.witness_schema(location);
        if !valid_identifier(&witness) || witness == location.schema() {
            return Err(AuditError::Config(format!(
                "the witness schema {witness:?} must be a lowercase SQL identifier other than the journal's schema"
            )));
        }
        for role in &self.roles {
            if !valid_identifier(role) {
                return Err(AuditError::Config(format!(
                    "role {role:?} is not a lowercase SQL identifier (a-z, 0-9, _; at most 48 characters; not starting with a digit)"
                )));
            }
            if location.user() == Some(role.as_str()) {
                return Err(owner_role(role, role));
            }
        }
        Ok(())
    }
}

/// The refusal of `role`, the owner `owner` or a member of it, as an application role.
fn owner_role(role: &str, owner: &str) -> AuditError {
    AuditError::Config(format!(
        "role {role} is the journal's owner ({owner}), a member of it or a superuser: the application's grants are for a role of its own, which cannot update or delete records nor prune; create one (CREATE ROLE bcss_app LOGIN PASSWORD '...') and give it with --role"
    ))
}

/// The SQL [`init`] runs for `location` (the schema, then one set of grants per role), as
/// a database administrator may want to review it or run it by hand.
pub fn init_sql(location: &PgLocation, options: &InitOptions) -> Result<String, AuditError> {
    options.check(location)?;
    let witness = options.witness_schema(location);
    let mut sql = SCHEMA
        .replace("__S__", location.schema())
        .replace("__W__", &witness);
    sql.push_str(&format!(
        "\nINSERT INTO {}.meta (format_version) VALUES ({SCHEMA_FORMAT});\n",
        location.schema()
    ));
    for role in &options.roles {
        sql.push('\n');
        sql.push_str(
            &GRANTS
                .replace("__S__", location.schema())
                .replace("__W__", &witness)
                .replace("__R__", role),
        );
    }
    Ok(sql)
}

/// The trigger functions that guard the records (the chain and prune-record check on
/// insert, the append-only rule), as `CREATE OR REPLACE`: run by [`init`] on an existing
/// schema, so a schema made by an earlier bcss gets the current checks (the tables and the
/// record format are unchanged).
fn guard_functions(location: &PgLocation) -> String {
    let mut sql = String::new();
    for (start, end) in [
        (
            "CREATE FUNCTION __S__.records_chain()",
            "CREATE TRIGGER records_chain",
        ),
        (
            "CREATE FUNCTION __S__.records_append_only()",
            "CREATE TRIGGER records_append_only",
        ),
    ] {
        let Some(from) = SCHEMA.find(start) else {
            continue;
        };
        let Some(len) = SCHEMA[from..].find(end) else {
            continue;
        };
        sql.push_str(&SCHEMA[from..from + len].replacen(
            "CREATE FUNCTION",
            "CREATE OR REPLACE FUNCTION",
            1,
        ));
    }
    sql.replace("__S__", location.schema())
}

/// What [`init`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    /// The schema was created now (false: it existed, only grants were given).
    pub created: bool,
    /// The witness's schema.
    pub witness_schema: String,
    /// The roles granted.
    pub roles: Vec<String>,
}

/// Create the journal's schema at `location` (tables, indexes, the chain-checking insert
/// trigger, the append-only triggers, `lock_head()`, `start_journal()` and `prune()`), the
/// witness's schema, and grant each of `options.roles` what an application needs. The
/// connecting role owns everything (run it as the administrator, not as the application).
/// When the journal's schema exists already, only the grants are given (to add a role),
/// and the trigger functions that guard the records are replaced by the current ones.
///
/// Fails with [`AuditError::Config`] for a role that does not exist (saying how to create
/// it) or that is the connecting role (the owner), a member of it or a superuser (the
/// application would then be able to rewrite the journal), and [`AuditError::Database`] when a statement is refused.
pub async fn init(location: &PgLocation, options: &InitOptions) -> Result<InitReport, AuditError> {
    options.check(location)?;
    let mut connection = connect(location).await?;
    let client = &mut connection.client;
    for role in &options.roles {
        let exists = client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[role])
            .await
            .map_err(|e| db_error(location, "look up a role", &e))?
            .is_some();
        if !exists {
            return Err(AuditError::Config(format!(
                "role {role} does not exist: create it first (CREATE ROLE {role} LOGIN PASSWORD '...'), then run init again"
            )));
        }
        let row = client
            .query_one(
                "SELECT current_user::text, pg_has_role($1::text::name, current_user, 'MEMBER')",
                &[role],
            )
            .await
            .map_err(|e| db_error(location, "look up a role", &e))?;
        let (owner, owns): (String, bool) = (row.get(0), row.get(1));
        if owns {
            return Err(owner_role(role, &owner));
        }
    }
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_namespace WHERE nspname = $1",
            &[&location.schema()],
        )
        .await
        .map_err(|e| db_error(location, "look up the schema", &e))?
        .is_some();
    let witness = options.witness_schema(location);
    // A witness schema is the witness's own: not a journal's (its heads there would sit
    // beside another chain, outside the insert-only rule that journal's owner set).
    let witness_holds_journal: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename IN ('meta', 'records'))",
            &[&witness],
        )
        .await
        .map_err(|e| db_error(location, "look up the witness's schema", &e))?
        .get(0);
    if witness_holds_journal {
        return Err(AuditError::Config(format!(
            "--witness-schema {witness} holds a journal: a witness needs a schema of its own (the default is {}_witness)",
            location.schema()
        )));
    }
    // A new journal's witness holds no other journal's heads: opening would take them for
    // a replaced journal (a witness schema serves one journal).
    if !exists {
        let has_heads: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'heads')",
                &[&witness],
            )
            .await
            .map_err(|e| db_error(location, "look up the witness's schema", &e))?
            .get(0);
        if has_heads {
            // `witness` is a checked identifier (InitOptions::check).
            let used: bool = client
                .query_one(
                    &format!("SELECT EXISTS (SELECT 1 FROM {witness}.heads)"),
                    &[],
                )
                .await
                .map_err(|e| db_error(location, "read the witness's heads", &e))?
                .get(0);
            if used {
                return Err(AuditError::Config(format!(
                    "--witness-schema {witness} holds another journal's heads: a witness schema serves one journal; name a new one (the default is {}_witness)",
                    location.schema()
                )));
            }
        }
    }
    let sql = if exists {
        match super::read::check_schema(client, location).await {
            Err(AuditError::Config(m)) if m.contains("holds no bcss journal") => {
                return Err(AuditError::Config(format!(
                    "schema {} exists and holds no bcss journal (it holds other tables, or none): init creates the journal's own schema; name a new one (?schema=NAME), or drop that schema first if it is an empty leftover",
                    location.schema()
                )));
            }
            checked => checked?,
        }
        // The checks the triggers make now, for a schema made by an earlier bcss.
        let mut sql = guard_functions(location);
        let no_schema = InitOptions {
            roles: options.roles.clone(),
            witness_schema: Some(witness.clone()),
        };
        let full = init_sql(location, &no_schema)?;
        // Then only the grants: what follows the meta row.
        sql.push_str(
            full.split_once(&format!("VALUES ({SCHEMA_FORMAT});\n"))
                .map_or("", |(_, grants)| grants),
        );
        sql
    } else {
        init_sql(location, options)?
    };
    let tx = client
        .transaction()
        .await
        .map_err(|e| db_error(location, "begin", &e))?;
    tx.batch_execute(&sql)
        .await
        .map_err(|e| db_error(location, "create the journal's schema", &e))?;
    tx.commit()
        .await
        .map_err(|e| db_error(location, "commit the journal's schema", &e))?;
    Ok(InitReport {
        created: !exists,
        witness_schema: witness,
        roles: options.roles.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_functions_are_the_schemas_own_replaced() {
        let location = PgLocation::parse("postgres://owner@db.example/cpas?schema=e3", None)
            .expect("a location");
        let sql = guard_functions(&location);
        assert_eq!(
            sql.matches("CREATE OR REPLACE FUNCTION").count(),
            2,
            "{sql}"
        );
        assert!(sql.contains("FUNCTION e3.records_chain()"), "{sql}");
        assert!(sql.contains("FUNCTION e3.records_append_only()"), "{sql}");
        assert!(sql.contains("pg_has_role(session_user"), "{sql}");
        assert!(
            !sql.contains("__S__") && !sql.contains("CREATE TRIGGER"),
            "{sql}"
        );
    }
}
