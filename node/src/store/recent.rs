//! Queue entries the writer has just applied, kept in memory so that a forwarder draining a
//! queue gets the envelope it was woken for without a blocking-pool trip and a read
//! transaction that would fetch the bytes the writer held a moment earlier.
//!
//! Per destination the cache keeps a *tail*: every entry with a sequence number at or above
//! the tail's `from`, minus those released since. An arrival's entries are **staged** here
//! when [`super::CustodyStore::accept`] numbers them, *before* the writer applies them
//! ([`Recent::stage`]), and the destinations' forwarders are woken. A forwarder may therefore
//! hand an envelope to the next hop while this relay's writer is still committing (cut-through):
//! the upstream `Ack` still waits for the envelope's own commit, so custody is unchanged. If a
//! commit fails the cache is cleared ([`Recent::reset`]) and the sender, answered `Deferred`,
//! sends again; a copy that already went ahead is recognised downstream as a duplicate (by
//! message id), as after any crash. An arrival the writer finds to be a duplicate leaves the
//! cache with its batch. Sequence numbers are never reused within a process (one counter
//! shared with the writer), and entries reach the writer in the order of their numbers, so the
//! database's entries are always a prefix of what was staged and a forwarder's cursor past a
//! staged entry that was lost cannot hide a new one.
//!
//! [`Recent::after`] answers only when the tail covers everything after the caller's cursor;
//! otherwise the caller reads the database, which stays the source of truth (it holds only
//! committed entries, all numbered below any staged one).
//!
//! Memory is bounded by a byte budget over all tails: past it the oldest entries, whatever
//! their destination, are dropped, and their tail's `from` moves past them. A queue for an
//! offline recipient therefore ages out of the cache instead of crowding out active ones, and
//! its forwarder, when the recipient comes back, reads those entries from the database.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::{Destination, Queued};

/// Most destinations with a tail; beyond it new destinations are simply not cached.
const MAX_TAILS: usize = 4096;

/// One cached queue entry; the bytes are the stored record, shared with the other
/// destinations the envelope is queued for.
#[derive(Debug, Clone)]
struct Entry {
    message_id: [u8; 16],
    expires: u64,
    /// The record as written to the database; the envelope starts at `offset`.
    record: Arc<Vec<u8>>,
    offset: usize,
}

impl Entry {
    fn raw(&self) -> &[u8] {
        self.record.get(self.offset..).unwrap_or_default()
    }
}

#[derive(Debug, Default)]
struct Tail {
    /// Every committed, unreleased entry with a sequence number at or above this is cached.
    from: u64,
    entries: BTreeMap<u64, Entry>,
}

#[derive(Debug, Default)]
struct Inner {
    tails: HashMap<Destination, Tail>,
    /// Every cached entry by sequence number (store-wide, so oldest first) and its tail.
    order: BTreeMap<u64, Destination>,
    /// Envelope bytes held, counted once per queue entry (an upper bound: entries of one
    /// envelope for several destinations share their bytes).
    bytes: usize,
}

/// The cache (see the module documentation). Shared by the store's handles and its writer.
#[derive(Debug)]
pub(super) struct Recent {
    inner: Mutex<Inner>,
    budget: usize,
    /// One wake-up per destination, notified when entries for it are staged.
    wakeups: Mutex<HashMap<Destination, Arc<Notify>>>,
}

/// An envelope the writer just applied, to be cached for each of its queue entries.
#[derive(Debug)]
pub(super) struct Committed {
    pub(super) message_id: [u8; 16],
    pub(super) expires: u64,
    pub(super) record: Arc<Vec<u8>>,
    pub(super) offset: usize,
    /// The queue entries created for it: destination and sequence number, in order.
    pub(super) entries: Vec<(Destination, u64)>,
}

