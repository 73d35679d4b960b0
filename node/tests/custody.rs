//! The custody store on a real redb file: durability before acknowledgement, group commit,
//! de-duplication, restart, expiry, and an audit log that detects tampering.

use std::sync::Arc;

use liaison_crypto::sign::SigningKey;
use liaison_crypto::{Seed32, Suite};
use liaison_node::audit::{self, AuditError, AuditKind};
use liaison_node::store::{
    AcceptOutcome, CustodyStore, Destination, Handoff, Incoming, StoreConfig, StoreError,
};
use redb::ReadableTable as _;

const NOW: u64 = 1_800_000_000;

fn node_key(b: u8) -> Arc<SigningKey> {
    Arc::new(SigningKey::from_seed(
        Suite::Lq2,
        Seed32::from_bytes([b; 32]),
    ))
}

fn envelope(n: u32, dest: &[Destination]) -> Incoming {
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    Incoming {
        message_id: id,
        raw: format!("envelope {n}").into_bytes(),
        expires: NOW + 3600,
        from: [9; 32],
        destinations: dest.to_vec(),
        spool: None,
    }
}

fn count(report: &audit::AuditReport, kind: AuditKind) -> u64 {
    report
        .by_kind
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(0, |(_, n)| *n)
}

#[tokio::test]
async fn accepted_envelope_waits_until_acknowledged_then_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custody.redb");
    let store = CustodyStore::open(&path, node_key(1), StoreConfig::default()).unwrap();
    let hop = Destination([1; 32]);
    let alice = Destination([2; 32]);
    assert_eq!(
        store.accept(envelope(1, &[hop, alice]), NOW).await.unwrap(),
        AcceptOutcome::Stored
    );

    let waiting = store.pending(hop, None, 10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].raw, b"envelope 1");
    assert!(
        store
            .acknowledge(hop, waiting[0].seq, Handoff::Forwarded, NOW)
            .await
            .unwrap()
    );
    assert!(
        !store
            .acknowledge(hop, waiting[0].seq, Handoff::Forwarded, NOW)
            .await
            .unwrap(),
        "second ack is a no-op"
    );
    assert!(store.pending(hop, None, 10).await.unwrap().is_empty());

    // Still held for the other destination.
    let for_alice = store.pending(alice, None, 10).await.unwrap();
    assert_eq!(for_alice[0].raw, b"envelope 1");
    store
        .acknowledge(alice, for_alice[0].seq, Handoff::Delivered, NOW)
        .await
        .unwrap();
    assert!(store.depths().await.unwrap().is_empty());
    store.close().await.unwrap();
    drop(store);

    let report = audit::verify(&path, None).unwrap();
    assert_eq!(report.entries, 3);
    assert_eq!(
        (
            count(&report, AuditKind::Accepted),
            count(&report, AuditKind::Forwarded),
            count(&report, AuditKind::Delivered)
        ),
        (1, 1, 1)
    );
    assert_eq!(report.checkpoints, 1);
    assert_eq!(report.unsigned_tail, 0);
}

#[tokio::test]
async fn retransmitted_message_id_is_not_stored_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = CustodyStore::open(
        &dir.path().join("c.redb"),
        node_key(1),
        StoreConfig::default(),
    )
    .unwrap();
    let hop = Destination([1; 32]);
    assert_eq!(
        store.accept(envelope(5, &[hop]), NOW).await.unwrap(),
        AcceptOutcome::Stored
    );
    assert_eq!(
        store.accept(envelope(5, &[hop]), NOW).await.unwrap(),
        AcceptOutcome::Duplicate
    );
    assert_eq!(store.pending(hop, None, 10).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_arrivals_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = CustodyStore::open(
        &dir.path().join("c.redb"),
        node_key(1),
        StoreConfig::default(),
    )
    .unwrap();
    let hop = Destination([1; 32]);
    let tasks: Vec<_> = (0..400u32)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.accept(envelope(n, &[hop]), NOW).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), AcceptOutcome::Stored);
    }
    let counters = store.counters().await.unwrap();
    let get = |name: &str| {
        counters
            .iter()
            .find(|(k, _)| k == name)
            .map_or(0, |(_, v)| *v)
    };
    assert_eq!(get("stored"), 400);
    // One commit opens the store; the rest must have batched: far fewer than one fsync each.
    let commits = get("commits");
    println!("400 concurrent accepts took {commits} commits");
    assert!(
        commits < 200,
        "no group commit: {commits} commits for 400 envelopes"
    );
    assert_eq!(store.pending(hop, None, 1000).await.unwrap().len(), 400);
}

#[tokio::test]
async fn custody_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let hop = Destination([3; 32]);
    {
        let store = CustodyStore::open(&path, node_key(1), StoreConfig::default()).unwrap();
        store.accept(envelope(7, &[hop]), NOW).await.unwrap();
        // Dropped without close(): no final checkpoint, as after a crash.
    }
    // The writer thread may still hold the file briefly after the handle drops.
    let store = loop {
        match CustodyStore::open(&path, node_key(1), StoreConfig::default()) {
            Ok(s) => break s,
            Err(StoreError::Open { .. }) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    let waiting = store.pending(hop, None, 10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].raw, b"envelope 7");
    assert_eq!(
        store.accept(envelope(7, &[hop]), NOW).await.unwrap(),
        AcceptOutcome::Duplicate
    );
}

