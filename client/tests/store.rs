//! The local message store on a real redb file: received and sent round trips,
//! de-duplication, receipts, contacts, reopening after drop, the wrong key, values moved
//! between rows, and that the file holds no plaintext.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use liaison_client::store::{MessageStore, ReceivedMessage, SentMessage, StoreError};
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, SecretBytes, Suite, SymmetricKey};
use liaison_proto::certificate::{
    CertificateRequest, CertificateTerms, MemberCertificate, Role, issue,
};
use liaison_proto::envelope::{ContentType, MessageId};
use liaison_proto::{Classification, Tlp, UnixTime};
use redb::ReadableTable as _;
use zeroize::Zeroizing;

const MARKER: &str = "PLAINTEXT-MARKER-phishing-wave-2-7f3a";

fn key() -> SymmetricKey {
    SymmetricKey::from_bytes([0x42; 32])
}

fn certificate(name: &str) -> MemberCertificate {
    let mut rng = liaison_crypto::rng::os_rng();
    let authority = SigningKey::generate(Suite::Lq1, &mut rng);
    let subject = SigningKey::generate(Suite::Lq1, &mut rng);
    let req = CertificateRequest::new(&subject, name, "CERT-EU", &mut rng).unwrap();
    let terms = CertificateTerms {
        role: Role::Officer,
        clearance: Classification::RestreintUe,
        home_relay: Some(IdentityId::from_bytes([9; 32])),
        address: None,
        not_before: UnixTime(0),
        not_after: UnixTime(4_000_000_000),
        serial: 1,
    };
    issue(&authority, &req, &terms, &mut rng).unwrap()
}

fn received(id: [u8; 16], at: u64, content_type: ContentType) -> ReceivedMessage {
    ReceivedMessage {
        message_id: MessageId(id),
        envelope_raw: format!("envelope bytes {MARKER}").into_bytes(),
        sender: IdentityId::from_bytes([1; 32]),
        sender_name: "Bohdan Kovalenko".into(),
        sender_fingerprint: IdentityId::from_bytes([1; 32]).fingerprint(),
        classification: Classification::RestreintUe,
        tlp: Tlp::Amber,
        content_type,
        plaintext: Zeroizing::new(format!("report body {MARKER}").into_bytes()),
        received_at: UnixTime(at),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn received_messages_round_trip_deduplicate_and_list_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messages.redb");
    let store = MessageStore::open(&path, &key()).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let a = received([0xab; 16], 100, ContentType::Stix21Bundle);
    let b = received(
        [0x12; 16],
        200,
        ContentType::Attachment {
            filename: "capture.pcap".into(),
        },
    );
    assert!(store.insert_received(&a).unwrap());
    assert!(store.insert_received(&b).unwrap());
    assert!(
        !store.insert_received(&a).unwrap(),
        "second copy is a no-op"
    );
    assert!(store.has_received([0xab; 16]).unwrap());
    assert!(!store.has_received(MessageId([0xcd; 16])).unwrap());

    let list = store.received().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].message_id, MessageId([0x12; 16]), "newest first");
    assert_eq!(list[1].size, a.plaintext.len() as u64);
    assert_eq!(list[1].content_type, ContentType::Stix21Bundle);
    assert!(!list[0].receipt_sent);

    let got = store.get_received(&"ab".repeat(16)).unwrap();
    assert_eq!(got.content(), a.content());
    assert_eq!(got.envelope(), a.envelope());
    assert_eq!(got.sender_name, "Bohdan Kovalenko");
    assert_eq!(got.tlp, Tlp::Amber);
    let by_prefix = store.get_received("1212").unwrap();
    assert_eq!(by_prefix.content_type, b.content_type);
    assert!(matches!(
        store.get_received("ffff"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.get_received("ab"),
        Err(StoreError::NotFound { .. })
    ));
}

