/*
 * sipb_out.h - what the Windows test, bench and demo programs share for their
 * output: sipb_emit writes one `key=value` line on standard output, formatted,
 * with its newline, in one WriteFile (no C runtime buffering, no CRLF
 * translation), so the reading test sees whole lines as soon as they are
 * written; a line is cut at 4 KiB. sipb_now_ms is QueryPerformanceCounter in
 * milliseconds (one clock for every process of the machine).
 */
#ifndef SIPB_OUT_H
#define SIPB_OUT_H

#include <windows.h>
#include <stdarg.h>
#include <stdio.h>

static inline void sipb_emit(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
static inline void sipb_emit(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    int n;
    DWORD done;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
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

#endif /* SIPB_OUT_H */
