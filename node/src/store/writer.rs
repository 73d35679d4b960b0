//! The custody writer: one thread owns every write transaction. It blocks for the first
//! request, drains whatever else is already waiting (up to `max_batch`), applies them all in
//! one transaction with immediate durability and two-phase commit, then answers every waiter.
//! Under load each fsync is shared by many envelopes (group commit); idle, latency is one commit.
//!
//! An arrival's queue entries are numbered and staged in the in-memory tail
//! ([`Recent::stage`]) by [`super::CustodyStore::accept`] before its `Accept` reaches this
//! thread, in the order the writer applies them, so a forwarder can send it on while the writer
//! is still committing earlier batches (a slow fsync no longer holds up what arrives behind
//! it); callers (the upstream `Ack`) still hear only after their own commit. An `Accept`
//! without numbers (tests) is numbered and staged here, after it is applied and before the
//! commit. Queue sequence numbers come from one counter shared with the store's handles and
//! are never reused within the process, even after a failed commit.
//!
//! A batch made only of releases (the next hop or the recipient acknowledged an entry) is
//! committed without an fsync (`Durability::None`): redb makes it durable with the next durable
//! commit, which comes with the next arrival or after [`MAX_LAZY_COMMITS`] such batches. A
//! crash in between brings those entries back, and they are handed off again and recognised
//! downstream as duplicates: custody is never lost, and the forwarding path costs half the
//! fsyncs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use liaison_crypto::sign::SigningKey;
use redb::{Durability, ReadableTable, Table, WriteTransaction};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error};

use super::body::{self, ENVELOPE_CHUNKS};
use super::format;
use super::recent::{Committed, Recent};
use super::spool::{self, SPOOLS, Spools};
use super::{
    AcceptOutcome, COUNTERS, DEPTH, Depths, Destination, ENVELOPES, EXPIRY, Handoff, Incoming,
    PREKEYS, PrekeyKey, PrekeyRecord, QUEUE, SEEN, STORE_FORMAT, StoreConfig, StoreError,
};
use crate::audit::{AUDIT_ENTRIES, AuditHead, AuditKind};

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// Most release-only batches committed in a row without an fsync; the next one is durable.
pub(super) const MAX_LAZY_COMMITS: u32 = 64;

/// The [`COUNTERS`] entry holding the next queue sequence number.
const QUEUE_SEQ: &str = "queue_seq";

pub(super) enum Op {
    Accept {
        incoming: Incoming,
        now: u64,
        reply: Reply<AcceptOutcome>,
        /// Queue entries numbered, and staged for the forwarders, by
        /// [`super::CustodyStore::accept`]; `None`: the writer numbers them.
        numbered: Option<Numbered>,
    },
    Ack {
        destination: Destination,
        seq: u64,
        how: Handoff,
        now: u64,
        reply: Reply<bool>,
    },
    Audit {
        kind: AuditKind,
        message_id: [u8; 16],
        peer: [u8; 32],
        detail: String,
        now: u64,
        reply: Reply<()>,
    },
    Sweep {
        now: u64,
        reply: Reply<Vec<[u8; 16]>>,
    },
    PutPrekey {
        record: Box<PrekeyRecord>,
        keep: usize,
        reply: Reply<AcceptOutcome>,
    },
    Shutdown {
        reply: Reply<()>,
    },
    /// The next bytes of a large envelope still arriving ([`super::spool`]).
    Spool {
        token: u64,
        offset: usize,
        bytes: Vec<u8>,
    },
    /// A spool ends unadopted: its envelope was refused or given up on.
    SpoolEnd {
        token: u64,
    },
}

/// An envelope's queue entries, numbered before its `Accept` reached the writer, and staged
/// unless it may be a duplicate (then the writer stages them once it knows it is not); its
/// bytes are in `record` (the `Incoming`'s are empty).
pub(super) struct Numbered {
    pub(super) entries: Vec<(Destination, u64)>,
    pub(super) record: Arc<Vec<u8>>,
    pub(super) staged: bool,
}

/// A result waiting for its transaction to commit.
enum Done {
    Accept(Reply<AcceptOutcome>, AcceptOutcome),
    Ack(Reply<bool>, bool),
    Unit(Reply<()>),
    Sweep(Reply<Vec<[u8; 16]>>, Vec<[u8; 16]>),
}

impl Done {
    fn succeed(self) {
        // A dropped receiver means the caller gave up waiting; the commit stands regardless.
        match self {
            Self::Accept(r, v) => drop(r.send(Ok(v))),
            Self::Ack(r, v) => drop(r.send(Ok(v))),
            Self::Unit(r) => drop(r.send(Ok(()))),
            Self::Sweep(r, v) => drop(r.send(Ok(v))),
        }
    }

