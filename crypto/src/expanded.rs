//! ML-DSA public keys expanded for verification, kept for the keys verified most recently.
//!
//! A third of PQClean's ML-DSA verification depends on the public key alone: `tr = H(pk)`, the
//! matrix `Â` sampled from `ρ` with SHAKE128, and `NTT(t1 · 2^d)`. A relay checks every
//! envelope's signature, and most of them come from the few officers currently sending, so
//! those parts are computed once per key and kept (the vendored PQClean's `expand_pk` and
//! `verify_ctx_expanded`, `vendor/README.md` patch 7). Public data only: nothing here is
//! secret, so nothing needs wiping.
//!
//! The cache holds at most [`CAPACITY`] keys (about 64 KiB each for ML-DSA-87), least recently
//! used first out. An entry is found only by the whole encoded public key, so two keys that
//! share `ρ` (and so `Â`) but not `t1` never share an entry. Where the AVX2 code does not run,
//! nothing is expanded and verification takes the plain path.

use std::sync::{Arc, Mutex};

use pqcrypto_mldsa::{mldsa65, mldsa87};

use crate::Suite;

/// Keys kept: more than the officers sending through a relay at once (with fewer, senders
/// taking turns would push each other out before their next envelope: at 64 senders and 32
/// keys nothing was ever found); 8 MiB at most (ML-DSA-87).
pub(crate) const CAPACITY: usize = 128;

/// One suite's expanded key.
#[derive(Debug)]
pub(crate) enum Expanded {
    /// ML-DSA-65 (`LQ1`).
    Lq1(Box<mldsa65::ExpandedPublicKey>),
    /// ML-DSA-87 (`LQ2`).
    Lq2(Box<mldsa87::ExpandedPublicKey>),
}

#[derive(Debug)]
struct Entry {
    suite: Suite,
    public: Box<[u8]>,
    expanded: Arc<Expanded>,
}

/// Most recently used last.
static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn entries() -> std::sync::MutexGuard<'static, Vec<Entry>> {
    // A panic while the lock was held cannot leave an entry half-written (entries are
    // pushed whole), so a poisoned lock is still usable.
    CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The expanded form of `public` (an encoded ML-DSA public key of `suite`), from the cache or
/// made by `expand` (outside the lock) and kept; `None` when `expand` gives none (no AVX2).
pub(crate) fn expanded(
    suite: Suite,
    public: &[u8],
    expand: impl FnOnce() -> Option<Expanded>,
) -> Option<Arc<Expanded>> {
    let same_key = |e: &Entry| e.suite == suite && *e.public == *public;
    {
        let mut entries = entries();
        if let Some(at) = entries.iter().position(same_key) {
            let entry = entries.remove(at);
            let found = Arc::clone(&entry.expanded);
            entries.push(entry);
            return Some(found);
        }
    }
    let made = Arc::new(expand()?);
    let mut entries = entries();
    // Another thread may have expanded the same key meanwhile: keep one entry per key.
    entries.retain(|e| !same_key(e));
    if entries.len() >= CAPACITY {
        entries.remove(0);
    }
    entries.push(Entry {
        suite,
        public: public.into(),
        expanded: Arc::clone(&made),
    });
    Some(made)
}

/// How many keys are kept now (tests).
#[cfg(test)]
pub(crate) fn kept() -> usize {
    entries().len()
}
