//! The custody writer: one thread owns every write transaction. It blocks for the first
//! request, drains whatever else is already waiting (up to `max_batch`), applies them all in
//! one transaction with immediate durability and two-phase commit, then answers every waiter.
//! Under load each fsync is shared by many envelopes (group commit); idle, latency is one commit.
//!
//! A batch made only of releases (the next hop or the recipient acknowledged an entry) is
//! committed without an fsync (`Durability::None`): redb makes it durable with the next durable
//! commit, which comes with the next arrival or after [`MAX_LAZY_COMMITS`] such batches. A
//! crash in between brings those entries back, and they are handed off again and recognised
//! downstream as duplicates: custody is never lost, and the forwarding path costs half the
//! fsyncs.

use std::sync::Arc;

use liaison_crypto::sign::SigningKey;
use redb::{Durability, ReadableTable, WriteTransaction};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error};

use super::{
    AcceptOutcome, COUNTERS, DEPTH, Destination, ENVELOPES, EXPIRY, Handoff, Incoming, PREKEYS,
    PrekeyRecord, QUEUE, SEEN, StoreConfig, StoreError,
};
use crate::audit::{AuditHead, AuditKind};

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// Most release-only batches committed in a row without an fsync; the next one is durable.
pub(super) const MAX_LAZY_COMMITS: u32 = 64;

pub(super) enum Op {
    Accept {
        incoming: Incoming,
        now: u64,
        reply: Reply<AcceptOutcome>,
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
    signer: Arc<SigningKey>,
    config: StoreConfig,
) -> Result<mpsc::Sender<Op>, StoreError> {
    // Load (or initialise) the audit head before accepting requests, so a database written by
    // another node key is refused at open, not at the first envelope.
    let mut txn = db.begin_write()?;
    let head = AuditHead::load(&txn, &signer)?;
    head.persist(&txn)?;
    txn.set_two_phase_commit(true);
    txn.commit()?;

    let (tx, rx) = mpsc::channel(config.max_batch * 4);
    std::thread::Builder::new()
        .name("custody-writer".into())
        .spawn(move || run(db, &signer, &config, head, rx))
        .map_err(|e| StoreError::Storage(format!("cannot start writer thread: {e}")))?;
    Ok(tx)
}

fn run(
    db: Arc<redb::Database>,
    signer: &SigningKey,
    config: &StoreConfig,
    mut head: AuditHead,
    mut rx: mpsc::Receiver<Op>,
) {
    let mut lazy_commits = 0;
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
        let result = commit_batch(&db, signer, config, &mut head, batch, &mut done, durable);
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
    signer: &SigningKey,
    config: &StoreConfig,
    head: &mut AuditHead,
    batch: Vec<Op>,
    done: &mut Vec<Done>,
    durable: bool,
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
    let mut ops = batch.into_iter();
    while let Some(op) = ops.next() {
        if let Err(e) = apply(&txn, head, config, op, done) {
            let undone = ops.filter_map(reply_of).collect();
            return Err((e, undone));
        }
    }
    let finish = (|| {
        if shutdown || head.since_checkpoint >= config.checkpoint_every {
            head.checkpoint(&txn, signer)?;
        }
        head.persist(&txn)?;
        bump(&txn, "commits", 1)?;
        txn.commit()?;
        Ok::<(), StoreError>(())
    })();
    finish.map_err(|e| (e, Vec::new()))
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
    })
}

