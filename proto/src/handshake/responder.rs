//! The responder's handshake states (`spec/protocol-link.md` §4.5): the side that accepted the
//! QUIC connection, ETSI GS QKD 014 *slave* for the supplied key.
//!
//! `ResponderStart::handle` → [`AwaitSuppliedKey`] (the caller fetches the named keys from its
//! key supply, or answers "none") → `resume` → [`ExpectInitiatorFinish`] → `handle` →
//! [`LinkSession`].

use std::time::Duration;

use liaison_crypto::kdf::CombinedSecret;
use liaison_crypto::kem::KemPublicKey;
use liaison_crypto::sign::Signature;
use liaison_crypto::{Suite, labels};
use rand_core::CryptoRng;

use super::key_schedule::{self, HandshakeTranscript};
use super::messages::{InitiatorFinish, InitiatorHello, ResponderHello, handshake_frame};
use super::{
    ChannelBinding, LINK_VERSION, LinkConfig, LinkRole, Now, SuppliedKeyAnswer, SuppliedKeyRef,
    SupplyPolicy, check_deadline, check_peer, concat_keys, expect_frame,
};
use crate::certificate::MemberCertificate;
use crate::error::ProtoError;
use crate::frame::{Frame, FrameType};
use crate::record::{LinkSession, SessionParams};

/// The responder before `InitiatorHello` arrived.
#[derive(Debug)]
pub struct ResponderStart {
    config: LinkConfig,
    binding: ChannelBinding,
}

/// `InitiatorHello` was accepted; the caller must now answer [`Self::request`] (fetch the keys
/// with those ids from the key supply, e.g. ETSI 014 `dec_keys`) and call [`Self::resume`].
#[derive(Debug)]
pub struct AwaitSuppliedKey {
    config: LinkConfig,
    transcript: HandshakeTranscript,
    suite: Suite,
    kem_public_key: KemPublicKey,
    request: Option<SuppliedKeyRef>,
    deadline: Duration,
}

/// Waiting for `InitiatorFinish`.
#[derive(Debug)]
pub struct ExpectInitiatorFinish {
    config: LinkConfig,
    transcript: HandshakeTranscript,
    suite: Suite,
    prk: CombinedSecret,
    supplied_key_mixed: bool,
    deadline: Duration,
}

impl ResponderStart {
    /// Prepares to answer a handshake on the QUIC connection whose TLS exporter gave
    /// `binding`.
    pub fn new(config: LinkConfig, binding: ChannelBinding) -> Self {
        Self { config, binding }
    }

    /// Processes `InitiatorHello`: version, suite choice (the strongest suite both accept),
    /// supplied-key policy. The handshake must finish by `now + config.handshake_timeout`.
    #[must_use = "the next state asks for the supplied key"]
    pub fn handle(self, frame: &Frame, now: Now) -> Result<AwaitSuppliedKey, ProtoError> {
        expect_frame(frame, FrameType::InitiatorHello, "InitiatorHello")?;
        let hello = InitiatorHello::decode(&frame.body)?;
        if hello.version != LINK_VERSION {
            return Err(ProtoError::UnsupportedVersion(hello.version));
        }
        // Offers are strongest first, so the first one we accept is the strongest common one.
        let Some(offer) = hello
            .offers
            .iter()
            .find(|o| self.config.suites.contains(&o.suite))
        else {
            return Err(ProtoError::NoCommonSuite);
        };
        let kem_public_key = KemPublicKey::from_bytes(offer.suite, &offer.public_key)?;
        let request = match (self.config.supply, hello.supplied) {
            (SupplyPolicy::Required, None) => return Err(ProtoError::LinkSuppliedKeyRequired),
            (SupplyPolicy::Off, _) => None,
            (_, request) => request,
        };
        if let (Some(request), Some(local)) = (&request, &self.config.local_sae_id)
            && &request.slave_sae_id != local
        {
            return Err(ProtoError::SuppliedKeyInvalid {
                reason: "slave SAE id is not ours",
            });
        }
        let mut transcript = HandshakeTranscript::new(&self.binding.0);
        transcript.absorb(&frame.body);
        let deadline = now.monotonic.saturating_add(self.config.handshake_timeout);
        Ok(AwaitSuppliedKey {
            suite: offer.suite,
            config: self.config,
            transcript,
            kem_public_key,
            request,
            deadline,
        })
    }
}

impl AwaitSuppliedKey {
    /// The supplied keys the initiator named (SAE ids and key ids), or `None` when no key is
    /// to be mixed (none offered, or our policy is `off`): then answer
    /// [`SuppliedKeyAnswer::None`]. Check `master_sae_id` against the peer you expect.
    pub fn request(&self) -> Option<&SuppliedKeyRef> {
        self.request.as_ref()
    }

