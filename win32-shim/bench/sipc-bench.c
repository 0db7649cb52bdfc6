/*
 * sipc-bench.c - the Windows side of `make bench` (driven by Benchmarks/
 * Sources/sipc-bench, which starts the servers and compares the figures).
 *
 *   sipc-bench calls [opts] TITLE...
 *       Connects to every server titled TITLE (SOUI ipcdemo protocol, v2)
 *       from one thread, then calls them in turn, `--block` calls at a time,
 *       until each has had `--n` timed calls, so that slow drift of a noisy
 *       machine hits every target alike. Each call is timed with
 *       QueryPerformanceCounter. Prints per target:
 *         target=<i> title=<t> n=<n> median_us= p99_us= mean_us= min_us= max_us=
 *       --fn add|sum      AddInt(k, 1) (default) or Sum(--arg) (recursive:
 *                         the server calls back into this client)
 *       --arg N           Sum's n (default 19)
 *       --n N             timed calls per target (default 2000)
 *       --block N         calls per turn (default 100)
 *       --warmup N        untimed calls per target first (default 200)
 *       --out FILE        also write every sample as "<target> <us>" lines
 *       --block-wait      sleep in MsgWaitForMultipleObjectsEx while a call
 *                         waits, instead of SOUI's PeekMessage spin
 *   sipc-bench throughput [opts] --seconds S TITLE
 *       Connects, prints ready=1, waits for a line on stdin (the driver
 *       starts every client at once this way), then calls AddInt for S
 *       seconds: calls= elapsed_us= calls_per_s=
 *   sipc-bench ping [--n N] TITLE
 *       SendMessageW(WM_NULL) to the window titled TITLE, N times (default
 *       2000): the bare cross-process SendMessage round trip.
 *       median_us= p99_us= mean_us=
 *   sipc-bench copy-recv TITLE
 *       A message-only window titled TITLE that answers WM_COPYDATA with
 *       cbData (it reads the first and last byte). Prints ready=1 hwnd=...;
 *       exits when stdin reaches EOF or a line "quit" arrives.
 *   sipc-bench copy-send [--reps R] [--timeout-ms T] [--out FILE] TITLE... -- SIZE...
 *       For each SIZE (bytes), sends WM_COPYDATA R times to each TITLE in
 *       turn with SendMessageTimeoutW(SMTO_NORMAL, T) (default 5000 ms),
 *       timing each send. Prints per size and target:
 *         size= target= title= ok= median_us= mb_per_s= [error= last_error=]
 *       A send that fails or times out stops that size for that target
 *       (error=timeout|failed|wrong_result).
 *
 * Output is key=value lines on stdout, written with WriteFile at once.
 * Exit code 0 on success, 1 on a failure, 2 on usage errors.
 */
#include "sipc.h"
#include "sipb_tool.h"
#include "sipc_demo_protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define MAX_TARGETS 8

/* ---- output and clock ----------------------------------------------------- */

static void log_sink(void *ctx, sipc_log_level lvl, const char *msg)
{
    if (lvl >= SIPC_LOG_WARN) {
        char buf[400];
        DWORD done;
        int n = snprintf(buf, sizeof(buf), "sipc-bench: %s\n", msg);
        if (n > 0)
            WriteFile(GetStdHandle(STD_ERROR_HANDLE), buf,
                      (DWORD)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1), &done, NULL);
    }
}

static double g_us_per_tick;

static int64_t ticks(void)
{
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    return t.QuadPart;
}

static void clock_init(void)
{
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    g_us_per_tick = 1e6 / (double)f.QuadPart;
}

static const char *narrow(const WCHAR *w, char *buf, int size)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, size, NULL, NULL);
    if (n <= 0)
        buf[0] = 0;
    return buf;
}

/* ---- statistics ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct stats {
    double median, p99, mean, min, max;
} stats;

/* Sorts v in place. Nearest-rank percentiles. */
static stats summarize(double *v, size_t n)
{
    stats s = {0, 0, 0, 0, 0};
    double sum = 0;

    if (n == 0)
        return s;
    qsort(v, n, sizeof(double), cmp_double);
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    size_t r99 = (size_t)((double)n * 0.99 + 0.999999);
    s.p99 = v[(r99 ? r99 : 1) - 1];
    s.mean = sum / (double)n;
    s.min = v[0];
    s.max = v[n - 1];
    return s;
}

