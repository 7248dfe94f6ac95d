//! What the library says through `tracing` that a person at the command line must see: a
//! wait for a journal's lock ("Blocking waiting for the journal lock held by another
//! process (pid N)"), printed on stderr as cargo prints its own lock waits (a JSON object
//! `{"command":"bcss","waiting":...}` with `--error-format json`). Every other
//! event is left alone (the command installs no general subscriber).

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

/// Print the journal's lock waits on stderr, for the whole process.
pub fn install() {
    // Fails only when a subscriber is already installed: then that one reports.
    let _ = tracing::subscriber::set_global_default(LockWaits);
}

struct LockWaits;

impl Subscriber for LockWaits {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == bcss::audit::LOCK_WAIT_TARGET
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = Message(None);
        event.record(&mut message);
        if let Some(text) = message.0 {
            crate::exit::status("waiting", text);
        }
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// The event's `message` field.
struct Message(Option<String>);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}
