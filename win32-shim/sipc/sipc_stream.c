/*
 * sipc_stream.c - the shared param buffer (spec 4.2, 4.3) and the typed
 * read/write helpers (spec 6).
 *
 * The header (capacity, tail, cursor) is in memory the peer can write at any
 * time. Every operation copies it once into locals, checks the invariants
 * capacity == cap and cursor <= tail <= cap, and works from the copies, so a
 * hostile peer can make an operation fail but cannot make it leave the view.
 */
#include "sipc.h"

#include <string.h>

enum { H_CAP = 0, H_TAIL = 1, H_POS = 2 };

const char *sipc_status_name(sipc_status st)
{
    switch (st) {
    case SIPC_OK: return "SIPC_OK";
    case SIPC_E_INVALID_ARG: return "SIPC_E_INVALID_ARG";
    case SIPC_E_NO_MEMORY: return "SIPC_E_NO_MEMORY";
    case SIPC_E_WIN32: return "SIPC_E_WIN32";
    case SIPC_E_OVERFLOW: return "SIPC_E_OVERFLOW";
    case SIPC_E_SHORT_READ: return "SIPC_E_SHORT_READ";
    case SIPC_E_BAD_HEADER: return "SIPC_E_BAD_HEADER";
    case SIPC_E_BAD_LENGTH: return "SIPC_E_BAD_LENGTH";
    case SIPC_E_BAD_FRAME: return "SIPC_E_BAD_FRAME";
    case SIPC_E_BAD_SLOT: return "SIPC_E_BAD_SLOT";
    case SIPC_E_NOT_CONNECTED: return "SIPC_E_NOT_CONNECTED";
    case SIPC_E_STACK_FULL: return "SIPC_E_STACK_FULL";
    case SIPC_E_PEER_GONE: return "SIPC_E_PEER_GONE";
    case SIPC_E_NOT_HANDLED: return "SIPC_E_NOT_HANDLED";
    case SIPC_E_REFUSED: return "SIPC_E_REFUSED";
    case SIPC_E_NOT_FOUND: return "SIPC_E_NOT_FOUND";
    case SIPC_E_EXISTS: return "SIPC_E_EXISTS";
    case SIPC_E_QUIT: return "SIPC_E_QUIT";
    case SIPC_E_HANDLER: return "SIPC_E_HANDLER";
    case SIPC_E_BUSY: return "SIPC_E_BUSY";
    }
    return "SIPC_E_UNKNOWN";
}

/* Snapshot and validate the shared header. */
static sipc_status load(const sipc_stream *s, uint32_t *tail, uint32_t *pos)
{
    uint32_t cap, t, p;

    if (!s || !s->hdr)
        return SIPC_E_NOT_CONNECTED;
    cap = s->hdr[H_CAP];
    t = s->hdr[H_TAIL];
    p = s->hdr[H_POS];
    if (cap != s->cap || t > cap || p > t)
        return SIPC_E_BAD_HEADER;
    *tail = t;
    *pos = p;
    return SIPC_OK;
}

sipc_status sipc_stream_attach(sipc_stream *s, void *mem, size_t bytes, bool init,
                               uint32_t capacity)
{
    volatile uint32_t *hdr = mem;

    if (!s || !mem || bytes < SIPC_HEADER_BYTES)
        return SIPC_E_INVALID_ARG;
    memset(s, 0, sizeof(*s));
    if (init) {
        if ((size_t)capacity > bytes - SIPC_HEADER_BYTES)
            return SIPC_E_INVALID_ARG;
        hdr[H_CAP] = capacity;
        hdr[H_TAIL] = 0;
        hdr[H_POS] = 0;
    } else {
        capacity = hdr[H_CAP];
        if ((size_t)capacity > bytes - SIPC_HEADER_BYTES)
            return SIPC_E_BAD_HEADER;
    }
    s->hdr = hdr;
    s->data = (uint8_t *)mem + SIPC_HEADER_BYTES;
    s->cap = capacity;
    s->limit = capacity;
    return SIPC_OK;
}

sipc_status sipc_stream_window(const sipc_stream *s, uint32_t limit, sipc_stream *out)
{
    if (!s || !out)
        return SIPC_E_INVALID_ARG;
    if (limit > s->cap)
        return SIPC_E_OVERFLOW;
    *out = *s;
    out->limit = limit;
    return SIPC_OK;
}

