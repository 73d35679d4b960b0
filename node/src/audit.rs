//! The custody audit log: append-only, hash-chained entries (accepted, forwarded, delivered,
//! refused, expired, duplicate) with no plaintext, and periodic checkpoints signed by the
//! node's composite identity key. Entries live in the custody database and are appended inside
//! the same write transaction as the custody change they record, so the log can never disagree
//! with the store.
//!
//! ```text
//! entry_i  = 0x01 || be64(seq) || be64(unix time) || kind (1) || message id (16)
//!            || peer id (32) || be16(len) || detail (UTF-8, ≤ 512 bytes)
//! chain_i  = SHA-384(info("liaison audit chain v1", [chain_{i-1}, entry_i]))   chain_{-1} = 0^48
//! checkpoint at seq i = suite (1) || chain_i (48) || composite signature over
//!            (node id (32) || be64(i) || chain_i) with context "liaison audit checkpoint v1"
//! ```
//! [`verify`] recomputes the whole chain from a database file and checks every checkpoint.

use std::path::Path;

use liaison_crypto::kdf::{HASH_LEN, Transcript};
use liaison_crypto::sign::{Signature, SigningKey, VerifyingKey};
use liaison_crypto::{IdentityId, Suite, labels};
use redb::{
    ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};

use crate::store::StoreError;

pub(crate) const AUDIT_ENTRIES: TableDefinition<'_, u64, &[u8]> =
    TableDefinition::new("audit_entries");
pub(crate) const AUDIT_CHECKPOINTS: TableDefinition<'_, u64, &[u8]> =
    TableDefinition::new("audit_checkpoints");
pub(crate) const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");

const ENTRY_VERSION: u8 = 1;
/// Longest detail text an entry carries (a refusal reason, a next-hop name).
pub const MAX_DETAIL_LEN: usize = 512;
const META_AUDIT_HEAD: &str = "audit_head";
const META_NODE_KEY: &str = "node_public_key";

/// What happened to an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// Durably accepted into custody from `peer`.
    Accepted,
    /// Handed to the next relay `peer`, which acknowledged custody.
    Forwarded,
    /// Delivered to the local recipient `peer`, which acknowledged.
    Delivered,
    /// Refused; the detail says why (the same reason the sender received).
    Refused,
    /// Dropped because its expiry passed before delivery.
    Expired,
    /// A retransmission of an envelope already in (or through) custody; not stored again.
    Duplicate,
}

impl AuditKind {
    fn wire(self) -> u8 {
        match self {
            Self::Accepted => 1,
            Self::Forwarded => 2,
            Self::Delivered => 3,
            Self::Refused => 4,
            Self::Expired => 5,
            Self::Duplicate => 6,
        }
    }

    fn from_wire(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Accepted,
            2 => Self::Forwarded,
            3 => Self::Delivered,
            4 => Self::Refused,
            5 => Self::Expired,
            6 => Self::Duplicate,
            _ => return None,
        })
    }

    /// Lower-case name for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Forwarded => "forwarded",
            Self::Delivered => "delivered",
            Self::Refused => "refused",
            Self::Expired => "expired",
            Self::Duplicate => "duplicate",
        }
    }
}

/// One decoded audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the log, from 0 without gaps.
    pub seq: u64,
    /// Unix seconds when the event was committed.
    pub time: u64,
    /// What happened.
    pub kind: AuditKind,
    /// The envelope's 128-bit message id.
    pub message_id: [u8; 16],
    /// The other party: upstream sender, next hop or recipient.
    pub peer: [u8; 32],
    /// Human detail (reason for a refusal), never content.
    pub detail: String,
}