/* ---- arguments ---------------------------------------------------------------- */

typedef struct opts {
    const WCHAR *fn;
    int32_t arg;
    uint32_t n, block, warmup, reps, timeout_ms;
    double seconds;
    const WCHAR *out;
    bool block_wait;
    const WCHAR *titles[MAX_TARGETS];
    int ntitles;
    uint32_t sizes[16];
    int nsizes;
} opts;

static int usage(const char *why)
{
    sipb_emit("error=usage");
    sipb_emit("error_detail=%s", why);
    return 2;
}

/* Options, then titles; with sizes=true, "--" then sizes. */
static int parse(int argc, WCHAR **argv, int i, opts *o, bool sizes)
{
    o->fn = L"add";
    o->arg = 19;
    o->n = 2000;
    o->block = 100;
    o->warmup = 200;
    o->reps = 10;
    o->timeout_ms = 5000;
    o->seconds = 0;
    for (; i < argc && !wcsncmp(argv[i], L"--", 2) && argv[i][2]; i++) {
        const WCHAR *a = argv[i];
        const WCHAR *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t x = 0;
        if (!wcscmp(a, L"--block-wait")) {
            o->block_wait = true;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!wcscmp(a, L"--fn"))
            o->fn = v;
        else if (!wcscmp(a, L"--out"))
            o->out = v;
        else if (!sipb_parse_u32(v, &x))
            return -1;
        else if (!wcscmp(a, L"--arg"))
            o->arg = (int32_t)x;
        else if (!wcscmp(a, L"--n") && x)
            o->n = x;
        else if (!wcscmp(a, L"--block") && x)
            o->block = x;
        else if (!wcscmp(a, L"--warmup"))
            o->warmup = x;
        else if (!wcscmp(a, L"--reps") && x)
            o->reps = x;
        else if (!wcscmp(a, L"--timeout-ms") && x)
            o->timeout_ms = x;
        else if (!wcscmp(a, L"--seconds") && x)
            o->seconds = x;
        else
            return -1;
    }
    for (; i < argc && wcscmp(argv[i], L"--"); i++) {
        if (o->ntitles == MAX_TARGETS)
            return -1;
        o->titles[o->ntitles++] = argv[i];
    }
    if (sizes) {
        if (i >= argc)
            return -1;
        for (i++; i < argc; i++) {
            if (o->nsizes == 16 || !sipb_parse_u32(argv[i], &o->sizes[o->nsizes]))
                return -1;
            o->nsizes++;
        }
    } else if (i < argc) {
        return -1;
    }
    return o->ntitles ? 0 : -1;
}

/* ---- SIPC client ---------------------------------------------------------------- */