sipc_status sipc_stream_write(sipc_stream *s, const void *p, uint32_t n)
{
    uint32_t tail, pos;
    sipc_status st = load(s, &tail, &pos);

    if (st != SIPC_OK)
        return st;
    if (n == 0)
        return SIPC_OK;
    if (!p)
        return SIPC_E_INVALID_ARG;
    if (pos > s->limit || n > s->limit - pos)
        return SIPC_E_OVERFLOW;
    memcpy(s->data + pos, p, n);
    pos += n;
    s->hdr[H_POS] = pos;
    if (pos > tail)
        s->hdr[H_TAIL] = pos;
    return SIPC_OK;
}

sipc_status sipc_stream_read(sipc_stream *s, void *p, uint32_t n)
{
    uint32_t tail, pos, end;
    sipc_status st = load(s, &tail, &pos);

    if (st != SIPC_OK)
        return st;
    if (n == 0)
        return SIPC_OK;
    if (!p)
        return SIPC_E_INVALID_ARG;
    end = tail < s->limit ? tail : s->limit;
    if (pos > end || n > end - pos)
        return SIPC_E_SHORT_READ;
    memcpy(p, s->data + pos, n);
    s->hdr[H_POS] = pos + n;
    return SIPC_OK;
}

sipc_status sipc_stream_seek(sipc_stream *s, sipc_seek origin, int64_t off)
{
    uint32_t tail, pos;
    int64_t target;
    sipc_status st = load(s, &tail, &pos);

    if (st != SIPC_OK)
        return st;
    switch (origin) {
    case SIPC_SEEK_SET: target = off; break;
    case SIPC_SEEK_CUR: target = (int64_t)pos + off; break;
    case SIPC_SEEK_END: target = (int64_t)tail + off; break;
    default: return SIPC_E_INVALID_ARG;
    }
    if (target < 0)
        return SIPC_E_INVALID_ARG;
    if (target > (int64_t)s->limit)
        return SIPC_E_OVERFLOW;
    if ((uint32_t)target > tail)
        s->hdr[H_TAIL] = (uint32_t)target;
    s->hdr[H_POS] = (uint32_t)target;
    return SIPC_OK;
}

sipc_status sipc_stream_tell(const sipc_stream *s, uint32_t *out)
{
    uint32_t tail, pos;
    sipc_status st = load(s, &tail, &pos);

    if (st == SIPC_OK && out)
        *out = pos;
    return st;
}

sipc_status sipc_stream_tail(const sipc_stream *s, uint32_t *out)
{
    uint32_t tail, pos;
    sipc_status st = load(s, &tail, &pos);

    if (st == SIPC_OK && out)
        *out = tail;
    return st;
}

sipc_status sipc_stream_set_tail(sipc_stream *s, uint32_t t)
{
    uint32_t tail, pos;
    sipc_status st = load(s, &tail, &pos);

    if (st != SIPC_OK)
        return st;
    if (t > s->cap)
        return SIPC_E_OVERFLOW;
    s->hdr[H_TAIL] = t;
    if (pos > t)
        s->hdr[H_POS] = t;
    return SIPC_OK;
}

/* ---- fixed-size values ---------------------------------------------------- */
/* x86/x64 are little-endian, which is the wire order, so values are copied
 * as their in-memory bytes, exactly as SOUI's `stream << x` does. */
#define SIPC__RAW(name, type)                                              \
    sipc_status sipc_put_##name(sipc_stream *s, type v)                    \
    {                                                                      \
        return sipc_stream_write(s, &v, (uint32_t)sizeof(v));              \
    }                                                                      \
    sipc_status sipc_get_##name(sipc_stream *s, type *v)                   \
    {                                                                      \
        type tmp;                                                          \
        sipc_status st;                                                    \
        if (!v)                                                            \
            return SIPC_E_INVALID_ARG;                                     \
        st = sipc_stream_read(s, &tmp, (uint32_t)sizeof(tmp));             \
        if (st == SIPC_OK)                                                 \
            *v = tmp;                                                      \
        return st;                                                         \
    }

SIPC__RAW(i8, int8_t)
SIPC__RAW(u8, uint8_t)
SIPC__RAW(i16, int16_t)
SIPC__RAW(u16, uint16_t)
SIPC__RAW(i32, int32_t)
SIPC__RAW(u32, uint32_t)
SIPC__RAW(i64, int64_t)
SIPC__RAW(u64, uint64_t)
SIPC__RAW(f32, float)
SIPC__RAW(f64, double)
SIPC__RAW(h64, uint64_t)

