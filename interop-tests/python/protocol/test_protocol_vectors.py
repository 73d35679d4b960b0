"""spec/test-vectors/*.json checked by liaison_py, an implementation written from the spec text.

Every certificate, request, revocation list, signed prekey, envelope and receipt is parsed;
both halves of every composite signature are verified; every identity and prekey key pair is
re-derived from its published seed; every envelope is opened for every recipient with every
intermediate value (KEM secret, combiner PRK, KEK, content key, plaintext, hashes) compared;
and every link handshake is recomputed (KEM, transcript hashes, finished values, key schedule,
records, rekey). Negative cases check that liaison_py refuses what the spec says to refuse.
"""

from __future__ import annotations

import pytest

from conftest import hx
from liaison_py import crypto
from liaison_py.codec import DecodeError
from liaison_py.documents import (
    CLASSIFICATIONS, ROLES, TLPS, Certificate, ProtoError, Receipt, RevocationList, TrustStore,
)
from liaison_py import envelope as envelope_labels
from liaison_py.envelope import CONTENT_TYPES, Envelope
from liaison_py import handshake as hs

TALLY = crypto.TALLY


def eq(got: bytes, want_hex: str, what: str) -> None:
    """Byte-exact comparison with a hex value from a vector file; counted."""
    assert got.hex() == want_hex, what
    TALLY["values recomputed and byte-compared"] += 1


# ---------------------------------------------------------------------------------------------
# Certificates, requests, revocation list, prekeys (protocol.md §5–§10)


def test_identities_requests_and_seeds(documents, vectors):
    """§5, §7: ids and fingerprints; request signatures; published seeds reproduce the keys."""
    for ident, m in documents.members.items():
        v, cert, req = m.vec, m.cert, m.request
        s = crypto.SUITES_BY_NAME[v["suite"]]
        assert cert.suite is s and req.suite is s
        eq(cert.public_key, v["public_key"], "certificate public key")
        eq(crypto.identity_id(s, cert.public_key), v["identity_id"], "identity id")
        assert crypto.fingerprint(ident) == v["fingerprint"]
        key = crypto.SigningKey.from_seed(s, hx(v["identity_seed"]))
        eq(key.public_key, v["public_key"], "public key from identity seed")
        assert req.public_key == cert.public_key and req.subject == ident
        assert (req.name, req.organisation) == (cert.name, cert.organisation)
        req.verify()
        TALLY["certificate requests verified"] += 1
    seed = hx(vectors["certificates"]["authority"]["identity_seed"])
    eq(crypto.SigningKey.from_seed(documents.anchor_suite, seed).public_key,
       documents.anchor_pk.hex(), "authority key from seed")


def test_certificates_validate(documents, vectors):
    """§6, §9: every certificate's fields, and validation at ``now`` (the revoked one fails)."""
    c = vectors["certificates"]
    now = documents.now
    assert crypto.identity_id(documents.anchor_suite, documents.anchor_pk).hex() == \
        c["authority"]["identity_id"]
    crl = RevocationList.decode(hx(c["revocation_list"]["bytes"]))
    documents.trust.install_revocations(crl, now)
    TALLY["revocation lists installed"] += 1
    rv = c["revocation_list"]
    assert (crl.number, crl.this_update, crl.next_update) == \
        (rv["number"], rv["this_update"], rv["next_update"])
    assert crl.serials == rv["revoked_serials"]
    assert [x.hex() for x in crl.subjects] == rv["revoked_subjects"]
    # Installing the identical list again is a no-op (§8 step 3).
    documents.trust.install_revocations(RevocationList.decode(crl.raw), now)

    revoked_id = hx(c["revoked_officer"]["member"]["identity_id"])
    for ident, m in documents.members.items():
        f, cert = m.vec["fields"], m.cert
        assert cert.tbs == m.vec["certificate_signed_len"]
        assert (cert.serial, cert.issuer.hex(), ROLES[cert.role], cert.name,
                cert.organisation, cert.not_before, cert.not_after) == \
            (f["serial"], f["issuer"], f["role"], f["name"], f["organisation"],
             f["not_before"], f["not_after"])
        assert CLASSIFICATIONS[cert.clearance] == f["clearance"]
        assert (cert.home_relay.hex() if cert.home_relay else None) == f["home_relay"]
        assert cert.address == f["address"]
        if ident == revoked_id:
            with pytest.raises(ProtoError) as e:
                documents.trust.validate(cert, now)
            assert e.value.kind == c["revoked_officer"]["expected"] == "CertificateRevoked"
        else:
            documents.trust.validate(cert, now)
            TALLY["member certificates validated"] += 1
    # Outside the validity window (§9 step 4).
    some = next(iter(documents.members.values())).cert
    for t, kind in ((some.not_before - 1, "CertificateNotYetValid"),
                    (some.not_after + 1, "CertificateExpired")):
        with pytest.raises(ProtoError) as e:
            documents.trust.validate(some, t)
        assert e.value.kind == kind
    # Unknown issuer (§9 step 1).
    with pytest.raises(ProtoError) as e:
        TrustStore().validate(some, now)
    assert e.value.kind == "UnknownIssuer"