static sipc_status on_sum(sipc_conn *c, const DemoSum_in *in, DemoSum_out *out, void *user)
{
    DemoSum_in next;
    DemoSum_out res;
    sipc_status st;

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

static sipc_status on_hello(sipc_conn *c, const DemoSayHello_in *in, DemoSayHello_out *out,
                            void *user)
{
    return SIPC_OK;
}
SIPC_HANDLER(DemoSayHello, on_hello)

static const sipc_handler k_client_handlers[] = {
    SIPC_ENTRY(DemoSum, on_sum),
    SIPC_ENTRY(DemoSayHello, on_hello),
};

static sipc_conn g_conns[MAX_TARGETS];

static int connect_all(const opts *o)
{
    sipc_config cfg;
    char t[256];

    memset(&cfg, 0, sizeof(cfg));
    cfg.version = SIPC_V2;
    cfg.buf_size = SIPC_DEMO_BUF_SIZE;
    cfg.stack_size = SIPC_DEMO_STACK_SIZE;
    cfg.name_format = SIPC_DEMO_NAME_FORMAT;
    cfg.handlers = k_client_handlers;
    cfg.handler_count = sizeof(k_client_handlers) / sizeof(k_client_handlers[0]);
    cfg.wait_mode = o->block_wait ? SIPC_WAIT_BLOCK : SIPC_WAIT_SPIN;
    cfg.log = log_sink;
    for (int k = 0; k < o->ntitles; k++) {
        HWND server = NULL;
        /* A server that was just started may not have its window yet. */
        for (int tries = 0; tries < 100 && !server; tries++) {
            server = sipc_find_server(o->titles[k]);
            if (!server)
                Sleep(50);
        }
        if (!server) {
            sipb_emit("error=SIPC_E_NOT_FOUND");
            sipb_emit("error_detail=no window titled %s", narrow(o->titles[k], t, sizeof(t)));
            return 1;
        }
        sipc_status st = sipc_connect(&g_conns[k], &cfg, server);
        if (st != SIPC_OK) {
            sipb_emit("error=%s", sipc_status_name(st));
            sipb_emit("error_detail=connect %s: %s", narrow(o->titles[k], t, sizeof(t)),
                      g_conns[k].err.what);
            return 1;
        }
    }
    return 0;
}

static void disconnect_all(const opts *o)
{
    for (int k = 0; k < o->ntitles; k++)
        sipc_disconnect(&g_conns[k]);
}

/* One call of the chosen function; checks the answer. */
static sipc_status one_call(sipc_conn *c, bool sum, int32_t arg, uint32_t k)
{
    sipc_status st;

    if (sum) {
        DemoSum_in in = {arg};
        DemoSum_out out;
        st = DemoSum_call(c, &in, &out);
        if (st == SIPC_OK && out.ret != (int32_t)((int64_t)arg * (arg + 1) / 2))
            st = SIPC_E_BAD_FRAME;
    } else {
        DemoAddInt_in in = {(int32_t)k, 1};
        DemoAddInt_out out;
        st = DemoAddInt_call(c, &in, &out);
        if (st == SIPC_OK && out.ret != (int32_t)k + 1)
            st = SIPC_E_BAD_FRAME;
    }
    return st;
}

static int call_failed(const opts *o, int k, sipc_status st)
{
    char t[256];
    sipb_emit("error=%s", sipc_status_name(st));
    sipb_emit("error_detail=target %d (%s): %s", k, narrow(o->titles[k], t, sizeof(t)),
              st == SIPC_E_BAD_FRAME ? "wrong result" : g_conns[k].err.what);
    return 1;
}

/* Appends text to a file opened for writing. */
static bool write_all(HANDLE f, const char *p, size_t n)
{
    DWORD done;
    return WriteFile(f, p, (DWORD)n, &done, NULL) && done == n;
}

static int run_calls(const opts *o)
{
    bool sum = !wcscmp(o->fn, L"sum");
    double *samples[MAX_TARGETS] = {0};
    uint32_t counts[MAX_TARGETS] = {0};
    char t[256];
    int rc = 0;

    if (!sum && wcscmp(o->fn, L"add"))
        return usage("--fn add|sum");
    if (connect_all(o))
        return 1;
    sipb_emit("connected=%d", o->ntitles);
    for (int k = 0; k < o->ntitles && !rc; k++) {
        samples[k] = malloc(sizeof(double) * o->n);
        if (!samples[k])
            rc = 1;
        for (uint32_t w = 0; w < o->warmup && !rc; w++) {
            sipc_status st = one_call(&g_conns[k], sum, o->arg, w);
            if (st != SIPC_OK)
                rc = call_failed(o, k, st);
        }
    }
    /* Round robin: a block of calls on each target in turn. */
    for (bool more = true; more && !rc;) {
        more = false;
        for (int k = 0; k < o->ntitles && !rc; k++) {
            for (uint32_t b = 0; b < o->block && counts[k] < o->n && !rc; b++) {
                int64_t t0 = ticks();
                sipc_status st = one_call(&g_conns[k], sum, o->arg, counts[k]);
                int64_t t1 = ticks();
                if (st != SIPC_OK)
                    rc = call_failed(o, k, st);
                samples[k][counts[k]++] = (double)(t1 - t0) * g_us_per_tick;
            }
            if (counts[k] < o->n)
                more = true;
        }
    }
    if (!rc && o->out) {
        HANDLE f = CreateFileW(o->out, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                               FILE_ATTRIBUTE_NORMAL, NULL);
        if (f == INVALID_HANDLE_VALUE) {
            sipb_emit("error=SIPC_E_WIN32");
            sipb_emit("error_detail=cannot create the samples file (%lu)", GetLastError());
            rc = 1;
        } else {
            char line[64];
            for (int k = 0; k < o->ntitles && !rc; k++)
                for (uint32_t i = 0; i < counts[k] && !rc; i++) {
                    int n = snprintf(line, sizeof(line), "%d %.3f\n", k, samples[k][i]);
                    if (!write_all(f, line, (size_t)n))
                        rc = 1;
                }
            CloseHandle(f);
        }
    }
    for (int k = 0; k < o->ntitles && !rc; k++) {
        stats s = summarize(samples[k], counts[k]);
        sipb_emit("target=%d title=%s n=%u median_us=%.2f p99_us=%.2f mean_us=%.2f min_us=%.2f "
                  "max_us=%.2f",
                  k, narrow(o->titles[k], t, sizeof(t)), counts[k], s.median, s.p99, s.mean, s.min,
                  s.max);
    }
    for (int k = 0; k < o->ntitles; k++)
        free(samples[k]);
    disconnect_all(o);
    sipb_emit("status=%s", rc ? "fail" : "ok");
    return rc;
}

/* Blocks until a line (or EOF) arrives on stdin. */
static void wait_stdin_line(void)
{
    char c;
    DWORD got;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);

    while (ReadFile(in, &c, 1, &got, NULL) && got == 1 && c != '\n')
        ;
}

