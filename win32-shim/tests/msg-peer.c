/*
 * msg-peer.c - a raw-message Windows test peer for the sipc-shim tests.
 *
 * Prints one `key=value ...` line per result on stdout (WriteFile, no CRT
 * buffering). Numbers on the command line are decimal or 0x-hex, and may
 * be negative.
 *
 *   msg-peer send <title> <msg> <wparam> <lparam>
 *       FindWindowW(NULL, title), SendMessageW; prints `lresult=N`.
 *   msg-peer post <title> <msg> <wparam> <lparam>
 *       PostMessageW; prints `ok=0|1 error=N`.
 *   msg-peer copydata <title> <dwData> <size> [seed]
 *       WM_COPYDATA with `size` bytes, byte i = (i*31 + seed) & 0xFF;
 *       prints `lresult=N fnv1a=<hex>` (FNV-1a 64 of the bytes sent).
 *   msg-peer find <title>
 *       prints `hwnd=0x...` (0x0 when absent).
 *   msg-peer serve <title> <seconds> [msgonly|toplevel]
 *       Creates a window titled <title> (top-level invisible WS_POPUP when
 *       possible, else message-only; the optional word forces one), prints
 *       `ready hwnd=0x...`, and until <seconds> pass or WM_CLOSE:
 *         sent 0x8001 (w, l)   -> lresult w + l, prints `sent msg=.. w=.. l=.. lresult=..`
 *         sent 0x8003 (target, n) -> if n > 0 SendMessageW(target, 0x8003,
 *                                 own hwnd, n - 1) and returns its result + 1;
 *                                 else returns 1 (for nesting tests)
 *         sent 0x8004 (ms, -)  -> sleeps ms milliseconds, prints `slept ms=..`,
 *                                 returns 4 (for timeout tests)
 *         WM_COPYDATA          -> prints `copydata dwData=.. size=.. fnv1a=..`,
 *                                 lresult = size
 *         posted messages      -> prints `posted msg=.. w=.. l=..`
 *       prints `exit reason=timeout|close` at the end.
 *
 * Exit code 0 on success, 1 on usage errors, 2 when the window is not found.
 */
#include <windows.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_ADD 0x8001u
#define MSG_NEST 0x8003u
#define MSG_SLEEP 0x8004u

static void out(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));

static void out(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;
    DWORD written;

    va_start(ap, fmt);
    n = __mingw_vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), line, (DWORD)n, &written, NULL);
}

