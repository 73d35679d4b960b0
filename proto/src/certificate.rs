//! Member certificates and certificate requests (`spec/protocol.md` §6 "Member certificates"
//! and §7 "Certificate requests"), plus the framing every signed document shares (§4
//! "Signed documents": preamble `version || type || suite`, signature trailer).
//!
//! A federation authority (a trust anchor) signs a [`MemberCertificate`] binding an identity
//! key to a name, organisation, role, clearance and validity. The subject first proves
//! possession of its key with a self-signed [`CertificateRequest`]. Certificates are parsed
//! by [`MemberCertificate::decode`] (which does not verify) and validated against a
//! [`crate::trust::TrustStore`]. The exact received bytes are kept and are what the
//! signature is checked over; nothing is re-encoded before verifying.

use std::sync::Arc;

use liaison_crypto::sign::{Signature, SigningKey, VerifyingKey};
use liaison_crypto::{IDENTITY_ID_LEN, IdentityId, Suite, labels};
use rand_core::CryptoRng;

use crate::codec::{Reader, Writer};
use crate::{Classification, DecodeError, ProtoError, UnixTime};

/// The protocol version every document carries in its first byte.
pub const PROTOCOL_VERSION: u8 = 1;
/// Longest member name, in UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 128;
/// Longest organisation name, in UTF-8 bytes.
pub const MAX_ORGANISATION_LEN: usize = 128;
/// Longest relay address (`host:port`), in UTF-8 bytes.
pub const MAX_ADDRESS_LEN: usize = 255;
/// Longest encoded member certificate (an `LQ2` certificate is about 7.5 KiB).
pub const MAX_CERTIFICATE_LEN: usize = 16 * 1024;
/// Longest composite public key field (`LQ2`: 2624 bytes).
pub const MAX_PUBLIC_KEY_LEN: usize = 4096;
/// Longest composite signature field (`LQ2`: 4691 bytes).
pub const MAX_SIGNATURE_LEN: usize = 8192;

/// The second byte of every signed document: what kind of document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    /// [`CertificateRequest`] (0x01).
    CertificateRequest,
    /// [`MemberCertificate`] (0x02).
    MemberCertificate,
    /// [`crate::revocation::RevocationList`] (0x03).
    RevocationList,
    /// [`crate::prekey::SignedPrekey`] (0x04).
    SignedPrekey,
    /// [`crate::envelope::Envelope`] (0x05).
    Envelope,
    /// [`crate::receipt::Receipt`] (0x06).
    Receipt,
    /// [`crate::notice::NonDelivery`] (0x07).
    NonDelivery,
}

impl DocumentType {
    /// Wire value.
    pub const fn wire(self) -> u8 {
        match self {
            Self::CertificateRequest => 0x01,
            Self::MemberCertificate => 0x02,
            Self::RevocationList => 0x03,
            Self::SignedPrekey => 0x04,
            Self::Envelope => 0x05,
            Self::Receipt => 0x06,
            Self::NonDelivery => 0x07,
        }
    }

    /// Name used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::CertificateRequest => "certificate request",
            Self::MemberCertificate => "member certificate",
            Self::RevocationList => "revocation list",
            Self::SignedPrekey => "signed prekey",
            Self::Envelope => "envelope",
            Self::Receipt => "receipt",
            Self::NonDelivery => "non-delivery notice",
        }
    }
}

/// Writes the document preamble `version (1) || type (1) || suite (1)`.
pub(crate) fn write_preamble(w: &mut Writer, doc: DocumentType, suite: Suite) {
    w.u8(PROTOCOL_VERSION);
    w.u8(doc.wire());
    w.u8(suite.id());
}

/// Reads and checks the document preamble; returns the suite.
pub(crate) fn read_preamble(r: &mut Reader<'_>, doc: DocumentType) -> Result<Suite, ProtoError> {
    let version = r.u8("protocol version")?;
    if version != PROTOCOL_VERSION {
        return Err(DecodeError::UnknownValue {
            what: "protocol version",
            value: u64::from(version),
        }
        .into());
    }
    let ty = r.u8("document type")?;
    if ty != doc.wire() {
        return Err(DecodeError::UnknownValue {
            what: "document type",
            value: u64::from(ty),
        }
        .into());
    }
    read_suite(r)
}

/// Reads a one-byte suite id.
pub(crate) fn read_suite(r: &mut Reader<'_>) -> Result<Suite, ProtoError> {
    let id = r.u8("suite")?;
    Suite::from_id(id).map_err(|_| {
        DecodeError::UnknownValue {
            what: "suite",
            value: u64::from(id),
        }
        .into()
    })
}

