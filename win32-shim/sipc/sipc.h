/*
 * sipc.h - a C implementation of SOUI's SIPC remote-call protocol (window
 * messages + named shared memory), wire-compatible with SOUI3/SOUI4 (v2) and
 * the 2019 SOUI2 builds (v1). The protocol is described in
 * /work/shared/spec/soui-sipc.md; section numbers below refer to it.
 *
 * Layers, bottom up:
 *   sipc_stream    the 12-byte-header shared buffer and typed read/write
 *                  helpers (spec 4, 6). Overflow and short reads are errors.
 *   sipc_function  a function descriptor: id + codecs for an input struct
 *                  and an output struct. SIPC_FUNCTION() generates one from
 *                  two X-macro field lists (the FUN_BEGIN / PARAMS analogue).
 *   sipc_conn      one side of one connection: local/remote HWND, send and
 *                  receive buffers, call depth, sequence number; makes calls
 *                  (sipc_call) and serves them (handler tables).
 *   sipc_server    a discoverable main window that accepts connections.
 *
 * Everything here runs on the thread that owns the windows; nothing is
 * locked. All state lives in the caller's sipc_conn / sipc_server structs.
 *
 * Ownership of string and array data in function structs:
 *   - a handler's INPUT struct is filled by the library and freed by it after
 *     the handler returns; do not keep pointers into it.
 *   - a handler's OUTPUT struct starts zeroed; any data pointer the handler
 *     stores there must come from malloc() (see sipc_str_dup & co.): the
 *     library free()s it after serialising.
 *   - a caller's OUTPUT struct is zeroed, then filled with malloc()ed data;
 *     release it with sipc_free_out(fn, out) (or <name>_free_out(out)).
 */
#ifndef SIPC_H
#define SIPC_H

#include <windows.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- protocol constants (spec 1) ---------------------------------------- */
#define SIPC_UM_CALL_FUN (WM_USER + 1000) /* 2024 = 0x07E8 */
#define SIPC_FUN_ID_CONNECT 100u
#define SIPC_FUN_ID_DISCONNECT 101u
#define SIPC_FUN_ID_START 102u
/* sinstar3's reconnect request (spec 9.3): a server that (re)started posts
 * UM_RECONN(0, 0) to client windows it does not know; the client tears its
 * connection down and connects again. */
#define SIPC_UM_RECONN (WM_USER + 5001) /* 0x1789 */
#define SIPC_INPUT_MARKER 0xF0u
#define SIPC_OUTPUT_MARKER 0xF1u
#define SIPC_HEADER_BYTES 12u
#define SIPC_CONNECT_TIMEOUT_MS 100u
#define SIPC_V2_SEQ_WRAP 0xFFFFu    /* v2 sequence numbers run 0..65534 */
#define SIPC_V1_SEQ_MAX 100000u     /* v1 resets after exceeding this */

#define SIPC_V1 1
#define SIPC_V2 2

#define SIPC_DEFAULT_BUF_SIZE 2048u
#define SIPC_DEFAULT_STACK_SIZE 10u
#define SIPC_MAX_NAME 256 /* UTF-16 units, mapping/event names incl. NUL */

/* ---- status codes -------------------------------------------------------- */
typedef enum sipc_status {
    SIPC_OK = 0,
    SIPC_E_INVALID_ARG,      /* an argument from the local caller is invalid */
    SIPC_E_NO_MEMORY,        /* malloc failed */
    SIPC_E_WIN32,            /* a Win32 call failed; see sipc_error.win32 */
    SIPC_E_OVERFLOW,         /* a write would pass the capacity or the call's slot */
    SIPC_E_SHORT_READ,       /* a read needs more bytes than tail/slot hold */
    SIPC_E_BAD_HEADER,       /* shared header broke capacity/tail/cursor rules */
    SIPC_E_BAD_LENGTH,       /* a count prefix is negative or exceeds the data */
    SIPC_E_BAD_FRAME,        /* id mismatch, wrong marker, bad v1 length */
    SIPC_E_BAD_SLOT,         /* a slot index (wParam) outside the stack */
    SIPC_E_NOT_CONNECTED,    /* the connection is closed or was never opened */
    SIPC_E_STACK_FULL,       /* call depth would exceed stackSize */
    SIPC_E_PEER_GONE,        /* the remote window disappeared during a call */
    SIPC_E_NOT_HANDLED,      /* the peer answered 0 (unknown id or failure) */
    SIPC_E_REFUSED,          /* connect answered 0 */
    SIPC_E_NOT_FOUND,        /* no server window with that title */
    SIPC_E_EXISTS,           /* a mapping/event name already existed */
    SIPC_E_QUIT,             /* WM_QUIT arrived during a call (re-posted) */
    SIPC_E_HANDLER,          /* a local handler reported failure */
    SIPC_E_BUSY              /* operation not allowed while calls are running */
} sipc_status;