def test_signed_prekeys(documents):
    """§10: prekey ids, owner signatures, and KEM key pairs from the published KEM seeds."""
    n = 0
    for m in documents.members.values():
        if m.prekey is None:
            continue
        p, v = m.prekey, m.vec["prekey"]
        eq(p.prekey_id, v["prekey_id"], "prekey id")
        eq(p.kem_public_key, v["kem_public_key"], "prekey KEM public key")
        assert (p.created, p.expires) == (v["created"], v["expires"])
        p.verify(m.cert, documents.now)
        kp = crypto.KemKeyPair.from_seed(p.suite, hx(v["kem_seed"]))
        eq(kp.public_key, v["kem_public_key"], "KEM public key from seed")
        n += 1
    assert n == 9
    TALLY["signed prekeys verified"] += n


def test_certificate_tamper_is_refused(documents):
    """A flipped byte in the signed part of a certificate → BadSignature (or a decode error)."""
    cert = next(iter(documents.members.values())).cert
    raw = bytearray(cert.raw)
    raw[cert.tbs - 1] ^= 0x01  # low byte of not_after
    with pytest.raises(ProtoError) as e:
        documents.trust.validate(Certificate.decode(bytes(raw)), documents.now)
    assert e.value.kind == "BadSignature"
    TALLY["negative cases refused (Python)"] += 1


# ---------------------------------------------------------------------------------------------
# Envelopes (§11) and receipts (§13)


def _envelope_ids(vectors):
    return [e["name"] for e in vectors["envelopes"]["envelopes"]]


ENVELOPE_NAMES = [
    "lq1-1-recipient", "lq1-1-recipient-supplied", "lq1-3-recipients",
    "lq1-3-recipients-supplied", "lq2-1-recipient", "lq2-1-recipient-supplied",
    "lq2-3-recipients", "lq2-3-recipients-supplied",
]


def _env_vec(vectors, name):
    return next(e for e in vectors["envelopes"]["envelopes"] if e["name"] == name)


def test_envelope_names_cover_the_file(vectors):
    assert _envelope_ids(vectors) == ENVELOPE_NAMES
    assert vectors["envelopes"]["trust_anchor"] == vectors["certificates"]["authority"][
        "identity_id"]


def test_envelope_labels_are_the_ones_liaison_py_uses(vectors):
    """§16: the labels the Rust generator wrote are the bytes liaison_py hashes with, so a label
    changed on one side only (e.g. the transcript's v1 -> v2) fails here by name rather than as
    a bad signature further down."""
    ours = {
        "header_hash": envelope_labels.HEADER_HASH,
        "payload_hash": envelope_labels.PAYLOAD_HASH,
        "transcript": envelope_labels.TRANSCRIPT,
        "signature": envelope_labels.CTX[envelope_labels.T_ENVELOPE],
        "kek": envelope_labels.KEK_LABEL,
        "envelope_hash": envelope_labels.ENVELOPE_HASH,
        "key_combiner_salt": crypto.KEY_COMBINER,
    }
    assert vectors["envelopes"]["labels"] == {k: v.decode() for k, v in ours.items()}


