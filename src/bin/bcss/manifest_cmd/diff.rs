//! `bcss manifest diff OLD NEW`: what a new version changes, for the advisor who signs it.

use std::path::Path;
use std::process::ExitCode;

use bcss::manifest::diff;
use bcss::services::Catalogue;

use super::load;

/// Print every change, one a line, and a count. Exit 0 when nothing differs, 1 when
/// something does, 2 when either manifest is invalid or unreadable.
pub fn run(old: &Path, new: &Path, catalogue: &Catalogue) -> ExitCode {
    let (Some(a), Some(b)) = (load(old, catalogue), load(new, catalogue)) else {
        return ExitCode::from(2);
    };
    let d = diff(&a, &b);
    outln!("--- {} (SHA-256 {})", old.display(), d.old.sha256);
    outln!("+++ {} (SHA-256 {})", new.display(), d.new.sha256);
    if d.is_empty() {
        outln!("no change: both authorise the same calls, in the same order");
        return ExitCode::SUCCESS;
    }
    for change in &d.changes {
        outln!("{change}");
    }
    outln!("{}", d.summary());
    ExitCode::from(1)
}
