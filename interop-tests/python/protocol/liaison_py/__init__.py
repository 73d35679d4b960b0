"""liaison_py — an independent Python implementation of the Liaison protocol, version 1.

Written from the normative text (``spec/protocol.md`` for documents and envelopes,
``spec/protocol-link.md`` for the link handshake, records and rekeying), not from the Rust code.
Primitives come from third-party libraries only: ``cryptography`` (Ed25519, X25519,
ChaCha20-Poly1305), ``dilithium-py`` (ML-DSA-65/87), ``kyber-py`` (ML-KEM-768/1024) and
``hashlib`` (SHA-384, SHA3-256, SHAKE256, HMAC for HKDF).

Modules:

* :mod:`.codec`     — the one encoding of protocol.md §2 (strict reader, writer, ``info``);
* :mod:`.crypto`    — suites (§3), composite signatures (§4), identities (§5), hybrid KEM,
                      key combiner and HKDF (§11.4, link §2);
* :mod:`.documents` — certificates, requests, revocation lists, signed prekeys, receipts
                      (§6–§10, §13) and certificate validation (§9);
* :mod:`.envelope`  — envelopes: parse, verify, open, seal (§11, §12);
* :mod:`.handshake` — link frames, handshake transcript, key schedule, records, rekey
                      (protocol-link.md §3–§5).
"""

from . import codec, crypto, documents, envelope, handshake  # noqa: F401