@pytest.mark.parametrize("name", ENVELOPE_NAMES)
def test_envelope_opens_for_every_recipient(documents, vectors, name):
    v = _env_vec(vectors, name)
    now = vectors["envelopes"]["now"]
    env = Envelope.decode(hx(v["envelope"]))
    h = env.header
    # Header fields (§11.1)
    assert h.suite.name == v["suite"]
    eq(h.message_id, v["message_id"], "message id")
    eq(h.sender, v["sender"], "sender")
    assert CLASSIFICATIONS[h.classification] == v["classification"]
    assert TLPS[h.tlp] == v["tlp"]
    assert CONTENT_TYPES[h.content_type] == v["content_type"]
    assert (h.created, h.expires) == (v["created"], v["expires"])
    assert [r.hex() for r in h.recipients] == v["recipients"]
    # Sections and hashes (§11.3)
    eq(env.header_bytes, v["header"], "header")
    eq(env.header_hash, v["header_hash"], "header hash")
    eq(env.recipient_section, v["recipient_section"], "recipient section")
    eq(env.ciphertext, v["payload_ciphertext"], "payload ciphertext")
    eq(env.payload_hash, v["payload_hash"], "payload hash")
    eq(env.signed_digest, v["signed_digest"], "signed digest")
    eq(env.envelope_hash, v["envelope_hash"], "envelope hash")
    # The sender's published seed reproduces the certificate key.
    sender = documents.members[h.sender]
    eq(crypto.SigningKey.from_seed(h.suite, hx(v["sender_identity_seed"])).public_key,
       sender.cert.public_key.hex(), "sender key from seed")
    env.verify_sender(documents.trust, now)
    TALLY["envelope sender signatures verified"] += 1
    assert len(env.blocks) == len(v["blocks"])
    for block, bv in zip(env.blocks, v["blocks"]):
        eq(block.recipient, bv["recipient"], "block recipient")
        eq(block.prekey_id, bv["prekey_id"], "block prekey id")
        eq(block.kem_ciphertext, bv["kem_ciphertext"], "KEM ciphertext")
        eq(block.supplied_field, bv["supplied_field"], "supplied field")
        eq(block.wrapped_key, bv["wrapped_key"], "wrapped key")
        ref = bv["supplied_key_ref"]
        assert (None if block.supplied is None else block.supplied.__dict__) == ref
        me = documents.members[block.recipient]
        eq(crypto.SigningKey.from_seed(h.suite, hx(bv["recipient_identity_seed"])).public_key,
           me.cert.public_key.hex(), "recipient key from seed")
        prekey = crypto.KemKeyPair.from_seed(h.suite, hx(bv["prekey_kem_seed"]))
        opened = env.open(documents.trust, me.cert, [prekey], hx(bv["supplied_key"]), now)
        eq(opened.shared_secret, bv["kem_shared_secret"], "KEM shared secret")
        eq(opened.prk, bv["combined_prk"], "combiner PRK")
        eq(opened.kek, bv["kek"], "KEK")
        eq(opened.content_key, bv["content_key"], "content key")
        eq(opened.plaintext, v["plaintext"], "plaintext")
        TALLY["vector envelopes opened, per recipient"] += 1


