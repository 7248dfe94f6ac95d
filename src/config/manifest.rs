//! The manifest's configuration: `manifest = "FILE"` or a `[manifest]` table, and who
//! may sign it.

use std::path::PathBuf;

use serde::Deserialize;

use super::Config;
use crate::environment::Environment;

/// The manifest: `manifest = "FILE"`, or a `[manifest]` table with `file`, `signers` and
/// `require_signature`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManifestConfig {
    /// The authorisation manifest.
    pub file: PathBuf,
    /// The public keys (SPKI PEM or 64 hex digits, one per file) allowed to sign it.
    pub signers: Vec<PathBuf>,
    /// Whether the manifest must carry a valid signature by one of `signers`; `None`
    /// (left out) means true in production and false elsewhere
    /// ([`Config::require_manifest_signature`]).
    pub require_signature: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestTable {
    file: PathBuf,
    #[serde(default)]
    signers: Vec<PathBuf>,
    require_signature: Option<bool>,
}

impl<'de> Deserialize<'de> for ManifestConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ManifestConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "the manifest file's path, or a [manifest] table with file, signers and \
                     require_signature",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ManifestConfig, E> {
                Ok(ManifestConfig {
                    file: PathBuf::from(v),
                    ..ManifestConfig::default()
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ManifestConfig, A::Error> {
                let t =
                    ManifestTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ManifestConfig {
                    file: t.file,
                    signers: t.signers,
                    require_signature: t.require_signature,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Config {
    /// Whether the manifest must be signed: `[manifest] require_signature`, or by default
    /// true in production and false elsewhere.
    pub fn require_manifest_signature(&self) -> bool {
        self.manifest
            .require_signature
            .unwrap_or(self.environment == Environment::Production)
    }

    /// The manifest's path, resolved against the file's folder.
    pub fn manifest_file(&self) -> PathBuf {
        self.resolve(&self.manifest.file)
    }

    /// What the manifest's signature must satisfy: the `signers` key files (resolved
    /// against the file's folder, each read now) and [`Config::require_manifest_signature`].
    pub fn manifest_trust(
        &self,
    ) -> Result<crate::manifest::ManifestTrust, crate::manifest::SignatureError> {
        crate::manifest::ManifestTrust::from_key_files(
            &self.manifest_signer_files(),
            self.require_manifest_signature(),
        )
    }

    /// The `[manifest] signers` key files, resolved against the file's folder.
    pub fn manifest_signer_files(&self) -> Vec<PathBuf> {
        self.manifest
            .signers
            .iter()
            .map(|p| self.resolve(p))
            .collect()
    }
}