static int parse_num(const WCHAR *s, int64_t *v)
{
    WCHAR *end;
    int neg = 0;
    uint64_t u;

    if (*s == L'-') {
        neg = 1;
        s++;
    }
    if (*s == 0)
        return 0;
    u = _wcstoui64(s, &end, 0);
    if (*end != 0)
        return 0;
    *v = neg ? -(int64_t)u : (int64_t)u;
    return 1;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static HWND find_target(const WCHAR *title)
{
    HWND hwnd = FindWindowW(NULL, title);

    if (hwnd == NULL)
        hwnd = FindWindowExW(HWND_MESSAGE, NULL, NULL, title);
    if (hwnd == NULL)
        out("error=notfound lastError=%lu", (unsigned long)GetLastError());
    return hwnd;
}

/* ------------------------------------------------------------------ serve */

static LRESULT CALLBACK serve_proc(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam)
{
    switch (msg) {
    case MSG_ADD: {
        LRESULT r = (LRESULT)(wParam + (WPARAM)lParam);
        out("sent msg=0x%x w=%llu l=%lld lresult=%lld", msg, (unsigned long long)wParam,
            (long long)lParam, (long long)r);
        return r;
    }
    case MSG_NEST: {
        LRESULT r = 1;
        if (lParam > 0 && IsWindow((HWND)wParam))
            r = SendMessageW((HWND)wParam, MSG_NEST, (WPARAM)hwnd, lParam - 1) + 1;
        return r;
    }
    case MSG_SLEEP:
        Sleep((DWORD)wParam);
        out("slept ms=%llu", (unsigned long long)wParam);
        return 4;
    case WM_COPYDATA: {
        const COPYDATASTRUCT *cds = (const COPYDATASTRUCT *)lParam;
        if (cds == NULL)
            return 0;
        out("copydata dwData=%llu size=%lu fnv1a=%016llx", (unsigned long long)cds->dwData,
            (unsigned long)cds->cbData,
            (unsigned long long)fnv1a(cds->lpData, cds->lpData ? cds->cbData : 0));
        return (LRESULT)cds->cbData;
    }
    case WM_CLOSE:
        PostQuitMessage(0);
        return 0;
    }
    return DefWindowProcW(hwnd, msg, wParam, lParam);
}

static int serve(const WCHAR *title, int64_t seconds, const WCHAR *mode)
{
    WNDCLASSW wc;
    HWND hwnd = NULL;
    MSG msg;
    ULONGLONG deadline;
    ULONGLONG now;
    DWORD rc;
    int quit = 0;

    memset(&wc, 0, sizeof wc);
    wc.lpfnWndProc = serve_proc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = L"SipbMsgPeer";
    if (!RegisterClassW(&wc)) {
        out("error=RegisterClassW lastError=%lu", (unsigned long)GetLastError());
        return 1;
    }
    if (mode == NULL || lstrcmpiW(mode, L"toplevel") == 0)
        hwnd = CreateWindowExW(WS_EX_TOOLWINDOW | WS_EX_NOACTIVATE, wc.lpszClassName, title,
                               WS_POPUP, 0, 0, 0, 0, NULL, NULL, wc.hInstance, NULL);
    if (hwnd == NULL && (mode == NULL || lstrcmpiW(mode, L"msgonly") == 0))
        hwnd = CreateWindowExW(0, wc.lpszClassName, title, 0, 0, 0, 0, 0, HWND_MESSAGE, NULL,
                               wc.hInstance, NULL);
    if (hwnd == NULL) {
        out("error=CreateWindowExW lastError=%lu", (unsigned long)GetLastError());
        return 1;
    }
    out("ready hwnd=0x%llx pid=%lu tid=%lu", (unsigned long long)(uintptr_t)hwnd,
        (unsigned long)GetCurrentProcessId(), (unsigned long)GetCurrentThreadId());

    deadline = GetTickCount64() + (ULONGLONG)(seconds > 0 ? seconds : 0) * 1000;
    while (!quit) {
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE)) {
            if (msg.message == WM_QUIT) {
                quit = 1;
                break;
            }
            out("posted msg=0x%x w=%llu l=%lld", msg.message, (unsigned long long)msg.wParam,
                (long long)msg.lParam);
            DispatchMessageW(&msg);
        }
        if (quit)
            break;
        now = GetTickCount64();
        if (now >= deadline) {
            out("exit reason=timeout");
            DestroyWindow(hwnd);
            return 0;
        }
        rc = MsgWaitForMultipleObjects(0, NULL, FALSE, (DWORD)(deadline - now), QS_ALLINPUT);
        if (rc == WAIT_FAILED) {
            out("error=MsgWaitForMultipleObjects lastError=%lu", (unsigned long)GetLastError());
            return 1;
        }
    }
    out("exit reason=close");
    DestroyWindow(hwnd);
    return 0;
}

/* ------------------------------------------------------------------ main */

/* Splits GetCommandLineW() into arguments with the usual Windows rules
 * (double quotes group, 2n backslashes + quote = n backslashes + toggle,
 * 2n+1 backslashes + quote = n backslashes + literal quote). shell32's
 * CommandLineToArgvW is not linked into the test programs. */
