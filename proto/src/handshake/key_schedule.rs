//! The link key schedule (`spec/protocol-link.md` §4.4 and §5.2): transcript, finished values,
//! traffic keys, and the rekey ratchet. Every label is in `liaison_crypto::labels`.
//!
//! ```text
//! prk        = kdf::combine([kem_ss], supplied)                         (48 bytes)
//! finished_X = HKDF-Expand(prk, info(LINK_FINISHED_X, [th_X]), 32)
//! master     = HKDF-Expand(prk, info(LINK_MASTER_SECRET, [th]), 48)
//! key_D      = HKDF-Expand(master, info(LINK_KEY_D, [th]), 32)          D ∈ {i2r, r2i}
//! iv_D       = HKDF-Expand(master, info(LINK_IV_D, [th]), 12)
//! rekey n:   master_n = HKDF(salt = master_{n-1}, ikm = combine([ss_n], supplied_n),
//!                            info(LINK_REKEY_SECRET, [th_n]), 48)
//! ```

use liaison_crypto::aead::{NONCE_LEN, NonceSequence};
use liaison_crypto::kdf::{self, CombinedSecret, HASH_LEN, Transcript};
use liaison_crypto::kem::KemSharedSecret;
use liaison_crypto::{SecretBytes, SymmetricKey, labels};
use zeroize::Zeroizing;

use super::LinkRole;
use crate::error::ProtoError;

/// A SHA-384 transcript hash.
pub(crate) type TranscriptHash = [u8; HASH_LEN];

/// The handshake transcript (`spec/protocol-link.md` §4.3).
#[derive(Debug, Clone)]
pub(crate) struct HandshakeTranscript(Transcript);

impl HandshakeTranscript {
    /// Starts with the label and the TLS exporter value.
    pub(crate) fn new(binding: &[u8]) -> Self {
        let mut t = Transcript::new(labels::LINK_TRANSCRIPT);
        t.absorb(binding);
        Self(t)
    }

    pub(crate) fn absorb(&mut self, field: &[u8]) {
        self.0.absorb(field);
    }

    pub(crate) fn hash(&self) -> TranscriptHash {
        self.0.current()
    }
}

/// Mixes the KEM secret with the optional supplied key (which is consumed and zeroized).
pub(crate) fn handshake_secret(
    kem: &KemSharedSecret,
    supplied: Option<SecretBytes>,
) -> CombinedSecret {
    kdf::combine(&[kem], supplied.as_ref().map(SecretBytes::expose_secret))
}

/// A finished value: proves knowledge of `prk` bound to `th`.
pub(crate) fn finished(prk: &CombinedSecret, role: LinkRole, th: &TranscriptHash) -> SymmetricKey {
    let label = match role {
        LinkRole::Initiator => labels::LINK_INITIATOR_FINISHED,
        LinkRole::Responder => labels::LINK_RESPONDER_FINISHED,
    };
    prk.derive_key(label, &[th])
}

/// Checks a received finished value in constant time.
pub(crate) fn verify_finished(expected: &SymmetricKey, got: &[u8; 32]) -> Result<(), ProtoError> {
    if *expected == SymmetricKey::from_bytes(*got) {
        Ok(())
    } else {
        Err(ProtoError::KeyConfirmationFailed)
    }
}

/// The session's root secret after the handshake.
pub(crate) fn master_secret(prk: &CombinedSecret, th: &TranscriptHash) -> CombinedSecret {
    expand48(prk, labels::LINK_MASTER_SECRET, th)
}

/// The ratchet step of a rekey: mixes the previous master with the fresh combined secret.
pub(crate) fn rekey_secret(
    previous: &CombinedSecret,
    fresh: &CombinedSecret,
    th: &TranscriptHash,
) -> Result<CombinedSecret, ProtoError> {
    let out = kdf::derive(
        labels::LINK_REKEY_SECRET,
        previous.expose_secret(),
        fresh.expose_secret(),
        &[th],
        HASH_LEN,
    )?;
    Ok(CombinedSecret::try_from_slice(out.expose_secret())?)
}