impl Recent {
    /// A cache holding at most about `budget` bytes of envelopes (0 disables it).
    pub(super) fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            budget,
            wakeups: Mutex::default(),
        }
    }

    /// The notification a forwarder for `destination` waits on: notified when the writer
    /// stages entries for it.
    pub(super) fn wakeup(&self, destination: Destination) -> Arc<Notify> {
        let mut map = self.wakeups.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(destination).or_default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The critical sections below leave the maps consistent at every step; a panic in one
        // (not expected) at worst leaves an entry the database also holds.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stages a batch's new entries before its commit (see the module doc) and wakes the
    /// forwarders of their destinations. Nothing is cached (and nobody woken) when the cache
    /// is disabled: the relay then wakes forwarders after the commit.
    pub(super) fn stage(&self, stored: &[Committed]) {
        if self.budget == 0 || stored.is_empty() {
            return;
        }
        let mut woken: Vec<Destination> = Vec::new();
        {
            let mut inner = self.lock();
            for envelope in stored {
                for &(destination, seq) in &envelope.entries {
                    let entry = Entry {
                        message_id: envelope.message_id,
                        expires: envelope.expires,
                        record: Arc::clone(&envelope.record),
                        offset: envelope.offset,
                    };
                    inner.push(destination, seq, entry, self.budget);
                    if !woken.contains(&destination) {
                        woken.push(destination);
                    }
                }
            }
        }
        for destination in woken {
            self.wakeup(destination).notify_one();
        }
    }

    /// Records a successful commit: `released` entries left their queues. `swept` (an expiry
    /// sweep removed entries) drops every tail instead.
    pub(super) fn committed(&self, released: &[(Destination, u64)], swept: bool) {
        if self.budget == 0 {
            return;
        }
        let mut inner = self.lock();
        if swept {
            *inner = Inner::default();
            return;
        }
        for &(destination, seq) in released {
            inner.release(destination, seq);
        }
    }

    /// Forgets every tail: a commit failed, so what was staged may not be in the database.
    /// Forwarders fall back to reading the database.
    pub(super) fn reset(&self) {
        *self.lock() = Inner::default();
    }

    /// Up to `limit` entries of `destination` after `after_seq`, oldest first, if the tail
    /// covers every entry after it; `None` means: read the database.
    pub(super) fn after(
        &self,
        destination: Destination,
        after_seq: u64,
        limit: usize,
    ) -> Option<Vec<Queued>> {
        let inner = self.lock();
        let tail = inner.tails.get(&destination)?;
        if after_seq.saturating_add(1) < tail.from {
            return None; // entries between the cursor and the tail may wait in the database
        }
        let start = after_seq.saturating_add(1);
        Some(
            tail.entries
                .range(start..)
                .take(limit)
                .map(|(&seq, entry)| Queued {
                    seq,
                    message_id: entry.message_id,
                    raw: entry.raw().to_vec(),
                    expires: entry.expires,
                })
                .collect(),
        )
    }

    /// Entries cached for `destination` (tests).
    #[cfg(test)]
    fn cached(&self, destination: Destination) -> Vec<u64> {
        self.lock()
            .tails
            .get(&destination)
            .map(|t| t.entries.keys().copied().collect())
            .unwrap_or_default()
    }
}

impl Inner {
    fn push(&mut self, destination: Destination, seq: u64, entry: Entry, budget: usize) {
        if !self.tails.contains_key(&destination) && self.tails.len() >= MAX_TAILS {
            return; // not cached: the forwarder reads it from the database
        }
        let len = entry.raw().len();
        let tail = self.tails.entry(destination).or_insert_with(|| Tail {
            from: seq,
            entries: BTreeMap::new(),
        });
        tail.entries.insert(seq, entry);
        self.order.insert(seq, destination);
        self.bytes += len;
        // Over budget: drop the oldest entries of any destination (sequence numbers are
        // store-wide, so the lowest is the oldest); that tail's coverage starts after them.
        while self.bytes > budget {
            let Some((old, owner)) = self.order.pop_first() else {
                break;
            };
            if let Some(tail) = self.tails.get_mut(&owner) {
                tail.from = tail.from.max(old.saturating_add(1));
                if let Some(entry) = tail.entries.remove(&old) {
                    self.bytes = self.bytes.saturating_sub(entry.raw().len());
                }
            }
        }
    }

    fn release(&mut self, destination: Destination, seq: u64) {
        if let Some(tail) = self.tails.get_mut(&destination)
            && let Some(entry) = tail.entries.remove(&seq)
        {
            self.order.remove(&seq);
            self.bytes = self.bytes.saturating_sub(entry.raw().len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(id: u8, len: usize, entries: &[(Destination, u64)]) -> Committed {
        let mut record = vec![0xee; 4];
        record.extend(std::iter::repeat_n(id, len));
        Committed {
            message_id: [id; 16],
            expires: 100,
            record: Arc::new(record),
            offset: 4,
            entries: entries.to_vec(),
        }
    }

    fn seqs(got: Option<Vec<Queued>>) -> Option<Vec<u64>> {
        got.map(|v| v.into_iter().map(|q| q.seq).collect())
    }

    #[test]
    fn answers_only_what_the_tail_covers() {
        let (x, y) = (Destination([1; 32]), Destination([2; 32]));
        let recent = Recent::new(1 << 20);
        assert_eq!(seqs(recent.after(x, 0, 10)), None, "no tail yet");
        recent.stage(&[committed(1, 10, &[(x, 5), (y, 6)])]);
        recent.committed(&[], false);
        recent.stage(&[committed(2, 10, &[(x, 7)])]);
        recent.committed(&[], false);
        // The tail of x starts at 5: a cursor at 3 may have 4 waiting in the database.
        assert_eq!(seqs(recent.after(x, 3, 10)), None);
        assert_eq!(seqs(recent.after(x, 4, 10)), Some(vec![5, 7]));
        assert_eq!(seqs(recent.after(x, 5, 10)), Some(vec![7]));
        assert_eq!(seqs(recent.after(x, 4, 1)), Some(vec![5]));
        let got = recent.after(y, 5, 10).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].message_id, got[0].expires), ([1; 16], 100));
        assert_eq!(
            got[0].raw,
            vec![1; 10],
            "the record header is not part of it"
        );
        // A release leaves the coverage as it was.
        recent.committed(&[(x, 5)], false);
        assert_eq!(seqs(recent.after(x, 4, 10)), Some(vec![7]));
        assert_eq!(seqs(recent.after(x, 7, 10)), Some(vec![]));
        // Staged and released in one batch: not cached, and still covered.
        recent.stage(&[committed(3, 10, &[(x, 8)])]);
        recent.committed(&[(x, 8)], false);
        assert_eq!(seqs(recent.after(x, 7, 10)), Some(vec![]));
        // A sweep forgets everything.
        recent.committed(&[], true);
        assert_eq!(seqs(recent.after(x, 7, 10)), None);
    }

