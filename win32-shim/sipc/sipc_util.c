/*
 * sipc_util.c - error records, logging, configuration defaults and the
 * library's window class.
 */
#include "sipc_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

static void record(sipc_error *err, sipc_status st, DWORD win32, const char *fmt,
                   va_list ap)
{
    if (!err)
        return;
    err->status = st;
    err->win32 = win32;
    vsnprintf(err->what, sizeof(err->what), fmt, ap);
    if (win32) {
        size_t n = strlen(err->what);
        snprintf(err->what + n, sizeof(err->what) - n, " failed (GetLastError=%lu)",
                 (unsigned long)win32);
    }
}

sipc_status sipc__fail(sipc_error *err, sipc_status st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    record(err, st, 0, fmt, ap);
    va_end(ap);
    return st;
}

sipc_status sipc__fail_win32(sipc_error *err, const char *fmt, ...)
{
    DWORD e = GetLastError();
    va_list ap;

    va_start(ap, fmt);
    record(err, SIPC_E_WIN32, e ? e : ERROR_GEN_FAILURE, fmt, ap);
    va_end(ap);
    return SIPC_E_WIN32;
}

void sipc__log(const sipc_config *cfg, sipc_log_level lvl, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (!cfg || !cfg->log)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    cfg->log(cfg->log_ctx, lvl, buf);
}

void sipc__check(const sipc_config *cfg, BOOL ok, const char *what)
{
    if (!ok)
        sipc__log(cfg, SIPC_LOG_WARN, "%s failed (GetLastError=%lu)", what,
                  (unsigned long)GetLastError());
}

sipc_status sipc__config_norm(const sipc_config *in, sipc_config *out, WCHAR *fmt_copy)
{
    uint64_t cap;

    if (!in || !out || !fmt_copy)
        return SIPC_E_INVALID_ARG;
    *out = *in;
    if (out->version == 0)
        out->version = SIPC_V2;
    if (out->version != SIPC_V1 && out->version != SIPC_V2)
        return SIPC_E_INVALID_ARG;
    if (out->buf_size == 0)
        out->buf_size = SIPC_DEFAULT_BUF_SIZE;
    if (out->stack_size == 0)
        out->stack_size = SIPC_DEFAULT_STACK_SIZE;
    if (out->buf_size < 32)
        return SIPC_E_INVALID_ARG;
    cap = out->version == SIPC_V2 ? (uint64_t)out->buf_size * out->stack_size
                                  : out->buf_size;
    if (cap > 0x40000000u)
        return SIPC_E_INVALID_ARG;
    if (!sipc_name_format_valid(out->name_format))
        return SIPC_E_INVALID_ARG;
    wcscpy(fmt_copy, out->name_format);
    out->name_format = fmt_copy;
    if (out->handler_count && !out->handlers)
        return SIPC_E_INVALID_ARG;
    for (size_t i = 0; i < out->handler_count; i++)
        if (!out->handlers[i].fn || !out->handlers[i].handle)
            return SIPC_E_INVALID_ARG;
    if (out->wait_mode != SIPC_WAIT_SPIN && out->wait_mode != SIPC_WAIT_BLOCK)
        return SIPC_E_INVALID_ARG;
    return SIPC_OK;
}

/* ---- windows -------------------------------------------------------------- */
static const WCHAR k_class[] = L"sipc_window";

static LRESULT CALLBACK sipc_wndproc(HWND h, UINT m, WPARAM w, LPARAM l)
{
    sipc_wndtag *tag = (sipc_wndtag *)GetWindowLongPtrW(h, GWLP_USERDATA);

    if (tag && tag->magic == SIPC__TAG_MAGIC) {
        BOOL handled = FALSE;
        LRESULT r = 0;
        /* The handlers may free the tag's owner: do not touch `tag` after. */
        if (tag->kind == SIPC__WND_SERVER)
            r = sipc_server_on_message(tag->owner, h, m, w, l, &handled);
        else if (tag->kind == SIPC__WND_CONN)
            r = sipc_conn_on_message(tag->owner, h, m, w, l, &handled);
        if (handled)
            return r;
    }
    return DefWindowProcW(h, m, w, l);
}

typedef BOOL(WINAPI *change_filter_ex_fn)(HWND, UINT, DWORD, void *);

void sipc__allow_call_message(HWND hwnd)
{
    HMODULE user32 = GetModuleHandleW(L"user32.dll");
    FARPROC p = user32 ? GetProcAddress(user32, "ChangeWindowMessageFilterEx") : NULL;

    /* Windows 7+: let lower-integrity peers send UM_CALL_FUN (spec 8).
     * Wine implements it as a stub that returns TRUE. */
    if (p) {
        change_filter_ex_fn fn = (change_filter_ex_fn)(void (*)(void))p;
        fn(hwnd, SIPC_UM_CALL_FUN, 1 /* MSGFLT_ALLOW */, NULL);
        fn(hwnd, SIPC_UM_RECONN, 1 /* MSGFLT_ALLOW */, NULL);
    }
}

HWND sipc__create_window(sipc_wndtag *tag, const WCHAR *title, bool top_level,
                         sipc_error *err)
{
    HINSTANCE inst = GetModuleHandleW(NULL);
    WNDCLASSEXW wc;
    HWND h;

    memset(&wc, 0, sizeof(wc));
    wc.cbSize = sizeof(wc);
    wc.lpfnWndProc = sipc_wndproc;
    wc.hInstance = inst;
    wc.lpszClassName = k_class;
    if (!RegisterClassExW(&wc) && GetLastError() != ERROR_CLASS_ALREADY_EXISTS) {
        sipc__fail_win32(err, "RegisterClassEx(sipc_window)");
        return NULL;
    }
    h = CreateWindowExW(top_level ? WS_EX_NOACTIVATE | WS_EX_TOOLWINDOW : 0, k_class,
                        title, top_level ? WS_POPUP : 0, 0, 0, 0, 0,
                        top_level ? NULL : HWND_MESSAGE, NULL, inst, NULL);
    if (!h) {
        sipc__fail_win32(err, "CreateWindowEx(%ls)", title ? title : L"");
        return NULL;
    }
    SetWindowLongPtrW(h, GWLP_USERDATA, (LONG_PTR)tag);
    sipc__allow_call_message(h);
    return h;
}

HWND sipc_find_server(const WCHAR *title)
{
    return title ? FindWindowW(NULL, title) : NULL;
}