/* Short constant name of a status, e.g. "SIPC_E_OVERFLOW". */
const char *sipc_status_name(sipc_status st);

/* The last failure recorded on a context (connection or server). */
typedef struct sipc_error {
    sipc_status status;
    DWORD win32;     /* GetLastError() for SIPC_E_WIN32, else 0 */
    char what[160];  /* which operation failed, with details */
} sipc_error;

typedef enum sipc_log_level {
    SIPC_LOG_DEBUG = 0,
    SIPC_LOG_INFO = 1,
    SIPC_LOG_WARN = 2,
    SIPC_LOG_ERROR = 3
} sipc_log_level;

/* Log sink supplied by the application; the library never prints itself. */
typedef void (*sipc_log_fn)(void *ctx, sipc_log_level level, const char *msg);

/* ---- param stream (spec 4.2, 4.3) ---------------------------------------- */
/*
 * A view of one shared buffer: header {u32 capacity, u32 tail, u32 cursor}
 * followed by `capacity` data bytes. Tail and cursor live in the shared
 * header and are moved by both processes. Every operation re-reads the
 * header and checks capacity == cap, cursor <= tail <= cap, and that the
 * operation stays below `limit` (the end of the current call's slot).
 * A copy of a sipc_stream is another view of the same memory.
 */
typedef struct sipc_stream {
    volatile uint32_t *hdr; /* the 12-byte header */
    uint8_t *data;          /* hdr + 12 bytes */
    uint32_t cap;           /* trusted capacity, fixed when the view was made */
    uint32_t limit;         /* no operation moves the cursor past this (<= cap) */
} sipc_stream;

typedef enum sipc_seek {
    SIPC_SEEK_SET = 0, /* absolute = off */
    SIPC_SEEK_CUR = 1, /* absolute = cursor + off */
    SIPC_SEEK_END = 2  /* absolute = tail + off */
} sipc_seek;

/* Attach to memory of `bytes` bytes (header included). With init, write the
 * header {capacity, 0, 0}; otherwise read capacity from the header and check
 * it fits in `bytes`. */
sipc_status sipc_stream_attach(sipc_stream *s, void *mem, size_t bytes, bool init,
                               uint32_t capacity);
/* A copy of `s` whose operations may not pass `limit`. */
sipc_status sipc_stream_window(const sipc_stream *s, uint32_t limit, sipc_stream *out);

/* Write n bytes at the cursor; cursor += n; tail = max(tail, cursor).
 * Fails with SIPC_E_OVERFLOW (nothing written) if cursor + n > limit. */
sipc_status sipc_stream_write(sipc_stream *s, const void *p, uint32_t n);
/* Read n bytes at the cursor; cursor += n. Fails with SIPC_E_SHORT_READ
 * (nothing read) if cursor + n passes the tail or the limit. */
sipc_status sipc_stream_read(sipc_stream *s, void *p, uint32_t n);
/* Move the cursor; raises the tail when the target is past it (SOUI's
 * "auto expand"). The target must lie in 0..limit. */