    fn fail(self, e: &StoreError) {
        let err = || StoreError::Storage(e.to_string());
        match self {
            Self::Accept(r, _) => drop(r.send(Err(err()))),
            Self::Ack(r, _) => drop(r.send(Err(err()))),
            Self::Unit(r) => drop(r.send(Err(err()))),
            Self::Sweep(r, _) => drop(r.send(Err(err()))),
        }
    }
}

pub(super) fn spawn(
    db: Arc<redb::Database>,
    (recent, depths, next_seq): (Arc<Recent>, Arc<Depths>, Arc<AtomicU64>),
    signer: Arc<SigningKey>,
    config: StoreConfig,
) -> Result<mpsc::Sender<Op>, StoreError> {
    // Load (or initialise) the audit head before accepting requests, so a database written by
    // another node key is refused at open, not at the first envelope.
    let mut txn = db.begin_write()?;
    let head = AuditHead::load(&txn, &signer)?;
    head.persist(&txn)?;
    let converted = format::ensure(&txn)?;
    let leftovers = spool::delete_leftovers(&txn)?;
    if leftovers > 0 {
        tracing::info!(
            spools = leftovers,
            "deleted the chunks of large envelopes that were still arriving when the node stopped"
        );
    }
    if converted > 0 {
        tracing::info!(
            envelopes = converted,
            "custody database converted to layout {STORE_FORMAT}"
        );
    }
    let stored: Vec<([u8; 32], u64)> = txn
        .open_table(DEPTH)?
        .range::<[u8; 32]>(..)?
        .map(|item| item.map(|(k, v)| (k.value(), v.value())))
        .collect::<Result<_, _>>()?;
    depths.set(&stored);
    let counted = txn
        .open_table(COUNTERS)?
        .get(QUEUE_SEQ)?
        .map_or(0, |v| v.value());
    next_seq.fetch_max(counted, Ordering::AcqRel);
    txn.set_two_phase_commit(true);
    txn.commit()?;

    let (tx, rx) = mpsc::channel(config.max_batch * 4);
    std::thread::Builder::new()
        .name("custody-writer".into())
        .spawn(move || {
            run(
                db,
                (&recent, &depths, &next_seq),
                &signer,
                &config,
                head,
                rx,
            )
        })
        .map_err(|e| StoreError::Storage(format!("cannot start writer thread: {e}")))?;
    Ok(tx)
}

fn run(
    db: Arc<redb::Database>,
    (recent, depths, next_seq): (&Recent, &Depths, &AtomicU64),
    signer: &SigningKey,
    config: &StoreConfig,
    mut head: AuditHead,
    mut rx: mpsc::Receiver<Op>,
) {
    let mut lazy_commits = 0;
    let mut spools = Spools::default();
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < config.max_batch {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let shutdown = batch.iter().any(|op| matches!(op, Op::Shutdown { .. }));
        let releases_only = batch.iter().all(|op| matches!(op, Op::Ack { .. }));
        let durable = !releases_only || lazy_commits >= MAX_LAZY_COMMITS;
        lazy_commits = if durable { 0 } else { lazy_commits + 1 };
        let before = head.clone();
        let mut done = Vec::with_capacity(batch.len());
        let mut effects = Effects::default();
        let result = commit_batch(
            &db,
            (signer, config, recent),
            (&mut head, &mut spools),
            batch,
            (&mut done, &mut effects),
            (durable, next_seq),
        );
        if result.is_ok() {
            recent.committed(&effects.released, effects.swept);
            depths.set(&effects.depths);
            spools.committed(&effects.spools_done);
            if effects.spooled_chunks > 0 {
                debug!(
                    chunks = effects.spooled_chunks,
                    "chunks of arriving envelopes written"
                );
            }
        } else {
            spools.failed(&effects.spools_done);
            // What was staged may be missing, and a failed commit may still have reached the
            // disk: let the database answer.
            recent.reset();
        }
        if shutdown {
            // Release the writer's database handle before answering, so that once the caller
            // drops its own handles the file is closed and can be reopened or verified.
            drop(db);
            debug!("custody writer stopped");
            finish(result, done);
            return;
        }
        if result.is_err() {
            head = before;
        }
        finish(result, done);
    }
}

type BatchError = (StoreError, Vec<Done>);

fn finish(result: Result<(), BatchError>, done: Vec<Done>) {
    match result {
        Ok(()) => done.into_iter().for_each(Done::succeed),
        Err((e, undone)) => {
            error!(error = %e, "custody commit failed; batch refused, callers will retry");
            done.into_iter().chain(undone).for_each(|d| d.fail(&e));
        }
    }
}

