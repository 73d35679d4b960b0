//! Byte encodings of the message store's records (`spec/client-storage.md` §4). Every
//! record starts with a version byte; every length is bounded on both sides; decoding never
//! panics. The records are sealed by the caller ([`super::MessageStore`]).

use liaison_crypto::IdentityId;
use liaison_proto::certificate::MAX_NAME_LEN;
use liaison_proto::codec::Reader;
use liaison_proto::envelope::{
    ContentType, MAX_ENVELOPE_LEN, MAX_FILENAME_LEN, MAX_RECIPIENTS, MESSAGE_ID_LEN, MessageId,
};
use liaison_proto::{Classification, DecodeError, Tlp, UnixTime};
use zeroize::Zeroizing;

use super::{ReceivedMessage, ReceivedSummary, SentMessage, StoreError};

/// Version byte every record starts with.
const RECORD_VERSION: u8 = 1;
/// Longest fingerprint string kept.
const MAX_FINGERPRINT_LEN: usize = 64;

fn put_str(out: &mut Vec<u8>, s: &str, max: usize, what: &'static str) -> Result<(), StoreError> {
    if s.len() > max {
        return Err(StoreError::Invalid {
            what,
            reason: format!("{} bytes exceed {max}", s.len()),
        });
    }
    out.extend_from_slice(&(s.len() as u16).to_be_bytes()); // ok: max ≤ u16::MAX
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn put_content_type(out: &mut Vec<u8>, ct: &ContentType) -> Result<(), StoreError> {
    out.push(ct.wire());
    if let ContentType::Attachment { filename } = ct {
        put_str(out, filename, MAX_FILENAME_LEN, "attachment name")?;
    }
    Ok(())
}

fn get_content_type(r: &mut Reader<'_>) -> Result<ContentType, DecodeError> {
    Ok(match r.u8("content type")? {
        0x01 => ContentType::Stix21Bundle,
        0x02 => ContentType::MispEvent,
        0x03 => ContentType::Text,
        0x04 => ContentType::Attachment {
            filename: r
                .string_u16("attachment name", MAX_FILENAME_LEN)?
                .to_owned(),
        },
        other => {
            return Err(DecodeError::UnknownValue {
                what: "content type",
                value: u64::from(other),
            });
        }
    })
}

fn put_header(
    out: &mut Vec<u8>,
    sender: &IdentityId,
    name: &str,
    fingerprint: &str,
    classification: Classification,
    tlp: Tlp,
    ct: &ContentType,
) -> Result<(), StoreError> {
    out.extend_from_slice(sender.as_bytes());
    put_str(out, name, MAX_NAME_LEN, "sender name")?;
    put_str(out, fingerprint, MAX_FINGERPRINT_LEN, "sender fingerprint")?;
    out.push(classification.wire());
    out.push(tlp.wire());
    put_content_type(out, ct)
}

type Header = (IdentityId, String, String, Classification, Tlp, ContentType);

fn get_header(r: &mut Reader<'_>) -> Result<Header, DecodeError> {
    Ok((
        IdentityId::from_bytes(r.array("sender")?),
        r.string_u16("sender name", MAX_NAME_LEN)?.to_owned(),
        r.string_u16("sender fingerprint", MAX_FINGERPRINT_LEN)?
            .to_owned(),
        Classification::from_wire(r.u8("classification")?)?,
        Tlp::from_wire(r.u8("tlp")?)?,
        get_content_type(r)?,
    ))
}

pub(super) fn encode_received(m: &ReceivedMessage) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    if m.envelope_raw.len() > MAX_ENVELOPE_LEN || m.plaintext.len() > MAX_ENVELOPE_LEN {
        return Err(StoreError::Invalid {
            what: "received message",
            reason: format!("larger than {MAX_ENVELOPE_LEN} bytes"),
        });
    }
    // Reserve it all so no reallocation leaves a copy of the plaintext behind.
    let mut out = Zeroizing::new(Vec::with_capacity(
        1 + 4 + m.envelope_raw.len() + 1024 + 8 + 4 + m.plaintext.len(),
    ));
    out.push(RECORD_VERSION);
    out.extend_from_slice(&(m.envelope_raw.len() as u32).to_be_bytes()); // ok: bounded above
    out.extend_from_slice(&m.envelope_raw);
    put_header(
        &mut out,
        &m.sender,
        &m.sender_name,
        &m.sender_fingerprint,
        m.classification,
        m.tlp,
        &m.content_type,
    )?;
    out.extend_from_slice(&m.received_at.0.to_be_bytes());
    out.extend_from_slice(&(m.plaintext.len() as u32).to_be_bytes()); // ok: bounded above
    out.extend_from_slice(&m.plaintext);
    Ok(out)
}

