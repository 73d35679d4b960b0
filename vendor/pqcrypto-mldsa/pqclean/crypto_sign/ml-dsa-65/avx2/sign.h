#ifndef PQCLEAN_MLDSA65_AVX2_SIGN_H
#define PQCLEAN_MLDSA65_AVX2_SIGN_H
#include "params.h"
#include "poly.h"
#include "polyvec.h"
#include <stddef.h>
#include <stdint.h>

int PQCLEAN_MLDSA65_AVX2_crypto_sign_keypair(uint8_t *pk, uint8_t *sk);

int PQCLEAN_MLDSA65_AVX2_crypto_sign_signature_ctx(uint8_t *sig, size_t *siglen,
        const uint8_t *m, size_t mlen,
        const uint8_t *ctx, size_t ctxlen,
        const uint8_t *sk);

/* Liaison patch: signing with caller-supplied rnd (sign.c, vendor/README.md). */
int PQCLEAN_MLDSA65_AVX2_crypto_sign_signature_internal(uint8_t *sig, size_t *siglen, /* Liaison patch */
        const uint8_t *m, size_t mlen, /* Liaison patch */
        const uint8_t *pre, size_t prelen, /* Liaison patch */
        const uint8_t rnd[RNDBYTES], const uint8_t *sk); /* Liaison patch */

int PQCLEAN_MLDSA65_AVX2_crypto_sign_ctx(uint8_t *sm, size_t *smlen,
        const uint8_t *m, size_t mlen,
        const uint8_t *ctx, size_t ctxlen,
        const uint8_t *sk);

int PQCLEAN_MLDSA65_AVX2_crypto_sign_verify_ctx(const uint8_t *sig, size_t siglen,
        const uint8_t *m, size_t mlen,
        const uint8_t *ctx, size_t ctxlen,
        const uint8_t *pk);

/* Liaison patch: verification with the public key expanded once (vendor/README.md, patch 7).
 * The parts of verification that depend on the public key alone: tr = H(pk), the matrix A
 * (as the verifier samples it) and NTT(t1 * 2^d). 32-byte aligned, like every poly. */
typedef struct { /* Liaison patch */
    polyvecl mat[K]; /* Liaison patch */
    polyveck t1; /* Liaison patch */
    uint8_t tr[TRBYTES]; /* Liaison patch */
} PQCLEAN_MLDSA65_AVX2_expanded_pk; /* Liaison patch */

size_t PQCLEAN_MLDSA65_AVX2_crypto_sign_expanded_pk_bytes(void); /* Liaison patch */
void PQCLEAN_MLDSA65_AVX2_crypto_sign_expand_pk(uint8_t *epk, const uint8_t *pk); /* Liaison patch */
int PQCLEAN_MLDSA65_AVX2_crypto_sign_verify_ctx_expanded(const uint8_t *sig, size_t siglen, /* Liaison patch */
        const uint8_t *m, size_t mlen, /* Liaison patch */
        const uint8_t *ctx, size_t ctxlen, /* Liaison patch */
        const uint8_t *epk); /* Liaison patch */

int PQCLEAN_MLDSA65_AVX2_crypto_sign_open_ctx(uint8_t *m, size_t *mlen,
        const uint8_t *sm, size_t smlen,
        const uint8_t *ctx, size_t ctxlen,
        const uint8_t *pk);

#endif
