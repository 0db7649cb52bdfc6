/*
 * sipc-demo-server.c - the server of SOUI4's ipcdemo protocol
 * (sipc_demo_protocol.h), written in C on the C SIPC library: the all-Wine
 * baseline for the bridge's demos.
 *
 *   sipc-demo-server.exe [--title T] [--top-level] [--seconds N] [--v1]
 *                        [--hello-ms MS] [--quiet-calls]
 *                        [--relay-echo | --relay-echo-thread]
 *
 *   --title T       main window title (default sipc_demo_svr)
 *   --top-level     the main window is an invisible WS_POPUP top-level window
 *                   (as on Windows, where FindWindow skips message-only
 *                   windows); needs a display under Wine. Default: a
 *                   message-only window (works headless; Wine's FindWindow
 *                   finds it).
 *   --seconds N     serve for N seconds, then exit 0 (default: forever, until
 *                   Ctrl-C / Ctrl-Break / close, which also exit 0)
 *   --v1            the legacy v1 protocol (spec 11) instead of v2
 *   --hello-ms MS   call SayHello("Hello from the C server") on each new client
 *                   MS ms after it connected (default 100; 0 = never)
 *   --quiet-calls   no line per call (connects, disconnects, hellos remain)
 *   --relay-echo    for the throughput ceiling (Benchmarks/Findings.md 14):
 *                   before it answers, each AddInt writes one byte to stderr
 *                   and reads one byte back from stdin, i.e. one round trip
 *                   to the native process holding the other ends
 *                   (Benchmarks/experiments/relay-echo.c). A failed round trip
 *                   fails the call (SIPC_E_WIN32).
 *   --relay-echo-thread  the same, but the byte coming back is read by a
 *                   second thread, which wakes the serving thread with
 *                   WakeByAddressSingle, as the shim's reader thread does.
 *
 * Served: 102 AddInt(a, b) -> a + b, 103 AddString(a, b) -> a + b,
 * 105 Sum(n) -> 0 for n <= 0, else n + Sum(n - 1) called on the client.
 * Protocol v2 with bufSize 2048 and stackSize 64 (see the header).
 *
 * Output, one UTF-8 line per event on stdout (written at once):
 *   listening=1 title="sipc_demo_svr" main=0x00010040 window=message-only|top-level version=2 pid=N
 *   event=connect client=0x.. conn=0x.. pid=N exe="C:\\...\\x.exe" t_ms=12.3
 *   event=call fn=AddInt client=0x.. args=1,2 result=3
 *   event=call fn=AddString client=0x.. args="Hello, ","..." result="..."
 *   event=call fn=Sum client=0x.. args=18 result=171 status=SIPC_OK
 *   event=hello client=0x.. text="Hello from the C server" status=SIPC_OK t_ms=..
 *   event=disconnect client=0x.. pid=N reason=disconnect|dead|shutdown t_ms=..
 *   status=ok
 * Strings are quoted as in demo_common.h (\" \\ \n \r \t \uXXXX escapes).
 * Errors: error=<SIPC status> error_detail="..." status=fail, exit code 1
 * (2 for usage errors).
 */
#include "sipc.h"
#include "sipc_demo_protocol.h"
#include "demo_common.h"

#define HELLO_TEXT L"Hello from the C server"
#define MAX_HELLO_TIMERS 64

typedef struct client_info {
    DWORD pid;
    WCHAR exe[MAX_PATH + 1];
} client_info;

typedef struct server_ctx {
    sipc_server srv;
    const WCHAR *title;
    bool top_level;
    bool quiet_calls;
    bool relay_echo;
    bool relay_echo_thread;
    HANDLE echo_out, echo_in;
    volatile LONG echo_word;
    BOOL (WINAPI *wait_on_address)(volatile void *, void *, SIZE_T, DWORD);
    void (WINAPI *wake_by_address)(void *);
    int version;
    uint32_t seconds;   /* 0 = forever */
    uint32_t hello_ms;  /* 0 = never */
    double t0;
    DWORD main_thread;
    struct { UINT_PTR timer; HWND client; } hello[MAX_HELLO_TIMERS];
} server_ctx;

static server_ctx g_ctx;

static double t_ms(void)
{
    return sipb_now_ms() - g_ctx.t0;
}

/* ---- handlers ------------------------------------------------------------ */

