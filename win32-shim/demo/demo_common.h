/*
 * demo_common.h - small helpers shared by the two demo programs
 * (sipc-demo-client.c, sipc-demo-server.c): UTF-8 line output on stdout,
 * a millisecond clock, quoting of UTF-16 text, argument parsing.
 *
 * Everything is static: each demo program is one translation unit.
 */
#ifndef SIPC_DEMO_COMMON_H
#define SIPC_DEMO_COMMON_H

#include "sipc.h"
#include "sipb_tool.h" /* sipb_now_ms: the clock; sipb_format_line */

#include <windows.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* ---- UTF-8 text ----------------------------------------------------------- */

/* UTF-16 (units, or NUL-terminated when units < 0) -> UTF-8 into buf, always
 * NUL-terminated (empty on failure). */
static inline const char *demo_utf8(const WCHAR *w, int units, char *buf, int size)
{
    int n = 0;

    if (w && units != 0)
        n = WideCharToMultiByte(CP_UTF8, 0, w, units, buf, size - 1, NULL, NULL);
    if (n > 0 && units < 0)
        n--; /* the converted NUL */
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* Appends `w` as a double-quoted UTF-8 string to buf at *pos: backslash,
 * double quote and control characters are escaped (\\ \" \n \r \t \uXXXX),
 * everything else is passed through as UTF-8. */
static inline void demo_quote(char *buf, size_t size, size_t *pos, const WCHAR *w, uint32_t units)
{
    size_t o = *pos;

    if (o + 1 >= size)
        return;
    buf[o++] = '"';
    for (uint32_t i = 0; i < units && o + 16 < size; i++) {
        WCHAR c = w[i];
        if (c == L'"' || c == L'\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c == L'\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c == L'\r') {
            buf[o++] = '\\';
            buf[o++] = 'r';
        } else if (c == L'\t') {
            buf[o++] = '\\';
            buf[o++] = 't';
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, size - o, "\\u%04x", (unsigned)c);
        } else {
            /* a surrogate pair is converted as one character */
            int len = (c >= 0xD800 && c <= 0xDBFF && i + 1 < units &&
                       w[i + 1] >= 0xDC00 && w[i + 1] <= 0xDFFF) ? 2 : 1;
            int n = WideCharToMultiByte(CP_UTF8, 0, w + i, len, buf + o, (int)(size - o - 2),
                                        NULL, NULL);
            if (n > 0)
                o += (size_t)n;
            i += (uint32_t)(len - 1);
        }
    }
    if (o + 1 < size)
        buf[o++] = '"';
    buf[o] = 0;
    *pos = o;
}

/* ---- stdout --------------------------------------------------------------- */

/* Writes UTF-8 bytes to stdout at once: WriteConsoleW when stdout is a console
 * (so the text shows correctly whatever the console code page), otherwise
 * WriteFile of the UTF-8 bytes (no CRLF translation, nothing buffered). */
static inline void demo_write_utf8(const char *s, size_t n)
{
    HANDLE h = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD mode, done;

    if (h == NULL || h == INVALID_HANDLE_VALUE)
        return;
    if (GetConsoleMode(h, &mode)) {
        static WCHAR wide[8192];
        int units = MultiByteToWideChar(CP_UTF8, 0, s, (int)n, wide, 8192);
        if (units > 0 && WriteConsoleW(h, wide, (DWORD)units, &done, NULL))
            return;
    }
    while (n > 0) {
        if (!WriteFile(h, s, (DWORD)n, &done, NULL) || done == 0)
            return;
        s += done;
        n -= done;
    }
}

/* One output line (printf format, UTF-8 arguments), newline added. */
static inline void demo_emit(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
static inline void demo_emit(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    n = sipb_format_line(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        demo_write_utf8(buf, n);
}

/* Library log lines go to stderr, prefixed with the program name. */
static inline void demo_log_sink(void *ctx, sipc_log_level level, const char *msg)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char buf[800];
    DWORD done;
    int n = snprintf(buf, sizeof(buf), "%s: sipc-%s: %s\n", (const char *)ctx,
                     names[(unsigned)level & 3u], msg);

    if (n > 0)
        WriteFile(GetStdHandle(STD_ERROR_HANDLE), buf,
                  (DWORD)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1), &done, NULL);
}

/* ---- arguments ------------------------------------------------------------- */

typedef LPWSTR *(WINAPI *demo_argv_fn)(LPCWSTR, int *);

/* The command line as UTF-16 argv (CommandLineToArgvW, loaded at run time so
 * the Makefile's link line needs no -lshell32). NULL on failure. */
static inline WCHAR **demo_argv(int *argc)
{
    HMODULE shell32 = LoadLibraryW(L"shell32.dll");
    FARPROC proc = shell32 ? GetProcAddress(shell32, "CommandLineToArgvW") : NULL;

    *argc = 0;
    if (!proc)
        return NULL;
    return ((demo_argv_fn)(void (*)(void))proc)(GetCommandLineW(), argc);
}

static inline bool demo_parse_i32(const WCHAR *s, int32_t *out)
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

static inline bool demo_parse_u32(const WCHAR *s, uint32_t *out)
{
    WCHAR *end = NULL;
    unsigned long long v;

    if (!s || !*s || *s == L'-')
        return false;
    v = wcstoull(s, &end, 10);
    if (*end || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

#endif /* SIPC_DEMO_COMMON_H */
