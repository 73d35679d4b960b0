//! Large envelopes on a link as a sequence of bounded `EnvelopePart` records
//! (`spec/protocol-link.md` §3.3): [`parts`] splits an envelope on the sending side;
//! [`EnvelopeAssembler`] puts one back together on the receiving side, checking the order as
//! it goes and hashing the payload ciphertext while the rest is still in flight
//! ([`PayloadHasher`]), so the receiver's work on the last part is small.
//!
//! Sans-IO like the rest of the crate: the link driver feeds it the parts it opened and gets
//! back the envelope, a refusal to send (too large for this receiver), or a violation that
//! ends the link. With [`EnvelopeAssembler::hash_in_background`] the copying and hashing of
//! each part run on a helper thread (at most [`MAX_BACKGROUND_HASHERS`] at once in the
//! process), so a receiver spends its own thread only on opening the next part: SHA-384 of the
//! payload is the receiver's largest cost per byte, and a pipeline of two threads takes it off
//! the path that reads the link.
//!
//! A receiver that keeps what it receives (a relay's custody store) can also take each part
//! once the helper has appended and hashed it ([`EnvelopeAssembler::with_part_sinks`]), and
//! write it away while later parts are still in flight.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::ProtoError;
use crate::certificate::DocumentType;
use crate::envelope::{PayloadDigest, PayloadHasher};
use crate::frame::{ENVELOPE_PART_THRESHOLD, EnvelopePart, MAX_ENVELOPE_LEN, MAX_ENVELOPE_PART};

/// Whether an envelope of `len` bytes crosses a link in parts (longer than
/// [`ENVELOPE_PART_THRESHOLD`]) rather than as one `Envelope` frame.
pub fn sent_in_parts(len: usize) -> bool {
    len > ENVELOPE_PART_THRESHOLD
}

/// The parts of `envelope`, each at most [`MAX_ENVELOPE_PART`] bytes, in order; fails when the
/// envelope is longer than [`MAX_ENVELOPE_LEN`] or empty.
pub fn parts(envelope: &[u8]) -> Result<Parts<'_>, ProtoError> {
    if envelope.is_empty() || envelope.len() > MAX_ENVELOPE_LEN {
        return Err(ProtoError::EnvelopePartViolation {
            reason: "an envelope sent in parts must have 1..=MAX_ENVELOPE_LEN bytes",
        });
    }
    Ok(Parts {
        envelope,
        offset: 0,
    })
}

/// Iterator over the parts of one envelope (see [`parts`]).
#[derive(Debug, Clone)]
pub struct Parts<'a> {
    envelope: &'a [u8],
    offset: usize,
}

impl Iterator for Parts<'_> {
    type Item = EnvelopePart;

    fn next(&mut self) -> Option<EnvelopePart> {
        let rest = self.envelope.get(self.offset..).filter(|r| !r.is_empty())?;
        let take = rest.len().min(MAX_ENVELOPE_PART);
        // ok: `parts` checked the length against MAX_ENVELOPE_LEN, far below u32::MAX
        let part = EnvelopePart {
            total: self.envelope.len() as u32,
            offset: self.offset as u32,
            bytes: rest[..take].to_vec(),
        };
        self.offset += take;
        Some(part)
    }
}

/// What one part completed.
#[derive(Debug)]
pub enum Assembled {
    /// More parts are needed.
    Pending,
    /// The last part arrived: the whole envelope.
    Complete(AssembledEnvelope),
    /// The last part of an envelope longer than this receiver's limit arrived; its parts were
    /// counted, not kept. Answer with a non-fatal `Refused(TooLarge)` naming `message_id`.
    TooLarge {
        /// The announced length.
        total: usize,
        /// The receiver's limit.
        limit: usize,
        /// The 16 bytes where a well-formed envelope's message id sits (after the 3-byte
        /// preamble of its first part), empty when the first part is not an envelope's.
        message_id: Vec<u8>,
    },
}

/// An envelope put back together from its parts, with its payload hash when the hasher
/// could locate the ciphertext ([`crate::envelope::Envelope::decode_owned`] takes both).
pub struct AssembledEnvelope {
    /// The envelope's bytes.
    pub raw: Vec<u8>,
    /// The payload hash computed while the parts arrived.
    pub digest: Option<PayloadDigest>,
    /// What the [`PartSink`] that took the parts made of them ([`PartSink::complete`]), when
    /// one did.
    pub spooled: Option<Spooled>,
}