impl AuditEntry {
    fn encode(&self) -> Vec<u8> {
        let detail = truncate_utf8(&self.detail, MAX_DETAIL_LEN);
        let mut out = Vec::with_capacity(1 + 8 + 8 + 1 + 16 + 32 + 2 + detail.len());
        out.push(ENTRY_VERSION);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        out.push(self.kind.wire());
        out.extend_from_slice(&self.message_id);
        out.extend_from_slice(&self.peer);
        out.extend_from_slice(&(detail.len() as u16).to_be_bytes());
        out.extend_from_slice(detail.as_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        const FIXED: usize = 1 + 8 + 8 + 1 + 16 + 32 + 2;
        if bytes.len() < FIXED || bytes[0] != ENTRY_VERSION {
            return None;
        }
        let u64_at = |i: usize| u64::from_be_bytes(core::array::from_fn(|k| bytes[i + k]));
        let len = usize::from(u16::from_be_bytes([bytes[FIXED - 2], bytes[FIXED - 1]]));
        if len > MAX_DETAIL_LEN || bytes.len() != FIXED + len {
            return None;
        }
        Some(Self {
            seq: u64_at(1),
            time: u64_at(9),
            kind: AuditKind::from_wire(bytes[17])?,
            message_id: core::array::from_fn(|k| bytes[18 + k]),
            peer: core::array::from_fn(|k| bytes[34 + k]),
            detail: String::from_utf8(bytes[FIXED..].to_vec()).ok()?,
        })
    }
}

fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn chain(prev: &[u8; HASH_LEN], entry: &[u8]) -> [u8; HASH_LEN] {
    let mut t = Transcript::new(labels::AUDIT_CHAIN);
    t.absorb(prev);
    t.absorb(entry);
    t.current()
}

fn checkpoint_message(node: &IdentityId, seq: u64, head: &[u8; HASH_LEN]) -> Vec<u8> {
    let mut m = Vec::with_capacity(32 + 8 + HASH_LEN);
    m.extend_from_slice(node.as_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(head);
    m
}

/// The writer's view of the log's end: next sequence number and running chain hash.
#[derive(Debug, Clone)]
pub(crate) struct AuditHead {
    pub(crate) next_seq: u64,
    pub(crate) hash: [u8; HASH_LEN],
    pub(crate) since_checkpoint: u64,
}

impl AuditHead {
    pub(crate) fn load(txn: &WriteTransaction, signer: &SigningKey) -> Result<Self, StoreError> {
        let mut meta = txn.open_table(META)?;
        let key_bytes = encode_public_key(signer.verifying_key());
        let stored = meta.get(META_NODE_KEY)?.map(|v| v.value().to_vec());
        match stored {
            Some(existing) if existing != key_bytes => return Err(StoreError::NodeKeyChanged),
            Some(_) => {}
            None => {
                meta.insert(META_NODE_KEY, key_bytes.as_slice())?;
            }
        }
        let head = meta.get(META_AUDIT_HEAD)?.map(|v| v.value().to_vec());
        let Some(head) = head else {
            return Ok(Self {
                next_seq: 0,
                hash: [0; HASH_LEN],
                since_checkpoint: 0,
            });
        };
        if head.len() != 8 + HASH_LEN + 8 {
            return Err(StoreError::Corrupt("audit head"));
        }
        Ok(Self {
            next_seq: u64::from_be_bytes(core::array::from_fn(|i| head[i])),
            hash: core::array::from_fn(|i| head[8 + i]),
            since_checkpoint: u64::from_be_bytes(core::array::from_fn(|i| head[8 + HASH_LEN + i])),
        })
    }

    /// Appends one entry to `entries` (the [`AUDIT_ENTRIES`] table, opened once per write
    /// transaction by the caller) and advances the head (persisted by [`Self::persist`]).
    pub(crate) fn append(
        &mut self,
        entries: &mut redb::Table<'_, u64, &'static [u8]>,
        time: u64,
        kind: AuditKind,
        message_id: [u8; 16],
        peer: [u8; 32],
        detail: &str,
    ) -> Result<(), StoreError> {
        let entry = AuditEntry {
            seq: self.next_seq,
            time,
            kind,
            message_id,
            peer,
            detail: detail.to_owned(),
        };
        let bytes = entry.encode();
        entries.insert(self.next_seq, bytes.as_slice())?;
        self.hash = chain(&self.hash, &bytes);
        self.next_seq += 1;
        self.since_checkpoint += 1;
        Ok(())
    }

    /// Signs the current head into a checkpoint (no-op on an empty log).
    pub(crate) fn checkpoint(
        &mut self,
        txn: &WriteTransaction,
        signer: &SigningKey,
    ) -> Result<(), StoreError> {
        if self.next_seq == 0 || self.since_checkpoint == 0 {
            return Ok(());
        }
        let seq = self.next_seq - 1;
        let node = IdentityId::of(signer.verifying_key());
        let message = checkpoint_message(&node, seq, &self.hash);
        let mut rng = liaison_crypto::rng::os_rng();
        let signature = signer.sign(labels::AUDIT_CHECKPOINT, &message, &mut rng)?;
        let mut record = vec![signer.suite().id()];
        record.extend_from_slice(&self.hash);
        record.extend_from_slice(signature.as_bytes());
        txn.open_table(AUDIT_CHECKPOINTS)?
            .insert(seq, record.as_slice())?;
        self.since_checkpoint = 0;
        Ok(())
    }

    pub(crate) fn persist(&self, txn: &WriteTransaction) -> Result<(), StoreError> {
        let mut head = Vec::with_capacity(8 + HASH_LEN + 8);
        head.extend_from_slice(&self.next_seq.to_be_bytes());
        head.extend_from_slice(&self.hash);
        head.extend_from_slice(&self.since_checkpoint.to_be_bytes());
        txn.open_table(META)?
            .insert(META_AUDIT_HEAD, head.as_slice())?;
        Ok(())
    }
}

fn encode_public_key(key: &VerifyingKey) -> Vec<u8> {
    let mut out = vec![key.suite().id()];
    out.extend_from_slice(key.as_bytes());
    out
}

fn decode_public_key(bytes: &[u8]) -> Result<VerifyingKey, AuditError> {
    let (suite, key) = bytes.split_first().ok_or(AuditError::MissingNodeKey)?;
    let suite = Suite::from_id(*suite).map_err(|_| AuditError::MissingNodeKey)?;
    VerifyingKey::from_bytes(suite, key).map_err(|_| AuditError::MissingNodeKey)
}

/// Why an audit log failed verification. Each variant names the first bad position.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The file could not be opened or read as a custody database.
    #[error("cannot read the custody database: {0}")]
    Storage(String),
    /// The database has no node public key recorded.
    #[error("no node public key recorded in the database")]
    MissingNodeKey,
    /// The key recorded in the database is not the one the verifier was told to expect.
    #[error("the database was written by node {found}, not the expected {expected}")]
    WrongNode {
        /// Fingerprint of the expected node.
        expected: String,
        /// Fingerprint recorded in the database.
        found: String,
    },
    /// Sequence numbers are not contiguous from 0 (an entry was removed).
    #[error("entry {expected} is missing (found {found} next)")]
    Gap {
        /// The sequence number that should come next.
        expected: u64,
        /// The one that did.
        found: u64,
    },
    /// An entry does not decode or carries the wrong sequence number.
    #[error("entry {0} is malformed")]
    MalformedEntry(u64),
    /// A checkpoint's recorded hash differs from the recomputed chain (an entry was edited).
    #[error("chain broken at checkpoint {0}: an entry at or before it was altered")]
    ChainMismatch(u64),
    /// A checkpoint's signature does not verify under the node key.
    #[error("checkpoint {0} has an invalid signature")]
    BadCheckpointSignature(u64),
    /// A checkpoint refers to an entry that does not exist.
    #[error("checkpoint {0} refers past the end of the log")]
    DanglingCheckpoint(u64),
}

impl From<redb::Error> for AuditError {
    fn from(e: redb::Error) -> Self {
        Self::Storage(e.to_string())
    }
}

/// The outcome of a successful [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries in the log.
    pub entries: u64,
    /// Signed checkpoints, all verified.
    pub checkpoints: u64,
    /// Entries after the last checkpoint (chained but not yet signed).
    pub unsigned_tail: u64,
    /// Fingerprint of the node that signed the checkpoints.
    pub node_fingerprint: String,
    /// Count of entries per kind, in [`AuditKind`] order.
    pub by_kind: Vec<(AuditKind, u64)>,
}

