//! The custody tables' layout version, checked when the store opens, and the conversion of a
//! database written in layout 1 (layout 2 needs none).
//!
//! Layout 1 keyed envelope bodies, queue entries' values and the expiry index by message id:
//! random keys, so every arrival dirtied its own leaf and branch pages. Layout 2 keys them by
//! *body number*, the sequence number of the envelope's first queue entry, which grows with
//! every arrival (see [`super::ENVELOPES`]). The version is one byte under `store_format` in
//! the `meta` table; a database without it is layout 1 (or new) and is converted in the same
//! write transaction that records the version, so a crash leaves it wholly in one layout.
//! Layout 3 stores envelopes over 1 MiB in chunks ([`super::body`]); it adds a table and a
//! record flag that layout 2 never sets, so a layout-2 database is only re-marked.

use std::collections::HashMap;

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::body::{self, ENVELOPE_CHUNKS};
use super::{ENVELOPES, EXPIRY, QUEUE, STORE_FORMAT, StoreError};
use crate::audit::META;

const FORMAT_KEY: &str = "store_format";
const V1_ENVELOPES: TableDefinition<'_, [u8; 16], &[u8]> = TableDefinition::new("envelopes");
const V1_QUEUE: TableDefinition<'_, ([u8; 32], u64), [u8; 16]> = TableDefinition::new("queue");
const V1_EXPIRY: TableDefinition<'_, (u64, [u8; 16]), ()> = TableDefinition::new("expiry");
/// Layout 1 record: `be64(expires) || be32(queue references) || envelope bytes`.
const V1_RECORD_HEADER: usize = 8 + 4;

/// Checks the recorded layout inside `txn`, converting a layout-1 database. Returns how many
/// envelopes were converted.
pub(super) fn ensure(txn: &WriteTransaction) -> Result<u64, StoreError> {
    let mut meta = txn.open_table(META)?;
    let recorded = meta.get(FORMAT_KEY)?.map(|v| v.value().to_vec());
    // Layout 3 only adds the chunk table (created here, so read transactions can open it)
    // and a flag no layout-2 record carries: a layout-2 file is a valid layout-3 file.
    txn.open_table(ENVELOPE_CHUNKS)?;
    let converted = match recorded.as_deref() {
        None => convert_v1(txn)?,
        Some(&[v]) if v == STORE_FORMAT => return Ok(0),
        Some(&[2]) => 0,
        Some(&[v]) if v > STORE_FORMAT => return Err(StoreError::UnsupportedFormat(v)),
        Some(_) => return Err(StoreError::Corrupt("store format")),
    };
    meta.insert(FORMAT_KEY, [STORE_FORMAT].as_slice())?;
    Ok(converted)
}