static sipc_status on_add_int(sipc_conn *c, const DemoAddInt_in *in, DemoAddInt_out *out,
                              void *user)
{
    server_ctx *s = user;

    if (s->relay_echo) {
        char b = 'x';
        DWORD n = 0;
        LONG zero = 0;
        if (s->relay_echo_thread && InterlockedCompareExchange(&s->echo_word, 0, 1) < 0)
            return SIPC_E_WIN32; /* the reader saw the pipe end */
        if (!WriteFile(s->echo_out, &b, 1, &n, NULL) || n != 1)
            return SIPC_E_WIN32;
        if (s->relay_echo_thread) {
            /* the answer comes through the reader thread, as in the shim */
            while (s->echo_word == 0)
                s->wait_on_address(&s->echo_word, &zero, sizeof zero, 5);
            if (s->echo_word < 0)
                return SIPC_E_WIN32;
        } else if (!ReadFile(s->echo_in, &b, 1, &n, NULL) || n != 1) {
            return SIPC_E_WIN32;
        }
    }
    /* wrap-around like the C++ demo on two's-complement machines, without UB */
    out->ret = (int32_t)((uint32_t)in->a + (uint32_t)in->b);
    if (!s->quiet_calls)
        demo_emit("event=call fn=AddInt client=0x%08x args=%d,%d result=%d",
                  (unsigned)(uintptr_t)c->remote, in->a, in->b, out->ret);
    return SIPC_OK;
}
SIPC_HANDLER(DemoAddInt, on_add_int)

static sipc_status on_add_string(sipc_conn *c, const DemoAddString_in *in,
                                 DemoAddString_out *out, void *user)
{
    server_ctx *s = user;
    sipc_status st = sipc_wstr_concat(&out->ret, in->a.data, in->a.len, in->b.data, in->b.len);

    if (!s->quiet_calls) {
        static char line[6000];
        size_t o = 0;
        o += (size_t)snprintf(line, sizeof(line), "event=call fn=AddString client=0x%08x args=",
                              (unsigned)(uintptr_t)c->remote);
        demo_quote(line, sizeof(line), &o, in->a.data, in->a.len);
        if (o + 1 < sizeof(line))
            line[o++] = ',';
        demo_quote(line, sizeof(line), &o, in->b.data, in->b.len);
        if (st == SIPC_OK) {
            o += (size_t)snprintf(line + o, sizeof(line) - o, " result=");
            demo_quote(line, sizeof(line), &o, out->ret.data, out->ret.len);
        } else {
            snprintf(line + o, sizeof(line) - o, " status=%s", sipc_status_name(st));
        }
        demo_emit("%s", line);
    }
    return st;
}
SIPC_HANDLER(DemoAddString, on_add_string)

/* Sum(n) = n + Sum(n - 1) where Sum(n - 1) runs on the client. */
static sipc_status on_sum(sipc_conn *c, const DemoSum_in *in, DemoSum_out *out, void *user)
{
    server_ctx *s = user;
    sipc_status st = SIPC_OK;

    if (in->n <= 0) {
        out->ret = 0;
    } else {
        DemoSum_in next = {in->n - 1};
        DemoSum_out res = {0};
        st = DemoSum_call(c, &next, &res);
        if (st == SIPC_OK)
            out->ret = (int32_t)((uint32_t)in->n + (uint32_t)res.ret);
    }
    if (!s->quiet_calls) {
        if (st == SIPC_OK)
            demo_emit("event=call fn=Sum client=0x%08x args=%d result=%d",
                      (unsigned)(uintptr_t)c->remote, in->n, out->ret);
        else
            demo_emit("event=call fn=Sum client=0x%08x args=%d status=%s error_detail=\"%s\"",
                      (unsigned)(uintptr_t)c->remote, in->n, sipc_status_name(st), c->err.what);
    }
    return st;
}
SIPC_HANDLER(DemoSum, on_sum)

static const sipc_handler k_handlers[] = {
    SIPC_ENTRY(DemoAddInt, on_add_int),
    SIPC_ENTRY(DemoAddString, on_add_string),
    SIPC_ENTRY(DemoSum, on_sum),
};

/* ---- SayHello, shortly after a connect ------------------------------------ */

