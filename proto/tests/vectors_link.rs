//! Deterministic test vectors for the link channel (`spec/protocol-link.md` §8 "Test vectors"):
//! four handshakes (LQ1 and LQ2, with and without a supplied key), each followed by the first
//! sealed record in both directions and one rekey, driven by seeded ChaCha20 RNGs. The test
//! recomputes every key from the spec's formulas with `liaison-crypto` alone and checks the
//! state machines agree, so the JSON holds everything an independent (Python) implementation
//! needs: inputs including test secrets, every message's bytes, transcript hashes, derived
//! keys and sealed records.
//!
//! `cargo test -p liaison-proto --test vectors_link` checks `spec/test-vectors/handshake.json`
//! byte for byte; `LIAISON_REGENERATE_VECTORS=1 cargo test -p liaison-proto --test
//! vectors_link` rewrites it. All keys here are test keys: their secrets are published.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use liaison_crypto::kdf::{self, CombinedSecret, Transcript};
use liaison_crypto::kem::{EncapsulationSeed, KemPublicKey, KemSecretKey};
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{SecretBytes, Seed32, Suite, aead, labels};
use liaison_proto::certificate::{CertificateRequest, CertificateTerms, Role, issue};
use liaison_proto::frame::{Frame, FrameDecoder, FrameType, LinkFrame};
use liaison_proto::handshake::messages::{InitiatorFinish, InitiatorHello, ResponderHello};
use liaison_proto::handshake::{
    ChannelBinding, InitiatorStart, LinkConfig, LocalIdentity, Now, PeerPolicy, ResponderStart,
    SuppliedKeyAnswer, SuppliedKeyRef, SuppliedKeys, SupplyPolicy,
};
use liaison_proto::record::{Incoming, LinkSession, RekeyPolicy};
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, UnixTime};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde_json::{Value, json};

const NOW: UnixTime = UnixTime(1_800_000_000);

fn h(b: &[u8]) -> String {
    hex::encode(b)
}

fn rng(tag: u8, n: u8) -> ChaCha20Rng {
    let mut seed = [tag; 32];
    seed[31] = n;
    ChaCha20Rng::from_seed(seed)
}

fn one_frame(bytes: &[u8]) -> Frame {
    let mut dec = FrameDecoder::new();
    dec.push(bytes);
    dec.poll_frame().unwrap().unwrap()
}

fn identity(authority: &SigningKey, suite: Suite, n: u8) -> (Arc<LocalIdentity>, [u8; 32]) {
    let seed = [0x30 + n; 32];
    let key = SigningKey::from_seed(suite, Seed32::from_bytes(seed));
    let mut r = rng(0xc0, n);
    let req = CertificateRequest::new(&key, &format!("relay-{n}"), "Liaison test", &mut r).unwrap();
    let terms = CertificateTerms {
        role: Role::Relay,
        clearance: Classification::SecretUe,
        home_relay: None,
        address: Some(format!("relay{n}.test:4433")),
        not_before: UnixTime(NOW.0 - 86_400),
        not_after: UnixTime(NOW.0 + 365 * 86_400),
        serial: u64::from(n),
    };
    let certificate = issue(authority, &req, &terms, &mut r).unwrap();
    (
        Arc::new(LocalIdentity {
            certificate,
            signing_key: key,
        }),
        seed,
    )
}

fn config(
    me: &Arc<LocalIdentity>,
    trust: &Arc<TrustStore>,
    suites: &[Suite],
    supply: SupplyPolicy,
) -> LinkConfig {
    LinkConfig {
        identity: me.clone(),
        trust: trust.clone(),
        suites: suites.to_vec(),
        supply,
        local_sae_id: Some("SAE_RELAY_B".into()),
        peer: PeerPolicy {
            expected_peer: None,
            allow_relays: true,
            allow_officers: false,
        },
        handshake_timeout: Duration::from_secs(30),
        rekey: RekeyPolicy::default(),
    }
}

fn key_material(id: &str) -> Vec<u8> {
    // A fixed, published test key per id.
    let mut k = vec![0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = id.as_bytes()[i % id.len()] ^ (i as u8);
    }
    k
}