static int run_throughput(const opts *o)
{
    uint32_t calls = 0;
    int rc = 0;

    if (o->ntitles != 1 || o->seconds <= 0)
        return usage("throughput --seconds S TITLE");
    if (connect_all(o))
        return 1;
    for (uint32_t w = 0; w < o->warmup && !rc; w++) {
        sipc_status st = one_call(&g_conns[0], false, 0, w);
        if (st != SIPC_OK)
            rc = call_failed(o, 0, st);
    }
    if (rc)
        return rc;
    sipb_emit("ready=1");
    wait_stdin_line();
    int64_t t0 = ticks();
    int64_t end = t0 + (int64_t)(o->seconds * 1e6 / g_us_per_tick);
    int64_t now = t0;
    while (now < end && !rc) {
        /* Check the clock every 16 calls. */
        for (int b = 0; b < 16 && !rc; b++) {
            sipc_status st = one_call(&g_conns[0], false, 0, calls);
            if (st != SIPC_OK)
                rc = call_failed(o, 0, st);
            else
                calls++;
        }
        now = ticks();
    }
    double us = (double)(now - t0) * g_us_per_tick;
    sipb_emit("calls=%u elapsed_us=%.0f calls_per_s=%.1f", calls, us, calls / (us / 1e6));
    disconnect_all(o);
    sipb_emit("status=%s", rc ? "fail" : "ok");
    return rc;
}

/* ---- WM_COPYDATA ------------------------------------------------------------------- */

static LRESULT CALLBACK recv_proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    if (msg == WM_COPYDATA) {
        const COPYDATASTRUCT *cds = (const COPYDATASTRUCT *)lp;
        if (!cds)
            return 0;
        if (cds->cbData) {
            /* Touch both ends, as a receiver that copies the data out would. */
            const volatile uint8_t *p = cds->lpData;
            if (!p || p[0] != 0x5a || p[cds->cbData - 1] != 0xa5)
                return 0;
        }
        return (LRESULT)cds->cbData + 1;
    }
    return DefWindowProcW(hwnd, msg, wp, lp);
}

static DWORD WINAPI stdin_watch(void *param)
{
    char buf[64];
    DWORD got;
    size_t have = 0;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);

    while (ReadFile(in, buf + have, 1, &got, NULL) && got == 1) {
        if (buf[have] == '\n') {
            if (have >= 4 && !memcmp(buf, "quit", 4))
                break;
            have = 0;
        } else if (have < sizeof(buf) - 2) {
            have++;
        }
    }
    PostThreadMessageW((DWORD)(uintptr_t)param, WM_QUIT, 0, 0);
    return 0;
}

