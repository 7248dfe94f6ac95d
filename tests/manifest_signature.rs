//! The signed manifest: a signed manifest loads and names its signer; a flipped byte, a
//! key that is not a configured signer, a missing signature while one is required, a
//! signature of another manifest and an altered signature file are each refused with
//! their own error; a production configuration refuses an unsigned manifest by default;
//! a reload with a broken signature keeps the last good manifest.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bcss::Environment;
use bcss::client::Client;
use bcss::config::{Config, ConfigError};
use bcss::error::ErrorKind;
use bcss::keys::{self, KeyPairFiles};
use bcss::manifest::{
    Decision, Facts, GrantedBy, Guard, ManifestError, ManifestTrust, Policy, SignatureError,
    SignatureStatus, sign_manifest, signature_path,
};
use chrono::{DateTime, Utc};

fn manifest(id: &str) -> String {
    format!(
        r#"[organization]
cbe = "0212344876"
name = "CPAS de Testville"
sector = 17

[[authorization]]
id = "{id}"
environment = "test"
service = "IdentifyPerson"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2099-12-31
granted_by = "security-advisor"
"#
    )
}

fn signed_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A folder with the advisor's key pair, another key pair, and `authorizations.toml`
/// signed by the advisor.
struct Setup {
    dir: tempfile::TempDir,
    advisor: KeyPairFiles,
    intruder: KeyPairFiles,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let advisor = keys::generate_key_pair(&dir.path().join("advisor")).unwrap();
        let intruder = keys::generate_key_pair(&dir.path().join("intruder")).unwrap();
        let s = Setup {
            dir,
            advisor,
            intruder,
        };
        std::fs::write(s.manifest(), manifest("identify-test")).unwrap();
        s.sign(&s.manifest(), &s.advisor);
        s
    }

    fn manifest(&self) -> PathBuf {
        self.dir.path().join("authorizations.toml")
    }

    fn sign(&self, manifest: &Path, key: &KeyPairFiles) {
        let key = keys::load_signing_key(&key.private_key).unwrap();
        sign_manifest(
            manifest,
            &key,
            "Ada Advisor",
            GrantedBy::SecurityAdvisor,
            signed_at(),
        )
        .unwrap();
    }

    /// Only the advisor may sign; a signature is required.
    fn trust(&self) -> ManifestTrust {
        ManifestTrust::from_key_files(&[&self.advisor.public_key], true).unwrap()
    }

    fn load(&self) -> Result<Guard, ManifestError> {
        Guard::load_trusted(self.manifest(), self.trust())
    }
}

fn signature_error(r: Result<Guard, ManifestError>) -> SignatureError {
    match r {
        Err(ManifestError::Signature(e)) => e,
        Err(other) => panic!("expected a signature error, got {other}"),
        Ok(g) => panic!("expected a refusal, the manifest loaded: {g:?}"),
    }
}

