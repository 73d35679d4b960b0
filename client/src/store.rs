//! The officer's local message store: received messages (envelope and decrypted content), sent
//! messages with each recipient's receipt, and contacts (member certificates), in one `redb`
//! file (`spec/client-storage.md` §4).
//!
//! Every value is sealed with XChaCha20-Poly1305 under the keystore's store key, with a random
//! nonce, and with associated data naming the table and the key, so a value moved to another
//! row or table fails to open. Keys are message ids and identity ids (which relays see
//! anyway); nothing else is in the clear. Every write commits with
//! `Durability::Immediate` (fsync) before returning, so a message acknowledged to the relay
//! after [`MessageStore::insert_received`] survives a crash, and de-duplication by message id
//! means the relay is never asked twice for what the store already has.
//!
//! Calls block on disk I/O: async callers use `spawn_blocking`. The store is `Send + Sync`
//! and may be shared behind an `Arc`.

use std::path::{Path, PathBuf};

use liaison_crypto::aead::{open_x_random, seal_x_random};
use liaison_crypto::{IdentityId, SecretBytes, SymmetricKey};
use liaison_proto::certificate::{MAX_CERTIFICATE_LEN, MemberCertificate};
use liaison_proto::envelope::{ContentType, MAX_ENVELOPE_LEN, MESSAGE_ID_LEN, MessageId};
use liaison_proto::notice::{MAX_NOTICE_LEN, NonDelivery};
use liaison_proto::{Classification, Tlp, UnixTime};
use redb::{
    Durability, ReadableDatabase as _, ReadableTable as _, TableDefinition, TableHandle as _,
};
use zeroize::Zeroizing;

mod record;

use record::{
    decode_received, decode_sent, decode_summary, encode_received, encode_sent, encode_summary,
};

const RECEIVED: TableDefinition<'_, [u8; 16], &[u8]> = TableDefinition::new("received");
const RECEIVED_INDEX: TableDefinition<'_, [u8; 16], &[u8]> = TableDefinition::new("received_index");
const SENT: TableDefinition<'_, [u8; 16], &[u8]> = TableDefinition::new("sent");
const SENT_ENVELOPES: TableDefinition<'_, [u8; 16], &[u8]> = TableDefinition::new("sent_envelopes");
const RECEIPTS: TableDefinition<'_, ([u8; 16], [u8; 32]), &[u8]> = TableDefinition::new("receipts");
/// Non-delivery notices: `(message id, recipient)` → sealed `be64(recorded at) || notice`.
const NOTICES: TableDefinition<'_, ([u8; 16], [u8; 32]), &[u8]> = TableDefinition::new("notices");
const CONTACTS: TableDefinition<'_, [u8; 32], &[u8]> = TableDefinition::new("contacts");
/// The last verified prekey bundle of each recipient (identity id → sealed bundle bytes), for
/// sending while the recipient's home relay is out of reach.
const BUNDLES: TableDefinition<'_, [u8; 32], &[u8]> = TableDefinition::new("prekey_bundles");
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
/// Supplied keys fetched for messages not yet stored ([`MessageStore::keep_supplied_key`]).
const SUPPLIED_KEYS: TableDefinition<'_, [u8; 16], &[u8]> = TableDefinition::new("supplied_keys");
const KEY_CHECK: &str = "key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"liaison message store key check v1";
const AD_LABEL: &[u8] = b"liaison-store v1";
/// Longest receipt kept.
const MAX_RECEIPT_LEN: usize = 16 * 1024;
/// Shortest hex prefix accepted as a message or identity query.
pub const MIN_PREFIX_LEN: usize = 4;

/// Anything that names a message: a [`MessageId`] or its 16 bytes.
pub trait IntoMessageId {
    /// The message id.
    fn into_message_id(self) -> MessageId;
}

impl IntoMessageId for MessageId {
    fn into_message_id(self) -> MessageId {
        self
    }
}

impl IntoMessageId for &MessageId {
    fn into_message_id(self) -> MessageId {
        *self
    }
}

impl IntoMessageId for [u8; MESSAGE_ID_LEN] {
    fn into_message_id(self) -> MessageId {
        MessageId(self)
    }
}

impl IntoMessageId for &[u8; MESSAGE_ID_LEN] {
    fn into_message_id(self) -> MessageId {
        MessageId(*self)
    }
}

