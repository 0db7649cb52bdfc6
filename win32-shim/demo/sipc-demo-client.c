/*
 * sipc-demo-client.c - the client of SOUI4's ipcdemo protocol
 * (sipc_demo_protocol.h) on the C SIPC library, as a window like the SOUI
 * demo's client dialog and as a scriptable command-line program.
 *
 * GUI mode:
 *   sipc-demo-client.exe [gui] [--title T] [--v1] [--screenshot-after MS]
 *                        [--exit-after MS]
 *   A window with Connect / Disconnect, Add Int (two edits), Add String (two
 *   edits), Sum (n), and a log that shows every call with its result and its
 *   round-trip time (QueryPerformanceCounter), and the SayHello messages the
 *   server sends. --screenshot-after MS runs a short script by itself MS ms
 *   after start (Connect, AddInt 1 2, AddString "Hello, " "世界 ✓", Sum 19)
 *   and then prints `script=done window=X,Y,W,H` (the window's screen
 *   rectangle) on stdout; --exit-after MS closes the window MS ms after start.
 *   On exit it prints `status=ok`.
 *
 * Scripted mode (one line per event on stdout, UTF-8, written at once):
 *   sipc-demo-client.exe [--title T] [--v1] add-int A B
 *   sipc-demo-client.exe [--title T] [--v1] add-string A B
 *   sipc-demo-client.exe [--title T] [--v1] sum N
 *   sipc-demo-client.exe [--title T] [--v1] script
 *       script = connect; AddInt 1 2; AddString "Hello, " "世界 ✓"; Sum 19;
 *       Sum 100; wait up to 2 s for SayHello; disconnect.
 *
 *   connected=1 title="sipc_demo_svr" version=2 local=0x.. remote=0x.. connect_ms=0.912
 *   call=AddInt args=1,2 result=3 rtt_ms=0.412
 *   call=AddString args="Hello, ","世界 ✓" result="Hello, 世界 ✓" rtt_ms=0.530
 *   call=Sum args=19 result=190 rtt_ms=6.120 served=10
 *   hello="Hello from the C server" after_ms=101.3
 *   hello=none waited_ms=2000          (script only, when no SayHello came)
 *   disconnected=1
 *   status=ok                          (exit code 0)
 *
 *   Strings are double-quoted with \" \\ \n \r \t \uXXXX escapes. rtt_ms is
 *   the call's round trip in milliseconds (3 decimals); served counts the
 *   nested Sum calls this client answered during the call; after_ms is when
 *   the SayHello arrived, counted from the end of the connect. Every hello=
 *   line comes after the call lines (SayHello is recorded when it arrives
 *   and printed after the commands). result= values are the decoded outputs
 *   of the real calls; each is also compared with the locally computed
 *   expectation, and a difference prints
 *   `error=wrong-result call=.. expected=.. got=..`.
 *   Failure: `error=<SIPC status> error_detail="..."`, then `status=fail`,
 *   exit code 1 (2 for usage errors).
 */
#include "sipc.h"
#include "sipc_demo_protocol.h"
#include "demo_common.h"

#include <commctrl.h>

#define MAX_HELLOS 8

typedef struct hello_rec {
    WCHAR *text;
    uint32_t len;
    double at_ms; /* sipb_now_ms() when it arrived */
} hello_rec;

typedef struct client_ctx {
    /* options */
    const WCHAR *title;
    int version;
    uint32_t screenshot_after; /* 0 = off */
    uint32_t exit_after;       /* 0 = off */
    /* connection */
    sipc_conn conn;
    sipc_config cfg;
    double connected_at;
    uint32_t served; /* nested Sum calls answered by this side */
    hello_rec hellos[MAX_HELLOS];
    size_t hello_count;
    /* GUI */
    bool gui;
    HWND wnd;
    HWND log;
    HFONT font;
    HBRUSH white;
    int script_step;
} client_ctx;

static client_ctx g;

static const WCHAR k_hello_a[] = L"Hello, ";
static const WCHAR k_hello_b[] = L"\x4e16\x754c \x2713"; /* "世界 ✓" */

/* ---- GUI log (declared early: the handlers use it) ------------------------- */