_Static_assert(sizeof(POINT) == 8, "POINT is 8 bytes on the wire");
_Static_assert(sizeof(SIZE) == 8, "SIZE is 8 bytes on the wire");
_Static_assert(sizeof(RECT) == 16, "RECT is 16 bytes on the wire");
_Static_assert(sizeof(BOOL) == 4, "BOOL is 4 bytes on the wire");
_Static_assert(sizeof(WCHAR) == 2, "WCHAR is one UTF-16 unit");

sipc_status sipc_put_bool4(sipc_stream *s, BOOL v)
{
    return sipc_put_i32(s, v ? 1 : 0);
}

sipc_status sipc_get_bool4(sipc_stream *s, BOOL *v)
{
    int32_t raw = 0;
    sipc_status st;

    if (!v)
        return SIPC_E_INVALID_ARG;
    st = sipc_get_i32(s, &raw);
    if (st == SIPC_OK)
        *v = raw != 0;
    return st;
}

sipc_status sipc_put_bool1(sipc_stream *s, bool v)
{
    return sipc_put_u8(s, v ? 1 : 0);
}

sipc_status sipc_get_bool1(sipc_stream *s, bool *v)
{
    uint8_t raw = 0;
    sipc_status st;

    if (!v)
        return SIPC_E_INVALID_ARG;
    st = sipc_get_u8(s, &raw);
    if (st == SIPC_OK)
        *v = raw != 0;
    return st;
}

sipc_status sipc_put_point(sipc_stream *s, POINT v)
{
    sipc_status st = sipc_put_i32(s, (int32_t)v.x);
    return st == SIPC_OK ? sipc_put_i32(s, (int32_t)v.y) : st;
}

sipc_status sipc_get_point(sipc_stream *s, POINT *v)
{
    int32_t a[2];
    sipc_status st;

    if (!v)
        return SIPC_E_INVALID_ARG;
    st = sipc_stream_read(s, a, sizeof(a));
    if (st == SIPC_OK) {
        v->x = a[0];
        v->y = a[1];
    }
    return st;
}

sipc_status sipc_put_size(sipc_stream *s, SIZE v)
{
    sipc_status st = sipc_put_i32(s, (int32_t)v.cx);
    return st == SIPC_OK ? sipc_put_i32(s, (int32_t)v.cy) : st;
}

sipc_status sipc_get_size(sipc_stream *s, SIZE *v)
{
    int32_t a[2];
    sipc_status st;

    if (!v)
        return SIPC_E_INVALID_ARG;
    st = sipc_stream_read(s, a, sizeof(a));
    if (st == SIPC_OK) {
        v->cx = a[0];
        v->cy = a[1];
    }
    return st;
}

sipc_status sipc_put_rect(sipc_stream *s, RECT v)
{
    int32_t a[4] = {(int32_t)v.left, (int32_t)v.top, (int32_t)v.right, (int32_t)v.bottom};
    return sipc_stream_write(s, a, sizeof(a));
}

sipc_status sipc_get_rect(sipc_stream *s, RECT *v)
{
    int32_t a[4];
    sipc_status st;

    if (!v)
        return SIPC_E_INVALID_ARG;
    st = sipc_stream_read(s, a, sizeof(a));
    if (st == SIPC_OK) {
        v->left = a[0];
        v->top = a[1];
        v->right = a[2];
        v->bottom = a[3];
    }
    return st;
}

sipc_status sipc_put_bytes(sipc_stream *s, const void *p, uint32_t n)
{
    return sipc_stream_write(s, p, n);
}

sipc_status sipc_get_bytes(sipc_stream *s, void *p, uint32_t n)
{
    return sipc_stream_read(s, p, n);
}

/* ---- counted values --------------------------------------------------------- */

/* Bytes readable at the cursor (before tail and limit). */
static sipc_status readable(const sipc_stream *s, uint32_t *avail)
{
    uint32_t tail, pos, end;
    sipc_status st = load(s, &tail, &pos);

    if (st != SIPC_OK)
        return st;
    end = tail < s->limit ? tail : s->limit;
    *avail = pos <= end ? end - pos : 0;
    return SIPC_OK;
}

