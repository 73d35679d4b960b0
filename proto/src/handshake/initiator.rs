//! The initiator's handshake states (`spec/protocol-link.md` §4.5): the side that opened the
//! QUIC connection, ETSI GS QKD 014 *master* for the supplied key.
//!
//! `InitiatorStart::start` → [`ExpectResponderHello`] → `handle` → [`LinkSession`] plus the
//! `InitiatorFinish` bytes to send.

use std::time::Duration;

use liaison_crypto::kem::{KemCiphertext, KemSecretKey};
use liaison_crypto::sign::Signature;
use liaison_crypto::{SecretBytes, Suite, labels};
use rand_core::CryptoRng;

use super::key_schedule::{self, HandshakeTranscript};
use super::messages::{InitiatorFinish, InitiatorHello, KemOffer, ResponderHello, handshake_frame};
use super::{
    ChannelBinding, LINK_VERSION, LinkConfig, LinkRole, Now, SuppliedKeyRef, SuppliedKeys,
    SupplyPolicy, check_deadline, check_peer, expect_frame,
};
use crate::error::ProtoError;
use crate::frame::{Frame, FrameType};
use crate::record::{LinkSession, SessionParams};

/// The initiator before anything was sent.
#[derive(Debug)]
pub struct InitiatorStart {
    config: LinkConfig,
    binding: ChannelBinding,
    supplied: Option<SuppliedKeys>,
}

/// Waiting for `ResponderHello`.
#[derive(Debug)]
pub struct ExpectResponderHello {
    config: LinkConfig,
    transcript: HandshakeTranscript,
    offers: Vec<(Suite, KemSecretKey)>,
    supplied: Option<(SuppliedKeyRef, SecretBytes)>,
    deadline: Duration,
}

impl InitiatorStart {
    /// Prepares a handshake on the QUIC connection whose TLS exporter gave `binding`.
    ///
    /// `supplied`: keys the caller drew from the key supply (`enc_keys` with us as master,
    /// the peer as slave) — required when `config.supply` is `Required`, ignored when `Off`.
    pub fn new(
        config: LinkConfig,
        binding: ChannelBinding,
        supplied: Option<SuppliedKeys>,
    ) -> Result<Self, ProtoError> {
        let supplied = match config.supply {
            SupplyPolicy::Off => None,
            SupplyPolicy::Required if supplied.is_none() => {
                return Err(ProtoError::LinkSuppliedKeyRequired);
            }
            _ => supplied,
        };
        if config.suites.is_empty() {
            return Err(ProtoError::NoCommonSuite);
        }
        Ok(Self {
            config,
            binding,
            supplied,
        })
    }