/// A supplied key kept for a message (the key supply hands it out once) is sealed at rest,
/// survives reopening, and is erased when the message is stored or refused, or once the
/// message has expired.
#[test]
fn kept_supplied_keys_are_sealed_survive_a_restart_and_go_with_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messages.redb");
    let secret = [0x5c_u8; 32];
    {
        let store = MessageStore::open(&path, &key()).unwrap();
        assert!(store.kept_supplied_key([0xab; 16]).unwrap().is_none());
        store
            .keep_supplied_key([0xab; 16], UnixTime(500), &SecretBytes::from_slice(&secret))
            .unwrap();
        store
            .keep_supplied_key(
                [0xcd; 16],
                UnixTime(500),
                &SecretBytes::from_slice(&[7; 32]),
            )
            .unwrap();
    }
    assert!(
        !contains(&std::fs::read(&path).unwrap(), &secret),
        "the key is not stored in the clear"
    );
    let store = MessageStore::open(&path, &key()).unwrap();
    let kept = store.kept_supplied_key([0xab; 16]).unwrap().unwrap();
    assert_eq!(kept.expose_secret(), secret);
    // Stored: the key goes in the same transaction. Refused: it is forgotten.
    assert!(
        store
            .insert_received(&received([0xab; 16], 100, ContentType::Stix21Bundle))
            .unwrap()
    );
    assert!(store.kept_supplied_key([0xab; 16]).unwrap().is_none());
    store.forget_supplied_key([0xcd; 16]).unwrap();
    assert!(store.kept_supplied_key([0xcd; 16]).unwrap().is_none());
    // Kept until its message expires; then swept.
    let key = SecretBytes::from_slice(&[9; 32]);
    store
        .keep_supplied_key([0xef; 16], UnixTime(500), &key)
        .unwrap();
    assert_eq!(store.sweep_kept_supplied_keys(UnixTime(500)).unwrap(), 0);
    assert!(store.kept_supplied_key([0xef; 16]).unwrap().is_some());
    assert_eq!(store.sweep_kept_supplied_keys(UnixTime(501)).unwrap(), 1);
    assert!(store.kept_supplied_key([0xef; 16]).unwrap().is_none());
}

#[test]
fn ambiguous_message_prefix_lists_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(&dir.path().join("m.redb"), &key()).unwrap();
    let mut one = [0u8; 16];
    one[..2].copy_from_slice(&[0xab, 0xcd]);
    let mut two = one;
    two[2] = 0x11;
    store
        .insert_received(&received(one, 1, ContentType::Text))
        .unwrap();
    store
        .insert_received(&received(two, 2, ContentType::Text))
        .unwrap();
    match store.get_received("abcd") {
        Err(StoreError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        store.get_received("abcd11").unwrap().message_id,
        MessageId(two)
    );
}

#[test]
fn everything_survives_reopening_after_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messages.redb");
    let ana = certificate("Ana Ionescu");
    {
        let store = MessageStore::open(&path, &key()).unwrap();
        store
            .insert_received(&received([7; 16], 10, ContentType::MispEvent))
            .unwrap();
        store
            .insert_received(&received([8; 16], 11, ContentType::Text))
            .unwrap();
        assert!(store.mark_receipt_sent([7; 16]).unwrap());
        store.upsert_contact(&ana).unwrap();
        store
            .record_sent(&SentMessage {
                message_id: MessageId([9; 16]),
                recipients: vec![(ana.subject(), "Ana Ionescu".into())],
                classification: Classification::Unclassified,
                tlp: Tlp::Green,
                content_type: ContentType::Text,
                sent_at: UnixTime(12),
                size: 5,
            })
            .unwrap();
        store
            .record_sent_envelope([9; 16], b"sent envelope")
            .unwrap();
    }
    let store = MessageStore::open(&path, &key()).unwrap();
    assert!(store.has_received([7; 16]).unwrap());
    assert_eq!(
        store.pending_receipts().unwrap(),
        vec![MessageId([8; 16])],
        "only the message without a receipt is pending"
    );
    assert_eq!(
        store.get_received("0707").unwrap().content_type,
        ContentType::MispEvent
    );
    assert_eq!(store.contact(&ana.subject()).unwrap(), Some(ana.clone()));
    assert_eq!(store.sent().unwrap().len(), 1);
    assert_eq!(
        store.sent_envelope([9; 16]).unwrap().as_deref(),
        Some(&b"sent envelope"[..])
    );
}