fn supplied_for(ids: &[&str]) -> (SuppliedKeyRef, Vec<Vec<u8>>) {
    (
        SuppliedKeyRef {
            master_sae_id: "SAE_RELAY_A".into(),
            slave_sae_id: "SAE_RELAY_B".into(),
            key_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        },
        ids.iter().map(|id| key_material(id)).collect(),
    )
}

fn keys_json(r: &SuppliedKeyRef, keys: &[Vec<u8>]) -> Value {
    json!({
        "master_sae_id": r.master_sae_id,
        "slave_sae_id": r.slave_sae_id,
        "key_ids": r.key_ids,
        "keys": keys.iter().map(|k| h(k)).collect::<Vec<_>>(),
    })
}

fn expand(prk: &CombinedSecret, label: &[u8], th: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    prk.expand(label, &[th], &mut out)
        .expect("test lengths are within HKDF's limit");
    out
}

struct Traffic {
    i2r_key: Vec<u8>,
    i2r_iv: Vec<u8>,
    r2i_key: Vec<u8>,
    r2i_iv: Vec<u8>,
}

fn traffic(master: &CombinedSecret, th: &[u8]) -> Traffic {
    Traffic {
        i2r_key: expand(master, labels::LINK_KEY_I2R, th, 32),
        i2r_iv: expand(master, labels::LINK_IV_I2R, th, 12),
        r2i_key: expand(master, labels::LINK_KEY_R2I, th, 32),
        r2i_iv: expand(master, labels::LINK_IV_R2I, th, 12),
    }
}

impl Traffic {
    fn json(&self) -> Value {
        json!({
            "i2r_key": h(&self.i2r_key), "i2r_iv": h(&self.i2r_iv),
            "r2i_key": h(&self.r2i_key), "r2i_iv": h(&self.r2i_iv),
        })
    }
}

/// Seals `inner` as record number `counter` under `key`/`iv`, from the spec's formulas.
fn seal_by_spec(key: &[u8], iv: &[u8], counter: u64, inner: &[u8]) -> Vec<u8> {
    let key = liaison_crypto::SymmetricKey::try_from_slice(key).unwrap();
    let mut nonce: [u8; 12] = iv.try_into().unwrap();
    for (n, c) in nonce[4..].iter_mut().zip(counter.to_be_bytes()) {
        *n ^= c;
    }
    let header = Frame::header(FrameType::Record, inner.len() + aead::TAG_LEN);
    let mut out = header.to_vec();
    out.extend(aead::seal(&key, &nonce, &header, inner));
    out
}

fn draw<const N: usize>(r: &mut ChaCha20Rng) -> [u8; N] {
    let mut out = [0u8; N];
    r.fill_bytes(&mut out);
    out
}