    #[test]
    fn the_budget_drops_the_oldest_and_narrows_the_coverage() {
        let (x, y) = (Destination([1; 32]), Destination([2; 32]));
        let recent = Recent::new(250);
        recent.stage(&[committed(1, 100, &[(y, 1)])]);
        recent.committed(&[], false);
        for seq in 2..=4 {
            recent.stage(&[committed(seq as u8, 100, &[(x, seq)])]);
            recent.committed(&[], false);
        }
        // 400 bytes against 250: the oldest entries go first, whatever their queue (1 of y,
        // then 2 of x).
        assert_eq!(recent.cached(x), vec![3, 4]);
        assert_eq!(recent.cached(y), Vec::<u64>::new());
        assert_eq!(
            seqs(recent.after(x, 1, 10)),
            None,
            "2 may wait in the database"
        );
        assert_eq!(seqs(recent.after(x, 2, 10)), Some(vec![3, 4]));
        assert_eq!(
            seqs(recent.after(y, 0, 10)),
            None,
            "1 may wait in the database"
        );
        assert_eq!(seqs(recent.after(y, 1, 10)), Some(vec![]));
        // A release frees its bytes: two more fit without dropping anything.
        recent.committed(&[(x, 3)], false);
        recent.stage(&[committed(5, 100, &[(y, 5)])]);
        recent.committed(&[], false);
        assert_eq!((recent.cached(x), recent.cached(y)), (vec![4], vec![5]));
        // An entry larger than the whole budget is not kept, nor anything older.
        recent.stage(&[committed(9, 300, &[(x, 9)])]);
        recent.committed(&[], false);
        assert_eq!(recent.cached(x), Vec::<u64>::new());
        assert_eq!(recent.cached(y), Vec::<u64>::new());
        assert_eq!(seqs(recent.after(x, 4, 10)), None);
        assert_eq!(seqs(recent.after(x, 9, 10)), Some(vec![]));
        assert_eq!(seqs(recent.after(y, 5, 10)), Some(vec![]));
        assert!(recent.lock().bytes <= 250);
    }

    #[test]
    fn staged_entries_are_served_and_woken_before_the_commit_and_forgotten_if_it_fails() {
        let (x, y) = (Destination([1; 32]), Destination([2; 32]));
        let recent = Recent::new(1 << 20);
        let (wake_x, wake_y) = (recent.wakeup(x), recent.wakeup(y));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        recent.stage(&[committed(1, 10, &[(x, 5)])]);
        // The permit was stored by `notify_one`: the forwarder of x wakes at once; y's does not.
        rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(5), wake_x.notified())
                .await
                .expect("x woken by the staging");
            assert!(
                tokio::time::timeout(std::time::Duration::from_millis(20), wake_y.notified())
                    .await
                    .is_err(),
                "y has nothing staged"
            );
        });
        assert_eq!(
            seqs(recent.after(x, 4, 10)),
            Some(vec![5]),
            "served before the commit"
        );
        // The commit failed: nothing staged may be served any more.
        recent.reset();
        assert_eq!(seqs(recent.after(x, 4, 10)), None);
    }

    #[test]
    fn a_zero_budget_disables_the_cache() {
        let x = Destination([1; 32]);
        let recent = Recent::new(0);
        recent.stage(&[committed(1, 10, &[(x, 1)])]);
        recent.committed(&[], false);
        assert_eq!(seqs(recent.after(x, 0, 10)), None);
    }
}