/// Errors of the message store. None carries message content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("{path}: message store: {reason}")]
    Storage {
        /// The database file.
        path: PathBuf,
        /// The database error.
        reason: String,
    },
    /// The store was created under another store key (another keystore).
    #[error("{path}: this message store belongs to another keystore (store key does not match)")]
    WrongKey {
        /// The database file.
        path: PathBuf,
    },
    /// A value failed to authenticate or decode.
    #[error("{path}: corrupt {table} entry {key}: {reason}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// Table name.
        table: &'static str,
        /// The entry's key, hex.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// Nothing matches the query.
    #[error("no {what} matches {query:?}")]
    NotFound {
        /// `"message"` or `"contact"`.
        what: &'static str,
        /// The query.
        query: String,
    },
    /// Several entries match the query.
    #[error("{query:?} matches several {what}s: {}", candidates.join(", "))]
    Ambiguous {
        /// `"message"` or `"contact"`.
        what: &'static str,
        /// The query.
        query: String,
        /// What it matched (names with fingerprints, or ids).
        candidates: Vec<String>,
    },
    /// A receipt names a message this store never sent, or a recipient it was not sent to.
    #[error("receipt for message {message_id} from {recipient}: {reason}")]
    UnexpectedReceipt {
        /// The message id, hex.
        message_id: String,
        /// The recipient id, hex.
        recipient: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A record is too large to store.
    #[error("cannot store {what}: {reason}")]
    Invalid {
        /// What was being stored.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// A received, verified and decrypted message, as stored.
#[derive(Clone)]
pub struct ReceivedMessage {
    /// The envelope's message id.
    pub message_id: MessageId,
    /// The envelope exactly as received (for `liaison verify` and non-repudiation).
    pub envelope_raw: Vec<u8>,
    /// The sender's identity id.
    pub sender: IdentityId,
    /// The sender's certificate name.
    pub sender_name: String,
    /// The sender's fingerprint, as shown to the officer.
    pub sender_fingerprint: String,
    /// The envelope's classification.
    pub classification: Classification,
    /// The envelope's TLP label.
    pub tlp: Tlp,
    /// What the content is.
    pub content_type: ContentType,
    /// The decrypted content.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// When this client stored it.
    pub received_at: UnixTime,
}

impl std::fmt::Debug for ReceivedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceivedMessage")
            .field("message_id", &self.message_id)
            .field("sender", &self.sender)
            .field("sender_name", &self.sender_name)
            .field("classification", &self.classification)
            .field("tlp", &self.tlp)
            .field("content_type", &self.content_type)
            .field(
                "plaintext",
                &format_args!("<{} bytes>", self.plaintext.len()),
            )
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

impl ReceivedMessage {
    /// The message id.
    pub fn message_id(&self) -> MessageId {
        self.message_id
    }

    /// What the content is.
    pub fn content_type(&self) -> &ContentType {
        &self.content_type
    }

    /// The decrypted content.
    pub fn content(&self) -> &[u8] {
        &self.plaintext
    }

    /// The envelope exactly as received.
    pub fn envelope(&self) -> &[u8] {
        &self.envelope_raw
    }

    /// The sender's identity id.
    pub fn sender(&self) -> IdentityId {
        self.sender
    }

    /// Classification.
    pub fn classification(&self) -> Classification {
        self.classification
    }

    /// TLP label.
    pub fn tlp(&self) -> Tlp {
        self.tlp
    }
}

/// What an inbox listing shows of a received message (no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSummary {
    /// The message id.
    pub message_id: MessageId,
    /// The sender's identity id.
    pub sender: IdentityId,
    /// The sender's certificate name.
    pub sender_name: String,
    /// The sender's fingerprint.
    pub sender_fingerprint: String,
    /// Classification.
    pub classification: Classification,
    /// TLP label.
    pub tlp: Tlp,
    /// Content type.
    pub content_type: ContentType,
    /// Content size in bytes.
    pub size: u64,
    /// When it was stored.
    pub received_at: UnixTime,
    /// Whether the signed receipt was handed to the relay ([`MessageStore::mark_receipt_sent`]).
    pub receipt_sent: bool,
}

/// A message this officer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The message id.
    pub message_id: MessageId,
    /// Recipients with the names shown at sending time.
    pub recipients: Vec<(IdentityId, String)>,
    /// Classification.
    pub classification: Classification,
    /// TLP label.
    pub tlp: Tlp,
    /// Content type.
    pub content_type: ContentType,
    /// When it was sent.
    pub sent_at: UnixTime,
    /// Content size in bytes.
    pub size: u64,
}

impl SentMessage {
    /// The record of `envelope` as sent: id, recipients, labels from its header. Recipient
    /// names are left empty and filled from the contacts when listed; set them with
    /// [`Self::with_recipient_names`] where the certificates are at hand.
    pub fn new(
        envelope: &liaison_proto::envelope::Envelope,
        content_type: &ContentType,
        size: u64,
        sent_at: UnixTime,
    ) -> Self {
        let h = envelope.header();
        Self {
            message_id: h.message_id,
            recipients: h.recipients.iter().map(|r| (*r, String::new())).collect(),
            classification: h.classification,
            tlp: h.tlp,
            content_type: content_type.clone(),
            sent_at,
            size,
        }
    }

    /// Names each recipient after its certificate in `certificates` (others keep theirs).
    pub fn with_recipient_names(mut self, certificates: &[MemberCertificate]) -> Self {
        for (id, name) in &mut self.recipients {
            if let Some(c) = certificates.iter().find(|c| c.subject() == *id) {
                *name = c.name().to_owned();
            }
        }
        self
    }
}

/// A receipt on record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    /// When this client recorded it.
    pub received_at: UnixTime,
    /// The signed receipt, exactly as received.
    pub raw: Vec<u8>,
}

