//! The payload hash of an envelope computed while its bytes arrive (`spec/protocol-link.md`
//! §3.3, `EnvelopePart`), so that a relay receiving a large envelope in parts has hashed the
//! payload ciphertext by the time the last part lands and only has to finish the signature
//! check ([`super::Envelope::decode_owned`]).
//!
//! The hash is the one of `spec/protocol.md` §11 (module docs of [`super`]):
//! `SHA-384(info("liaison envelope payload v1", [payload ciphertext]))`, i.e. the label's
//! `info` encoding, the ciphertext's `be32` length, then the ciphertext — fed here piece by
//! piece through `liaison_crypto::kdf::TranscriptField` instead of from one slice. A unit test
//! checks it equals [`super::payload_hash`].

use core::ops::Range;

use liaison_crypto::kdf::{HASH_LEN, TranscriptField};
use liaison_crypto::labels;

use super::{MAX_PAYLOAD_LEN, read_block, read_header};
use crate::codec::Reader;
use crate::{DecodeError, ProtoError};

/// The payload hash of one envelope and where its ciphertext lies; made only by
/// [`PayloadHasher::finish`] and used by [`super::Envelope::decode_owned`] only when the
/// envelope's own parse finds the ciphertext at exactly this range of a buffer this long.
#[derive(Clone, PartialEq, Eq)]
pub struct PayloadDigest {
    /// Address of the buffer hashed: a guard against pairing the digest with another
    /// envelope's buffer (the link hands the very same `Vec` on), not the security argument,
    /// which is that only the holder of the bytes computes it.
    buffer: usize,
    envelope_len: usize,
    ciphertext: Range<usize>,
    hash: [u8; HASH_LEN],
}

impl core::fmt::Debug for PayloadDigest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PayloadDigest")
            .field("envelope_len", &self.envelope_len)
            .field("ciphertext", &self.ciphertext)
            .field("hash", &hex::encode(self.hash))
            .finish()
    }
}

impl PayloadDigest {
    /// The hash, if it was computed over `ciphertext` of `envelope` (same buffer, length and
    /// ciphertext range).
    pub(super) fn hash_for(
        &self,
        envelope: &[u8],
        ciphertext: &Range<usize>,
    ) -> Option<[u8; HASH_LEN]> {
        (self.buffer == envelope.as_ptr() as usize
            && self.envelope_len == envelope.len()
            && self.ciphertext == *ciphertext)
            .then_some(self.hash)
    }
}

/// Hashes the payload ciphertext of an envelope whose bytes arrive in order.
///
/// Call [`Self::update`] with the whole envelope prefix received so far each time it grows
/// (the same buffer, only ever appended to), then [`Self::finish`] with the complete
/// envelope. The hasher parses the envelope's header and recipient blocks once they are all
/// there, then hashes each ciphertext byte once. It never fails: a prefix that can never
/// parse just stops the hashing, and the envelope's own decode reports why.
pub struct PayloadHasher {
    state: HashState,
    /// Parse the prefix again only once this many bytes are buffered (doubling), so tiny
    /// parts cannot make the prefix parse quadratic.
    next_attempt: usize,
}

enum HashState {
    /// Header and blocks not yet complete.
    Prefix,
    /// Hashing the ciphertext; `hashed` is the next byte to absorb.
    Ciphertext {
        range: Range<usize>,
        hashed: usize,
        field: Box<TranscriptField>,
    },
    /// The prefix can never parse (the decode will say why).
    Abandoned,
}

