//! The columns stored beside each record for the advisor's queries: an index derived from
//! the record, never trusted on its own (verify recomputes them from every body, and a
//! query checks every record it returns).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::Record;

/// The indexed columns of one record.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Columns {
    pub kind: String,
    pub ticket: Option<Uuid>,
    pub user_id: Option<String>,
    pub service: Option<String>,
    /// Microseconds since the Unix epoch (stored as a `timestamptz`).
    pub decided_at: Option<i64>,
    pub outcome: Option<String>,
    /// Digits only, in the record's order.
    pub subjects: Option<Vec<String>>,
    pub covers_to: Option<i64>,
}

impl std::fmt::Debug for Columns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SSINs appear in full only in the journal: here, how many there are.
        f.debug_struct("Columns")
            .field("kind", &self.kind)
            .field("ticket", &self.ticket)
            .field("service", &self.service)
            .field("outcome", &self.outcome)
            .field("subjects", &self.subjects.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// An SSIN as the index keeps it (and a filter looks it up): its digits only.
pub(crate) fn subject_key(subject: &str) -> String {
    subject.chars().filter(char::is_ascii_digit).collect()
}

fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl Columns {
    /// The columns of `record`.
    pub(crate) fn of(record: &Record) -> Columns {
        let mut c = Columns {
            kind: record.kind().to_string(),
            ticket: record.ticket(),
            ..Columns::default()
        };
        let call = |c: &mut Columns, who: &crate::audit::Who, what: &crate::audit::What, at| {
            c.user_id = Some(who.user_id.clone());
            c.service = Some(what.service.clone());
            c.decided_at = Some(micros(at));
            c.subjects = Some(what.subjects.iter().map(|s| subject_key(s)).collect());
        };
        match record {
            Record::Denial(d) => {
                call(&mut c, &d.who, &d.what, &d.decided_at);
                c.outcome = Some("denied".to_string());
            }
            Record::Intent(i) => call(&mut c, &i.who, &i.what, &i.decided_at),
            Record::Outcome(o) => c.outcome = Some(o.outcome.clone()),
            Record::Classification(k) => c.outcome = Some(k.outcome.clone()),
            Record::Prune(p) => c.covers_to = i64::try_from(p.last_sequence).ok(),
            // A read: its reader, time, and whom it was about (the subjects it showed and
            // any `--subject` it was given), so that `query --reads` finds it by index.
            Record::Read(r) => {
                c.user_id = Some(r.reader.clone());
                c.decided_at = Some(micros(&r.at));
                let mut subjects: Vec<String> = r.subjects.iter().map(|s| subject_key(s)).collect();
                for argument in r.arguments.iter().filter(|a| a.starts_with("--subject")) {
                    let key = subject_key(argument);
                    if !key.is_empty() && !subjects.contains(&key) {
                        subjects.push(key);
                    }
                }
                c.subjects = Some(subjects);
            }
            _ => {}
        }
        c
    }

    /// The subjects as one string for a batch insert (`string_to_array(s, ' ')` in SQL):
    /// digits never hold a space.
    pub(crate) fn subjects_joined(&self) -> Option<String> {
        self.subjects.as_ref().map(|s| s.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_keep_digits_only() {
        assert_eq!(subject_key("68.07.01-001.88"), "68070100188");
        assert_eq!(subject_key(" 680701 00188 "), "68070100188");
    }
}