sipc_status sipc_stream_seek(sipc_stream *s, sipc_seek origin, int64_t off);
sipc_status sipc_stream_tell(const sipc_stream *s, uint32_t *pos);
sipc_status sipc_stream_tail(const sipc_stream *s, uint32_t *tail);
/* tail = t (t <= cap); cursor = min(cursor, t). */
sipc_status sipc_stream_set_tail(sipc_stream *s, uint32_t t);

/* ---- typed helpers (spec 6); all little-endian, no padding ---------------- */
typedef struct sipc_str {   /* narrow string: int32 byte count + bytes */
    char *data;             /* library-allocated reads add a NUL at data[len] */
    uint32_t len;
} sipc_str;
typedef struct sipc_wstr {  /* wide string: int32 UTF-16 unit count + UTF-16LE */
    WCHAR *data;            /* library-allocated reads add a NUL at data[len] */
    uint32_t len;
} sipc_wstr;
/* int32-count-prefixed array of fixed-size elements, copied verbatim. */
#define SIPC_ARRAY(T) struct { T *data; uint32_t count; }

sipc_status sipc_put_i8(sipc_stream *s, int8_t v);
sipc_status sipc_put_u8(sipc_stream *s, uint8_t v);
sipc_status sipc_put_i16(sipc_stream *s, int16_t v);
sipc_status sipc_put_u16(sipc_stream *s, uint16_t v);
sipc_status sipc_put_i32(sipc_stream *s, int32_t v);
sipc_status sipc_put_u32(sipc_stream *s, uint32_t v);
sipc_status sipc_put_i64(sipc_stream *s, int64_t v);
sipc_status sipc_put_u64(sipc_stream *s, uint64_t v);
sipc_status sipc_put_f32(sipc_stream *s, float v);
sipc_status sipc_put_f64(sipc_stream *s, double v);
sipc_status sipc_put_bool4(sipc_stream *s, BOOL v);  /* 4 bytes, 0 or 1 */
sipc_status sipc_put_bool1(sipc_stream *s, bool v);  /* 1 byte, 0 or 1 */
sipc_status sipc_put_point(sipc_stream *s, POINT v); /* 8 bytes: x, y */
sipc_status sipc_put_size(sipc_stream *s, SIZE v);   /* 8 bytes: cx, cy */
sipc_status sipc_put_rect(sipc_stream *s, RECT v);   /* 16: l, t, r, b */
sipc_status sipc_put_h64(sipc_stream *s, uint64_t v); /* a handle as 8 bytes */
sipc_status sipc_put_bytes(sipc_stream *s, const void *p, uint32_t n); /* fixed */
sipc_status sipc_put_str(sipc_stream *s, const char *p, uint32_t len);
sipc_status sipc_put_wstr(sipc_stream *s, const WCHAR *p, uint32_t len);
sipc_status sipc_put_array(sipc_stream *s, const void *p, uint32_t count,
                           uint32_t elem_size);

sipc_status sipc_get_i8(sipc_stream *s, int8_t *v);
sipc_status sipc_get_u8(sipc_stream *s, uint8_t *v);
sipc_status sipc_get_i16(sipc_stream *s, int16_t *v);
sipc_status sipc_get_u16(sipc_stream *s, uint16_t *v);
sipc_status sipc_get_i32(sipc_stream *s, int32_t *v);
sipc_status sipc_get_u32(sipc_stream *s, uint32_t *v);
sipc_status sipc_get_i64(sipc_stream *s, int64_t *v);
sipc_status sipc_get_u64(sipc_stream *s, uint64_t *v);
sipc_status sipc_get_f32(sipc_stream *s, float *v);
sipc_status sipc_get_f64(sipc_stream *s, double *v);
sipc_status sipc_get_bool4(sipc_stream *s, BOOL *v);  /* any non-zero -> TRUE */
sipc_status sipc_get_bool1(sipc_stream *s, bool *v);  /* any non-zero -> true */
sipc_status sipc_get_point(sipc_stream *s, POINT *v);
sipc_status sipc_get_size(sipc_stream *s, SIZE *v);
sipc_status sipc_get_rect(sipc_stream *s, RECT *v);
sipc_status sipc_get_h64(sipc_stream *s, uint64_t *v);
sipc_status sipc_get_bytes(sipc_stream *s, void *p, uint32_t n);
/* Counted reads: the count must be >= 0 and fit in the bytes actually present
 * before tail/limit (else SIPC_E_BAD_LENGTH); data is malloc()ed. */