static void gui_log(const WCHAR *fmt, ...)
{
    WCHAR line[4096];
    SYSTEMTIME st;
    va_list ap;
    int n;

    if (!g.log)
        return;
    GetLocalTime(&st);
    n = swprintf(line, 64, L"[%02u:%02u:%02u.%03u]  ", st.wHour, st.wMinute, st.wSecond,
                 st.wMilliseconds);
    if (n < 0)
        n = 0;
    va_start(ap, fmt);
    int m = vswprintf(line + n, 4096 - n - 3, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    wcscpy(line + n + m, L"\r\n");
    int end = GetWindowTextLengthW(g.log);
    SendMessageW(g.log, EM_SETSEL, (WPARAM)end, (LPARAM)end);
    SendMessageW(g.log, EM_REPLACESEL, FALSE, (LPARAM)line);
    SendMessageW(g.log, EM_SCROLLCARET, 0, 0);
}

/* Wide string with quotes for the log, at most `max` units shown. */
static const WCHAR *wquote(const WCHAR *s, uint32_t len, WCHAR *buf, size_t size)
{
    size_t o = 0;

    buf[o++] = L'"';
    for (uint32_t i = 0; i < len && o + 4 < size; i++)
        buf[o++] = s[i];
    if (len && o + 4 >= size) {
        buf[o - 1] = 0x2026; /* … */
    }
    buf[o++] = L'"';
    buf[o] = 0;
    return buf;
}

/* ---- handlers (this side serves SayHello and Sum) -------------------------- */

static sipc_status on_hello(sipc_conn *c, const DemoSayHello_in *in, DemoSayHello_out *out,
                            void *user)
{
    double now = sipb_now_ms();

    if (g.hello_count < MAX_HELLOS) {
        hello_rec *h = &g.hellos[g.hello_count];
        h->text = malloc(((size_t)in->text.len + 1) * sizeof(WCHAR));
        if (h->text) {
            if (in->text.len)
                memcpy(h->text, in->text.data, in->text.len * sizeof(WCHAR));
            h->text[in->text.len] = 0;
            h->len = in->text.len;
            h->at_ms = now;
            g.hello_count++;
        }
    }
    if (g.gui) {
        WCHAR q[1100];
        gui_log(L"SayHello from the server: %ls", wquote(in->text.data, in->text.len, q, 1024));
    }
    return SIPC_OK;
}
SIPC_HANDLER(DemoSayHello, on_hello)

/* Sum(n) = n + Sum(n - 1) where Sum(n - 1) runs on the server. */
static sipc_status on_sum(sipc_conn *c, const DemoSum_in *in, DemoSum_out *out, void *user)
{
    g.served++;
    if (in->n <= 0) {
        out->ret = 0;
        return SIPC_OK;
    }
    DemoSum_in next = {in->n - 1};
    DemoSum_out res = {0};
    sipc_status st = DemoSum_call(c, &next, &res);
    if (st != SIPC_OK)
        return st;
    out->ret = (int32_t)((uint32_t)in->n + (uint32_t)res.ret);
    return SIPC_OK;
}
SIPC_HANDLER(DemoSum, on_sum)

static const sipc_handler k_handlers[] = {
    SIPC_ENTRY(DemoSayHello, on_hello),
    SIPC_ENTRY(DemoSum, on_sum),
};

/* ---- connection ----------------------------------------------------------- */

static bool is_connected(void)
{
    return g.conn.connected && g.conn.remote && IsWindow(g.conn.remote);
}

/* Find the server window and connect. On failure *detail says why. */
static sipc_status do_connect(double *ms, char *detail, size_t detail_size)
{
    double t0 = sipb_now_ms();
    HWND server;
    sipc_status st;

    detail[0] = 0;
    memset(&g.cfg, 0, sizeof(g.cfg));
    g.cfg.version = g.version;
    g.cfg.buf_size = SIPC_DEMO_BUF_SIZE;
    g.cfg.stack_size = SIPC_DEMO_STACK_SIZE;
    g.cfg.name_format = SIPC_DEMO_NAME_FORMAT;
    g.cfg.handlers = k_handlers;
    g.cfg.handler_count = sizeof(k_handlers) / sizeof(k_handlers[0]);
    g.cfg.wait_mode = SIPC_WAIT_SPIN;
    g.cfg.log = demo_log_sink;
    g.cfg.log_ctx = (void *)"sipc-demo-client";
    server = sipc_find_server(g.title);
    if (!server) {
        char t[512];
        snprintf(detail, detail_size, "no window titled %s (is the server running?)",
                 demo_utf8(g.title, -1, t, sizeof(t)));
        return SIPC_E_NOT_FOUND;
    }
    st = sipc_connect(&g.conn, &g.cfg, server);
    *ms = sipb_now_ms() - t0;
    if (st != SIPC_OK) {
        snprintf(detail, detail_size, "%s", g.conn.err.what);
        return st;
    }
    g.connected_at = sipb_now_ms();
    return SIPC_OK;
}

/* Expected results, computed here to check what the server answered. */
static int32_t expect_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static int32_t expect_sum(int32_t n)
{
    if (n <= 0)
        return 0;
    uint64_t v = (uint64_t)(uint32_t)n * ((uint64_t)(uint32_t)n + 1) / 2;
    return (int32_t)(uint32_t)v;
}

/* ---- scripted mode ----------------------------------------------------------- */

static int cli_fail_call(const char *call, const char *args, sipc_status st)
{
    demo_emit("call=%s args=%s error=%s error_detail=\"%s\"", call, args, sipc_status_name(st),
              g.conn.err.what);
    return 1;
}

static int cli_add_int(int32_t a, int32_t b)
{
    DemoAddInt_in in = {a, b};
    DemoAddInt_out out = {0};
    char args[64];
    double t = sipb_now_ms();
    sipc_status st = DemoAddInt_call(&g.conn, &in, &out);
    double rtt = sipb_now_ms() - t;

    snprintf(args, sizeof(args), "%d,%d", a, b);
    if (st != SIPC_OK)
        return cli_fail_call("AddInt", args, st);
    demo_emit("call=AddInt args=%s result=%d rtt_ms=%.3f", args, out.ret, rtt);
    if (out.ret != expect_add(a, b)) {
        demo_emit("error=wrong-result call=AddInt expected=%d got=%d", expect_add(a, b), out.ret);
        return 1;
    }
    return 0;
}

static int cli_add_string(const WCHAR *a, const WCHAR *b)
{
    DemoAddString_in in = {{(WCHAR *)a, (uint32_t)wcslen(a)}, {(WCHAR *)b, (uint32_t)wcslen(b)}};
    DemoAddString_out out;
    static char args[4200], res[4200];
    size_t o = 0, r = 0;
    int rc = 0;

    memset(&out, 0, sizeof(out));
    demo_quote(args, sizeof(args), &o, in.a.data, in.a.len);
    if (o + 1 < sizeof(args))
        args[o++] = ',';
    demo_quote(args, sizeof(args), &o, in.b.data, in.b.len);

    double t = sipb_now_ms();
    sipc_status st = DemoAddString_call(&g.conn, &in, &out);
    double rtt = sipb_now_ms() - t;
    if (st != SIPC_OK)
        return cli_fail_call("AddString", args, st);
    demo_quote(res, sizeof(res), &r, out.ret.data, out.ret.len);
    demo_emit("call=AddString args=%s result=%s rtt_ms=%.3f", args, res, rtt);
    if (out.ret.len != in.a.len + in.b.len ||
        (in.a.len && memcmp(out.ret.data, in.a.data, in.a.len * sizeof(WCHAR))) ||
        (in.b.len && memcmp(out.ret.data + in.a.len, in.b.data, in.b.len * sizeof(WCHAR)))) {
        static char want[4200];
        WCHAR *cat = malloc(((size_t)in.a.len + in.b.len + 1) * sizeof(WCHAR));
        size_t w = 0;
        if (cat) {
            memcpy(cat, in.a.data, in.a.len * sizeof(WCHAR));
            memcpy(cat + in.a.len, in.b.data, in.b.len * sizeof(WCHAR));
            demo_quote(want, sizeof(want), &w, cat, in.a.len + in.b.len);
            free(cat);
        } else {
            strcpy(want, "?");
        }
        demo_emit("error=wrong-result call=AddString expected=%s got=%s", want, res);
        rc = 1;
    }
    DemoAddString_free_out(&out);
    return rc;
}

static int cli_sum(int32_t n)
{
    DemoSum_in in = {n};
    DemoSum_out out = {0};
    char args[32];

    snprintf(args, sizeof(args), "%d", n);
    g.served = 0;
    double t = sipb_now_ms();
    sipc_status st = DemoSum_call(&g.conn, &in, &out);
    double rtt = sipb_now_ms() - t;
    if (st != SIPC_OK)
        return cli_fail_call("Sum", args, st);
    demo_emit("call=Sum args=%s result=%d rtt_ms=%.3f served=%u", args, out.ret, rtt, g.served);
    if (out.ret != expect_sum(n)) {
        demo_emit("error=wrong-result call=Sum expected=%d got=%d", expect_sum(n), out.ret);
        return 1;
    }
    return 0;
}

/* Pump messages (serving the server's calls) for up to ms, or until a
 * SayHello has been recorded when until_hello. */
static void pump_for(double ms, bool until_hello)
{
    double end = sipb_now_ms() + ms;

    for (;;) {
        double left = end - sipb_now_ms();
        MSG msg;
        if (left <= 0 || (until_hello && g.hello_count))
            return;
        MsgWaitForMultipleObjectsEx(0, NULL, left < 20 ? (DWORD)left + 1 : 20, QS_ALLINPUT,
                                    MWMO_INPUTAVAILABLE);
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
            DispatchMessageW(&msg);
    }
}

static void print_hellos(void)
{
    for (size_t i = 0; i < g.hello_count; i++) {
        static char q[4200];
        size_t o = 0;
        demo_quote(q, sizeof(q), &o, g.hellos[i].text, g.hellos[i].len);
        demo_emit("hello=%s after_ms=%.1f", q, g.hellos[i].at_ms - g.connected_at);
    }
}

static int usage(const char *why)
{
    demo_emit("error=usage error_detail=\"%s\"", why);
    demo_emit("usage=sipc-demo-client.exe [--title T] [--v1] add-int A B | add-string A B | "
              "sum N | script | [gui] [--screenshot-after MS] [--exit-after MS]");
    return 2;
}

static int run_cli(WCHAR **argv, int argc, int i)
{
    const WCHAR *cmd = argv[i];
    int32_t a = 0, b = 0;
    bool script = false;

    /* check the arguments before connecting */
    if (!wcscmp(cmd, L"add-int")) {
        if (argc - i != 3 || !demo_parse_i32(argv[i + 1], &a) || !demo_parse_i32(argv[i + 2], &b))
            return usage("add-int needs two 32-bit integers");
    } else if (!wcscmp(cmd, L"add-string")) {
        if (argc - i != 3)
            return usage("add-string needs two strings");
    } else if (!wcscmp(cmd, L"sum")) {
        if (argc - i != 2 || !demo_parse_i32(argv[i + 1], &a))
            return usage("sum needs one 32-bit integer");
    } else if (!wcscmp(cmd, L"script")) {
        if (argc - i != 1)
            return usage("script takes no arguments");
        script = true;
    } else {
        return usage("unknown command");
    }

    char detail[400], title[512];
    double ms = 0;
    sipc_status st = do_connect(&ms, detail, sizeof(detail));
    if (st != SIPC_OK) {
        demo_emit("error=%s error_detail=\"%s\"", sipc_status_name(st), detail);
        demo_emit("status=fail");
        return 1;
    }
    size_t o = 0;
    demo_quote(title, sizeof(title), &o, g.title, (uint32_t)wcslen(g.title));
    demo_emit("connected=1 title=%s version=%d local=0x%08x remote=0x%08x connect_ms=%.3f",
              title, g.version, (unsigned)(uintptr_t)g.conn.local,
              (unsigned)(uintptr_t)g.conn.remote, ms);

    int rc = 0;
    if (script) {
        rc = cli_add_int(1, 2);
        if (!rc)
            rc = cli_add_string(k_hello_a, k_hello_b);
        if (!rc)
            rc = cli_sum(19);
        if (!rc)
            rc = cli_sum(100);
        if (!rc) {
            double t = sipb_now_ms();
            pump_for(2000, true);
            print_hellos();
            if (!g.hello_count)
                demo_emit("hello=none waited_ms=%.0f", sipb_now_ms() - t);
        }
    } else {
        if (!wcscmp(cmd, L"add-int"))
            rc = cli_add_int(a, b);
        else if (!wcscmp(cmd, L"add-string"))
            rc = cli_add_string(argv[i + 1], argv[i + 2]);
        else
            rc = cli_sum(a);
        if (!rc)
            print_hellos(); /* only those that came during the call */
    }
    sipc_disconnect(&g.conn);
    demo_emit("disconnected=1");
    demo_emit(rc ? "status=fail" : "status=ok");
    return rc;
}

/* ---- GUI mode ------------------------------------------------------------------ */

enum {
    ID_TITLE = 100,
    ID_CONNECT,
    ID_DISCONNECT,
    ID_STATUS,
    ID_GROUP,
    ID_LBL_INT,
    ID_INT_A,
    ID_PLUS1,
    ID_INT_B,
    ID_ADD_INT,
    ID_LBL_STR,
    ID_STR_A,
    ID_PLUS2,
    ID_STR_B,
    ID_ADD_STR,
    ID_LBL_SUM,
    ID_SUM_N,
    ID_SUM,
    ID_SUM_HINT,
    ID_LBL_LOG,
    ID_CLEAR,
    ID_LOG,
    ID_LBL_TITLE,
};

#define TIMER_STATE 1
#define TIMER_SCRIPT 2
#define TIMER_EXIT 3

static HWND item(int id)
{
    return GetDlgItem(g.wnd, id);
}

static HWND add_control(const WCHAR *cls, const WCHAR *text, DWORD style, DWORD ex, int id)
{
    HWND h = CreateWindowExW(ex, cls, text, WS_CHILD | WS_VISIBLE | style, 0, 0, 10, 10, g.wnd,
                             (HMENU)(INT_PTR)id, GetModuleHandleW(NULL), NULL);
    if (h)
        SendMessageW(h, WM_SETFONT, (WPARAM)g.font, FALSE);
    return h;
}

static void update_state(void)
{
    bool on = is_connected();
    WCHAR status[300];

    EnableWindow(item(ID_CONNECT), !on);
    EnableWindow(item(ID_DISCONNECT), on);
    EnableWindow(item(ID_TITLE), !on);
    EnableWindow(item(ID_ADD_INT), on);
    EnableWindow(item(ID_ADD_STR), on);
    EnableWindow(item(ID_SUM), on);
    if (on)
        swprintf(status, 300, L"Connected (v%d): client window 0x%08x, server connection 0x%08x",
                 g.version, (unsigned)(uintptr_t)g.conn.local,
                 (unsigned)(uintptr_t)g.conn.remote);
    else
        wcscpy(status, L"Not connected");
    WCHAR old[300];
    GetWindowTextW(item(ID_STATUS), old, 300);
    if (wcscmp(old, status))
        SetWindowTextW(item(ID_STATUS), status);
}

static void layout(int w, int h)
{
    const int m = 12, row = 24, lblw = 80;
    int x, y = m;

    /* connection row */
    MoveWindow(item(ID_LBL_TITLE), m, y + 4, lblw, 18, TRUE);
    MoveWindow(item(ID_TITLE), m + lblw, y, 170, row, TRUE);
    MoveWindow(item(ID_CONNECT), m + lblw + 180, y, 90, row, TRUE);
    MoveWindow(item(ID_DISCONNECT), m + lblw + 276, y, 90, row, TRUE);
    y += row + 8;
    MoveWindow(item(ID_STATUS), m, y, w - 2 * m, 18, TRUE);
    y += 26;

    /* calls */
    int gy = y;
    y += 22;
    x = m + 12;
    MoveWindow(item(ID_LBL_INT), x, y + 4, lblw, 18, TRUE);
    MoveWindow(item(ID_INT_A), x + lblw, y, 90, row, TRUE);
    MoveWindow(item(ID_PLUS1), x + lblw + 96, y + 4, 14, 18, TRUE);
    MoveWindow(item(ID_INT_B), x + lblw + 114, y, 90, row, TRUE);
    MoveWindow(item(ID_ADD_INT), x + lblw + 214, y, 100, row, TRUE);
    y += row + 8;
    MoveWindow(item(ID_LBL_STR), x, y + 4, lblw, 18, TRUE);
    MoveWindow(item(ID_STR_A), x + lblw, y, 90, row, TRUE);
    MoveWindow(item(ID_PLUS2), x + lblw + 96, y + 4, 14, 18, TRUE);
    MoveWindow(item(ID_STR_B), x + lblw + 114, y, 90, row, TRUE);
    MoveWindow(item(ID_ADD_STR), x + lblw + 214, y, 100, row, TRUE);
    y += row + 8;
    MoveWindow(item(ID_LBL_SUM), x, y + 4, lblw, 18, TRUE);
    MoveWindow(item(ID_SUM_N), x + lblw, y, 90, row, TRUE);
    MoveWindow(item(ID_SUM), x + lblw + 214, y, 100, row, TRUE);
    y += row + 4;
    MoveWindow(item(ID_SUM_HINT), x, y + 2, w - 2 * m - 24, 18, TRUE);
    y += 26;
    MoveWindow(item(ID_GROUP), m, gy, w - 2 * m, y - gy, TRUE);
    y += 8;

    /* log */
    MoveWindow(item(ID_LBL_LOG), m, y + 4, w - 2 * m - 100, 18, TRUE);
    MoveWindow(item(ID_CLEAR), w - m - 80, y, 80, row, TRUE);
    y += row + 6;
    MoveWindow(g.log, m, y, w - 2 * m, h - y - m > 60 ? h - y - m : 60, TRUE);
}

static void create_controls(void)
{
    const DWORD edit = WS_TABSTOP | ES_AUTOHSCROLL;
    WCHAR num[16];

    add_control(L"STATIC", L"Server title:", 0, 0, ID_LBL_TITLE);
    add_control(L"EDIT", g.title, edit, WS_EX_CLIENTEDGE, ID_TITLE);
    add_control(L"BUTTON", L"&Connect", WS_TABSTOP | BS_PUSHBUTTON, 0, ID_CONNECT);
    add_control(L"BUTTON", L"&Disconnect", WS_TABSTOP | BS_PUSHBUTTON, 0, ID_DISCONNECT);
    add_control(L"STATIC", L"Not connected", 0, 0, ID_STATUS);
    add_control(L"BUTTON", L"Calls to the server", BS_GROUPBOX, 0, ID_GROUP);
    add_control(L"STATIC", L"Add Int:", 0, 0, ID_LBL_INT);
    add_control(L"EDIT", L"1", edit, WS_EX_CLIENTEDGE, ID_INT_A);
    add_control(L"STATIC", L"+", SS_CENTER, 0, ID_PLUS1);
    add_control(L"EDIT", L"2", edit, WS_EX_CLIENTEDGE, ID_INT_B);
    add_control(L"BUTTON", L"Add &Int", WS_TABSTOP | BS_PUSHBUTTON, 0, ID_ADD_INT);
    add_control(L"STATIC", L"Add String:", 0, 0, ID_LBL_STR);
    add_control(L"EDIT", k_hello_a, edit, WS_EX_CLIENTEDGE, ID_STR_A);
    add_control(L"STATIC", L"+", SS_CENTER, 0, ID_PLUS2);
    add_control(L"EDIT", k_hello_b, edit, WS_EX_CLIENTEDGE, ID_STR_B);
    add_control(L"BUTTON", L"Add &String", WS_TABSTOP | BS_PUSHBUTTON, 0, ID_ADD_STR);
    add_control(L"STATIC", L"Sum (n):", 0, 0, ID_LBL_SUM);
    swprintf(num, 16, L"%d", 10);
    add_control(L"EDIT", num, edit | ES_NUMBER, WS_EX_CLIENTEDGE, ID_SUM_N);
    add_control(L"BUTTON", L"S&um", WS_TABSTOP | BS_PUSHBUTTON, 0, ID_SUM);
    add_control(L"STATIC",
                L"Each side answers Sum(n) with n + Sum(n-1), calling Sum(n-1) on the other side.",
                SS_LEFT, 0, ID_SUM_HINT);
    add_control(L"STATIC", L"Log (round-trip times from QueryPerformanceCounter):", 0, 0,
                ID_LBL_LOG);
    add_control(L"BUTTON", L"C&lear log", WS_TABSTOP | BS_PUSHBUTTON, 0, ID_CLEAR);
    g.log = add_control(L"EDIT", L"",
                        WS_VSCROLL | WS_HSCROLL | ES_MULTILINE | ES_READONLY | ES_AUTOVSCROLL |
                            ES_AUTOHSCROLL | WS_TABSTOP,
                        WS_EX_CLIENTEDGE, ID_LOG);
    SendMessageW(g.log, EM_SETLIMITTEXT, 4 * 1024 * 1024, 0);
}

/* The text of an edit control, malloc()ed (NULL on failure). */
static WCHAR *edit_text(int id, uint32_t *len)
{
    HWND h = item(id);
    int n = GetWindowTextLengthW(h);
    WCHAR *s = malloc(((size_t)n + 1) * sizeof(WCHAR));

    if (!s)
        return NULL;
    n = GetWindowTextW(h, s, n + 1);
    s[n > 0 ? n : 0] = 0;
    *len = (uint32_t)(n > 0 ? n : 0);
    return s;
}

static bool edit_i32(int id, const WCHAR *what, int32_t *v)
{
    uint32_t len;
    WCHAR *s = edit_text(id, &len);
    bool ok = s && demo_parse_i32(s, v);

    if (!ok)
        gui_log(L"%ls: \"%ls\" is not a 32-bit integer", what, s ? s : L"");
    free(s);
    return ok;
}

static void gui_failed(const WCHAR *call, sipc_status st)
{
    WCHAR what[200];

    MultiByteToWideChar(CP_UTF8, 0, g.conn.err.what, -1, what, 200);
    what[199] = 0;
    gui_log(L"%ls failed: %hs (%ls)", call, sipc_status_name(st), what);
    update_state();
}

static void gui_connect(void)
{
    char detail[400];
    WCHAR wdetail[400];
    uint32_t len;
    static WCHAR *title; /* kept: g.title points at it while connected */
    double ms = 0;

    if (is_connected())
        return;
    if (g.conn.local) /* a dead connection: clean up first */
        sipc_disconnect(&g.conn);
    WCHAR *t = edit_text(ID_TITLE, &len);
    if (!t || !len) {
        free(t);
        gui_log(L"Connect: enter the server window title first");
        return;
    }
    free(title);
    title = t;
    g.title = title;
    g.hello_count = 0;
    sipc_status st = do_connect(&ms, detail, sizeof(detail));
    if (st != SIPC_OK) {
        MultiByteToWideChar(CP_UTF8, 0, detail, -1, wdetail, 400);
        wdetail[399] = 0;
        gui_log(L"Connect to \"%ls\" failed: %hs (%ls)", g.title, sipc_status_name(st), wdetail);
    } else {
        gui_log(L"Connected to \"%ls\" (protocol v%d) in %.3f ms", g.title, g.version, ms);
    }
    update_state();
}

static void gui_disconnect(const WCHAR *why)
{
    if (!g.conn.local)
        return;
    sipc_disconnect(&g.conn);
    gui_log(L"%ls", why);
    update_state();
}

static void gui_add_int(void)
{
    DemoAddInt_in in;
    DemoAddInt_out out = {0};

    if (!edit_i32(ID_INT_A, L"Add Int", &in.a) || !edit_i32(ID_INT_B, L"Add Int", &in.b))
        return;
    double t = sipb_now_ms();
    sipc_status st = DemoAddInt_call(&g.conn, &in, &out);
    double rtt = sipb_now_ms() - t;
    if (st != SIPC_OK)
        return gui_failed(L"AddInt", st);
    gui_log(L"AddInt(%d, %d) = %d    (round trip %.3f ms)", in.a, in.b, out.ret, rtt);
}

static void gui_add_string(void)
{
    DemoAddString_in in;
    DemoAddString_out out;
    WCHAR qa[300], qb[300], qr[600];

    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));
    in.a.data = edit_text(ID_STR_A, &in.a.len);
    in.b.data = edit_text(ID_STR_B, &in.b.len);
    if (in.a.data && in.b.data) {
        double t = sipb_now_ms();
        sipc_status st = DemoAddString_call(&g.conn, &in, &out);
        double rtt = sipb_now_ms() - t;
        if (st != SIPC_OK)
            gui_failed(L"AddString", st);
        else
            gui_log(L"AddString(%ls, %ls) = %ls    (round trip %.3f ms)",
                    wquote(in.a.data, in.a.len, qa, 300), wquote(in.b.data, in.b.len, qb, 300),
                    wquote(out.ret.data, out.ret.len, qr, 600), rtt);
        DemoAddString_free_out(&out);
    }
    free(in.a.data);
    free(in.b.data);
}

