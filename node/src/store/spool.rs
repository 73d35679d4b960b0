//! Writing a large envelope while it arrives. An envelope over 1 MiB crosses a link in parts
//! and is kept in chunks ([`super::body`]); without spooling, every chunk was written and
//! fsynced after the last part, so the sender waited for 64 MiB to reach the disk after its
//! last byte. Now the link's helper thread hands each part, once appended and hashed, to a
//! [`PartSink`] that passes it to the custody writer, which writes the full chunks in its next
//! (durable) commit. When the envelope is complete and checked, its `Accept` writes only the
//! bytes not yet written and the record: the chunks are already on disk.
//!
//! Nothing unchecked becomes custody: spooled chunks belong to no record and no queue until
//! the `Accept` of a verified envelope adopts them. Every spool is listed in [`SPOOLS`] from
//! its first chunk's commit until it is adopted or dropped, in the same transactions as its
//! chunks, so a crash leaves no stray chunk behind that the next start does not delete.
//! A spool is dropped when its envelope is refused, is a duplicate, or is given up on (the
//! link closed mid-envelope); a commit that fails drops every spool in progress (their
//! envelopes are then written whole, as without spooling).
//!
//! The sink never makes the helper thread wait for the writer: parts the writer's queue has
//! no room for wait in the sink (at most [`MAX_BACKLOG`] bytes), and past that the sink
//! stops; the `Accept` then writes the remainder from the envelope itself.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use liaison_proto::envelope_parts::{PartSink, PartSinks, Spooled};
use redb::{ReadableTable, Table, TableDefinition};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::StoreError;
use super::body::{self, CHUNK_LEN};
use super::writer::Op;

/// Spools in progress, by body number.
pub(crate) const SPOOLS: TableDefinition<'_, u64, ()> = TableDefinition::new("envelope_spools");

/// The tables a spool writes: its chunks ([`body::ENVELOPE_CHUNKS`]) and [`SPOOLS`].
pub(super) type Tables<'a, 't> = (
    &'a mut Table<'t, (u64, u32), &'static [u8]>,
    &'a mut Table<'t, u64, ()>,
);

/// Most bytes a sink holds while the writer's queue is full before it stops spooling.
const MAX_BACKLOG: usize = 8 << 20;

/// Numbers spools, unique in the process (every link of a store shares its writer).
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Makes a sink for each envelope that will be stored in chunks (over [`CHUNK_LEN`] bytes).
pub(super) fn sinks(ops: mpsc::Sender<Op>) -> PartSinks {
    PartSinks(Arc::new(move |total| {
        (total > CHUNK_LEN).then(|| {
            Box::new(SpoolSink {
                token: NEXT_TOKEN.fetch_add(1, Ordering::Relaxed),
                ops: ops.clone(),
                offset: 0,
                backlog: VecDeque::new(),
                backlog_len: 0,
                stopped: false,
                completed: false,
            }) as Box<dyn PartSink>
        })
    }))
}

/// Passes the parts of one envelope to the custody writer (see the module doc).
struct SpoolSink {
    token: u64,
    ops: mpsc::Sender<Op>,
    /// Bytes handed to the writer so far.
    offset: usize,
    /// Parts waiting for room in the writer's queue.
    backlog: VecDeque<Vec<u8>>,
    backlog_len: usize,
    /// Spooling stopped (backlog over its bound, or the writer gone).
    stopped: bool,
    completed: bool,
}

impl SpoolSink {
    /// Hands waiting parts to the writer while its queue has room.
    fn drain(&mut self) {
        while let Some(bytes) = self.backlog.pop_front() {
            let len = bytes.len();
            let op = Op::Spool {
                token: self.token,
                offset: self.offset,
                bytes,
            };
            match self.ops.try_send(op) {
                Ok(()) => {
                    self.offset += len;
                    self.backlog_len -= len;
                }
                Err(TrySendError::Full(Op::Spool { bytes, .. })) => {
                    self.backlog.push_front(bytes);
                    return;
                }
                Err(_) => {
                    self.stop();
                    return;
                }
            }
        }
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.backlog.clear();
        self.backlog_len = 0;
    }
}