/// Appends the signature trailer `suite (1) || be16(len) || signature`.
pub(crate) fn write_signature(w: &mut Writer, sig: &Signature) -> Result<(), ProtoError> {
    w.u8(sig.suite().id());
    w.bytes_u16("signature", sig.as_bytes(), MAX_SIGNATURE_LEN)?;
    Ok(())
}

/// Reads the signature trailer; the length must be the suite's signature length.
pub(crate) fn read_signature(r: &mut Reader<'_>) -> Result<Signature, ProtoError> {
    let suite = read_suite(r)?;
    let bytes = r.bytes_u16("signature", MAX_SIGNATURE_LEN)?;
    Ok(Signature::from_bytes(suite, bytes)?)
}

/// Reads a document's signature trailer and checks that nothing follows it and that its suite
/// is the document's; returns the signed length (where the trailer starts) and the signature.
pub(crate) fn read_trailer(
    r: &mut Reader<'_>,
    suite: Suite,
    what: &'static str,
) -> Result<(usize, Signature), ProtoError> {
    let tbs_len = r.position();
    let signature = read_signature(r)?;
    r.expect_end(what)?;
    if signature.suite() != suite {
        return Err(ProtoError::SuiteMismatch {
            expected: suite,
            got: signature.suite(),
        });
    }
    Ok((tbs_len, signature))
}

/// Reads a composite public key `be16(len) || key` of `suite`.
pub(crate) fn read_public_key(
    r: &mut Reader<'_>,
    suite: Suite,
) -> Result<VerifyingKey, ProtoError> {
    let bytes = r.bytes_u16("public key", MAX_PUBLIC_KEY_LEN)?;
    Ok(VerifyingKey::from_bytes(suite, bytes)?)
}

/// Reads a 32-byte identity id.
pub(crate) fn read_id(r: &mut Reader<'_>, what: &'static str) -> Result<IdentityId, ProtoError> {
    Ok(IdentityId::from_bytes(r.array::<IDENTITY_ID_LEN>(what)?))
}

/// Reads a non-empty `be16` string of at most `max` bytes.
pub(crate) fn read_name(
    r: &mut Reader<'_>,
    what: &'static str,
    max: usize,
) -> Result<String, ProtoError> {
    let s = r.string_u16(what, max)?;
    if s.is_empty() {
        return Err(DecodeError::NonCanonical {
            what,
            reason: "must not be empty",
        }
        .into());
    }
    Ok(s.to_owned())
}

/// Verifies `signature` by `key` over `tbs` for `context`, as a typed error.
pub(crate) fn verify_document(
    key: &VerifyingKey,
    context: &[u8],
    tbs: &[u8],
    signature: &Signature,
    doc: DocumentType,
) -> Result<(), ProtoError> {
    key.verify(context, tbs, signature)
        .map_err(|_| ProtoError::BadSignature { what: doc.name() })
}

/// What a member may do in the federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A relay node (wire 0x01): carries envelopes, has an address.
    Relay,
    /// A liaison officer (wire 0x02): sends and receives envelopes, has a home relay.
    Officer,
}

impl Role {
    /// Wire value.
    pub const fn wire(self) -> u8 {
        match self {
            Self::Relay => 0x01,
            Self::Officer => 0x02,
        }
    }

    /// Parses a wire value.
    pub const fn from_wire(v: u8) -> Result<Self, DecodeError> {
        match v {
            0x01 => Ok(Self::Relay),
            0x02 => Ok(Self::Officer),
            other => Err(DecodeError::UnknownValue {
                what: "role",
                value: other as u64,
            }),
        }
    }

    /// `"relay"` or `"officer"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Relay => "relay",
            Self::Officer => "officer",
        }
    }
}

/// A subject's self-signed request for a certificate: its public key, name and organisation,
/// signed by the key itself (proof of possession).
#[derive(Debug, Clone)]
pub struct CertificateRequest {
    raw: Vec<u8>,
    tbs_len: usize,
    public_key: VerifyingKey,
    name: String,
    organisation: String,
    signature: Signature,
}

