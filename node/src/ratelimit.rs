//! Per-peer rate limits (`[limits.officers]`, `[limits.relays]`): two token buckets per
//! authenticated link — items per second and bytes per second, each with a burst — checked
//! before a relay spends any work (signature checks, a custody commit) on an envelope or a
//! receipt. An item over the limit is refused with a non-fatal `Refused` frame carrying
//! `WireCode::RateLimited`; the link stays up and the sender may retry later.
//!
//! Pure logic with the clock passed in (`now: Instant`), so the arithmetic is tested without
//! sleeping.

use std::time::{Duration, Instant};

use liaison_proto::WireCode;
use liaison_proto::certificate::DocumentType;
use liaison_proto::frame::LinkFrame;
use liaison_proto::notice::NonDelivery;
use liaison_proto::prekey::SignedPrekey;
use liaison_proto::receipt::Receipt;
use serde::Deserialize;

/// The rate limit of one class of peers, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained items per second: envelopes, receipts, prekey publications and requests.
    pub envelopes_per_sec: f64,
    /// Items that may arrive at once after a quiet period.
    pub envelope_burst: u32,
    /// Sustained bytes per second of those items.
    pub bytes_per_sec: u64,
    /// Bytes that may arrive at once; at least `limits.max_envelope_bytes`, or the largest
    /// envelope could never pass.
    pub byte_burst: u64,
}

impl RateLimit {
    /// Default for an officer's link: generous for people, a brake on a runaway client.
    pub const OFFICERS: Self = Self {
        envelopes_per_sec: 20.0,
        envelope_burst: 100,
        bytes_per_sec: 32 * 1024 * 1024,
        byte_burst: 512 * 1024 * 1024,
    };
    /// Default for a neighbouring relay's link: it aggregates many officers.
    pub const RELAYS: Self = Self {
        envelopes_per_sec: 2000.0,
        envelope_burst: 10_000,
        bytes_per_sec: 512 * 1024 * 1024,
        byte_burst: 2 * 1024 * 1024 * 1024,
    };

    /// Why this limit is unusable, if it is (`max_envelope_bytes` is the node's size limit).
    pub fn problem(&self, max_envelope_bytes: usize) -> Option<String> {
        if !(self.envelopes_per_sec.is_finite() && self.envelopes_per_sec > 0.0) {
            return Some("envelopes_per_sec must be a positive number".into());
        }
        if self.envelope_burst == 0 || self.bytes_per_sec == 0 {
            return Some("envelope_burst and bytes_per_sec must be positive".into());
        }
        if self.byte_burst < max_envelope_bytes as u64 {
            return Some(format!(
                "byte_burst ({}) is below limits.max_envelope_bytes ({max_envelope_bytes}): \
                 the largest envelope could never pass",
                self.byte_burst
            ));
        }
        None
    }
}

/// One token bucket.
#[derive(Debug, Clone)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: f64, now: Instant) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
    }

    /// How long until `n` tokens are there (zero if they are now).
    fn wait_for(&self, n: f64) -> Duration {
        if self.tokens >= n {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(((n - self.tokens) / self.rate).min(86_400.0))
        }
    }
}

/// Over the limit: what ran out and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// `"envelopes"` or `"bytes"`.
    pub exhausted: &'static str,
    /// When the item would pass (if nothing else arrives meanwhile).
    pub retry_after: Duration,
}

/// The two buckets of one link.
#[derive(Debug, Clone)]
pub struct PeerLimiter {
    items: Bucket,
    bytes: Bucket,
    limit: RateLimit,
    /// Items refused since the last one admitted (to audit one refusal per episode).
    refused_in_a_row: u64,
    /// The last refusal's detail, for [`Self::refusal`].
    last: Option<Limited>,
}