def test_envelope_negative_cases(documents, vectors):
    """Flipped bytes, wrong keys and wrong times are refused with the spec's errors."""
    v = _env_vec(vectors, "lq1-1-recipient-supplied")
    now = vectors["envelopes"]["now"]
    raw = hx(v["envelope"])
    env = Envelope.decode(raw)
    bv = v["blocks"][0]
    me = documents.members[env.blocks[0].recipient].cert
    prekey = crypto.KemKeyPair.from_seed(env.header.suite, hx(bv["prekey_kem_seed"]))
    key = hx(bv["supplied_key"])
    hlen, rlen = len(env.header_bytes), len(env.recipient_section)

    def refused(data: bytes, supplied=key, at=now, prekeys=(prekey,)):
        with pytest.raises((ProtoError, DecodeError)) as e:
            Envelope.decode(data).open(documents.trust, me, list(prekeys), supplied, at)
        TALLY["negative cases refused (Python)"] += 1
        return e.value.kind

    def flip(pos: int) -> bytes:
        b = bytearray(raw)
        b[pos] ^= 0x01
        return bytes(b)

    # One flipped byte anywhere → refused: in the header's TLP byte, the message id, a KEM
    # ciphertext, a wrapped key, the payload ciphertext, and both signature halves.
    tlp_pos = hlen - 2 - 32 * len(env.header.recipients) - 8 - 2 - 1 - 8 - 8 - 1
    assert raw[tlp_pos] == env.header.tlp
    for pos in (tlp_pos, 3, hlen + 64 + 2 + 10, hlen + rlen - 1, hlen + rlen + 4 + 3,
                len(raw) - 100, len(raw) - env.header.suite.sig_len + 5):
        assert refused(flip(pos)) == "BadSignature", pos
    # A flipped version byte is a decode error; a truncated envelope too; trailing bytes too.
    assert refused(flip(0)) == "UnknownValue"
    assert refused(raw[:-1]) == "Truncated"
    assert refused(raw + b"\x00") == "TrailingBytes"
    # Wrong, missing and unexpected supplied keys (§11.6).
    assert refused(raw, supplied=bytes(32)) == "RecipientBlockMismatch"
    assert refused(raw, supplied=None) == "SuppliedKeyNotProvided"
    assert refused(raw, supplied=bytes(8)) == "SuppliedKeyLength"
    other = crypto.KemKeyPair.from_seed(env.header.suite, bytes(32))
    assert refused(raw, prekeys=(other,)) == "UnknownPrekey"
    # Time (§11.5 step 4).
    assert refused(raw, at=env.header.expires + 1) == "EnvelopeExpired"
    assert refused(raw, at=env.header.created - 301) == "EnvelopeFromFuture"
    # Not a recipient.
    stranger = next(m.cert for i, m in documents.members.items()
                    if i not in env.header.recipients and m.cert.role == 2
                    and m.cert.serial != 1030)
    with pytest.raises(ProtoError) as e:
        env.open(documents.trust, stranger, [prekey], key, now)
    assert e.value.kind == "NotARecipient"
    # Without the supplied key... in an unsupplied envelope, a key given is unexpected.
    v2 = _env_vec(vectors, "lq1-1-recipient")
    env2 = Envelope.decode(hx(v2["envelope"]))
    me2 = documents.members[env2.blocks[0].recipient].cert
    pk2 = crypto.KemKeyPair.from_seed(env2.header.suite, hx(v2["blocks"][0]["prekey_kem_seed"]))
    with pytest.raises(ProtoError) as e:
        env2.open(documents.trust, me2, [pk2], bytes(32), now)
    assert e.value.kind == "UnexpectedSuppliedKey"


def test_receipts(documents, vectors):
    """§13: every receipt verifies against its envelope and recipient certificate."""
    envs = {e["name"]: Envelope.decode(hx(e["envelope"]))
            for e in vectors["envelopes"]["envelopes"]}
    now = vectors["envelopes"]["now"]
    assert len(vectors["receipts"]["receipts"]) == 8
    for x in vectors["receipts"]["receipts"]:
        rc = Receipt.decode(hx(x["receipt"]))
        assert rc.tbs == x["signed_bytes_len"]
        eq(rc.message_id, x["message_id"], "receipt message id")
        eq(rc.envelope_hash, x["envelope_hash"], "receipt envelope hash")
        eq(rc.sender, x["sender"], "receipt sender")
        eq(rc.recipient, x["recipient"], "receipt recipient")
        assert rc.received_at == x["received_at"]
        eq(rc.custody_id(), x["custody_id"], "receipt custody id")
        assert rc.custody_id() != rc.message_id
        env = envs[x["envelope"]]
        rc.verify(documents.trust, documents.members[rc.recipient].cert, env, now)
        TALLY["vector receipts verified"] += 1
        # The same receipt against another envelope is a mismatch.
        other = envs[ENVELOPE_NAMES[(ENVELOPE_NAMES.index(x["envelope"]) + 2) % 8]]
        with pytest.raises(ProtoError) as e:
            rc.verify(documents.trust, documents.members[rc.recipient].cert, other, now)
        assert e.value.kind == "ReceiptMismatch"
        TALLY["negative cases refused (Python)"] += 1


# ---------------------------------------------------------------------------------------------
# Link handshake (protocol-link.md §4, §5)


HANDSHAKE_CASES = ["LQ1 without supplied key", "LQ1 with supplied key",
                   "LQ2 without supplied key", "LQ2 with supplied key"]


def _case(vectors, name):
    return next(c for c in vectors["handshake"]["cases"] if c["name"] == name)


def _supplied_ref(sk):
    if sk is None:
        return None
    return hs.SuppliedRefOption(sk["master_sae_id"], sk["slave_sae_id"], sk["key_ids"])


def _frame(hex_: str, t: int) -> bytes:
    ft, body = hs.decode_frame(hx(hex_))
    assert ft == t
    return body


