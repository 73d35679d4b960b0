//! Revocation lists (`spec/protocol.md` §8 "Revocation lists"): a federation authority's
//! signed, numbered list of revoked certificate serials and revoked subject ids.
//!
//! Both lists are strictly ascending (sorted, no duplicates) so an encoding is canonical and
//! lookups are binary searches. A [`crate::trust::TrustStore`] installs one list per issuer
//! and refuses to go back to a lower number (rollback).

use liaison_crypto::sign::{Signature, SigningKey, VerifyingKey};
use liaison_crypto::{IDENTITY_ID_LEN, IdentityId, Suite, labels};
use rand_core::CryptoRng;

use crate::certificate::{
    DocumentType, non_canonical, read_id, read_preamble, read_signature, verify_document,
    write_preamble, write_signature,
};
use crate::codec::{Reader, Writer};
use crate::{DecodeError, ProtoError, UnixTime};

/// Most serials, and most subject ids, one list may carry (each).
pub const MAX_REVOKED_ENTRIES: usize = 100_000;

/// What an authority puts in a revocation list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevocationContents {
    /// Monotonic list number; a newer list has a higher number.
    pub number: u64,
    /// When the list was issued.
    pub this_update: UnixTime,
    /// When the next list is due; the list is stale after this.
    pub next_update: UnixTime,
    /// Revoked certificate serials (any order; sorted and deduplicated when issued).
    pub revoked_serials: Vec<u64>,
    /// Revoked subject ids: every certificate for these keys is revoked.
    pub revoked_subjects: Vec<IdentityId>,
}

/// A parsed revocation list, with its exact bytes kept.
#[derive(Debug, Clone)]
pub struct RevocationList {
    raw: Vec<u8>,
    tbs_len: usize,
    suite: Suite,
    issuer: IdentityId,
    contents: RevocationContents,
    signature: Signature,
}

impl PartialEq for RevocationList {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for RevocationList {}

impl RevocationList {
    /// Issues and signs a list. Entries are sorted and deduplicated.
    pub fn issue(
        authority: &SigningKey,
        mut contents: RevocationContents,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, ProtoError> {
        contents.revoked_serials.sort_unstable();
        contents.revoked_serials.dedup();
        contents.revoked_subjects.sort_unstable();
        contents.revoked_subjects.dedup();
        for (what, n) in [
            ("revoked serials", contents.revoked_serials.len()),
            ("revoked subjects", contents.revoked_subjects.len()),
        ] {
            if n > MAX_REVOKED_ENTRIES {
                return Err(DecodeError::TooLong {
                    what,
                    len: n,
                    max: MAX_REVOKED_ENTRIES,
                }
                .into());
            }
        }
        let mut w = Writer::new();
        write_preamble(&mut w, DocumentType::RevocationList, authority.suite());
        w.raw(IdentityId::of(authority.verifying_key()).as_bytes());
        w.u64(contents.number);
        w.u64(contents.this_update.0);
        w.u64(contents.next_update.0);
        // ok: both counts were checked against MAX_REVOKED_ENTRIES (< 2^32) above
        w.u32(contents.revoked_serials.len() as u32);
        for s in &contents.revoked_serials {
            w.u64(*s);
        }
        w.u32(contents.revoked_subjects.len() as u32);
        for id in &contents.revoked_subjects {
            w.raw(id.as_bytes());
        }
        let sig = authority.sign(labels::REVOCATION_LIST_SIG, w.as_slice(), rng)?;
        write_signature(&mut w, &sig)?;
        Self::decode(w.as_slice())
    }

    /// Parses a list (does not verify it: see [`Self::verify_signature`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        let mut r = Reader::new(bytes);
        let suite = read_preamble(&mut r, DocumentType::RevocationList)?;
        let issuer = read_id(&mut r, "issuer")?;
        let number = r.u64("number")?;
        let this_update = UnixTime(r.u64("this update")?);
        let next_update = UnixTime(r.u64("next update")?);
        if this_update > next_update {
            return Err(non_canonical(
                "revocation list",
                "this_update after next_update",
            ));
        }
        let n = read_count(&mut r, "revoked serials", 8)?;
        let mut revoked_serials = Vec::with_capacity(n);
        for _ in 0..n {
            revoked_serials.push(r.u64("revoked serial")?);
        }
        check_ascending("revoked serials", &revoked_serials)?;
        let n = read_count(&mut r, "revoked subjects", IDENTITY_ID_LEN)?;
        let mut revoked_subjects = Vec::with_capacity(n);
        for _ in 0..n {
            revoked_subjects.push(read_id(&mut r, "revoked subject")?);
        }
        check_ascending("revoked subjects", &revoked_subjects)?;
        let tbs_len = r.position();
        let signature = read_signature(&mut r)?;
        r.expect_end("revocation list")?;
        Ok(Self {
            raw: bytes.to_vec(),
            tbs_len,
            suite,
            issuer,
            contents: RevocationContents {
                number,
                this_update,
                next_update,
                revoked_serials,
                revoked_subjects,
            },
            signature,
        })
    }

