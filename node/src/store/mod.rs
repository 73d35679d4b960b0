//! The custody store: every envelope a relay holds, the queues it waits in, the ids it has
//! seen, and the audit log — one `redb` database, one writer thread.
//!
//! Guarantees (DESIGN.md, "Custody"):
//! * [`CustodyStore::accept`] returns only after the envelope, its queue entries, its dedup
//!   record and its audit entry are durably committed (fsync, two-phase commit as redb
//!   recommends for attacker-controlled data). Only then may the relay acknowledge upstream.
//! * Concurrent calls share one commit (group commit): the writer drains every request that
//!   arrived while the previous commit was in flight into the next transaction.
//! * An envelope leaves a queue only through [`CustodyStore::acknowledge`] (the next hop or the
//!   recipient confirmed custody) or expiry; the body is deleted when no queue holds it.
//! * The same message id is never stored twice while its expiry window lasts
//!   ([`AcceptOutcome::Duplicate`]), so an upstream retransmitting after a crash is answered
//!   without a second copy travelling on.
//! * Killing the process at any instant loses no committed envelope: redb's commit is atomic.
//! * A large envelope's chunks may be written while it arrives ([`SpoolTicket`]); they become
//!   custody only with the `Accept` of the checked envelope, and are deleted otherwise (at the
//!   latest at the next open).

mod body;
mod format;
mod recent;
mod spool;
mod writer;

pub use spool::SpoolTicket;

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use liaison_crypto::sign::SigningKey;
use redb::{ReadableDatabase, TableDefinition};
use tokio::sync::oneshot;

use crate::audit::AuditKind;

/// Envelope records by *body number* (the queue sequence number of the envelope's first queue
/// entry, so consecutive arrivals append to the same leaf pages): `be64(expires) ||
/// be32(flags | queue references) || message id (16) || envelope bytes`, the bytes in chunks
/// for envelopes over 1 MiB ([`body`]). Layout 3 (see [`STORE_FORMAT`]).
pub(crate) const ENVELOPES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("envelopes_v2");
/// Queue entries: `(destination, sequence number)` → body number.
pub(crate) const QUEUE: TableDefinition<'_, ([u8; 32], u64), u64> =
    TableDefinition::new("queue_v2");
/// Dedup records: message id → Unix seconds until which a retransmission is a duplicate.
pub(crate) const SEEN: TableDefinition<'_, [u8; 16], u64> = TableDefinition::new("seen");
/// Expiry index: `(expires, body number)`.
pub(crate) const EXPIRY: TableDefinition<'_, (u64, u64), ()> = TableDefinition::new("expiry_v2");
/// Layout of the custody tables, recorded in the audit's `meta` table under
/// `store_format` (one byte). A database without it has layout 1 (envelopes, queue entries
/// and the expiry index keyed by message id) and is converted when opened; layout 2 differs
/// only in lacking chunked bodies (envelopes over 1 MiB stored in chunks) and is re-marked.
pub const STORE_FORMAT: u8 = 3;
pub(crate) const DEPTH: TableDefinition<'_, [u8; 32], u64> = TableDefinition::new("queue_depth");
pub(crate) const COUNTERS: TableDefinition<'_, &str, u64> = TableDefinition::new("counters");
/// Signed prekeys of local officers: `(owner, created, prekey id)` → `be64(expires) || bytes`.
pub(crate) const PREKEYS: TableDefinition<'_, PrekeyKey, &[u8]> = TableDefinition::new("prekeys");
/// Key of [`PREKEYS`]: owner, creation time, prekey id (an owner's prekeys sort oldest first).
pub(crate) type PrekeyKey = ([u8; 32], u64, [u8; 32]);

/// Largest envelope the store accepts: the protocol's own limit (a relay's configured
/// `limits.max_envelope_bytes` is enforced earlier, with a `Refused` answer).
pub const MAX_ENVELOPE_BYTES: usize = liaison_proto::envelope::MAX_ENVELOPE_LEN;
/// Most destinations one envelope may be queued for.
pub const MAX_DESTINATIONS: usize = 64;

/// Where an envelope waits: the identity id of a next-hop relay or of a local recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination(pub [u8; 32]);

/// An envelope arriving for custody.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The envelope's 128-bit message id (from its verified header).
    pub message_id: [u8; 16],
    /// The exact bytes received; stored and forwarded unchanged.
    pub raw: Vec<u8>,
    /// Unix seconds after which the envelope is dropped undelivered.
    pub expires: u64,
    /// Who handed it to us (audit).
    pub from: [u8; 32],
    /// Queues to place it in: next hops and/or local recipients.
    pub destinations: Vec<Destination>,
    /// The spool that already holds most of a large envelope's bytes
    /// ([`SpoolTicket::take`]); its chunks become the body instead of being written again.
    pub spool: Option<u64>,
}

