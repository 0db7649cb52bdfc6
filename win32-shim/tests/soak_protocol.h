/*
 * soak_protocol.h - the functions of the soak test (soak-client.exe against
 * the Swift host's SIPC server, Tests/SIPCHostTests/SoakTests.swift, which
 * implements the same rules in Swift). Ids 301-304.
 *
 * Every request carries (client, run, seq): the client's number (0..3 in the
 * test), its run (1 for the first process, 2 for a replacement started after
 * a kill, ...) and the operation's sequence number (0, 1, 2, ... per client;
 * a replacement continues where the host says the killed run stopped). Every
 * answer carries client and seq back and a tag:
 *
 *   tag = soak_tag(client, run, seq, salt), salt = the function id, and for
 *         Sum the id + (n << 16), so an answer from another client, run,
 *         operation, function or recursion level never matches.
 *
 * 301 SoakInt(u32 client, u32 run, u32 seq, i32 a, i32 b, i64 c)
 *     -> (u32 client, u32 seq, u32 tag, i32 a + b (wrapping),
 *         i64 ~c ^ (seq << 32 | client))
 * 302 SoakWide(u32 client, u32 run, u32 seq, wstr text)
 *     -> (u32 client, u32 seq, u32 tag, wstr text reversed by code point
 *         (a surrogate pair stays in order), u32 code points in text)
 * 303 SoakNarrow(u32 client, u32 run, u32 seq, str bytes)   (UTF-8 text)
 *     -> (u32 client, u32 seq, u32 tag, str bytes reversed (byte by byte),
 *         u32 code points of bytes decoded as UTF-8, u32 FNV-1a 32 of bytes)
 * 304 SoakSum(u32 client, u32 run, u32 seq, i32 top, i32 n)   both ways
 *     -> (u32 client, u32 seq, u32 tag, i32 n(n+1)/2)
 *     Served like ipcdemo's Sum: n <= 0 answers 0, else n + Sum(n - 1) called
 *     on the OTHER side with the same client, run, seq and top. The client
 *     starts it with n = top; a chain of top + 1 calls, top + 1 <= 20 deep.
 *     Each side checks that a nested call belongs to the operation in
 *     progress (same client, run, seq, top; n below top).
 *
 * WM_COPYDATA to the host's copy window (found by its title; wParam = the
 * client's SIPC window), dwData = SOAK_COPY_DWDATA, data:
 *     u32 client, u32 run, u32 seq, u32 offset, then body bytes equal to
 *     soak_pattern[offset .. offset + len), len <= SOAK_COPY_MAX_BODY
 *     (16 + len <= 64 KiB). Answer: tag(salt SOAK_COPY_SALT) << 32 | len,
 *     or 0 when the host refused it.
 *
 * soak_pattern: SOAK_PATTERN_BYTES bytes, xorshift32 (13, 17, 5) from
 * SOAK_PATTERN_SEED, each state written as 4 little-endian bytes.
 */
#ifndef SOAK_PROTOCOL_H
#define SOAK_PROTOCOL_H

#include "sipc.h"

#define SOAK_ID_INT 301u
#define SOAK_ID_WIDE 302u
#define SOAK_ID_NARROW 303u
#define SOAK_ID_SUM 304u
#define SOAK_COPY_SALT 0x434F5059u /* "COPY" */
#define SOAK_COPY_DWDATA 0x534F414Bu /* "SOAK" */
#define SOAK_COPY_HEADER 16u
#define SOAK_COPY_MAX_BODY (65536u - SOAK_COPY_HEADER)
#define SOAK_PATTERN_BYTES (128u * 1024u)
#define SOAK_PATTERN_SEED 0x2545F491u
#define SOAK_BUF_SIZE 4096u
#define SOAK_STACK_SIZE 32u
#define SOAK_NAME_FORMAT L"sipb_soak_%08x_2_%08x"

#define SOAK_INT_IN(X) X(u32, client) X(u32, run) X(u32, seq) X(i32, a) X(i32, b) X(i64, c)
#define SOAK_INT_OUT(X) X(u32, client) X(u32, seq) X(u32, tag) X(i32, sum) X(i64, c)
SIPC_FUNCTION(SoakInt, SOAK_ID_INT, SOAK_INT_IN, SOAK_INT_OUT)

#define SOAK_WIDE_IN(X) X(u32, client) X(u32, run) X(u32, seq) X(wstr, text)
#define SOAK_WIDE_OUT(X) X(u32, client) X(u32, seq) X(u32, tag) X(wstr, text) X(u32, scalars)
SIPC_FUNCTION(SoakWide, SOAK_ID_WIDE, SOAK_WIDE_IN, SOAK_WIDE_OUT)

#define SOAK_NARROW_IN(X) X(u32, client) X(u32, run) X(u32, seq) X(str, bytes)
#define SOAK_NARROW_OUT(X) \
    X(u32, client) X(u32, seq) X(u32, tag) X(str, bytes) X(u32, scalars) X(u32, fnv)
SIPC_FUNCTION(SoakNarrow, SOAK_ID_NARROW, SOAK_NARROW_IN, SOAK_NARROW_OUT)

#define SOAK_SUM_IN(X) X(u32, client) X(u32, run) X(u32, seq) X(i32, top) X(i32, n)
#define SOAK_SUM_OUT(X) X(u32, client) X(u32, seq) X(u32, tag) X(i32, ret)
SIPC_FUNCTION(SoakSum, SOAK_ID_SUM, SOAK_SUM_IN, SOAK_SUM_OUT)

/* A 32-bit mix of the four values (murmur3-style finaliser steps). */
static inline uint32_t soak_tag(uint32_t client, uint32_t run, uint32_t seq, uint32_t salt)
{
    uint32_t h = salt * 0x9E3779B1u;

    h ^= client;
    h *= 0x85EBCA6Bu;
    h ^= run + 0x68E31DA4u;
    h *= 0xC2B2AE35u;
    h ^= seq;
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    return h;
}

static inline uint32_t soak_fnv1a32(const uint8_t *p, size_t n)
{
    uint32_t h = 0x811C9DC5u;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x01000193u;
    }
    return h;
}

/* Fills `out` (SOAK_PATTERN_BYTES bytes) with the pattern. */
static inline void soak_fill_pattern(uint8_t *out)
{
    uint32_t x = SOAK_PATTERN_SEED;

    for (uint32_t i = 0; i < SOAK_PATTERN_BYTES; i += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (uint8_t)x;
        out[i + 1] = (uint8_t)(x >> 8);
        out[i + 2] = (uint8_t)(x >> 16);
        out[i + 3] = (uint8_t)(x >> 24);
    }
}

#endif /* SOAK_PROTOCOL_H */