/// Verifies a custody database's audit log end to end: contiguous entries, the hash chain,
/// and every checkpoint signature (under `expected_node` if given, else the recorded key).
pub fn verify(
    path: &Path,
    expected_node: Option<&VerifyingKey>,
) -> Result<AuditReport, AuditError> {
    let db = redb::Database::builder()
        .open_read_only(path)
        .map_err(|e| AuditError::Storage(e.to_string()))?;
    let txn = db.begin_read().map_err(redb::Error::from)?;
    let meta = txn.open_table(META).map_err(redb::Error::from)?;
    let recorded = meta
        .get(META_NODE_KEY)
        .map_err(redb::Error::from)?
        .ok_or(AuditError::MissingNodeKey)?
        .value()
        .to_vec();
    let node_key = decode_public_key(&recorded)?;
    if let Some(expected) = expected_node
        && expected != &node_key
    {
        return Err(AuditError::WrongNode {
            expected: IdentityId::of(expected).fingerprint(),
            found: IdentityId::of(&node_key).fingerprint(),
        });
    }
    let node = IdentityId::of(&node_key);
    let entries = txn.open_table(AUDIT_ENTRIES).map_err(redb::Error::from)?;
    let checkpoints = txn
        .open_table(AUDIT_CHECKPOINTS)
        .map_err(redb::Error::from)?;

    let mut hash = [0u8; HASH_LEN];
    let mut expected_seq = 0u64;
    let mut by_kind = [0u64; 6];
    let mut verified = 0u64;
    let mut last_checkpoint: Option<u64> = None;
    let mut cps = checkpoints
        .range::<u64>(..)
        .map_err(redb::Error::from)?
        .peekable();
    for item in entries.range::<u64>(..).map_err(redb::Error::from)? {
        let (seq, bytes) = item.map_err(redb::Error::from)?;
        let seq = seq.value();
        if seq != expected_seq {
            return Err(AuditError::Gap {
                expected: expected_seq,
                found: seq,
            });
        }
        let entry = AuditEntry::decode(bytes.value()).ok_or(AuditError::MalformedEntry(seq))?;
        if entry.seq != seq {
            return Err(AuditError::MalformedEntry(seq));
        }
        by_kind[usize::from(entry.kind.wire() - 1)] += 1;
        hash = chain(&hash, bytes.value());
        while let Some(Ok((cp_seq, _))) = cps.peek() {
            if cp_seq.value() > seq {
                break;
            }
            let Some(Ok((cp_seq, record))) = cps.next() else {
                break;
            };
            let cp_seq = cp_seq.value();
            if cp_seq != seq {
                return Err(AuditError::DanglingCheckpoint(cp_seq));
            }
            check_checkpoint(&node_key, &node, seq, &hash, record.value())?;
            verified += 1;
            last_checkpoint = Some(seq);
        }
        expected_seq += 1;
    }
    if let Some(Ok((cp_seq, _))) = cps.next() {
        return Err(AuditError::DanglingCheckpoint(cp_seq.value()));
    }
    let kinds = [
        AuditKind::Accepted,
        AuditKind::Forwarded,
        AuditKind::Delivered,
        AuditKind::Refused,
        AuditKind::Expired,
        AuditKind::Duplicate,
    ];
    Ok(AuditReport {
        entries: expected_seq,
        checkpoints: verified,
        unsigned_tail: match last_checkpoint {
            Some(s) => expected_seq - s - 1,
            None => expected_seq,
        },
        node_fingerprint: node.fingerprint(),
        by_kind: kinds.into_iter().zip(by_kind).collect(),
    })
}