/// What [`CustodyStore::accept`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Newly stored and durable: acknowledge upstream.
    Stored,
    /// Already seen within its expiry window: acknowledge upstream, forward nothing new.
    Duplicate,
}

/// How a queued envelope left a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// The next relay acknowledged custody.
    Forwarded,
    /// The local recipient acknowledged delivery.
    Delivered,
}

/// One envelope waiting in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// Position in the queue; pass it back to [`CustodyStore::acknowledge`].
    pub seq: u64,
    /// The envelope's message id.
    pub message_id: [u8; 16],
    /// The envelope's bytes, as received.
    pub raw: Vec<u8>,
    /// Unix seconds of expiry.
    pub expires: u64,
}

/// An envelope whose expiry has passed while queues still hold it
/// ([`CustodyStore::expiring`]): the expiry sweep will drop it undelivered.
#[derive(Debug, Clone)]
pub struct Expired {
    /// The queues that still hold it.
    pub destinations: Vec<Destination>,
    /// What its non-delivery notice names.
    pub envelope: UndeliveredEnvelope,
}

/// An envelope that will not be delivered: what its non-delivery notice names.
#[derive(Debug, Clone)]
pub struct UndeliveredEnvelope {
    /// Its header (sender, recipients).
    pub header: liaison_proto::envelope::EnvelopeHeader,
    /// Its envelope hash (`spec/protocol.md` §11.3).
    pub envelope_hash: [u8; liaison_crypto::kdf::HASH_LEN],
}

/// A local officer's signed prekey, checked by the relay, to be held for senders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrekeyRecord {
    /// The owner's identity id.
    pub owner: [u8; 32],
    /// The prekey id.
    pub prekey_id: [u8; 32],
    /// Unix seconds it was created (orders an owner's prekeys).
    pub created: u64,
    /// Unix seconds after which it is swept.
    pub expires: u64,
    /// The signed prekey bytes, as published.
    pub raw: Vec<u8>,
}

/// Tuning for the writer.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Most requests folded into one commit.
    pub max_batch: usize,
    /// Sign an audit checkpoint after this many entries (and at shutdown).
    pub checkpoint_every: u64,
    /// Keep dedup records this long after an envelope's expiry (clock-skew allowance).
    pub dedup_grace_secs: u64,
    /// Bytes of just-committed envelopes kept in memory for the forwarders (0: none), so
    /// that [`CustodyStore::pending`] usually answers without reading the database.
    pub recent_bytes: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_batch: 1024,
            checkpoint_every: 256,
            dedup_grace_secs: 3600,
            recent_bytes: 8 << 20,
        }
    }
}

/// Errors from the custody store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened, read or committed.
    #[error("storage error: {0}")]
    Storage(String),
    /// The database file could not be opened (missing permissions, damaged, locked by another
    /// process); names the file, since an operator may run several relays.
    #[error("cannot open the custody database {}: {reason}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Stored data does not decode: the file was damaged outside redb's guarantees.
    #[error("custody database corrupt: {0}")]
    Corrupt(&'static str),
    /// The database belongs to a different node identity.
    #[error("custody database was created by a different node key; refusing to mix audit logs")]
    NodeKeyChanged,
    /// The request was malformed (caller bug or hostile input caught late).
    #[error("invalid custody request: {0}")]
    Invalid(&'static str),
    /// The writer thread has stopped (shutdown in progress or a fatal storage error).
    #[error("custody writer has stopped")]
    Closed,
    /// The database was written by a newer build, in a layout this one does not know.
    #[error("custody database layout {0} is newer than this build supports ({STORE_FORMAT})")]
    UnsupportedFormat(u8),
    /// Signing an audit checkpoint failed.
    #[error("audit checkpoint signing failed: {0}")]
    Signing(#[from] liaison_crypto::CryptoError),
}

macro_rules! storage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                Self::Storage(e.to_string())
            }
        }
    )*};
}
storage_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// Handle to the custody store. Cheap to clone; all clones feed the one writer.
#[derive(Debug, Clone)]
pub struct CustodyStore {
    db: Arc<redb::Database>,
    recent: Arc<recent::Recent>,
    depths: Arc<Depths>,
    path: PathBuf,
    ops: tokio::sync::mpsc::Sender<writer::Op>,
    /// The next queue sequence number, shared with the writer.
    next_seq: Arc<AtomicU64>,
    /// Ids staged ahead of the writer lately ([`STAGED_IDS`]); locked while an `Accept` is
    /// numbered, staged and queued for the writer, so the writer applies them in the order of
    /// their numbers.
    staged_ids: Arc<Mutex<StagedIds>>,
}