    /// Verifies the issuer's signature with `issuer_key`.
    pub fn verify_signature(&self, issuer_key: &VerifyingKey) -> Result<(), ProtoError> {
        verify_document(
            issuer_key,
            labels::REVOCATION_LIST_SIG,
            &self.raw[..self.tbs_len],
            &self.signature,
            DocumentType::RevocationList,
        )
    }

    /// The exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The suite of the issuer's key.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The authority that signed the list.
    pub fn issuer(&self) -> IdentityId {
        self.issuer
    }

    /// The list number.
    pub fn number(&self) -> u64 {
        self.contents.number
    }

    /// When it was issued.
    pub fn this_update(&self) -> UnixTime {
        self.contents.this_update
    }

    /// When the next list is due.
    pub fn next_update(&self) -> UnixTime {
        self.contents.next_update
    }

    /// Everything the list says.
    pub fn contents(&self) -> &RevocationContents {
        &self.contents
    }

    /// Whether certificate `serial` (of this issuer) is revoked.
    pub fn revokes_serial(&self, serial: u64) -> bool {
        self.contents.revoked_serials.binary_search(&serial).is_ok()
    }

    /// Whether every certificate of `subject` is revoked.
    pub fn revokes_subject(&self, subject: &IdentityId) -> bool {
        self.contents
            .revoked_subjects
            .binary_search(subject)
            .is_ok()
    }
}

/// Reads a `be32` entry count, bounded by the limit and by the bytes actually left, before any
/// allocation.
fn read_count(r: &mut Reader<'_>, what: &'static str, entry: usize) -> Result<usize, ProtoError> {
    let n = usize::try_from(r.u32(what)?).unwrap_or(usize::MAX);
    if n > MAX_REVOKED_ENTRIES {
        return Err(DecodeError::TooLong {
            what,
            len: n,
            max: MAX_REVOKED_ENTRIES,
        }
        .into());
    }
    if n.saturating_mul(entry) > r.remaining() {
        return Err(DecodeError::Truncated {
            what,
            needed: n.saturating_mul(entry),
            available: r.remaining(),
        }
        .into());
    }
    Ok(n)
}

fn check_ascending<T: Ord>(what: &'static str, items: &[T]) -> Result<(), ProtoError> {
    if items.windows(2).all(|w| w[0] < w[1]) {
        Ok(())
    } else {
        Err(non_canonical(what, "must be strictly ascending"))
    }
}

#[cfg(test)]
mod tests {
    use liaison_crypto::Seed32;

    use super::*;

    #[test]
    fn list_round_trips_sorted_and_answers_lookups() {
        let mut rng = liaison_crypto::rng::os_rng();
        let authority = SigningKey::from_seed(Suite::Lq1, Seed32::from_bytes([1; 32]));
        let crl = RevocationList::issue(
            &authority,
            RevocationContents {
                number: 3,
                this_update: UnixTime(10),
                next_update: UnixTime(20),
                revoked_serials: vec![9, 2, 9, 5],
                revoked_subjects: vec![IdentityId::from_bytes([4; 32])],
            },
            &mut rng,
        )
        .unwrap();
        let again = RevocationList::decode(crl.raw()).unwrap();
        assert_eq!(again, crl);
        assert_eq!(again.contents().revoked_serials, vec![2, 5, 9]);
        assert!(again.revokes_serial(5) && !again.revokes_serial(6));
        assert!(again.revokes_subject(&IdentityId::from_bytes([4; 32])));
        again.verify_signature(authority.verifying_key()).unwrap();
    }

    #[test]
    fn huge_declared_count_is_refused_without_allocating() {
        let mut w = Writer::new();
        write_preamble(&mut w, DocumentType::RevocationList, Suite::Lq1);
        w.raw(&[0; 32]);
        w.u64(1);
        w.u64(1);
        w.u64(2);
        w.u32(u32::MAX);
        assert!(matches!(
            RevocationList::decode(w.as_slice()),
            Err(ProtoError::Decode(DecodeError::TooLong { .. }))
        ));
    }
}