fn commit_batch(
    db: &redb::Database,
    (signer, config, recent): (&SigningKey, &StoreConfig, &Recent),
    (head, spools): (&mut AuditHead, &mut Spools),
    batch: Vec<Op>,
    (done, effects): (&mut Vec<Done>, &mut Effects),
    (durable, next_seq): (bool, &AtomicU64),
) -> Result<(), BatchError> {
    let fail = |e: StoreError| (e, Vec::new());
    let shutdown = batch.iter().any(|op| matches!(op, Op::Shutdown { .. }));
    let mut txn = db.begin_write().map_err(|e| fail(e.into()))?;
    let durability = if durable {
        Durability::Immediate
    } else {
        Durability::None
    };
    txn.set_durability(durability).map_err(|e| fail(e.into()))?;
    // redb's design notes: two-phase commit when the data written can be attacker-chosen.
    txn.set_two_phase_commit(true);
    {
        let mut tables = Tables::open(&txn, next_seq).map_err(fail)?;
        effects.spools_done = spools
            .delete_ended((&mut tables.chunks, &mut tables.spools))
            .map_err(fail)?;
        let mut ops = batch.into_iter();
        while let Some(op) = ops.next() {
            if let Err(e) = apply(&mut tables, (head, spools), config, op, done, effects) {
                let undone = ops
                    .filter_map(|op| {
                        // Spools of envelopes never applied end with the batch.
                        if let Op::Accept { incoming, .. } = &op {
                            effects.spools_done.extend(incoming.spool);
                        }
                        reply_of(op)
                    })
                    .collect();
                return Err((e, undone));
            }
        }
        tables.bump("commits", 1);
        effects.depths = tables.flush().map_err(fail)?;
    }
    let finish = (|| {
        if shutdown || head.since_checkpoint >= config.checkpoint_every {
            head.checkpoint(&txn, signer)?;
        }
        head.persist(&txn)?;
        // Everything is applied; only the commit (the fsyncs) remains. Forwarders may send
        // the new entries on meanwhile (cut-through); see the module doc.
        recent.stage(&effects.stored);
        txn.commit()?;
        Ok::<(), StoreError>(())
    })();
    finish.map_err(|e| (e, Vec::new()))
}

/// What a committed batch changed that the in-memory cache of recent entries must follow.
#[derive(Default)]
struct Effects {
    /// Envelopes stored, with their new queue entries.
    stored: Vec<Committed>,
    /// Queue entries released.
    released: Vec<(Destination, u64)>,
    /// An expiry sweep removed queue entries.
    swept: bool,
    /// The queue depths the batch wrote (0: emptied).
    depths: Vec<([u8; 32], u64)>,
    /// Spools the batch ended (adopted or deleted).
    spools_done: Vec<u64>,
    /// Chunks of arriving envelopes the batch wrote.
    spooled_chunks: usize,
}

/// The tables of one write transaction, each opened once per batch rather than once per
/// operation, and the counters the batch changes, summed in memory and written once by
/// [`Tables::flush`]: a counter or a queue depth costs one update per commit, however many
/// envelopes the commit carries.
struct Tables<'t> {
    envelopes: Table<'t, u64, &'static [u8]>,
    /// Chunks of large envelopes ([`body`]).
    chunks: Table<'t, (u64, u32), &'static [u8]>,
    /// Spools in progress ([`spool`]).
    spools: Table<'t, u64, ()>,
    queue: Table<'t, ([u8; 32], u64), u64>,
    seen: Table<'t, [u8; 16], u64>,
    expiry: Table<'t, (u64, u64), ()>,
    depth: Table<'t, [u8; 32], u64>,
    counters: Table<'t, &'static str, u64>,
    prekeys: Table<'t, PrekeyKey, &'static [u8]>,
    audit: Table<'t, u64, &'static [u8]>,
    /// The next queue sequence number, shared with the store's handles, which number an
    /// envelope's queue entries before its `Accept` reaches the writer
    /// ([`super::CustodyStore::accept`]); written back to `queue_seq` in [`COUNTERS`].
    next_seq: &'t AtomicU64,
    /// Whether numbers were used and the counter must be written back.
    seq_taken: bool,
    /// Net change of each destination's queue depth in this batch.
    depth_delta: BTreeMap<[u8; 32], i64>,
    /// Increments of the store-wide counters in this batch.
    bumps: BTreeMap<&'static str, u64>,
}

impl<'t> Tables<'t> {
    /// Opens the tables; sequence numbers continue from `next_seq` or the stored counter,
    /// whichever is higher. Numbers are never handed out twice in a process, even after a
    /// failed commit rolled the stored counter back: entries may have been sent on under
    /// them.
    fn open(txn: &'t WriteTransaction, next_seq: &'t AtomicU64) -> Result<Self, StoreError> {
        let counters = txn.open_table(COUNTERS)?;
        let stored = counters.get(QUEUE_SEQ)?.map_or(0, |v| v.value());
        next_seq.fetch_max(stored, Ordering::AcqRel);
        Ok(Self {
            envelopes: txn.open_table(ENVELOPES)?,
            chunks: txn.open_table(ENVELOPE_CHUNKS)?,
            spools: txn.open_table(SPOOLS)?,
            queue: txn.open_table(QUEUE)?,
            seen: txn.open_table(SEEN)?,
            expiry: txn.open_table(EXPIRY)?,
            depth: txn.open_table(DEPTH)?,
            counters,
            prekeys: txn.open_table(PREKEYS)?,
            audit: txn.open_table(AUDIT_ENTRIES)?,
            next_seq,
            seq_taken: false,
            depth_delta: BTreeMap::new(),
            bumps: BTreeMap::new(),
        })
    }