/// Message ids remembered as staged ahead of the writer: enough to stop a copy that comes
/// straight back (a routing loop, a retransmission racing its original) from being passed on
/// again before the writer's dedup check, which stays the authority.
const STAGED_IDS: usize = 32_768;

/// The last [`STAGED_IDS`] ids staged ahead of the writer, oldest forgotten first.
#[derive(Debug, Default)]
struct StagedIds {
    set: HashSet<[u8; 16]>,
    order: VecDeque<[u8; 16]>,
}

impl StagedIds {
    /// Remembers `id`; false if it was remembered already.
    fn insert(&mut self, id: [u8; 16]) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > STAGED_IDS
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

impl CustodyStore {
    /// Opens (or creates) the database at `path` and starts the writer thread. The file is
    /// created with mode 0600. A database created under another node key is refused.
    pub fn open(
        path: &Path,
        signer: Arc<SigningKey>,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        if !path.exists() {
            create_private_file(path)?;
        }
        let db = Arc::new(redb::Database::create(path).map_err(|e| StoreError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })?);
        // The writer reads the audit head and checks the node key first: a damaged file fails
        // there too, and the error names the file.
        let recent = Arc::new(recent::Recent::new(config.recent_bytes));
        let depths = Arc::new(Depths::default());
        let next_seq = Arc::new(AtomicU64::new(0));
        let ops = writer::spawn(
            Arc::clone(&db),
            (
                Arc::clone(&recent),
                Arc::clone(&depths),
                Arc::clone(&next_seq),
            ),
            signer,
            config,
        )
        .map_err(|e| match e {
            StoreError::Storage(reason) => StoreError::Open {
                path: path.to_owned(),
                reason,
            },
            StoreError::Corrupt(what) => StoreError::Open {
                path: path.to_owned(),
                reason: format!("corrupt: {what}"),
            },
            other => other,
        })?;
        Ok(Self {
            db,
            recent,
            depths,
            path: path.to_owned(),
            ops,
            next_seq,
            staged_ids: Arc::default(),
        })
    }