impl PartSink for SpoolSink {
    fn part(&mut self, bytes: Vec<u8>) {
        if self.stopped {
            return;
        }
        self.backlog_len += bytes.len();
        self.backlog.push_back(bytes);
        self.drain();
        if self.backlog_len > MAX_BACKLOG {
            self.stop();
        }
    }

    fn complete(mut self: Box<Self>) -> Spooled {
        self.completed = true;
        Box::new(SpoolTicket {
            token: self.token,
            ops: self.ops.clone(),
            armed: self.offset > 0,
        })
    }
}

impl Drop for SpoolSink {
    fn drop(&mut self) {
        // Given up on mid-envelope: drop what the writer has (nothing if nothing was sent).
        if !self.completed && self.offset > 0 {
            end(&self.ops, self.token);
        }
    }
}

/// A complete envelope's spool, handed on with the envelope
/// ([`liaison_proto::envelope_parts::AssembledEnvelope::spooled`]). Pass [`Self::take`] to the
/// envelope's [`super::Incoming::spool`] to have its `Accept` adopt the chunks; dropped
/// otherwise (the envelope was refused), it tells the writer to drop them.
#[derive(Debug)]
pub struct SpoolTicket {
    token: u64,
    ops: mpsc::Sender<Op>,
    armed: bool,
}

impl SpoolTicket {
    /// The spool's number for [`super::Incoming::spool`]; the writer owns the spool from here
    /// (adopted by the `Accept`, or dropped if the `Accept` never comes to be applied).
    pub fn take(mut self) -> u64 {
        self.armed = false;
        self.token
    }

    /// The ticket in what a link handed on with an envelope, if it is one of ours.
    pub fn from_spooled(spooled: Spooled) -> Option<Self> {
        spooled.downcast::<Self>().ok().map(|b| *b)
    }
}

impl Drop for SpoolTicket {
    fn drop(&mut self) {
        if self.armed {
            end(&self.ops, self.token);
        }
    }
}

/// Tells the writer that spool `token` ends unadopted. Never blocks a runtime thread.
fn end(ops: &mpsc::Sender<Op>, token: u64) {
    match ops.try_send(Op::SpoolEnd { token }) {
        Ok(()) | Err(TrySendError::Closed(_)) => {}
        Err(TrySendError::Full(op)) => match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let ops = ops.clone();
                runtime.spawn(async move { drop(ops.send(op).await) });
            }
            // The helper thread: no runtime, and it may wait.
            Err(_) => drop(ops.blocking_send(op)),
        },
    }
}

/// The writer's side: the spools in progress, by token.
#[derive(Default)]
pub(super) struct Spools {
    active: HashMap<u64, Spool>,
}

/// One spool in the writer.
struct Spool {
    body: u64,
    /// Index of the next chunk to write.
    next_index: u32,
    /// Bytes in chunks written so far.
    written: usize,
    /// Bytes received but not yet a full chunk (`head` of the first already used).
    pending: VecDeque<Vec<u8>>,
    head: usize,
    pending_len: usize,
    /// The chunks cannot be adopted (a gap, or a failed commit): drop them at the end.
    broken: bool,
    /// Adopted or deleted in the current batch; if that batch's commit fails, its chunks and
    /// its [`SPOOLS`] entry are deleted in the next one.
    ended: bool,
}

/// Where an adopted spool's envelope continues: its body number and what is on disk.
pub(super) struct Adopted {
    pub(super) body: u64,
    next_index: u32,
    written: usize,
}

impl Spools {
    /// Writes the chunks a new part completes; returns how many. `take_seq` numbers a new
    /// spool's body.
    pub(super) fn part(
        &mut self,
        (chunks, spools): Tables<'_, '_>,
        take_seq: impl FnOnce() -> u64,
        (token, offset, bytes): (u64, usize, Vec<u8>),
    ) -> Result<usize, StoreError> {
        let spool = match self.active.entry(token) {
            Entry::Occupied(spool) => spool.into_mut(),
            // Its beginning was dropped with a failed commit.
            Entry::Vacant(_) if offset != 0 => return Ok(0),
            Entry::Vacant(slot) => {
                let body = take_seq();
                spools.insert(body, ())?;
                slot.insert(Spool {
                    body,
                    next_index: 0,
                    written: 0,
                    pending: VecDeque::new(),
                    head: 0,
                    pending_len: 0,
                    broken: false,
                    ended: false,
                })
            }
        };
        if spool.broken || spool.ended {
            return Ok(0);
        }
        if offset != spool.written + spool.pending_len {
            spool.broken = true;
            return Ok(0);
        }
        spool.pending_len += bytes.len();
        spool.pending.push_back(bytes);
        let mut written = 0;
        while spool.pending_len >= CHUNK_LEN {
            spool.write_chunk(chunks)?;
            written += 1;
        }
        Ok(written)
    }

