//! Our receipts on their way to the home relay: which are in flight (sent, answer awaited),
//! which the relay deferred (`Ack(Deferred)`, or refused as rate limited) and when each goes
//! again. Each deferred receipt backs off on its own: 1 s, doubling to 60 s. A receipt whose
//! answer does not come within the answer timeout goes again at once. Receipts refused for
//! good are not tracked: they stay pending in the message store and go again at the next
//! connection, like any receipt the relay never acknowledged.
//!
//! Bookkeeping only: the session sends, and reads the store ([`super::Session::pump`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use liaison_proto::envelope::MessageId;
use liaison_proto::receipt::CUSTODY_ID_LEN;
use tokio::time::Instant;

/// The pause before a receipt deferred for the first time goes again (a relay pauses as long).
pub(super) const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause between retries of one deferred receipt.
pub(super) const MAX_PAUSE: Duration = Duration::from_secs(60);
/// Most deferred receipts tracked at once; beyond, a deferred receipt waits for the next
/// connection (it stays pending in the store), so memory stays bounded.
pub(super) const MAX_DEFERRED: usize = 4096;

type CustodyId = [u8; CUSTODY_ID_LEN];

/// One receipt sent and not yet answered.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    message_id: MessageId,
    sent: Instant,
    /// Its pause if the relay defers it.
    pause: Duration,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(super) struct ReceiptTracker {
    in_flight: HashMap<CustodyId, InFlight>,
    /// Custody ids in the order they were sent (entries whose receipt was answered, or sent
    /// again, are skipped when they reach the front).
    sent_order: VecDeque<(Instant, CustodyId)>,
    /// Deferred receipts by when they go again: (due, message id) → pause.
    deferred: BTreeMap<(Instant, [u8; 16]), Duration>,
}

/// What the relay said to one of our receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Taken into custody (`Accepted` or `Duplicate`).
    Taken,
    /// Not now (`Deferred`, or refused as rate limited).
    Later,
    /// Refused for good.
    Refused,
}

impl ReceiptTracker {
    /// A receipt for `message_id` was sent under `custody_id`; `pause` is how long to wait if
    /// it is deferred ([`FIRST_PAUSE`] unless it was deferred before).
    pub(super) fn sent(
        &mut self,
        custody_id: CustodyId,
        message_id: MessageId,
        pause: Duration,
        now: Instant,
    ) {
        self.in_flight.insert(
            custody_id,
            InFlight {
                message_id,
                sent: now,
                pause,
            },
        );
        self.sent_order.push_back((now, custody_id));
    }

    /// Whether a receipt for `message_id` is in flight or waits for its retry.
    pub(super) fn tracks(&self, message_id: MessageId) -> bool {
        self.in_flight.values().any(|f| f.message_id == message_id)
            || self.deferred.keys().any(|(_, id)| *id == message_id.0)
    }

    /// The relay answered `custody_id`: the receipt's message id if it was ours in flight.
    /// A deferred one is scheduled after its pause, which then doubles.
    pub(super) fn answered(
        &mut self,
        custody_id: &[u8],
        verdict: Verdict,
        now: Instant,
    ) -> Option<MessageId> {
        let key = CustodyId::try_from(custody_id).ok()?;
        let flight = self.in_flight.remove(&key)?;
        if verdict == Verdict::Later {
            self.defer(flight.message_id, flight.pause, now);
        }
        Some(flight.message_id)
    }

    /// Schedules `message_id` after `pause` (unless [`MAX_DEFERRED`] are scheduled already).
    fn defer(&mut self, message_id: MessageId, pause: Duration, now: Instant) {
        if self.deferred.len() < MAX_DEFERRED {
            self.deferred.insert((now + pause, message_id.0), pause);
        }
    }