#[tokio::test]
async fn expired_envelopes_are_dropped_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let store = CustodyStore::open(&path, node_key(1), StoreConfig::default()).unwrap();
    let hop = Destination([4; 32]);
    let mut short = envelope(1, &[hop]);
    short.expires = NOW + 10;
    store.accept(short, NOW).await.unwrap();
    store.accept(envelope(2, &[hop]), NOW).await.unwrap();
    let expired = store.sweep_expired(NOW + 11).await.unwrap();
    assert_eq!(expired.len(), 1);
    let left = store.pending(hop, None, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].raw, b"envelope 2");
    store.close().await.unwrap();
    drop(store);
    assert_eq!(
        count(&audit::verify(&path, None).unwrap(), AuditKind::Expired),
        1
    );
}

#[tokio::test]
async fn refusals_are_audited_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let store = CustodyStore::open(&path, node_key(1), StoreConfig::default()).unwrap();
    store
        .record_refusal(
            [1; 16],
            [2; 32],
            "classification above clearance".into(),
            NOW,
        )
        .await
        .unwrap();
    store.close().await.unwrap();
    drop(store);
    let report = audit::verify(&path, None).unwrap();
    assert_eq!(count(&report, AuditKind::Refused), 1);
}

#[tokio::test]
async fn edited_audit_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let store = CustodyStore::open(&path, node_key(1), StoreConfig::default()).unwrap();
    store
        .accept(envelope(1, &[Destination([1; 32])]), NOW)
        .await
        .unwrap();
    store
        .record_refusal([1; 16], [2; 32], "reason".into(), NOW)
        .await
        .unwrap();
    store.close().await.unwrap();
    drop(store);
    {
        // An insider rewrites entry 0's timestamp directly in the database.
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<'_, u64, &[u8]> =
                redb::TableDefinition::new("audit_entries");
            let mut t = txn.open_table(def).unwrap();
            let mut bytes = t.get(0).unwrap().unwrap().value().to_vec();
            bytes[16] ^= 1;
            t.insert(0, bytes.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    assert!(matches!(
        audit::verify(&path, None),
        Err(AuditError::ChainMismatch(1))
    ));
}

#[tokio::test]
async fn another_node_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let store = CustodyStore::open(&path, node_key(1), StoreConfig::default()).unwrap();
    store.close().await.unwrap();
    drop(store);
    assert!(matches!(
        CustodyStore::open(&path, node_key(2), StoreConfig::default()),
        Err(StoreError::NodeKeyChanged)
    ));
    assert!(matches!(
        audit::verify(&path, Some(node_key(2).verifying_key())),
        Err(AuditError::WrongNode { .. })
    ));
}

#[tokio::test]
async fn releases_become_durable_with_the_next_durable_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let hop = Destination([4; 32]);
    let reopen = || async {
        // The writer thread may still hold the file briefly after the handle drops.
        loop {
            match CustodyStore::open(&path, node_key(1), StoreConfig::default()) {
                Ok(s) => break s,
                Err(StoreError::Open { .. }) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
                Err(e) => panic!("{e}"),
            }
        }
    };
    {
        let store = reopen().await;
        for n in 1..=3 {
            store.accept(envelope(n, &[hop]), NOW).await.unwrap();
        }
        let waiting = store.pending(hop, None, 10).await.unwrap();
        let seqs: Vec<u64> = waiting.iter().take(2).map(|q| q.seq).collect();
        // A release-only batch: committed without an fsync...
        assert_eq!(
            store
                .acknowledge_many(hop, &seqs, Handoff::Forwarded, NOW)
                .await
                .unwrap(),
            2
        );
        // ...made durable by the next arrival's commit. Dropped without close(), as a crash.
        store.accept(envelope(4, &[hop]), NOW).await.unwrap();
    }
    let store = reopen().await;
    let left: Vec<Vec<u8>> = store
        .pending(hop, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.raw)
        .collect();
    assert_eq!(left, [b"envelope 3".to_vec(), b"envelope 4".to_vec()]);
    // Release-only batches are durable at close, too.
    let waiting = store.pending(hop, None, 10).await.unwrap();
    store
        .acknowledge(hop, waiting[0].seq, Handoff::Forwarded, NOW)
        .await
        .unwrap();
    store.close().await.unwrap();
    drop(store);
    let store = reopen().await;
    assert_eq!(store.pending(hop, None, 10).await.unwrap().len(), 1);
    store.close().await.unwrap();
    drop(store);
    let report = audit::verify(&path, None).unwrap();
    assert_eq!(count(&report, AuditKind::Forwarded), 3);
}