static int run_copy_recv(const opts *o)
{
    WNDCLASSW wc;
    HWND hwnd;
    MSG msg;

    if (o->ntitles != 1)
        return usage("copy-recv TITLE");
    memset(&wc, 0, sizeof(wc));
    wc.lpfnWndProc = recv_proc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = L"SipcBenchCopyRecv";
    if (!RegisterClassW(&wc))
        return 1;
    hwnd = CreateWindowExW(0, wc.lpszClassName, o->titles[0], 0, 0, 0, 0, 0, HWND_MESSAGE, NULL,
                           wc.hInstance, NULL);
    if (!hwnd) {
        sipb_emit("error=CreateWindowExW last_error=%lu", GetLastError());
        return 1;
    }
    /* Make sure this thread has a message queue before the watcher posts to it. */
    PeekMessageW(&msg, NULL, 0, 0, PM_NOREMOVE);
    HANDLE th = CreateThread(NULL, 0, stdin_watch, (void *)(uintptr_t)GetCurrentThreadId(), 0,
                             NULL);
    if (!th)
        return 1;
    sipb_emit("ready=1 hwnd=0x%llx", (unsigned long long)(uintptr_t)hwnd);
    while (GetMessageW(&msg, NULL, 0, 0) > 0)
        DispatchMessageW(&msg);
    DestroyWindow(hwnd);
    sipb_emit("status=ok");
    return 0;
}

static HWND find_window(const WCHAR *title)
{
    for (int tries = 0; tries < 100; tries++) {
        HWND h = FindWindowW(NULL, title);
        if (!h)
            h = FindWindowExW(HWND_MESSAGE, NULL, NULL, title);
        if (h)
            return h;
        Sleep(50);
    }
    return NULL;
}

