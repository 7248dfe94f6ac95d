//! # bcss
//!
//! A client for the SOAP web services of Belgium's Crossroads Bank for Social Security
//! (BCSS, KSZ), that makes BCSS's rules part of the client: every call is checked against
//! a local authorisation manifest and recorded in a tamper-evident journal before a single
//! byte is sent.
//!
//! One call, end to end, in six steps (see [`client::Client::call`]):
//! 1. *authorize*: the [`manifest::Guard`] decides, with no I/O (a denial is journaled);
//! 2. *prepare*: the request is encoded with the grant's purpose and program number (a
//!    refusal here is journaled too);
//! 3. *record_intent*: the [`audit::Journal`] records the intent durably, and only then is
//!    the [`transport::SendPermit`] made;
//! 4. *send*: the [`transport::Transport`] sends what the permit carries;
//! 5. *record_outcome*: the journal records the raw reply durably;
//! 6. *decode*: the reply is decoded, bounded and fail-safe, into a typed response, and its
//!    classification journaled.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
mod bounded;
pub mod client;
pub mod clock;
pub mod config;
pub mod endpoints;
pub mod environment;
pub mod error;
pub mod fixture;
pub mod ids;
pub mod keys;
pub mod manifest;
pub mod mock;
mod regular_file;
pub mod services;
pub mod soap;
pub mod ssdn;
pub mod transport;
pub mod v3;
pub mod xml;

pub use environment::Environment;
pub use error::{Error, ErrorKind};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
