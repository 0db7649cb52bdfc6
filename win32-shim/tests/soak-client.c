/*
 * soak-client.c - one client of the soak test (issue 6): connects to a SIPC
 * server (the Swift host's) and runs a deterministic stream of mixed
 * operations, checking every answer. The functions are in soak_protocol.h.
 *
 *   soak-client --title T --copy-title C --client N --count K
 *               [--run R] [--first S] [--seed X] [--spin]
 *
 *   --title T        the SIPC server's main window title
 *   --copy-title C   the title of the host window that takes WM_COPYDATA
 *   --client N       this client's number (carried by every request)
 *   --run R          run number (default 1; a replacement uses 2, ...)
 *   --first S        first sequence number (default 0)
 *   --count K        operations to run: seq S .. S + K - 1
 *   --seed X         the stream's seed (default 1)
 *   --spin           SOUI's spinning wait for replies (default: sleep in
 *                    MsgWaitForMultipleObjectsEx, kinder to a shared machine)
 *
 * Operation seq is drawn from a generator seeded by (seed, client, seq) only,
 * so a replacement started at --first S runs exactly the operations the
 * killed client would have run from S on. The mix (per 100): 35 SoakInt,
 * 20 SoakWide (0-400 UTF-16 units: ASCII, controls incl. NUL, Latin, CJK,
 * symbols, private use, non-BMP), 15 SoakNarrow (the same text as UTF-8,
 * 0-600 bytes), 15 WM_COPYDATA (16 bytes of header + 0-1024 bytes, a quarter
 * up to 64 KiB, one in 64 exactly 64 KiB) and 15 SoakSum chains (a quarter 20
 * calls deep, the rest 1-19). The host calls back into this client for every
 * second level of a Sum chain.
 *
 * Output (one key=value per line): connected=1, local=0x.., connect_ms= (the
 * connect that succeeded), connect_answer_ms= (of it, the time the server took to
 * answer; each failed attempt prints connect_failed=), then at the end
 * ops= int= wide= narrow= copy= sum= calls_out= calls_in= copy_bytes=
 * max_depth= connect_retries= errors= elapsed_ms= ops_per_s=, a readable
 * `summary ...` line and status=ok|fail. A wrong, missing or misordered
 * answer prints `mismatch seq=.. op=.. detail=..` (the first 20) and counts
 * as an error; a failed call prints error= and error_detail= and ends the run.
 * Exit code 0 only when every operation ran and every answer was right.
 */
#include "sipc.h"
#include "sipb_tool.h"
#include "soak_protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define WIDE_MAX_UNITS 400u
#define NARROW_MAX_BYTES 600u
#define MAX_CODEPOINTS 600u
#define MAX_MISMATCH_LINES 20u

/* ---- output ------------------------------------------------------------------ */

static void log_sink(void *ctx, sipc_log_level lvl, const char *msg)
{
    if (lvl >= SIPC_LOG_WARN)
        sipb_emit("sipc_log=%s", msg);
}

/* ---- the generator -------------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next64(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t next32(rng *r)
{
    return (uint32_t)(next64(r) >> 32);
}

/* The generator of operation `seq`: depends on nothing but these three. */
static rng op_rng(uint64_t seed, uint32_t client, uint32_t seq)
{
    rng r = {seed ^ ((uint64_t)client << 40) ^ ((uint64_t)seq * 0xD1B54A32D192ED03ull)};

    next64(&r);
    return r;
}

/* A Unicode scalar value (never a surrogate) from a spread of ranges. */
static uint32_t gen_codepoint(rng *r)
{
    uint32_t v = next32(r), w = v >> 8;

    switch (v % 10) {
    case 0:
    case 1:
    case 2: return 0x20 + w % 0x5F;       /* printable ASCII */
    case 3: return w % 0x20;              /* controls, NUL included */
    case 4: return 0xA0 + w % 0x1B0;      /* Latin-1 and Latin Extended */
    case 5: return 0x4E00 + w % 0x5200;   /* CJK */
    case 6: return 0x2000 + w % 0xC00;    /* punctuation, symbols, arrows */
    case 7: return 0xE000 + w % 0x2000;   /* private use up to U+FFFF */
    default: return 0x10000 + w % 0x100000; /* every supplementary plane */
    }
}