static void gui_sum(void)
{
    DemoSum_in in;
    DemoSum_out out = {0};

    if (!edit_i32(ID_SUM_N, L"Sum", &in.n))
        return;
    g.served = 0;
    double t = sipb_now_ms();
    sipc_status st = DemoSum_call(&g.conn, &in, &out);
    double rtt = sipb_now_ms() - t;
    if (st != SIPC_OK)
        return gui_failed(L"Sum", st);
    gui_log(L"Sum(%d) = %d    (round trip %.3f ms; this client answered %u nested Sum calls)", in.n,
            out.ret, rtt, g.served);
}

/* The automatic script of --screenshot-after, one step per timer tick. */
static void script_step(void)
{
    switch (g.script_step++) {
    case 0:
        gui_log(L"(automatic demo script: Connect, Add Int, Add String, Sum)");
        SendMessageW(g.wnd, WM_COMMAND, MAKEWPARAM(ID_CONNECT, BN_CLICKED),
                     (LPARAM)item(ID_CONNECT));
        break;
    case 1:
        SetWindowTextW(item(ID_INT_A), L"1");
        SetWindowTextW(item(ID_INT_B), L"2");
        SendMessageW(g.wnd, WM_COMMAND, MAKEWPARAM(ID_ADD_INT, BN_CLICKED),
                     (LPARAM)item(ID_ADD_INT));
        break;
    case 2:
        SetWindowTextW(item(ID_STR_A), k_hello_a);
        SetWindowTextW(item(ID_STR_B), k_hello_b);
        SendMessageW(g.wnd, WM_COMMAND, MAKEWPARAM(ID_ADD_STR, BN_CLICKED),
                     (LPARAM)item(ID_ADD_STR));
        break;
    case 3:
        SetWindowTextW(item(ID_SUM_N), L"19");
        SendMessageW(g.wnd, WM_COMMAND, MAKEWPARAM(ID_SUM, BN_CLICKED), (LPARAM)item(ID_SUM));
        break;
    default: {
        RECT r;
        KillTimer(g.wnd, TIMER_SCRIPT);
        GetWindowRect(g.wnd, &r);
        demo_emit("script=done window=%ld,%ld,%ld,%ld", (long)r.left, (long)r.top,
                  (long)(r.right - r.left), (long)(r.bottom - r.top));
        break;
    }
    }
}

