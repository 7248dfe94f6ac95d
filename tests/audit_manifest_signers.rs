//! Decisions traceable to the signed manifest they were taken under (issue 10.3, journal
//! side): `bcss audit verify --manifest-signer` names the decisions taken under a manifest
//! the given keys did not sign, and `bcss audit query --manifest` filters by digest.

#[path = "audit_support/mod.rs"]
mod support;

mod cli_support;
use cli_support::bcss;

use bcss::audit::{CallRecord, FileJournal, Journal};
use bcss::manifest::ManifestRef;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePublicKey;
use support::*;
use uuid::Uuid;

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

/// `query` (json, csv) and `show` say which manifest each decision was taken under, and
/// `--manifest` refuses what is not a SHA-256.
#[tokio::test]
async fn query_and_show_name_the_manifest_and_check_the_digest() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let advisor = SigningKey::from_bytes(&[11; 32]).verifying_key();
    let signed = ManifestRef {
        signer: Some(bcss::keys::fingerprint(&advisor)),
        signed_by: Some("Ada Advisor (security-advisor)".into()),
        ..ManifestRef::unsigned(b"[organization]\n# signed version\n")
    };
    let unsigned = ManifestRef::unsigned(b"[organization]\n# edited on the server\n");
    let journal = FileJournal::open(config(&dir)).await.unwrap();
    let t = [0; 2].map(|_| Uuid::now_v7());
    let records = [
        with_manifest(
            intent(t[0], "alice", "IdentifyPerson", &ssin(1), 50),
            &signed,
        ),
        outcome(t[0], "ok", Some(b"<reply/>")),
        with_manifest(denial(t[1], "bob", "IdentifyPerson", &ssin(2)), &unsigned),
    ];
    for record in records {
        journal.append(record).await.unwrap();
    }
    journal.close().await.unwrap();
    let d = dir.to_str().unwrap();

    let out = bcss(&["audit", "query", d, "--reader", "r", "--format", "json"]);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["manifest"]["sha256"], signed.sha256.as_str());
    assert_eq!(
        lines[0]["manifest"]["signer"],
        signed.signer.as_deref().unwrap()
    );
    assert_eq!(
        lines[0]["manifest"]["signed_by"],
        "Ada Advisor (security-advisor)"
    );
    assert_eq!(lines[1]["manifest"]["sha256"], unsigned.sha256.as_str());
    assert!(lines[1]["manifest"]["signer"].is_null());

    let out = bcss(&["audit", "query", d, "--reader", "r", "--format", "csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rows = text.lines();
    assert!(
        rows.next()
            .unwrap()
            .ends_with(",attempt,first_ticket,manifest_sha256,manifest_signer,write"),
        "{text}"
    );
    let signer = signed.signer.as_deref().unwrap();
    assert!(
        rows.next()
            .unwrap()
            .ends_with(&format!(",{},{signer},false", signed.sha256)),
        "{text}"
    );
    assert!(
        rows.next()
            .unwrap()
            .ends_with(&format!(",{},,", unsigned.sha256)),
        "{text}"
    );

    let out = bcss(&["audit", "show", d, &t[0].to_string(), "--reader", "r"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "manifest: sha256 {}, signed by Ada Advisor (security-advisor) with key {signer}",
            signed.sha256
        )),
        "{text}"
    );

    // The filter takes the digest in either case; anything else is a usage error.
    let upper = unsigned.sha256.to_uppercase();
    let out = bcss(&["audit", "query", d, "--reader", "r", "--manifest", &upper]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("1 exchange(s)")
    );
    for bad in [
        "zzz",
        "ED896",
        &unsigned.sha256[1..],
        &format!("{}0", unsigned.sha256),
    ] {
        let out = bcss(&["audit", "query", d, "--reader", "r", "--manifest", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("--manifest") && err.contains("64 hex"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}