/// One vector: handshake, first records, one rekey.
fn case(suite: Suite, with_key: bool, n: u8) -> Value {
    let authority = SigningKey::from_seed(suite, Seed32::from_bytes([0x20 + n; 32]));
    let trust = Arc::new(TrustStore::new(vec![authority.verifying_key().clone()]));
    let (relay_a, seed_a) = identity(&authority, suite, 2 * n);
    let (relay_b, seed_b) = identity(&authority, suite, 2 * n + 1);
    let offered = [Suite::Lq2, Suite::Lq1];
    let supply = if with_key {
        SupplyPolicy::Required
    } else {
        SupplyPolicy::Off
    };
    let i_cfg = config(&relay_a, &trust, &offered, supply);
    let r_cfg = config(&relay_b, &trust, &[suite], supply);
    let binding = ChannelBinding(core::array::from_fn(|i| 0xe0 ^ i as u8 ^ n));
    let now = Now {
        unix: NOW,
        monotonic: Duration::from_secs(1),
    };

    let handshake_keys = with_key.then(|| {
        supplied_for(&[
            "6c3b5a2e-0d1f-4e1b-9f4a-1a2b3c4d5e6f",
            "e2d1c0b9-a8f7-4e6d-8c5b-4a3928171605",
        ])
    });
    let supplied = handshake_keys.as_ref().map(|(r, k)| {
        SuppliedKeys::new(
            r.clone(),
            k.iter().map(|k| SecretBytes::from_slice(k)).collect(),
        )
        .unwrap()
    });

    // Run the state machines.
    let mut i_rng = rng(0xa0, n);
    let mut r_rng = rng(0xb0, n);
    let mut i_probe = i_rng.clone();
    let mut r_probe = r_rng.clone();
    let (expect, hello) = InitiatorStart::new(i_cfg, binding, supplied)
        .unwrap()
        .start(now, &mut i_rng)
        .unwrap();
    let await_key = ResponderStart::new(r_cfg, binding)
        .handle(&one_frame(&hello), now)
        .unwrap();
    let answer = match &handshake_keys {
        Some((_, k)) => {
            SuppliedKeyAnswer::Keys(k.iter().map(|k| SecretBytes::from_slice(k)).collect())
        }
        None => SuppliedKeyAnswer::None,
    };
    let (expect_finish, response) = await_key.resume(answer, now, &mut r_rng).unwrap();
    let (mut initiator, finish) = expect
        .handle(&one_frame(&response), now, &mut i_rng)
        .unwrap();
    let mut responder = expect_finish.handle(&one_frame(&finish), now).unwrap();

    // Recompute from the spec. Randomness draws, in order (§8): initiator nonce, then one KEM
    // seed per offered suite strongest first; responder encapsulation seed, then nonce.
    let i_nonce: [u8; 32] = draw(&mut i_probe);
    let kem_seeds: Vec<[u8; 32]> = offered.iter().map(|_| draw(&mut i_probe)).collect();
    let eseed: [u8; 64] = draw(&mut r_probe);
    let r_nonce: [u8; 32] = draw(&mut r_probe);

    let hello_body = one_frame(&hello).body;
    let response_body = one_frame(&response).body;
    let finish_body = one_frame(&finish).body;
    let ih = InitiatorHello::decode(&hello_body).unwrap();
    let rh = ResponderHello::decode(&response_body).unwrap();
    let fi = InitiatorFinish::decode(&finish_body).unwrap();
    assert_eq!(ih.nonce, i_nonce);
    assert_eq!(rh.nonce, r_nonce);
    let pos = offered.iter().position(|s| *s == suite).unwrap();
    let kem_sk = KemSecretKey::from_seed(suite, Seed32::from_bytes(kem_seeds[pos]));
    assert_eq!(
        kem_sk.public_key().as_bytes(),
        &ih.offers[pos].public_key[..]
    );
    let (ct, kem_ss) = KemPublicKey::from_bytes(suite, &ih.offers[pos].public_key)
        .unwrap()
        .encapsulate_derand(&EncapsulationSeed::from_bytes(eseed))
        .unwrap();
    assert_eq!(ct.as_bytes(), &rh.kem_ciphertext[..]);
    let supplied_concat: Option<Vec<u8>> = handshake_keys.as_ref().map(|(_, k)| k.concat());
    let prk = kdf::combine(&[&kem_ss], supplied_concat.as_deref());

    let mut t = Transcript::new(labels::LINK_TRANSCRIPT);
    t.absorb(&binding.0);
    t.absorb(&hello_body);
    t.absorb(&rh.encode_core().unwrap());
    let th_rs = t.current();
    t.absorb(&rh.signature);
    let th_rf = t.current();
    let fin_r = prk.derive_key(labels::LINK_RESPONDER_FINISHED, &[&th_rf]);
    assert_eq!(fin_r.expose_secret(), &rh.finished);
    t.absorb(&rh.finished);
    t.absorb(&fi.encode_core().unwrap());
    let th_is = t.current();
    t.absorb(&fi.signature);
    let th_if = t.current();
    let fin_i = prk.derive_key(labels::LINK_INITIATOR_FINISHED, &[&th_if]);
    assert_eq!(fin_i.expose_secret(), &fi.finished);
    t.absorb(&fi.finished);
    let th = t.current();
    assert_eq!(initiator.session_hash(), &th);
    assert_eq!(responder.session_hash(), &th);
    let master =
        CombinedSecret::try_from_slice(&expand(&prk, labels::LINK_MASTER_SECRET, &th, 48)).unwrap();
    let keys0 = traffic(&master, &th);

    // First records in each direction.
    let i_frame = LinkFrame::Envelope(b"first envelope, initiator to responder".to_vec());
    let r_frame = LinkFrame::Ack {
        message_id: vec![0x11; 16],
        status: liaison_proto::frame::AckStatus::Accepted,
    };
    let i_inner = i_frame.to_frame().unwrap().encode();
    let r_inner = r_frame.to_frame().unwrap().encode();
    let i_record = initiator.seal_frame(&i_frame).unwrap();
    let r_record = responder.seal_frame(&r_frame).unwrap();
    assert_eq!(
        i_record,
        seal_by_spec(&keys0.i2r_key, &keys0.i2r_iv, 0, &i_inner)
    );
    assert_eq!(
        r_record,
        seal_by_spec(&keys0.r2i_key, &keys0.r2i_iv, 0, &r_inner)
    );
    assert_eq!(
        responder.open_record(&one_frame(&i_record), now).unwrap(),
        Incoming::Frame(i_frame)
    );
    assert_eq!(
        initiator.open_record(&one_frame(&r_record), now).unwrap(),
        Incoming::Frame(r_frame)
    );

    let rekey = rekey_case(
        &mut initiator,
        &mut responder,
        &master,
        &th,
        with_key,
        n,
        now,
    );

    json!({
        "name": format!("{} {} supplied key", suite.name(), if with_key { "with" } else { "without" }),
        "suite": suite.name(),
        "initiator_accepts": offered.iter().map(|s| s.name()).collect::<Vec<_>>(),
        "responder_accepts": [suite.name()],
        "now_unix": NOW.0,
        "authority": {
            "signing_seed": h(authority.seed().expose_secret()),
            "public_key": h(authority.verifying_key().as_bytes()),
        },
        "initiator": {
            "signing_seed": h(&seed_a),
            "certificate": h(relay_a.certificate.raw()),
        },
        "responder": {
            "signing_seed": h(&seed_b),
            "certificate": h(relay_b.certificate.raw()),
        },
        "tls_exporter": h(&binding.0),
        "supplied_key": handshake_keys.as_ref().map(|(r, k)| keys_json(r, k)),
        "randomness": {
            "initiator_nonce": h(&i_nonce),
            "initiator_kem_seeds": offered.iter().zip(&kem_seeds)
                .map(|(s, k)| (s.name().to_owned(), Value::String(h(k))))
                .collect::<serde_json::Map<_, _>>(),
            "responder_encapsulation_seed": h(&eseed),
            "responder_nonce": h(&r_nonce),
        },
        "messages": {
            "initiator_hello": h(&hello),
            "responder_hello": h(&response),
            "initiator_finish": h(&finish),
        },
        "kem_shared_secret": h(kem_ss.expose_secret()),
        "supplied_key_concatenated": supplied_concat.as_ref().map(|k| h(k)),
        "handshake_secret": h(prk.expose_secret()),
        "transcript": {
            "th_responder_signature": h(&th_rs),
            "th_responder_finished": h(&th_rf),
            "th_initiator_signature": h(&th_is),
            "th_initiator_finished": h(&th_if),
            "th_session": h(&th),
        },
        "finished": {
            "responder": h(&rh.finished),
            "initiator": h(&fi.finished),
        },
        "master_secret": h(master.expose_secret()),
        "traffic_keys_epoch0": keys0.json(),
        "first_records": {
            "initiator_inner_frame": h(&i_inner),
            "initiator_record": h(&i_record),
            "responder_inner_frame": h(&r_inner),
            "responder_record": h(&r_record),
        },
        "rekey": rekey,
    })
}