    /// When [`Self::take_due`] has something: the first deferred receipt's time, or the
    /// oldest in-flight one's answer timeout.
    pub(super) fn next_wake(&mut self, answer_timeout: Duration) -> Option<Instant> {
        self.drop_answered_front();
        let deferred = self.deferred.keys().next().map(|(due, _)| *due);
        let timed_out = self
            .sent_order
            .front()
            .map(|(sent, _)| *sent + answer_timeout);
        match (deferred, timed_out) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The receipts to send again now, with the pause each gets if deferred again: those
    /// whose retry time came, and those unanswered for `answer_timeout` (as if deferred, at
    /// once). They are no longer tracked until sent again.
    pub(super) fn take_due(
        &mut self,
        now: Instant,
        answer_timeout: Duration,
    ) -> Vec<(MessageId, Duration)> {
        let mut due = Vec::new();
        loop {
            self.drop_answered_front();
            match self.sent_order.front() {
                Some(&(sent, key)) if sent + answer_timeout <= now => {
                    self.sent_order.pop_front();
                    if let Some(flight) = self.in_flight.remove(&key) {
                        due.push((flight.message_id, flight.pause));
                    }
                }
                _ => break,
            }
        }
        while let Some(entry) = self.deferred.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, id), pause) = entry.remove_entry();
            due.push((MessageId(id), (pause * 2).min(MAX_PAUSE)));
        }
        due
    }

    /// Puts receipts taken with [`Self::take_due`] back, each after its pause (the store could
    /// not be read, say).
    pub(super) fn put_back(&mut self, due: Vec<(MessageId, Duration)>, now: Instant) {
        for (id, pause) in due {
            self.defer(id, pause, now);
        }
    }

    /// Forgets everything (the link is new: every pending receipt goes again).
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }

    fn drop_answered_front(&mut self) {
        while let Some((sent, key)) = self.sent_order.front() {
            match self.in_flight.get(key) {
                Some(flight) if flight.sent == *sent => break,
                _ => {
                    self.sent_order.pop_front();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> MessageId {
        MessageId([n; 16])
    }

    const ANSWER: Duration = Duration::from_secs(30);

    #[test]
    fn a_deferred_receipt_backs_off_on_its_own_and_a_taken_one_is_forgotten() {
        let t0 = Instant::now();
        let mut t = ReceiptTracker::default();
        t.sent([1; 16], id(1), FIRST_PAUSE, t0);
        t.sent([2; 16], id(2), FIRST_PAUSE, t0);
        assert_eq!(t.answered(&[1; 16], Verdict::Later, t0), Some(id(1)));
        assert_eq!(t.answered(&[2; 16], Verdict::Taken, t0), Some(id(2)));
        assert_eq!(
            t.answered(&[2; 16], Verdict::Taken, t0),
            None,
            "answered once"
        );
        assert!(t.tracks(id(1)) && !t.tracks(id(2)));
        assert_eq!(t.next_wake(ANSWER), Some(t0 + FIRST_PAUSE));
        assert!(t.take_due(t0, ANSWER).is_empty(), "not before its pause");

        // Deferred again and again: 1, 2, 4, ... 60 s, each from the time of its deferral.
        let mut now = t0 + FIRST_PAUSE;
        let mut expected = FIRST_PAUSE;
        for _ in 0..10 {
            let due = t.take_due(now, ANSWER);
            expected = (expected * 2).min(MAX_PAUSE);
            assert_eq!(due, vec![(id(1), expected)]);
            t.sent([1; 16], id(1), expected, now);
            t.answered(&[1; 16], Verdict::Later, now);
            now += expected;
            assert_eq!(t.next_wake(ANSWER), Some(now));
        }
        assert_eq!(expected, MAX_PAUSE);
    }

    #[test]
    fn an_unanswered_receipt_goes_again_after_the_answer_timeout_and_a_refused_one_does_not() {
        let t0 = Instant::now();
        let mut t = ReceiptTracker::default();
        t.sent([1; 16], id(1), FIRST_PAUSE, t0);
        t.sent([2; 16], id(2), FIRST_PAUSE, t0 + Duration::from_secs(1));
        assert_eq!(t.answered(&[2; 16], Verdict::Refused, t0), Some(id(2)));
        assert!(
            !t.tracks(id(2)),
            "refused for good: left to the next connection"
        );
        assert_eq!(t.next_wake(ANSWER), Some(t0 + ANSWER));
        assert!(
            t.take_due(t0 + ANSWER - Duration::from_millis(1), ANSWER)
                .is_empty()
        );
        assert_eq!(t.take_due(t0 + ANSWER, ANSWER), vec![(id(1), FIRST_PAUSE)]);
        assert_eq!(t.next_wake(ANSWER), None);
        assert!(!t.tracks(id(1)));
    }

    #[test]
    fn a_receipt_sent_again_is_timed_from_its_last_send_and_answers_for_others_are_ignored() {
        let t0 = Instant::now();
        let mut t = ReceiptTracker::default();
        t.sent([1; 16], id(1), FIRST_PAUSE, t0);
        let later = t0 + Duration::from_secs(20);
        t.sent([1; 16], id(1), FIRST_PAUSE, later);
        assert_eq!(t.next_wake(ANSWER), Some(later + ANSWER));
        assert!(t.take_due(t0 + ANSWER, ANSWER).is_empty());
        assert_eq!(t.answered(&[9; 16], Verdict::Taken, t0), None);
        assert_eq!(t.answered(b"short", Verdict::Taken, t0), None);
    }

    #[test]
    fn deferred_receipts_are_bounded_and_put_back_ones_wait_their_pause() {
        let t0 = Instant::now();
        let mut t = ReceiptTracker::default();
        for n in 0..=MAX_DEFERRED {
            let key = u64::try_from(n).unwrap_or(u64::MAX).to_le_bytes();
            let mut custody = [0u8; 16];
            custody[..8].copy_from_slice(&key);
            let mut message = [0u8; 16];
            message[8..].copy_from_slice(&key);
            t.sent(custody, MessageId(message), FIRST_PAUSE, t0);
            t.answered(&custody, Verdict::Later, t0);
        }
        assert_eq!(t.deferred.len(), MAX_DEFERRED);
        let due = t.take_due(t0 + FIRST_PAUSE, ANSWER);
        assert_eq!(due.len(), MAX_DEFERRED);
        t.put_back(due, t0 + FIRST_PAUSE);
        assert_eq!(
            t.next_wake(ANSWER),
            Some(t0 + FIRST_PAUSE + 2 * FIRST_PAUSE)
        );
        t.clear();
        assert_eq!(t.next_wake(ANSWER), None);
    }
}