    fn take_seq(&mut self) -> u64 {
        take_number(self.next_seq, &mut self.seq_taken)
    }

    fn bump(&mut self, name: &'static str, by: u64) {
        *self.bumps.entry(name).or_default() += by;
    }

    fn change_depth(&mut self, destination: Destination, by: i64) {
        *self.depth_delta.entry(destination.0).or_default() += by;
    }

    /// Writes the batch's counters and queue depths (one update per name and destination);
    /// returns the depths written.
    fn flush(&mut self) -> Result<Vec<([u8; 32], u64)>, StoreError> {
        if self.seq_taken {
            // At least every number used in this batch (maybe more: numbered entries whose
            // `Accept` is still on its way; a gap is harmless).
            self.counters
                .insert(QUEUE_SEQ, self.next_seq.load(Ordering::Acquire))?;
        }
        for (name, by) in std::mem::take(&mut self.bumps) {
            let v = self.counters.get(name)?.map_or(0, |v| v.value());
            self.counters.insert(name, v.saturating_add(by))?;
        }
        let mut written = Vec::with_capacity(self.depth_delta.len());
        for (dest, delta) in std::mem::take(&mut self.depth_delta) {
            if delta == 0 {
                continue;
            }
            let d = self.depth.get(dest)?.map_or(0, |v| v.value());
            let d = d.saturating_add_signed(delta);
            if d == 0 {
                self.depth.remove(dest)?;
            } else {
                self.depth.insert(dest, d)?;
            }
            written.push((dest, d));
        }
        Ok(written)
    }
}

/// Hands out the next queue sequence number (also a spool's body number) and notes that the
/// counter must be written back.
fn take_number(next_seq: &AtomicU64, taken: &mut bool) -> u64 {
    *taken = true;
    next_seq.fetch_add(1, Ordering::AcqRel)
}

/// Turns an op that was never applied into a `Done` so its caller hears about the failure.
fn reply_of(op: Op) -> Option<Done> {
    Some(match op {
        Op::Accept { reply, .. } | Op::PutPrekey { reply, .. } => {
            Done::Accept(reply, AcceptOutcome::Duplicate)
        }
        Op::Ack { reply, .. } => Done::Ack(reply, false),
        Op::Audit { reply, .. } | Op::Shutdown { reply } => Done::Unit(reply),
        Op::Sweep { reply, .. } => Done::Sweep(reply, Vec::new()),
        Op::Spool { .. } | Op::SpoolEnd { .. } => return None,
    })
}

fn apply(
    tables: &mut Tables<'_>,
    (head, spools): (&mut AuditHead, &mut Spools),
    config: &StoreConfig,
    op: Op,
    done: &mut Vec<Done>,
    effects: &mut Effects,
) -> Result<(), StoreError> {
    match op {
        Op::Accept {
            incoming,
            now,
            reply,
            numbered,
        } => {
            let staged = numbered.as_ref().is_some_and(|n| n.staged);
            let accepted = accept(
                tables,
                (head, spools, effects),
                (incoming, numbered),
                now,
                config,
            )?;
            let outcome = match accepted {
                Some(stored) => {
                    if !staged {
                        effects.stored.push(stored);
                    }
                    AcceptOutcome::Stored
                }
                None => AcceptOutcome::Duplicate,
            };
            done.push(Done::Accept(reply, outcome));
        }
        Op::Ack {
            destination,
            seq,
            how,
            now,
            reply,
        } => {
            let removed = acknowledge(tables, head, destination, seq, how, now)?;
            if removed {
                effects.released.push((destination, seq));
            }
            done.push(Done::Ack(reply, removed));
        }
        Op::Audit {
            kind,
            message_id,
            peer,
            detail,
            now,
            reply,
        } => {
            head.append(&mut tables.audit, now, kind, message_id, peer, &detail)?;
            tables.bump(kind.name(), 1);
            done.push(Done::Unit(reply));
        }
        Op::Sweep { now, reply } => {
            let expired = sweep(tables, head, now)?;
            effects.swept |= !expired.is_empty();
            done.push(Done::Sweep(reply, expired));
        }
        Op::PutPrekey {
            record,
            keep,
            reply,
        } => {
            let outcome = put_prekey(&mut tables.prekeys, &record, keep)?;
            done.push(Done::Accept(reply, outcome));
        }
        Op::Shutdown { reply } => done.push(Done::Unit(reply)),
        Op::Spool {
            token,
            offset,
            bytes,
        } => {
            let Tables {
                chunks,
                spools: listed,
                next_seq,
                seq_taken,
                ..
            } = tables;
            effects.spooled_chunks += spools.part(
                (chunks, listed),
                || take_number(next_seq, seq_taken),
                (token, offset, bytes),
            )?;
        }
        Op::SpoolEnd { token } => {
            if spools.end((&mut tables.chunks, &mut tables.spools), token)? {
                effects.spools_done.push(token);
            }
        }
    }
    Ok(())
}