sipc_status sipc_get_str(sipc_stream *s, sipc_str *out);
sipc_status sipc_get_wstr(sipc_stream *s, sipc_wstr *out);
sipc_status sipc_get_array(sipc_stream *s, void **data, uint32_t *count,
                           uint32_t elem_size);

/* Replace dst's data with a malloc()ed, NUL-terminated copy (for handler
 * outputs); the old data is free()d. On SIPC_E_NO_MEMORY dst is unchanged.
 * A NULL data with len 0 is a valid empty string on the wire. */
sipc_status sipc_str_set(sipc_str *dst, const char *src, size_t len);
sipc_status sipc_wstr_set(sipc_wstr *dst, const WCHAR *src, size_t len);
sipc_status sipc_wstr_concat(sipc_wstr *dst, const WCHAR *a, size_t alen,
                             const WCHAR *b, size_t blen);

/* ---- function descriptors --------------------------------------------------- */
typedef sipc_status (*sipc_write_fn)(sipc_stream *s, const void *value);
typedef sipc_status (*sipc_read_fn)(sipc_stream *s, void *value);
typedef void (*sipc_free_fn)(void *value);

/* One remote function: id, and codecs for its input and output structs.
 * The codecs write/read only the parameters (the library writes the frame
 * header and markers). Hand-written codecs may use any sipc_put_/sipc_get_
 * helper, e.g. for SOUI programs with custom serialisers. */
typedef struct sipc_function {
    uint32_t id;
    const char *name;
    size_t in_size, out_size;
    sipc_write_fn write_in;
    sipc_read_fn read_in;
    sipc_free_fn free_in;
    sipc_write_fn write_out;
    sipc_read_fn read_out;
    sipc_free_fn free_out;
} sipc_function;

/* Release the data of an output struct filled by sipc_call, and zero it. */
void sipc_free_out(const sipc_function *fn, void *out);

typedef struct sipc_conn sipc_conn;
typedef struct sipc_server sipc_server;

/* A handler: `in` is decoded, `out` is zeroed. Return SIPC_OK to answer 1
 * with the outputs; anything else answers 0 (the caller sees "not handled"). */
typedef sipc_status (*sipc_handler_fn)(sipc_conn *conn, const void *in, void *out,
                                       void *user);
typedef struct sipc_handler {
    const sipc_function *fn;
    sipc_handler_fn handle;
} sipc_handler;

/*
 * Declaring a function once (X-macros). Field kinds and their C members:
 *   i8 u8 i16 u16 i32 u32 i64 u64  -> int8_t ... uint64_t
 *   f32 f64                        -> float, double
 *   bool4 (Win32 BOOL, 4 bytes)    -> BOOL;   bool1 (1 byte) -> bool
 *   point size rect                -> POINT, SIZE, RECT (8, 8, 16 bytes)
 *   h64                            -> uint64_t (a handle carried as 8 bytes)
 *   bytes, N                       -> uint8_t name[N]  (N bytes verbatim)
 *   str                            -> sipc_str  (int32 byte count + bytes)
 *   wstr                           -> sipc_wstr (int32 unit count + UTF-16LE)
 *   array, T                       -> SIPC_ARRAY(T) (int32 count + raw Ts)
 *
 *   #define ADDINT_IN(X)  X(i32, a) X(i32, b)
 *   #define ADDINT_OUT(X) X(i32, ret)
 *   SIPC_FUNCTION(AddInt, 102, ADDINT_IN, ADDINT_OUT)
 *
 * generates, all static (fit for a header): structs AddInt_in / AddInt_out,
 * codecs, the descriptor `AddInt_function`, AddInt_call(conn, &in, &out),
 * AddInt_free_out(&out), and the handler type AddInt_handler_fn.
 * An empty list is written `#define NONE(X)`.
 *
 * Serving: write `sipc_status on_add(sipc_conn *c, const AddInt_in *in,
 * AddInt_out *out, void *user)`, then SIPC_HANDLER(AddInt, on_add) at file
 * scope defines the adapter, and SIPC_ENTRY(AddInt, on_add) is its entry in a
 * `static const sipc_handler table[]`.
 */