@pytest.mark.parametrize("name", HANDSHAKE_CASES)
def test_link_handshake(vectors, name):
    c = _case(vectors, name)
    s = crypto.SUITES_BY_NAME[c["suite"]]
    now = c["now_unix"]
    binding = hx(c["tls_exporter"])
    # Certificates of both sides, under this case's authority.
    auth_pk = hx(c["authority"]["public_key"])
    auth_suite = next(x for x in crypto.SUITES.values() if x.sig_pk_len == len(auth_pk))
    eq(crypto.SigningKey.from_seed(auth_suite, hx(c["authority"]["signing_seed"])).public_key,
       c["authority"]["public_key"], "authority key from seed")
    trust = TrustStore()
    trust.add_anchor(auth_suite, auth_pk)

    ih = hs.InitiatorHello.decode(_frame(c["messages"]["initiator_hello"], hs.INITIATOR_HELLO))
    rh = hs.ResponderHello.decode(_frame(c["messages"]["responder_hello"], hs.RESPONDER_HELLO))
    fin = hs.InitiatorFinish.decode(_frame(c["messages"]["initiator_finish"],
                                           hs.INITIATOR_FINISH))
    assert ih.version == 1
    eq(ih.nonce, c["randomness"]["initiator_nonce"], "nonce_i")
    eq(rh.nonce, c["randomness"]["responder_nonce"], "nonce_r")
    assert [x.name for x, _ in ih.offer] == c["initiator_accepts"]
    # §4.5 responder step 3: the first offered suite it accepts.
    chosen = next(x for x, _ in ih.offer if x.name in c["responder_accepts"])
    assert rh.suite is chosen is s
    # The offer's KEM keys from the initiator's seeds; the responder's encapsulation from its seed.
    pairs = {x.name: crypto.KemKeyPair.from_seed(x, hx(c["randomness"]["initiator_kem_seeds"][
        x.name])) for x, _ in ih.offer}
    for x, pk in ih.offer:
        eq(pk, pairs[x.name].public_key.hex(), f"offered {x.name} KEM key from seed")
    offered_pk = dict((x.name, pk) for x, pk in ih.offer)[s.name]
    ct, ss_enc = crypto.encapsulate(s, offered_pk, hx(c["randomness"][
        "responder_encapsulation_seed"]))
    eq(ct, rh.kem_ciphertext.hex(), "KEM ciphertext from encapsulation seed")
    ss = pairs[s.name].decapsulate(rh.kem_ciphertext)
    assert ss == ss_enc
    eq(ss, c["kem_shared_secret"], "handshake KEM shared secret")
    # Supplied keys: the ref in the hello, and the concatenation in key-id order (§4.4).
    sk = c["supplied_key"]
    ref = ih.supplied_ref
    assert (ref.__dict__ if ref else None) == (_supplied_ref(sk).__dict__ if sk else None)
    assert rh.supplied_used == (sk is not None)
    k = None
    if sk is not None:
        k = b"".join(hx(x) for x in sk["keys"])
        eq(k, c["supplied_key_concatenated"], "concatenated supplied keys")
    # Transcript (§4.3)
    th = hs.transcript_hashes(binding, ih, rh, fin)
    t = c["transcript"]
    eq(th.th_rs, t["th_responder_signature"], "th_rs")
    eq(th.th_rf, t["th_responder_finished"], "th_rf")
    eq(th.th_is, t["th_initiator_signature"], "th_is")
    eq(th.th_if, t["th_initiator_finished"], "th_if")
    eq(th.th, t["th_session"], "th")
    TALLY["link transcript hashes recomputed"] += 5
    # Certificates and signatures (§4.5)
    for side, cert_bytes, sig, ctx, m in (
            ("responder", rh.certificate, rh.signature, hs.LINK_RESPONDER_SIGNATURE, th.th_rs),
            ("initiator", fin.certificate, fin.signature, hs.LINK_INITIATOR_SIGNATURE, th.th_is)):
        eq(cert_bytes, c[side]["certificate"], f"{side} certificate")
        cert = Certificate.decode(cert_bytes)
        trust.validate(cert, now)
        eq(crypto.SigningKey.from_seed(cert.suite, hx(c[side]["signing_seed"])).public_key,
           cert.public_key.hex(), f"{side} key from seed")
        crypto.composite_verify(cert.suite, cert.public_key, ctx, m, sig)
        TALLY["link handshake signatures verified"] += 1
    # Key schedule (§4.4)
    ks = hs.key_schedule(ss, k, th)
    eq(ks.prk, c["handshake_secret"], "handshake prk")
    eq(ks.finished_r, c["finished"]["responder"], "finished_r")
    eq(rh.finished, c["finished"]["responder"], "ResponderHello.finished")
    eq(ks.finished_i, c["finished"]["initiator"], "finished_i")
    eq(fin.finished, c["finished"]["initiator"], "InitiatorFinish.finished")
    eq(ks.master, c["master_secret"], "master secret")
    tk = c["traffic_keys_epoch0"]
    for f, got in (("i2r_key", ks.keys.key_i2r), ("i2r_iv", ks.keys.iv_i2r),
                   ("r2i_key", ks.keys.key_r2i), ("r2i_iv", ks.keys.iv_r2i)):
        eq(got, tk[f], f"epoch 0 {f}")
    TALLY["link key schedules recomputed"] += 1
    # Records (§5.1): re-seal byte for byte and open; counters start at 0.
    fr = c["first_records"]
    k0 = ks.keys
    eq(hs.seal_record(k0.key_i2r, k0.iv_i2r, 0, hx(fr["initiator_inner_frame"])),
       fr["initiator_record"], "first i2r record")
    eq(hs.seal_record(k0.key_r2i, k0.iv_r2i, 0, hx(fr["responder_inner_frame"])),
       fr["responder_record"], "first r2i record")
    hs.open_record(k0.key_i2r, k0.iv_i2r, 0, hx(fr["initiator_record"]))
    with pytest.raises(crypto.CryptoError):  # replay under the next counter
        hs.open_record(k0.key_i2r, k0.iv_i2r, 1, hx(fr["initiator_record"]))
    TALLY["negative cases refused (Python)"] += 1
    # Rekey (§5.2), requested by the initiator: request i2r#1, response r2i#1, done i2r#2.
    rk = c["rekey"]
    req_t, req_body = hs.open_record(k0.key_i2r, k0.iv_i2r, 1, hx(rk["request_record"]))
    eq(hs.encode_frame(req_t, req_body), rk["request_inner_frame"], "rekey request frame")
    resp_t, resp_body = hs.open_record(k0.key_r2i, k0.iv_r2i, 1, hx(rk["response_record"]))
    eq(hs.encode_frame(resp_t, resp_body), rk["response_inner_frame"], "rekey response frame")
    done_t, done_body = hs.open_record(k0.key_i2r, k0.iv_i2r, 2, hx(rk["done_record"]))
    eq(hs.encode_frame(done_t, done_body), rk["done_inner_frame"], "rekey done frame")
    assert (req_t, resp_t, done_t) == (hs.REKEY_REQUEST, hs.REKEY_RESPONSE, hs.REKEY_DONE)
    req = hs.RekeyRequest.decode(req_body)
    resp = hs.RekeyResponse.decode(resp_body)
    done = hs.RekeyDone.decode(done_body)
    assert req.epoch == resp.epoch == done.epoch == 1
    rsk = rk["supplied_key"]
    assert (req.supplied_ref.__dict__ if req.supplied_ref else None) == \
        (_supplied_ref(rsk).__dict__ if rsk else None)
    assert resp.supplied_used == (rsk is not None)
    kp1 = crypto.KemKeyPair.from_seed(s, hx(rk["requester_kem_seed"]))
    eq(req.kem_public_key, kp1.public_key.hex(), "rekey KEM key from seed")
    ct1, ss1e = crypto.encapsulate(s, req.kem_public_key, hx(rk["responder_encapsulation_seed"]))
    eq(ct1, resp.kem_ciphertext.hex(), "rekey ciphertext from seed")
    ss1 = kp1.decapsulate(resp.kem_ciphertext)
    assert ss1 == ss1e
    eq(ss1, rk["kem_shared_secret"], "rekey shared secret")
    k1 = b"".join(hx(x) for x in rsk["keys"]) if rsk else None
    r1 = hs.rekey_schedule(th.th, ks.master, req_body, resp_body, ss1, k1)
    eq(r1.fresh, rk["fresh_secret"], "fresh_1")
    eq(r1.th, rk["transcript_hash"], "th_1")
    eq(r1.master, rk["master_secret"], "master_1")
    eq(r1.confirm_a, rk["confirm_responder"], "confirm_a")
    eq(resp.confirm, rk["confirm_responder"], "RekeyResponse.confirm")
    eq(r1.confirm_r, rk["confirm_requester"], "confirm_r")
    eq(done.confirm, rk["confirm_requester"], "RekeyDone.confirm")
    tk1 = rk["traffic_keys_epoch1"]
    k1k = r1.keys
    for f, got in (("i2r_key", k1k.key_i2r), ("i2r_iv", k1k.iv_i2r), ("r2i_key", k1k.key_r2i),
                   ("r2i_iv", k1k.iv_r2i)):
        eq(got, tk1[f], f"epoch 1 {f}")
    fe = rk["first_record_epoch1"]
    eq(hs.seal_record(k1k.key_i2r, k1k.iv_i2r, 0, hx(fe["inner_frame"])), fe["record"],
       "first epoch-1 record")
    TALLY["link rekeys recomputed"] += 1