    /// Sinks that write the parts of large envelopes to this store while they arrive; give
    /// them to the links ([`crate::link::Link::set_part_sinks`]). Each complete envelope
    /// comes with a [`SpoolTicket`].
    pub fn part_sinks(&self) -> liaison_proto::envelope_parts::PartSinks {
        spool::sinks(self.ops.clone())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> writer::Op,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        // The channel is bounded: when the writer is saturated this waits (without holding a
        // runtime thread) until it drains.
        self.ops
            .send(make(tx))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Takes custody of an envelope; returns once it is durable (or recognised as a duplicate).
    /// Its queue entries are numbered and handed to the forwarders first (cut-through,
    /// `recent`), so it may reach the next hop before this returns.
    pub async fn accept(&self, incoming: Incoming, now: u64) -> Result<AcceptOutcome, StoreError> {
        if incoming.raw.len() > MAX_ENVELOPE_BYTES {
            return Err(StoreError::Invalid("envelope too large"));
        }
        if incoming.destinations.is_empty() || incoming.destinations.len() > MAX_DESTINATIONS {
            return Err(StoreError::Invalid("destination count out of range"));
        }
        // Numbered and staged for the forwarders here, before the writer sees it: the next
        // hop or the recipient gets it while the writer may still be committing an earlier
        // batch (cut-through, see `recent`). The `Accept` answers after the commit, as always.
        // Only an id not staged here lately: a copy sent on again would reach the next hop
        // again, and a relay routing it back would send it back in turn. Such a copy is left
        // to the writer, which stages it after its dedup check if it is not a duplicate.
        let permit = self.ops.reserve().await.map_err(|_| StoreError::Closed)?;
        let (tx, rx) = oneshot::channel();
        let id = incoming.message_id;
        {
            let mut recent_ids = self.staged_ids.lock().unwrap_or_else(|p| p.into_inner());
            let fresh = recent_ids.insert(id);
            // Numbered here in every case, so the writer applies entries in the order of their
            // numbers and the database's entries are always a prefix of those handed out.
            let mut incoming = incoming;
            let mut destinations = std::mem::take(&mut incoming.destinations);
            destinations.sort_unstable();
            destinations.dedup();
            // At most MAX_DESTINATIONS: fits.
            let first = self
                .next_seq
                .fetch_add(destinations.len() as u64, Ordering::AcqRel);
            let entries: Vec<(Destination, u64)> = destinations.into_iter().zip(first..).collect();
            let record = Arc::new(std::mem::take(&mut incoming.raw));
            if fresh {
                self.recent.stage(&[recent::Committed {
                    message_id: id,
                    expires: incoming.expires,
                    record: Arc::clone(&record),
                    offset: 0,
                    entries: entries.clone(),
                }]);
            }
            permit.send(writer::Op::Accept {
                incoming,
                now,
                reply: tx,
                numbered: Some(writer::Numbered {
                    entries,
                    record,
                    staged: fresh,
                }),
            });
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Removes one queue entry after the next hop or recipient acknowledged it. Returns false
    /// if it was already gone (a repeated ack is harmless).
    ///
    /// A commit holding only releases skips the fsync; it becomes durable with the next
    /// arrival's commit, at close, or after `MAX_LAZY_COMMITS` (64) such commits. After a
    /// crash before that, the entry is handed off again and recognised as a duplicate.
    pub async fn acknowledge(
        &self,
        destination: Destination,
        seq: u64,
        how: Handoff,
        now: u64,
    ) -> Result<bool, StoreError> {
        Ok(self.acknowledge_many(destination, &[seq], how, now).await? == 1)
    }

    /// [`Self::acknowledge`] for several entries of one destination: the requests are queued
    /// together, so the writer commits them in one transaction. Returns how many were still
    /// there.
    pub async fn acknowledge_many(
        &self,
        destination: Destination,
        seqs: &[u64],
        how: Handoff,
        now: u64,
    ) -> Result<usize, StoreError> {
        let mut replies = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            let (reply, rx) = oneshot::channel();
            self.ops
                .send(writer::Op::Ack {
                    destination,
                    seq,
                    how,
                    now,
                    reply,
                })
                .await
                .map_err(|_| StoreError::Closed)?;
            replies.push(rx);
        }
        let mut removed = 0;
        for rx in replies {
            removed += usize::from(rx.await.map_err(|_| StoreError::Closed)??);
        }
        Ok(removed)
    }

    /// Records a refusal in the audit log (nothing is stored).
    pub async fn record_refusal(
        &self,
        message_id: [u8; 16],
        from: [u8; 32],
        reason: String,
        now: u64,
    ) -> Result<(), StoreError> {
        self.request(|reply| writer::Op::Audit {
            kind: AuditKind::Refused,
            message_id,
            peer: from,
            detail: reason,
            now,
            reply,
        })
        .await
    }

    /// Drops every envelope whose expiry is at or before `now` (audited as expired), prunes
    /// old dedup records and drops expired prekeys. Returns the expired message ids.
    pub async fn sweep_expired(&self, now: u64) -> Result<Vec<[u8; 16]>, StoreError> {
        self.request(|reply| writer::Op::Sweep { now, reply }).await
    }

    /// Holds a local officer's signed prekey durably, keeping only the owner's `keep` newest;
    /// returns once committed. [`AcceptOutcome::Duplicate`] if that prekey is already held.
    /// Expired prekeys are dropped by [`Self::sweep_expired`].
    pub async fn put_prekey(
        &self,
        record: PrekeyRecord,
        keep: usize,
    ) -> Result<AcceptOutcome, StoreError> {
        if record.raw.len() > liaison_proto::prekey::MAX_SIGNED_PREKEY_LEN || keep == 0 {
            return Err(StoreError::Invalid("prekey too large or nothing to keep"));
        }
        self.request(|reply| writer::Op::PutPrekey {
            record: Box::new(record),
            keep,
            reply,
        })
        .await
    }

    /// The signed prekeys held for `owner`, newest first, with their expiry.
    pub async fn prekeys(&self, owner: [u8; 32]) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read()?;
            let Ok(table) = txn.open_table(PREKEYS) else {
                return Ok(Vec::new()); // none was ever published
            };
            let mut out = Vec::new();
            for item in table.range((owner, 0, [0; 32])..=(owner, u64::MAX, [0xff; 32]))? {
                let (_, value) = item?;
                let (expires, raw) = writer::decode_prekey_value(value.value())?;
                out.push((expires, raw.to_vec()));
            }
            out.reverse();
            Ok(out)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Signs an audit checkpoint now and stops the writer. Later calls fail with `Closed`.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.request(|reply| writer::Op::Shutdown { reply }).await
    }

    /// The envelopes that [`Self::sweep_expired`] at `now` would drop while queues still hold
    /// them, with what their non-delivery notices need. Read from a snapshot on the blocking
    /// pool (a large envelope is hashed chunk by chunk, never joined), so the writer is not
    /// held up; receipts and notices are left out (no notice is issued about them).
    pub async fn expiring(&self, now: u64) -> Result<Vec<Expired>, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || read_expiring(&db, now))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// Up to `limit` envelopes waiting for `destination`, oldest first, after `after_seq`.
    ///
    /// Entries committed lately come from memory when they cover everything after
    /// `after_seq` (a forwarder keeping up with its queue); otherwise, and always for
    /// `after_seq = None`, the database is read on the blocking pool.
    pub async fn pending(
        &self,
        destination: Destination,
        after_seq: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Queued>, StoreError> {
        if let Some(after) = after_seq
            && let Some(cached) = self.recent.after(destination, after, limit)
        {
            return Ok(cached);
        }
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || read_pending(&db, destination, after_seq, limit))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// What a forwarder for `destination` waits on: notified as soon as new entries for it are
    /// numbered, before the writer commits them (cut-through; `recent` module doc).
    pub fn wakeup(&self, destination: Destination) -> Arc<tokio::sync::Notify> {
        self.recent.wakeup(destination)
    }

    /// Items waiting for `destination` (from the counter kept in the same transactions).
    pub async fn depth(&self, destination: Destination) -> Result<u64, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.depth_blocking(destination))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// [`Self::depth`] for code already on a blocking thread: it opens a read transaction
    /// (which may touch the disk), so never call it on the async runtime.
    pub fn depth_blocking(&self, destination: Destination) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let Ok(table) = txn.open_table(DEPTH) else {
            return Ok(0);
        };
        Ok(table.get(destination.0)?.map_or(0, |v| v.value()))
    }

    /// The queue depth of `destination` as of the last commit, from memory: for admission
    /// checks on the async runtime (the same number [`Self::depth`] reads from the database).
    pub fn depth_now(&self, destination: Destination) -> u64 {
        self.depths.get(destination)
    }

    /// Queue depth per destination (from counters kept in the same transactions).
    pub async fn depths(&self) -> Result<Vec<(Destination, u64)>, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read()?;
            let table = txn.open_table(DEPTH)?;
            let mut out = Vec::new();
            for item in table.range::<[u8; 32]>(..)? {
                let (k, v) = item?;
                out.push((Destination(k.value()), v.value()));
            }
            Ok(out)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Store-wide counters: `stored`, `duplicates`, `forwarded`, `delivered`, `expired`,
    /// `refused`, `commits`, and `audit_entries`.
    pub async fn counters(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read()?;
            let mut out = Vec::new();
            if let Ok(table) = txn.open_table(COUNTERS) {
                for item in table.range::<&str>(..)? {
                    let (k, v) = item?;
                    out.push((k.value().to_owned(), v.value()));
                }
            }
            out.push((
                "audit_entries".to_owned(),
                crate::audit::entry_count(&txn).unwrap_or(0),
            ));
            Ok(out)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

/// Bytes of envelopes one read of a queue returns at most (past the first envelope).
const PENDING_READ_BYTES: usize = 64 << 20;

fn read_pending(
    db: &redb::Database,
    destination: Destination,
    after_seq: Option<u64>,
    limit: usize,
) -> Result<Vec<Queued>, StoreError> {
    let txn = db.begin_read()?;
    let (Ok(queue), Ok(envelopes), Ok(chunks)) = (
        txn.open_table(QUEUE),
        txn.open_table(ENVELOPES),
        txn.open_table(body::ENVELOPE_CHUNKS),
    ) else {
        return Ok(Vec::new()); // nothing was ever stored
    };
    let start = after_seq.map_or(0, |s| s.saturating_add(1));
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for item in queue.range((destination.0, start)..=(destination.0, u64::MAX))? {
        // A window of large envelopes is read a few at a time, not all into memory at once.
        if out.len() >= limit || bytes >= PENDING_READ_BYTES {
            break;
        }
        let (key, body) = item?;
        let (_, seq) = key.value();
        let record = envelopes
            .get(body.value())?
            .ok_or(StoreError::Corrupt("queued envelope without body"))?;
        let record = body::decode_record(record.value())?;
        let raw = body::load(&chunks, body.value(), &record, MAX_ENVELOPE_BYTES)?;
        bytes = bytes.saturating_add(raw.len());
        out.push(Queued {
            seq,
            message_id: record.id,
            raw,
            expires: record.expires,
        });
    }
    Ok(out)
}

/// [`CustodyStore::expiring`] on the calling thread.
fn read_expiring(db: &redb::Database, now: u64) -> Result<Vec<Expired>, StoreError> {
    let txn = db.begin_read()?;
    let (Ok(expiry), Ok(queue), Ok(envelopes), Ok(chunks)) = (
        txn.open_table(EXPIRY),
        txn.open_table(QUEUE),
        txn.open_table(ENVELOPES),
        txn.open_table(body::ENVELOPE_CHUNKS),
    ) else {
        return Ok(Vec::new()); // nothing was ever stored
    };
    let mut held: std::collections::BTreeMap<u64, Vec<Destination>> = Default::default();
    for item in expiry.range((0u64, 0u64)..=(now, u64::MAX))? {
        held.insert(item?.0.value().1, Vec::new());
    }
    if held.is_empty() {
        return Ok(Vec::new());
    }
    for item in queue.range::<([u8; 32], u64)>(..)? {
        let (key, body) = item?;
        if let Some(queues) = held.get_mut(&body.value()) {
            let dest = Destination(key.value().0);
            if !queues.contains(&dest) {
                queues.push(dest);
            }
        }
    }
    let mut out = Vec::new();
    for (body, destinations) in held {
        if destinations.is_empty() {
            continue; // handed on or delivered everywhere: nobody to tell
        }
        let Some(record) = envelopes.get(body)? else {
            continue;
        };
        if let Some(envelope) = body::undelivered(&chunks, body, record.value()) {
            out.push(Expired {
                destinations,
                envelope,
            });
        }
    }
    Ok(out)
}

fn create_private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| StoreError::Storage(format!("cannot create {}: {e}", path.display())))
}

