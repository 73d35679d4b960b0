//! How an envelope's bytes are kept in the custody database: one *record* per body in the
//! envelopes table, and, for a large envelope, its bytes in *chunks* in [`ENVELOPE_CHUNKS`].
//!
//! A record in [`super::ENVELOPES`] is `be64(expires) || be32(flags | queue references) || message id (16) || inline
//! bytes`. Envelopes up to [`CHUNK_LEN`] bytes are inline. A larger one is stored in chunks of
//! [`CHUNK_LEN`] bytes keyed `(body number, index)`, its record carrying [`CHUNKED`] and no
//! inline bytes.
//!
//! Why: redb stores a value in one page whose size is a power of two, so a 64 MiB envelope
//! took a 128 MiB page: twice the bytes written and fsynced, and a 128 MiB buffer to fill. A
//! chunk of 1 MiB minus 4 KiB fits a 1 MiB page with room for the leaf's own header. Releasing
//! one of several queue references rewrites only the 28-byte record, never the body.

use redb::{ReadableTable, Table, TableDefinition};

use liaison_crypto::kdf::TranscriptField;
use liaison_crypto::labels;
use liaison_proto::envelope::{EnvelopeHeader, envelope_hash_of_pieces};

use super::{StoreError, UndeliveredEnvelope};

/// Chunks of large envelopes: `(body number, index)` → at most [`CHUNK_LEN`] bytes.
pub(crate) const ENVELOPE_CHUNKS: TableDefinition<'_, (u64, u32), &[u8]> =
    TableDefinition::new("envelope_chunks");

/// Largest inline envelope, and the size of every chunk but the last.
pub(super) const CHUNK_LEN: usize = (1 << 20) - 4096;

/// Flag in the references field: the bytes are in [`ENVELOPE_CHUNKS`].
pub(super) const CHUNKED: u32 = 1 << 31;

/// Bytes before the inline envelope in a record: expiry, flags and references, message id.
pub(super) const RECORD_HEADER: usize = 8 + 4 + 16;

/// A stored record, decoded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Record<'a> {
    /// Unix seconds after which the envelope is dropped.
    pub(super) expires: u64,
    /// Queue entries still holding it.
    pub(super) refs: u32,
    /// The envelope's message id.
    pub(super) id: [u8; 16],
    /// Whether the bytes are in chunks (then `inline` is empty).
    pub(super) chunked: bool,
    /// The envelope's bytes when it is small enough to be inline.
    pub(super) inline: &'a [u8],
}

/// Encodes a record; `raw` is the inline envelope (empty when `chunked`).
pub(super) fn encode_record(
    expires: u64,
    refs: u32,
    id: &[u8; 16],
    chunked: bool,
    raw: &[u8],
) -> Vec<u8> {
    let flags = if chunked { CHUNKED } else { 0 };
    let mut out = Vec::with_capacity(RECORD_HEADER + raw.len());
    out.extend_from_slice(&expires.to_be_bytes());
    out.extend_from_slice(&(flags | refs).to_be_bytes());
    out.extend_from_slice(id);
    out.extend_from_slice(raw);
    out
}

/// Splits a stored record into its fields.
pub(super) fn decode_record(record: &[u8]) -> Result<Record<'_>, StoreError> {
    let corrupt = || StoreError::Corrupt("envelope record");
    let (expires, rest) = record.split_first_chunk::<8>().ok_or_else(corrupt)?;
    let (refs, rest) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
    let (id, inline) = rest.split_first_chunk::<16>().ok_or_else(corrupt)?;
    let refs = u32::from_be_bytes(*refs);
    let chunked = refs & CHUNKED != 0;
    if chunked && !inline.is_empty() {
        return Err(corrupt());
    }
    Ok(Record {
        expires: u64::from_be_bytes(*expires),
        refs: refs & !CHUNKED,
        id: *id,
        chunked,
        inline,
    })
}

