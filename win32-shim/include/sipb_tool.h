/*
 * sipb_tool.h - what the Windows test, bench and demo programs share (header-only).
 * sipb_format_line formats one output line with its newline (cut to the
 * buffer); sipb_emit writes one `key=value` line on standard output, formatted,
 * with its newline, in one WriteFile (no C runtime buffering, no CRLF
 * translation), so the reading test sees whole lines as soon as they are
 * written; a line is cut at 4 KiB. sipb_now_ms is QueryPerformanceCounter in
 * milliseconds (one clock for every process of the machine). sipb_parse_u32
 * reads a whole decimal argument (nothing after it) that fits 32 bits.
 */
#ifndef SIPB_TOOL_H
#define SIPB_TOOL_H

#include <windows.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <wchar.h>

/* Formats one line into buf (vsnprintf), cut to size - 2 bytes, and adds
 * the newline. Returns its length with the newline, or 0 on a format error. */
static inline size_t sipb_format_line(char *buf, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, size - 1, fmt, ap);

    if (n < 0)
        return 0;
    if ((size_t)n > size - 2)
        n = (int)(size - 2);
    buf[n++] = '\n';
    return (size_t)n;
}

static inline void sipb_emit(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
static inline void sipb_emit(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    size_t n;
    DWORD done;

    va_start(ap, fmt);
    n = sipb_format_line(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), buf, (DWORD)n, &done, NULL);
}

static inline double sipb_now_ms(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER t;

    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&t);
    return (double)t.QuadPart * 1000.0 / (double)freq.QuadPart;
}

static inline bool sipb_parse_u32(const WCHAR *s, uint32_t *out)
{
    WCHAR *end = NULL;
    unsigned long long v;

    if (!s || !*s)
        return false;
    v = wcstoull(s, &end, 10);
    if (*end || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

#endif /* SIPB_TOOL_H */