/* ---- state ----------------------------------------------------------------------- */

typedef struct soak_ctx {
    sipc_conn conn;
    uint32_t client, run, first, count;
    uint64_t seed;
    HWND copy_target;
    bool spin;
    /* the Sum chain in progress */
    bool sum_active;
    uint32_t sum_seq;
    int32_t sum_top;
    /* counters */
    uint32_t ops, n_int, n_wide, n_narrow, n_copy, n_sum;
    uint32_t calls_out, calls_in, max_depth, connect_retries, errors;
    uint64_t copy_bytes;
    uint8_t *pattern, *copy_buf;
} soak_ctx;

static void mismatch(soak_ctx *x, uint32_t seq, const char *op, const char *fmt, ...)
    __attribute__((format(gnu_printf, 4, 5)));
static void mismatch(soak_ctx *x, uint32_t seq, const char *op, const char *fmt, ...)
{
    char detail[400];
    va_list ap;

    x->errors++;
    if (x->errors > MAX_MISMATCH_LINES)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    sipb_emit("mismatch seq=%u op=%s detail=%s", seq, op, detail);
}

static int call_failed(soak_ctx *x, uint32_t seq, const char *op, sipc_status st)
{
    sipb_emit("error=%s", sipc_status_name(st));
    sipb_emit("error_detail=seq %u %s: %s", seq, op, x->conn.err.what);
    return 1;
}

/* Checks the (client, seq, tag) every answer carries. */
static bool check_ids(soak_ctx *x, uint32_t seq, const char *op, uint32_t salt, uint32_t client,
                      uint32_t got_seq, uint32_t tag)
{
    uint32_t want = soak_tag(x->client, x->run, seq, salt);

    if (client == x->client && got_seq == seq && tag == want)
        return true;
    mismatch(x, seq, op, "answer for client %u seq %u tag %08x, expected client %u seq %u tag %08x",
             client, got_seq, tag, x->client, seq, want);
    return false;
}

static int32_t triangle(int32_t n)
{
    return n <= 0 ? 0 : n * (n + 1) / 2;
}

/* ---- Sum, both directions ---------------------------------------------------------- */

/* One level of the chain on this side: n + Sum(n - 1) on the host. */
static sipc_status sum_level(soak_ctx *x, int32_t n, int32_t *ret)
{
    SoakSum_in in = {x->client, x->run, x->sum_seq, x->sum_top, n - 1};
    SoakSum_out out;
    sipc_status st;

    if (n <= 0) {
        *ret = 0;
        return SIPC_OK;
    }
    if (x->conn.depth + 1 > x->max_depth)
        x->max_depth = x->conn.depth + 1;
    x->calls_out++;
    st = SoakSum_call(&x->conn, &in, &out);
    if (st != SIPC_OK)
        return st;
    if (!check_ids(x, x->sum_seq, "sum", SOAK_ID_SUM + ((uint32_t)(n - 1) << 16), out.client, out.seq,
                   out.tag))
        return SIPC_E_HANDLER;
    if (out.ret != triangle(n - 1)) {
        mismatch(x, x->sum_seq, "sum", "Sum(%d) answered %d, expected %d", n - 1, out.ret,
                 triangle(n - 1));
        return SIPC_E_HANDLER;
    }
    *ret = n + out.ret;
    return SIPC_OK;
}

/* The host's nested calls: they must belong to the chain in progress. */
static sipc_status on_sum(sipc_conn *c, const SoakSum_in *in, SoakSum_out *out, void *user)
{
    soak_ctx *x = user;
    sipc_status st;

    x->calls_in++;
    if (!x->sum_active || in->client != x->client || in->run != x->run || in->seq != x->sum_seq ||
        in->top != x->sum_top || in->n < 0 || in->n >= in->top) {
        mismatch(x, x->sum_seq, "sum-in",
                 "host called Sum(client %u run %u seq %u top %d n %d) during %s seq %u top %d",
                 in->client, in->run, in->seq, in->top, in->n, x->sum_active ? "chain" : "no chain",
                 x->sum_seq, x->sum_top);
        return SIPC_E_HANDLER;
    }
    st = sum_level(x, in->n, &out->ret);
    if (st != SIPC_OK)
        return st;
    out->client = x->client;
    out->seq = x->sum_seq;
    out->tag = soak_tag(x->client, x->run, x->sum_seq, SOAK_ID_SUM + ((uint32_t)in->n << 16));
    return SIPC_OK;
}
SIPC_HANDLER(SoakSum, on_sum)

