/*
 * wire.c - the byte level of the pipe protocol: building outgoing payloads,
 * parsing incoming ones (every read bounds-checked), and writing whole
 * frames to the standard output handle. Only the main thread calls these.
 */
#include "shim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- builder */

int builder_init(struct builder *b, size_t expectedPayload)
{
    b->len = SIPB_FRAME_HEADER;
    b->cap = SIPB_FRAME_HEADER + (expectedPayload < 64 ? 64 : expectedPayload);
    b->failed = 0;
    b->data = malloc(b->cap);
    if (b->data == NULL) {
        b->cap = 0;
        b->failed = 1;
        return 0;
    }
    return 1;
}

void builder_free(struct builder *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static uint8_t *builder_grow(struct builder *b, size_t n)
{
    size_t need, cap;
    uint8_t *grown;

    if (b->failed)
        return NULL;
    need = b->len + n;
    if (n > (size_t)SIPB_FRAME_HEADER + SIPB_MAX_PAYLOAD ||
        need > (size_t)SIPB_FRAME_HEADER + SIPB_MAX_PAYLOAD) {
        b->failed = 1;
        return NULL;
    }
    if (need > b->cap) {
        cap = b->cap * 2;
        if (cap < need)
            cap = need;
        grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = 1;
            return NULL;
        }
        b->data = grown;
        b->cap = cap;
    }
    grown = b->data + b->len;
    b->len = need;
    return grown;
}

static void store_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void put_u16(struct builder *b, uint16_t v)
{
    uint8_t *p = builder_grow(b, 2);
    if (p)
        store_u16(p, v);
}

void put_u32(struct builder *b, uint32_t v)
{
    uint8_t *p = builder_grow(b, 4);
    if (p)
        store_u32(p, v);
}

void put_u64(struct builder *b, uint64_t v)
{
    uint8_t *p = builder_grow(b, 8);
    if (p) {
        store_u32(p, (uint32_t)v);
        store_u32(p + 4, (uint32_t)(v >> 32));
    }
}

void put_raw(struct builder *b, const void *src, size_t n)
{
    uint8_t *p;

    if (n == 0)
        return;
    p = builder_grow(b, n);
    if (p)
        memcpy(p, src, n);
}

void put_bytes(struct builder *b, const void *src, uint32_t n)
{
    put_u32(b, n);
    put_raw(b, src, n);
}

void put_str16(struct builder *b, const WCHAR *s, uint32_t count)
{
    uint32_t i;
    uint8_t *p;

    if (count > SIPB_MAX_STR16) {
        b->failed = 1;
        return;
    }
    put_u32(b, count);
    p = builder_grow(b, (size_t)count * 2);
    if (p == NULL)
        return;
    for (i = 0; i < count; i++)
        store_u16(p + 2 * (size_t)i, (uint16_t)s[i]);
}

void put_text(struct builder *b, const char *s)
{
    put_raw(b, s, strlen(s));
}

/* -------------------------------------------------------------- parser */

void parser_init(struct parser *p, const uint8_t *data, uint32_t len)
{
    p->data = data;
    p->len = len;
    p->pos = 0;
    p->bad = 0;
    p->why = NULL;
}

static const uint8_t *parser_take(struct parser *p, uint32_t n, const char *what)
{
    const uint8_t *at;

    if (p->bad)
        return NULL;
    if (n > p->len - p->pos) {
        p->bad = 1;
        p->why = what;
        return NULL;
    }
    at = p->data + p->pos;
    p->pos += n;
    return at;
}

