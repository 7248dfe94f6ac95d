//! Where secrets come from, and how they are read without leaking.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::transport::TransportError;

/// The largest password, key or certificate file read (1 MiB): such files are a few
/// kilobytes, and a bound keeps a wrong path (a device, a huge log) from exhausting memory.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Where a password is read from. Passwords are never given inline: they come from the
/// environment or from a file, are read once when the transport is built, and are wiped
/// from memory after use.
///
/// A missing or empty source is a [`TransportError::Config`] that names the variable or
/// file, never the value.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The value of this environment variable, taken as is.
    Env(String),
    /// The content of this file (UTF-8); one trailing line break (`\n` or `\r\n`) is
    /// removed, so `echo secret > file` works.
    File(PathBuf),
}

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names where the password lives, which is not secret; the value is never held here.
        match self {
            Self::Env(name) => f.debug_tuple("Env").field(name).finish(),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "environment variable {name}"),
            Self::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

impl PasswordSource {
    /// Reads the password. `purpose` says what it is for, in error messages
    /// ("HTTP Basic password", "PKCS#12 password").
    pub(crate) fn read(&self, purpose: &str) -> Result<Zeroizing<String>, TransportError> {
        let value = match self {
            Self::Env(name) => {
                if name.is_empty() || name.contains(['=', '\0']) {
                    return Err(TransportError::Config(format!(
                        "{purpose}: `{name}` is not a valid environment variable name"
                    )));
                }
                match std::env::var(name) {
                    Ok(v) => Zeroizing::new(v),
                    Err(std::env::VarError::NotPresent) => {
                        return Err(TransportError::Config(format!(
                            "{purpose}: environment variable {name} is not set"
                        )));
                    }
                    Err(std::env::VarError::NotUnicode(_)) => {
                        return Err(TransportError::Config(format!(
                            "{purpose}: environment variable {name} is not valid UTF-8"
                        )));
                    }
                }
            }
            Self::File(path) => {
                let bytes = read_capped(path, purpose)?;
                let mut text = match String::from_utf8(bytes.to_vec()) {
                    Ok(t) => Zeroizing::new(t),
                    Err(e) => {
                        // Wipe the copy held by the error too.
                        let _wiped = Zeroizing::new(e.into_bytes());
                        return Err(TransportError::Config(format!(
                            "{purpose}: file {} is not valid UTF-8",
                            path.display()
                        )));
                    }
                };
                if text.ends_with('\n') {
                    text.pop();
                    if text.ends_with('\r') {
                        text.pop();
                    }
                }
                text
            }
        };
        if value.is_empty() {
            return Err(TransportError::Config(format!(
                "{purpose}: {self} is empty"
            )));
        }
        Ok(value)
    }
}

/// Reads a whole file of at most [`MAX_FILE_BYTES`]; the buffer is wiped when dropped.
/// Errors name the file and `what` it was for, never its content.
pub(crate) fn read_capped(path: &Path, what: &str) -> Result<Zeroizing<Vec<u8>>, TransportError> {
    let file = std::fs::File::open(path).map_err(|e| {
        TransportError::Config(format!("{what}: cannot open {}: {e}", path.display()))
    })?;
    // Sized up front so that reading does not reallocate, leaving unwiped copies behind.
    let expected = file.metadata().map_or(0, |m| m.len()).min(MAX_FILE_BYTES);
    let mut buffer = Zeroizing::new(Vec::with_capacity(
        usize::try_from(expected).unwrap_or(0).saturating_add(1),
    ));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buffer)
        .map_err(|e| {
            TransportError::Config(format!("{what}: cannot read {}: {e}", path.display()))
        })?;
    if buffer.len() as u64 > MAX_FILE_BYTES {
        return Err(TransportError::Config(format!(
            "{what}: {} is larger than {MAX_FILE_BYTES} bytes; is it the right file?",
            path.display()
        )));
    }
    Ok(buffer)
}