impl PeerLimiter {
    /// Full buckets at `now`.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            items: Bucket::new(
                limit.envelopes_per_sec,
                f64::from(limit.envelope_burst),
                now,
            ),
            bytes: Bucket::new(limit.bytes_per_sec as f64, limit.byte_burst as f64, now),
            limit,
            refused_in_a_row: 0,
            last: None,
        }
    }

    /// The configured limit.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Admits one item of `len` bytes, taking from both buckets, or refuses it taking nothing.
    pub fn admit(&mut self, len: usize, now: Instant) -> Result<(), Limited> {
        self.items.refill(now);
        self.bytes.refill(now);
        let len = len as f64;
        let wait_items = self.items.wait_for(1.0);
        let wait_bytes = self.bytes.wait_for(len);
        if wait_items.is_zero() && wait_bytes.is_zero() {
            self.items.tokens -= 1.0;
            self.bytes.tokens -= len;
            self.refused_in_a_row = 0;
            return Ok(());
        }
        self.refused_in_a_row += 1;
        Err(if wait_items >= wait_bytes {
            Limited {
                exhausted: "envelopes",
                retry_after: wait_items,
            }
        } else {
            Limited {
                exhausted: "bytes",
                retry_after: wait_bytes,
            }
        })
    }

    /// Whether the last refusal was the first of a run (worth an audit entry); the rest of a
    /// flood is only counted, so a flood cannot turn into one durable write per frame.
    pub fn first_refusal_of_run(&self) -> bool {
        self.refused_in_a_row == 1
    }

    /// Whether an incoming item — an `Envelope`, `Receipt`, `NonDelivery`, `PrekeyPublish` or
    /// `PrekeyRequest` frame, each of which costs the relay a signature check, a commit or a query to another
    /// relay — is over the limit (link housekeeping frames never are). An item under the limit
    /// is admitted, and its tokens taken, by this call; for one over it, [`Self::refusal`]
    /// builds the answer.
    pub fn over_limit(&mut self, frame: &LinkFrame, now: Instant) -> bool {
        let len = match frame {
            LinkFrame::Envelope(raw)
            | LinkFrame::Receipt(raw)
            | LinkFrame::NonDelivery(raw)
            | LinkFrame::PrekeyPublish(raw) => raw.len(),
            LinkFrame::PrekeyRequest(id) => id.as_bytes().len(),
            _ => return false,
        };
        match self.admit(len, now) {
            Ok(()) => false,
            Err(limited) => {
                self.last = Some(limited);
                true
            }
        }
    }

    /// The `Refused` frame (`WireCode::RateLimited`) for `frame`, which [`Self::over_limit`]
    /// just found over the limit. Its id names the item as `spec/protocol-link.md` §3.4 says:
    /// the envelope's message id, the receipt's custody id, the published prekey's id, or the
    /// identity a prekey request asked for (empty when the bytes do not even parse).
    pub fn refusal(&self, frame: &LinkFrame) -> LinkFrame {
        let id = match frame {
            // Read from its fixed position (after the 3-byte preamble, `spec/protocol.md`
            // envelope header) rather than parsing an item we refuse to spend work on; only a
            // well-formed envelope is read there, anything else gets an empty id.
            LinkFrame::Envelope(raw) => match (raw.get(1), raw.get(3..19)) {
                (Some(&kind), Some(id)) if kind == DocumentType::Envelope.wire() => id.to_vec(),
                _ => Vec::new(),
            },
            LinkFrame::Receipt(raw) => Receipt::decode(raw)
                .map(|r| r.custody_id().to_vec())
                .unwrap_or_default(),
            LinkFrame::NonDelivery(raw) => NonDelivery::decode(raw)
                .map(|n| n.custody_id().to_vec())
                .unwrap_or_default(),
            LinkFrame::PrekeyPublish(raw) => SignedPrekey::decode(raw)
                .map(|p| p.id().0.to_vec())
                .unwrap_or_default(),
            LinkFrame::PrekeyRequest(id) => id.as_bytes().to_vec(),
            _ => Vec::new(),
        };
        let (exhausted, retry) = self.last.map_or(("envelopes", Duration::ZERO), |l| {
            (l.exhausted, l.retry_after)
        });
        LinkFrame::Refused {
            id,
            code: WireCode::RateLimited as u16,
            reason: format!(
                "rate limit: {exhausted} per second exceeded on this link ({} envelopes/s, {} \
                 bytes/s); retry in {} ms",
                self.limit.envelopes_per_sec,
                self.limit.bytes_per_sec,
                retry.as_millis().max(1)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: RateLimit = RateLimit {
        envelopes_per_sec: 2.0,
        envelope_burst: 3,
        bytes_per_sec: 1000,
        byte_burst: 5000,
    };

    #[test]
    fn burst_passes_then_the_rate_applies() {
        let t0 = Instant::now();
        let mut l = PeerLimiter::new(SMALL, t0);
        for _ in 0..3 {
            assert_eq!(l.admit(10, t0), Ok(()));
        }
        let refused = l.admit(10, t0).unwrap_err();
        assert_eq!(refused.exhausted, "envelopes");
        assert_eq!(refused.retry_after, Duration::from_millis(500));
        assert!(l.first_refusal_of_run());
        assert!(l.admit(10, t0).is_err());
        assert!(!l.first_refusal_of_run());
        // Half a second later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(l.admit(10, t1), Ok(()));
        assert!(l.admit(10, t1).is_err());
    }

    #[test]
    fn bytes_are_limited_separately_and_a_refusal_takes_nothing() {
        let t0 = Instant::now();
        let mut l = PeerLimiter::new(SMALL, t0);
        assert_eq!(l.admit(4500, t0), Ok(()));
        let refused = l.admit(1000, t0).unwrap_err();
        assert_eq!(refused.exhausted, "bytes");
        assert_eq!(refused.retry_after, Duration::from_millis(500));
        // The refused item consumed no envelope token: two small ones still pass.
        assert_eq!(l.admit(100, t0), Ok(()));
        assert_eq!(l.admit(100, t0), Ok(()));
    }

    #[test]
    fn buckets_never_exceed_their_burst() {
        let t0 = Instant::now();
        let mut l = PeerLimiter::new(SMALL, t0);
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(l.admit(1, later), Ok(()));
        }
        assert!(l.admit(1, later).is_err());
    }

    #[test]
    fn prekey_requests_count_and_are_refused_naming_the_identity() {
        let t0 = Instant::now();
        let mut l = PeerLimiter::new(
            RateLimit {
                envelope_burst: 1,
                ..SMALL
            },
            t0,
        );
        let ask = LinkFrame::PrekeyRequest(liaison_crypto::IdentityId::from_bytes([7; 32]));
        assert!(!l.over_limit(&ask, t0));
        assert!(l.over_limit(&ask, t0));
        match l.refusal(&ask) {
            LinkFrame::Refused { id, code, .. } => {
                assert_eq!(id, vec![7; 32]);
                assert_eq!(code, WireCode::RateLimited as u16);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unusable_limits_are_named() {
        assert!(SMALL.problem(4096).is_none());
        assert!(SMALL.problem(8192).unwrap().contains("byte_burst"));
        let zero = RateLimit {
            envelopes_per_sec: 0.0,
            ..SMALL
        };
        assert!(zero.problem(1).unwrap().contains("envelopes_per_sec"));
        let nan = RateLimit {
            envelopes_per_sec: f64::NAN,
            ..SMALL
        };
        assert!(nan.problem(1).is_some());
        assert!(
            RateLimit::OFFICERS
                .problem(64 * 1024 * 1024 + 4096)
                .is_none()
        );
    }

    #[test]
    fn other_frames_pass_and_garbage_is_limited_with_an_empty_id() {
        let t0 = Instant::now();
        let mut l = PeerLimiter::new(
            RateLimit {
                envelope_burst: 1,
                ..SMALL
            },
            t0,
        );
        assert!(!l.over_limit(&LinkFrame::Close, t0));
        assert!(!l.over_limit(&LinkFrame::Ping([0; 8]), t0));
        let garbage = LinkFrame::Envelope(vec![1, 2, 3]);
        assert!(!l.over_limit(&garbage, t0));
        assert!(l.over_limit(&garbage, t0));
        match l.refusal(&garbage) {
            LinkFrame::Refused { id, code, reason } => {
                assert!(id.is_empty());
                assert_eq!(code, WireCode::RateLimited as u16);
                assert!(reason.contains("rate limit"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