sipc_status sipc_put_array(sipc_stream *s, const void *p, uint32_t count,
                           uint32_t elem_size)
{
    uint64_t bytes = (uint64_t)count * elem_size;
    uint32_t pos;
    sipc_status st;

    if (count > INT32_MAX || bytes > UINT32_MAX || (count && !p) || elem_size == 0)
        return SIPC_E_INVALID_ARG;
    /* Check the whole item first so an overflow writes nothing at all. */
    st = sipc_stream_tell(s, &pos);
    if (st != SIPC_OK)
        return st;
    if (pos > s->limit || 4u + bytes > (uint64_t)(s->limit - pos))
        return SIPC_E_OVERFLOW;
    st = sipc_put_i32(s, (int32_t)count);
    if (st == SIPC_OK)
        st = sipc_stream_write(s, p, (uint32_t)bytes);
    return st;
}

sipc_status sipc_get_array(sipc_stream *s, void **data, uint32_t *count,
                           uint32_t elem_size)
{
    int32_t n = 0;
    uint32_t avail = 0;
    uint64_t bytes;
    void *buf;
    sipc_status st;

    if (!data || !count || elem_size == 0)
        return SIPC_E_INVALID_ARG;
    *data = NULL;
    *count = 0;
    st = sipc_get_i32(s, &n);
    if (st != SIPC_OK)
        return st;
    st = readable(s, &avail);
    if (st != SIPC_OK)
        return st;
    if (n < 0)
        return SIPC_E_BAD_LENGTH;
    bytes = (uint64_t)(uint32_t)n * elem_size;
    if (bytes > avail)
        return SIPC_E_BAD_LENGTH;
    /* One extra element of zeros: strings get their NUL from it. */
    buf = calloc((size_t)n + 1, elem_size);
    if (!buf)
        return SIPC_E_NO_MEMORY;
    st = sipc_stream_read(s, buf, (uint32_t)bytes);
    if (st != SIPC_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *count = (uint32_t)n;
    return SIPC_OK;
}

sipc_status sipc_put_str(sipc_stream *s, const char *p, uint32_t len)
{
    return sipc_put_array(s, p, len, 1);
}

sipc_status sipc_put_wstr(sipc_stream *s, const WCHAR *p, uint32_t len)
{
    return sipc_put_array(s, p, len, 2);
}

sipc_status sipc_get_str(sipc_stream *s, sipc_str *out)
{
    void *data = NULL;
    uint32_t n = 0;
    sipc_status st;

    if (!out)
        return SIPC_E_INVALID_ARG;
    st = sipc_get_array(s, &data, &n, 1);
    out->data = data;
    out->len = n;
    return st;
}

sipc_status sipc_get_wstr(sipc_stream *s, sipc_wstr *out)
{
    void *data = NULL;
    uint32_t n = 0;
    sipc_status st;

    if (!out)
        return SIPC_E_INVALID_ARG;
    st = sipc_get_array(s, &data, &n, 2);
    out->data = data;
    out->len = n;
    return st;
}

/* ---- owned strings for handler outputs -------------------------------------- */
sipc_status sipc_str_set(sipc_str *dst, const char *src, size_t len)
{
    char *p;

    if (!dst || (len && !src) || len > INT32_MAX)
        return SIPC_E_INVALID_ARG;
    p = malloc(len + 1);
    if (!p)
        return SIPC_E_NO_MEMORY;
    if (len)
        memcpy(p, src, len);
    p[len] = 0;
    free(dst->data);
    dst->data = p;
    dst->len = (uint32_t)len;
    return SIPC_OK;
}

sipc_status sipc_wstr_concat(sipc_wstr *dst, const WCHAR *a, size_t alen,
                             const WCHAR *b, size_t blen)
{
    WCHAR *p;

    if (!dst || (alen && !a) || (blen && !b) || alen > INT32_MAX ||
        blen > INT32_MAX - alen)
        return SIPC_E_INVALID_ARG;
    p = malloc((alen + blen + 1) * sizeof(WCHAR));
    if (!p)
        return SIPC_E_NO_MEMORY;
    if (alen)
        memcpy(p, a, alen * sizeof(WCHAR));
    if (blen)
        memcpy(p + alen, b, blen * sizeof(WCHAR));
    p[alen + blen] = 0;
    free(dst->data);
    dst->data = p;
    dst->len = (uint32_t)(alen + blen);
    return SIPC_OK;
}

sipc_status sipc_wstr_set(sipc_wstr *dst, const WCHAR *src, size_t len)
{
    return sipc_wstr_concat(dst, src, len, NULL, 0);
}

void sipc_free_out(const sipc_function *fn, void *out)
{
    if (!fn || !out)
        return;
    if (fn->free_out)
        fn->free_out(out);
    memset(out, 0, fn->out_size);
}
