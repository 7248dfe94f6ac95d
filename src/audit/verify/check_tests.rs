//! The checks over records held in memory, as a database backend would feed them: no
//! segment file involved.

use super::*;
use crate::audit::chain::{Chain, StoredRecord, canonical_prefix, chain_hash, sha256};
use crate::audit::{CheckpointRecord, ReadRecord, codec};

fn stored(chain: &Chain, record: &Record) -> StoredRecord {
    let body = codec::encode(record).unwrap().to_bytes();
    let prefix = canonical_prefix(chain.next_sequence, 1_700_000_000_000_000);
    StoredRecord {
        sequence: chain.next_sequence,
        written_at_micros: 1_700_000_000_000_000,
        hash: chain_hash(&chain.hash, &prefix, &sha256(&body)),
        body,
    }
}

/// A journal of `n` reads after its genesis, then a checkpoint; each record linked and
/// decoded, as a backend does before the checks.
fn rows(id: Uuid, n: usize) -> Vec<Visit> {
    let mut chain = Chain::genesis();
    let mut out = Vec::new();
    let push = |chain: &mut Chain, record: Record, out: &mut Vec<Visit>| {
        let row = stored(chain, &record);
        let prev_hash = chain.hash;
        chain.link(&row).unwrap();
        out.push(Visit {
            at: Location {
                segment: 0,
                offset: row.sequence,
            },
            sequence: row.sequence,
            written_at_micros: row.written_at_micros,
            prev_hash,
            hash: row.hash,
            len: row.body.len() as u64,
            record: codec::decode(row.body).unwrap(),
        });
    };
    let at = chrono::DateTime::UNIX_EPOCH;
    let genesis = GenesisRecord {
        at,
        journal_id: id,
        public_key: None,
        signature: None,
    };
    push(&mut chain, Record::Genesis(genesis), &mut out);
    for i in 0..n {
        let read = ReadRecord {
            at,
            ..ReadRecord::new(format!("advisor-{i}"), "query", vec![])
        };
        push(&mut chain, Record::Read(read), &mut out);
    }
    let checkpoint = CheckpointRecord {
        at,
        journal_id: id,
        sequence: chain.next_sequence - 1,
        head: hex::encode(chain.hash),
        reason: "manual".into(),
        public_key: None,
        signature: None,
    };
    push(&mut chain, Record::Checkpoint(checkpoint), &mut out);
    out
}

fn check(rows: &[Visit], options: &VerifyOptions, witness: &[WitnessedHead]) -> Option<Found> {
    let id = match &rows[0].record {
        Record::Genesis(g) => g.journal_id,
        _ => Uuid::nil(),
    };
    let mut checker = Checker::new(options, witness, id);
    checker.start(rows[0].at, rows[0].sequence, rows[0].prev_hash);
    for v in rows {
        if let Err(reason) = checker.record(v) {
            return Some(Found {
                at: v.at,
                sequence: v.sequence,
                reason,
            });
        }
    }
    let last = rows.last().unwrap();
    checker.finish(Location::default(), last.sequence + 1).1
}

fn witnessed(id: Uuid, v: &Visit) -> WitnessedHead {
    WitnessedHead {
        journal_id: id,
        sequence: v.sequence,
        hash: hex::encode(v.hash),
        at: chrono::DateTime::UNIX_EPOCH,
        reason: "records".into(),
        public_key: None,
        signature: None,
    }
}

#[test]
fn rows_from_any_store_are_checked_against_the_witness() {
    let id = Uuid::from_bytes([7; 16]);
    let journal = rows(id, 5);
    let options = VerifyOptions::default();
    // The checkpoint (sequence 7) covers head 6, which the witness recorded.
    let witness = vec![witnessed(id, &journal[0]), witnessed(id, &journal[5])];
    assert_eq!(check(&journal, &options, &witness), None);
    // Rows cut after sequence 4: the witness's head 6 is missing.
    let cut = check(&journal[..4], &options, &witness).unwrap();
    assert!(
        cut.reason.contains("removed from its end"),
        "{}",
        cut.reason
    );
    assert_eq!(cut.sequence, 5);
    // Another journal's rows.
    let other = rows(Uuid::from_bytes([8; 16]), 5);
    let replaced = check(&other, &options, &witness).unwrap();
    assert!(
        replaced.reason.contains("was replaced"),
        "{}",
        replaced.reason
    );
    // A checkpoint the witness never recorded (it holds the genesis head only).
    let forged = check(&journal, &options, &witness[..1]).unwrap();
    assert_eq!(forged.sequence, 7);
    assert!(
        forged.reason.contains("never recorded"),
        "{}",
        forged.reason
    );
}