impl CertificateRequest {
    /// Builds and signs a request for `subject`'s key.
    pub fn new(
        subject: &SigningKey,
        name: &str,
        organisation: &str,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, ProtoError> {
        check_name("name", name, MAX_NAME_LEN)?;
        check_name("organisation", organisation, MAX_ORGANISATION_LEN)?;
        let mut w = Writer::new();
        write_preamble(&mut w, DocumentType::CertificateRequest, subject.suite());
        w.bytes_u16(
            "public key",
            subject.verifying_key().as_bytes(),
            MAX_PUBLIC_KEY_LEN,
        )?;
        w.bytes_u16("name", name.as_bytes(), MAX_NAME_LEN)?;
        w.bytes_u16(
            "organisation",
            organisation.as_bytes(),
            MAX_ORGANISATION_LEN,
        )?;
        let sig = subject.sign(labels::CERTIFICATE_REQUEST_SIG, w.as_slice(), rng)?;
        write_signature(&mut w, &sig)?;
        Self::decode(w.as_slice())
    }

    /// Parses a request (does not verify the proof of possession: see [`Self::verify`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        let mut r = Reader::new(bytes);
        let suite = read_preamble(&mut r, DocumentType::CertificateRequest)?;
        let public_key = read_public_key(&mut r, suite)?;
        let name = read_name(&mut r, "name", MAX_NAME_LEN)?;
        let organisation = read_name(&mut r, "organisation", MAX_ORGANISATION_LEN)?;
        let tbs_len = r.position();
        let signature = read_signature(&mut r)?;
        r.expect_end("certificate request")?;
        Ok(Self {
            raw: bytes.to_vec(),
            tbs_len,
            public_key,
            name,
            organisation,
            signature,
        })
    }

    /// Checks the proof of possession: the request is signed by the key it carries.
    pub fn verify(&self) -> Result<(), ProtoError> {
        verify_document(
            &self.public_key,
            labels::CERTIFICATE_REQUEST_SIG,
            &self.raw[..self.tbs_len],
            &self.signature,
            DocumentType::CertificateRequest,
        )
    }

    /// The exact encoded bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The key to be certified.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.public_key
    }

    /// The id the certificate will carry.
    pub fn subject(&self) -> IdentityId {
        IdentityId::of(&self.public_key)
    }

    /// Requested name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Requested organisation.
    pub fn organisation(&self) -> &str {
        &self.organisation
    }
}

/// What the authority decides when it issues a certificate (the request supplies the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateTerms {
    /// Relay or officer.
    pub role: Role,
    /// Highest classification the member may send, receive or carry.
    pub clearance: Classification,
    /// Officer's home relay (required for officers, absent for relays).
    pub home_relay: Option<IdentityId>,
    /// Relay's `host:port` address (required for relays, absent for officers).
    pub address: Option<String>,
    /// Start of validity (inclusive).
    pub not_before: UnixTime,
    /// End of validity (inclusive).
    pub not_after: UnixTime,
    /// The authority's serial number for this certificate (what revocation lists name).
    pub serial: u64,
}

/// A parsed member certificate, with its exact bytes kept for verification and forwarding.
///
/// Cloning is cheap: the encoded bytes, the key and the signature (some 15 KiB for `LQ2`) are
/// shared, not copied. A relay keeps several handles on each linked peer's certificate (its
/// session, the link loop, the forwarder, the operations registry), and copies of them were
/// a fifth of an idle link's memory (docs/BENCHMARKS.md, "Idle link memory").
#[derive(Debug, Clone)]
pub struct MemberCertificate {
    raw: Arc<[u8]>,
    tbs_len: usize,
    suite: Suite,
    serial: u64,
    issuer: IdentityId,
    subject: IdentityId,
    public_key: Arc<VerifyingKey>,
    role: Role,
    clearance: Classification,
    name: String,
    organisation: String,
    home_relay: Option<IdentityId>,
    address: Option<String>,
    not_before: UnixTime,
    not_after: UnixTime,
    signature: Arc<Signature>,
}

