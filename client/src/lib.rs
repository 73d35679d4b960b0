//! # liaison-client
//!
//! The officer-side library and the `liaison` command-line tool. Today it carries the
//! cryptographic self-demonstration (`liaison demo`); the officer workflow (keystore, enrolment,
//! send, inbox, receipts) arrives with the protocol core and the relay node.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod demo;