#[test]
fn a_signed_manifest_loads_and_names_its_signer() {
    let s = Setup::new();
    let guard = s.load().unwrap();
    let policy = guard.policy().unwrap();
    let SignatureStatus::Verified(signer) = policy.signature() else {
        panic!("expected a verified signature: {:?}", policy.signature());
    };
    assert_eq!(signer.name, "Ada Advisor");
    assert_eq!(signer.role, GrantedBy::SecurityAdvisor);
    assert_eq!(signer.signed_at, signed_at());
    assert_eq!(signer.key_fingerprint, s.advisor.fingerprint);

    let r = guard.manifest_ref().unwrap();
    let bytes = std::fs::read(s.manifest()).unwrap();
    assert_eq!(r.sha256, hex_sha256(&bytes));
    assert_eq!(r.signer.as_deref(), Some(s.advisor.fingerprint.as_str()));
    assert_eq!(
        r.signed_by.as_deref(),
        Some("Ada Advisor (security-advisor)")
    );
    assert_eq!(&r, policy.manifest_ref());

    // The signature file is small, text, and says what it is about.
    let sig = std::fs::read_to_string(signature_path(&s.manifest())).unwrap();
    assert!(sig.len() < 1024, "{} bytes", sig.len());
    for line in [
        "format = \"bcss-manifest-signature-v1\"",
        "manifest = \"authorizations.toml\"",
        &format!("manifest_sha256 = \"{}\"", r.sha256),
        "signer = \"Ada Advisor\"",
        "role = \"security-advisor\"",
        "signed_at = 2026-03-01T10:00:00Z",
        &format!("key_fingerprint = \"{}\"", s.advisor.fingerprint),
    ] {
        assert!(sig.lines().any(|l| l == line), "no line {line:?} in\n{sig}");
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn a_flipped_byte_is_refused_as_a_changed_manifest() {
    let s = Setup::new();
    let mut bytes = std::fs::read(s.manifest()).unwrap();
    // valid_until 2099-12-31 -> 2199-12-31: one byte, still a valid manifest.
    let at = bytes.windows(4).position(|w| w == b"2099").unwrap() + 1;
    bytes[at] ^= 0x01;
    std::fs::write(s.manifest(), &bytes).unwrap();
    assert!(Policy::parse(std::str::from_utf8(&bytes).unwrap(), "x").is_ok());
    let e = signature_error(s.load());
    let SignatureError::ManifestChanged {
        signed_sha256,
        actual_sha256,
        ..
    } = &e
    else {
        panic!("expected ManifestChanged, got {e:?}");
    };
    assert_eq!(actual_sha256, &hex_sha256(&bytes));
    assert_ne!(signed_sha256, actual_sha256);
    let text = e.to_string();
    assert!(text.contains("changed after it was signed ("), "{text}");
    // Or the signature is another version's: both are said, with who signed what, when.
    assert!(
        text.contains("is the signature of another version of it"),
        "{text}"
    );
    assert!(
        text.contains("signed by Ada Advisor (security-advisor) on "),
        "{text}"
    );
    assert!(
        text.contains(&format!("for SHA-256 {signed_sha256}")),
        "{text}"
    );
    assert!(text.contains("bcss manifest diff"), "{text}");
}

#[test]
fn a_signature_by_a_key_that_is_not_a_signer_is_refused() {
    let s = Setup::new();
    s.sign(&s.manifest(), &s.intruder);
    let e = signature_error(s.load());
    assert_eq!(
        e,
        SignatureError::UnlistedKey {
            signature: signature_path(&s.manifest()).display().to_string(),
            signer: "Ada Advisor (security-advisor)".to_string(),
            fingerprint: s.intruder.fingerprint.clone(),
            configured: vec![s.advisor.fingerprint.clone()],
        }
    );
    assert!(e.to_string().contains("not a configured signer"), "{e}");
    // Not required, but signers configured: still refused.
    let trust = ManifestTrust::from_key_files(&[&s.advisor.public_key], false).unwrap();
    let e = signature_error(Guard::load_trusted(s.manifest(), trust));
    assert!(matches!(e, SignatureError::UnlistedKey { .. }), "{e:?}");
}

#[test]
fn a_missing_signature_is_refused_when_required() {
    let s = Setup::new();
    std::fs::remove_file(signature_path(&s.manifest())).unwrap();
    let e = signature_error(s.load());
    assert!(matches!(e, SignatureError::Missing { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("is not signed"), "{text}");
    assert!(text.contains("bcss manifest sign"), "{text}");
}

#[test]
fn a_signature_of_another_manifest_is_refused() {
    let s = Setup::new();
    let other = s.dir.path().join("authorizations-acceptance.toml");
    std::fs::write(&other, manifest("identify-acpt")).unwrap();
    s.sign(&other, &s.advisor);
    std::fs::copy(signature_path(&other), signature_path(&s.manifest())).unwrap();
    let e = signature_error(s.load());
    let SignatureError::OtherManifest { signed_for, .. } = &e else {
        panic!("expected OtherManifest, got {e:?}");
    };
    assert_eq!(signed_for, "authorizations-acceptance.toml");
    assert!(
        e.to_string().contains("signature of another manifest"),
        "{e}"
    );
}

#[test]
fn an_altered_signature_file_is_refused() {
    let s = Setup::new();
    let path = signature_path(&s.manifest());
    let sig = std::fs::read_to_string(&path).unwrap();
    // Claim another role: the signature no longer verifies.
    std::fs::write(
        &path,
        sig.replace("role = \"security-advisor\"", "role = \"leading-official\""),
    )
    .unwrap();
    let e = signature_error(s.load());
    assert!(matches!(e, SignatureError::BadSignature { .. }), "{e:?}");
    // Not a signature file at all.
    std::fs::write(&path, "hello").unwrap();
    let e = signature_error(s.load());
    assert!(matches!(e, SignatureError::Malformed { .. }), "{e:?}");
}

#[test]
fn without_require_signature_an_unsigned_manifest_loads_and_says_so_once() {
    let s = Setup::new();
    std::fs::remove_file(signature_path(&s.manifest())).unwrap();
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::with_default(subscriber, || {
        Guard::load_trusted(s.manifest(), ManifestTrust::default()).unwrap()
    });
    let policy = guard.policy().unwrap();
    assert_eq!(policy.signature(), &SignatureStatus::Unsigned);
    assert_eq!(policy.manifest_ref().signer, None);
    let printed = logs.text();
    assert_eq!(
        printed.matches("manifest loaded unsigned").count(),
        1,
        "{printed}"
    );
    assert!(printed.contains("WARN"), "{printed}");
    // Deciding does not repeat it.
    let before = logs.text().len();
    let logs2 = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || logs2.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            let _ = guard.decide(&identify(), Utc::now());
        }
    });
    assert_eq!(logs.text().len(), before);

    // With no key configured, a signature present is still checked, against its own key.
    s.sign(&s.manifest(), &s.intruder);
    let policy = Policy::load(&s.manifest()).unwrap();
    assert!(matches!(policy.signature(), SignatureStatus::Unpinned(_)));
    std::fs::write(s.manifest(), manifest("changed")).unwrap();
    assert!(matches!(
        Policy::load(&s.manifest()),
        Err(ManifestError::Signature(
            SignatureError::ManifestChanged { .. }
        ))
    ));
}

#[test]
fn a_reload_with_a_broken_signature_keeps_the_last_good_manifest() {
    let s = Setup::new();
    let guard = s.load().unwrap();
    let good = guard.manifest_ref().unwrap();
    let granted = |g: &Guard| match g.decide(&identify(), Utc::now()) {
        Decision::Grant(grant) => grant.authorization_id,
        Decision::Deny(d) => panic!("{d}"),
    };
    assert_eq!(granted(&guard), "identify-test");

    // The manifest is changed on disk without a new signature.
    std::fs::write(s.manifest(), manifest("identify-rogue")).unwrap();
    let e = guard.reload().unwrap_err();
    assert!(
        matches!(
            e,
            ManifestError::Signature(SignatureError::ManifestChanged { .. })
        ),
        "{e:?}"
    );
    assert_eq!(guard.manifest_ref().unwrap(), good);
    assert_eq!(granted(&guard), "identify-test");

    // Signed by someone else: refused too, the same manifest stays.
    s.sign(&s.manifest(), &s.intruder);
    assert!(matches!(
        guard.reload(),
        Err(ManifestError::Signature(SignatureError::UnlistedKey { .. }))
    ));
    assert_eq!(guard.manifest_ref().unwrap(), good);

    // Text without a signature, under a trust that requires one: refused.
    assert!(matches!(
        guard.reload_from_str(&manifest("inline"), "inline.toml"),
        Err(ManifestError::Signature(SignatureError::Missing { .. }))
    ));
    assert_eq!(granted(&guard), "identify-test");
    // Nor can a policy parsed elsewhere be installed around the check.
    let unsigned = Policy::parse(&manifest("side-door"), "side-door.toml").unwrap();
    assert!(matches!(
        guard.install(unsigned),
        Err(ManifestError::Signature(SignatureError::Missing { .. }))
    ));
    let by_intruder = Policy::load(&s.manifest()).unwrap();
    assert!(matches!(
        by_intruder.signature(),
        SignatureStatus::Unpinned(_)
    ));
    assert!(matches!(
        guard.install(by_intruder),
        Err(ManifestError::Signature(SignatureError::UnlistedKey { .. }))
    ));
    assert_eq!(granted(&guard), "identify-test");

    // Signed by the advisor: it goes into force, and the report names both versions.
    s.sign(&s.manifest(), &s.advisor);
    let report = guard.reload().unwrap();
    assert_eq!(report.previous.as_ref(), Some(&good));
    assert_ne!(report.manifest.sha256, good.sha256);
    assert!(matches!(report.signature, SignatureStatus::Verified(_)));
    assert_eq!(granted(&guard), "identify-rogue");
}

fn identify() -> Facts<'static> {
    Facts {
        environment: Environment::Test,
        service: "IdentifyPerson",
        operation: "identifyPerson",
        purpose: "PCSA:SOCIAL_INQUIRY",
        program: None,
        access_purpose: None,
    }
}