#define SIPC__M_i8(n, ...) int8_t n;
#define SIPC__M_u8(n, ...) uint8_t n;
#define SIPC__M_i16(n, ...) int16_t n;
#define SIPC__M_u16(n, ...) uint16_t n;
#define SIPC__M_i32(n, ...) int32_t n;
#define SIPC__M_u32(n, ...) uint32_t n;
#define SIPC__M_i64(n, ...) int64_t n;
#define SIPC__M_u64(n, ...) uint64_t n;
#define SIPC__M_f32(n, ...) float n;
#define SIPC__M_f64(n, ...) double n;
#define SIPC__M_bool4(n, ...) BOOL n;
#define SIPC__M_bool1(n, ...) bool n;
#define SIPC__M_point(n, ...) POINT n;
#define SIPC__M_size(n, ...) SIZE n;
#define SIPC__M_rect(n, ...) RECT n;
#define SIPC__M_h64(n, ...) uint64_t n;
#define SIPC__M_bytes(n, N) uint8_t n[N];
#define SIPC__M_str(n, ...) sipc_str n;
#define SIPC__M_wstr(n, ...) sipc_wstr n;
#define SIPC__M_array(n, T) SIPC_ARRAY(T) n;
#define SIPC__MEMBER(kind, n, ...) SIPC__M_##kind(n, __VA_ARGS__)

#define SIPC__P_i8(s, x) sipc_put_i8(s, x)
#define SIPC__P_u8(s, x) sipc_put_u8(s, x)
#define SIPC__P_i16(s, x) sipc_put_i16(s, x)
#define SIPC__P_u16(s, x) sipc_put_u16(s, x)
#define SIPC__P_i32(s, x) sipc_put_i32(s, x)
#define SIPC__P_u32(s, x) sipc_put_u32(s, x)
#define SIPC__P_i64(s, x) sipc_put_i64(s, x)
#define SIPC__P_u64(s, x) sipc_put_u64(s, x)
#define SIPC__P_f32(s, x) sipc_put_f32(s, x)
#define SIPC__P_f64(s, x) sipc_put_f64(s, x)
#define SIPC__P_bool4(s, x) sipc_put_bool4(s, x)
#define SIPC__P_bool1(s, x) sipc_put_bool1(s, x)
#define SIPC__P_point(s, x) sipc_put_point(s, x)
#define SIPC__P_size(s, x) sipc_put_size(s, x)
#define SIPC__P_rect(s, x) sipc_put_rect(s, x)
#define SIPC__P_h64(s, x) sipc_put_h64(s, x)
#define SIPC__P_bytes(s, x) sipc_put_bytes(s, (x), (uint32_t)sizeof(x))
#define SIPC__P_str(s, x) sipc_put_str(s, (x).data, (x).len)
#define SIPC__P_wstr(s, x) sipc_put_wstr(s, (x).data, (x).len)
#define SIPC__P_array(s, x) \
    sipc_put_array(s, (x).data, (x).count, (uint32_t)sizeof(*(x).data))
#define SIPC__PUT(kind, n, ...) \
    if (st == SIPC_OK) st = SIPC__P_##kind(s, v->n);

