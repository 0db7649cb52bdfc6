/*
 * sipc-peer.c - the general SIPC test peer (client or server of the SOUI4
 * ipcdemo protocol plus the type-coverage functions of test_protocol.h).
 *
 *   sipc-peer client [options] <command...>
 *   sipc-peer server [options] <seconds>
 *
 * Options (both roles):
 *   --v1            legacy v1 protocol (spec 11) instead of v2
 *   --title T       server window title (default sipc_demo_svr)
 *   --stack N       stack slots (default 64)
 *   --buf N         bytes per slot (default 2048)
 *   --format F      mapping name format (default: the ipcdemo's)
 *   --block-wait    sleep in MsgWaitForMultipleObjectsEx while waiting for a
 *                   reply instead of SOUI's busy PeekMessage loop
 *   --quiet-calls   (server) do not print a line per call
 *   --top-level     (server) main window is an invisible WS_POPUP (as on
 *                   Windows, where FindWindow skips message-only windows);
 *                   needs a display under Wine (e.g. Xvfb)
 *   --hello-ms N    (server) call SayHello on each client N ms after it
 *                   connected (0 = never, the default)
 *
 * The client first connects: connected=1 version= local= remote= connect_ms=
 * (look-up and connect) connect_answer_ms= (of it, the time the server took to
 * answer the connect request; printed after a failed connect too).
 * Client commands, run in order; each prints "command=<name>" first:
 *   add-int A B          result=<int>
 *   add-string A B       result_units=<n> result_hex=<UTF-16LE bytes, hex>
 *                        result_utf8=<text>
 *   sum N                result=<int>
 *   types                types=ok, or types=fail plus types_diff=... lines
 *   hello-wait [MS]      waits (default 5000 ms) for SayHello:
 *                        hello_units= hello_hex= hello_utf8=
 *   sleep MS             pumps messages for MS ms (serves the server's calls)
 *   freeze MS            Sleep(MS) without pumping (the server's calls wait)
 *   bench-add-int N      N AddInt calls: calls= total_us= avg_us=
 *   try-add-int A B      result=<int>, or call_error=<status> (not a failure)
 *   wait-reconnect MS    pumps up to MS ms for the server's UM_RECONN (spec 9.3),
 *                        then reconnects as sinstar3 does: disconnect, look the
 *                        server up every 10 ms (up to 300 times), connect:
 *                        reconnected=1 reconnect_ms=<ms from UM_RECONN>
 *   disconnect           disconnected=1
 *   exit-without-disconnect   prints exiting=abrupt and clock_ms=<QPC ms>, then
 *                        ExitProcess(0) while still connected
 * Each timed command also prints elapsed_us=. The client serves SayHello
 * (prints hello_* lines whenever one arrives) and Sum (n + Sum(n-1) on the
 * server). It uses the library's client, which behaves as SOUI v2's does:
 * pre-call drain of UM_CALL_FUN on its window, slot = call depth, frame
 * [seq][id][id][F0][inputs], seq 0..65534, SendMessageCallback + PeekMessage
 * wait loop that stops when the server window dies, "_mutex" events opened
 * with SYNCHRONIZE.
 *
 * Server output: listening=1 main=0x... title=..., then one line per event:
 *   event=connect client=0x.. conn=0x.. t_ms=..
 *   event=disconnect client=0x.. reason=disconnect|dead|shutdown t_ms=..
 *                    clock_ms=.. (QueryPerformanceCounter in ms; the same
 *                    clock in every process, for comparing with clock_ms)
 *   event=call fn=<name> client=0x.. t_ms=..
 *   event=hello client=0x.. status=<SIPC status> t_ms=..
 * and finally status=ok. Exit code 0 only on success. Errors: error=<status>
 * and error_detail=<text>.
 */
#include "sipc.h"
#include "sipb_tool.h"
#include "sipc_demo_protocol.h"
#include "test_protocol.h"

#include <stdarg.h>
#include <uchar.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* ---- output ------------------------------------------------------------------ */

/* One key=value line on stdout, written with WriteFile (no CRLF translation),
 * so it is flushed at once. */
static void log_sink(void *ctx, sipc_log_level lvl, const char *msg)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char buf[700];
    DWORD done;
    int n = snprintf(buf, sizeof(buf), "sipc-%s: %s\n", names[lvl & 3], msg);

    if (n > 0)
        WriteFile(GetStdHandle(STD_ERROR_HANDLE), buf,
                  (DWORD)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1), &done, NULL);
}