fn apply(
    txn: &WriteTransaction,
    head: &mut AuditHead,
    config: &StoreConfig,
    op: Op,
    done: &mut Vec<Done>,
) -> Result<(), StoreError> {
    match op {
        Op::Accept {
            incoming,
            now,
            reply,
        } => {
            let outcome = accept(txn, head, &incoming, now, config)?;
            done.push(Done::Accept(reply, outcome));
        }
        Op::Ack {
            destination,
            seq,
            how,
            now,
            reply,
        } => {
            let removed = acknowledge(txn, head, destination, seq, how, now)?;
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
            head.append(txn, now, kind, message_id, peer, &detail)?;
            bump(txn, kind.name(), 1)?;
            done.push(Done::Unit(reply));
        }
        Op::Sweep { now, reply } => {
            let expired = sweep(txn, head, now, config)?;
            done.push(Done::Sweep(reply, expired));
        }
        Op::PutPrekey {
            record,
            keep,
            reply,
        } => {
            let outcome = put_prekey(txn, &record, keep)?;
            done.push(Done::Accept(reply, outcome));
        }
        Op::Shutdown { reply } => done.push(Done::Unit(reply)),
    }
    Ok(())
}

/// Stores a signed prekey under `(owner, created, prekey id)` and keeps only the owner's
/// `keep` newest (by `created`).
fn put_prekey(
    txn: &WriteTransaction,
    record: &PrekeyRecord,
    keep: usize,
) -> Result<AcceptOutcome, StoreError> {
    let mut table = txn.open_table(PREKEYS)?;
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

fn accept(
    txn: &WriteTransaction,
    head: &mut AuditHead,
    incoming: &Incoming,
    now: u64,
    config: &StoreConfig,
) -> Result<AcceptOutcome, StoreError> {
    let id = incoming.message_id;
    let mut seen = txn.open_table(SEEN)?;
    if seen.get(id)?.is_some() {
        head.append(txn, now, AuditKind::Duplicate, id, incoming.from, "")?;
        bump(txn, "duplicates", 1)?;
        return Ok(AcceptOutcome::Duplicate);
    }
    let mut destinations = incoming.destinations.clone();
    destinations.sort_unstable();
    destinations.dedup();

    seen.insert(id, incoming.expires.saturating_add(config.dedup_grace_secs))?;
    txn.open_table(EXPIRY)?.insert((incoming.expires, id), ())?;
    let refs = u32::try_from(destinations.len())
        .map_err(|_| StoreError::Invalid("too many destinations"))?;
    txn.open_table(ENVELOPES)?.insert(
        id,
        encode_record(incoming.expires, refs, &incoming.raw).as_slice(),
    )?;
    let mut queue = txn.open_table(QUEUE)?;
    let mut depth = txn.open_table(DEPTH)?;
    for dest in &destinations {
        let seq = next_seq(txn)?;
        queue.insert((dest.0, seq), id)?;
        let d = depth.get(dest.0)?.map_or(0, |v| v.value());
        depth.insert(dest.0, d + 1)?;
    }
    head.append(txn, now, AuditKind::Accepted, id, incoming.from, "")?;
    bump(txn, "stored", 1)?;
    Ok(AcceptOutcome::Stored)
}

fn acknowledge(
    txn: &WriteTransaction,
    head: &mut AuditHead,
    destination: Destination,
    seq: u64,
    how: Handoff,
    now: u64,
) -> Result<bool, StoreError> {
    let Some(id) = txn
        .open_table(QUEUE)?
        .remove((destination.0, seq))?
        .map(|v| v.value())
    else {
        return Ok(false);
    };
    decrement_depth(txn, destination)?;
    release(txn, id)?;
    let kind = match how {
        Handoff::Forwarded => AuditKind::Forwarded,
        Handoff::Delivered => AuditKind::Delivered,
    };
    head.append(txn, now, kind, id, destination.0, "")?;
    bump(txn, kind.name(), 1)?;
    Ok(true)
}

/// Drops one queue reference to an envelope; deletes the body when none remain.
fn release(txn: &WriteTransaction, id: [u8; 16]) -> Result<(), StoreError> {
    let mut envelopes = txn.open_table(ENVELOPES)?;
    let Some(record) = envelopes.get(id)?.map(|v| v.value().to_vec()) else {
        return Ok(());
    };
    let (expires, refs, raw) = decode_record(&record)?;
    if refs <= 1 {
        envelopes.remove(id)?;
        txn.open_table(EXPIRY)?.remove((expires, id))?;
    } else {
        envelopes.insert(id, encode_record(expires, refs - 1, raw).as_slice())?;
    }
    Ok(())
}

fn sweep(
    txn: &WriteTransaction,
    head: &mut AuditHead,
    now: u64,
    _config: &StoreConfig,
) -> Result<Vec<[u8; 16]>, StoreError> {
    let mut expired = Vec::new();
    {
        let expiry = txn.open_table(EXPIRY)?;
        for item in expiry.range((0u64, [0u8; 16])..=(now, [0xff; 16]))? {
            let (key, _) = item?;
            expired.push(key.value());
        }
    }
    if !expired.is_empty() {
        let mut expiry = txn.open_table(EXPIRY)?;
        let mut envelopes = txn.open_table(ENVELOPES)?;
        let mut queue = txn.open_table(QUEUE)?;
        let ids: std::collections::HashSet<[u8; 16]> = expired.iter().map(|(_, id)| *id).collect();
        let mut stale = Vec::new();
        for item in queue.range::<([u8; 32], u64)>(..)? {
            let (key, id) = item?;
            if ids.contains(&id.value()) {
                stale.push(key.value());
            }
        }
        for key in stale {
            queue.remove(key)?;
            decrement_depth(txn, Destination(key.0))?;
        }
        for (expires, id) in &expired {
            expiry.remove((*expires, *id))?;
            envelopes.remove(*id)?;
            head.append(
                txn,
                now,
                AuditKind::Expired,
                *id,
                [0; 32],
                "expiry passed before delivery",
            )?;
        }
        bump(txn, "expired", expired.len() as u64)?;
    }
    // Forget dedup records whose window (expiry + grace) has closed.
    txn.open_table(SEEN)?.retain(|_, until| until > now)?;
    // Expired prekeys are no use to any sender.
    txn.open_table(PREKEYS)?
        .retain(|_, value| decode_prekey_value(value).is_ok_and(|(expires, _)| expires >= now))?;
    Ok(expired.into_iter().map(|(_, id)| id).collect())
}

fn decrement_depth(txn: &WriteTransaction, destination: Destination) -> Result<(), StoreError> {
    let mut depth = txn.open_table(DEPTH)?;
    let d = depth.get(destination.0)?.map_or(0, |v| v.value());
    if d <= 1 {
        depth.remove(destination.0)?;
    } else {
        depth.insert(destination.0, d - 1)?;
    }
    Ok(())
}

fn next_seq(txn: &WriteTransaction) -> Result<u64, StoreError> {
    let mut counters = txn.open_table(COUNTERS)?;
    let seq = counters.get("queue_seq")?.map_or(0, |v| v.value());
    counters.insert("queue_seq", seq + 1)?;
    Ok(seq)
}

fn bump(txn: &WriteTransaction, name: &str, by: u64) -> Result<(), StoreError> {
    let mut counters = txn.open_table(COUNTERS)?;
    let v = counters.get(name)?.map_or(0, |v| v.value());
    counters.insert(name, v + by)?;
    Ok(())
}

const RECORD_HEADER: usize = 8 + 4;

fn encode_record(expires: u64, refs: u32, raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(RECORD_HEADER + raw.len());
    out.extend_from_slice(&expires.to_be_bytes());
    out.extend_from_slice(&refs.to_be_bytes());
    out.extend_from_slice(raw);
    out
}

pub(super) fn decode_record(record: &[u8]) -> Result<(u64, u32, &[u8]), StoreError> {
    if record.len() < RECORD_HEADER {
        return Err(StoreError::Corrupt("envelope record"));
    }
    let expires = u64::from_be_bytes(core::array::from_fn(|i| record[i]));
    let refs = u32::from_be_bytes(core::array::from_fn(|i| record[8 + i]));
    Ok((expires, refs, &record[RECORD_HEADER..]))
}