impl PartialEq for MemberCertificate {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for MemberCertificate {}

/// Issues a certificate for `request` under `terms`, signed by `authority`.
///
/// The request's proof of possession is verified first; the role rules (officers name a home
/// relay, relays an address) and `not_before <= not_after` are enforced.
pub fn issue(
    authority: &SigningKey,
    request: &CertificateRequest,
    terms: &CertificateTerms,
    rng: &mut (impl CryptoRng + ?Sized),
) -> Result<MemberCertificate, ProtoError> {
    request.verify()?;
    let key = request.public_key();
    let mut w = Writer::new();
    write_preamble(&mut w, DocumentType::MemberCertificate, key.suite());
    w.u64(terms.serial);
    w.raw(IdentityId::of(authority.verifying_key()).as_bytes());
    w.raw(IdentityId::of(key).as_bytes());
    w.bytes_u16("public key", key.as_bytes(), MAX_PUBLIC_KEY_LEN)?;
    w.u8(terms.role.wire());
    w.u8(terms.clearance.wire());
    w.bytes_u16("name", request.name().as_bytes(), MAX_NAME_LEN)?;
    w.bytes_u16(
        "organisation",
        request.organisation().as_bytes(),
        MAX_ORGANISATION_LEN,
    )?;
    match &terms.home_relay {
        Some(id) => {
            w.u8(1);
            w.raw(id.as_bytes());
        }
        None => w.u8(0),
    }
    match &terms.address {
        Some(addr) => {
            w.u8(1);
            w.bytes_u16("address", addr.as_bytes(), MAX_ADDRESS_LEN)?;
        }
        None => w.u8(0),
    }
    w.u64(terms.not_before.0);
    w.u64(terms.not_after.0);
    let sig = authority.sign(labels::MEMBER_CERTIFICATE_SIG, w.as_slice(), rng)?;
    write_signature(&mut w, &sig)?;
    MemberCertificate::decode(w.as_slice())
}

impl MemberCertificate {
    /// Parses a certificate. Checks encoding rules only; it does NOT verify the signature,
    /// validity or revocation (see [`crate::trust::TrustStore::validate`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        if bytes.len() > MAX_CERTIFICATE_LEN {
            return Err(DecodeError::TooLong {
                what: "member certificate",
                len: bytes.len(),
                max: MAX_CERTIFICATE_LEN,
            }
            .into());
        }
        let mut r = Reader::new(bytes);
        let suite = read_preamble(&mut r, DocumentType::MemberCertificate)?;
        let serial = r.u64("serial")?;
        let issuer = read_id(&mut r, "issuer")?;
        let subject = read_id(&mut r, "subject")?;
        let public_key = read_public_key(&mut r, suite)?;
        let role = Role::from_wire(r.u8("role")?)?;
        let clearance = Classification::from_wire(r.u8("clearance")?)?;
        let name = read_name(&mut r, "name", MAX_NAME_LEN)?;
        let organisation = read_name(&mut r, "organisation", MAX_ORGANISATION_LEN)?;
        let home_relay = match read_flag(&mut r, "home relay flag")? {
            true => Some(read_id(&mut r, "home relay")?),
            false => None,
        };
        let address = match read_flag(&mut r, "address flag")? {
            true => Some(read_name(&mut r, "address", MAX_ADDRESS_LEN)?),
            false => None,
        };
        let not_before = UnixTime(r.u64("not before")?);
        let not_after = UnixTime(r.u64("not after")?);
        let tbs_len = r.position();
        let signature = read_signature(&mut r)?;
        r.expect_end("member certificate")?;
        check_role_fields(role, home_relay.is_some(), address.is_some())?;
        if not_before > not_after {
            return Err(non_canonical("validity", "not_before after not_after"));
        }
        Ok(Self {
            raw: Arc::from(bytes),
            tbs_len,
            suite,
            serial,
            issuer,
            subject,
            public_key: Arc::new(public_key),
            role,
            clearance,
            name,
            organisation,
            home_relay,
            address,
            not_before,
            not_after,
            signature: Arc::new(signature),
        })
    }

    /// The exact bytes as issued and received.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The signed part (everything before the signature trailer).
    pub fn signed_bytes(&self) -> &[u8] {
        &self.raw[..self.tbs_len]
    }

    /// The authority's signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Verifies the authority's signature with `issuer_key` (no validity or revocation check).
    pub fn verify_signature(&self, issuer_key: &VerifyingKey) -> Result<(), ProtoError> {
        verify_document(
            issuer_key,
            labels::MEMBER_CERTIFICATE_SIG,
            self.signed_bytes(),
            &self.signature,
            DocumentType::MemberCertificate,
        )
    }

    /// The subject id the certificate claims (checked against the key by validation).
    pub fn subject(&self) -> IdentityId {
        self.subject
    }

    /// The subject's composite identity key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.public_key
    }

    /// The suite of the subject's key.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Relay or officer.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Highest classification the subject may handle.
    pub fn clearance(&self) -> Classification {
        self.clearance
    }

    /// The subject's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The subject's organisation.
    pub fn organisation(&self) -> &str {
        &self.organisation
    }

    /// An officer's home relay.
    pub fn home_relay(&self) -> Option<IdentityId> {
        self.home_relay
    }

    /// A relay's `host:port` address.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// Start of validity (inclusive).
    pub fn not_before(&self) -> UnixTime {
        self.not_before
    }

    /// End of validity (inclusive).
    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }

    /// The issuer's serial number.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// The id of the authority key that signed the certificate.
    pub fn issuer(&self) -> IdentityId {
        self.issuer
    }
}