    /// Deletes spool `token` (refused or given up on) in this batch; returns whether it was
    /// in progress (then forget it once the batch commits).
    pub(super) fn end(
        &mut self,
        (chunks, spools): Tables<'_, '_>,
        token: u64,
    ) -> Result<bool, StoreError> {
        let Some(spool) = self.active.get_mut(&token) else {
            return Ok(false);
        };
        spool.ended = true;
        spool.delete((chunks, spools))?;
        Ok(true)
    }

    /// Deletes what is left of spools that ended in a batch whose commit failed; returns
    /// their tokens, to forget once this batch commits.
    pub(super) fn delete_ended(
        &self,
        (chunks, spools): Tables<'_, '_>,
    ) -> Result<Vec<u64>, StoreError> {
        let mut deleted = Vec::new();
        for (&token, spool) in self.active.iter().filter(|(_, s)| s.ended) {
            spool.delete((&mut *chunks, &mut *spools))?;
            deleted.push(token);
        }
        Ok(deleted)
    }

    /// For the `Accept` of a checked envelope of `len` bytes: its spool, if its chunks can
    /// become the envelope's body. A spool that cannot (broken, or not matching) is deleted
    /// here. Either way the token is done: pass it to [`Self::committed`] or
    /// [`Self::failed`].
    pub(super) fn adopt(
        &mut self,
        (chunks, spools): Tables<'_, '_>,
        token: u64,
        len: usize,
    ) -> Result<Option<Adopted>, StoreError> {
        let Some(spool) = self.active.get_mut(&token) else {
            return Ok(None);
        };
        spool.ended = true;
        spools.remove(spool.body)?;
        if spool.broken || len <= CHUNK_LEN || spool.written + spool.pending_len > len {
            body::remove_chunks(chunks, spool.body)?;
            return Ok(None);
        }
        Ok(Some(Adopted {
            body: spool.body,
            next_index: spool.next_index,
            written: spool.written,
        }))
    }

    /// Drops what committed batches ended.
    pub(super) fn committed(&mut self, done: &[u64]) {
        for token in done {
            self.active.remove(token);
        }
    }

    /// A commit failed: whatever it wrote of any spool is gone, so none can be adopted; those
    /// in `done` ended with the batch and are deleted with the next one.
    pub(super) fn failed(&mut self, done: &[u64]) {
        for spool in self.active.values_mut() {
            spool.broken = true;
        }
        for token in done {
            if let Some(spool) = self.active.get_mut(token) {
                spool.ended = true;
            }
        }
    }
}

impl Spool {
    /// Deletes its chunks and its [`SPOOLS`] entry.
    fn delete(&self, (chunks, spools): Tables<'_, '_>) -> Result<(), StoreError> {
        body::remove_chunks(chunks, self.body)?;
        spools.remove(self.body)?;
        Ok(())
    }

    /// Writes the next full chunk from the pending parts, straight into the database's page.
    fn write_chunk(
        &mut self,
        chunks: &mut Table<'_, (u64, u32), &'static [u8]>,
    ) -> Result<(), StoreError> {
        let mut slot = chunks.insert_reserve((self.body, self.next_index), CHUNK_LEN)?;
        let out = slot.as_mut();
        let mut filled = 0;
        while filled < CHUNK_LEN {
            let Some(front) = self.pending.front() else {
                return Err(StoreError::Invalid("spool shorter than a chunk"));
            };
            let piece = &front[self.head..];
            let n = piece.len().min(CHUNK_LEN - filled);
            out[filled..filled + n].copy_from_slice(&piece[..n]);
            filled += n;
            self.head += n;
            if self.head == front.len() {
                self.pending.pop_front();
                self.head = 0;
            }
        }
        self.pending_len -= CHUNK_LEN;
        self.written += CHUNK_LEN;
        self.next_index += 1;
        Ok(())
    }
}