/// Writes the record of envelope `body` into `envelopes` and, for a large envelope, its bytes
/// into `chunks`. An inline record is written straight into the database's page (no
/// intermediate copy of the envelope).
pub(super) fn store(
    envelopes: &mut Table<'_, u64, &'static [u8]>,
    chunks: &mut Table<'_, (u64, u32), &'static [u8]>,
    body: u64,
    (expires, refs, id): (u64, u32, &[u8; 16]),
    raw: &[u8],
) -> Result<(), StoreError> {
    if raw.len() <= CHUNK_LEN {
        let mut slot = envelopes.insert_reserve(body, RECORD_HEADER + raw.len())?;
        let slot = slot.as_mut();
        let (head, rest) = slot.split_at_mut(RECORD_HEADER);
        head.copy_from_slice(&encode_record(expires, refs, id, false, &[]));
        rest.copy_from_slice(raw);
        return Ok(());
    }
    for (index, chunk) in raw.chunks(CHUNK_LEN).enumerate() {
        // At most MAX_ENVELOPE_BYTES / CHUNK_LEN chunks: far below u32::MAX.
        let index = u32::try_from(index).map_err(|_| StoreError::Invalid("envelope too large"))?;
        chunks.insert((body, index), chunk)?;
    }
    envelopes.insert(body, encode_record(expires, refs, id, true, &[]).as_slice())?;
    Ok(())
}

/// The envelope bytes of a decoded record of body `body`: its inline bytes, or its chunks
/// joined. `max` bounds what a corrupt database could make us allocate.
pub(super) fn load(
    chunks: &impl ReadableTable<(u64, u32), &'static [u8]>,
    body: u64,
    record: &Record<'_>,
    max: usize,
) -> Result<Vec<u8>, StoreError> {
    if !record.chunked {
        return Ok(record.inline.to_vec());
    }
    // Check every chunk and sum their sizes first, so the envelope is built with one
    // allocation and one copy (growing a Vec chunk by chunk re-copied it several times).
    let mut pieces = Vec::new();
    let mut total = 0usize;
    for (expected, item) in (0u32..).zip(chunks.range((body, 0)..=(body, u32::MAX))?) {
        let (key, chunk) = item?;
        let len = chunk.value().len();
        if key.value().1 != expected || len == 0 || len > CHUNK_LEN {
            return Err(StoreError::Corrupt("envelope chunks"));
        }
        total += len;
        if total > max {
            return Err(StoreError::Corrupt(
                "envelope larger than the store's limit",
            ));
        }
        pieces.push(chunk);
    }
    let mut out = Vec::with_capacity(total);
    for chunk in &pieces {
        out.extend_from_slice(chunk.value());
    }
    if out.len() <= CHUNK_LEN {
        return Err(StoreError::Corrupt("envelope chunks"));
    }
    Ok(out)
}

/// What a non-delivery notice needs of the envelope in record `record` of body `body`: its
/// header and envelope hash, the hash taken chunk by chunk for a large one (never joined).
/// `None` for a receipt or a notice (they are not envelopes: no notice about them) or a record
/// that does not read as one.
pub(super) fn undelivered(
    chunks: &impl ReadableTable<(u64, u32), &'static [u8]>,
    body: u64,
    record: &[u8],
) -> Option<UndeliveredEnvelope> {
    let record = decode_record(record).ok()?;
    if !record.chunked {
        return Some(UndeliveredEnvelope {
            header: EnvelopeHeader::decode_prefix(record.inline).ok()?,
            envelope_hash: envelope_hash_of_pieces(record.inline.len(), [record.inline]).ok()?,
        });
    }
    // Two passes: the length first (the hash's prefix), then the bytes.
    let mut len = 0usize;
    let mut header = None;
    for (expected, item) in (0u32..).zip(chunks.range((body, 0)..=(body, u32::MAX)).ok()?) {
        let (key, chunk) = item.ok()?;
        if key.value().1 != expected {
            return None; // not the chunks `load` would join: sign nothing over them
        }
        if header.is_none() {
            header = Some(EnvelopeHeader::decode_prefix(chunk.value()).ok()?);
        }
        len = len.checked_add(chunk.value().len())?;
    }
    let mut hash = TranscriptField::new(labels::ENVELOPE_HASH, len).ok()?;
    for item in chunks.range((body, 0)..=(body, u32::MAX)).ok()? {
        hash.update(item.ok()?.1.value()).ok()?;
    }
    Some(UndeliveredEnvelope {
        header: header?,
        envelope_hash: hash.finish().ok()?,
    })
}