pub(super) fn decode_received(
    bytes: &[u8],
    id: [u8; MESSAGE_ID_LEN],
) -> Result<ReceivedMessage, DecodeError> {
    let mut r = Reader::new(bytes);
    check_version(&mut r)?;
    let envelope_raw = r.bytes_u32("envelope", MAX_ENVELOPE_LEN)?.to_vec();
    let (sender, sender_name, sender_fingerprint, classification, tlp, content_type) =
        get_header(&mut r)?;
    let received_at = UnixTime(r.u64("received at")?);
    let plaintext = Zeroizing::new(r.bytes_u32("content", MAX_ENVELOPE_LEN)?.to_vec());
    r.expect_end("received message")?;
    Ok(ReceivedMessage {
        message_id: MessageId(id),
        envelope_raw,
        sender,
        sender_name,
        sender_fingerprint,
        classification,
        tlp,
        content_type,
        plaintext,
        received_at,
    })
}

pub(super) fn encode_summary(s: &ReceivedSummary) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(400);
    out.push(RECORD_VERSION);
    out.extend_from_slice(&s.message_id.0);
    put_header(
        &mut out,
        &s.sender,
        &s.sender_name,
        &s.sender_fingerprint,
        s.classification,
        s.tlp,
        &s.content_type,
    )?;
    out.extend_from_slice(&s.size.to_be_bytes());
    out.extend_from_slice(&s.received_at.0.to_be_bytes());
    out.push(u8::from(s.receipt_sent));
    Ok(out)
}

pub(super) fn decode_summary(bytes: &[u8]) -> Result<ReceivedSummary, DecodeError> {
    let mut r = Reader::new(bytes);
    check_version(&mut r)?;
    let message_id = MessageId(r.array("message id")?);
    let (sender, sender_name, sender_fingerprint, classification, tlp, content_type) =
        get_header(&mut r)?;
    let size = r.u64("size")?;
    let received_at = UnixTime(r.u64("received at")?);
    let receipt_sent = match r.u8("receipt sent")? {
        0 => false,
        1 => true,
        other => {
            return Err(DecodeError::UnknownValue {
                what: "receipt sent flag",
                value: u64::from(other),
            });
        }
    };
    r.expect_end("received summary")?;
    Ok(ReceivedSummary {
        message_id,
        sender,
        sender_name,
        sender_fingerprint,
        classification,
        tlp,
        content_type,
        size,
        received_at,
        receipt_sent,
    })
}

pub(super) fn encode_sent(m: &SentMessage) -> Result<Vec<u8>, StoreError> {
    if m.recipients.is_empty() || m.recipients.len() > MAX_RECIPIENTS {
        return Err(StoreError::Invalid {
            what: "sent message",
            reason: format!(
                "{} recipients outside 1..={MAX_RECIPIENTS}",
                m.recipients.len()
            ),
        });
    }
    let mut out = Vec::with_capacity(64 + m.recipients.len() * 64);
    out.push(RECORD_VERSION);
    out.extend_from_slice(&m.message_id.0);
    out.push(m.recipients.len() as u8); // ok: ≤ MAX_RECIPIENTS (64)
    for (id, name) in &m.recipients {
        out.extend_from_slice(id.as_bytes());
        put_str(&mut out, name, MAX_NAME_LEN, "recipient name")?;
    }
    out.push(m.classification.wire());
    out.push(m.tlp.wire());
    put_content_type(&mut out, &m.content_type)?;
    out.extend_from_slice(&m.sent_at.0.to_be_bytes());
    out.extend_from_slice(&m.size.to_be_bytes());
    Ok(out)
}

pub(super) fn decode_sent(bytes: &[u8]) -> Result<SentMessage, DecodeError> {
    let mut r = Reader::new(bytes);
    check_version(&mut r)?;
    let message_id = MessageId(r.array("message id")?);
    let n = usize::from(r.u8("recipient count")?);
    if n > MAX_RECIPIENTS {
        return Err(DecodeError::TooLong {
            what: "recipients",
            len: n,
            max: MAX_RECIPIENTS,
        });
    }
    let mut recipients = Vec::with_capacity(n);
    for _ in 0..n {
        let id = IdentityId::from_bytes(r.array("recipient")?);
        let name = r.string_u16("recipient name", MAX_NAME_LEN)?.to_owned();
        recipients.push((id, name));
    }
    let classification = Classification::from_wire(r.u8("classification")?)?;
    let tlp = Tlp::from_wire(r.u8("tlp")?)?;
    let content_type = get_content_type(&mut r)?;
    let sent_at = UnixTime(r.u64("sent at")?);
    let size = r.u64("size")?;
    r.expect_end("sent message")?;
    Ok(SentMessage {
        message_id,
        recipients,
        classification,
        tlp,
        content_type,
        sent_at,
        size,
    })
}

fn check_version(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    match r.u8("record version")? {
        RECORD_VERSION => Ok(()),
        other => Err(DecodeError::UnknownValue {
            what: "record version",
            value: u64::from(other),
        }),
    }
}