fn config(environment: &str, manifest_table: &str) -> String {
    format!(
        r#"environment = "{environment}"
{manifest_table}

[journal]
dir = "journal"

[application]
name = "signature-test"
version = "1"

[organization]
cbe = "0212344876"
contact_email = "it@cpas-testville.example"

[transport]
kind = "replay"
fixtures = "fixtures"
# A production client reaches the replay transport only in a drill.
drill = true
"#
    )
}

async fn start(s: &Setup, text: &str) -> Result<(), bcss::Error> {
    let path = s.dir.path().join("bcss.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::create_dir_all(s.dir.path().join("fixtures")).unwrap();
    let config = Config::load(&path)?;
    let configured = Client::from_config(&config).await?;
    configured.close().await
}

#[tokio::test]
async fn a_production_configuration_refuses_an_unsigned_manifest_by_default() {
    let s = Setup::new();
    std::fs::remove_file(signature_path(&s.manifest())).unwrap();
    let table = "[manifest]\nfile = \"authorizations.toml\"\nsigners = [\"advisor.pub\"]";
    let production = config("production", table);
    match start(&s, &production).await.map_err(bcss::Error::into_kind) {
        Err(ErrorKind::Manifest(ManifestError::Signature(SignatureError::Missing { .. }))) => {}
        other => panic!("expected the unsigned manifest refused, got {other:?}"),
    }
    // Signed by the advisor, it starts.
    s.sign(&s.manifest(), &s.advisor);
    start(&s, &production).await.unwrap();

    // Production with no signer key cannot start at all: the configuration says why.
    let e = Config::parse(
        &config("production", "manifest = \"authorizations.toml\""),
        "bcss.toml",
    )
    .unwrap_err();
    let ConfigError::Invalid {
        line,
        column,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!((*line, *column), (2, 1), "{e}");
    assert!(
        message.contains("environment = \"production\" requires a signed manifest"),
        "{message}"
    );
    assert!(message.contains("signers"), "{message}");

    // Outside production the default is not to require one; the legacy key still works.
    std::fs::remove_file(signature_path(&s.manifest())).unwrap();
    start(&s, &config("test", "manifest = \"authorizations.toml\""))
        .await
        .unwrap();
    // Explicitly required in test: refused.
    let required = "[manifest]\nfile = \"authorizations.toml\"\nsigners = [\"advisor.pub\"]\nrequire_signature = true";
    assert!(matches!(
        start(&s, &config("test", required))
            .await
            .map_err(bcss::Error::into_kind),
        Err(ErrorKind::Manifest(ManifestError::Signature(
            SignatureError::Missing { .. }
        )))
    ));
    // Explicitly not required in production: an unsigned manifest loads.
    let relaxed = "[manifest]\nfile = \"authorizations.toml\"\nrequire_signature = false";
    let c = Config::parse(&config("production", relaxed), "bcss.toml").unwrap();
    assert!(!c.require_manifest_signature());
    // Unknown keys in [manifest] are errors, located.
    let typo = "[manifest]\nfile = \"authorizations.toml\"\nsigner = [\"advisor.pub\"]";
    let e = Config::parse(&config("test", typo), "bcss.toml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("bcss.toml:"), "{e}");
    assert!(e.contains("signer"), "{e}");
}

/// A writer that keeps what tracing prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