/// A relay's non-delivery notice on record (`spec/protocol.md` §13.1), verified when it
/// arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotice {
    /// When this client recorded it.
    pub recorded_at: UnixTime,
    /// The signed notice, exactly as received.
    pub raw: Vec<u8>,
}

impl StoredNotice {
    /// The notice, parsed (it was verified before it was stored).
    pub fn notice(&self) -> Option<NonDelivery> {
        NonDelivery::decode(&self.raw).ok()
    }
}

/// One recipient of a sent message and its receipt, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReceipt {
    /// The recipient.
    pub recipient: IdentityId,
    /// Its name at sending time.
    pub name: String,
    /// Its receipt, once it arrived.
    pub receipt: Option<StoredReceipt>,
    /// A relay's notice that the message will not reach this recipient, if one arrived.
    pub undelivered: Option<StoredNotice>,
}

/// A sent message with the receipt status of every recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSummary {
    /// The message.
    pub message: SentMessage,
    /// One entry per recipient, in the message's order.
    pub receipts: Vec<RecipientReceipt>,
}

impl SentSummary {
    /// The message id.
    pub fn message_id(&self) -> MessageId {
        self.message.message_id
    }

    /// When it was sent.
    pub fn sent_at(&self) -> UnixTime {
        self.message.sent_at
    }

    /// Classification.
    pub fn classification(&self) -> Classification {
        self.message.classification
    }

    /// TLP label.
    pub fn tlp(&self) -> Tlp {
        self.message.tlp
    }

    /// Each recipient with the time its receipt was recorded, if it was.
    pub fn recipients_with_receipts(&self) -> Vec<(IdentityId, Option<UnixTime>)> {
        self.receipts
            .iter()
            .map(|r| (r.recipient, r.receipt.as_ref().map(|s| s.received_at)))
            .collect()
    }

    /// Whether every recipient's receipt has arrived.
    pub fn complete(&self) -> bool {
        self.receipts.iter().all(|r| r.receipt.is_some())
    }
}

/// The local message store (see the module docs).
pub struct MessageStore {
    path: PathBuf,
    key: SymmetricKey,
    db: redb::Database,
}