#[test]
fn the_file_holds_no_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messages.redb");
    let contact_name = "Olena Marker-Shevchenko";
    {
        let store = MessageStore::open(&path, &key()).unwrap();
        for i in 0..20u8 {
            store
                .insert_received(&received([i; 16], u64::from(i), ContentType::Text))
                .unwrap();
        }
        let olena = certificate(contact_name);
        store.upsert_contact(&olena).unwrap();
        store
            .record_sent(&SentMessage {
                message_id: MessageId([0xee; 16]),
                recipients: vec![(olena.subject(), contact_name.into())],
                classification: Classification::RestreintUe,
                tlp: Tlp::Red,
                content_type: ContentType::Attachment {
                    filename: format!("{MARKER}.pdf"),
                },
                sent_at: UnixTime(1),
                size: 1,
            })
            .unwrap();
    }
    let raw = std::fs::read(&path).unwrap();
    assert!(raw.len() > 1000, "the store wrote something");
    for needle in [MARKER, "Bohdan Kovalenko", contact_name, "CERT-EU"] {
        assert!(
            !contains(&raw, needle.as_bytes()),
            "{needle:?} found in the store file"
        );
    }
}

#[test]
fn a_store_of_another_keystore_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.redb");
    drop(MessageStore::open(&path, &key()).unwrap());
    assert!(matches!(
        MessageStore::open(&path, &SymmetricKey::from_bytes([0x43; 32])),
        Err(StoreError::WrongKey { .. })
    ));
}

#[test]
fn a_value_moved_to_another_row_fails_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.redb");
    {
        let store = MessageStore::open(&path, &key()).unwrap();
        store
            .insert_received(&received([1; 16], 1, ContentType::Text))
            .unwrap();
        store
            .insert_received(&received([2; 16], 2, ContentType::Text))
            .unwrap();
    }
    {
        // An attacker with the file swaps message 1's sealed value into message 2's row.
        let table: redb::TableDefinition<'_, [u8; 16], &[u8]> =
            redb::TableDefinition::new("received");
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(table).unwrap();
            let one = t.get([1u8; 16]).unwrap().unwrap().value().to_vec();
            t.insert([2u8; 16], one.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    let store = MessageStore::open(&path, &key()).unwrap();
    store.get_received("0101").unwrap();
    match store.get_received("0202") {
        Err(StoreError::Corrupt { table, .. }) => assert_eq!(table, "received"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn receipts_are_recorded_per_recipient_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(&dir.path().join("m.redb"), &key()).unwrap();
    let bo = certificate("Bohdan Kovalenko");
    let cl = certificate("Claire Dubois");
    store.upsert_contact(&cl).unwrap();
    let id = MessageId([5; 16]);
    store
        .record_sent(&SentMessage {
            message_id: id,
            // Claire's name is filled from the contacts when listed.
            recipients: vec![
                (bo.subject(), "Bohdan Kovalenko".into()),
                (cl.subject(), String::new()),
            ],
            classification: Classification::RestreintUe,
            tlp: Tlp::Amber,
            content_type: ContentType::Stix21Bundle,
            sent_at: UnixTime(1000),
            size: 4096,
        })
        .unwrap();
    assert!(
        store
            .record_receipt(id, bo.subject(), b"receipt from bohdan", UnixTime(1010))
            .unwrap()
    );
    assert!(
        !store
            .record_receipt(id, bo.subject(), b"duplicate", UnixTime(1020))
            .unwrap()
    );
    let stranger = certificate("Eve");
    assert!(matches!(
        store.record_receipt(id, stranger.subject(), b"r", UnixTime(1)),
        Err(StoreError::UnexpectedReceipt { .. })
    ));
    assert!(matches!(
        store.record_receipt([6; 16], bo.subject(), b"r", UnixTime(1)),
        Err(StoreError::UnexpectedReceipt { .. })
    ));

    let sent = store.get_sent(id).unwrap().unwrap();
    assert!(!sent.complete());
    assert_eq!(sent.receipts[0].name, "Bohdan Kovalenko");
    assert_eq!(sent.receipts[1].name, "Claire Dubois");
    let first = sent.receipts[0].receipt.as_ref().unwrap();
    assert_eq!(
        first.raw, b"receipt from bohdan",
        "the first receipt is kept"
    );
    assert_eq!(first.received_at, UnixTime(1010));
    assert!(sent.receipts[1].receipt.is_none());

    store
        .record_receipt(id, cl.subject(), b"receipt from claire", UnixTime(2000))
        .unwrap();
    let all = store.sent().unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].complete());
    assert_eq!(
        all[0].recipients_with_receipts(),
        vec![
            (bo.subject(), Some(UnixTime(1010))),
            (cl.subject(), Some(UnixTime(2000)))
        ]
    );
}

#[test]
fn contacts_are_found_by_name_or_fingerprint_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(&dir.path().join("m.redb"), &key()).unwrap();
    let ana1 = certificate("Ana Ionescu");
    let ana2 = certificate("Ana Ionescu");
    let bo = certificate("Bohdan Kovalenko");
    for c in [&ana1, &ana2, &bo] {
        store.upsert_contact(c).unwrap();
    }
    store.upsert_contact(&bo).unwrap();
    assert_eq!(
        store.contacts().unwrap().len(),
        3,
        "upsert replaces by subject"
    );
    assert_eq!(store.find_contact("bohdan kovalenko").unwrap(), bo);
    match store.find_contact("Ana Ionescu") {
        Err(StoreError::Ambiguous { candidates, .. }) => {
            assert_eq!(candidates.len(), 2);
            assert!(candidates[0].contains("Ana Ionescu ("));
        }
        other => panic!("unexpected {other:?}"),
    }
    let fingerprint = ana2.subject().fingerprint();
    assert_eq!(store.find_contact(&fingerprint[..14]).unwrap(), ana2);
    assert_eq!(
        store.find_contact(&ana1.subject().to_string()).unwrap(),
        ana1
    );
    assert!(matches!(
        store.find_contact("Nobody"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        store
            .contact(&IdentityId::from_bytes([0; 32]))
            .unwrap()
            .is_none()
    );
}

#[test]
fn opening_a_directory_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        MessageStore::open(Path::new(dir.path()), &key()),
        Err(StoreError::Storage { .. })
    ));
}