/// Removes the chunks of body `body`, if it has any.
pub(super) fn remove_chunks(
    chunks: &mut Table<'_, (u64, u32), &'static [u8]>,
    body: u64,
) -> Result<(), StoreError> {
    chunks.retain_in((body, 0)..=(body, u32::MAX), |_, _| false)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::ReadableTableMetadata;

    use super::*;

    #[test]
    fn records_round_trip_and_the_flag_is_not_a_reference() {
        let r = encode_record(7, 3, &[9; 16], false, b"abc");
        let d = decode_record(&r).unwrap();
        assert_eq!(
            (d.expires, d.refs, d.id, d.chunked, d.inline),
            (7, 3, [9; 16], false, &b"abc"[..])
        );
        let r = encode_record(7, 3, &[9; 16], true, &[]);
        let d = decode_record(&r).unwrap();
        assert_eq!((d.refs, d.chunked, d.inline.len()), (3, true, 0));
        // A chunked record with inline bytes, or a short one, is corrupt, not a panic.
        let mut bad = r.clone();
        bad.push(1);
        assert!(decode_record(&bad).is_err());
        assert!(decode_record(&r[..20]).is_err());
    }

    #[test]
    fn large_bodies_are_chunked_and_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("c.redb")).unwrap();
        let big: Vec<u8> = (0..3 * CHUNK_LEN + 5).map(|i| (i % 251) as u8).collect();
        let small = vec![4u8; CHUNK_LEN];
        let txn = db.begin_write().unwrap();
        {
            let mut envelopes = txn.open_table(super::super::ENVELOPES).unwrap();
            let mut chunks = txn.open_table(ENVELOPE_CHUNKS).unwrap();
            store(&mut envelopes, &mut chunks, 1, (5, 1, &[1; 16]), &big).unwrap();
            store(&mut envelopes, &mut chunks, 2, (5, 2, &[2; 16]), &small).unwrap();
            assert_eq!(chunks.len().unwrap(), 4, "only the large body is chunked");
            let rec = envelopes.get(1).unwrap().unwrap().value().to_vec();
            assert_eq!(rec.len(), RECORD_HEADER, "a large body is not inline");
            let big_rec = decode_record(&rec).unwrap();
            assert_eq!(
                (big_rec.refs, big_rec.id, big_rec.chunked),
                (1, [1; 16], true)
            );
            assert_eq!(load(&chunks, 1, &big_rec, usize::MAX).unwrap(), big);
            assert!(
                load(&chunks, 1, &big_rec, big.len() - 1).is_err(),
                "a limit below the body's size refuses it"
            );
            let rec = envelopes.get(2).unwrap().unwrap().value().to_vec();
            let small_rec = decode_record(&rec).unwrap();
            assert_eq!(
                (small_rec.expires, small_rec.refs, small_rec.chunked),
                (5, 2, false)
            );
            assert_eq!(load(&chunks, 2, &small_rec, usize::MAX).unwrap(), small);
            // A missing chunk is corruption, not a shorter envelope.
            chunks.remove((1, 1)).unwrap();
            assert!(load(&chunks, 1, &big_rec, usize::MAX).is_err());
            remove_chunks(&mut chunks, 1).unwrap();
            assert_eq!(chunks.len().unwrap(), 0);
        }
        txn.commit().unwrap();
    }
}