impl std::fmt::Debug for MessageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl MessageStore {
    /// Opens (or creates, mode 0600) the store at `path` under `key`. A store created under
    /// another key is refused ([`StoreError::WrongKey`]).
    pub fn open(path: &Path, key: &SymmetricKey) -> Result<Self, StoreError> {
        if !path.exists() {
            // Create it 0600 first (redb initialises an empty file), so the file is never
            // readable by others, not even for an instant.
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| StoreError::Storage {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
        }
        let db = redb::Database::create(path).st(path)?;
        let this = Self {
            path: path.to_owned(),
            key: SymmetricKey::from_bytes(*key.expose_secret()),
            db,
        };
        let txn = this.begin()?;
        {
            txn.open_table(RECEIVED).st(path)?;
            txn.open_table(RECEIVED_INDEX).st(path)?;
            txn.open_table(SENT).st(path)?;
            txn.open_table(SENT_ENVELOPES).st(path)?;
            txn.open_table(RECEIPTS).st(path)?;
            txn.open_table(NOTICES).st(path)?;
            txn.open_table(CONTACTS).st(path)?;
            txn.open_table(BUNDLES).st(path)?;
            txn.open_table(SUPPLIED_KEYS).st(path)?;
            let mut meta = txn.open_table(META).st(path)?;
            let existing = meta.get(KEY_CHECK).st(path)?.map(|g| g.value().to_vec());
            match existing {
                Some(sealed) => {
                    let opened = this.open_value("meta", KEY_CHECK.as_bytes(), &sealed).ok();
                    if opened.as_deref().map(Vec::as_slice) != Some(KEY_CHECK_PLAINTEXT) {
                        return Err(StoreError::WrongKey {
                            path: path.to_owned(),
                        });
                    }
                }
                None => {
                    let sealed = this.seal("meta", KEY_CHECK.as_bytes(), KEY_CHECK_PLAINTEXT);
                    meta.insert(KEY_CHECK, sealed.as_slice()).st(path)?;
                }
            }
        }
        txn.commit().st(path)?;
        Ok(this)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores a received message durably. Returns `false` (and changes nothing) when a
    /// message with this id is already stored: the caller acknowledges it again and shows
    /// nothing new.
    pub fn insert_received(&self, msg: &ReceivedMessage) -> Result<bool, StoreError> {
        let id = msg.message_id.0;
        let record = encode_received(msg)?;
        let summary = encode_summary(&ReceivedSummary {
            message_id: msg.message_id,
            sender: msg.sender,
            sender_name: msg.sender_name.clone(),
            sender_fingerprint: msg.sender_fingerprint.clone(),
            classification: msg.classification,
            tlp: msg.tlp,
            content_type: msg.content_type.clone(),
            size: msg.plaintext.len() as u64,
            received_at: msg.received_at,
            receipt_sent: false,
        })?;
        let path = &self.path;
        let txn = self.begin()?;
        {
            let mut index = txn.open_table(RECEIVED_INDEX).st(path)?;
            if index.get(id).st(path)?.is_some() {
                return Ok(false);
            }
            let sealed = self.seal("received_index", &id, &summary);
            index.insert(id, sealed.as_slice()).st(path)?;
            let sealed = self.seal("received", &id, &record);
            txn.open_table(RECEIVED)
                .st(path)?
                .insert(id, sealed.as_slice())
                .st(path)?;
            // The message is opened and stored: the key it needed is no longer kept.
            txn.open_table(SUPPLIED_KEYS)
                .st(path)?
                .remove(id)
                .st(path)?;
        }
        txn.commit().st(path)?;
        Ok(true)
    }

    /// Keeps the supplied key of message `id`, sealed under the store key, until the message is
    /// stored ([`Self::insert_received`] drops it in the same transaction) or refused
    /// ([`Self::forget_supplied_key`]). A key supply hands each key out once (ETSI GS QKD 014
    /// `dec_keys`), so a client stopped between fetching the key and storing the message would
    /// otherwise never open that message: with the key kept, the relay's next delivery of it
    /// (it was not acknowledged) is opened with the kept key. `expires` is the message's
    /// expiry: after it no relay delivers the message again, and
    /// [`Self::sweep_kept_supplied_keys`] erases the key.
    pub fn keep_supplied_key(
        &self,
        id: impl IntoMessageId,
        expires: UnixTime,
        key: &SecretBytes,
    ) -> Result<(), StoreError> {
        let id = id.into_message_id().0;
        let path = &self.path;
        let mut value = Zeroizing::new(Vec::with_capacity(8 + key.len()));
        value.extend_from_slice(&expires.0.to_be_bytes());
        value.extend_from_slice(key.expose_secret());
        let sealed = self.seal("supplied_keys", &id, &value);
        let txn = self.begin()?;
        txn.open_table(SUPPLIED_KEYS)
            .st(path)?
            .insert(id, sealed.as_slice())
            .st(path)?;
        txn.commit().st(path)
    }

    /// The supplied key kept for message `id` ([`Self::keep_supplied_key`]), if any.
    pub fn kept_supplied_key(
        &self,
        id: impl IntoMessageId,
    ) -> Result<Option<SecretBytes>, StoreError> {
        let id = id.into_message_id().0;
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(SUPPLIED_KEYS).st(&self.path)?;
        let Some(sealed) = t.get(id).st(&self.path)? else {
            return Ok(None);
        };
        let value = self.open_checked("supplied_keys", &id, sealed.value())?;
        let Some((_, key)) = value.split_first_chunk::<8>() else {
            return Err(self.corrupt("supplied_keys", &id, "shorter than its expiry".into()));
        };
        Ok(Some(SecretBytes::from_slice(key)))
    }

    /// Erases the kept supplied keys of messages that expired before `now` (no relay delivers
    /// them again); returns how many.
    pub fn sweep_kept_supplied_keys(&self, now: UnixTime) -> Result<usize, StoreError> {
        let path = &self.path;
        let mut expired = Vec::new();
        {
            let txn = self.db.begin_read().st(path)?;
            let t = txn.open_table(SUPPLIED_KEYS).st(path)?;
            for item in t.iter().st(path)? {
                let (id, sealed) = item.st(path)?;
                let id = id.value();
                let value = self.open_checked("supplied_keys", &id, sealed.value())?;
                let expires = value
                    .first_chunk::<8>()
                    .map_or(0, |b| u64::from_be_bytes(*b));
                if expires < now.0 {
                    expired.push(id);
                }
            }
        }
        if expired.is_empty() {
            return Ok(0);
        }
        let txn = self.begin()?;
        {
            let mut t = txn.open_table(SUPPLIED_KEYS).st(path)?;
            for id in &expired {
                t.remove(id).st(path)?;
            }
        }
        txn.commit().st(path)?;
        Ok(expired.len())
    }

    /// Erases the supplied key kept for message `id` (the message was refused).
    pub fn forget_supplied_key(&self, id: impl IntoMessageId) -> Result<(), StoreError> {
        let id = id.into_message_id().0;
        let path = &self.path;
        let txn = self.begin()?;
        txn.open_table(SUPPLIED_KEYS)
            .st(path)?
            .remove(id)
            .st(path)?;
        txn.commit().st(path)
    }

    /// Whether a message with this id is stored.
    pub fn has_received(&self, id: impl IntoMessageId) -> Result<bool, StoreError> {
        let id = id.into_message_id().0;
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(RECEIVED_INDEX).st(&self.path)?;
        Ok(t.get(id).st(&self.path)?.is_some())
    }

    /// Records that the receipt for `id` was handed to the relay. Returns whether the message
    /// exists.
    pub fn mark_receipt_sent(&self, id: impl IntoMessageId) -> Result<bool, StoreError> {
        let id = id.into_message_id().0;
        let path = &self.path;
        let txn = self.begin()?;
        {
            let mut index = txn.open_table(RECEIVED_INDEX).st(path)?;
            let sealed = index.get(id).st(path)?.map(|g| g.value().to_vec());
            let Some(sealed) = sealed else {
                return Ok(false);
            };
            let mut summary = self.decode_summary(&id, &sealed)?;
            summary.receipt_sent = true;
            let value = self.seal("received_index", &id, &encode_summary(&summary)?);
            index.insert(id, value.as_slice()).st(path)?;
        }
        txn.commit().st(path)?;
        Ok(true)
    }

    /// Every received message, newest first (no content).
    pub fn received(&self) -> Result<Vec<ReceivedSummary>, StoreError> {
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(RECEIVED_INDEX).st(&self.path)?;
        let mut out = Vec::new();
        for entry in t.iter().st(&self.path)? {
            let (k, v) = entry.st(&self.path)?;
            out.push(self.decode_summary(&k.value(), v.value())?);
        }
        out.sort_by(|a, b| {
            b.received_at
                .cmp(&a.received_at)
                .then(b.message_id.cmp(&a.message_id))
        });
        Ok(out)
    }

    /// Received messages whose receipt has not been handed to the relay yet.
    pub fn pending_receipts(&self) -> Result<Vec<MessageId>, StoreError> {
        Ok(self
            .received()?
            .into_iter()
            .filter(|s| !s.receipt_sent)
            .map(|s| s.message_id)
            .collect())
    }

    /// The received message `query` names: its full hex id or a unique hex prefix (at least
    /// [`MIN_PREFIX_LEN`] digits).
    pub fn get_received(&self, query: &str) -> Result<ReceivedMessage, StoreError> {
        let id = self.resolve_message(query)?;
        self.received_message(id)?.ok_or(StoreError::NotFound {
            what: "message",
            query: query.to_string(),
        })
    }

    /// The received message with this id, if stored.
    pub fn received_message(
        &self,
        id: impl IntoMessageId,
    ) -> Result<Option<ReceivedMessage>, StoreError> {
        let id = id.into_message_id().0;
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(RECEIVED).st(&self.path)?;
        let Some(v) = t.get(id).st(&self.path)? else {
            return Ok(None);
        };
        let plain = self.open_checked("received", &id, v.value())?;
        decode_received(&plain, id)
            .map(Some)
            .map_err(|e| self.corrupt("received", &id, e.to_string()))
    }

    /// Records a sent message (before the envelope leaves, so a receipt always finds it).
    /// Recording the same id again replaces the record; receipts already recorded stay.
    pub fn record_sent(&self, msg: &SentMessage) -> Result<(), StoreError> {
        let id = msg.message_id.0;
        let record = encode_sent(msg)?;
        let sealed = self.seal("sent", &id, &record);
        let path = &self.path;
        let txn = self.begin()?;
        txn.open_table(SENT)
            .st(path)?
            .insert(id, sealed.as_slice())
            .st(path)?;
        txn.commit().st(path)
    }

    /// Keeps the sent envelope's exact bytes, so receipts arriving later can be checked
    /// against it (`Receipt::verify` needs the envelope).
    pub fn record_sent_envelope(
        &self,
        id: impl IntoMessageId,
        envelope_raw: &[u8],
    ) -> Result<(), StoreError> {
        let id = id.into_message_id().0;
        if envelope_raw.len() > MAX_ENVELOPE_LEN {
            return Err(StoreError::Invalid {
                what: "envelope",
                reason: format!("{} bytes exceed {MAX_ENVELOPE_LEN}", envelope_raw.len()),
            });
        }
        let txn = self.begin()?;
        self.insert_sealed(&txn, SENT_ENVELOPES, id, envelope_raw)?;
        txn.commit().st(&self.path)
    }

    /// The sent envelope kept by [`Self::record_sent_envelope`].
    pub fn sent_envelope(&self, id: impl IntoMessageId) -> Result<Option<Vec<u8>>, StoreError> {
        let id = id.into_message_id().0;
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(SENT_ENVELOPES).st(&self.path)?;
        let Some(v) = t.get(id).st(&self.path)? else {
            return Ok(None);
        };
        Ok(Some(
            self.open_checked("sent_envelopes", &id, v.value())?
                .to_vec(),
        ))
    }

    /// Records `recipient`'s receipt for sent message `message_id` (the caller has verified
    /// it). Returns `false` when a receipt from that recipient was already recorded (the
    /// first one is kept). A receipt for a message this store never sent, or from someone
    /// who was not a recipient, is refused.
    pub fn record_receipt(
        &self,
        message_id: impl IntoMessageId,
        recipient: IdentityId,
        receipt_raw: &[u8],
        received_at: UnixTime,
    ) -> Result<bool, StoreError> {
        let id = message_id.into_message_id();
        if receipt_raw.len() > MAX_RECEIPT_LEN {
            return Err(StoreError::Invalid {
                what: "receipt",
                reason: format!("{} bytes exceed {MAX_RECEIPT_LEN}", receipt_raw.len()),
            });
        }
        let unexpected = |reason| StoreError::UnexpectedReceipt {
            message_id: id.to_string(),
            recipient: recipient.to_string(),
            reason,
        };
        let path = &self.path;
        let txn = self.begin()?;
        {
            let sent = txn.open_table(SENT).st(path)?;
            let Some(v) = sent.get(id.0).st(path)? else {
                return Err(unexpected("no such message was sent from this store"));
            };
            let plain = self.open_checked("sent", &id.0, v.value())?;
            let msg =
                decode_sent(&plain).map_err(|e| self.corrupt("sent", &id.0, e.to_string()))?;
            if !msg.recipients.iter().any(|(r, _)| *r == recipient) {
                return Err(unexpected("not a recipient of that message"));
            }
            let mut receipts = txn.open_table(RECEIPTS).st(path)?;
            let key = (id.0, *recipient.as_bytes());
            if receipts.get(key).st(path)?.is_some() {
                return Ok(false);
            }
            let mut value = Vec::with_capacity(8 + receipt_raw.len());
            value.extend_from_slice(&received_at.0.to_be_bytes());
            value.extend_from_slice(receipt_raw);
            let sealed = self.seal("receipts", &receipt_key_bytes(&key), &value);
            receipts.insert(key, sealed.as_slice()).st(path)?;
        }
        txn.commit().st(path)?;
        Ok(true)
    }

    /// Records a relay's non-delivery notice for sent message `message_id`, under each of
    /// `recipients` (the caller has verified it). Returns `false` when every one of them had
    /// a notice on record already (the first is kept). A notice for a message this store
    /// never sent, or naming someone it was not sent to, is refused.
    pub fn record_notice(
        &self,
        message_id: impl IntoMessageId,
        recipients: &[IdentityId],
        notice_raw: &[u8],
        recorded_at: UnixTime,
    ) -> Result<bool, StoreError> {
        let id = message_id.into_message_id();
        if notice_raw.len() > MAX_NOTICE_LEN {
            return Err(StoreError::Invalid {
                what: "non-delivery notice",
                reason: format!("{} bytes exceed {MAX_NOTICE_LEN}", notice_raw.len()),
            });
        }
        let unexpected = |recipient: &IdentityId, reason| StoreError::UnexpectedReceipt {
            message_id: id.to_string(),
            recipient: recipient.to_string(),
            reason,
        };
        let path = &self.path;
        let txn = self.begin()?;
        let mut new = false;
        {
            let sent = txn.open_table(SENT).st(path)?;
            let Some(v) = sent.get(id.0).st(path)? else {
                let first = recipients
                    .first()
                    .copied()
                    .unwrap_or(IdentityId::from_bytes([0; 32]));
                return Err(unexpected(
                    &first,
                    "no such message was sent from this store",
                ));
            };
            let plain = self.open_checked("sent", &id.0, v.value())?;
            let msg =
                decode_sent(&plain).map_err(|e| self.corrupt("sent", &id.0, e.to_string()))?;
            if let Some(r) = recipients
                .iter()
                .find(|r| !msg.recipients.iter().any(|(m, _)| m == *r))
            {
                return Err(unexpected(r, "not a recipient of that message"));
            }
            let mut notices = txn.open_table(NOTICES).st(path)?;
            let mut value = Vec::with_capacity(8 + notice_raw.len());
            value.extend_from_slice(&recorded_at.0.to_be_bytes());
            value.extend_from_slice(notice_raw);
            for recipient in recipients {
                let key = (id.0, *recipient.as_bytes());
                if notices.get(key).st(path)?.is_some() {
                    continue;
                }
                let sealed = self.seal("notices", &receipt_key_bytes(&key), &value);
                notices.insert(key, sealed.as_slice()).st(path)?;
                new = true;
            }
        }
        txn.commit().st(path)?;
        Ok(new)
    }

    /// Every sent message with its receipts, newest first.
    pub fn sent(&self) -> Result<Vec<SentSummary>, StoreError> {
        let txn = self.db.begin_read().st(&self.path)?;
        let sent = txn.open_table(SENT).st(&self.path)?;
        let receipts = txn.open_table(RECEIPTS).st(&self.path)?;
        let notices = txn.open_table(NOTICES).st(&self.path)?;
        let mut out = Vec::new();
        for entry in sent.iter().st(&self.path)? {
            let (k, v) = entry.st(&self.path)?;
            let id = k.value();
            out.push(self.sent_summary(&receipts, &notices, &id, v.value())?);
        }
        out.sort_by(|a, b| {
            b.message
                .sent_at
                .cmp(&a.message.sent_at)
                .then(b.message.message_id.cmp(&a.message.message_id))
        });
        Ok(out)
    }

    /// One sent message with its receipts.
    pub fn get_sent(&self, id: impl IntoMessageId) -> Result<Option<SentSummary>, StoreError> {
        let id = id.into_message_id().0;
        let txn = self.db.begin_read().st(&self.path)?;
        let sent = txn.open_table(SENT).st(&self.path)?;
        let receipts = txn.open_table(RECEIPTS).st(&self.path)?;
        let notices = txn.open_table(NOTICES).st(&self.path)?;
        let Some(v) = sent.get(id).st(&self.path)? else {
            return Ok(None);
        };
        self.sent_summary(&receipts, &notices, &id, v.value())
            .map(Some)
    }

    /// Adds or replaces (by subject id) a contact's certificate. The caller validated it.
    pub fn upsert_contact(&self, cert: &MemberCertificate) -> Result<(), StoreError> {
        let txn = self.begin()?;
        self.insert_sealed(&txn, CONTACTS, *cert.subject().as_bytes(), cert.raw())?;
        txn.commit().st(&self.path)
    }

    /// Adds or replaces a contact's certificate and remembers its verified prekey bundle
    /// (`raw`), in one transaction. The caller verified the bundle.
    pub fn remember_prekey_bundle(
        &self,
        cert: &MemberCertificate,
        raw: &[u8],
    ) -> Result<(), StoreError> {
        let id = *cert.subject().as_bytes();
        let txn = self.begin()?;
        self.insert_sealed(&txn, CONTACTS, id, cert.raw())?;
        self.insert_sealed(&txn, BUNDLES, id, raw)?;
        txn.commit().st(&self.path)
    }

    /// The last prekey bundle remembered for `id` (to be verified again before use).
    pub fn prekey_bundle(&self, id: &IdentityId) -> Result<Option<Vec<u8>>, StoreError> {
        let key = *id.as_bytes();
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(BUNDLES).st(&self.path)?;
        let Some(v) = t.get(key).st(&self.path)? else {
            return Ok(None);
        };
        self.open_checked("prekey_bundles", &key, v.value())
            .map(|plain| Some(plain.to_vec()))
    }

    /// The contact with identity `id`, if known.
    pub fn contact(&self, id: &IdentityId) -> Result<Option<MemberCertificate>, StoreError> {
        let key = *id.as_bytes();
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(CONTACTS).st(&self.path)?;
        let Some(v) = t.get(key).st(&self.path)? else {
            return Ok(None);
        };
        self.decode_contact(&key, v.value()).map(Some)
    }

    /// Every contact, by name.
    pub fn contacts(&self) -> Result<Vec<MemberCertificate>, StoreError> {
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(CONTACTS).st(&self.path)?;
        let mut out = Vec::new();
        for entry in t.iter().st(&self.path)? {
            let (k, v) = entry.st(&self.path)?;
            out.push(self.decode_contact(&k.value(), v.value())?);
        }
        out.sort_by(|a, b| a.name().cmp(b.name()).then(a.subject().cmp(&b.subject())));
        Ok(out)
    }

    /// Finds one contact by name (case-insensitive, exact) or by a prefix of its id or
    /// fingerprint (at least [`MIN_PREFIX_LEN`] hex digits; spaces ignored).
    pub fn find_contact(&self, query: &str) -> Result<MemberCertificate, StoreError> {
        let contacts = self.contacts()?;
        let by_name: Vec<&MemberCertificate> = contacts
            .iter()
            .filter(|c| c.name().eq_ignore_ascii_case(query.trim()))
            .collect();
        let matches = if by_name.is_empty() {
            match hex_prefix(query) {
                Some(prefix) => contacts
                    .iter()
                    .filter(|c| c.subject().to_string().starts_with(&prefix))
                    .collect(),
                None => Vec::new(),
            }
        } else {
            by_name
        };
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(StoreError::NotFound {
                what: "contact",
                query: query.to_string(),
            }),
            many => Err(StoreError::Ambiguous {
                what: "contact",
                query: query.to_string(),
                candidates: many
                    .iter()
                    .map(|c| format!("{} ({})", c.name(), c.subject().fingerprint()))
                    .collect(),
            }),
        }
    }

    fn resolve_message(&self, query: &str) -> Result<[u8; 16], StoreError> {
        let not_found = || StoreError::NotFound {
            what: "message",
            query: query.to_string(),
        };
        let prefix = hex_prefix(query).ok_or_else(not_found)?;
        let txn = self.db.begin_read().st(&self.path)?;
        let t = txn.open_table(RECEIVED_INDEX).st(&self.path)?;
        let mut found = Vec::new();
        for entry in t.iter().st(&self.path)? {
            let (k, _) = entry.st(&self.path)?;
            let id = k.value();
            if hex::encode(id).starts_with(&prefix) {
                found.push(id);
            }
        }
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(not_found()),
            many => Err(StoreError::Ambiguous {
                what: "message",
                query: query.to_string(),
                candidates: many.iter().map(hex::encode).collect(),
            }),
        }
    }