/// Stores a signed prekey under `(owner, created, prekey id)` and keeps only the owner's
/// `keep` newest (by `created`).
fn put_prekey(
    table: &mut Table<'_, PrekeyKey, &'static [u8]>,
    record: &PrekeyRecord,
    keep: usize,
) -> Result<AcceptOutcome, StoreError> {
    let key = (record.owner, record.created, record.prekey_id);
    if table.get(key)?.is_some() {
        return Ok(AcceptOutcome::Duplicate);
    }
    let mut value = Vec::with_capacity(8 + record.raw.len());
    value.extend_from_slice(&record.expires.to_be_bytes());
    value.extend_from_slice(&record.raw);
    table.insert(key, value.as_slice())?;
    let mut held = Vec::new();
    for item in table.range((record.owner, 0, [0; 32])..=(record.owner, u64::MAX, [0xff; 32]))? {
        held.push(item?.0.value());
    }
    // Oldest first: drop from the front until `keep` remain.
    let excess = held.len().saturating_sub(keep);
    for old in held.into_iter().take(excess) {
        table.remove(old)?;
    }
    Ok(AcceptOutcome::Stored)
}

/// Splits a stored prekey value into its expiry and signed-prekey bytes.
pub(super) fn decode_prekey_value(value: &[u8]) -> Result<(u64, &[u8]), StoreError> {
    let Some((head, raw)) = value.split_first_chunk::<8>() else {
        return Err(StoreError::Corrupt("prekey record"));
    };
    Ok((u64::from_be_bytes(*head), raw))
}

/// Takes custody of `incoming`; `None` if its id was seen already (a duplicate).
fn accept(
    tables: &mut Tables<'_>,
    (head, spools, effects): (&mut AuditHead, &mut Spools, &mut Effects),
    (incoming, numbered): (Incoming, Option<Numbered>),
    now: u64,
    config: &StoreConfig,
) -> Result<Option<Committed>, StoreError> {
    let Incoming {
        message_id: id,
        raw,
        expires,
        from,
        mut destinations,
        spool,
    } = incoming;
    let (record, numbered, staged) = match numbered {
        Some(Numbered {
            entries,
            record,
            staged,
        }) => (record, Some(entries), staged),
        None => (Arc::new(raw), None, false),
    };
    let raw = record.as_slice();
    // The spool's chunks become this envelope's body, or are deleted (a duplicate, or a spool
    // that does not match); either way it ends with this batch.
    effects.spools_done.extend(spool);
    let adopted = match spool {
        Some(token) => spools.adopt((&mut tables.chunks, &mut tables.spools), token, raw.len())?,
        None => None,
    };
    if tables.seen.get(id)?.is_some() {
        if let Some(adopted) = &adopted {
            body::remove_chunks(&mut tables.chunks, adopted.body)?;
        }
        head.append(&mut tables.audit, now, AuditKind::Duplicate, id, from, "")?;
        tables.bump("duplicates", 1);
        // Entries staged for it go: its forwarders may have sent it on already, and the next
        // hop answers `Duplicate` as it would to any retransmission.
        if staged {
            effects.released.extend(numbered.unwrap_or_default());
        }
        return Ok(None);
    }
    tables
        .seen
        .insert(id, expires.saturating_add(config.dedup_grace_secs))?;
    let entries = match numbered {
        Some(entries) => {
            tables.seq_taken = true;
            entries
        }
        None => {
            destinations.sort_unstable();
            destinations.dedup();
            destinations
                .into_iter()
                .map(|dest| (dest, tables.take_seq()))
                .collect::<Vec<_>>()
        }
    };
    let refs =
        u32::try_from(entries.len()).map_err(|_| StoreError::Invalid("too many destinations"))?;
    // The body is numbered by its first queue entry: numbers grow with every arrival, so the
    // bodies of one batch land on the same leaf pages instead of one random page each. A
    // spooled envelope keeps the number its spool took with its first chunk.
    let first = entries
        .first()
        .map(|&(_, seq)| seq)
        .ok_or(StoreError::Invalid("destination count out of range"))?;
    let body = if let Some(adopted) = &adopted {
        spool::finish(&mut tables.chunks, adopted, raw)?;
        let record = body::encode_record(expires, refs, &id, true, &[]);
        tables.envelopes.insert(adopted.body, record.as_slice())?;
        tables.bump("spooled", 1);
        adopted.body
    } else {
        body::store(
            &mut tables.envelopes,
            &mut tables.chunks,
            first,
            (expires, refs, &id),
            raw,
        )?;
        first
    };
    tables.expiry.insert((expires, body), ())?;
    for &(dest, seq) in &entries {
        tables.queue.insert((dest.0, seq), body)?;
        tables.change_depth(dest, 1);
    }
    head.append(&mut tables.audit, now, AuditKind::Accepted, id, from, "")?;
    tables.bump("stored", 1);
    Ok(Some(Committed {
        message_id: id,
        expires,
        record,
        offset: 0,
        entries,
    }))
}

