//! One exchange as a query returns it: a denial, or an intent with its outcome and
//! classification.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::{
    ClassificationRecord, DenialRecord, How, IntentRecord, OutcomeRecord, What, Who,
};

/// One exchange: a denial, or an intent and its outcome (when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Our ticket.
    pub ticket: Uuid,
    /// The denial, when the guard refused the call.
    pub denial: Option<DenialRecord>,
    /// The intent, when the call was granted.
    pub intent: Option<IntentRecord>,
    /// The outcome, when one was recorded.
    pub outcome: Option<OutcomeRecord>,
    /// The classification of the reply, when one was recorded.
    pub classification: Option<ClassificationRecord>,
    /// The sequence numbers of the records, in order.
    pub sequences: Vec<u64>,
}

impl Exchange {
    /// Every status [`Exchange::status`] gives for what `bcss::client` journals: an
    /// outcome's or a classification's kind (`ok` to `transport_error`), `received` (a
    /// reply kept but not classified), `denied`, and `no_outcome`. What
    /// [`QueryFilter::outcome`](super::QueryFilter::outcome) can usefully name.
    pub const STATUSES: [&'static str; 11] = [
        "ok",
        "warning",
        "no_data",
        "business_error",
        "soap_fault",
        "undecodable",
        "http_error",
        "transport_error",
        "received",
        "denied",
        "no_outcome",
    ];

    /// `denied`; the classification's outcome; the outcome record's kind; or `no_outcome`
    /// for an intent without an outcome (one of [`Exchange::STATUSES`]).
    pub fn status(&self) -> &str {
        match (&self.denial, &self.classification, &self.outcome) {
            (Some(_), _, _) => "denied",
            (None, Some(c), _) => &c.outcome,
            (None, None, Some(o)) => &o.outcome,
            (None, None, None) => "no_outcome",
        }
    }

    /// The business or fault code: the classification's, else the outcome's.
    pub fn code(&self) -> Option<&str> {
        self.classification
            .as_ref()
            .and_then(|c| c.code.as_deref())
            .or_else(|| self.outcome.as_ref().and_then(|o| o.code.as_deref()))
    }

    /// BCSS's ticket and timestamps: the classification's, else the outcome's.
    pub fn bcss(&self) -> Option<&crate::audit::Bcss> {
        self.classification
            .as_ref()
            .map(|c| &c.bcss)
            .or(self.outcome.as_ref().map(|o| &o.bcss))
    }

    /// When the guard decided.
    pub fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.denial
            .as_ref()
            .map(|d| d.decided_at)
            .or(self.intent.as_ref().map(|i| i.decided_at))
    }

    /// WHO.
    pub fn who(&self) -> Option<&Who> {
        self.denial
            .as_ref()
            .map(|d| &d.who)
            .or(self.intent.as_ref().map(|i| &i.who))
    }

    /// WHAT.
    pub fn what(&self) -> Option<&What> {
        self.denial
            .as_ref()
            .map(|d| &d.what)
            .or(self.intent.as_ref().map(|i| &i.what))
    }

    /// The manifest the decision was taken under (its digest and, when signed, who
    /// signed it), when the record names one.
    pub fn manifest(&self) -> Option<&crate::manifest::ManifestRef> {
        self.denial
            .as_ref()
            .and_then(|d| d.manifest.as_ref())
            .or(self.intent.as_ref().and_then(|i| i.manifest.as_ref()))
    }

    /// HOW.
    pub fn how(&self) -> Option<&How> {
        self.denial
            .as_ref()
            .map(|d| &d.how)
            .or(self.intent.as_ref().map(|i| &i.how))
    }
}