    fn sent_summary(
        &self,
        receipts: &impl redb::ReadableTable<([u8; 16], [u8; 32]), &'static [u8]>,
        notices: &impl redb::ReadableTable<([u8; 16], [u8; 32]), &'static [u8]>,
        id: &[u8; 16],
        sealed: &[u8],
    ) -> Result<SentSummary, StoreError> {
        let plain = self.open_checked("sent", id, sealed)?;
        let message = decode_sent(&plain).map_err(|e| self.corrupt("sent", id, e.to_string()))?;
        let mut out = Vec::with_capacity(message.recipients.len());
        for (recipient, name) in &message.recipients {
            let key = (*id, *recipient.as_bytes());
            let receipt = self
                .timed_record(receipts, "receipts", key)?
                .map(|(received_at, raw)| StoredReceipt { received_at, raw });
            let undelivered = self
                .timed_record(notices, "notices", key)?
                .map(|(recorded_at, raw)| StoredNotice { recorded_at, raw });
            let name = if name.is_empty() {
                self.contact(recipient)?
                    .map(|c| c.name().to_owned())
                    .unwrap_or_default()
            } else {
                name.clone()
            };
            out.push(RecipientReceipt {
                recipient: *recipient,
                name,
                receipt,
                undelivered,
            });
        }
        Ok(SentSummary {
            message,
            receipts: out,
        })
    }