/* UTF-16 -> UTF-8 into buf (NUL-terminated; empty on failure). */
static const char *utf8(const WCHAR *w, uint32_t units, char *buf, int size)
{
    int n = units ? WideCharToMultiByte(CP_UTF8, 0, w, (int)units, buf, size - 1, NULL, NULL)
                  : 0;
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* Hex of the UTF-16LE bytes: unit 0x00e9 -> "e900". */
static const char *hex16(const WCHAR *w, uint32_t units, char *buf, size_t size)
{
    size_t o = 0;

    for (uint32_t i = 0; i < units && o + 5 <= size; i++) {
        snprintf(buf + o, size - o, "%02x%02x", w[i] & 0xff, (w[i] >> 8) & 0xff);
        o += 4;
    }
    buf[o] = 0;
    return buf;
}

static void print_wstr(const char *key, const sipc_wstr *s)
{
    static char hex[8192], text[4096];

    sipb_emit("%s_units=%u", key, s->len);
    sipb_emit("%s_hex=%s", key, hex16(s->data, s->len, hex, sizeof(hex)));
    sipb_emit("%s_utf8=%s", key, utf8(s->data, s->len, text, sizeof(text)));
}

/* ---- options ------------------------------------------------------------------ */

typedef struct peer_opts {
    int version;
    const WCHAR *title;
    uint32_t stack;
    uint32_t buf;
    const WCHAR *format;
    bool block_wait;
    bool quiet_calls;
    bool top_level;
    uint32_t hello_ms;
} peer_opts;

static bool parse_i32(const WCHAR *s, int32_t *out)
{
    WCHAR *end = NULL;
    long long v;

    if (!s || !*s)
        return false;
    v = wcstoll(s, &end, 10);
    if (*end || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

/* Consume leading options; returns the index of the first non-option or -1. */
static int parse_opts(int argc, WCHAR **argv, int i, peer_opts *o)
{
    o->version = SIPC_V2;
    o->title = SIPC_DEMO_TITLE;
    o->stack = SIPC_DEMO_STACK_SIZE;
    o->buf = SIPC_DEMO_BUF_SIZE;
    o->format = SIPC_DEMO_NAME_FORMAT;
    for (; i < argc && wcsncmp(argv[i], L"--", 2) == 0; i++) {
        const WCHAR *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!wcscmp(a, L"--v1"))
            o->version = SIPC_V1;
        else if (!wcscmp(a, L"--v2"))
            o->version = SIPC_V2;
        else if (!wcscmp(a, L"--block-wait"))
            o->block_wait = true;
        else if (!wcscmp(a, L"--quiet-calls"))
            o->quiet_calls = true;
        else if (!wcscmp(a, L"--top-level"))
            o->top_level = true;
        else if (!wcscmp(a, L"--title") && has_val)
            o->title = argv[++i];
        else if (!wcscmp(a, L"--format") && has_val)
            o->format = argv[++i];
        else if (!wcscmp(a, L"--stack") && has_val) {
            if (!sipb_parse_u32(argv[++i], &o->stack) || o->stack == 0)
                return -1;
        } else if (!wcscmp(a, L"--buf") && has_val) {
            if (!sipb_parse_u32(argv[++i], &o->buf) || o->buf == 0)
                return -1;
        } else if (!wcscmp(a, L"--hello-ms") && has_val) {
            if (!sipb_parse_u32(argv[++i], &o->hello_ms))
                return -1;
        } else {
            return -1;
        }
    }
    return i;
}

/* ---- handlers shared by both roles ----------------------------------------------- */

typedef struct peer_ctx {
    peer_opts opts;
    sipc_server server;
    sipc_conn client;
    double t0;
    bool hello_seen;
    /* server: clients still owed a SayHello */
    struct { HWND client; double due; } hello[64];
    size_t hello_count;
} peer_ctx;

static sipc_status on_sum(sipc_conn *c, const DemoSum_in *in, DemoSum_out *out, void *user)
{
    peer_ctx *p = user;
    DemoSum_in next;
    DemoSum_out res;
    sipc_status st;

    if (p->server.main && !p->opts.quiet_calls)
        sipb_emit("event=call fn=DemoSum n=%d client=0x%08x t_ms=%.1f", in->n,
                  (unsigned)(uintptr_t)c->remote, sipb_now_ms() - p->t0);
    if (in->n <= 0) {
        out->ret = 0;
        return SIPC_OK;
    }
    next.n = in->n - 1;
    st = DemoSum_call(c, &next, &res);
    if (st != SIPC_OK)
        return st;
    out->ret = (int32_t)((uint32_t)in->n + (uint32_t)res.ret);
    return SIPC_OK;
}
SIPC_HANDLER(DemoSum, on_sum)

/* ---- server ------------------------------------------------------------------------ */

static void server_call_line(peer_ctx *p, const char *fn, sipc_conn *c)
{
    if (!p->opts.quiet_calls)
        sipb_emit("event=call fn=%s client=0x%08x t_ms=%.1f", fn, (unsigned)(uintptr_t)c->remote,
                  sipb_now_ms() - p->t0);
}

static sipc_status on_add_int(sipc_conn *c, const DemoAddInt_in *in, DemoAddInt_out *out,
                              void *user)
{
    server_call_line(user, "DemoAddInt", c);
    out->ret = (int32_t)((uint32_t)in->a + (uint32_t)in->b);
    return SIPC_OK;
}
SIPC_HANDLER(DemoAddInt, on_add_int)

static sipc_status on_add_string(sipc_conn *c, const DemoAddString_in *in,
                                 DemoAddString_out *out, void *user)
{
    server_call_line(user, "DemoAddString", c);
    return sipc_wstr_concat(&out->ret, in->a.data, in->a.len, in->b.data, in->b.len);
}
SIPC_HANDLER(DemoAddString, on_add_string)

static sipc_status on_ints(sipc_conn *c, const TestInts_in *in, TestInts_out *out, void *user)
{
    server_call_line(user, "TestInts", c);
    out->a = (int8_t)(uint8_t)((uint8_t)in->a + 1u);
    out->b = (uint8_t)(in->b + 1u);
    out->c = (int16_t)(uint16_t)((uint16_t)in->c + 1u);
    out->d = (uint16_t)(in->d + 1u);
    out->e = (int32_t)((uint32_t)in->e + 1u);
    out->f = in->f + 1u;
    out->g = (int64_t)((uint64_t)in->g + 1u);
    out->h = in->h + 1u;
    return SIPC_OK;
}
SIPC_HANDLER(TestInts, on_ints)

static sipc_status on_floats(sipc_conn *c, const TestFloats_in *in, TestFloats_out *out,
                             void *user)
{
    server_call_line(user, "TestFloats", c);
    out->f = in->f * 2.0f;
    out->d = in->d * 2.0;
    out->b4 = in->b4 ? 0 : 1;
    out->b1 = !in->b1;
    return SIPC_OK;
}
SIPC_HANDLER(TestFloats, on_floats)

static sipc_status on_geometry(sipc_conn *c, const TestGeometry_in *in, TestGeometry_out *out,
                               void *user)
{
    server_call_line(user, "TestGeometry", c);
    out->p.x = in->p.y;
    out->p.y = in->p.x;
    out->s.cx = in->s.cy;
    out->s.cy = in->s.cx;
    out->r.left = in->r.bottom;
    out->r.top = in->r.right;
    out->r.right = in->r.top;
    out->r.bottom = in->r.left;
    for (int i = 0; i < 256; i++)
        out->bytes[i] = in->bytes[255 - i];
    out->handle = ~in->handle;
    return SIPC_OK;
}
SIPC_HANDLER(TestGeometry, on_geometry)

static sipc_status on_strings(sipc_conn *c, const TestStrings_in *in, TestStrings_out *out,
                              void *user)
{
    static const WCHAR check[] = {0x2713};
    sipc_status st;

    server_call_line(user, "TestStrings", c);
    out->a.data = malloc((size_t)in->a.len + 2);
    if (!out->a.data)
        return SIPC_E_NO_MEMORY;
    if (in->a.len)
        memcpy(out->a.data, in->a.data, in->a.len);
    out->a.data[in->a.len] = '!';
    out->a.data[in->a.len + 1] = 0;
    out->a.len = in->a.len + 1;
    st = sipc_wstr_concat(&out->w, in->w.data, in->w.len, check, 1);
    if (st != SIPC_OK)
        return st;
    out->v.data = malloc(((size_t)in->v.count + 1) * sizeof(int32_t));
    if (!out->v.data)
        return SIPC_E_NO_MEMORY;
    for (uint32_t i = 0; i < in->v.count; i++)
        out->v.data[i] = in->v.data[in->v.count - 1 - i];
    out->v.count = in->v.count;
    out->units = (int32_t)in->w.len;
    return SIPC_OK;
}
SIPC_HANDLER(TestStrings, on_strings)

static const sipc_handler server_handlers[] = {
    SIPC_ENTRY(DemoAddInt, on_add_int),   SIPC_ENTRY(DemoAddString, on_add_string),
    SIPC_ENTRY(DemoSum, on_sum),          SIPC_ENTRY(TestInts, on_ints),
    SIPC_ENTRY(TestFloats, on_floats),    SIPC_ENTRY(TestGeometry, on_geometry),
    SIPC_ENTRY(TestStrings, on_strings),
};

static void srv_connected(sipc_server *srv, sipc_conn *c, void *user)
{
    peer_ctx *p = user;

    sipb_emit("event=connect client=0x%08x conn=0x%08x t_ms=%.1f", (unsigned)(uintptr_t)c->remote,
              (unsigned)(uintptr_t)c->local, sipb_now_ms() - p->t0);
    if (p->opts.hello_ms && p->hello_count < sizeof(p->hello) / sizeof(p->hello[0])) {
        p->hello[p->hello_count].client = c->remote;
        p->hello[p->hello_count].due = sipb_now_ms() + p->opts.hello_ms;
        p->hello_count++;
    }
}

static void srv_disconnected(sipc_server *srv, sipc_conn *c, sipc_drop_reason why, void *user)
{
    static const char *reasons[] = {"disconnect", "dead", "shutdown"};
    peer_ctx *p = user;

    sipb_emit("event=disconnect client=0x%08x reason=%s t_ms=%.1f clock_ms=%.1f",
              (unsigned)(uintptr_t)c->remote, reasons[why <= SIPC_DROP_SHUTDOWN ? why : 0],
              sipb_now_ms() - p->t0, sipb_now_ms());
}

static void send_due_hellos(peer_ctx *p)
{
    static const WCHAR text[] = L"hello from sipc-peer server \x2713";
    double t = sipb_now_ms();

    for (size_t i = 0; i < p->hello_count;) {
        if (p->hello[i].due > t) {
            i++;
            continue;
        }
        HWND client = p->hello[i].client;
        p->hello[i] = p->hello[--p->hello_count];
        sipc_conn *c = sipc_server_find(&p->server, client);
        if (!c)
            continue;
        DemoSayHello_in in = {{(WCHAR *)text, (uint32_t)wcslen(text)}};
        DemoSayHello_out out;
        sipc_status st = DemoSayHello_call(c, &in, &out);
        sipb_emit("event=hello client=0x%08x status=%s t_ms=%.1f", (unsigned)(uintptr_t)client,
                  sipc_status_name(st), sipb_now_ms() - p->t0);
    }
}

static int run_server(peer_ctx *p, int argc, WCHAR **argv, int i)
{
    sipc_server_config cfg;
    uint32_t seconds = 0;
    double deadline;
    char title[512];

    if (i + 1 != argc || !sipb_parse_u32(argv[i], &seconds)) {
        sipb_emit("error=usage");
        return 2;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.base.version = p->opts.version;
    cfg.base.buf_size = p->opts.buf;
    cfg.base.stack_size = p->opts.stack;
    cfg.base.name_format = p->opts.format;
    cfg.base.handlers = server_handlers;
    cfg.base.handler_count = sizeof(server_handlers) / sizeof(server_handlers[0]);
    cfg.base.user = p;
    cfg.base.wait_mode = p->opts.block_wait ? SIPC_WAIT_BLOCK : SIPC_WAIT_SPIN;
    cfg.base.log = log_sink;
    cfg.title = p->opts.title;
    cfg.top_level = p->opts.top_level;
    cfg.on_connect = srv_connected;
    cfg.on_disconnect = srv_disconnected;
    cfg.user = p;
    p->t0 = sipb_now_ms();
    sipc_status st = sipc_server_start(&p->server, &cfg);
    if (st != SIPC_OK) {
        sipb_emit("error=%s", sipc_status_name(st));
        sipb_emit("error_detail=%s", p->server.err.what);
        sipb_emit("status=fail");
        return 1;
    }
    sipb_emit("listening=1");
    sipb_emit("version=%d", p->opts.version);
    sipb_emit("main=0x%08x", (unsigned)(uintptr_t)p->server.main);
    sipb_emit("title=%s", utf8(p->opts.title, (uint32_t)wcslen(p->opts.title), title, sizeof(title)));
    deadline = sipb_now_ms() + seconds * 1000.0;
    for (;;) {
        double left = deadline - sipb_now_ms();
        MSG msg;
        if (left <= 0)
            break;
        MsgWaitForMultipleObjectsEx(0, NULL, left < 20 ? (DWORD)left + 1 : 20, QS_ALLINPUT,
                                    MWMO_INPUTAVAILABLE);
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE)) {
            if (msg.message == WM_QUIT)
                deadline = 0;
            DispatchMessageW(&msg);
        }
        send_due_hellos(p);
    }
    sipc_server_stop(&p->server);
    sipb_emit("status=ok");
    return 0;
}

/* ---- client ------------------------------------------------------------------------ */

static sipc_status on_hello(sipc_conn *c, const DemoSayHello_in *in, DemoSayHello_out *out,
                            void *user)
{
    peer_ctx *p = user;

    p->hello_seen = true;
    print_wstr("hello", &in->text);
    return SIPC_OK;
}
SIPC_HANDLER(DemoSayHello, on_hello)

static const sipc_handler client_handlers[] = {
    SIPC_ENTRY(DemoSayHello, on_hello),
    SIPC_ENTRY(DemoSum, on_sum),
};

static void pump_for(double ms, const bool *stop)
{
    double end = sipb_now_ms() + ms;

    for (;;) {
        double left = end - sipb_now_ms();
        MSG msg;
        if (left <= 0 || (stop && *stop))
            return;
        MsgWaitForMultipleObjectsEx(0, NULL, left < 20 ? (DWORD)left + 1 : 20, QS_ALLINPUT,
                                    MWMO_INPUTAVAILABLE);
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
            DispatchMessageW(&msg);
    }
}

static int call_failed(peer_ctx *p, const char *cmd, sipc_status st)
{
    sipb_emit("error=%s", sipc_status_name(st));
    sipb_emit("error_detail=%s: %s", cmd, p->client.err.what);
    return 1;
}

#define CHECK_EQ(name, fmt, got, want)                                            \
    do {                                                                          \
        if ((got) != (want)) {                                                    \
            sipb_emit("types_diff=%s expected=" fmt " got=" fmt, name, want, got);     \
            bad++;                                                                \
        }                                                                         \
    } while (0)

static const char k_text8[] = u8"h\u00e9llo w\u00f6rld \u2713 \U0001D11E \u65e5\u672c";
static const char16_t k_text16[] = u"h\u00e9llo w\u00f6rld \u2713 \U0001D11E \u65e5\u672c";
#define K_TEXT16_UNITS 19

static int types_ints(peer_ctx *p, int *bad_out)
{
    static const TestInts_in cases[2] = {
        {INT8_MAX, UINT8_MAX, INT16_MIN, UINT16_MAX, INT32_MAX, UINT32_MAX, INT64_MIN,
         UINT64_MAX - 1},
        {INT8_MIN, 0, -1, 0x8000, -1, 0x7fffffffu, INT64_MAX, UINT64_MAX},
    };
    static const TestInts_out want[2] = {
        {INT8_MIN, 0, INT16_MIN + 1, 0, INT32_MIN, 0, INT64_MIN + 1, UINT64_MAX},
        {INT8_MIN + 1, 1, 0, 0x8001, 0, 0x80000000u, INT64_MIN, 0},
    };
    int bad = 0;

    for (int k = 0; k < 2; k++) {
        TestInts_out o;
        sipc_status st = TestInts_call(&p->client, &cases[k], &o);
        if (st != SIPC_OK)
            return call_failed(p, "TestInts", st);
        CHECK_EQ("ints.a", "%d", (int)o.a, (int)want[k].a);
        CHECK_EQ("ints.b", "%u", (unsigned)o.b, (unsigned)want[k].b);
        CHECK_EQ("ints.c", "%d", (int)o.c, (int)want[k].c);
        CHECK_EQ("ints.d", "%u", (unsigned)o.d, (unsigned)want[k].d);
        CHECK_EQ("ints.e", "%ld", (long)o.e, (long)want[k].e);
        CHECK_EQ("ints.f", "%lu", (unsigned long)o.f, (unsigned long)want[k].f);
        CHECK_EQ("ints.g", "%lld", (long long)o.g, (long long)want[k].g);
        CHECK_EQ("ints.h", "%llu", (unsigned long long)o.h, (unsigned long long)want[k].h);
    }
    *bad_out += bad;
    return 0;
}

static int types_floats(peer_ctx *p, int *bad_out)
{
    static const TestFloats_in cases[2] = {
        {-0.15625f, 1e300, TRUE, false},
        {3.0e38f / 4.0f, -1234.5678, FALSE, true},
    };
    int bad = 0;

    for (int k = 0; k < 2; k++) {
        TestFloats_out o;
        sipc_status st = TestFloats_call(&p->client, &cases[k], &o);
        if (st != SIPC_OK)
            return call_failed(p, "TestFloats", st);
        CHECK_EQ("floats.f", "%.9g", (double)o.f, (double)(cases[k].f * 2.0f));
        CHECK_EQ("floats.d", "%.17g", o.d, cases[k].d * 2.0);
        CHECK_EQ("floats.b4", "%d", (int)o.b4, cases[k].b4 ? 0 : 1);
        CHECK_EQ("floats.b1", "%d", (int)o.b1, cases[k].b1 ? 0 : 1);
    }
    *bad_out += bad;
    return 0;
}

static int types_geometry(peer_ctx *p, int *bad_out)
{
    TestGeometry_in in;
    TestGeometry_out o;
    int bad = 0;

    memset(&in, 0, sizeof(in));
    in.p.x = INT32_MIN;
    in.p.y = 7;
    in.s.cx = -5;
    in.s.cy = INT32_MAX;
    in.r.left = 1;
    in.r.top = -2;
    in.r.right = 3;
    in.r.bottom = -4;
    for (int i = 0; i < 256; i++)
        in.bytes[i] = (uint8_t)i;
    in.handle = 0x0123456789ABCDEFull;
    sipc_status st = TestGeometry_call(&p->client, &in, &o);
    if (st != SIPC_OK)
        return call_failed(p, "TestGeometry", st);
    CHECK_EQ("geometry.p.x", "%ld", (long)o.p.x, 7L);
    CHECK_EQ("geometry.p.y", "%ld", (long)o.p.y, (long)INT32_MIN);
    CHECK_EQ("geometry.s.cx", "%ld", (long)o.s.cx, (long)INT32_MAX);
    CHECK_EQ("geometry.s.cy", "%ld", (long)o.s.cy, -5L);
    CHECK_EQ("geometry.r.left", "%ld", (long)o.r.left, -4L);
    CHECK_EQ("geometry.r.top", "%ld", (long)o.r.top, 3L);
    CHECK_EQ("geometry.r.right", "%ld", (long)o.r.right, -2L);
    CHECK_EQ("geometry.r.bottom", "%ld", (long)o.r.bottom, 1L);
    for (int i = 0; i < 256; i++)
        CHECK_EQ("geometry.bytes", "%d", (int)o.bytes[i], 255 - i);
    CHECK_EQ("geometry.handle", "%llx", (unsigned long long)o.handle,
             (unsigned long long)0xFEDCBA9876543210ull);
    *bad_out += bad;
    return 0;
}

static int types_strings(peer_ctx *p, int *bad_out)
{
    static int32_t v_full[] = {INT32_MIN, -1, 0, 1, INT32_MAX};
    int bad = 0;

    for (int k = 0; k < 2; k++) {
        TestStrings_in in;
        TestStrings_out o;
        uint32_t alen = k == 0 ? (uint32_t)strlen(k_text8) : 0;
        uint32_t wlen = k == 0 ? K_TEXT16_UNITS : 0;
        uint32_t vn = k == 0 ? 5 : 0;

        in.a.data = (char *)k_text8;
        in.a.len = alen;
        in.w.data = (WCHAR *)k_text16;
        in.w.len = wlen;
        in.v.data = v_full;
        in.v.count = vn;
        sipc_status st = TestStrings_call(&p->client, &in, &o);
        if (st != SIPC_OK)
            return call_failed(p, "TestStrings", st);
        CHECK_EQ("strings.a.len", "%u", o.a.len, alen + 1);
        if (o.a.len == alen + 1 && (memcmp(o.a.data, k_text8, alen) || o.a.data[alen] != '!')) {
            sipb_emit("types_diff=strings.a bytes");
            bad++;
        }
        CHECK_EQ("strings.w.len", "%u", o.w.len, wlen + 1);
        if (o.w.len == wlen + 1 &&
            (memcmp(o.w.data, k_text16, wlen * 2) || o.w.data[wlen] != 0x2713)) {
            sipb_emit("types_diff=strings.w units");
            bad++;
        }
        CHECK_EQ("strings.v.count", "%u", o.v.count, vn);
        for (uint32_t i = 0; i < vn && i < o.v.count; i++)
            CHECK_EQ("strings.v", "%ld", (long)o.v.data[i], (long)v_full[vn - 1 - i]);
        CHECK_EQ("strings.units", "%ld", (long)o.units, (long)wlen);
        TestStrings_free_out(&o);
    }
    *bad_out += bad;
    return 0;
}

static int run_types(peer_ctx *p)
{
    int bad = 0, rc;

    if (wcslen((const WCHAR *)k_text16) != K_TEXT16_UNITS) {
        sipb_emit("types_diff=test text is not %d UTF-16 units", K_TEXT16_UNITS);
        return 1;
    }
    if ((rc = types_ints(p, &bad)) || (rc = types_floats(p, &bad)) ||
        (rc = types_geometry(p, &bad)) || (rc = types_strings(p, &bad)))
        return rc;
    sipb_emit("types=%s", bad ? "fail" : "ok");
    return bad ? 1 : 0;
}

static int run_client(peer_ctx *p, int argc, WCHAR **argv, int i)
{
    sipc_config cfg;
    HWND server;
    sipc_status st;
    char text[4096];

    if (i >= argc) {
        sipb_emit("error=usage");
        return 2;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.version = p->opts.version;
    cfg.buf_size = p->opts.buf;
    cfg.stack_size = p->opts.stack;
    cfg.name_format = p->opts.format;
    cfg.handlers = client_handlers;
    cfg.handler_count = sizeof(client_handlers) / sizeof(client_handlers[0]);
    cfg.user = p;
    cfg.wait_mode = p->opts.block_wait ? SIPC_WAIT_BLOCK : SIPC_WAIT_SPIN;
    cfg.log = log_sink;
    p->t0 = sipb_now_ms();
    server = sipc_find_server(p->opts.title);
    if (!server) {
        sipb_emit("error=SIPC_E_NOT_FOUND");
        sipb_emit("error_detail=no window titled %s",
                  utf8(p->opts.title, (uint32_t)wcslen(p->opts.title), text, sizeof(text)));
        sipb_emit("status=fail");
        return 1;
    }
    st = sipc_connect(&p->client, &cfg, server);
    if (st != SIPC_OK) {
        sipb_emit("error=%s", sipc_status_name(st));
        sipb_emit("error_detail=%s", p->client.err.what);
        sipb_emit("connect_answer_ms=%.2f", p->client.connect_answer_ms);
        sipb_emit("status=fail");
        return 1;
    }
    sipb_emit("connected=1");
    sipb_emit("version=%d", p->opts.version);
    sipb_emit("local=0x%08x", (unsigned)(uintptr_t)p->client.local);
    sipb_emit("remote=0x%08x", (unsigned)(uintptr_t)p->client.remote);
    sipb_emit("connect_ms=%.2f", sipb_now_ms() - p->t0);
    sipb_emit("connect_answer_ms=%.2f", p->client.connect_answer_ms);

    while (i < argc) {
        const WCHAR *cmd = argv[i++];
        int rc = 0;
        double t = sipb_now_ms();

        sipb_emit("command=%s", utf8(cmd, (uint32_t)wcslen(cmd), text, sizeof(text)));
        if (!wcscmp(cmd, L"add-int") && i + 2 <= argc) {
            DemoAddInt_in in;
            DemoAddInt_out out;
            if (!parse_i32(argv[i], &in.a) || !parse_i32(argv[i + 1], &in.b)) {
                sipb_emit("error=usage");
                return 2;
            }
            i += 2;
            st = DemoAddInt_call(&p->client, &in, &out);
            if (st != SIPC_OK)
                rc = call_failed(p, "add-int", st);
            else
                sipb_emit("result=%d", out.ret);
        } else if (!wcscmp(cmd, L"add-string") && i + 2 <= argc) {
            DemoAddString_in in = {{argv[i], (uint32_t)wcslen(argv[i])},
                                   {argv[i + 1], (uint32_t)wcslen(argv[i + 1])}};
            DemoAddString_out out;
            i += 2;
            st = DemoAddString_call(&p->client, &in, &out);
            if (st != SIPC_OK)
                rc = call_failed(p, "add-string", st);
            else
                print_wstr("result", &out.ret);
            DemoAddString_free_out(&out);
        } else if (!wcscmp(cmd, L"sum") && i + 1 <= argc) {
            DemoSum_in in;
            DemoSum_out out;
            if (!parse_i32(argv[i++], &in.n)) {
                sipb_emit("error=usage");
                return 2;
            }
            st = DemoSum_call(&p->client, &in, &out);
            if (st != SIPC_OK)
                rc = call_failed(p, "sum", st);
            else
                sipb_emit("result=%d", out.ret);
        } else if (!wcscmp(cmd, L"types")) {
            rc = run_types(p);
        } else if (!wcscmp(cmd, L"hello-wait")) {
            uint32_t ms = 5000;
            if (i < argc && sipb_parse_u32(argv[i], &ms))
                i++;
            pump_for(ms, &p->hello_seen);
            if (!p->hello_seen) {
                sipb_emit("hello=timeout");
                rc = 1;
            }
            p->hello_seen = false;
        } else if (!wcscmp(cmd, L"sleep") && i + 1 <= argc) {
            uint32_t ms = 0;
            if (!sipb_parse_u32(argv[i++], &ms)) {
                sipb_emit("error=usage");
                return 2;
            }
            pump_for(ms, NULL);
        } else if (!wcscmp(cmd, L"freeze") && i + 1 <= argc) {
            uint32_t ms = 0;
            if (!sipb_parse_u32(argv[i++], &ms)) {
                sipb_emit("error=usage");
                return 2;
            }
            Sleep(ms);
        } else if (!wcscmp(cmd, L"bench-add-int") && i + 1 <= argc) {
            uint32_t n = 0;
            if (!sipb_parse_u32(argv[i++], &n) || n == 0) {
                sipb_emit("error=usage");
                return 2;
            }
            for (uint32_t k = 0; k < n && rc == 0; k++) {
                DemoAddInt_in in = {(int32_t)k, 1};
                DemoAddInt_out out;
                st = DemoAddInt_call(&p->client, &in, &out);
                if (st != SIPC_OK)
                    rc = call_failed(p, "bench-add-int", st);
                else if (out.ret != (int32_t)k + 1)
                    rc = call_failed(p, "bench-add-int wrong result", SIPC_E_BAD_FRAME);
            }
            if (!rc) {
                double us = (sipb_now_ms() - t) * 1000.0;
                sipb_emit("calls=%u", n);
                sipb_emit("total_us=%.0f", us);
                sipb_emit("avg_us=%.1f", us / n);
            }
        } else if (!wcscmp(cmd, L"try-add-int") && i + 2 <= argc) {
            DemoAddInt_in in;
            DemoAddInt_out out;
            if (!parse_i32(argv[i], &in.a) || !parse_i32(argv[i + 1], &in.b)) {
                sipb_emit("error=usage");
                return 2;
            }
            i += 2;
            st = DemoAddInt_call(&p->client, &in, &out);
            if (st != SIPC_OK)
                sipb_emit("call_error=%s", sipc_status_name(st));
            else
                sipb_emit("result=%d", out.ret);
        } else if (!wcscmp(cmd, L"wait-reconnect") && i + 1 <= argc) {
            uint32_t ms = 0;
            if (!sipb_parse_u32(argv[i++], &ms)) {
                sipb_emit("error=usage");
                return 2;
            }
            pump_for(ms, &p->client.reconnect_requested);
            if (!p->client.reconnect_requested) {
                sipb_emit("reconnect=timeout");
                rc = 1;
            } else {
                double asked = sipb_now_ms();
                sipc_disconnect(&p->client);
                server = NULL;
                for (int k = 0; k < 300 && !server; k++) {
                    server = sipc_find_server(p->opts.title);
                    if (!server)
                        Sleep(10);
                }
                st = server ? sipc_connect(&p->client, &cfg, server) : SIPC_E_NOT_FOUND;
                if (st != SIPC_OK) {
                    rc = call_failed(p, "reconnect", st);
                } else {
                    sipb_emit("reconnected=1");
                    sipb_emit("reconnect_ms=%.1f", sipb_now_ms() - asked);
                    sipb_emit("remote=0x%08x", (unsigned)(uintptr_t)p->client.remote);
                }
            }
        } else if (!wcscmp(cmd, L"disconnect")) {
            sipc_disconnect(&p->client);
            sipb_emit("disconnected=1");
        } else if (!wcscmp(cmd, L"exit-without-disconnect")) {
            sipb_emit("exiting=abrupt");
            sipb_emit("clock_ms=%.1f", sipb_now_ms());
            ExitProcess(0);
        } else {
            sipb_emit("error=usage");
            sipb_emit("error_detail=unknown command or missing arguments");
            return 2;
        }
        sipb_emit("elapsed_us=%.0f", (sipb_now_ms() - t) * 1000.0);
        if (rc) {
            sipb_emit("status=fail");
            sipc_disconnect(&p->client);
            return rc;
        }
    }
    sipc_disconnect(&p->client);
    sipb_emit("status=ok");
    return 0;
}

/* ---- main ------------------------------------------------------------------------- */

typedef LPWSTR *(WINAPI *argv_fn)(LPCWSTR, int *);

int main(void)
{
    static peer_ctx ctx;
    HMODULE shell32 = LoadLibraryW(L"shell32.dll");
    FARPROC proc = shell32 ? GetProcAddress(shell32, "CommandLineToArgvW") : NULL;
    WCHAR **argv;
    int argc = 0, i;

    if (!proc) {
        sipb_emit("error=SIPC_E_WIN32");
        sipb_emit("error_detail=CommandLineToArgvW unavailable (GetLastError=%lu)", GetLastError());
        return 1;
    }
    argv = ((argv_fn)(void (*)(void))proc)(GetCommandLineW(), &argc);
    if (!argv) {
        sipb_emit("error=SIPC_E_WIN32");
        sipb_emit("error_detail=CommandLineToArgvW failed (GetLastError=%lu)", GetLastError());
        return 1;
    }
    if (argc < 2) {
        sipb_emit("error=usage");
        sipb_emit("error_detail=sipc-peer client [opts] <commands> | server [opts] <seconds>");
        return 2;
    }
    i = parse_opts(argc, argv, 2, &ctx.opts);
    if (i < 0) {
        sipb_emit("error=usage");
        sipb_emit("error_detail=bad option");
        return 2;
    }
    if (!wcscmp(argv[1], L"server"))
        return run_server(&ctx, argc, argv, i);
    if (!wcscmp(argv[1], L"client"))
        return run_client(&ctx, argc, argv, i);
    sipb_emit("error=usage");
    return 2;
}
