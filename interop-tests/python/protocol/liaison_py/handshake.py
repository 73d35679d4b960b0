"""The link channel (protocol-link.md): frames (§3), handshake messages and transcript (§4.2,
§4.3), key schedule (§4.4), sealed records (§5.1) and rekeying (§5.2).

This is a passive re-computation toolkit: given the messages of a handshake, the TLS exporter
value and the secrets one side holds, it recomputes every transcript hash and derived key.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from . import crypto
from .codec import DecodeError, Reader, Writer, info, non_canonical, too_long, unknown_value
from .crypto import Suite, Transcript, expand

# Labels (§7)
LINK_TRANSCRIPT = b"liaison link transcript v1"
LINK_RESPONDER_SIGNATURE = b"liaison link responder signature v1"
LINK_INITIATOR_SIGNATURE = b"liaison link initiator signature v1"
LINK_RESPONDER_FINISHED = b"liaison link responder finished v1"
LINK_INITIATOR_FINISHED = b"liaison link initiator finished v1"
LINK_MASTER_SECRET = b"liaison link master secret v1"
LINK_KEY_I2R, LINK_KEY_R2I = b"liaison link key i2r v1", b"liaison link key r2i v1"
LINK_IV_I2R, LINK_IV_R2I = b"liaison link iv i2r v1", b"liaison link iv r2i v1"
LINK_REKEY_TRANSCRIPT = b"liaison link rekey transcript v1"
LINK_REKEY_SECRET = b"liaison link rekey secret v1"
LINK_REKEY_CONFIRM_REQUESTER = b"liaison link rekey confirm requester v1"
LINK_REKEY_CONFIRM_RESPONDER = b"liaison link rekey confirm responder v1"

# Frame types and body limits (§3.1)
MAX_PAYLOAD_LEN = 256 * 1024 * 1024
MAX_ENVELOPE_OVERHEAD = 256 * 1024
MAX_ENVELOPE_LEN = MAX_PAYLOAD_LEN + MAX_ENVELOPE_OVERHEAD  # 268 697 600
MAX_INNER_FRAME_BODY = MAX_ENVELOPE_LEN + 64
MAX_MESSAGE_ID_LEN, MAX_ERROR_TEXT_LEN = 64, 1024
MAX_REFUSED_BODY = 1 + MAX_MESSAGE_ID_LEN + 2 + 2 + MAX_ERROR_TEXT_LEN  # 1093
MAX_SIGNED_PREKEY_LEN = 16384
MAX_ENVELOPE_PART = 1024 * 1024  # envelope bytes per EnvelopePart (§3.3)
FRAME_LIMITS = {
    0x01: 65536, 0x02: 65536, 0x03: 65536, 0x17: MAX_INNER_FRAME_BODY + 5 + 16,
    0x20: MAX_ENVELOPE_LEN, 0x21: 66, 0x22: 65536, 0x23: 32, 0x24: 65536,
    0x25: MAX_REFUSED_BODY, 0x26: MAX_SIGNED_PREKEY_LEN, 0x27: 8 + MAX_ENVELOPE_PART,
    0x28: 65536, 0x30: 8, 0x31: 8,
    0x40: 8192, 0x41: 8192, 0x42: 8192, 0x50: 0, 0x51: 1028,
}
INITIATOR_HELLO, RESPONDER_HELLO, INITIATOR_FINISH, RECORD = 0x01, 0x02, 0x03, 0x17
REFUSED, PREKEY_PUBLISH, ENVELOPE_PART = 0x25, 0x26, 0x27
INNER_TYPES = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x30, 0x31, 0x40, 0x41, 0x42,
               0x50, 0x51}
REKEY_REQUEST, REKEY_RESPONSE, REKEY_DONE = 0x40, 0x41, 0x42
MAX_SAE_ID_LEN, MAX_KEY_ID_LEN, MAX_SUPPLIED_KEYS = 255, 64, 8
MAX_CERTIFICATE_LEN = 16384
MAX_LINK_SIG = 4691
MAX_LINK_KEM = 1600


def decode_frame(data: bytes) -> tuple[int, bytes]:
    """One complete frame: ``type || be32(length) || body``; the limit is checked from the
    header alone."""
    if len(data) < 5:
        raise DecodeError("Incomplete", "frame header")
    t, n = data[0], struct.unpack(">I", data[1:5])[0]
    if t not in FRAME_LIMITS:
        raise unknown_value(f"frame type {t:#04x}")
    if n > FRAME_LIMITS[t]:
        raise too_long(f"frame {t:#04x} body {n}")
    if len(data) < 5 + n:
        raise DecodeError("Incomplete", f"needed {5 + n - len(data)}")
    if len(data) > 5 + n:
        raise DecodeError("TrailingBytes", "after frame")
    return t, data[5:]


def encode_frame(t: int, body: bytes) -> bytes:
    return bytes([t]) + struct.pack(">I", len(body)) + body


# ---------------------------------------------------------------------------------------------
# Messages (§4.2)


@dataclass
class SuppliedRefOption:
    master_sae_id: str
    slave_sae_id: str
    key_ids: list[str]


def _read_supplied_ref(r: Reader) -> SuppliedRefOption | None:
    if not r.flag("supplied_ref flag"):
        return None
    master = r.string16(MAX_SAE_ID_LEN, "master_sae_id")
    slave = r.string16(MAX_SAE_ID_LEN, "slave_sae_id")
    n = r.u8("key id count")
    if not 1 <= n <= MAX_SUPPLIED_KEYS:
        raise non_canonical(f"key id count {n}")
    return SuppliedRefOption(master, slave, [r.string16(MAX_KEY_ID_LEN, "key_id")
                                             for _ in range(n)])


@dataclass
class InitiatorHello:
    body: bytes
    version: int
    nonce: bytes
    offer: list[tuple[Suite, bytes]]
    supplied_ref: SuppliedRefOption | None

    @classmethod
    def decode(cls, body: bytes) -> "InitiatorHello":
        r = Reader(body)
        version = r.u16("version")
        nonce = r.fixed(32, "nonce_i")
        n = r.u8("offer count")
        if not 1 <= n <= 2:
            raise non_canonical(f"offer count {n}")
        offer = []
        for _ in range(n):
            s = crypto.suite(r.u8("suite"))
            pk = r.bytes16(MAX_LINK_KEM, "kem_public_key")
            if len(pk) != s.kem_pk_len:
                raise non_canonical("offered KEM key length")
            offer.append((s, pk))
        ids = [s.id for s, _ in offer]
        if any(not a > b for a, b in zip(ids, ids[1:])):
            raise non_canonical("offer not strictly descending")
        ref = _read_supplied_ref(r)
        r.finish()
        return cls(body, version, nonce, offer, ref)


@dataclass
class ResponderHello:
    body: bytes
    core: bytes
    suite: Suite
    nonce: bytes
    supplied_used: bool
    kem_ciphertext: bytes
    certificate: bytes
    signature: bytes
    finished: bytes

    @classmethod
    def decode(cls, body: bytes) -> "ResponderHello":
        r = Reader(body)
        s = crypto.suite(r.u8("suite"))
        nonce = r.fixed(32, "nonce_r")
        used = r.flag("supplied_used")
        ct = r.bytes16(MAX_LINK_KEM, "kem_ciphertext")
        if len(ct) != s.kem_ct_len:
            raise non_canonical("KEM ciphertext length")
        cert = r.bytes16(MAX_CERTIFICATE_LEN, "certificate")
        core = body[:r.pos]
        sig = r.bytes16(MAX_LINK_SIG, "signature")
        fin = r.fixed(32, "finished")
        r.finish()
        return cls(body, core, s, nonce, used, ct, cert, sig, fin)


@dataclass
class InitiatorFinish:
    body: bytes
    core: bytes
    certificate: bytes
    signature: bytes
    finished: bytes

    @classmethod
    def decode(cls, body: bytes) -> "InitiatorFinish":
        r = Reader(body)
        cert = r.bytes16(MAX_CERTIFICATE_LEN, "certificate")
        core = body[:r.pos]
        sig = r.bytes16(MAX_LINK_SIG, "signature")
        fin = r.fixed(32, "finished")
        r.finish()
        return cls(body, core, cert, sig, fin)


# ---------------------------------------------------------------------------------------------
# Transcript and key schedule (§4.3, §4.4)


@dataclass
class TranscriptHashes:
    th_rs: bytes
    th_rf: bytes
    th_is: bytes
    th_if: bytes
    th: bytes


def transcript_hashes(binding: bytes, ih: InitiatorHello, rh: ResponderHello,
                      fin: InitiatorFinish) -> TranscriptHashes:
    t = Transcript(LINK_TRANSCRIPT).absorb(binding).absorb(ih.body).absorb(rh.core)
    th_rs = t.hash()
    th_rf = t.absorb(rh.signature).hash()
    t.absorb(rh.finished).absorb(fin.core)
    th_is = t.hash()
    th_if = t.absorb(fin.signature).hash()
    th = t.absorb(fin.finished).hash()
    return TranscriptHashes(th_rs, th_rf, th_is, th_if, th)


@dataclass
class TrafficKeys:
    key_i2r: bytes
    iv_i2r: bytes
    key_r2i: bytes
    iv_r2i: bytes


def traffic_keys(master: bytes, th: bytes) -> TrafficKeys:
    return TrafficKeys(expand(master, LINK_KEY_I2R, [th], 32), expand(master, LINK_IV_I2R, [th], 12),
                       expand(master, LINK_KEY_R2I, [th], 32), expand(master, LINK_IV_R2I, [th], 12))


@dataclass
class KeySchedule:
    prk: bytes
    finished_r: bytes
    finished_i: bytes
    master: bytes
    keys: TrafficKeys


def key_schedule(ss: bytes, supplied: bytes | None, th: TranscriptHashes) -> KeySchedule:
    prk = crypto.combine(ss, supplied)
    master = expand(prk, LINK_MASTER_SECRET, [th.th], 48)
    return KeySchedule(prk, expand(prk, LINK_RESPONDER_FINISHED, [th.th_rf], 32),
                       expand(prk, LINK_INITIATOR_FINISHED, [th.th_if], 32), master,
                       traffic_keys(master, th.th))


# ---------------------------------------------------------------------------------------------
# Records (§5.1)


def record_nonce(iv: bytes, counter: int) -> bytes:
    pad = b"\x00" * 4 + struct.pack(">Q", counter)
    return bytes(a ^ b for a, b in zip(iv, pad))


def seal_record(key: bytes, iv: bytes, counter: int, inner: bytes) -> bytes:
    header = bytes([RECORD]) + struct.pack(">I", len(inner) + 16)
    return header + crypto.aead_seal(key, record_nonce(iv, counter), header, inner)


def open_record(key: bytes, iv: bytes, counter: int, record: bytes) -> tuple[int, bytes]:
    """Opens one record; returns the inner frame ``(type, body)`` (one frame of an allowed type)."""
    t, _ = decode_frame(record)
    if t != RECORD:
        raise DecodeError("UnexpectedFrame", f"{t:#04x}")
    inner = crypto.aead_open(key, record_nonce(iv, counter), record[:5], record[5:])
    it, body = decode_frame(inner)
    if it not in INNER_TYPES:
        raise DecodeError("UnexpectedFrame", f"inner {it:#04x}")
    return it, body


# ---------------------------------------------------------------------------------------------
# Rekey (§5.2)


@dataclass
class RekeyRequest:
    epoch: int
    kem_public_key: bytes
    supplied_ref: SuppliedRefOption | None

    @classmethod
    def decode(cls, body: bytes) -> "RekeyRequest":
        r = Reader(body)
        epoch = r.u32("epoch")
        pk = r.bytes16(8192, "kem_public_key")
        ref = _read_supplied_ref(r)
        r.finish()
        return cls(epoch, pk, ref)


@dataclass
class RekeyResponse:
    epoch: int
    kem_ciphertext: bytes
    supplied_used: bool
    confirm: bytes

    @classmethod
    def decode(cls, body: bytes) -> "RekeyResponse":
        r = Reader(body)
        epoch = r.u32("epoch")
        ct = r.bytes16(8192, "kem_ciphertext")
        used = r.flag("supplied_used")
        confirm = r.fixed(32, "confirm")
        r.finish()
        return cls(epoch, ct, used, confirm)


@dataclass
class RekeyDone:
    epoch: int
    confirm: bytes

    @classmethod
    def decode(cls, body: bytes) -> "RekeyDone":
        r = Reader(body)
        epoch = r.u32("epoch")
        confirm = r.fixed(32, "confirm")
        r.finish()
        return cls(epoch, confirm)


@dataclass
class RekeySchedule:
    fresh: bytes
    th: bytes
    master: bytes
    confirm_a: bytes  # answerer (responder of the rekey)
    confirm_r: bytes  # requester
    keys: TrafficKeys


def rekey_schedule(prev_th: bytes, prev_master: bytes, request_body: bytes,
                   response_body: bytes, ss: bytes, supplied: bytes | None) -> RekeySchedule:
    fresh = crypto.combine(ss, supplied)
    th = (Transcript(LINK_REKEY_TRANSCRIPT).absorb(prev_th).absorb(request_body)
          .absorb(response_body[:-32]).hash())
    master = crypto.hkdf_expand(crypto.hkdf_extract(prev_master, fresh),
                                info(LINK_REKEY_SECRET, [th]), 48)
    return RekeySchedule(fresh, th, master, expand(master, LINK_REKEY_CONFIRM_RESPONDER, [th], 32),
                         expand(master, LINK_REKEY_CONFIRM_REQUESTER, [th], 32),
                         traffic_keys(master, th))


def encode_supplied_ref(ref: SuppliedRefOption | None) -> bytes:
    if ref is None:
        return b"\x00"
    w = Writer().u8(1).string16(ref.master_sae_id, MAX_SAE_ID_LEN).string16(
        ref.slave_sae_id, MAX_SAE_ID_LEN).u8(len(ref.key_ids))
    for k in ref.key_ids:
        w.string16(k, MAX_KEY_ID_LEN)
    return bytes(w)