    fn decode_contact(
        &self,
        id: &[u8; 32],
        sealed: &[u8],
    ) -> Result<MemberCertificate, StoreError> {
        let plain = self.open_checked("contacts", id, sealed)?;
        if plain.len() > MAX_CERTIFICATE_LEN {
            return Err(self.corrupt("contacts", id, "certificate too long".into()));
        }
        MemberCertificate::decode(&plain).map_err(|e| self.corrupt("contacts", id, e.to_string()))
    }

    fn decode_summary(&self, id: &[u8; 16], sealed: &[u8]) -> Result<ReceivedSummary, StoreError> {
        let plain = self.open_checked("received_index", id, sealed)?;
        decode_summary(&plain).map_err(|e| self.corrupt("received_index", id, e.to_string()))
    }

    /// Seals `plaintext` for `table` under `key` (the table's name and the key are its
    /// associated data) and inserts it, replacing any previous value.
    fn insert_sealed<const N: usize>(
        &self,
        txn: &redb::WriteTransaction,
        table: TableDefinition<'_, [u8; N], &[u8]>,
        key: [u8; N],
        plaintext: &[u8],
    ) -> Result<(), StoreError> {
        let sealed = self.seal(table.name(), &key, plaintext);
        txn.open_table(table)
            .st(&self.path)?
            .insert(key, sealed.as_slice())
            .st(&self.path)?;
        Ok(())
    }