static const sipc_handler handlers[] = {
    SIPC_ENTRY(SoakSum, on_sum),
};

/* ---- the operations --------------------------------------------------------------- */

static int op_int(soak_ctx *x, uint32_t seq, rng *r)
{
    SoakInt_in in = {x->client, x->run, seq, (int32_t)next32(r), (int32_t)next32(r),
                     (int64_t)next64(r)};
    SoakInt_out out;
    sipc_status st;

    x->calls_out++;
    st = SoakInt_call(&x->conn, &in, &out);
    if (st != SIPC_OK)
        return call_failed(x, seq, "int", st);
    x->n_int++;
    if (!check_ids(x, seq, "int", SOAK_ID_INT, out.client, out.seq, out.tag))
        return 0;
    int32_t sum = (int32_t)((uint32_t)in.a + (uint32_t)in.b);
    int64_t c = (int64_t)(~(uint64_t)in.c ^ (((uint64_t)seq << 32) | x->client));
    if (out.sum != sum || out.c != c)
        mismatch(x, seq, "int", "(%d, %d, %lld) answered (%d, %lld), expected (%d, %lld)", in.a,
                 in.b, (long long)in.c, out.sum, (long long)out.c, sum, (long long)c);
    return 0;
}

/* Code points for a text of at most `max` units (wide: UTF-16 units; narrow:
 * UTF-8 bytes); returns how many. */