    /// Generates fresh KEM keys for every accepted suite and returns the `InitiatorHello`
    /// frame bytes to write to the stream. The handshake must finish by
    /// `now + config.handshake_timeout` (see [`ExpectResponderHello::poll_timeout`]).
    #[must_use = "the returned bytes must be sent"]
    pub fn start(
        self,
        now: Now,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(ExpectResponderHello, Vec<u8>), ProtoError> {
        let mut suites = self.config.suites.clone();
        suites.sort_unstable_by(|a, b| b.cmp(a));
        suites.dedup();
        let mut nonce = [0u8; super::HANDSHAKE_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut offers = Vec::with_capacity(suites.len());
        let mut wire_offers = Vec::with_capacity(suites.len());
        for suite in suites {
            let sk = KemSecretKey::generate(suite, rng);
            wire_offers.push(KemOffer {
                suite,
                public_key: sk.public_key().as_bytes().to_vec(),
            });
            offers.push((suite, sk));
        }
        let supplied = self.supplied.map(|s| {
            let reference = s.reference().clone();
            (reference, s.into_material())
        });
        let hello = InitiatorHello {
            version: LINK_VERSION,
            nonce,
            offers: wire_offers,
            supplied: supplied.as_ref().map(|(r, _)| r.clone()),
        };
        let body = hello.encode()?;
        let mut transcript = HandshakeTranscript::new(&self.binding.0);
        transcript.absorb(&body);
        let frame = handshake_frame(FrameType::InitiatorHello, body)?;
        let deadline = now.monotonic.saturating_add(self.config.handshake_timeout);
        Ok((
            ExpectResponderHello {
                config: self.config,
                transcript,
                offers,
                supplied,
                deadline,
            },
            frame.encode(),
        ))
    }
}

impl ExpectResponderHello {
    /// When the handshake times out; call [`Self::handle`] or drop the connection by then.
    #[must_use]
    pub fn poll_timeout(&self) -> Duration {
        self.deadline
    }

    /// Processes `ResponderHello`: checks the suite against our offer, the responder's
    /// certificate, role, signature and finished value; returns the established session and
    /// the `InitiatorFinish` frame bytes to send. Records may be sealed right away.
    #[must_use = "the returned bytes must be sent"]
    pub fn handle(
        self,
        frame: &Frame,
        now: Now,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(LinkSession, Vec<u8>), ProtoError> {
        check_deadline(now, self.deadline)?;
        expect_frame(frame, FrameType::ResponderHello, "ResponderHello")?;
        let Self {
            config,
            mut transcript,
            offers,
            supplied,
            ..
        } = self;
        let hello = ResponderHello::decode(&frame.body)?;
        let Some((suite, kem_sk)) = offers.into_iter().find(|(s, _)| *s == hello.suite) else {
            return Err(ProtoError::SuiteNotOffered(hello.suite));
        };
        let supplied = match (supplied, hello.supplied_used) {
            (Some((_, material)), true) => Some(material),
            (None, true) => {
                return Err(ProtoError::SuppliedKeyInvalid {
                    reason: "responder mixed a supplied key that was never offered",
                });
            }
            (_, false) if config.supply == SupplyPolicy::Required => {
                return Err(ProtoError::LinkSuppliedKeyRequired);
            }
            (_, false) => None,
        };
        let peer = check_peer(&config, &hello.certificate, now)?;

        transcript.absorb(&hello.encode_core()?);
        let th_sig = transcript.hash();
        let signature = Signature::from_bytes(peer.suite(), &hello.signature)?;
        peer.public_key()
            .verify(labels::LINK_RESPONDER_SIGNATURE, &th_sig, &signature)?;
        transcript.absorb(&hello.signature);

        let ct = KemCiphertext::from_bytes(suite, &hello.kem_ciphertext)?;
        let kem_ss = kem_sk.decapsulate(&ct)?;
        drop(kem_sk);
        let supplied_key_mixed = supplied.is_some();
        let prk = key_schedule::handshake_secret(&kem_ss, supplied);
        let th_rf = transcript.hash();
        let expected = key_schedule::finished(&prk, LinkRole::Responder, &th_rf);
        key_schedule::verify_finished(&expected, &hello.finished)?;
        transcript.absorb(&hello.finished);

        let identity = &config.identity;
        let mut finish = InitiatorFinish {
            certificate: identity.certificate.raw().to_vec(),
            signature: Vec::new(),
            finished: [0; 32],
        };
        transcript.absorb(&finish.encode_core()?);
        let th_sig = transcript.hash();
        finish.signature = identity
            .signing_key
            .sign(labels::LINK_INITIATOR_SIGNATURE, &th_sig, rng)?
            .as_bytes()
            .to_vec();
        transcript.absorb(&finish.signature);
        let th_if = transcript.hash();
        finish.finished =
            *key_schedule::finished(&prk, LinkRole::Initiator, &th_if).expose_secret();
        transcript.absorb(&finish.finished);
        let th = transcript.hash();
        let bytes = handshake_frame(FrameType::InitiatorFinish, finish.encode()?)?.encode();
        let session = LinkSession::new(SessionParams {
            role: LinkRole::Initiator,
            suite,
            peer,
            supplied_key_mixed,
            prk: &prk,
            transcript_hash: th,
            rekey: config.rekey,
            supply: config.supply,
            now,
        });
        Ok((session, bytes))
    }
}