impl fmt::Debug for AssembledEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssembledEnvelope")
            .field("len", &self.raw.len())
            .field("digest", &self.digest.is_some())
            .field("spooled", &self.spooled.is_some())
            .finish()
    }
}

/// Takes the bytes of one large envelope as the helper thread assembles them: each part, in
/// order, once it has been appended and hashed. A relay writes them to its store meanwhile,
/// so only the last bytes are left to write when the envelope is complete.
///
/// Called on the helper thread, which may block briefly; it must not wait on the thread
/// reading the link. A sink dropped without [`Self::complete`] belongs to an envelope the
/// link gave up on.
pub trait PartSink: Send {
    /// The envelope's next bytes.
    fn part(&mut self, bytes: Vec<u8>);
    /// Every byte was given: the envelope is complete. The result travels with it in
    /// [`AssembledEnvelope::spooled`].
    fn complete(self: Box<Self>) -> Spooled;
}

/// What a [`PartSink`] hands on with a complete envelope; its receiver downcasts it.
pub type Spooled = Box<dyn Any + Send>;

/// Makes a [`PartSink`] for an envelope of the given total length, or declines (`None`).
#[derive(Clone)]
pub struct PartSinks(pub Arc<dyn Fn(usize) -> Option<Box<dyn PartSink>> + Send + Sync>);

impl fmt::Debug for PartSinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PartSinks")
    }
}

/// Most helper threads hashing envelopes at once in this process; an envelope that starts
/// while this many are busy is hashed on the caller's thread, as without
/// [`EnvelopeAssembler::hash_in_background`].
pub const MAX_BACKGROUND_HASHERS: usize = 8;

/// Opened parts waiting for the helper thread; a receiver faster than the hashing waits here
/// (at most this many parts, [`MAX_ENVELOPE_PART`] bytes each, are held besides the envelope).
const BACKGROUND_QUEUE: usize = 2;

/// Helper threads running now (see [`MAX_BACKGROUND_HASHERS`]).
static BACKGROUND_HASHERS: AtomicUsize = AtomicUsize::new(0);

/// Reassembles one envelope at a time from `EnvelopePart`s (`spec/protocol-link.md` §3.3).
///
/// [`Self::push`] fails (the link must send `Error` and close) when a part does not continue
/// the envelope in progress: a first part (offset 0) while another is incomplete, an offset
/// other than the bytes received so far, or a different total. Call [`Self::check_frame`]
/// before handling any other `Envelope` frame: one may not arrive between parts.
#[derive(Debug)]
pub struct EnvelopeAssembler {
    limit: usize,
    state: State,
    background: bool,
    sinks: Option<PartSinks>,
}

#[derive(Debug)]
enum State {
    Idle,
    Receiving {
        total: usize,
        received: usize,
        assembly: Assembly,
    },
    Discarding {
        total: usize,
        received: usize,
        message_id: Vec<u8>,
    },
}