    fn begin(&self) -> Result<redb::WriteTransaction, StoreError> {
        let mut txn = self.db.begin_write().st(&self.path)?;
        txn.set_durability(Durability::Immediate).st(&self.path)?;
        Ok(txn)
    }

    fn seal(&self, table: &str, key: &[u8], plaintext: &[u8]) -> Vec<u8> {
        seal_x_random(
            &self.key,
            &associated_data(table, key),
            plaintext,
            &mut liaison_crypto::rng::os_rng(),
        )
    }

    fn open_value(
        &self,
        table: &str,
        key: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, liaison_crypto::CryptoError> {
        open_x_random(&self.key, &associated_data(table, key), sealed).map(Zeroizing::new)
    }

    fn open_checked(
        &self,
        table: &'static str,
        key: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.open_value(table, key, sealed).map_err(|_| {
            self.corrupt(
                table,
                key,
                "does not authenticate under the store key (tampered or moved)".into(),
            )
        })
    }

    fn corrupt(&self, table: &'static str, key: &[u8], reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            table,
            key: hex::encode(key),
            reason,
        }
    }
}

fn associated_data(table: &str, key: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(AD_LABEL.len() + table.len() + key.len() + 2);
    ad.extend_from_slice(AD_LABEL);
    ad.push(0);
    ad.extend_from_slice(table.as_bytes());
    ad.push(0);
    ad.extend_from_slice(key);
    ad
}