fn acknowledge(
    tables: &mut Tables<'_>,
    head: &mut AuditHead,
    destination: Destination,
    seq: u64,
    how: Handoff,
    now: u64,
) -> Result<bool, StoreError> {
    let Some(body) = tables
        .queue
        .remove((destination.0, seq))?
        .map(|v| v.value())
    else {
        return Ok(false);
    };
    tables.change_depth(destination, -1);
    let id = release(tables, body)?;
    let kind = match how {
        Handoff::Forwarded => AuditKind::Forwarded,
        Handoff::Delivered => AuditKind::Delivered,
    };
    head.append(&mut tables.audit, now, kind, id, destination.0, "")?;
    tables.bump(kind.name(), 1);
    Ok(true)
}

/// Drops one queue reference to envelope `body`; deletes it when none remain. Returns its
/// message id.
fn release(tables: &mut Tables<'_>, body: u64) -> Result<[u8; 16], StoreError> {
    // Only the header is needed to decide. An inline body is copied only when another queue
    // still holds the envelope and its record is rewritten with one reference fewer; a chunked
    // one never is.
    let (expires, refs, id, chunked) = tables
        .envelopes
        .get(body)?
        .map(|v| body::decode_record(v.value()).map(|r| (r.expires, r.refs, r.id, r.chunked)))
        .transpose()?
        .ok_or(StoreError::Corrupt("queued envelope without body"))?;
    if refs <= 1 {
        tables.envelopes.remove(body)?;
        tables.expiry.remove((expires, body))?;
        if chunked {
            body::remove_chunks(&mut tables.chunks, body)?;
        }
    } else if chunked {
        let record = body::encode_record(expires, refs - 1, &id, true, &[]);
        tables.envelopes.insert(body, record.as_slice())?;
    } else {
        let record = tables
            .envelopes
            .get(body)?
            .map(|v| v.value().to_vec())
            .ok_or(StoreError::Corrupt("envelope record vanished"))?;
        let inline = body::decode_record(&record)?.inline;
        let record = body::encode_record(expires, refs - 1, &id, false, inline);
        tables.envelopes.insert(body, record.as_slice())?;
    }
    Ok(id)
}