/// The rekey confirmation of the requester or the responder of a rekey.
pub(crate) fn rekey_confirm(
    master: &CombinedSecret,
    requester: bool,
    th: &TranscriptHash,
) -> SymmetricKey {
    let label = if requester {
        labels::LINK_REKEY_CONFIRM_REQUESTER
    } else {
        labels::LINK_REKEY_CONFIRM_RESPONDER
    };
    master.derive_key(label, &[th])
}

/// The transcript of rekey `n`: chained to the previous epoch's hash.
pub(crate) fn rekey_transcript(
    previous: &TranscriptHash,
    request_body: &[u8],
    response_core: &[u8],
) -> TranscriptHash {
    let mut t = Transcript::new(labels::LINK_REKEY_TRANSCRIPT);
    t.absorb(previous);
    t.absorb(request_body);
    t.absorb(response_core);
    t.current()
}

/// One direction's AEAD key and nonce sequence.
#[derive(Debug)]
pub(crate) struct DirectionKeys {
    pub(crate) key: SymmetricKey,
    pub(crate) nonces: NonceSequence,
}

/// Both directions' keys, as (send, receive) for `role`.
pub(crate) fn traffic_keys(
    master: &CombinedSecret,
    th: &TranscriptHash,
    role: LinkRole,
) -> (DirectionKeys, DirectionKeys) {
    let i2r = direction(master, th, labels::LINK_KEY_I2R, labels::LINK_IV_I2R);
    let r2i = direction(master, th, labels::LINK_KEY_R2I, labels::LINK_IV_R2I);
    match role {
        LinkRole::Initiator => (i2r, r2i),
        LinkRole::Responder => (r2i, i2r),
    }
}

fn direction(
    master: &CombinedSecret,
    th: &TranscriptHash,
    key_label: &[u8],
    iv_label: &[u8],
) -> DirectionKeys {
    let iv: [u8; NONCE_LEN] = master.expand_array(iv_label, &[th]);
    DirectionKeys {
        key: master.derive_key(key_label, &[th]),
        nonces: NonceSequence::new(iv),
    }
}

fn expand48(prk: &CombinedSecret, label: &[u8], th: &TranscriptHash) -> CombinedSecret {
    // `[u8; 48]` is `Copy`: keep the stack buffer in `Zeroizing` so no copy outlives this call.
    let out = Zeroizing::new(prk.expand_array::<HASH_LEN>(label, &[th]));
    CombinedSecret::from_bytes(*out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_and_roles_mirror_each_other() {
        let prk = handshake_secret(&KemSharedSecret::from_bytes([1; 32]), None);
        let th = [9; HASH_LEN];
        let master = master_secret(&prk, &th);
        let (i_send, i_recv) = traffic_keys(&master, &th, LinkRole::Initiator);
        let (r_send, r_recv) = traffic_keys(&master, &th, LinkRole::Responder);
        assert_eq!(i_send.key, r_recv.key);
        assert_eq!(i_recv.key, r_send.key);
        assert_ne!(i_send.key, i_recv.key);
        assert_eq!(i_send.nonces.nonce_for(0), r_recv.nonces.nonce_for(0));
    }

    #[test]
    fn supplied_key_changes_every_derived_value() {
        let ss = KemSharedSecret::from_bytes([1; 32]);
        let th = [0; HASH_LEN];
        let a = handshake_secret(&ss, None);
        let b = handshake_secret(&ss, Some(SecretBytes::new(vec![7; 32])));
        assert_ne!(
            finished(&a, LinkRole::Initiator, &th),
            finished(&b, LinkRole::Initiator, &th)
        );
        assert_ne!(
            finished(&a, LinkRole::Initiator, &th),
            finished(&a, LinkRole::Responder, &th)
        );
    }

    #[test]
    fn ratchet_depends_on_previous_and_fresh_secret() {
        let th = [0; HASH_LEN];
        let prev = CombinedSecret::from_bytes([1; HASH_LEN]);
        let fresh = CombinedSecret::from_bytes([2; HASH_LEN]);
        let other = CombinedSecret::from_bytes([3; HASH_LEN]);
        let a = rekey_secret(&prev, &fresh, &th).unwrap();
        assert_ne!(a, rekey_secret(&other, &fresh, &th).unwrap());
        assert_ne!(a, rekey_secret(&prev, &other, &th).unwrap());
    }
}
