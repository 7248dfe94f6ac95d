//! The WSDL importer (`bcss::services::catalogue::import::import`): the fuzzed bytes are
//! up to three files, separated by a line `--8<--`: a WSDL (`service-test.wsdl`), the
//! schema it may import (`types.xsd`), and a second WSDL (`service-acpt.wsdl`, imported
//! with the first when present). They are written to a folder of their own, since the
//! importer reads files (and follows `schemaLocation` in the same folder).
//!
//! Checks: no panic, hang or unbounded memory; an imported service's `[[service]]` entry
//! (`Imported::to_toml`, which `bcss services import` prints to append to bcss.toml as
//! is) reads back as the same service.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use bcss::services::catalogue::Origin;
use bcss::services::catalogue::import::{ImportOptions, import};
use bcss::services::parse_services;
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &[u8] = b"\n--8<--\n";
const NAMES: [&str; 3] = ["service-test.wsdl", "types.xsd", "service-acpt.wsdl"];

/// A folder for this process's files (several fuzzing jobs may run at once), in memory
/// (/dev/shm) where there is one: the files are rewritten at every run.
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("bcss-fuzz-wsdl-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
});

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() < NAMES.len() - 1 {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

fuzz_target!(|data: &[u8]| {
    let parts = split(data);
    for (i, name) in NAMES.iter().enumerate() {
        let path = DIR.join(name);
        let written = match parts.get(i) {
            Some(bytes) => std::fs::write(&path, bytes),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if let Err(e) = written {
            panic!("cannot prepare {}: {e}", path.display());
        }
    }
    let mut files = vec![DIR.join(NAMES[0])];
    if parts.len() == NAMES.len() {
        files.push(DIR.join(NAMES[2]));
    }
    match import(&files, &ImportOptions::default()) {
        Ok(imported) => {
            let entry = imported.to_toml();
            let again = match parse_services(&entry, "bcss.toml") {
                Ok(mut s) if s.len() == 1 => s.remove(0),
                other => panic!("{entry}\nthe imported entry reads as {other:?}"),
            };
            let mut expected = imported.descriptor.clone();
            let mut found = again.descriptor().clone();
            expected.origin = Origin::BuiltIn;
            found.origin = Origin::BuiltIn;
            assert_eq!(expected, found, "{entry}");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