/// Rewrites layout 1's tables (absent in a new database) into layout 2's and deletes them.
/// Queue sequence numbers, dedup records, depths, counters and the audit log are unchanged.
fn convert_v1(txn: &WriteTransaction) -> Result<u64, StoreError> {
    // Each envelope's body number and how many queue entries hold it.
    let mut bodies: HashMap<[u8; 16], (u64, u32)> = HashMap::new();
    {
        let old_queue = txn.open_table(V1_QUEUE)?;
        let mut queue = txn.open_table(QUEUE)?;
        for item in old_queue.range::<([u8; 32], u64)>(..)? {
            let (key, id) = item?;
            let (destination, seq) = key.value();
            let (body, refs) = bodies.entry(id.value()).or_insert((seq, 0));
            *refs = refs.saturating_add(1);
            queue.insert((destination, seq), *body)?;
        }
        let old_envelopes = txn.open_table(V1_ENVELOPES)?;
        let mut envelopes = txn.open_table(ENVELOPES)?;
        let mut expiry = txn.open_table(EXPIRY)?;
        for (id, &(body, refs)) in &bodies {
            let record = old_envelopes
                .get(*id)?
                .ok_or(StoreError::Corrupt("queued envelope without body"))?;
            let record = record.value();
            let (Some((expires, _)), Some(raw)) = (
                record.split_first_chunk::<8>(),
                record.get(V1_RECORD_HEADER..),
            ) else {
                return Err(StoreError::Corrupt("envelope record"));
            };
            let expires = u64::from_be_bytes(*expires);
            envelopes.insert(
                body,
                body::encode_record(expires, refs, id, false, raw).as_slice(),
            )?;
            expiry.insert((expires, body), ())?;
        }
    }
    // Bodies no queue holds any more are not carried over: layout 1 deleted a body with its
    // last queue entry, so there are none unless the file was damaged.
    txn.delete_table(V1_QUEUE)?;
    txn.delete_table(V1_ENVELOPES)?;
    txn.delete_table(V1_EXPIRY)?;
    Ok(bodies.len() as u64)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use liaison_crypto::sign::SigningKey;
    use liaison_crypto::{Seed32, Suite};
    use redb::ReadableDatabase;

    use super::*;
    use crate::store::{
        COUNTERS, CustodyStore, DEPTH, Destination, Handoff, Incoming, SEEN, StoreConfig,
    };

    fn v1_record(expires: u64, refs: u32, raw: &[u8]) -> Vec<u8> {
        let mut out = expires.to_be_bytes().to_vec();
        out.extend_from_slice(&refs.to_be_bytes());
        out.extend_from_slice(raw);
        out
    }

    /// A database written by the layout-1 store: A queued for x (seq 0) and y (seq 1), B for
    /// x (seq 2), with their dedup records, depths and counters.
    fn write_v1(path: &std::path::Path) {
        let db = redb::Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut envelopes = txn.open_table(V1_ENVELOPES).unwrap();
            envelopes
                .insert([0xa; 16], v1_record(5_000, 2, b"envelope A").as_slice())
                .unwrap();
            envelopes
                .insert([0xb; 16], v1_record(6_000, 1, b"envelope B").as_slice())
                .unwrap();
            let mut queue = txn.open_table(V1_QUEUE).unwrap();
            queue.insert(([1; 32], 0), [0xa; 16]).unwrap();
            queue.insert(([2; 32], 1), [0xa; 16]).unwrap();
            queue.insert(([1; 32], 2), [0xb; 16]).unwrap();
            let mut expiry = txn.open_table(V1_EXPIRY).unwrap();
            expiry.insert((5_000, [0xa; 16]), ()).unwrap();
            expiry.insert((6_000, [0xb; 16]), ()).unwrap();
            let mut seen = txn.open_table(SEEN).unwrap();
            seen.insert([0xa; 16], 8_600).unwrap();
            seen.insert([0xb; 16], 9_600).unwrap();
            let mut depth = txn.open_table(DEPTH).unwrap();
            depth.insert([1; 32], 2).unwrap();
            depth.insert([2; 32], 1).unwrap();
            let mut counters = txn.open_table(COUNTERS).unwrap();
            counters.insert("queue_seq", 3).unwrap();
            counters.insert("stored", 2).unwrap();
        }
        txn.commit().unwrap();
    }

    fn key() -> Arc<SigningKey> {
        Arc::new(SigningKey::from_seed(
            Suite::Lq2,
            Seed32::from_bytes([4; 32]),
        ))
    }

    #[tokio::test]
    async fn a_layout_1_database_is_converted_once_and_keeps_its_queues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        write_v1(&path);
        let (x, y) = (Destination([1; 32]), Destination([2; 32]));
        let store = CustodyStore::open(&path, key(), StoreConfig::default()).unwrap();
        let at_x = store.pending(x, None, 10).await.unwrap();
        let summary: Vec<(u64, [u8; 16], Vec<u8>, u64)> = at_x
            .iter()
            .map(|q| (q.seq, q.message_id, q.raw.clone(), q.expires))
            .collect();
        assert_eq!(
            summary,
            vec![
                (0, [0xa; 16], b"envelope A".to_vec(), 5_000),
                (2, [0xb; 16], b"envelope B".to_vec(), 6_000)
            ]
        );
        let at_y = store.pending(y, None, 10).await.unwrap();
        assert_eq!((at_y.len(), at_y[0].seq), (1, 1));
        // Dedup records carried over; the next arrival continues the sequence after the stored one.
        let again = Incoming {
            message_id: [0xa; 16],
            raw: b"envelope A".to_vec(),
            expires: 5_000,
            from: [9; 32],
            destinations: vec![x],
            spool: None,
        };
        assert_eq!(
            store.accept(again, 1_000).await.unwrap(),
            crate::store::AcceptOutcome::Duplicate
        );
        let c = Incoming {
            message_id: [0xc; 16],
            raw: b"envelope C".to_vec(),
            expires: 7_000,
            from: [9; 32],
            destinations: vec![y],
            spool: None,
        };
        store.accept(c, 1_000).await.unwrap();
        // Numbers are handed out before the dedup check, so the duplicate used 3: a gap,
        // never a number used twice.
        assert_eq!(store.pending(y, Some(1), 10).await.unwrap()[0].seq, 4);
        // A's body was converted with two references: it outlives its first release.
        assert!(
            store
                .acknowledge(x, 0, Handoff::Forwarded, 1_000)
                .await
                .unwrap()
        );
        assert_eq!(
            store.pending(y, None, 1).await.unwrap()[0].raw,
            b"envelope A"
        );
        assert!(
            store
                .acknowledge(y, 1, Handoff::Forwarded, 1_000)
                .await
                .unwrap()
        );
        // B expires through the converted index.
        assert_eq!(store.sweep_expired(6_000).await.unwrap(), vec![[0xb; 16]]);
        assert_eq!(store.depth(x).await.unwrap(), 0);
        store.close().await.unwrap();
        drop(store);

        let db = redb::Database::create(&path).unwrap();
        {
            let txn = db.begin_write().unwrap();
            assert_eq!(ensure(&txn).unwrap(), 0, "already the current layout");
            txn.abort().unwrap();
        }
        let txn = db.begin_read().unwrap();
        assert!(txn.open_table(V1_QUEUE).is_err(), "layout 1 tables deleted");
        let envelopes = txn.open_table(ENVELOPES).unwrap();
        let left: Vec<u64> = envelopes
            .range::<u64>(..)
            .unwrap()
            .map(|i| i.unwrap().0.value())
            .collect();
        assert_eq!(left, vec![4], "only C's body, numbered by its queue entry");
    }

    /// A database at `path` recording layout `version` and nothing else.
    fn mark_layout(path: &std::path::Path, version: u8) {
        let db = redb::Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert(FORMAT_KEY, [version].as_slice())
            .unwrap();
        txn.commit().unwrap();
    }

    #[tokio::test]
    async fn a_layout_2_database_is_re_marked_without_conversion() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        mark_layout(&path, 2);
        let store = CustodyStore::open(&path, key(), StoreConfig::default()).unwrap();
        store.close().await.unwrap();
        drop(store);
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        assert_eq!(
            meta.get(FORMAT_KEY).unwrap().unwrap().value(),
            [STORE_FORMAT].as_slice()
        );
        assert!(
            txn.open_table(ENVELOPE_CHUNKS).is_ok(),
            "chunk table created"
        );
    }

    #[test]
    fn a_newer_layout_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.redb");
        mark_layout(&path, STORE_FORMAT + 1);
        let err = CustodyStore::open(&path, key(), StoreConfig::default()).unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedFormat(v) if v == STORE_FORMAT + 1),
            "{err}"
        );
    }
}