static void CALLBACK hello_timer(HWND hwnd, UINT msg, UINT_PTR id, DWORD tick)
{
    HWND client = NULL;

    KillTimer(NULL, id);
    for (int i = 0; i < MAX_HELLO_TIMERS; i++) {
        if (g_ctx.hello[i].timer == id) {
            client = g_ctx.hello[i].client;
            g_ctx.hello[i].timer = 0;
            g_ctx.hello[i].client = NULL;
            break;
        }
    }
    sipc_conn *c = client ? sipc_server_find(&g_ctx.srv, client) : NULL;
    if (!c)
        return; /* gone meanwhile */
    DemoSayHello_in in = {{(WCHAR *)HELLO_TEXT, (uint32_t)wcslen(HELLO_TEXT)}};
    DemoSayHello_out out;
    sipc_status st = DemoSayHello_call(c, &in, &out);
    char text[200];
    size_t o = 0;
    demo_quote(text, sizeof(text), &o, in.text.data, in.text.len);
    demo_emit("event=hello client=0x%08x text=%s status=%s t_ms=%.1f",
              (unsigned)(uintptr_t)client, text, sipc_status_name(st), t_ms());
}

static void schedule_hello(HWND client)
{
    if (!g_ctx.hello_ms)
        return;
    for (int i = 0; i < MAX_HELLO_TIMERS; i++) {
        if (g_ctx.hello[i].timer)
            continue;
        UINT_PTR id = SetTimer(NULL, 0, g_ctx.hello_ms, hello_timer);
        if (!id)
            return;
        g_ctx.hello[i].timer = id;
        g_ctx.hello[i].client = client;
        return;
    }
}

/* ---- connect / disconnect ------------------------------------------------- */

static void on_connect(sipc_server *srv, sipc_conn *c, void *user)
{
    client_info *info = calloc(1, sizeof(*info));
    char exe[3 * MAX_PATH + 8];
    size_t o = 0;

    if (info) {
        GetWindowThreadProcessId(c->remote, &info->pid);
        HANDLE proc = info->pid ? OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
                                              info->pid)
                                : NULL;
        DWORD len = MAX_PATH;
        if (!proc || !QueryFullProcessImageNameW(proc, 0, info->exe, &len))
            info->exe[0] = 0;
        if (proc)
            CloseHandle(proc);
        c->app = info;
        demo_quote(exe, sizeof(exe), &o, info->exe, (uint32_t)wcslen(info->exe));
    } else {
        strcpy(exe, "\"\"");
    }
    demo_emit("event=connect client=0x%08x conn=0x%08x pid=%lu exe=%s t_ms=%.1f",
              (unsigned)(uintptr_t)c->remote, (unsigned)(uintptr_t)c->local,
              info ? (unsigned long)info->pid : 0ul, exe, t_ms());
    schedule_hello(c->remote);
}

static void on_disconnect(sipc_server *srv, sipc_conn *c, sipc_drop_reason why, void *user)
{
    static const char *reasons[] = {"disconnect", "dead", "shutdown"};
    client_info *info = c->app;

    demo_emit("event=disconnect client=0x%08x pid=%lu reason=%s t_ms=%.1f",
              (unsigned)(uintptr_t)c->remote, info ? (unsigned long)info->pid : 0ul,
              reasons[why <= SIPC_DROP_SHUTDOWN ? why : 0], t_ms());
    free(info);
    c->app = NULL;
}

/* Ctrl-C / Ctrl-Break / console close: end the message loop normally. */
static BOOL WINAPI console_ctrl(DWORD type)
{
    PostThreadMessageW(g_ctx.main_thread, WM_QUIT, 0, 0);
    return TRUE;
}

static DWORD WINAPI echo_reader(void *arg)
{
    server_ctx *s = arg;
    for (;;) {
        char b;
        DWORD n = 0;
        if (!ReadFile(s->echo_in, &b, 1, &n, NULL) || n != 1) {
            InterlockedExchange(&s->echo_word, -1);
            s->wake_by_address((void *)&s->echo_word);
            return 0;
        }
        InterlockedExchange(&s->echo_word, 1);
        s->wake_by_address((void *)&s->echo_word);
    }
}

static int usage(const char *why)
{
    demo_emit("error=usage error_detail=\"%s\"", why);
    demo_emit("usage=sipc-demo-server.exe [--title T] [--top-level] [--seconds N] [--v1] "
              "[--hello-ms MS] [--quiet-calls] [--relay-echo | --relay-echo-thread]");
    return 2;
}