def test_link_handshake_tamper(vectors):
    """A flipped bit in any absorbed message changes the transcript, so the finished value
    recomputed by the peer differs (KeyConfirmationFailed) — and the signature fails."""
    c = _case(vectors, "LQ1 with supplied key")
    binding = hx(c["tls_exporter"])
    ih_b = _frame(c["messages"]["initiator_hello"], hs.INITIATOR_HELLO)
    rh = hs.ResponderHello.decode(_frame(c["messages"]["responder_hello"], hs.RESPONDER_HELLO))
    fin = hs.InitiatorFinish.decode(_frame(c["messages"]["initiator_finish"],
                                           hs.INITIATOR_FINISH))
    k = hx(c["supplied_key_concatenated"])
    ss = hx(c["kem_shared_secret"])
    # Stripping the LQ2 offer (downgrade) or flipping the nonce changes th_rs / finished_r.
    bad = bytearray(ih_b)
    bad[5] ^= 1
    ih = hs.InitiatorHello.decode(bytes(bad))
    ks = hs.key_schedule(ss, k, hs.transcript_hashes(binding, ih, rh, fin))
    assert ks.finished_r != rh.finished
    # Same messages, another TLS exporter (relayed onto another connection).
    ih = hs.InitiatorHello.decode(ih_b)
    ks = hs.key_schedule(ss, k, hs.transcript_hashes(bytes(32), ih, rh, fin))
    assert ks.finished_r != rh.finished
    # Same transcript, another supplied key.
    ks = hs.key_schedule(ss, bytes(len(k)), hs.transcript_hashes(binding, ih, rh, fin))
    assert ks.finished_r != rh.finished
    TALLY["negative cases refused (Python)"] += 3
    # Malformed frames: unknown type, over-long body, trailing bytes.
    for data, kind in ((b"\x09\x00\x00\x00\x00", "UnknownValue"),
                       (b"\x21\x00\x00\x00\x43" + bytes(67), "TooLong"),
                       (hx(c["messages"]["initiator_hello"]) + b"\x00", "TrailingBytes")):
        with pytest.raises(DecodeError) as e:
            hs.decode_frame(data)
        assert e.value.kind == kind
        TALLY["negative cases refused (Python)"] += 1