    /// The suite the responder chose.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// When the handshake times out.
    #[must_use]
    pub fn poll_timeout(&self) -> Duration {
        self.deadline
    }

    /// Resumes with the caller's answer: encapsulates to the initiator's key, mixes the
    /// supplied key, signs, and returns the `ResponderHello` frame bytes to send.
    ///
    /// Answering [`SuppliedKeyAnswer::None`] to a request is allowed only when our policy is
    /// `preferred`; the initiator then learns no key was mixed. Keys that do not match the
    /// initiator's (swapped or replayed ids at the KME) make key confirmation fail.
    #[must_use = "the returned bytes must be sent"]
    pub fn resume(
        self,
        answer: SuppliedKeyAnswer,
        now: Now,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(ExpectInitiatorFinish, Vec<u8>), ProtoError> {
        check_deadline(now, self.deadline)?;
        let Self {
            config,
            mut transcript,
            suite,
            kem_public_key,
            request,
            deadline,
        } = self;
        let supplied = match (request, answer) {
            (Some(request), SuppliedKeyAnswer::Keys(keys)) => {
                Some(concat_keys(request.key_ids.len(), keys)?)
            }
            (None, SuppliedKeyAnswer::Keys(_)) => {
                return Err(ProtoError::SuppliedKeyInvalid {
                    reason: "keys provided but none were requested",
                });
            }
            (_, SuppliedKeyAnswer::None) if config.supply == SupplyPolicy::Required => {
                return Err(ProtoError::LinkSuppliedKeyRequired);
            }
            (_, SuppliedKeyAnswer::None) => None,
        };
        let supplied_key_mixed = supplied.is_some();
        let (ct, kem_ss) = kem_public_key.encapsulate(rng)?;
        let prk = key_schedule::handshake_secret(&kem_ss, supplied);
        drop(kem_ss);

        let mut nonce = [0u8; super::HANDSHAKE_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let identity = &config.identity;
        let mut hello = ResponderHello {
            suite,
            nonce,
            supplied_used: supplied_key_mixed,
            kem_ciphertext: ct.as_bytes().to_vec(),
            certificate: identity.certificate.raw().to_vec(),
            signature: Vec::new(),
            finished: [0; 32],
        };
        transcript.absorb(&hello.encode_core()?);
        let th_sig = transcript.hash();
        hello.signature = identity
            .signing_key
            .sign(labels::LINK_RESPONDER_SIGNATURE, &th_sig, rng)?
            .as_bytes()
            .to_vec();
        transcript.absorb(&hello.signature);
        let th_rf = transcript.hash();
        hello.finished = *key_schedule::finished(&prk, LinkRole::Responder, &th_rf).expose_secret();
        transcript.absorb(&hello.finished);
        let bytes = handshake_frame(FrameType::ResponderHello, hello.encode()?)?.encode();
        Ok((
            ExpectInitiatorFinish {
                config,
                transcript,
                suite,
                prk,
                supplied_key_mixed,
                deadline,
            },
            bytes,
        ))
    }
}

impl ExpectInitiatorFinish {
    /// When the handshake times out.
    #[must_use]
    pub fn poll_timeout(&self) -> Duration {
        self.deadline
    }

    /// Processes `InitiatorFinish`: the initiator's certificate, role, signature and finished
    /// value. Returns the established session.
    #[must_use = "the session carries all further traffic"]
    pub fn handle(self, frame: &Frame, now: Now) -> Result<LinkSession, ProtoError> {
        check_deadline(now, self.deadline)?;
        expect_frame(frame, FrameType::InitiatorFinish, "InitiatorFinish")?;
        let Self {
            config,
            mut transcript,
            suite,
            prk,
            supplied_key_mixed,
            ..
        } = self;
        let finish = InitiatorFinish::decode(&frame.body)?;
        let peer: MemberCertificate = check_peer(&config, &finish.certificate, now)?;
        transcript.absorb(&finish.encode_core()?);
        let th_sig = transcript.hash();
        let signature = Signature::from_bytes(peer.suite(), &finish.signature)?;
        peer.public_key()
            .verify(labels::LINK_INITIATOR_SIGNATURE, &th_sig, &signature)?;
        transcript.absorb(&finish.signature);
        let th_if = transcript.hash();
        let expected = key_schedule::finished(&prk, LinkRole::Initiator, &th_if);
        key_schedule::verify_finished(&expected, &finish.finished)?;
        transcript.absorb(&finish.finished);
        Ok(LinkSession::new(SessionParams {
            role: LinkRole::Responder,
            suite,
            peer,
            supplied_key_mixed,
            prk: &prk,
            transcript_hash: transcript.hash(),
            rekey: config.rekey,
            supply: config.supply,
            now,
        }))
    }
}