int main(void)
{
    server_ctx *s = &g_ctx;
    sipc_server_config cfg;
    WCHAR **argv;
    int argc;
    char title[512];

    s->title = SIPC_DEMO_TITLE;
    s->version = SIPC_V2;
    s->hello_ms = 100;
    argv = demo_argv(&argc);
    if (!argv) {
        demo_emit("error=SIPC_E_WIN32 error_detail=\"CommandLineToArgvW failed\" status=fail");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const WCHAR *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!wcscmp(a, L"--title") && has_val)
            s->title = argv[++i];
        else if (!wcscmp(a, L"--top-level"))
            s->top_level = true;
        else if (!wcscmp(a, L"--v1"))
            s->version = SIPC_V1;
        else if (!wcscmp(a, L"--quiet-calls"))
            s->quiet_calls = true;
        else if (!wcscmp(a, L"--relay-echo"))
            s->relay_echo = true;
        else if (!wcscmp(a, L"--relay-echo-thread"))
            s->relay_echo = s->relay_echo_thread = true;
        else if (!wcscmp(a, L"--seconds") && has_val) {
            if (!demo_parse_u32(argv[++i], &s->seconds))
                return usage("bad --seconds");
        } else if (!wcscmp(a, L"--hello-ms") && has_val) {
            if (!demo_parse_u32(argv[++i], &s->hello_ms))
                return usage("bad --hello-ms");
        } else {
            return usage("unknown option or missing value");
        }
    }

    if (s->relay_echo) {
        s->echo_out = GetStdHandle(STD_ERROR_HANDLE);
        s->echo_in = GetStdHandle(STD_INPUT_HANDLE);
        if (s->echo_out == NULL || s->echo_out == INVALID_HANDLE_VALUE ||
            s->echo_in == NULL || s->echo_in == INVALID_HANDLE_VALUE)
            return usage("--relay-echo needs stdin and stderr");
    }
    if (s->relay_echo_thread) {
        HMODULE kb = GetModuleHandleW(L"kernelbase.dll");
        s->wait_on_address = kb ? (void *)GetProcAddress(kb, "WaitOnAddress") : NULL;
        s->wake_by_address = kb ? (void *)GetProcAddress(kb, "WakeByAddressSingle") : NULL;
        if (!s->wait_on_address || !s->wake_by_address ||
            !CreateThread(NULL, 0, echo_reader, s, 0, NULL))
            return usage("--relay-echo-thread needs WaitOnAddress and a thread");
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.base.version = s->version;
    cfg.base.buf_size = SIPC_DEMO_BUF_SIZE;
    cfg.base.stack_size = SIPC_DEMO_STACK_SIZE;
    cfg.base.name_format = SIPC_DEMO_NAME_FORMAT;
    cfg.base.handlers = k_handlers;
    cfg.base.handler_count = sizeof(k_handlers) / sizeof(k_handlers[0]);
    cfg.base.user = s;
    cfg.base.wait_mode = SIPC_WAIT_SPIN;
    cfg.base.log = demo_log_sink;
    cfg.base.log_ctx = (void *)"sipc-demo-server";
    cfg.title = s->title;
    cfg.top_level = s->top_level;
    cfg.on_connect = on_connect;
    cfg.on_disconnect = on_disconnect;
    cfg.user = s;

    s->main_thread = GetCurrentThreadId();
    s->t0 = sipb_now_ms();
    if (sipc_find_server(s->title))
        demo_emit("warning=another window titled like this exists; clients may find either");
    sipc_status st = sipc_server_start(&s->srv, &cfg);
    if (st != SIPC_OK) {
        demo_emit("error=%s error_detail=\"%s\"", sipc_status_name(st), s->srv.err.what);
        demo_emit("status=fail");
        return 1;
    }
    size_t o = 0;
    demo_quote(title, sizeof(title), &o, s->title, (uint32_t)wcslen(s->title));
    demo_emit("listening=1 title=%s main=0x%08x window=%s version=%d pid=%lu", title,
              (unsigned)(uintptr_t)s->srv.main, s->top_level ? "top-level" : "message-only",
              s->version, (unsigned long)GetCurrentProcessId());
    SetConsoleCtrlHandler(console_ctrl, TRUE);

    double deadline = s->seconds ? s->t0 + s->seconds * 1000.0 : 0;
    bool quit = false;
    while (!quit) {
        DWORD wait = INFINITE;
        MSG msg;
        if (deadline) {
            double left = deadline - sipb_now_ms();
            if (left <= 0)
                break;
            wait = (DWORD)left + 1;
        }
        MsgWaitForMultipleObjectsEx(0, NULL, wait, QS_ALLINPUT, MWMO_INPUTAVAILABLE);
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE)) {
            if (msg.message == WM_QUIT) {
                quit = true;
                break;
            }
            TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
    }
    for (int i = 0; i < MAX_HELLO_TIMERS; i++)
        if (s->hello[i].timer)
            KillTimer(NULL, s->hello[i].timer);
    sipc_server_stop(&s->srv);
    demo_emit("status=ok");
    return 0;
}