/// Reads a presence flag that must be exactly 0 or 1.
pub(crate) fn read_flag(r: &mut Reader<'_>, what: &'static str) -> Result<bool, ProtoError> {
    match r.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(DecodeError::UnknownValue {
            what,
            value: u64::from(other),
        }
        .into()),
    }
}

pub(crate) fn non_canonical(what: &'static str, reason: &'static str) -> ProtoError {
    DecodeError::NonCanonical { what, reason }.into()
}

fn check_name(what: &'static str, value: &str, max: usize) -> Result<(), ProtoError> {
    if value.is_empty() {
        return Err(ProtoError::InvalidInput {
            what,
            reason: "must not be empty",
        });
    }
    if value.len() > max {
        return Err(DecodeError::TooLong {
            what,
            len: value.len(),
            max,
        }
        .into());
    }
    Ok(())
}

fn check_role_fields(role: Role, home_relay: bool, address: bool) -> Result<(), ProtoError> {
    match (role, home_relay, address) {
        (Role::Officer, true, false) | (Role::Relay, false, true) => Ok(()),
        (Role::Officer, _, _) => Err(non_canonical(
            "officer certificate",
            "must name a home relay and no address",
        )),
        (Role::Relay, _, _) => Err(non_canonical(
            "relay certificate",
            "must name an address and no home relay",
        )),
    }
}

#[cfg(test)]
mod tests {
    use liaison_crypto::Seed32;

    use super::*;

    fn key(suite: Suite, b: u8) -> SigningKey {
        SigningKey::from_seed(suite, Seed32::from_bytes([b; 32]))
    }

    fn terms_officer(home: IdentityId) -> CertificateTerms {
        CertificateTerms {
            role: Role::Officer,
            clearance: Classification::SecretUe,
            home_relay: Some(home),
            address: None,
            not_before: UnixTime(1_000),
            not_after: UnixTime(2_000),
            serial: 7,
        }
    }

    #[test]
    fn issued_certificate_round_trips_and_verifies() {
        let mut rng = liaison_crypto::rng::os_rng();
        let authority = key(Suite::Lq2, 1);
        let subject = key(Suite::Lq1, 2);
        let req = CertificateRequest::new(&subject, "Alice", "CERT-EU", &mut rng).unwrap();
        assert_eq!(
            CertificateRequest::decode(req.raw()).unwrap().raw(),
            req.raw()
        );
        let home = IdentityId::from_bytes([9; 32]);
        let cert = issue(&authority, &req, &terms_officer(home), &mut rng).unwrap();
        let again = MemberCertificate::decode(cert.raw()).unwrap();
        assert_eq!(again, cert);
        assert_eq!(again.subject(), IdentityId::of(subject.verifying_key()));
        assert_eq!(again.issuer(), IdentityId::of(authority.verifying_key()));
        assert_eq!(again.suite(), Suite::Lq1);
        assert_eq!(again.home_relay(), Some(home));
        assert_eq!(again.serial(), 7);
        again.verify_signature(authority.verifying_key()).unwrap();
    }

    #[test]
    fn officer_without_home_relay_is_refused() {
        let mut rng = liaison_crypto::rng::os_rng();
        let authority = key(Suite::Lq2, 1);
        let req = CertificateRequest::new(&key(Suite::Lq2, 3), "Bob", "ENISA", &mut rng).unwrap();
        let mut terms = terms_officer(IdentityId::from_bytes([1; 32]));
        terms.home_relay = None;
        assert!(matches!(
            issue(&authority, &req, &terms, &mut rng),
            Err(ProtoError::Decode(DecodeError::NonCanonical { .. }))
        ));
    }

    #[test]
    fn request_signed_by_another_key_fails_proof_of_possession() {
        let mut rng = liaison_crypto::rng::os_rng();
        let a = CertificateRequest::new(&key(Suite::Lq1, 4), "A", "O", &mut rng).unwrap();
        let b = CertificateRequest::new(&key(Suite::Lq1, 5), "A", "O", &mut rng).unwrap();
        // Splice b's signature onto a's body.
        let mut forged = a.raw()[..a.tbs_len].to_vec();
        forged.extend_from_slice(&b.raw()[b.tbs_len..]);
        let forged = CertificateRequest::decode(&forged).unwrap();
        assert_eq!(
            forged.verify(),
            Err(ProtoError::BadSignature {
                what: "certificate request"
            })
        );
    }
}