/// Writes the chunks of an adopted envelope `raw` that its spool had not: from the first byte
/// not in a chunk yet, in [`CHUNK_LEN`] pieces, numbered on from the spool's.
pub(super) fn finish(
    chunks: &mut Table<'_, (u64, u32), &'static [u8]>,
    adopted: &Adopted,
    raw: &[u8],
) -> Result<(), StoreError> {
    let rest = raw
        .get(adopted.written..)
        .ok_or(StoreError::Invalid("spool longer than its envelope"))?;
    for (i, chunk) in rest.chunks(CHUNK_LEN).enumerate() {
        let index = u32::try_from(i)
            .ok()
            .and_then(|i| adopted.next_index.checked_add(i))
            .ok_or(StoreError::Invalid("envelope too large"))?;
        chunks.insert((adopted.body, index), chunk)?;
    }
    Ok(())
}

/// Deletes spools left by a previous run (a crash or a stop mid-envelope); returns how many.
pub(super) fn delete_leftovers(txn: &redb::WriteTransaction) -> Result<usize, StoreError> {
    let mut spools = txn.open_table(SPOOLS)?;
    let mut chunks = txn.open_table(body::ENVELOPE_CHUNKS)?;
    let bodies: Vec<u64> = spools
        .iter()?
        .map(|item| item.map(|(k, _)| k.value()))
        .collect::<Result<_, _>>()?;
    for &body in &bodies {
        body::remove_chunks(&mut chunks, body)?;
        spools.remove(body)?;
    }
    Ok(bodies.len())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use liaison_crypto::Suite;
    use liaison_crypto::sign::SigningKey;
    use redb::{ReadableDatabase, ReadableTableMetadata};

    use super::*;
    use crate::store::{
        AcceptOutcome, CustodyStore, Destination, Incoming, StoreConfig, read_pending,
    };

    const X: Destination = Destination([1; 32]);

    fn open(path: &std::path::Path, key: &Arc<SigningKey>) -> CustodyStore {
        CustodyStore::open(path, Arc::clone(key), StoreConfig::default()).unwrap()
    }

    /// A directory for a custody database, its path, and a node key.
    fn place() -> (tempfile::TempDir, std::path::PathBuf, Arc<SigningKey>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        let key = Arc::new(SigningKey::generate(
            Suite::Lq2,
            &mut liaison_crypto::rng::os_rng(),
        ));
        (dir, path, key)
    }

    /// Three full chunks and a bit, in parts that do not line up with chunks.
    fn big(n: u8) -> Incoming {
        Incoming {
            message_id: [n; 16],
            raw: (0..3 * CHUNK_LEN + 1000)
                .map(|i| (i % 251) as u8 ^ n)
                .collect(),
            expires: u64::MAX,
            from: [9; 32],
            destinations: vec![X],
            spool: None,
        }
    }

    fn feed(sink: &mut dyn PartSink, raw: &[u8], upto: usize) {
        for part in raw[..upto].chunks(700_001) {
            sink.part(part.to_vec());
        }
    }

    /// A small envelope through the writer: everything queued before it is committed.
    async fn flush(store: &CustodyStore, n: u8) {
        let small = Incoming {
            message_id: [n; 16],
            raw: vec![n; 100],
            expires: u64::MAX,
            from: [9; 32],
            destinations: vec![X],
            spool: None,
        };
        store.accept(small, 1).await.unwrap();
    }

    /// (chunks, spools listed) in the database.
    fn on_disk(store: &CustodyStore) -> (u64, u64) {
        let txn = store.db.begin_read().unwrap();
        let chunks = txn
            .open_table(body::ENVELOPE_CHUNKS)
            .unwrap()
            .len()
            .unwrap();
        let spools = txn.open_table(SPOOLS).map_or(0, |t| t.len().unwrap());
        (chunks, spools)
    }

    /// The parts are written as they arrive; the `Accept` adds only the last chunk and the
    /// record, and the envelope reads back byte for byte, also after a reopen.
    #[tokio::test]
    async fn a_spooled_envelope_is_written_while_it_arrives_and_adopted_by_its_accept() {
        let (_dir, path, key) = place();
        let store = open(&path, &key);
        let mut envelope = big(1);
        let mut sink = (store.part_sinks().0)(envelope.raw.len()).expect("large: spooled");
        feed(sink.as_mut(), &envelope.raw, envelope.raw.len());
        flush(&store, 100).await;
        assert_eq!(
            on_disk(&store),
            (3, 1),
            "full chunks written before the accept"
        );
        let ticket = SpoolTicket::from_spooled(sink.complete()).unwrap();
        envelope.spool = Some(ticket.take());
        let raw = envelope.raw.clone();
        assert_eq!(
            store.accept(envelope, 1).await.unwrap(),
            AcceptOutcome::Stored
        );
        assert_eq!(
            on_disk(&store),
            (4, 0),
            "adopted: the last chunk added, unlisted"
        );
        let got = read_pending(&store.db, X, None, 10).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].raw, raw, "read back exactly");
        let counters = store.counters().await.unwrap();
        assert!(
            counters.contains(&("spooled".to_owned(), 1)),
            "{counters:?}"
        );
        store.close().await.unwrap();
        drop(store);
        let store = open(&path, &key);
        assert_eq!(read_pending(&store.db, X, None, 10).unwrap()[1].raw, raw);
        assert_eq!(on_disk(&store), (4, 0));
        // Small envelopes are never spooled.
        assert!((store.part_sinks().0)(CHUNK_LEN).is_none());
    }

    /// A spool that is not adopted leaves nothing: given up on mid-envelope, refused after its
    /// last part, a duplicate, or still open when the node stopped (deleted at the next open).
    #[tokio::test]
    async fn spools_that_are_not_adopted_leave_no_chunks_behind() {
        let (_dir, path, key) = place();
        let store = open(&path, &key);
        let first = big(1);
        let len = first.raw.len();
        // Given up on after two chunks' worth: the sink is dropped without completing.
        let mut sink = (store.part_sinks().0)(len).unwrap();
        feed(sink.as_mut(), &first.raw, 2 * CHUNK_LEN + 10);
        flush(&store, 100).await;
        assert_eq!(on_disk(&store), (2, 1));
        drop(sink);
        flush(&store, 101).await;
        assert_eq!(on_disk(&store), (0, 0), "abandoned");
        // Complete but refused: the ticket is dropped.
        let mut sink = (store.part_sinks().0)(len).unwrap();
        feed(sink.as_mut(), &first.raw, len);
        flush(&store, 102).await;
        assert_eq!(on_disk(&store), (3, 1));
        drop(sink.complete());
        flush(&store, 103).await;
        assert_eq!(on_disk(&store), (0, 0), "refused");
        // A duplicate: the first copy is stored whole, the spooled second is not kept.
        store.accept(first.clone(), 1).await.unwrap();
        assert_eq!(on_disk(&store), (4, 0));
        let mut again = first.clone();
        let mut sink = (store.part_sinks().0)(len).unwrap();
        feed(sink.as_mut(), &again.raw, len);
        again.spool = SpoolTicket::from_spooled(sink.complete()).map(SpoolTicket::take);
        assert_eq!(
            store.accept(again, 1).await.unwrap(),
            AcceptOutcome::Duplicate
        );
        flush(&store, 104).await;
        assert_eq!(on_disk(&store), (4, 0), "only the first copy's chunks");
        // Still arriving when the node stops: deleted when it starts again.
        let mut sink = (store.part_sinks().0)(len).unwrap();
        feed(sink.as_mut(), &big(2).raw, 2 * CHUNK_LEN + 10);
        flush(&store, 105).await;
        assert_eq!(on_disk(&store), (6, 1));
        store.close().await.unwrap();
        drop((store, sink));
        let store = open(&path, &key);
        assert_eq!(on_disk(&store), (4, 0), "left over from the previous run");
        assert_eq!(
            read_pending(&store.db, X, None, 10).unwrap().len(),
            7,
            "6 small, 1 large"
        );
    }
}