fn check_checkpoint(
    key: &VerifyingKey,
    node: &IdentityId,
    seq: u64,
    hash: &[u8; HASH_LEN],
    record: &[u8],
) -> Result<(), AuditError> {
    if record.len() < 1 + HASH_LEN {
        return Err(AuditError::BadCheckpointSignature(seq));
    }
    if record[1..1 + HASH_LEN] != hash[..] {
        return Err(AuditError::ChainMismatch(seq));
    }
    let signature = Suite::from_id(record[0])
        .and_then(|suite| Signature::from_bytes(suite, &record[1 + HASH_LEN..]))
        .map_err(|_| AuditError::BadCheckpointSignature(seq))?;
    key.verify(
        labels::AUDIT_CHECKPOINT,
        &checkpoint_message(node, seq, hash),
        &signature,
    )
    .map_err(|_| AuditError::BadCheckpointSignature(seq))
}

/// Number of entries in an open table (for metrics and tests).
pub(crate) fn entry_count(txn: &redb::ReadTransaction) -> Result<u64, StoreError> {
    Ok(txn.open_table(AUDIT_ENTRIES)?.len()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_reject_garbage() {
        let e = AuditEntry {
            seq: 7,
            time: 1_700_000_000,
            kind: AuditKind::Refused,
            message_id: [1; 16],
            peer: [2; 32],
            detail: "classification above clearance".into(),
        };
        assert_eq!(AuditEntry::decode(&e.encode()), Some(e.clone()));
        let mut bad = e.encode();
        bad[17] = 99;
        assert_eq!(AuditEntry::decode(&bad), None);
        assert_eq!(AuditEntry::decode(&e.encode()[..10]), None);
    }

    #[test]
    fn long_details_are_truncated_on_a_char_boundary() {
        let s = "é".repeat(400);
        let t = truncate_utf8(&s, MAX_DETAIL_LEN);
        assert!(t.len() <= MAX_DETAIL_LEN && t.is_char_boundary(t.len()));
    }
}