static WCHAR **split_command_line(int *argcOut)
{
    const WCHAR *s = GetCommandLineW();
    size_t len = (size_t)lstrlenW(s);
    WCHAR *buf = malloc((len + 1) * sizeof(WCHAR));
    WCHAR **argv = malloc((len / 2 + 2) * sizeof(WCHAR *));
    WCHAR *o = buf;
    int argc = 0, quoted;
    size_t bs;

    if (buf == NULL || argv == NULL)
        return NULL;
    for (;;) {
        while (*s == L' ' || *s == L'\t')
            s++;
        if (*s == 0)
            break;
        argv[argc++] = o;
        quoted = 0;
        while (*s && (quoted || (*s != L' ' && *s != L'\t'))) {
            if (*s == L'\\') {
                for (bs = 0; *s == L'\\'; s++)
                    bs++;
                if (*s == L'"') {
                    for (; bs >= 2; bs -= 2)
                        *o++ = L'\\';
                    if (bs) {
                        *o++ = L'"';
                        s++;
                    }
                } else {
                    for (; bs > 0; bs--)
                        *o++ = L'\\';
                }
            } else if (*s == L'"') {
                quoted = !quoted;
                s++;
            } else {
                *o++ = *s++;
            }
        }
        *o++ = 0;
    }
    argv[argc] = NULL;
    *argcOut = argc;
    return argv;
}

static int usage(void)
{
    out("error=usage text=\"msg-peer send|post <title> <msg> <w> <l> | copydata <title> <dwData> "
        "<size> [seed] | find <title> | serve <title> <seconds> [msgonly|toplevel]\"");
    return 1;
}

int main(void)
{
    int argc = 0;
    WCHAR **argv = split_command_line(&argc);
    int64_t a, b, c, seed = 0;
    HWND hwnd;

    if (argv == NULL || argc < 3)
        return usage();

    if (lstrcmpW(argv[1], L"find") == 0) {
        hwnd = FindWindowW(NULL, argv[2]);
        if (hwnd == NULL)
            hwnd = FindWindowExW(HWND_MESSAGE, NULL, NULL, argv[2]);
        out("hwnd=0x%llx", (unsigned long long)(uintptr_t)hwnd);
        return hwnd ? 0 : 2;
    }
    if (lstrcmpW(argv[1], L"send") == 0 || lstrcmpW(argv[1], L"post") == 0) {
        if (argc != 6 || !parse_num(argv[3], &a) || !parse_num(argv[4], &b) ||
            !parse_num(argv[5], &c))
            return usage();
        hwnd = find_target(argv[2]);
        if (hwnd == NULL)
            return 2;
        if (argv[1][0] == L's') {
            LRESULT r;
            SetLastError(0);
            r = SendMessageW(hwnd, (UINT)a, (WPARAM)b, (LPARAM)c);
            out("lresult=%lld lastError=%lu", (long long)r, (unsigned long)GetLastError());
        } else {
            BOOL ok = PostMessageW(hwnd, (UINT)a, (WPARAM)b, (LPARAM)c);
            out("ok=%d error=%lu", ok ? 1 : 0, ok ? 0ul : (unsigned long)GetLastError());
        }
        return 0;
    }
    if (lstrcmpW(argv[1], L"copydata") == 0) {
        COPYDATASTRUCT cds;
        uint8_t *data;
        uint64_t i, h;
        LRESULT r;

        if ((argc != 5 && argc != 6) || !parse_num(argv[3], &a) || !parse_num(argv[4], &b) ||
            b < 0 || b > 64 * 1024 * 1024 || (argc == 6 && !parse_num(argv[5], &seed)))
            return usage();
        hwnd = find_target(argv[2]);
        if (hwnd == NULL)
            return 2;
        data = malloc(b ? (size_t)b : 1);
        if (data == NULL) {
            out("error=malloc");
            return 1;
        }
        for (i = 0; i < (uint64_t)b; i++)
            data[i] = (uint8_t)((i * 31 + (uint64_t)seed) & 0xFF);
        h = fnv1a(data, (size_t)b);
        cds.dwData = (ULONG_PTR)a;
        cds.cbData = (DWORD)b;
        cds.lpData = b ? data : NULL;
        SetLastError(0);
        r = SendMessageW(hwnd, WM_COPYDATA, 0, (LPARAM)&cds);
        out("lresult=%lld fnv1a=%016llx lastError=%lu", (long long)r, (unsigned long long)h,
            (unsigned long)GetLastError());
        free(data);
        return 0;
    }
    if (lstrcmpW(argv[1], L"serve") == 0) {
        if ((argc != 4 && argc != 5) || !parse_num(argv[3], &a))
            return usage();
        return serve(argv[2], a, argc == 5 ? argv[4] : NULL);
    }
    return usage();
}
