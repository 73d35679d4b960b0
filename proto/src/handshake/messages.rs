//! Handshake message codecs (`spec/protocol-link.md` §4.2): `InitiatorHello`,
//! `ResponderHello`, `InitiatorFinish`. Each is the body of a frame of the same name.
//!
//! Decoding is strict (exact lengths, booleans 0/1, canonical suite order, no trailing bytes),
//! so re-encoding a decoded message yields the received bytes: the transcript absorbs exactly
//! what was on the wire.

use liaison_crypto::Suite;

use super::{HANDSHAKE_NONCE_LEN, MAX_CERTIFICATE_LEN, SuppliedKeyRef, check_peer_suite_list};
use crate::codec::{Reader, Writer};
use crate::error::DecodeError;
use crate::frame::{Frame, FrameType, read_bool};

/// Bytes of a finished (key confirmation) value.
pub const FINISHED_LEN: usize = 32;
/// Largest composite signature of any suite (Ed25519 + ML-DSA-87).
pub const MAX_SIGNATURE_LEN: usize =
    liaison_crypto::ED25519_SIG_LEN + liaison_crypto::MLDSA87_SIG_LEN;
/// Largest hybrid KEM public key or ciphertext of any suite.
pub const MAX_KEM_BLOB_LEN: usize = liaison_crypto::MLKEM1024_PK_LEN + liaison_crypto::X25519_LEN;

/// One offered suite with the initiator's fresh KEM public key for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KemOffer {
    /// The suite offered.
    pub suite: Suite,
    /// A fresh hybrid KEM public key of that suite.
    pub public_key: Vec<u8>,
}

/// Handshake message 1 (initiator → responder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiatorHello {
    /// Protocol version ([`super::LINK_VERSION`]).
    pub version: u16,
    /// Fresh random nonce.
    pub nonce: [u8; HANDSHAKE_NONCE_LEN],
    /// Offered suites, strongest first, each with its KEM public key.
    pub offers: Vec<KemOffer>,
    /// Supplied-key references, when the initiator mixes a supplied key.
    pub supplied: Option<SuppliedKeyRef>,
}

/// Handshake message 2 (responder → initiator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponderHello {
    /// The chosen suite (one of the offered).
    pub suite: Suite,
    /// Fresh random nonce.
    pub nonce: [u8; HANDSHAKE_NONCE_LEN],
    /// Whether the responder mixed the supplied key the initiator named.
    pub supplied_used: bool,
    /// Hybrid KEM ciphertext to the initiator's key for `suite`.
    pub kem_ciphertext: Vec<u8>,
    /// The responder's member certificate.
    pub certificate: Vec<u8>,
    /// Composite signature over the transcript hash up to and including `certificate`.
    pub signature: Vec<u8>,
    /// Key confirmation.
    pub finished: [u8; FINISHED_LEN],
}

/// Handshake message 3 (initiator → responder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiatorFinish {
    /// The initiator's member certificate.
    pub certificate: Vec<u8>,
    /// Composite signature over the transcript hash up to and including `certificate`.
    pub signature: Vec<u8>,
    /// Key confirmation.
    pub finished: [u8; FINISHED_LEN],
}

impl InitiatorHello {
    /// The frame body.
    pub fn encode(&self) -> Result<Vec<u8>, DecodeError> {
        let mut w = Writer::new();
        w.u16(self.version);
        w.raw(&self.nonce);
        check_peer_suite_list(self.offers.iter().map(|o| o.suite))?;
        w.u8(self.offers.len() as u8); // ok: at most Suite::ALL.len()
        for offer in &self.offers {
            w.u8(offer.suite.id());
            w.bytes_u16("KEM public key", &offer.public_key, MAX_KEM_BLOB_LEN)?;
        }
        SuppliedKeyRef::encode_option(self.supplied.as_ref(), &mut w)?;
        Ok(w.into_vec())
    }

    /// Parses a frame body. Offered KEM keys must have their suite's exact length.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let version = r.u16("version")?;
        let nonce = r.array("initiator nonce")?;
        let count = usize::from(r.u8("offer count")?);
        if count > Suite::ALL.len() {
            return Err(DecodeError::TooLong {
                what: "suite offer",
                len: count,
                max: Suite::ALL.len(),
            });
        }
        let mut offers = Vec::with_capacity(count);
        for _ in 0..count {
            let suite = read_suite(&mut r)?;
            let public_key = r.bytes_u16("KEM public key", MAX_KEM_BLOB_LEN)?;
            exact_len(
                "KEM public key",
                public_key.len(),
                suite.kem_public_key_len(),
            )?;
            offers.push(KemOffer {
                suite,
                public_key: public_key.to_vec(),
            });
        }
        check_peer_suite_list(offers.iter().map(|o| o.suite))?;
        let supplied = SuppliedKeyRef::decode_option(&mut r)?;
        r.expect_end("InitiatorHello")?;
        Ok(Self {
            version,
            nonce,
            offers,
            supplied,
        })
    }
}

impl ResponderHello {
    /// The signed part: every field before `signature`.
    pub fn encode_core(&self) -> Result<Vec<u8>, DecodeError> {
        let mut w = Writer::new();
        w.u8(self.suite.id());
        w.raw(&self.nonce);
        w.u8(u8::from(self.supplied_used));
        w.bytes_u16("KEM ciphertext", &self.kem_ciphertext, MAX_KEM_BLOB_LEN)?;
        w.bytes_u16("certificate", &self.certificate, MAX_CERTIFICATE_LEN)?;
        Ok(w.into_vec())
    }