/// Rekey 1, requested by the initiator after its first record (send counter 1).
fn rekey_case(
    initiator: &mut LinkSession,
    responder: &mut LinkSession,
    master0: &CombinedSecret,
    th0: &[u8; 48],
    with_key: bool,
    n: u8,
    now: Now,
) -> Value {
    let keys = with_key.then(|| supplied_for(&["0f1e2d3c-4b5a-4697-8877-665544332211"]));
    let supplied = keys.as_ref().map(|(r, k)| {
        SuppliedKeys::new(
            r.clone(),
            k.iter().map(|k| SecretBytes::from_slice(k)).collect(),
        )
        .unwrap()
    });
    let mut i_rng = rng(0xa8, n);
    let mut r_rng = rng(0xb8, n);
    let kem_seed: [u8; 32] = draw(&mut i_rng.clone());
    let eseed: [u8; 64] = draw(&mut r_rng.clone());

    let request = initiator.start_rekey(supplied, now, &mut i_rng).unwrap();
    let Incoming::RekeyRequested { supplied: asked } =
        responder.open_record(&one_frame(&request), now).unwrap()
    else {
        panic!("rekey request expected")
    };
    assert_eq!(asked.is_some(), with_key);
    let answer = match &keys {
        Some((_, k)) => {
            SuppliedKeyAnswer::Keys(k.iter().map(|k| SecretBytes::from_slice(k)).collect())
        }
        None => SuppliedKeyAnswer::None,
    };
    let response = responder.accept_rekey(answer, now, &mut r_rng).unwrap();
    let Incoming::RekeyCompleted { send: Some(done) } =
        initiator.open_record(&one_frame(&response), now).unwrap()
    else {
        panic!("completion expected")
    };
    responder.open_record(&one_frame(&done), now).unwrap();

    // Recompute.
    let suite = initiator.suite();
    let kem_sk = KemSecretKey::from_seed(suite, Seed32::from_bytes(kem_seed));
    let (ct, ss) = kem_sk
        .public_key()
        .encapsulate_derand(&EncapsulationSeed::from_bytes(eseed))
        .unwrap();
    let request_frame = LinkFrame::RekeyRequest(liaison_proto::frame::RekeyRequest {
        epoch: 1,
        kem_public_key: kem_sk.public_key().as_bytes().to_vec(),
        supplied: keys.as_ref().map(|(r, _)| r.clone()),
    })
    .to_frame()
    .unwrap();
    let mut response_core = LinkFrame::RekeyResponse(liaison_proto::frame::RekeyResponse {
        epoch: 1,
        kem_ciphertext: ct.as_bytes().to_vec(),
        supplied_used: with_key,
        confirm: [0; 32],
    })
    .to_frame()
    .unwrap()
    .body;
    response_core.truncate(response_core.len() - 32);
    let supplied_concat: Option<Vec<u8>> = keys.as_ref().map(|(_, k)| k.concat());
    let fresh = kdf::combine(&[&ss], supplied_concat.as_deref());
    let mut t = Transcript::new(labels::LINK_REKEY_TRANSCRIPT);
    t.absorb(th0);
    t.absorb(&request_frame.body);
    t.absorb(&response_core);
    let th1 = t.current();
    let master1 = kdf::derive(
        labels::LINK_REKEY_SECRET,
        master0.expose_secret(),
        fresh.expose_secret(),
        &[&th1],
        48,
    )
    .unwrap();
    let master1 = CombinedSecret::try_from_slice(master1.expose_secret()).unwrap();
    let confirm_r = master1.derive_key(labels::LINK_REKEY_CONFIRM_RESPONDER, &[&th1]);
    let confirm_i = master1.derive_key(labels::LINK_REKEY_CONFIRM_REQUESTER, &[&th1]);
    let keys1 = traffic(&master1, &th1);

    let mut response_inner = response_core.clone();
    response_inner.extend_from_slice(confirm_r.expose_secret());
    let response_inner = Frame::new(FrameType::RekeyResponse, response_inner)
        .unwrap()
        .encode();
    let mut done_body = 1u32.to_be_bytes().to_vec();
    done_body.extend_from_slice(confirm_i.expose_secret());
    let done_inner = Frame::new(FrameType::RekeyDone, done_body)
        .unwrap()
        .encode();
    // Old keys: the initiator's second record (counter 1), the responder's second (counter 1);
    // the initiator's RekeyDone is its third (counter 2) under the old i2r key.
    let keys0 = traffic(master0, th0);
    assert_eq!(
        request,
        seal_by_spec(&keys0.i2r_key, &keys0.i2r_iv, 1, &request_frame.encode())
    );
    assert_eq!(
        response,
        seal_by_spec(&keys0.r2i_key, &keys0.r2i_iv, 1, &response_inner)
    );
    assert_eq!(
        done,
        seal_by_spec(&keys0.i2r_key, &keys0.i2r_iv, 2, &done_inner)
    );

    let frame = LinkFrame::Ping(*b"epoch 1!");
    let inner = frame.to_frame().unwrap().encode();
    let record = initiator.seal_frame(&frame).unwrap();
    assert_eq!(
        record,
        seal_by_spec(&keys1.i2r_key, &keys1.i2r_iv, 0, &inner)
    );
    assert_eq!(
        responder.open_record(&one_frame(&record), now).unwrap(),
        Incoming::Frame(frame)
    );

    json!({
        "supplied_key": keys.as_ref().map(|(r, k)| keys_json(r, k)),
        "requester_kem_seed": h(&kem_seed),
        "responder_encapsulation_seed": h(&eseed),
        "request_inner_frame": h(&request_frame.encode()),
        "request_record": h(&request),
        "response_inner_frame": h(&response_inner),
        "response_record": h(&response),
        "done_inner_frame": h(&done_inner),
        "done_record": h(&done),
        "kem_shared_secret": h(ss.expose_secret()),
        "fresh_secret": h(fresh.expose_secret()),
        "transcript_hash": h(&th1),
        "master_secret": h(master1.expose_secret()),
        "confirm_responder": h(confirm_r.expose_secret()),
        "confirm_requester": h(confirm_i.expose_secret()),
        "traffic_keys_epoch1": keys1.json(),
        "first_record_epoch1": {"inner_frame": h(&inner), "record": h(&record)},
    })
}

