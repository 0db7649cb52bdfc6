/*
 * log.c - the shim's log: one line per event on the standard error handle,
 * written with WriteFile (never the C runtime's streams). The level comes
 * from the environment variable SIPB_SHIM_LOG = error | info | debug
 * (default error).
 */
#include "shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void shim_log_init(struct shim_context *ctx)
{
    char value[16];
    DWORD n;

    ctx->hErr = GetStdHandle(STD_ERROR_HANDLE);
    ctx->pid = GetCurrentProcessId();
    ctx->logLevel = SHIM_LOG_ERROR;
    n = GetEnvironmentVariableA("SIPB_SHIM_LOG", value, sizeof value);
    if (n > 0 && n < sizeof value) {
        if (lstrcmpiA(value, "debug") == 0)
            ctx->logLevel = SHIM_LOG_DEBUG;
        else if (lstrcmpiA(value, "info") == 0)
            ctx->logLevel = SHIM_LOG_INFO;
    }
}

static void log_write(struct shim_context *ctx, const char *text, size_t len)
{
    DWORD written;

    if (ctx->hErr == NULL || ctx->hErr == INVALID_HANDLE_VALUE)
        return;
    while (len > 0) {
        if (!WriteFile(ctx->hErr, text, (DWORD)len, &written, NULL) || written == 0)
            return; /* nowhere left to report it */
        text += written;
        len -= written;
    }
}

void shim_log(struct shim_context *ctx, enum shim_log_level level, const char *fmt, ...)
{
    static const char *const names[] = { "error", "info", "debug" };
    char line[1024];
    int head, body;
    va_list ap;

    if (level > ctx->logLevel)
        return;
    head = __mingw_snprintf(line, sizeof line, "sipc-shim[%lu] %s: ", (unsigned long)ctx->pid,
                            names[level]);
    if (head < 0 || (size_t)head >= sizeof line)
        return;
    va_start(ap, fmt);
    body = __mingw_vsnprintf(line + head, sizeof line - (size_t)head - 1, fmt, ap);
    va_end(ap);
    if (body < 0 || (size_t)(head + body) >= sizeof line - 1)
        body = (int)(sizeof line - (size_t)head - 2); /* truncated */
    line[head + body] = '\n';
    log_write(ctx, line, (size_t)(head + body + 1));
}

DWORD shim_log_win32(struct shim_context *ctx, const char *what, DWORD err)
{
    char text[256];
    DWORD n;

    n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0,
                       text, sizeof text, NULL);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
                     text[n - 1] == '.'))
        n--;
    text[n] = '\0';
    shim_log(ctx, SHIM_LOG_ERROR, "%s failed: error %lu%s%s%s", what, (unsigned long)err,
             n ? " (" : "", text, n ? ")" : "");
    return err;
}