fn sweep(
    tables: &mut Tables<'_>,
    head: &mut AuditHead,
    now: u64,
) -> Result<Vec<[u8; 16]>, StoreError> {
    let mut expired = Vec::new();
    for item in tables.expiry.range((0u64, 0u64)..=(now, u64::MAX))? {
        let (key, _) = item?;
        expired.push(key.value());
    }
    let mut ids = Vec::with_capacity(expired.len());
    if !expired.is_empty() {
        let bodies: std::collections::HashSet<u64> = expired.iter().map(|&(_, b)| b).collect();
        let mut stale = Vec::new();
        for item in tables.queue.range::<([u8; 32], u64)>(..)? {
            let (key, body) = item?;
            if bodies.contains(&body.value()) {
                stale.push(key.value());
            }
        }
        for key in stale {
            tables.queue.remove(key)?;
            tables.change_depth(Destination(key.0), -1);
        }
        for &(expires, body) in &expired {
            tables.expiry.remove((expires, body))?;
            let Some(record) = tables.envelopes.remove(body)? else {
                continue; // an index entry without its body: nothing left to drop
            };
            let record = body::decode_record(record.value())?;
            let (id, chunked) = (record.id, record.chunked);
            if chunked {
                body::remove_chunks(&mut tables.chunks, body)?;
            }
            head.append(
                &mut tables.audit,
                now,
                AuditKind::Expired,
                id,
                [0; 32],
                "expiry passed before delivery",
            )?;
            ids.push(id);
        }
        tables.bump("expired", ids.len() as u64);
    }
    // Forget dedup records whose window (expiry + grace) has closed.
    tables.seen.retain(|_, until| until > now)?;
    // Expired prekeys are no use to any sender.
    tables
        .prekeys
        .retain(|_, value| decode_prekey_value(value).is_ok_and(|(expires, _)| expires >= now))?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use liaison_crypto::{Seed32, Suite};
    use redb::ReadableDatabase;

    use super::*;
    use crate::store::CustodyStore;

    const NOW: u64 = 1_800_000_000;

    fn signer() -> Arc<SigningKey> {
        Arc::new(SigningKey::from_seed(
            Suite::Lq2,
            Seed32::from_bytes([3; 32]),
        ))
    }

    fn incoming(n: u8, destinations: &[Destination]) -> Incoming {
        Incoming {
            message_id: [n; 16],
            raw: vec![n; 100],
            expires: NOW + 600,
            from: [9; 32],
            destinations: destinations.to_vec(),
            spool: None,
        }
    }

    fn accept_op(n: u8, destinations: &[Destination]) -> (Op, oneshot::Receiver<AcceptResult>) {
        let (reply, rx) = oneshot::channel();
        let op = Op::Accept {
            incoming: incoming(n, destinations),
            now: NOW,
            reply,
            numbered: None,
        };
        (op, rx)
    }

    fn ack_op(destination: Destination, seq: u64) -> (Op, oneshot::Receiver<AckResult>) {
        let (reply, rx) = oneshot::channel();
        let op = Op::Ack {
            destination,
            seq,
            how: Handoff::Forwarded,
            now: NOW,
            reply,
        };
        (op, rx)
    }

    type AcceptResult = Result<AcceptOutcome, StoreError>;
    type AckResult = Result<bool, StoreError>;

    /// Queue depths and counters as committed.
    type Snapshot = (Vec<([u8; 32], u64)>, BTreeMap<String, u64>);

    fn snapshot(db: &redb::Database) -> Snapshot {
        let txn = db.begin_read().unwrap();
        let depth = txn.open_table(DEPTH).unwrap();
        let depths = depth
            .range::<[u8; 32]>(..)
            .unwrap()
            .map(|i| {
                let (k, v) = i.unwrap();
                (k.value(), v.value())
            })
            .collect();
        let counters = txn.open_table(COUNTERS).unwrap();
        let counters = counters
            .range::<&str>(..)
            .unwrap()
            .map(|i| {
                let (k, v) = i.unwrap();
                (k.value().to_owned(), v.value())
            })
            .collect();
        (depths, counters)
    }

    /// Counters and queue depths are summed in memory per batch and written once: a batch
    /// mixing arrivals, a duplicate, releases (one of an entry queued in the same batch) and
    /// a release of nothing must leave exactly what one-at-a-time updates would.
    #[tokio::test]
    async fn a_batch_mixing_accepts_acks_and_duplicates_keeps_depths_and_counters_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        let (x, y) = (Destination([1; 32]), Destination([2; 32]));
        let db = Arc::new(redb::Database::create(&path).unwrap());
        let key = signer();
        let config = StoreConfig::default();
        let mut txn = db.begin_write().unwrap();
        let mut head = AuditHead::load(&txn, &key).unwrap();
        head.persist(&txn).unwrap();
        txn.set_two_phase_commit(true);
        txn.commit().unwrap();

        // Seqs are handed out in order: A → x:0, y:1; B → x:2; C → y:3.
        let (a, a_rx) = accept_op(1, &[x, y, x]);
        let (b, b_rx) = accept_op(2, &[x]);
        let (dup, dup_rx) = accept_op(1, &[x]);
        let (ack_a, ack_a_rx) = ack_op(x, 0);
        let (ack_none, ack_none_rx) = ack_op(x, 99);
        let (c, c_rx) = accept_op(3, &[y]);
        let mut done = Vec::new();
        let mut effects = Effects::default();
        let batch = vec![a, b, dup, ack_a, ack_none, c];
        let recent = Recent::new(1 << 20);
        let seq_floor = AtomicU64::new(0);
        let result = commit_batch(
            &db,
            (&key, &config, &recent),
            (&mut head, &mut Spools::default()),
            batch,
            (&mut done, &mut effects),
            (true, &seq_floor),
        );
        assert_eq!(
            seq_floor.load(Ordering::Acquire),
            4,
            "the floor follows the numbers handed out"
        );
        let entries: Vec<Vec<(Destination, u64)>> =
            effects.stored.iter().map(|c| c.entries.clone()).collect();
        assert_eq!(
            entries,
            vec![vec![(x, 0), (y, 1)], vec![(x, 2)], vec![(y, 3)]]
        );
        assert_eq!((effects.released, effects.swept), (vec![(x, 0)], false));
        assert!(result.is_ok());
        finish(result, done);
        assert_eq!(a_rx.await.unwrap().unwrap(), AcceptOutcome::Stored);
        assert_eq!(b_rx.await.unwrap().unwrap(), AcceptOutcome::Stored);
        assert_eq!(dup_rx.await.unwrap().unwrap(), AcceptOutcome::Duplicate);
        assert!(ack_a_rx.await.unwrap().unwrap());
        assert!(!ack_none_rx.await.unwrap().unwrap());
        assert_eq!(c_rx.await.unwrap().unwrap(), AcceptOutcome::Stored);

        let (depths, counters) = snapshot(&db);
        assert_eq!(depths, vec![([1; 32], 1), ([2; 32], 2)]);
        let get = |k: &str| counters.get(k).copied().unwrap_or(0);
        assert_eq!(
            (get("stored"), get("duplicates"), get("forwarded")),
            (3, 1, 1)
        );
        assert_eq!((get(QUEUE_SEQ), get("commits")), (4, 1));
        assert_eq!(head.next_seq, 5, "3 accepted, 1 duplicate, 1 forwarded");
        {
            // A still waits for y, with one reference left; its x entry is gone.
            let txn = db.begin_read().unwrap();
            let envelopes = txn.open_table(ENVELOPES).unwrap();
            // Its body is numbered by its first queue entry (x:0).
            let record = envelopes.get(0).unwrap().unwrap();
            let r = body::decode_record(record.value()).unwrap();
            assert_eq!((r.refs, r.id, r.inline), (1, [1; 16], &[1u8; 100][..]));
            let queue = txn.open_table(QUEUE).unwrap();
            assert!(queue.get(([1; 32], 0)).unwrap().is_none());
            assert_eq!(queue.get(([2; 32], 1)).unwrap().unwrap().value(), 0);
        }

        // Draining every queue in a second batch removes the depth rows altogether.
        let mut done = Vec::new();
        let mut rxs = Vec::new();
        let mut batch = Vec::new();
        for (dest, seq) in [(y, 1), (x, 2), (y, 3)] {
            let (op, rx) = ack_op(dest, seq);
            batch.push(op);
            rxs.push(rx);
        }
        let mut effects = Effects::default();
        let result = commit_batch(
            &db,
            (&key, &config, &recent),
            (&mut head, &mut Spools::default()),
            batch,
            (&mut done, &mut effects),
            (false, &seq_floor),
        );
        assert!(result.is_ok());
        finish(result, done);
        for rx in rxs {
            assert!(rx.await.unwrap().unwrap());
        }
        let (depths, counters) = snapshot(&db);
        assert!(depths.is_empty(), "{depths:?}");
        assert_eq!(counters.get("forwarded"), Some(&4));
        assert_eq!(counters.get(QUEUE_SEQ), Some(&4));
        drop(db);

        // Reopened: the sequence continues where it stopped, and the counters stand.
        let store = CustodyStore::open(&path, key, config).unwrap();
        store.accept(incoming(4, &[x]), NOW).await.unwrap();
        let queued = store.pending(x, None, 10).await.unwrap();
        assert_eq!(queued.iter().map(|q| q.seq).collect::<Vec<_>>(), vec![4]);
        assert_eq!(store.depth(x).await.unwrap(), 1);
        let counters: BTreeMap<String, u64> = store.counters().await.unwrap().into_iter().collect();
        assert_eq!(counters.get("stored"), Some(&4));
        assert_eq!(counters.get("duplicates"), Some(&1));
        assert_eq!(counters.get("commits"), Some(&3));
        assert_eq!(counters.get("audit_entries"), Some(&9));
        store.close().await.unwrap();
    }

    /// A batch's new entries are staged for the forwarders (and served from memory) with the
    /// numbers the batch gave them, and numbering continues from the writer's floor when the
    /// database's counter is behind it (as after a failed commit): a number a forwarder may
    /// already have used is never handed out again.
    #[tokio::test]
    async fn staged_entries_are_served_and_numbers_continue_from_the_floor() {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("custody.redb")).unwrap();
        let key = signer();
        let config = StoreConfig::default();
        let x = Destination([1; 32]);
        let txn = db.begin_write().unwrap();
        let mut head = AuditHead::load(&txn, &key).unwrap();
        head.persist(&txn).unwrap();
        txn.commit().unwrap();
        let recent = Recent::new(1 << 20);
        let wake = recent.wakeup(x);
        // The database's counter says 0; an earlier, failed batch had handed out 0..=9.
        let seq_floor = AtomicU64::new(10);
        let (op, rx) = accept_op(1, &[x]);
        let (mut done, mut effects) = (Vec::new(), Effects::default());
        let result = commit_batch(
            &db,
            (&key, &config, &recent),
            (&mut head, &mut Spools::default()),
            vec![op],
            (&mut done, &mut effects),
            (true, &seq_floor),
        );
        assert!(result.is_ok());
        finish(result, done);
        assert_eq!(rx.await.unwrap().unwrap(), AcceptOutcome::Stored);
        assert_eq!(seq_floor.load(Ordering::Acquire), 11);
        tokio::time::timeout(std::time::Duration::from_secs(5), wake.notified())
            .await
            .expect("the forwarder of x was woken by the staging");
        let served = recent.after(x, 9, 10).expect("served from memory");
        assert_eq!(
            served
                .iter()
                .map(|q| (q.seq, q.message_id))
                .collect::<Vec<_>>(),
            vec![(10, [1; 16])]
        );
        let (_, counters) = snapshot(&db);
        assert_eq!(counters.get(QUEUE_SEQ), Some(&11));
    }
}