fn build() -> Value {
    let labels: serde_json::Map<String, Value> = [
        ("LINK_TLS_EXPORTER", labels::LINK_TLS_EXPORTER),
        ("LINK_TRANSCRIPT", labels::LINK_TRANSCRIPT),
        ("LINK_RESPONDER_SIGNATURE", labels::LINK_RESPONDER_SIGNATURE),
        ("LINK_INITIATOR_SIGNATURE", labels::LINK_INITIATOR_SIGNATURE),
        ("LINK_RESPONDER_FINISHED", labels::LINK_RESPONDER_FINISHED),
        ("LINK_INITIATOR_FINISHED", labels::LINK_INITIATOR_FINISHED),
        ("LINK_MASTER_SECRET", labels::LINK_MASTER_SECRET),
        ("LINK_KEY_I2R", labels::LINK_KEY_I2R),
        ("LINK_KEY_R2I", labels::LINK_KEY_R2I),
        ("LINK_IV_I2R", labels::LINK_IV_I2R),
        ("LINK_IV_R2I", labels::LINK_IV_R2I),
        ("LINK_REKEY_TRANSCRIPT", labels::LINK_REKEY_TRANSCRIPT),
        ("LINK_REKEY_SECRET", labels::LINK_REKEY_SECRET),
        (
            "LINK_REKEY_CONFIRM_REQUESTER",
            labels::LINK_REKEY_CONFIRM_REQUESTER,
        ),
        (
            "LINK_REKEY_CONFIRM_RESPONDER",
            labels::LINK_REKEY_CONFIRM_RESPONDER,
        ),
        ("KEY_COMBINER", labels::KEY_COMBINER),
    ]
    .into_iter()
    .map(|(k, v)| {
        (
            k.to_owned(),
            Value::String(String::from_utf8_lossy(v).into_owned()),
        )
    })
    .collect();
    json!({
        "description": "Link handshake, records and rekey (spec/protocol-link.md). All hex. \
            Secrets are test secrets. Signatures are hedged (randomised) and are verified, not \
            recomputed; everything else is recomputable from the inputs.",
        "labels": labels,
        "cases": [
            case(Suite::Lq1, false, 1),
            case(Suite::Lq1, true, 2),
            case(Suite::Lq2, false, 3),
            case(Suite::Lq2, true, 4),
        ],
    })
}

#[test]
fn link_vectors_are_reproduced_byte_for_byte() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/test-vectors/handshake.json");
    let text = serde_json::to_string_pretty(&build()).unwrap() + "\n";
    if std::env::var_os("LIAISON_REGENERATE_VECTORS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
    } else {
        let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with LIAISON_REGENERATE_VECTORS=1",
                path.display()
            )
        });
        assert!(
            on_disk == text,
            "{} differs from what the code produces; if intended, run \
             LIAISON_REGENERATE_VECTORS=1 cargo test -p liaison-proto --test vectors_link",
            path.display()
        );
    }
}