/// Queue depths as of the last commit, kept in memory by the writer (loaded at open, updated
/// after each successful commit) so that admission checks read no database.
#[derive(Debug, Default)]
struct Depths(Mutex<std::collections::HashMap<[u8; 32], u64>>);

impl Depths {
    fn get(&self, destination: Destination) -> u64 {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&destination.0).copied().unwrap_or(0)
    }

    /// Sets the depths a commit wrote (0: the queue is empty).
    fn set(&self, depths: &[([u8; 32], u64)]) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for &(destination, depth) in depths {
            if depth == 0 {
                map.remove(&destination);
            } else {
                map.insert(destination, depth);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use liaison_crypto::Suite;

    use super::*;

    fn record(owner: u8, created: u64, expires: u64) -> PrekeyRecord {
        PrekeyRecord {
            owner: [owner; 32],
            prekey_id: [created as u8; 32],
            created,
            expires,
            raw: vec![owner, created as u8],
        }
    }

    fn node_key() -> Arc<SigningKey> {
        Arc::new(SigningKey::generate(
            Suite::Lq2,
            &mut liaison_crypto::rng::os_rng(),
        ))
    }

    fn envelope(n: u8, expires: u64, destinations: &[Destination]) -> Incoming {
        Incoming {
            message_id: [n; 16],
            raw: vec![n; 64 + usize::from(n)],
            expires,
            from: [9; 32],
            destinations: destinations.to_vec(),
            spool: None,
        }
    }

    /// The in-memory queue depths (admission checks) follow every commit, arrivals and
    /// releases alike, equal what the database says, and are loaded again at open.
    #[tokio::test]
    async fn queue_depths_in_memory_follow_the_commits_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        let key = node_key();
        let (x, y) = (Destination([1; 32]), Destination([2; 32]));
        let both = |store: &CustodyStore, d| {
            let now = store.depth_now(d);
            (now, store.depth_blocking(d).unwrap())
        };
        {
            let store =
                CustodyStore::open(&path, Arc::clone(&key), StoreConfig::default()).unwrap();
            assert_eq!(both(&store, x), (0, 0));
            for n in 1..=3 {
                store
                    .accept(envelope(n, u64::MAX, &[x, y]), 1)
                    .await
                    .unwrap();
            }
            store.accept(envelope(4, u64::MAX, &[x]), 1).await.unwrap();
            assert_eq!(both(&store, x), (4, 4));
            assert_eq!(both(&store, y), (3, 3));
            let y_seqs: Vec<u64> = store
                .pending(y, None, 10)
                .await
                .unwrap()
                .iter()
                .map(|q| q.seq)
                .collect();
            store
                .acknowledge_many(y, &y_seqs, Handoff::Forwarded, 2)
                .await
                .unwrap();
            assert_eq!(both(&store, y), (0, 0));
            assert_eq!(both(&store, x), (4, 4));
            store.close().await.unwrap();
        }
        let store = CustodyStore::open(&path, key, StoreConfig::default()).unwrap();
        assert_eq!(both(&store, x), (4, 4));
        assert_eq!(both(&store, y), (0, 0));
    }

    /// A new store holding envelope 1 for `x`, committed, and that entry as read back.
    async fn holding_one_for(x: Destination) -> (tempfile::TempDir, CustodyStore, Vec<Queued>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        let store = CustodyStore::open(&path, node_key(), StoreConfig::default()).unwrap();
        store.accept(envelope(1, u64::MAX, &[x]), 1).await.unwrap();
        let first = store.pending(x, None, 10).await.unwrap();
        assert_eq!(first.len(), 1);
        (dir, store, first)
    }

    /// An arrival is numbered and handed to its forwarders before the writer even starts on
    /// it: held up behind another write transaction (as behind a slow fsync), the writer has
    /// not applied it, yet the forwarder of its queue is woken and served it from memory. The
    /// `Accept` still answers only after its commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn arrivals_reach_their_forwarders_before_the_writer_gets_to_them() {
        let x = Destination([1; 32]);
        let (_dir, store, first) = holding_one_for(x).await;
        let wake = store.wakeup(x);
        // The first arrival's wake-up, not waited for, is still pending: take it.
        wake.notified().await;
        let blocker = store.db.begin_write().unwrap();
        let accepting = tokio::spawn({
            let store = store.clone();
            async move { store.accept(envelope(2, u64::MAX, &[x]), 1).await }
        });
        tokio::time::timeout(std::time::Duration::from_secs(10), wake.notified())
            .await
            .expect("the forwarder is woken while the writer is held up");
        let served = store.pending(x, Some(first[0].seq), 10).await.unwrap();
        assert_eq!(
            served.iter().map(|q| q.message_id).collect::<Vec<_>>(),
            vec![[2; 16]]
        );
        assert!(!accepting.is_finished(), "answered only after its commit");
        drop(blocker);
        assert_eq!(accepting.await.unwrap().unwrap(), AcceptOutcome::Stored);
        let committed = read_pending(&store.db, x, Some(first[0].seq), 10).unwrap();
        assert_eq!(
            committed[0].seq, served[0].seq,
            "committed under the number it was sent with"
        );
    }

    /// A copy of an envelope staged here lately is not handed to the forwarders ahead of the
    /// writer again, whether the first is committed or still on its way: the writer finds it
    /// out. Otherwise two relays routing it to each other would pass it back and forth.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn duplicates_are_not_staged_ahead_of_the_writer() {
        let x = Destination([1; 32]);
        let (_dir, store, first) = holding_one_for(x).await;
        let blocker = store.db.begin_write().unwrap();
        let spawn_accept = |n| {
            let store = store.clone();
            tokio::spawn(async move { store.accept(envelope(n, u64::MAX, &[x]), 1).await })
        };
        // Seen before, then new twice over: only the first copy of the new one is staged.
        let (again, new, new_again) = (spawn_accept(1), spawn_accept(2), spawn_accept(2));
        let after = first[0].seq;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store.pending(x, Some(after), 10).await.unwrap().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the new one is staged"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let staged = store.pending(x, Some(after), 10).await.unwrap();
        assert_eq!(
            staged.iter().map(|q| q.message_id).collect::<Vec<_>>(),
            vec![[2; 16]],
            "neither duplicate went ahead"
        );
        drop(blocker);
        let outcomes = [
            again.await.unwrap().unwrap(),
            new.await.unwrap().unwrap(),
            new_again.await.unwrap().unwrap(),
        ];
        let stored = outcomes
            .iter()
            .filter(|o| **o == AcceptOutcome::Stored)
            .count();
        assert_eq!(outcomes[0], AcceptOutcome::Duplicate);
        assert_eq!(stored, 1, "{outcomes:?}");
        assert_eq!(store.pending(x, None, 10).await.unwrap().len(), 2);
    }

    /// An envelope over 1 MiB is stored in chunks: read back byte for byte by every queue
    /// holding it, its chunks kept while one queue still does, and dropped with its last
    /// queue entry or by the expiry sweep; nothing of it is left behind.
    #[tokio::test]
    async fn large_envelopes_are_chunked_released_and_swept_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        let key = node_key();
        let (x, y) = (Destination([1; 32]), Destination([2; 32]));
        let store = CustodyStore::open(&path, Arc::clone(&key), StoreConfig::default()).unwrap();
        let big = |n: u8, expires| Incoming {
            message_id: [n; 16],
            raw: (0..2 * body::CHUNK_LEN + 1000)
                .map(|i| (i % 253) as u8 ^ n)
                .collect(),
            expires,
            from: [9; 32],
            destinations: vec![x, y],
            spool: None,
        };
        let chunks = |store: &CustodyStore| {
            use redb::ReadableTableMetadata;
            let txn = store.db.begin_read().unwrap();
            txn.open_table(body::ENVELOPE_CHUNKS)
                .unwrap()
                .len()
                .unwrap()
        };
        let a = big(1, 5_000);
        store.accept(a.clone(), 1_000).await.unwrap();
        store.accept(big(2, 1_500), 1_000).await.unwrap();
        assert_eq!(chunks(&store), 6, "three chunks each");
        for d in [x, y] {
            let got = read_pending(&store.db, d, None, 10).unwrap();
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].raw, a.raw, "read back exactly");
            assert_eq!((got[0].message_id, got[0].expires), ([1; 16], 5_000));
        }
        // One of A's two queues releases it: its chunks stay for the other.
        let seq_x = read_pending(&store.db, x, None, 1).unwrap()[0].seq;
        assert!(
            store
                .acknowledge(x, seq_x, Handoff::Forwarded, 1_000)
                .await
                .unwrap()
        );
        assert_eq!(chunks(&store), 6);
        let got = read_pending(&store.db, y, None, 1).unwrap();
        assert_eq!(got[0].raw, a.raw);
        assert!(
            store
                .acknowledge(y, got[0].seq, Handoff::Delivered, 1_000)
                .await
                .unwrap()
        );
        assert_eq!(
            chunks(&store),
            3,
            "A's chunks went with its last queue entry"
        );
        // B expires: the sweep drops its chunks too.
        assert_eq!(store.sweep_expired(2_000).await.unwrap(), vec![[2; 16]]);
        assert_eq!(chunks(&store), 0);
        store.close().await.unwrap();
    }

    /// What `pending` answers from memory is exactly what the database holds, through
    /// arrivals, releases, a sweep and a reopen.
    #[tokio::test]
    async fn pending_from_memory_matches_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        let key = node_key();
        let (x, y) = (Destination([1; 32]), Destination([2; 32]));
        let now = 1_000;
        let store = CustodyStore::open(&path, Arc::clone(&key), StoreConfig::default()).unwrap();
        let from_db = |after, limit| read_pending(&store.db, x, after, limit).unwrap();
        for n in 1..=3 {
            store
                .accept(envelope(n, 5_000, &[x, y]), now)
                .await
                .unwrap();
        }
        let first = store.pending(x, None, 2).await.unwrap();
        assert_eq!(first, from_db(None, 2));
        let cursor = first.last().map(|q| q.seq);
        for n in 4..=5 {
            store.accept(envelope(n, 2_000, &[x]), now).await.unwrap();
        }
        assert!(store.recent.after(x, cursor.unwrap(), 10).is_some());
        let next = store.pending(x, cursor, 10).await.unwrap();
        assert_eq!(next.len(), 3);
        assert_eq!(next, from_db(cursor, 10));
        assert_eq!(next[1].raw, vec![4; 68]);
        assert!(
            store
                .acknowledge(x, next[1].seq, Handoff::Forwarded, now)
                .await
                .unwrap()
        );
        assert_eq!(
            store.pending(x, cursor, 10).await.unwrap(),
            from_db(cursor, 10)
        );
        assert_eq!(
            store.pending(x, cursor, 1).await.unwrap(),
            from_db(cursor, 1)
        );
        // The sweep drops envelope 5 (and forgets the cache): the database answers again.
        assert_eq!(store.sweep_expired(3_000).await.unwrap(), vec![[5; 16]]);
        assert!(store.recent.after(x, cursor.unwrap(), 10).is_none());
        let after_sweep = store.pending(x, cursor, 10).await.unwrap();
        assert_eq!(
            after_sweep.iter().map(|q| q.message_id).collect::<Vec<_>>(),
            vec![[3; 16]]
        );
        store.close().await.unwrap();
        drop(store);

        let store = CustodyStore::open(&path, key, StoreConfig::default()).unwrap();
        assert!(store.recent.after(x, cursor.unwrap(), 10).is_none());
        assert_eq!(store.pending(x, cursor, 10).await.unwrap(), after_sweep);
        assert_eq!(store.pending(y, None, 10).await.unwrap().len(), 3);
        store.close().await.unwrap();
    }

    #[tokio::test]
    async fn prekeys_keep_the_newest_per_owner_survive_reopen_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        let key = node_key();
        let store = CustodyStore::open(&path, Arc::clone(&key), StoreConfig::default()).unwrap();
        for created in [10, 40, 20, 30] {
            let outcome = store
                .put_prekey(record(1, created, 1000 + created), 3)
                .await;
            assert_eq!(outcome.unwrap(), AcceptOutcome::Stored);
        }
        assert_eq!(
            store.put_prekey(record(1, 40, 1040), 3).await.unwrap(),
            AcceptOutcome::Duplicate
        );
        store.put_prekey(record(2, 5, 50), 3).await.unwrap();
        let held: Vec<u64> = store
            .prekeys([1; 32])
            .await
            .unwrap()
            .into_iter()
            .map(|(expires, _)| expires)
            .collect();
        assert_eq!(held, vec![1040, 1030, 1020], "newest first, oldest dropped");
        store.close().await.unwrap();
        drop(store);

        let store = CustodyStore::open(&path, key, StoreConfig::default()).unwrap();
        assert_eq!(store.prekeys([1; 32]).await.unwrap().len(), 3);
        store.sweep_expired(1025).await.unwrap();
        let left: Vec<u64> = store
            .prekeys([1; 32])
            .await
            .unwrap()
            .into_iter()
            .map(|(expires, _)| expires)
            .collect();
        assert_eq!(left, vec![1040, 1030]);
        assert!(store.prekeys([2; 32]).await.unwrap().is_empty());
        assert!(store.prekeys([3; 32]).await.unwrap().is_empty());
        store.close().await.unwrap();
    }
}