static LRESULT CALLBACK main_proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_CREATE:
        g.wnd = hwnd;
        create_controls();
        update_state();
        SetTimer(hwnd, TIMER_STATE, 250, NULL);
        if (g.screenshot_after)
            SetTimer(hwnd, TIMER_SCRIPT, g.screenshot_after, NULL);
        if (g.exit_after)
            SetTimer(hwnd, TIMER_EXIT, g.exit_after, NULL);
        return 0;
    case WM_SIZE:
        layout(LOWORD(lp), HIWORD(lp));
        return 0;
    case WM_GETMINMAXINFO: {
        MINMAXINFO *mm = (MINMAXINFO *)lp;
        mm->ptMinTrackSize.x = 560;
        mm->ptMinTrackSize.y = 420;
        return 0;
    }
    case WM_CTLCOLORSTATIC:
        if ((HWND)lp == g.log) { /* read-only edits ask here; keep the log white */
            SetBkColor((HDC)wp, RGB(255, 255, 255));
            SetTextColor((HDC)wp, GetSysColor(COLOR_WINDOWTEXT));
            return (LRESULT)g.white;
        }
        break;
    case WM_TIMER:
        if (wp == TIMER_STATE) {
            if (g.conn.local && !is_connected())
                gui_disconnect(L"The server went away; disconnected");
            else
                update_state();
        } else if (wp == TIMER_SCRIPT) {
            if (g.script_step == 0)
                SetTimer(hwnd, TIMER_SCRIPT, 300, NULL); /* then one step per 300 ms */
            script_step();
        } else if (wp == TIMER_EXIT) {
            KillTimer(hwnd, TIMER_EXIT);
            DestroyWindow(hwnd);
        }
        return 0;
    case WM_COMMAND:
        switch (LOWORD(wp)) {
        case ID_CONNECT:
            gui_connect();
            break;
        case ID_DISCONNECT:
            gui_disconnect(L"Disconnected");
            break;
        case ID_ADD_INT:
            if (is_connected())
                gui_add_int();
            break;
        case ID_ADD_STR:
            if (is_connected())
                gui_add_string();
            break;
        case ID_SUM:
            if (is_connected())
                gui_sum();
            break;
        case ID_CLEAR:
            SetWindowTextW(g.log, L"");
            break;
        case IDOK: { /* Enter: the button of the focused row */
            HWND f = GetFocus();
            int id = f ? GetDlgCtrlID(f) : 0;
            int target = id == ID_TITLE ? ID_CONNECT
                         : (id == ID_INT_A || id == ID_INT_B) ? ID_ADD_INT
                         : (id == ID_STR_A || id == ID_STR_B) ? ID_ADD_STR
                         : id == ID_SUM_N ? ID_SUM
                                          : 0;
            if (target && IsWindowEnabled(item(target)))
                SendMessageW(hwnd, WM_COMMAND, MAKEWPARAM(target, BN_CLICKED),
                             (LPARAM)item(target));
            break;
        }
        }
        return 0;
    case WM_CLOSE:
        DestroyWindow(hwnd);
        return 0;
    case WM_DESTROY:
        KillTimer(hwnd, TIMER_STATE);
        if (g.conn.local)
            sipc_disconnect(&g.conn);
        PostQuitMessage(0);
        return 0;
    }
    return DefWindowProcW(hwnd, msg, wp, lp);
}

