//! LQ1 is X-Wing exactly: reproduce every test vector of draft-connolly-cfrg-xwing-kem-10
//! (Appendix C): seed → public key, (public key, eseed) → ciphertext and shared secret, and
//! decapsulation of the published ciphertext.

use liaison_crypto::Seed32;
use liaison_crypto::Suite;
use liaison_crypto::kem::{EncapsulationSeed, KemCiphertext, KemPublicKey, KemSecretKey};

struct Vector {
    seed: Vec<u8>,
    pk: Vec<u8>,
    eseed: Vec<u8>,
    ct: Vec<u8>,
    ss: Vec<u8>,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("data/xwing-draft-10.txt");
    let mut out = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let flush = |fields: &mut Vec<(String, String)>, out: &mut Vec<Vector>| {
        if fields.is_empty() {
            return;
        }
        let get = |k: &str| {
            hex::decode(
                &fields
                    .iter()
                    .find(|(n, _)| n == k)
                    .expect("field present")
                    .1,
            )
            .expect("hex")
        };
        out.push(Vector {
            seed: get("seed"),
            pk: get("pk"),
            eseed: get("eseed"),
            ct: get("ct"),
            ss: get("ss"),
        });
        fields.clear();
    };
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with("  ") {
            fields
                .last_mut()
                .expect("continuation follows a field")
                .1
                .push_str(line.trim());
            continue;
        }
        let mut parts = line.split_whitespace();
        let name = parts.next().expect("field name").to_string();
        if name == "seed" {
            flush(&mut fields, &mut out);
        }
        fields.push((name, parts.next().unwrap_or("").to_string()));
    }
    flush(&mut fields, &mut out);
    out
}

#[test]
fn reproduces_every_xwing_draft_vector() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 3);
    for (i, v) in vectors.iter().enumerate() {
        let sk = KemSecretKey::from_seed(Suite::Lq1, Seed32::try_from_slice(&v.seed).unwrap());
        assert_eq!(
            sk.public_key().as_bytes(),
            &v.pk[..],
            "vector {i}: public key"
        );

        let pk = KemPublicKey::from_bytes(Suite::Lq1, &v.pk).unwrap();
        let eseed = EncapsulationSeed::try_from_slice(&v.eseed).unwrap();
        let (ct, ss) = pk.encapsulate_derand(&eseed).unwrap();
        assert_eq!(ct.as_bytes(), &v.ct[..], "vector {i}: ciphertext");
        assert_eq!(
            &ss.expose_secret()[..],
            &v.ss[..],
            "vector {i}: shared secret"
        );

        let ct = KemCiphertext::from_bytes(Suite::Lq1, &v.ct).unwrap();
        assert_eq!(
            &sk.decapsulate(&ct).unwrap().expose_secret()[..],
            &v.ss[..],
            "vector {i}: decaps"
        );
    }
}