impl EnvelopeAssembler {
    /// An assembler keeping envelopes of at most `limit` bytes (capped at
    /// [`MAX_ENVELOPE_LEN`]); longer ones are counted and refused, never buffered.
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.min(MAX_ENVELOPE_LEN),
            state: State::Idle,
            background: false,
            sinks: None,
        }
    }

    /// Copies and hashes the parts of each envelope on a helper thread while the caller opens
    /// the next (see the module doc). The result is the same, byte for byte and digest for
    /// digest; only which thread spends the time differs. The last [`Self::push`] waits for the
    /// helper to finish (at most two parts behind).
    #[must_use]
    pub fn hash_in_background(mut self) -> Self {
        self.background = true;
        self
    }

    /// Hands the parts of each envelope assembled on a helper thread to a sink made by
    /// `sinks` (see [`PartSink`]); an envelope assembled inline (no helper free) gets none.
    #[must_use]
    pub fn with_part_sinks(mut self, sinks: Option<PartSinks>) -> Self {
        self.sinks = sinks;
        self
    }

    /// The largest envelope kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether an envelope is partly received.
    pub fn in_progress(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// Refuses a whole `Envelope` frame while parts of another envelope are outstanding.
    pub fn check_frame(&self) -> Result<(), ProtoError> {
        if self.in_progress() {
            return Err(ProtoError::EnvelopePartViolation {
                reason: "an Envelope frame arrived between the parts of another envelope",
            });
        }
        Ok(())
    }

    /// Takes the next part. The buffer for an envelope within the limit is allocated when its
    /// first part arrives, from the announced total (at most the limit).
    pub fn push(&mut self, part: EnvelopePart) -> Result<Assembled, ProtoError> {
        let total = usize::try_from(part.total).unwrap_or(usize::MAX);
        let offset = usize::try_from(part.offset).unwrap_or(usize::MAX);
        // The frame decoder checked these already; repeated so a caller building parts by
        // hand cannot get past them.
        if total > MAX_ENVELOPE_LEN
            || part.bytes.is_empty()
            || part.bytes.len() > MAX_ENVELOPE_PART
            || offset.saturating_add(part.bytes.len()) > total
        {
            return Err(ProtoError::EnvelopePartViolation {
                reason: "part is empty, too long or ends beyond the announced total",
            });
        }
        let (expected_total, received) = match &self.state {
            State::Idle => {
                if offset != 0 {
                    return Err(ProtoError::EnvelopePartViolation {
                        reason: "the first part of an envelope must start at offset 0",
                    });
                }
                self.state = if total > self.limit {
                    State::Discarding {
                        total,
                        received: 0,
                        message_id: message_id_of(&part.bytes),
                    }
                } else {
                    State::Receiving {
                        total,
                        received: 0,
                        assembly: Assembly::start(total, self.background, self.sinks.as_ref()),
                    }
                };
                (total, 0)
            }
            State::Receiving {
                total, received, ..
            } => (*total, *received),
            State::Discarding {
                total, received, ..
            } => (*total, *received),
        };
        if offset == 0 && received != 0 {
            return Err(ProtoError::EnvelopePartViolation {
                reason: "a new envelope started before the previous one's last part",
            });
        }
        if total != expected_total {
            return Err(ProtoError::EnvelopePartViolation {
                reason: "the total length changed between parts",
            });
        }
        if offset != received {
            return Err(ProtoError::EnvelopePartViolation {
                reason: "part out of order (offset is not the bytes received so far)",
            });
        }
        let done = offset + part.bytes.len() == total;
        match &mut self.state {
            State::Receiving {
                received, assembly, ..
            } => {
                *received += part.bytes.len();
                assembly.push(part.bytes)?;
            }
            State::Discarding { received, .. } => *received += part.bytes.len(),
            State::Idle => {} // not reached: set above
        }
        if !done {
            return Ok(Assembled::Pending);
        }
        Ok(match std::mem::replace(&mut self.state, State::Idle) {
            State::Receiving { assembly, .. } => Assembled::Complete(assembly.finish()?),
            State::Discarding {
                total, message_id, ..
            } => Assembled::TooLarge {
                total,
                limit: self.limit,
                message_id,
            },
            State::Idle => Assembled::Pending, // not reached: a part always leaves a state
        })
    }
}

/// The message id's bytes of an envelope whose first bytes are `first`, read from its fixed
/// position (after the 3-byte preamble) without parsing; empty when `first` does not start
/// like an envelope.
/// Where the bytes of the envelope in progress go: appended and hashed on the caller's thread,
/// or handed to a helper thread that does both.
#[derive(Debug)]
enum Assembly {
    Inline { raw: Vec<u8>, hasher: PayloadHasher },
    Background(Background),
}

/// A helper thread putting one envelope together (see [`MAX_BACKGROUND_HASHERS`]).
#[derive(Debug)]
struct Background {
    parts: SyncSender<Vec<u8>>,
    done: JoinHandle<AssembledEnvelope>,
}

/// Counts a helper thread as running until dropped (also when the thread ends early).
struct HasherSlot;

impl HasherSlot {
    fn take() -> Option<Self> {
        BACKGROUND_HASHERS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_BACKGROUND_HASHERS).then_some(n + 1)
            })
            .ok()
            .map(|_| Self)
    }
}

