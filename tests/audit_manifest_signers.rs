//! Decisions traceable to the signed manifest they were taken under (issue 10.3, journal
//! side): `bcss audit verify --manifest-signer` names the decisions taken under a manifest
//! the given keys did not sign, and `bcss audit query --manifest` filters by digest.

#[path = "audit_support/mod.rs"]
mod support;

use std::process::{Command, Output};

use bcss::audit::{CallRecord, FileJournal, Journal};
use bcss::manifest::ManifestRef;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePublicKey;
use support::*;
use uuid::Uuid;

fn bcss(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bcss"))
        .args(args)
        .output()
        .unwrap()
}

fn with_manifest(record: CallRecord, manifest: &ManifestRef) -> CallRecord {
    match record {
        CallRecord::Intent(mut i) => {
            i.manifest = Some(manifest.clone());
            CallRecord::Intent(i)
        }
        CallRecord::Denial(mut d) => {
            d.manifest = Some(manifest.clone());
            CallRecord::Denial(d)
        }
        other => other,
    }
}

#[tokio::test]
async fn verify_names_the_decisions_under_an_unsigned_manifest() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let advisor = SigningKey::from_bytes(&[11; 32]).verifying_key();
    let advisor_pub = tmp.path().join("advisor.pub");
    std::fs::write(
        &advisor_pub,
        advisor
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap(),
    )
    .unwrap();
    let signed = ManifestRef {
        signer: Some(bcss::keys::fingerprint(&advisor)),
        signed_by: Some("Ada Advisor (security-advisor)".into()),
        ..ManifestRef::unsigned(b"[organization]\n# signed version\n")
    };
    let unsigned = ManifestRef::unsigned(b"[organization]\n# edited on the server\n");
    let other = SigningKey::from_bytes(&[12; 32]).verifying_key();
    let foreign = ManifestRef {
        signer: Some(bcss::keys::fingerprint(&other)),
        signed_by: Some("Mallory (deputy)".into()),
        ..ManifestRef::unsigned(b"[organization]\n# signed by someone else\n")
    };

    let journal = FileJournal::open(config(&dir)).await.unwrap();
    let mut sequences = Vec::new();
    let mut append = async |record: CallRecord| {
        sequences.push(journal.append(record).await.unwrap().sequence);
    };
    // Two decisions under the signed manifest, then two under the unsigned one, then one
    // under a manifest signed by a key not given.
    let t = [0; 5].map(|_| Uuid::now_v7());
    append(with_manifest(
        intent(t[0], "alice", "IdentifyPerson", &ssin(1), 50),
        &signed,
    ))
    .await;
    append(outcome(t[0], "ok", Some(b"<reply/>"))).await;
    append(with_manifest(
        denial(t[1], "bob", "IdentifyPerson", &ssin(2)),
        &signed,
    ))
    .await;
    append(with_manifest(
        intent(t[2], "carol", "IdentifyPerson", &ssin(3), 50),
        &unsigned,
    ))
    .await;
    append(with_manifest(
        denial(t[3], "dave", "IdentifyPerson", &ssin(4)),
        &unsigned,
    ))
    .await;
    append(with_manifest(
        intent(t[4], "erin", "IdentifyPerson", &ssin(5), 50),
        &foreign,
    ))
    .await;
    journal.close().await.unwrap();

    let out = bcss(&[
        "audit",
        "verify",
        dir.to_str().unwrap(),
        "--manifest-signer",
        advisor_pub.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ok: "), "the chain itself verifies: {text}");
    assert!(
        text.contains(
            "UNAPPROVED: 3 decision(s) taken under a manifest not signed by any of the given keys"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "sequences {}..={}: 2 decision(s) under manifest {} (unsigned)",
            sequences[3], sequences[4], unsigned.sha256
        )),
        "{text}"
    );
    assert!(text.contains(&format!("sequence {} intent ticket {}", sequences[3], t[2])));
    assert!(text.contains(&format!("sequence {} denial ticket {}", sequences[4], t[3])));
    assert!(
        text.contains(&format!("under manifest {} (signed by ", foreign.sha256)),
        "{text}"
    );
    assert!(!text.contains(&signed.sha256), "{text}");

    // The decisions under the signed manifest alone pass.
    let library = bcss::audit::verify(
        &dir,
        &bcss::audit::VerifyOptions {
            manifest_signers: vec![
                bcss::keys::fingerprint(&advisor),
                bcss::keys::fingerprint(&other),
            ],
            ..Default::default()
        },
    )
    .unwrap();
    let flagged: Vec<u64> = library
        .unapproved_decisions
        .iter()
        .map(|d| d.sequence)
        .collect();
    assert_eq!(flagged, vec![sequences[3], sequences[4]]);

    // The query by manifest digest.
    let filter = bcss::audit::QueryFilter {
        manifest: Some(unsigned.sha256.to_uppercase()),
        ..Default::default()
    };
    let found: Vec<Uuid> = bcss::audit::query(&dir, &filter)
        .unwrap()
        .tickets()
        .collect();
    assert_eq!(found, vec![t[2], t[3]]);
}
