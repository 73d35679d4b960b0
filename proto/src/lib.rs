//! Liaison proto crate (work in progress; see the issues).
#![forbid(unsafe_code)]