static uint32_t load_u32(const uint8_t *q)
{
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

uint16_t get_u16(struct parser *p)
{
    const uint8_t *q = parser_take(p, 2, "a u16 field runs past the end of the payload");
    return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}

uint32_t get_u32(struct parser *p)
{
    const uint8_t *q = parser_take(p, 4, "a u32 field runs past the end of the payload");
    return q ? load_u32(q) : 0;
}

uint64_t get_u64(struct parser *p)
{
    const uint8_t *q = parser_take(p, 8, "a u64 field runs past the end of the payload");
    return q ? (uint64_t)load_u32(q) | (uint64_t)load_u32(q + 4) << 32 : 0;
}

const uint8_t *get_bytes(struct parser *p, uint32_t *length)
{
    uint32_t n = get_u32(p);
    const uint8_t *q;

    *length = 0;
    if (p->bad)
        return NULL;
    q = parser_take(p, n, "a bytes field is longer than what is left of the payload");
    if (q)
        *length = n;
    return q;
}

struct str16 get_str16(struct parser *p)
{
    struct str16 s = { NULL, 0 };
    uint32_t n = get_u32(p);

    if (p->bad)
        return s;
    if (n > SIPB_MAX_STR16) {
        p->bad = 1;
        p->why = "a str16 field is longer than 32767 units";
        return s;
    }
    s.units = parser_take(p, n * 2, "a str16 field runs past the end of the payload");
    if (s.units)
        s.count = n;
    return s;
}

int parser_finish(struct parser *p)
{
    if (p->bad)
        return 0;
    if (p->pos != p->len) {
        p->bad = 1;
        p->why = "trailing bytes after the last field";
        return 0;
    }
    return 1;
}

WCHAR *str16_dup(const struct str16 *s)
{
    WCHAR *w = malloc(((size_t)s->count + 1) * sizeof(WCHAR));
    uint32_t i;

    if (w == NULL)
        return NULL;
    for (i = 0; i < s->count; i++)
        w[i] = (WCHAR)(s->units[2 * (size_t)i] | s->units[2 * (size_t)i + 1] << 8);
    w[s->count] = 0;
    return w;
}

/* ------------------------------------------------------------- sending */

static int write_all(struct shim_context *ctx, const uint8_t *p, size_t n)
{
    DWORD chunk, written;

    while (n > 0) {
        chunk = n > (1u << 30) ? (1u << 30) : (DWORD)n;
        if (!WriteFile(ctx->hOut, p, chunk, &written, NULL)) {
            shim_log_win32(ctx, "WriteFile(stdout)", GetLastError());
            return 0;
        }
        if (written == 0) {
            LOG_ERROR(ctx, "WriteFile(stdout) wrote nothing");
            return 0;
        }
        p += written;
        n -= written;
    }
    return 1;
}

int wire_send(struct shim_context *ctx, struct builder *b, uint16_t type, uint32_t tag)
{
    return wire_send_tail(ctx, b, type, tag, NULL, 0);
}

int wire_send_tail(struct shim_context *ctx, struct builder *b, uint16_t type, uint32_t tag,
                   const void *tail, uint32_t tailLen)
{
    int ok = 0;

    if (tailLen > 0 && (tail == NULL || b->len - SIPB_FRAME_HEADER + (size_t)tailLen > SIPB_MAX_PAYLOAD))
        b->failed = 1;
    if (b->data == NULL || b->failed) {
        LOG_ERROR(ctx, "frame type 0x%04x tag %u could not be built (out of memory or too large)",
                  type, tag);
    } else if (ctx->hostGone || ctx->outBroken) {
        LOG_DEBUG(ctx, "frame type 0x%04x tag %u dropped: the host is gone", type, tag);
    } else {
        store_u32(b->data, (uint32_t)(b->len - SIPB_FRAME_PREFIX + tailLen));
        store_u16(b->data + 4, type);
        store_u16(b->data + 6, 0);
        store_u32(b->data + 8, tag);
        LOG_DEBUG(ctx, "-> type 0x%04x tag %u payload %lu", type, tag,
                  (unsigned long)(b->len - SIPB_FRAME_HEADER + tailLen));
        /* Only the main thread writes stdout, so the two writes stay one frame. */
        ok = write_all(ctx, b->data, b->len);
        if (ok && tailLen > 0)
            ok = write_all(ctx, tail, tailLen);
        if (!ok) {
            /* The host stopped reading: nothing more can be said to it. */
            ctx->outBroken = 1;
            ctx->hostGone = 1;
            ctx->quit = 1;
        }
    }
    builder_free(b);
    return ok;
}

int wire_send_text(struct shim_context *ctx, uint16_t type, uint32_t tag, uint32_t code,
                   const char *text)
{
    struct builder b;

    builder_init(&b, 4 + strlen(text));
    put_u32(&b, code);
    put_text(&b, text);
    return wire_send(ctx, &b, type, tag);
}

void protocol_error(struct shim_context *ctx, uint32_t reason, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    __mingw_vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    text[sizeof text - 1] = '\0';
    LOG_ERROR(ctx, "protocol error (reason %u): %s", reason, text);
    if (!ctx->quit)
        wire_send_text(ctx, SIPB_T_PROTOCOL_ERROR, 0, reason, text);
    ctx->quit = 1;
    ctx->sendGoodbye = 0;
    if (ctx->exitCode == 0)
        ctx->exitCode = 2;
}
