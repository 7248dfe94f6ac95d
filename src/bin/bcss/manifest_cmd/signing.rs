//! `bcss manifest keygen | sign`, and the signature status that `check` and `list` show.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::config::Config;
use bcss::keys;
use bcss::manifest::{
    GrantedBy, ManifestError, ManifestTrust, SignatureError, SignatureStatus, check_signature,
    sign_manifest_with, signature_path,
};
use bcss::services::Catalogue;
use chrono::Utc;

/// Which keys may sign the manifest, for `check` and `list`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TrustArgs {
    /// A public key allowed to sign the manifest (SPKI PEM or 64 hex digits); repeat for
    /// several. The signature must be by one of them.
    #[arg(long = "signer-key", value_name = "KEY.pub")]
    signer_keys: Vec<PathBuf>,
    /// Take the signers and require_signature from this bcss.toml's [manifest] table.
    #[arg(long, value_name = "bcss.toml", conflicts_with = "signer_keys")]
    config: Option<PathBuf>,
    /// Refuse an unsigned manifest (with --signer-key).
    #[arg(long)]
    require_signature: bool,
}

impl TrustArgs {
    /// The bcss.toml given with `--config`, if any (its [[service]] entries are known to
    /// the manifest too).
    pub fn config(&self) -> Option<&Path> {
        self.config.as_deref()
    }

    /// The trust to check with; an error message when it cannot be built.
    fn trust(&self) -> Result<ManifestTrust, String> {
        let (files, required) = match &self.config {
            Some(path) => {
                let config = Config::load(path).map_err(|e| e.to_string())?;
                (
                    config.manifest_signer_files(),
                    config.require_manifest_signature(),
                )
            }
            None => (self.signer_keys.clone(), false),
        };
        ManifestTrust::from_key_files(&files, required || self.require_signature)
            .map_err(|e| e.to_string())
    }
}

/// The signature line of `check` and `list`: `Ok(line)` when the signature lets the
/// manifest load, `Err(line)` when it does not.
pub fn signature_line(file: &Path, args: &TrustArgs) -> Result<String, String> {
    let trust = args
        .trust()
        .map_err(|e| format!("signature: cannot check it: {e}"))?;
    match check_signature(file, &trust) {
        Ok(SignatureStatus::Unsigned) => Ok(format!(
            "signature: unsigned (no {})",
            signature_path(file).display()
        )),
        Ok(SignatureStatus::Unpinned(s)) => Ok(format!(
            "signature: signed by {s}; intact, but not checked against a configured signer \
             (give --signer-key KEY.pub or --config bcss.toml)"
        )),
        Ok(status) => Ok(format!("signature: {status}")),
        Err(ManifestError::Signature(e @ SignatureError::Missing { .. })) => {
            Err(format!("signature: REFUSED: {e}"))
        }
        Err(ManifestError::Signature(e)) => Err(format!("signature: BROKEN: {e}")),
        Err(e) => Err(format!("signature: cannot check it: {e}")),
    }
}

/// `bcss manifest keygen NAME`.
pub fn keygen(name: &Path) -> ExitCode {
    match keys::generate_key_pair(name) {
        Ok(files) => {
            outln!(
                "private key: {} (mode 0600: keep it with the signer, never on an application \
                 server)",
                files.private_key.display()
            );
            outln!("public key:  {}", files.public_key.display());
            outln!("fingerprint: {}", files.fingerprint);
            outln!(
                "pin it in bcss.toml: [manifest] signers = [\"{}\"]",
                files.public_key.display()
            );
            ExitCode::SUCCESS
        }
        Err(e @ keys::KeyError::Exists { .. }) => {
            eprintln!("bcss manifest keygen: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("bcss manifest keygen: {e}");
            ExitCode::from(2)
        }
    }
}

/// `bcss manifest sign FILE --key KEY --signer NAME --role ROLE`.
pub fn sign(
    file: &Path,
    catalogue: &Catalogue,
    key: &Path,
    signer: &str,
    role: GrantedBy,
) -> ExitCode {
    let key = match keys::load_signing_key(key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("bcss manifest sign: {e}");
            return ExitCode::from(2);
        }
    };
    match sign_manifest_with(file, catalogue, &key, signer, role, Utc::now()) {
        Ok((path, signature)) => {
            outln!(
                "signed {} (SHA-256 {}) as {}",
                file.display(),
                signature.manifest_sha256,
                signature.signer
            );
            outln!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(ManifestError::Invalid(errors)) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "bcss manifest sign: {} is invalid, so it was not signed",
                file.display()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("bcss manifest sign: {e}");
            ExitCode::from(2)
        }
    }
}

/// Parse a `--role`.
pub fn parse_role(s: &str) -> Result<GrantedBy, String> {
    GrantedBy::from_name(s).ok_or_else(|| {
        format!("'{s}' is not a role that signs requests for authorisation: leading-official, deputy or security-advisor")
    })
}