static int run_copy_send(const opts *o)
{
    HWND targets[MAX_TARGETS];
    uint32_t maxsize = 1;
    char t[256];
    int rc = 0;

    for (int k = 0; k < o->ntitles; k++) {
        targets[k] = find_window(o->titles[k]);
        if (!targets[k]) {
            sipb_emit("error=notfound title=%s", narrow(o->titles[k], t, sizeof(t)));
            return 1;
        }
    }
    for (int s = 0; s < o->nsizes; s++)
        if (o->sizes[s] > maxsize)
            maxsize = o->sizes[s];
    uint8_t *data = malloc(maxsize);
    double *samples = malloc(sizeof(double) * o->reps * MAX_TARGETS);
    if (!data || !samples) {
        sipb_emit("error=malloc");
        return 1;
    }
    for (uint32_t i = 0; i < maxsize; i++)
        data[i] = (uint8_t)(i * 31u + 7u);
    HANDLE f = INVALID_HANDLE_VALUE;
    if (o->out) {
        f = CreateFileW(o->out, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
        if (f == INVALID_HANDLE_VALUE) {
            sipb_emit("error=cannot create the samples file (%lu)", GetLastError());
            return 1;
        }
    }
    sipb_emit("ready=1");
    for (int s = 0; s < o->nsizes; s++) {
        uint32_t size = o->sizes[s];
        uint32_t ok[MAX_TARGETS] = {0};
        const char *err[MAX_TARGETS] = {0};
        DWORD last_error[MAX_TARGETS] = {0};
        double fail_us[MAX_TARGETS] = {0};
        if (size) {
            data[0] = 0x5a;
            data[size - 1] = 0xa5;
        }
        /* Round robin, one send per target per turn. */
        for (uint32_t r = 0; r < o->reps; r++) {
            for (int k = 0; k < o->ntitles; k++) {
                if (err[k])
                    continue;
                COPYDATASTRUCT cds = {0x42, size, size ? data : NULL};
                DWORD_PTR result = 0;
                SetLastError(0);
                int64_t t0 = ticks();
                LRESULT sent = SendMessageTimeoutW(targets[k], WM_COPYDATA, 0, (LPARAM)&cds,
                                                   SMTO_NORMAL, o->timeout_ms, &result);
                int64_t t1 = ticks();
                double us = (double)(t1 - t0) * g_us_per_tick;
                if (!sent) {
                    last_error[k] = GetLastError();
                    err[k] = last_error[k] == ERROR_TIMEOUT ? "timeout" : "failed";
                    fail_us[k] = us;
                } else if (result != (DWORD_PTR)size + 1) {
                    err[k] = "wrong_result";
                    fail_us[k] = us;
                } else {
                    samples[k * o->reps + ok[k]++] = us;
                    if (f != INVALID_HANDLE_VALUE) {
                        char line[80];
                        int n = snprintf(line, sizeof(line), "%u %d %.3f\n", size, k, us);
                        write_all(f, line, (size_t)n);
                    }
                }
            }
        }
        for (int k = 0; k < o->ntitles; k++) {
            stats st = summarize(samples + k * o->reps, ok[k]);
            double mbps = ok[k] && st.median > 0 ? size / st.median : 0; /* bytes/us = MB/s */
            if (err[k]) {
                sipb_emit("size=%u target=%d title=%s ok=%u median_us=%.2f mb_per_s=%.2f error=%s "
                          "last_error=%lu fail_after_us=%.0f",
                          size, k, narrow(o->titles[k], t, sizeof(t)), ok[k], st.median, mbps, err[k],
                          last_error[k], fail_us[k]);
                rc = 1;
            } else {
                sipb_emit("size=%u target=%d title=%s ok=%u median_us=%.2f mb_per_s=%.2f", size, k,
                          narrow(o->titles[k], t, sizeof(t)), ok[k], st.median, mbps);
            }
        }
    }
    if (f != INVALID_HANDLE_VALUE)
        CloseHandle(f);
    free(data);
    free(samples);
    sipb_emit("status=%s", rc ? "partial" : "ok");
    return rc;
}

static int run_ping(const opts *o)
{
    double *v = malloc(sizeof(double) * o->n);
    HWND target;

    if (o->ntitles != 1 || !v)
        return usage("ping [--n N] TITLE");
    target = find_window(o->titles[0]);
    if (!target) {
        sipb_emit("error=notfound");
        return 1;
    }
    for (uint32_t i = 0; i < 100; i++)
        SendMessageW(target, WM_NULL, 0, 0);
    for (uint32_t i = 0; i < o->n; i++) {
        int64_t t0 = ticks();
        SendMessageW(target, WM_NULL, 0, 0);
        v[i] = (double)(ticks() - t0) * g_us_per_tick;
    }
    stats s = summarize(v, o->n);
    sipb_emit("n=%u median_us=%.2f p99_us=%.2f mean_us=%.2f", o->n, s.median, s.p99, s.mean);
    free(v);
    sipb_emit("status=ok");
    return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

typedef LPWSTR *(WINAPI *argv_fn)(LPCWSTR, int *);

int main(void)
{
    HMODULE shell32 = LoadLibraryW(L"shell32.dll");
    FARPROC proc = shell32 ? GetProcAddress(shell32, "CommandLineToArgvW") : NULL;
    static opts o;
    WCHAR **argv;
    int argc = 0;

    clock_init();
    if (!proc)
        return usage("CommandLineToArgvW unavailable");
    argv = ((argv_fn)(void (*)(void))proc)(GetCommandLineW(), &argc);
    if (!argv || argc < 2)
        return usage("sipc-bench calls|throughput|copy-recv|copy-send ...");
    bool sizes = !wcscmp(argv[1], L"copy-send");
    if (parse(argc, argv, 2, &o, sizes) < 0)
        return usage("bad options (see the comment at the top of sipc-bench.c)");
    if (!wcscmp(argv[1], L"calls"))
        return run_calls(&o);
    if (!wcscmp(argv[1], L"throughput"))
        return run_throughput(&o);
    if (!wcscmp(argv[1], L"ping"))
        return run_ping(&o);
    if (!wcscmp(argv[1], L"copy-recv"))
        return run_copy_recv(&o);
    if (sizes)
        return run_copy_send(&o);
    return usage("unknown command");
}