#define SIPC__G_i8(s, x) st = sipc_get_i8(s, &(x));
#define SIPC__G_u8(s, x) st = sipc_get_u8(s, &(x));
#define SIPC__G_i16(s, x) st = sipc_get_i16(s, &(x));
#define SIPC__G_u16(s, x) st = sipc_get_u16(s, &(x));
#define SIPC__G_i32(s, x) st = sipc_get_i32(s, &(x));
#define SIPC__G_u32(s, x) st = sipc_get_u32(s, &(x));
#define SIPC__G_i64(s, x) st = sipc_get_i64(s, &(x));
#define SIPC__G_u64(s, x) st = sipc_get_u64(s, &(x));
#define SIPC__G_f32(s, x) st = sipc_get_f32(s, &(x));
#define SIPC__G_f64(s, x) st = sipc_get_f64(s, &(x));
#define SIPC__G_bool4(s, x) st = sipc_get_bool4(s, &(x));
#define SIPC__G_bool1(s, x) st = sipc_get_bool1(s, &(x));
#define SIPC__G_point(s, x) st = sipc_get_point(s, &(x));
#define SIPC__G_size(s, x) st = sipc_get_size(s, &(x));
#define SIPC__G_rect(s, x) st = sipc_get_rect(s, &(x));
#define SIPC__G_h64(s, x) st = sipc_get_h64(s, &(x));
#define SIPC__G_bytes(s, x) st = sipc_get_bytes(s, (x), (uint32_t)sizeof(x));
#define SIPC__G_str(s, x) st = sipc_get_str(s, &(x));
#define SIPC__G_wstr(s, x) st = sipc_get_wstr(s, &(x));
#define SIPC__G_array(s, x)                                                   \
    {                                                                         \
        void *sipc__tmp = NULL;                                               \
        st = sipc_get_array(s, &sipc__tmp, &(x).count,                        \
                            (uint32_t)sizeof(*(x).data));                     \
        (x).data = sipc__tmp;                                                 \
    }