impl core::fmt::Debug for PayloadHasher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match &self.state {
            HashState::Prefix => "Prefix",
            HashState::Ciphertext { .. } => "Ciphertext",
            HashState::Abandoned => "Abandoned",
        };
        f.debug_struct("PayloadHasher")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl Default for PayloadHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PayloadHasher {
    /// A hasher that has seen no bytes.
    pub fn new() -> Self {
        Self {
            state: HashState::Prefix,
            next_attempt: 1,
        }
    }

    /// Takes in the envelope prefix received so far (`prefix` extends the previous call's).
    pub fn update(&mut self, prefix: &[u8]) {
        if matches!(self.state, HashState::Prefix) {
            if prefix.len() < self.next_attempt {
                return;
            }
            self.next_attempt = prefix.len().saturating_mul(2);
            self.state = match ciphertext_range(prefix) {
                Ok(Some(range)) => {
                    match TranscriptField::new(labels::ENVELOPE_PAYLOAD_HASH, range.len()) {
                        Ok(field) => HashState::Ciphertext {
                            hashed: range.start,
                            range,
                            field: Box::new(field),
                        },
                        Err(_) => HashState::Abandoned,
                    }
                }
                Ok(None) => HashState::Prefix,
                Err(_) => HashState::Abandoned,
            };
        }
        if let HashState::Ciphertext {
            range,
            hashed,
            field,
        } = &mut self.state
        {
            let end = range.end.min(prefix.len());
            if let Some(new) = prefix.get(*hashed..end) {
                // Cannot fail: `end` never passes the range the field was declared for.
                if field.update(new).is_err() {
                    self.state = HashState::Abandoned;
                    return;
                }
                *hashed = end;
            }
        }
    }

    /// The digest over `envelope` (the complete bytes; the prefix of every earlier
    /// [`Self::update`]), or `None` when the ciphertext could not be located.
    pub fn finish(mut self, envelope: &[u8]) -> Option<PayloadDigest> {
        self.next_attempt = 0;
        self.update(envelope);
        match self.state {
            HashState::Ciphertext { range, field, .. } => {
                let hash = field.finish().ok()?;
                Some(PayloadDigest {
                    buffer: envelope.as_ptr() as usize,
                    envelope_len: envelope.len(),
                    ciphertext: range,
                    hash,
                })
            }
            _ => None,
        }
    }
}

/// Where the payload ciphertext lies, once `prefix` holds the header, the recipient blocks
/// and the ciphertext's length; `Ok(None)` while they are incomplete.
fn ciphertext_range(prefix: &[u8]) -> Result<Option<Range<usize>>, ProtoError> {
    let mut r = Reader::new(prefix);
    let parsed = (|| {
        let header = read_header(&mut r)?;
        for _ in &header.recipients {
            read_block(&mut r, header.suite)?;
        }
        let len = r.u32("payload ciphertext length")?;
        Ok::<_, ProtoError>(usize::try_from(len).unwrap_or(usize::MAX))
    })();
    match parsed {
        Ok(len) => {
            let max = usize::try_from(MAX_PAYLOAD_LEN).unwrap_or(usize::MAX)
                + liaison_crypto::aead::TAG_LEN;
            if len > max {
                return Err(DecodeError::TooLong {
                    what: "payload ciphertext",
                    len,
                    max,
                }
                .into());
            }
            let start = r.position();
            Ok(Some(start..start.saturating_add(len)))
        }
        Err(ProtoError::Decode(DecodeError::Truncated { .. })) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed construction is the payload hash: fed in pieces through
    /// `TranscriptField`, the ciphertext hashes as `payload_hash` hashes it whole.
    #[test]
    fn streamed_hash_equals_the_transcript_hash() {
        for len in [0usize, 1, 127, 128, 4096, 100_000] {
            let ct: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut field = TranscriptField::new(labels::ENVELOPE_PAYLOAD_HASH, len).unwrap();
            for chunk in ct.chunks(999) {
                field.update(chunk).unwrap();
            }
            assert_eq!(
                field.finish().unwrap(),
                super::super::payload_hash(&ct),
                "len {len}"
            );
        }
    }

    #[test]
    fn garbage_is_abandoned_not_hashed() {
        let mut h = PayloadHasher::new();
        let garbage = vec![0xff; 4096];
        h.update(&garbage);
        assert!(h.finish(&garbage).is_none());
    }
}