impl MessageStore {
    /// A `be64(time) || bytes` record of `table` (receipts, notices) under `key`, opened.
    fn timed_record(
        &self,
        table: &impl redb::ReadableTable<([u8; 16], [u8; 32]), &'static [u8]>,
        name: &'static str,
        key: ([u8; 16], [u8; 32]),
    ) -> Result<Option<(UnixTime, Vec<u8>)>, StoreError> {
        let Some(v) = table.get(key).st(&self.path)? else {
            return Ok(None);
        };
        let kb = receipt_key_bytes(&key);
        let plain = self.open_checked(name, &kb, v.value())?;
        let (at, raw) = plain
            .split_first_chunk::<8>()
            .ok_or_else(|| self.corrupt(name, &kb, "shorter than 8 bytes".into()))?;
        Ok(Some((UnixTime(u64::from_be_bytes(*at)), raw.to_vec())))
    }
}

fn receipt_key_bytes(key: &([u8; 16], [u8; 32])) -> [u8; 48] {
    let mut out = [0u8; 48];
    out[..16].copy_from_slice(&key.0);
    out[16..].copy_from_slice(&key.1);
    out
}

/// Lower-case hex digits of `query` (spaces removed), if it is at least [`MIN_PREFIX_LEN`]
/// hex digits and nothing else.
fn hex_prefix(query: &str) -> Option<String> {
    let compact: String = query
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    (compact.len() >= MIN_PREFIX_LEN && compact.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(compact)
}

/// Maps any `redb` error to [`StoreError::Storage`] naming the file.
trait StorageResult<T> {
    fn st(self, path: &Path) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> StorageResult<T> for Result<T, E> {
    fn st(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Storage {
            path: path.to_owned(),
            reason: e.into().to_string(),
        })
    }
}