def test_ed25519_strict_rules():
    """§4: "Ed25519 strict: canonical S, no small-order A or R". OpenSSL alone accepts the
    all-identity forgery (A = R = identity, S = 0) for any message; liaison_py refuses it, and
    a non-canonical S, before the ML-DSA half is looked at."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    identity = bytes([1]) + bytes(31)
    forged = identity + bytes(32)
    Ed25519PublicKey.from_public_bytes(identity).verify(forged, b"any message")  # OpenSSL: ok
    s = crypto.LQ1
    for pk_ed, sig_ed in ((identity, forged),
                          (crypto.SigningKey.from_seed(s, bytes(32)).public_key[:32],
                           identity + bytes(32))):
        with pytest.raises(crypto.CryptoError, match="small-order"):
            crypto.composite_verify(s, pk_ed + bytes(s.sig_pk_len - 32), b"ctx", b"m",
                                    sig_ed + bytes(s.sig_len - 64))
    key = crypto.SigningKey.from_seed(s, bytes(32))
    good = key.ed.sign(crypto.composite_message(s, b"ctx", b"m"))
    r, sc = good[:32], int.from_bytes(good[32:], "little")
    non_canonical = r + (sc + 2**252 + 27742317777372353535851937790883648493).to_bytes(
        32, "little")
    with pytest.raises(crypto.CryptoError, match="non-canonical S"):
        crypto.composite_verify(s, key.public_key, b"ctx", b"m",
                                non_canonical + bytes(s.sig_len - 64))
    TALLY["negative cases refused (Python)"] += 3