    /// The frame body: core, signature, finished.
    pub fn encode(&self) -> Result<Vec<u8>, DecodeError> {
        let mut out = self.encode_core()?;
        append_tail(&mut out, &self.signature, &self.finished)?;
        Ok(out)
    }

    /// Parses a frame body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let suite = read_suite(&mut r)?;
        let nonce = r.array("responder nonce")?;
        let supplied_used = read_bool(&mut r, "supplied key used")?;
        let ct = r.bytes_u16("KEM ciphertext", MAX_KEM_BLOB_LEN)?;
        exact_len("KEM ciphertext", ct.len(), suite.kem_ciphertext_len())?;
        let certificate = r.bytes_u16("certificate", MAX_CERTIFICATE_LEN)?.to_vec();
        let signature = r.bytes_u16("signature", MAX_SIGNATURE_LEN)?.to_vec();
        let finished = r.array("finished")?;
        r.expect_end("ResponderHello")?;
        Ok(Self {
            suite,
            nonce,
            supplied_used,
            kem_ciphertext: ct.to_vec(),
            certificate,
            signature,
            finished,
        })
    }
}

impl InitiatorFinish {
    /// The signed part: the certificate.
    pub fn encode_core(&self) -> Result<Vec<u8>, DecodeError> {
        let mut w = Writer::new();
        w.bytes_u16("certificate", &self.certificate, MAX_CERTIFICATE_LEN)?;
        Ok(w.into_vec())
    }

    /// The frame body: core, signature, finished.
    pub fn encode(&self) -> Result<Vec<u8>, DecodeError> {
        let mut out = self.encode_core()?;
        append_tail(&mut out, &self.signature, &self.finished)?;
        Ok(out)
    }

    /// Parses a frame body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let certificate = r.bytes_u16("certificate", MAX_CERTIFICATE_LEN)?.to_vec();
        let signature = r.bytes_u16("signature", MAX_SIGNATURE_LEN)?.to_vec();
        let finished = r.array("finished")?;
        r.expect_end("InitiatorFinish")?;
        Ok(Self {
            certificate,
            signature,
            finished,
        })
    }
}

/// Wraps a handshake body in its frame, checking the handshake size limit.
pub(crate) fn handshake_frame(frame_type: FrameType, body: Vec<u8>) -> Result<Frame, DecodeError> {
    // Frame::new enforces MAX_HANDSHAKE_BODY; our own messages stay far below it.
    Frame::new(frame_type, body)
}

fn append_tail(out: &mut Vec<u8>, signature: &[u8], finished: &[u8]) -> Result<(), DecodeError> {
    let mut w = Writer::new();
    w.bytes_u16("signature", signature, MAX_SIGNATURE_LEN)?;
    w.raw(finished);
    out.extend_from_slice(w.as_slice());
    Ok(())
}

fn read_suite(r: &mut Reader<'_>) -> Result<Suite, DecodeError> {
    let id = r.u8("suite")?;
    Suite::from_id(id).map_err(|_| DecodeError::UnknownValue {
        what: "suite",
        value: u64::from(id),
    })
}

fn exact_len(what: &'static str, got: usize, expected: usize) -> Result<(), DecodeError> {
    if got == expected {
        Ok(())
    } else {
        Err(DecodeError::NonCanonical {
            what,
            reason: "length differs from the suite's fixed length",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> InitiatorHello {
        InitiatorHello {
            version: 1,
            nonce: [5; 32],
            offers: vec![
                KemOffer {
                    suite: Suite::Lq2,
                    public_key: vec![1; Suite::Lq2.kem_public_key_len()],
                },
                KemOffer {
                    suite: Suite::Lq1,
                    public_key: vec![2; Suite::Lq1.kem_public_key_len()],
                },
            ],
            supplied: Some(SuppliedKeyRef {
                master_sae_id: "SAE_A".into(),
                slave_sae_id: "SAE_B".into(),
                key_ids: vec!["bc490419-7d60-487f-adc1-4ddcc177c139".into()],
            }),
        }
    }

    #[test]
    fn initiator_hello_round_trips_and_every_truncation_fails() {
        let body = hello().encode().unwrap();
        assert_eq!(InitiatorHello::decode(&body).unwrap(), hello());
        for cut in 0..body.len() {
            assert!(InitiatorHello::decode(&body[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn unsorted_or_duplicate_offers_are_refused() {
        let mut h = hello();
        h.offers.reverse();
        assert!(h.encode().is_err());
        let mut h = hello();
        h.offers[1] = h.offers[0].clone();
        assert!(h.encode().is_err());
    }

    #[test]
    fn responder_hello_round_trips() {
        let m = ResponderHello {
            suite: Suite::Lq1,
            nonce: [3; 32],
            supplied_used: true,
            kem_ciphertext: vec![4; Suite::Lq1.kem_ciphertext_len()],
            certificate: vec![5; 100],
            signature: vec![6; Suite::Lq1.signature_len()],
            finished: [7; 32],
        };
        let body = m.encode().unwrap();
        assert_eq!(ResponderHello::decode(&body).unwrap(), m);
        assert!(ResponderHello::decode(&body[..body.len() - 1]).is_err());
        let mut bad = body.clone();
        bad[33] = 2; // supplied_used must be 0 or 1
        assert!(ResponderHello::decode(&bad).is_err());
    }
}