static int run_gui(void)
{
    INITCOMMONCONTROLSEX icc = {sizeof(icc), ICC_STANDARD_CLASSES};
    WNDCLASSEXW wc;
    WCHAR caption[400];
    MSG msg;

    InitCommonControlsEx(&icc);
    g.gui = true;
    g.font = (HFONT)GetStockObject(DEFAULT_GUI_FONT);
    g.white = (HBRUSH)GetStockObject(WHITE_BRUSH);
    memset(&wc, 0, sizeof(wc));
    wc.cbSize = sizeof(wc);
    wc.lpfnWndProc = main_proc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.hCursor = LoadCursorW(NULL, (LPCWSTR)IDC_ARROW);
    wc.hIcon = LoadIconW(NULL, (LPCWSTR)IDI_APPLICATION);
    wc.hbrBackground = (HBRUSH)(COLOR_BTNFACE + 1);
    wc.lpszClassName = L"SipcDemoClientWindow";
    if (!RegisterClassExW(&wc)) {
        demo_emit("error=SIPC_E_WIN32 error_detail=\"RegisterClassEx failed (%lu)\"",
                  GetLastError());
        demo_emit("status=fail");
        return 1;
    }
    swprintf(caption, 400, L"SIPC demo client \x2014 ipcdemo protocol v%d", g.version);
    HWND w = CreateWindowExW(0, wc.lpszClassName, caption, WS_OVERLAPPEDWINDOW, 40, 40, 680,
                             450, NULL, NULL, wc.hInstance, NULL);
    if (!w) {
        demo_emit("error=SIPC_E_WIN32 error_detail=\"CreateWindowEx failed (%lu); under Wine a "
                  "top-level window needs a display\"",
                  GetLastError());
        demo_emit("status=fail");
        return 1;
    }
    ShowWindow(w, SW_SHOWNORMAL);
    UpdateWindow(w);
    SetFocus(item(ID_CONNECT));
    while (GetMessageW(&msg, NULL, 0, 0) > 0) {
        if (IsDialogMessageW(w, &msg))
            continue;
        TranslateMessage(&msg);
        DispatchMessageW(&msg);
    }
    demo_emit("status=ok");
    return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

int main(void)
{
    WCHAR **argv;
    int argc, i;
    bool gui_word = false;

    g.title = SIPC_DEMO_TITLE;
    g.version = SIPC_V2;
    argv = demo_argv(&argc);
    if (!argv) {
        demo_emit("error=SIPC_E_WIN32 error_detail=\"CommandLineToArgvW failed\"");
        demo_emit("status=fail");
        return 1;
    }
    /* options may come before the command (and, for gui, after it) */
    for (i = 1; i < argc; i++) {
        const WCHAR *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!wcscmp(a, L"gui") && !gui_word)
            gui_word = true;
        else if (!wcscmp(a, L"--title") && has_val)
            g.title = argv[++i];
        else if (!wcscmp(a, L"--v1"))
            g.version = SIPC_V1;
        else if (!wcscmp(a, L"--v2"))
            g.version = SIPC_V2;
        else if (!wcscmp(a, L"--screenshot-after") && has_val) {
            if (!demo_parse_u32(argv[++i], &g.screenshot_after))
                return usage("bad --screenshot-after");
        } else if (!wcscmp(a, L"--exit-after") && has_val) {
            if (!demo_parse_u32(argv[++i], &g.exit_after))
                return usage("bad --exit-after");
        } else if (!wcsncmp(a, L"--", 2)) {
            return usage("unknown option or missing value");
        } else {
            break;
        }
    }
    if (i >= argc)
        return run_gui();
    if (gui_word)
        return usage("gui takes only options");
    if (g.screenshot_after || g.exit_after)
        return usage("--screenshot-after and --exit-after are GUI options");
    return run_cli(argv, argc, i);
}