#define SIPC__GET(kind, n, ...) \
    if (st == SIPC_OK) { SIPC__G_##kind(s, v->n) }

#define SIPC__F_i8(x)
#define SIPC__F_u8(x)
#define SIPC__F_i16(x)
#define SIPC__F_u16(x)
#define SIPC__F_i32(x)
#define SIPC__F_u32(x)
#define SIPC__F_i64(x)
#define SIPC__F_u64(x)
#define SIPC__F_f32(x)
#define SIPC__F_f64(x)
#define SIPC__F_bool4(x)
#define SIPC__F_bool1(x)
#define SIPC__F_point(x)
#define SIPC__F_size(x)
#define SIPC__F_rect(x)
#define SIPC__F_h64(x)
#define SIPC__F_bytes(x)
#define SIPC__F_str(x) free((x).data); (x).data = NULL; (x).len = 0;
#define SIPC__F_wstr(x) free((x).data); (x).data = NULL; (x).len = 0;
#define SIPC__F_array(x) free((x).data); (x).data = NULL; (x).count = 0;
#define SIPC__FREE(kind, n, ...) SIPC__F_##kind(v->n)

#define SIPC__CODEC(NAME, SUF, LIST)                                          \
    static inline sipc_status NAME##_write_##SUF(sipc_stream *s, const void *p) \
    {                                                                         \
        const NAME##_##SUF *v = (const NAME##_##SUF *)p;                      \
        sipc_status st = SIPC_OK;                                             \
        (void)v; (void)s;                                                     \
        LIST(SIPC__PUT)                                                       \
        return st;                                                            \
    }                                                                         \
    static inline sipc_status NAME##_read_##SUF(sipc_stream *s, void *p)      \
    {                                                                         \
        NAME##_##SUF *v = (NAME##_##SUF *)p;                                  \
        sipc_status st = SIPC_OK;                                             \
        (void)v; (void)s;                                                     \
        LIST(SIPC__GET)                                                       \
        return st;                                                            \
    }                                                                         \
    static inline void NAME##_free_##SUF(void *p)                             \
    {                                                                         \
        NAME##_##SUF *v = (NAME##_##SUF *)p;                                  \
        (void)v;                                                              \
        LIST(SIPC__FREE)                                                      \
    }

sipc_status sipc_call(sipc_conn *conn, const sipc_function *fn, const void *in,
                      void *out);

#define SIPC_FUNCTION(NAME, ID, IN, OUT)                                      \
    typedef struct NAME##_in { IN(SIPC__MEMBER) } NAME##_in;                  \
    typedef struct NAME##_out { OUT(SIPC__MEMBER) } NAME##_out;               \
    SIPC__CODEC(NAME, in, IN)                                                 \
    SIPC__CODEC(NAME, out, OUT)                                               \
    static const sipc_function NAME##_function __attribute__((unused)) = {    \
        (ID), #NAME, sizeof(NAME##_in), sizeof(NAME##_out),                   \
        NAME##_write_in, NAME##_read_in, NAME##_free_in,                      \
        NAME##_write_out, NAME##_read_out, NAME##_free_out};                  \
    typedef sipc_status (*NAME##_handler_fn)(sipc_conn *conn,                 \
                                              const NAME##_in *in,            \
                                              NAME##_out *out, void *user);   \
    static inline sipc_status NAME##_call(sipc_conn *conn, const NAME##_in *in, \
                                          NAME##_out *out)                    \
    {                                                                         \
        return sipc_call(conn, &NAME##_function, in, out);                    \
    }

#define SIPC_HANDLER(NAME, fn)                                                \
    static sipc_status fn##__sipc(sipc_conn *conn, const void *in, void *out, \
                                  void *user)                                 \
    {                                                                         \
        return fn(conn, (const NAME##_in *)in, (NAME##_out *)out, user);      \
    }
#define SIPC_ENTRY(NAME, fn) { &NAME##_function, fn##__sipc }

/* ---- configuration ------------------------------------------------------- */
typedef enum sipc_wait_mode {
    /* SOUI's loop: PeekMessage(local, UM_CALL_FUN) + IsWindow(remote), no
     * sleeping (one core spins for the whole call). */
    SIPC_WAIT_SPIN = 0,
    /* The same loop, but idle time is spent in MsgWaitForMultipleObjectsEx
     * (wakes for sent/posted messages and the callback; re-checks IsWindow
     * every 10 ms). Same messages on the wire. */
    SIPC_WAIT_BLOCK = 1
} sipc_wait_mode;

typedef struct sipc_config {
    int version;                /* SIPC_V2 (0 means V2) or SIPC_V1 */
    uint32_t buf_size;          /* bytes per slot (v1: whole buffer); 0 -> 2048 */
    uint32_t stack_size;        /* slots; 0 -> 10 (v2 only) */
    /* Mapping name pattern with exactly two "%08x" (writer, reader: low 32
     * bits of the HWNDs) and optionally "%%"; nothing else. Required. */
    const WCHAR *name_format;
    const sipc_handler *handlers; /* functions this side serves (may be NULL) */
    size_t handler_count;
    void *user;                 /* passed to handlers */
    sipc_wait_mode wait_mode;
    sipc_log_fn log;            /* optional */
    void *log_ctx;
} sipc_config;

/* ---- connections ------------------------------------------------------------ */
typedef struct sipc_shm {
    HANDLE mapping;
    HANDLE event;   /* "<name>_mutex"; v2 only */
    void *view;
    size_t view_bytes;
    sipc_stream stream;
} sipc_shm;

/* Identifies a window owned by the library (stored in GWLP_USERDATA). */
typedef struct sipc_wndtag {
    uint32_t magic;
    int kind;
    void *owner;
} sipc_wndtag;

struct sipc_conn {
    sipc_wndtag tag;
    sipc_config cfg;
    WCHAR name_format[SIPC_MAX_NAME];
    HWND local;          /* our window: receives the peer's calls */
    HWND remote;         /* the peer's window: receives our calls */
    HWND server_main;    /* client side: where connect/disconnect go */
    sipc_shm send;       /* Name(local, remote) */
    sipc_shm recv;       /* Name(remote, local) */
    bool connected;
    bool same_thread;
    bool owns_local;     /* the library created `local` */
    bool close_pending;  /* closed while calls were running */
    bool reconnect_requested; /* client: UM_RECONN arrived on `local` */
    uint32_t depth;      /* our outgoing calls in progress (v2 slot index) */
    uint32_t busy;       /* outgoing + incoming calls in progress */
    uint32_t seq;
    double connect_answer_ms; /* client: how long the server took to answer the
                               * last connect request (or to time out), QPC */
    sipc_server *server; /* server side: the owner */
    void *app;           /* free for the application */
    sipc_error err;
};

/* Find a server main window by title (FindWindow(NULL, title)). */
HWND sipc_find_server(const WCHAR *title);

/* Client: create a message-only local window and connect to `server`.
 * `conn` must be zero-initialised or disconnected (else SIPC_E_BUSY).
 * v2: SendMessageTimeout(100 ms, SMTO_ABORTIFHUNG), then open both mappings
 * and both "_mutex" events like SOUI's client; v1: expects 1 and uses the
 * server window for calls. On failure the conn is left closed and conn->err
 * says why. `conn` must stay at the same address while connected. */
sipc_status sipc_connect(sipc_conn *conn, const sipc_config *cfg, HWND server);
/* Client: post disconnect to the server main window (101, local HWND), unmap,
 * and destroy the local window. Safe to call twice. */
void sipc_disconnect(sipc_conn *conn);

/* For applications that route messages of their own windows: returns TRUE
 * in *handled when the message was SIPC's. The library's own windows call
 * these from their window procedure. */
LRESULT sipc_conn_on_message(sipc_conn *conn, HWND hwnd, UINT msg, WPARAM wp,
                             LPARAM lp, BOOL *handled);

/* ---- server --------------------------------------------------------------- */
typedef enum sipc_drop_reason {
    SIPC_DROP_DISCONNECT = 0, /* the client posted 101 */
    SIPC_DROP_DEAD = 1,       /* the 50 ms check found the client window gone */
    SIPC_DROP_SHUTDOWN = 2    /* sipc_server_stop */
} sipc_drop_reason;

typedef struct sipc_server_config {
    sipc_config base;          /* protocol, sizes, name format, handlers, log */
    const WCHAR *title;        /* main window title (clients FindWindow it) */
    bool top_level;            /* invisible WS_POPUP instead of message-only
                                  (needs a display under Wine) */
    SECURITY_ATTRIBUTES *sa;   /* for mappings and events; NULL = default */
    uint32_t max_clients;      /* 0 -> 256 */
    UINT check_ms;             /* dead-client poll; 0 -> 50 */
    void (*on_connect)(sipc_server *srv, sipc_conn *conn, void *user);
    void (*on_disconnect)(sipc_server *srv, sipc_conn *conn,
                          sipc_drop_reason why, void *user);
    void *user;
} sipc_server_config;

struct sipc_server {
    sipc_wndtag tag;
    sipc_server_config cfg;
    WCHAR name_format[SIPC_MAX_NAME];
    HWND main;
    UINT_PTR timer;
    sipc_conn **conns;
    size_t count, alloc;
    sipc_error err;
};

/* Create the main window (+ the liveness timer). `srv` must stay at the same
 * address until sipc_server_stop. */
sipc_status sipc_server_start(sipc_server *srv, const sipc_server_config *cfg);
/* Drop every connection (SIPC_DROP_SHUTDOWN) and destroy the windows. */
void sipc_server_stop(sipc_server *srv);
/* The connection of a client window, or NULL. */
sipc_conn *sipc_server_find(sipc_server *srv, HWND client);
LRESULT sipc_server_on_message(sipc_server *srv, HWND hwnd, UINT msg, WPARAM wp,
                               LPARAM lp, BOOL *handled);

/* ---- utilities ------------------------------------------------------------ */
/* Format a mapping name from the pattern (see sipc_config.name_format). */
sipc_status sipc_format_name(const WCHAR *fmt, uint32_t writer, uint32_t reader,
                             WCHAR *out, size_t out_units);
/* Check a pattern: exactly two "%08x", otherwise only "%%". */
bool sipc_name_format_valid(const WCHAR *fmt);

#ifdef __cplusplus
}
#endif
#endif /* SIPC_H */
