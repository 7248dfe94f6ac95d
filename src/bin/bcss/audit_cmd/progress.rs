//! Progress bars for the long commands (verify, reindex, prune) on a terminal: bytes done
//! of the journal's size, records done, their rate, and the time left. Nothing is drawn
//! when stderr is not a terminal.

use std::fmt;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bcss::audit::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar on stderr, or `None` when stderr is not a terminal.
pub(super) fn bar() -> Option<Arc<dyn Progress>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    // Hidden until `start` has set the operation and its size: a frame drawn before
    // would show `0 B/0 B`.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    let style = ProgressStyle::with_template(
        "{prefix:>8} [{bar:30}] {bytes}/{total_bytes} {msg} ({bytes_per_sec}, {eta} left)",
    )
    .ok()?
    .progress_chars("=> ");
    bar.set_style(style);
    Some(Arc::new(Bar {
        bar,
        records: AtomicU64::new(0),
    }))
}

struct Bar {
    bar: ProgressBar,
    records: AtomicU64,
}

impl fmt::Debug for Bar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bar")
            .field("records", &self.records.load(Ordering::Relaxed))
            .finish()
    }
}

impl Bar {
    /// Show `records` done, and their rate.
    fn show_records(&self, records: u64) {
        let seconds = self.bar.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{records} records, {:.0} records/s",
            records as f64 / seconds
        ));
    }
}

/// Records between two updates of the records count (drawing is rate-limited anyway).
const EVERY: u64 = 1024;

impl Progress for Bar {
    fn start(&self, what: &str, total_bytes: Option<u64>) {
        self.bar.set_draw_target(ProgressDrawTarget::hidden());
        self.records.store(0, Ordering::Relaxed);
        self.bar.reset();
        self.bar.set_message("");
        self.bar.set_prefix(what.to_string());
        if let Some(total) = total_bytes {
            self.bar.set_length(total);
        }
        self.bar.set_draw_target(ProgressDrawTarget::stderr());
    }

    fn advance(&self, records: u64, bytes: u64) {
        let before = self.records.fetch_add(records, Ordering::Relaxed);
        self.bar.inc(bytes);
        let now = before + records;
        // Record by record (verify, reindex), every EVERY records; in batches (export),
        // at every batch, so that the count shown is never behind at the end.
        if now / EVERY != before / EVERY || records > 1 {
            self.show_records(now);
        }
    }

    fn finish(&self) {
        self.show_records(self.records.load(Ordering::Relaxed));
        self.bar.finish_and_clear();
    }
}