/// A real crash: a child process stores messages and prints each id once
/// `insert_received` has returned (the moment the client would acknowledge it to the relay);
/// it is killed with SIGKILL mid-stream. Every message it acknowledged must be in the store.
#[test]
fn acknowledged_messages_survive_sigkill() {
    use std::io::{BufRead as _, Write as _};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    const CHILD_ENV: &str = "LIAISON_STORE_CRASH_CHILD";
    if let Ok(path) = std::env::var(CHILD_ENV) {
        let store = MessageStore::open(Path::new(&path), &key()).unwrap();
        let mut out = std::io::stdout().lock();
        for i in 0u32..20_000 {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            store
                .insert_received(&received(id, u64::from(i), ContentType::Text))
                .unwrap();
            writeln!(out, "stored {i}").unwrap();
            out.flush().unwrap();
        }
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "acknowledged_messages_survive_sigkill",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.len() < 40 && Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(n) = line.strip_prefix("stored ") {
                    acked.push(n.parse::<u32>().unwrap());
                }
            }
            _ => break,
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no flush, no clean close
    child.wait().unwrap();
    // Acknowledgements already in the pipe when the child died count too.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("stored ") {
            acked.push(n.parse::<u32>().unwrap());
        }
    }
    assert!(acked.len() >= 40, "child acknowledged only {}", acked.len());
    assert!(
        acked.len() < 20_000,
        "the child finished before it was killed"
    );

    let store = MessageStore::open(&path, &key()).unwrap();
    for i in &acked {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&i.to_be_bytes());
        let m = store
            .received_message(id)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged message {i} lost"));
        assert_eq!(m.content(), received(id, 0, ContentType::Text).content());
    }
}

/// Two deliveries of the same envelope racing (e.g. a relay resending after a lost ack while
/// the first copy is being stored): exactly one insert reports a new message.
#[test]
fn concurrent_duplicate_inserts_store_the_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        std::sync::Arc::new(MessageStore::open(&dir.path().join("m.redb"), &key()).unwrap());
    for round in 0..20u8 {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store
                        .insert_received(&received([round; 16], 1, ContentType::Text))
                        .unwrap()
                })
            })
            .collect();
        let new = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|n| *n)
            .count();
        assert_eq!(new, 1, "round {round}");
    }
    assert_eq!(store.received().unwrap().len(), 20);
}
