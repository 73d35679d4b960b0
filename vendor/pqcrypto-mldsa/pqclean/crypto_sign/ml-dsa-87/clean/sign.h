#ifndef PQCLEAN_MLDSA87_CLEAN_SIGN_H
#define PQCLEAN_MLDSA87_CLEAN_SIGN_H
#include "params.h"
#include "poly.h"
#include "polyvec.h"
#include <stddef.h>
#include <stdint.h>

int PQCLEAN_MLDSA87_CLEAN_crypto_sign_keypair(uint8_t *pk, uint8_t *sk);

int PQCLEAN_MLDSA87_CLEAN_crypto_sign_signature_ctx(uint8_t *sig, size_t *siglen,
        const uint8_t *m, size_t mlen,
        const uint8_t *ctx, size_t ctxlen,
        const uint8_t *sk);

/* Liaison patch: signing with caller-supplied rnd (sign.c, vendor/README.md). */
int PQCLEAN_MLDSA87_CLEAN_crypto_sign_signature_internal(uint8_t *sig, size_t *siglen, /* Liaison patch */
        const uint8_t *m, size_t mlen, /* Liaison patch */
        const uint8_t *pre, size_t prelen, /* Liaison patch */
        const uint8_t rnd[RNDBYTES], const uint8_t *sk); /* Liaison patch */

int PQCLEAN_MLDSA87_CLEAN_crypto_sign_ctx(uint8_t *sm, size_t *smlen,
        const uint8_t *m, size_t mlen,
        const uint8_t *ctx, size_t ctxlen,
        const uint8_t *sk);

int PQCLEAN_MLDSA87_CLEAN_crypto_sign_verify_ctx(const uint8_t *sig, size_t siglen,
        const uint8_t *m, size_t mlen,
        const uint8_t *ctx, size_t ctxlen,
        const uint8_t *pk);

int PQCLEAN_MLDSA87_CLEAN_crypto_sign_open_ctx(uint8_t *m, size_t *mlen,
        const uint8_t *sm, size_t smlen,
        const uint8_t *ctx, size_t ctxlen,
        const uint8_t *pk);

#endif