static uint32_t gen_text(rng *r, bool wide, uint32_t max, uint32_t *cps)
{
    uint32_t target = next32(r) % (max + 1), used = 0, n = 0;

    while (n < MAX_CODEPOINTS) {
        uint32_t cp = gen_codepoint(r);
        uint32_t size = wide ? (cp > 0xFFFF ? 2 : 1)
                             : (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
        if (used + size > target)
            break;
        used += size;
        cps[n++] = cp;
    }
    return n;
}

static uint32_t put_utf16(uint32_t cp, WCHAR *out)
{
    if (cp < 0x10000) {
        out[0] = (WCHAR)cp;
        return 1;
    }
    cp -= 0x10000;
    out[0] = (WCHAR)(0xD800 + (cp >> 10));
    out[1] = (WCHAR)(0xDC00 + (cp & 0x3FF));
    return 2;
}

static uint32_t put_utf8(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static int op_wide(soak_ctx *x, uint32_t seq, rng *r)
{
    static uint32_t cps[MAX_CODEPOINTS];
    static WCHAR text[WIDE_MAX_UNITS + 2], want[WIDE_MAX_UNITS + 2];
    uint32_t n = gen_text(r, true, WIDE_MAX_UNITS, cps), units = 0, wunits = 0;
    SoakWide_out out;
    sipc_status st;

    for (uint32_t i = 0; i < n; i++)
        units += put_utf16(cps[i], text + units);
    for (uint32_t i = n; i-- > 0;)
        wunits += put_utf16(cps[i], want + wunits);
    SoakWide_in in = {x->client, x->run, seq, {text, units}};
    x->calls_out++;
    st = SoakWide_call(&x->conn, &in, &out);
    if (st != SIPC_OK)
        return call_failed(x, seq, "wide", st);
    x->n_wide++;
    if (check_ids(x, seq, "wide", SOAK_ID_WIDE, out.client, out.seq, out.tag)) {
        if (out.scalars != n || out.text.len != wunits ||
            (wunits && memcmp(out.text.data, want, wunits * sizeof(WCHAR))))
            mismatch(x, seq, "wide", "%u units / %u code points answered %u units / %u code points%s",
                     units, n, out.text.len, out.scalars,
                     out.text.len == wunits ? ", different units" : "");
    }
    SoakWide_free_out(&out);
    return 0;
}

static int op_narrow(soak_ctx *x, uint32_t seq, rng *r)
{
    static uint32_t cps[MAX_CODEPOINTS];
    static uint8_t text[NARROW_MAX_BYTES + 4];
    uint32_t n = gen_text(r, false, NARROW_MAX_BYTES, cps), len = 0;
    SoakNarrow_out out;
    sipc_status st;
    bool same;

    for (uint32_t i = 0; i < n; i++)
        len += put_utf8(cps[i], text + len);
    SoakNarrow_in in = {x->client, x->run, seq, {(char *)text, len}};
    x->calls_out++;
    st = SoakNarrow_call(&x->conn, &in, &out);
    if (st != SIPC_OK)
        return call_failed(x, seq, "narrow", st);
    x->n_narrow++;
    if (check_ids(x, seq, "narrow", SOAK_ID_NARROW, out.client, out.seq, out.tag)) {
        same = out.bytes.len == len;
        for (uint32_t i = 0; same && i < len; i++)
            same = (uint8_t)out.bytes.data[i] == text[len - 1 - i];
        if (!same || out.scalars != n || out.fnv != soak_fnv1a32(text, len))
            mismatch(x, seq, "narrow",
                     "%u bytes / %u code points / fnv %08x answered %u bytes%s / %u / %08x", len, n,
                     soak_fnv1a32(text, len), out.bytes.len, same ? "" : " (different)", out.scalars,
                     out.fnv);
    }
    SoakNarrow_free_out(&out);
    return 0;
}

static int op_copy(soak_ctx *x, uint32_t seq, rng *r)
{
    uint32_t v = next32(r), len, offset;
    uint32_t header[4];
    COPYDATASTRUCT cds;
    DWORD_PTR res = 0;
    uint64_t want;

    if (v % 64 == 0)
        len = SOAK_COPY_MAX_BODY;
    else if (v % 4 == 0)
        len = next32(r) % (SOAK_COPY_MAX_BODY + 1);
    else
        len = next32(r) % 1025;
    offset = next32(r) % 65536;
    header[0] = x->client;
    header[1] = x->run;
    header[2] = seq;
    header[3] = offset;
    memcpy(x->copy_buf, header, sizeof(header));
    memcpy(x->copy_buf + SOAK_COPY_HEADER, x->pattern + offset, len);
    cds.dwData = SOAK_COPY_DWDATA;
    cds.cbData = SOAK_COPY_HEADER + len;
    cds.lpData = x->copy_buf;
    SetLastError(0);
    if (!SendMessageTimeoutW(x->copy_target, WM_COPYDATA, (WPARAM)x->conn.local, (LPARAM)&cds,
                             SMTO_NORMAL, 60000, &res)) {
        sipb_emit("error=SIPC_E_WIN32");
        sipb_emit("error_detail=seq %u copy: SendMessageTimeout(WM_COPYDATA, %u bytes) failed, "
                  "GetLastError %lu",
                  seq, (unsigned)cds.cbData, GetLastError());
        return 1;
    }
    x->n_copy++;
    x->copy_bytes += cds.cbData;
    want = ((uint64_t)soak_tag(x->client, x->run, seq, SOAK_COPY_SALT) << 32) | len;
    if ((uint64_t)res != want)
        mismatch(x, seq, "copy", "%u bytes at offset %u answered %016llx, expected %016llx",
                 (unsigned)cds.cbData, offset, (unsigned long long)res, (unsigned long long)want);
    return 0;
}

static int op_sum(soak_ctx *x, uint32_t seq, rng *r)
{
    uint32_t v = next32(r);
    int32_t depth = v % 4 == 0 ? 20 : 1 + (int32_t)(next32(r) % 19), top = depth - 1;
    SoakSum_in in = {x->client, x->run, seq, top, top};
    SoakSum_out out;
    sipc_status st;

    x->sum_active = true;
    x->sum_seq = seq;
    x->sum_top = top;
    x->calls_out++;
    if (x->max_depth < 1)
        x->max_depth = 1;
    st = SoakSum_call(&x->conn, &in, &out);
    x->sum_active = false;
    if (st != SIPC_OK)
        return call_failed(x, seq, "sum", st);
    x->n_sum++;
    if (check_ids(x, seq, "sum", SOAK_ID_SUM + ((uint32_t)top << 16), out.client, out.seq, out.tag) &&
        out.ret != triangle(top))
        mismatch(x, seq, "sum", "Sum(%d) answered %d, expected %d", top, out.ret, triangle(top));
    return 0;
}

static int run_ops(soak_ctx *x)
{
    for (uint32_t k = 0; k < x->count; k++) {
        uint32_t seq = x->first + k;
        rng r = op_rng(x->seed, x->client, seq);
        uint32_t pick = next32(&r) % 100;
        int rc;

        if (pick < 35)
            rc = op_int(x, seq, &r);
        else if (pick < 55)
            rc = op_wide(x, seq, &r);
        else if (pick < 70)
            rc = op_narrow(x, seq, &r);
        else if (pick < 85)
            rc = op_copy(x, seq, &r);
        else
            rc = op_sum(x, seq, &r);
        if (rc)
            return rc;
        x->ops++;
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------------- */

static bool parse_u64(const WCHAR *s, uint64_t *out)
{
    WCHAR *end = NULL;

    if (!s || !*s)
        return false;
    *out = _wcstoui64(s, &end, 0);
    return *end == 0;
}

static HWND find_window(const WCHAR *title)
{
    HWND hwnd = FindWindowW(NULL, title);

    return hwnd ? hwnd : FindWindowExW(HWND_MESSAGE, NULL, NULL, title);
}

typedef LPWSTR *(WINAPI *argv_fn)(LPCWSTR, int *);

static int usage(const char *why)
{
    sipb_emit("error=usage");
    sipb_emit("error_detail=%s; soak-client --title T --copy-title C --client N --count K [--run R] "
              "[--first S] [--seed X] [--spin]",
              why);
    return 2;
}

int main(void)
{
    static soak_ctx x;
    HMODULE shell32 = LoadLibraryW(L"shell32.dll");
    FARPROC proc = shell32 ? GetProcAddress(shell32, "CommandLineToArgvW") : NULL;
    const WCHAR *title = NULL, *copy_title = NULL;
    bool have_client = false, have_count = false;
    sipc_config cfg;
    HWND server = NULL;
    sipc_status st = SIPC_E_NOT_FOUND;
    WCHAR **argv;
    int argc = 0, rc;
    double t0, ms;

    if (!proc)
        return usage("CommandLineToArgvW unavailable");
    argv = ((argv_fn)(void (*)(void))proc)(GetCommandLineW(), &argc);
    if (!argv)
        return usage("CommandLineToArgvW failed");
    x.run = 1;
    x.seed = 1;
    for (int i = 1; i < argc; i++) {
        const WCHAR *a = argv[i];
        uint64_t v = 0;
        if (!wcscmp(a, L"--spin")) {
            x.spin = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage("option without a value");
        const WCHAR *val = argv[++i];
        if (!wcscmp(a, L"--title"))
            title = val;
        else if (!wcscmp(a, L"--copy-title"))
            copy_title = val;
        else if (!parse_u64(val, &v))
            return usage("not a number");
        else if (!wcscmp(a, L"--client") && v <= 0xFFFF)
            x.client = (uint32_t)v, have_client = true;
        else if (!wcscmp(a, L"--run") && v >= 1 && v <= 0xFFFF)
            x.run = (uint32_t)v;
        else if (!wcscmp(a, L"--first") && v <= UINT32_MAX)
            x.first = (uint32_t)v;
        else if (!wcscmp(a, L"--count") && v <= UINT32_MAX)
            x.count = (uint32_t)v, have_count = true;
        else if (!wcscmp(a, L"--seed"))
            x.seed = v;
        else
            return usage("unknown option or value out of range");
    }
    if (!title || !copy_title || !have_client || !have_count)
        return usage("--title, --copy-title, --client and --count are required");
    if ((uint64_t)x.first + x.count > UINT32_MAX)
        return usage("--first + --count past 2^32 - 1");
    x.pattern = malloc(SOAK_PATTERN_BYTES);
    x.copy_buf = malloc(SOAK_COPY_HEADER + SOAK_COPY_MAX_BODY);
    if (!x.pattern || !x.copy_buf) {
        sipb_emit("error=SIPC_E_NO_MEMORY");
        return 1;
    }
    soak_fill_pattern(x.pattern);

    memset(&cfg, 0, sizeof(cfg));
    cfg.version = SIPC_V2;
    cfg.buf_size = SOAK_BUF_SIZE;
    cfg.stack_size = SOAK_STACK_SIZE;
    cfg.name_format = SOAK_NAME_FORMAT;
    cfg.handlers = handlers;
    cfg.handler_count = sizeof(handlers) / sizeof(handlers[0]);
    cfg.user = &x;
    cfg.wait_mode = x.spin ? SIPC_WAIT_SPIN : SIPC_WAIT_BLOCK;
    cfg.log = log_sink;
    x.copy_target = find_window(copy_title);
    if (!x.copy_target) {
        sipb_emit("error=SIPC_E_NOT_FOUND");
        sipb_emit("error_detail=no copy window with that title");
        sipb_emit("status=fail");
        return 1;
    }
    /* SOUI's client gives the server 100 ms to answer a connect; a server busy
     * with three other clients may miss that once in a while: retry, and say so. */
    for (int attempt = 0; attempt < 10; attempt++) {
        server = sipc_find_server(title);
        t0 = sipb_now_ms();
        if (server && (st = sipc_connect(&x.conn, &cfg, server)) == SIPC_OK)
            break;
        x.connect_retries++;
        sipb_emit("connect_failed=%s after %.1f ms (the server's answer: %.1f ms): %s", sipc_status_name(st),
                  sipb_now_ms() - t0, server ? x.conn.connect_answer_ms : 0.0,
                  server ? x.conn.err.what : "no server");
        Sleep(50);
    }
    if (st != SIPC_OK) {
        sipb_emit("error=%s", sipc_status_name(st));
        sipb_emit("error_detail=connect: %s", x.conn.err.what);
        sipb_emit("status=fail");
        return 1;
    }
    sipb_emit("connected=1");
    sipb_emit("local=0x%08x", (unsigned)(uintptr_t)x.conn.local);
    sipb_emit("connect_ms=%.1f", sipb_now_ms() - t0);
    sipb_emit("connect_answer_ms=%.1f", x.conn.connect_answer_ms);

    t0 = sipb_now_ms();
    rc = run_ops(&x);
    ms = sipb_now_ms() - t0;
    sipc_disconnect(&x.conn);
    sipb_emit("ops=%u", x.ops);
    sipb_emit("int=%u", x.n_int);
    sipb_emit("wide=%u", x.n_wide);
    sipb_emit("narrow=%u", x.n_narrow);
    sipb_emit("copy=%u", x.n_copy);
    sipb_emit("sum=%u", x.n_sum);
    sipb_emit("calls_out=%u", x.calls_out);
    sipb_emit("calls_in=%u", x.calls_in);
    sipb_emit("copy_bytes=%llu", (unsigned long long)x.copy_bytes);
    sipb_emit("max_depth=%u", x.max_depth);
    sipb_emit("connect_retries=%u", x.connect_retries);
    sipb_emit("errors=%u", x.errors);
    sipb_emit("elapsed_ms=%.0f", ms);
    sipb_emit("ops_per_s=%.0f", ms > 0 ? x.ops * 1000.0 / ms : 0.0);
    sipb_emit("summary client=%u run=%u first=%u ops=%u/%u int=%u wide=%u narrow=%u copy=%u sum=%u "
              "calls_out=%u calls_in=%u copy_bytes=%llu max_depth=%u connect_retries=%u errors=%u "
              "elapsed_ms=%.0f",
              x.client, x.run, x.first, x.ops, x.count, x.n_int, x.n_wide, x.n_narrow, x.n_copy, x.n_sum,
              x.calls_out, x.calls_in, (unsigned long long)x.copy_bytes, x.max_depth, x.connect_retries,
              x.errors, ms);
    sipb_emit("status=%s", rc == 0 && x.errors == 0 ? "ok" : "fail");
    return rc ? rc : x.errors ? 1 : 0;
}
