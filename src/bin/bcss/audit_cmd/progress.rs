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
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
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

/// Records between two updates of the records count (drawing is rate-limited anyway).
const EVERY: u64 = 1024;

impl Progress for Bar {
    fn start(&self, what: &str, total_bytes: Option<u64>) {
        self.records.store(0, Ordering::Relaxed);
        self.bar.reset();
        self.bar.set_prefix(what.to_string());
        if let Some(total) = total_bytes {
            self.bar.set_length(total);
        }
    }

    fn advance(&self, records: u64, bytes: u64) {
        let before = self.records.fetch_add(records, Ordering::Relaxed);
        self.bar.inc(bytes);
        let now = before + records;
        if now / EVERY != before / EVERY {
            let seconds = self.bar.elapsed().as_secs_f64().max(0.001);
            self.bar.set_message(format!(
                "{now} records, {:.0} records/s",
                now as f64 / seconds
            ));
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