impl Drop for HasherSlot {
    fn drop(&mut self) {
        BACKGROUND_HASHERS.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Assembly {
    /// Starts assembling an envelope of `total` bytes (checked against the limit already);
    /// on a helper thread when `background` and one is free, else inline.
    fn start(total: usize, background: bool, sinks: Option<&PartSinks>) -> Self {
        if let Some(slot) = background.then(HasherSlot::take).flatten() {
            let mut sink = sinks.and_then(|make| (make.0)(total));
            let (parts, arrived) = sync_channel::<Vec<u8>>(BACKGROUND_QUEUE);
            let spawned = std::thread::Builder::new()
                .name("envelope-hash".into())
                .spawn(move || {
                    let _slot = slot;
                    let (mut raw, mut hasher) = (Vec::with_capacity(total), PayloadHasher::new());
                    // Ends when the assembler drops its sender: after the last part, or when
                    // the link gives up on the envelope (the result is then discarded).
                    for part in arrived {
                        raw.extend_from_slice(&part);
                        hasher.update(&raw);
                        if let Some(sink) = sink.as_mut() {
                            sink.part(part);
                        }
                    }
                    let digest = hasher.finish(&raw);
                    // An envelope given up on drops its sink here, incomplete.
                    let spooled = sink.filter(|_| raw.len() == total).map(|s| s.complete());
                    AssembledEnvelope {
                        raw,
                        digest,
                        spooled,
                    }
                });
            // A thread that cannot start (resource limits) leaves the work to the caller.
            if let Ok(done) = spawned {
                return Self::Background(Background { parts, done });
            }
        }
        Self::Inline {
            raw: Vec::with_capacity(total),
            hasher: PayloadHasher::new(),
        }
    }

    fn push(&mut self, bytes: Vec<u8>) -> Result<(), ProtoError> {
        match self {
            Self::Inline { raw, hasher } => {
                raw.extend_from_slice(&bytes);
                hasher.update(raw);
                Ok(())
            }
            Self::Background(b) => b.parts.send(bytes).map_err(|_| HELPER_FAILED),
        }
    }

    fn finish(self) -> Result<AssembledEnvelope, ProtoError> {
        match self {
            Self::Inline { raw, hasher } => {
                let digest = hasher.finish(&raw);
                Ok(AssembledEnvelope {
                    raw,
                    digest,
                    spooled: None,
                })
            }
            Self::Background(Background { parts, done }) => {
                drop(parts);
                done.join().map_err(|_| HELPER_FAILED)
            }
        }
    }
}

/// The helper thread ended without an envelope (not reached: hashing does not fail).
const HELPER_FAILED: ProtoError = ProtoError::EnvelopePartViolation {
    reason: "the thread assembling the envelope stopped",
};

fn message_id_of(first: &[u8]) -> Vec<u8> {
    match (first.get(1), first.get(3..19)) {
        (Some(&kind), Some(id)) if kind == DocumentType::Envelope.wire() => id.to_vec(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn part(total: usize, offset: usize, bytes: &[u8]) -> EnvelopePart {
        EnvelopePart {
            total: total as u32,
            offset: offset as u32,
            bytes: bytes.to_vec(),
        }
    }

    fn assemble(
        asm: &mut EnvelopeAssembler,
        parts: impl IntoIterator<Item = EnvelopePart>,
    ) -> Vec<u8> {
        let mut out = None;
        for p in parts {
            assert!(out.is_none(), "a part after the last one");
            match asm.push(p).unwrap() {
                Assembled::Pending => {}
                Assembled::Complete(env) => out = Some(env.raw),
                other => panic!("unexpected {other:?}"),
            }
        }
        out.expect("the last part completes the envelope")
    }

    /// Records what a sink is given; `complete` hands back every byte it saw.
    struct Recorder {
        seen: Vec<u8>,
        log: std::sync::mpsc::Sender<&'static str>,
    }

    impl PartSink for Recorder {
        fn part(&mut self, bytes: Vec<u8>) {
            self.seen.extend_from_slice(&bytes);
        }
        fn complete(mut self: Box<Self>) -> Spooled {
            let _ = self.log.send("complete");
            Box::new(std::mem::take(&mut self.seen))
        }
    }

    impl Drop for Recorder {
        fn drop(&mut self) {
            let _ = self.log.send("dropped");
        }
    }

    /// A sink takes every part of an envelope assembled on a helper thread, in order, and is
    /// completed with it; one of an envelope given up on is dropped without completing; an
    /// envelope the factory declines has none.
    #[test]
    fn part_sinks_see_every_byte_in_order_and_complete_only_with_the_envelope() {
        let (log, events) = std::sync::mpsc::channel();
        let sinks = PartSinks(Arc::new(move |total| {
            (total > 1000).then(|| {
                Box::new(Recorder {
                    seen: Vec::new(),
                    log: log.clone(),
                }) as Box<dyn PartSink>
            })
        }));
        let env = bytes(2 * MAX_ENVELOPE_PART + 17);
        let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN)
            .hash_in_background()
            .with_part_sinks(Some(sinks));
        let mut last = None;
        for p in parts(&env).unwrap() {
            if let Assembled::Complete(done) = asm.push(p).unwrap() {
                last = Some(done);
            }
        }
        let done = last.unwrap();
        assert_eq!(done.raw, env);
        let seen = done.spooled.unwrap().downcast::<Vec<u8>>().unwrap();
        assert_eq!(*seen, env, "every byte, in order");
        assert_eq!(
            events.try_iter().collect::<Vec<_>>(),
            ["complete", "dropped"]
        );
        // Given up on after one part: dropped, never completed.
        let mut first = parts(&env).unwrap();
        assert!(matches!(
            asm.push(first.next().unwrap()).unwrap(),
            Assembled::Pending
        ));
        drop(asm);
        let dropped = events.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(dropped, Ok("dropped"));
        assert!(events.try_recv().is_err());
        // Declined (small): no sink, nothing spooled.
        let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN)
            .hash_in_background()
            .with_part_sinks(asm_sinks_declining());
        let small = bytes(900);
        let Assembled::Complete(done) = asm.push(part(900, 0, &small)).unwrap() else {
            panic!("one part completes it");
        };
        assert!(done.spooled.is_none());
    }

    fn asm_sinks_declining() -> Option<PartSinks> {
        Some(PartSinks(Arc::new(|_| None)))
    }

    #[test]
    fn large_envelope_splits_into_bounded_parts_and_reassembles() {
        let env = bytes(2 * MAX_ENVELOPE_PART + 17);
        let split: Vec<_> = parts(&env).unwrap().collect();
        assert_eq!(split.len(), 3);
        assert!(split.iter().all(|p| p.bytes.len() <= MAX_ENVELOPE_PART));
        assert!(split[2].is_last() && !split[1].is_last());
        let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN);
        assert_eq!(assemble(&mut asm, split.clone()), env);
        assert!(!asm.in_progress());
        // The assembler takes the next envelope on the same link.
        assert_eq!(assemble(&mut asm, split), env);
        assert!(sent_in_parts(env.len()) && !sent_in_parts(ENVELOPE_PART_THRESHOLD));
        assert!(parts(&[]).is_err());
    }

    /// A helper thread left with an envelope the link gave up on (a violation, or the link
    /// dropped) ends and frees its slot; the next envelope is assembled as usual.
    #[test]
    fn an_abandoned_background_assembly_ends_and_the_next_envelope_is_assembled() {
        let env = bytes(3 * 1000);
        let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN).hash_in_background();
        assert!(matches!(
            asm.push(part(3000, 0, &env[..1000])),
            Ok(Assembled::Pending)
        ));
        assert!(asm.push(part(3000, 2000, &env[2000..])).is_err());
        // A violation ends the link; a new assembler (a new link) starts from scratch.
        drop(asm);
        let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN).hash_in_background();
        let split = [0, 1000, 2000].map(|o| part(3000, o, &env[o..o + 1000]));
        assert_eq!(assemble(&mut asm, split), env);
        // Every slot is returned once the threads end (other tests may hold some meanwhile).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while BACKGROUND_HASHERS.load(Ordering::Acquire) == MAX_BACKGROUND_HASHERS {
            assert!(std::time::Instant::now() < deadline, "helper slots leaked");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn out_of_order_interleaved_and_inconsistent_parts_are_violations() {
        let env = bytes(3000);
        let fresh = || {
            let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN);
            assert!(matches!(
                asm.push(part(3000, 0, &env[..1000])),
                Ok(Assembled::Pending)
            ));
            asm
        };
        let cases = [
            // skips bytes 1000..1500
            part(3000, 1500, &env[1500..2000]),
            // repeats the first part's bytes
            part(3000, 500, &env[500..1000]),
            // a second envelope starts before the first is complete
            part(3000, 0, &env[..1000]),
            // the total changes
            part(4000, 1000, &env[1000..2000]),
            // ends beyond the total
            part(3000, 1000, &bytes(2500)),
            // carries nothing
            part(3000, 1000, &[]),
        ];
        for (i, bad) in cases.into_iter().enumerate() {
            let mut asm = fresh();
            assert!(
                matches!(asm.push(bad), Err(ProtoError::EnvelopePartViolation { .. })),
                "case {i}"
            );
        }
        // A whole Envelope frame between parts is refused; before the first, it is fine.
        assert!(fresh().check_frame().is_err());
        assert!(EnvelopeAssembler::new(10).check_frame().is_ok());
        // A sequence must start at offset 0.
        let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN);
        assert!(asm.push(part(3000, 1000, &env[1000..2000])).is_err());
        // Nothing beyond the protocol's largest envelope, whatever the receiver's limit.
        let mut asm = EnvelopeAssembler::new(usize::MAX);
        assert_eq!(asm.limit(), MAX_ENVELOPE_LEN);
        assert!(asm.push(part(MAX_ENVELOPE_LEN + 1, 0, &env[..10])).is_err());
    }

    #[test]
    fn envelope_over_the_limit_is_counted_not_buffered_and_refused_with_its_id() {
        let mut env = bytes(5000);
        env[1] = DocumentType::Envelope.wire();
        let mut asm = EnvelopeAssembler::new(4000);
        let mut split = env
            .chunks(1000)
            .enumerate()
            .map(|(i, c)| part(5000, i * 1000, c));
        for p in split.by_ref().take(4) {
            assert!(matches!(asm.push(p), Ok(Assembled::Pending)));
            // Nothing is kept for an envelope that will be refused.
            assert!(matches!(asm.state, State::Discarding { .. }));
        }
        match asm.push(split.next().unwrap()) {
            Ok(Assembled::TooLarge {
                total,
                limit,
                message_id,
            }) => {
                assert_eq!((total, limit), (5000, 4000));
                assert_eq!(message_id, env[3..19].to_vec());
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // The order is still checked while discarding, and the link goes on afterwards.
        assert!(!asm.in_progress());
        assert_eq!(
            assemble(&mut asm, [part(10, 0, &env[..10])]),
            env[..10].to_vec()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any split of an envelope into non-empty parts, in order, reassembles to it.
        #[test]
        fn any_in_order_split_reassembles(
            len in 1usize..6000,
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let env = bytes(len);
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c % len).filter(|&c| c > 0).collect();
            points.push(0);
            points.push(len);
            points.sort_unstable();
            points.dedup();
            let split = points.windows(2).map(|w| part(len, w[0], &env[w[0]..w[1]]));
            let split: Vec<_> = split.collect();
            let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN);
            prop_assert_eq!(assemble(&mut asm, split.clone()), env.clone());
            // The same on a helper thread.
            let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN).hash_in_background();
            prop_assert_eq!(assemble(&mut asm, split), env);
        }

        /// Parts in any other order never complete an envelope that differs from the original:
        /// the assembler refuses them instead.
        #[test]
        fn reordered_parts_are_refused(len in 3usize..3000, a in any::<usize>(), b in any::<usize>()) {
            let env = bytes(len);
            let (a, b) = (1 + a % (len - 1), 1 + b % (len - 1));
            prop_assume!(a != b);
            let (lo, hi) = (a.min(b), a.max(b));
            let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN);
            prop_assert!(matches!(asm.push(part(len, 0, &env[..lo])), Ok(Assembled::Pending)));
            prop_assert!(asm.push(part(len, hi, &env[hi..])).is_err());
        }
    }
}
