/*
 * window.c - the shim's windows: class registration (once per class name,
 * always with shim_window_proc), the window table with each window's list of
 * relayed messages, CREATE_WINDOW / DESTROY_WINDOW, and the window procedure
 * that relays messages to the host.
 *
 * The window procedure never keeps a pointer into the window table across a
 * wait: a nested request may create or destroy windows meanwhile. Windows
 * that die (DESTROY_WINDOW, or DefWindowProc handling WM_CLOSE) are dropped
 * from the table lazily, when they are looked up or a window is created.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COPYDATA_BYTES (SIPB_MAX_PAYLOAD - 28u) /* EV_COPYDATA's fixed fields */

int window_init(struct shim_context *ctx)
{
    HMODULE user32 = GetModuleHandleW(L"user32.dll");

    ctx->hInstance = GetModuleHandleW(NULL);
    if (user32 == NULL) {
        shim_log_win32(ctx, "GetModuleHandleW(user32.dll)", GetLastError());
    } else {
        ctx->changeFilter =
            (change_filter_fn)(void (*)(void))GetProcAddress(user32, "ChangeWindowMessageFilterEx");
        if (ctx->changeFilter == NULL)
            shim_log_win32(ctx, "GetProcAddress(ChangeWindowMessageFilterEx)", GetLastError());
    }
    return 1;
}

struct shim_window *window_find(struct shim_context *ctx, HWND hwnd)
{
    size_t i;

    for (i = 0; i < ctx->nwindows; i++)
        if (ctx->windows[i].hwnd == hwnd)
            return &ctx->windows[i];
    return NULL;
}

static void window_forget(struct shim_context *ctx, HWND hwnd);

/* Like window_find, but a window that no longer exists is dropped from
 * the table (windows can die without us: DefWindowProc's WM_CLOSE). */
static struct shim_window *window_find_live(struct shim_context *ctx, HWND hwnd)
{
    struct shim_window *w = window_find(ctx, hwnd);

    if (w && !IsWindow(hwnd)) {
        LOG_INFO(ctx, "window %p is gone; forgetting it", (void *)hwnd);
        window_forget(ctx, hwnd);
        return NULL;
    }
    return w;
}

static void windows_prune(struct shim_context *ctx)
{
    size_t i = 0;

    while (i < ctx->nwindows) {
        if (window_find_live(ctx, ctx->windows[i].hwnd))
            i++;
    }
}

static void window_forget(struct shim_context *ctx, HWND hwnd)
{
    size_t i;

    for (i = 0; i < ctx->nwindows; i++) {
        if (ctx->windows[i].hwnd == hwnd) {
            free(ctx->windows[i].msgs);
            ctx->windows[i] = ctx->windows[ctx->nwindows - 1];
            ctx->nwindows--;
            return;
        }
    }
}

static int window_relays(struct shim_context *ctx, HWND hwnd, UINT msg)
{
    struct shim_window *w = window_find(ctx, hwnd);
    uint32_t i;

    if (w == NULL)
        return 0;
    for (i = 0; i < w->nmsgs; i++)
        if (w->msgs[i] == msg)
            return 1;
    return 0;
}

/* --------------------------------------------------- window procedure */

static LRESULT relay_copydata(struct shim_context *ctx, HWND hwnd, WPARAM wParam,
                              const COPYDATASTRUCT *cds)
{
    struct builder b;
    uint32_t size;
    uint8_t *upload;

    if (cds == NULL) {
        LOG_ERROR(ctx, "WM_COPYDATA to %p without a COPYDATASTRUCT; answering 0", (void *)hwnd);
        return 0;
    }
    if (cds->cbData > MAX_COPYDATA_BYTES || (cds->cbData > 0 && cds->lpData == NULL)) {
        LOG_ERROR(ctx, "WM_COPYDATA to %p with %lu bytes cannot be relayed; answering 0",
                  (void *)hwnd, (unsigned long)cds->cbData);
        return 0;
    }
    size = (uint32_t)cds->cbData;
    if (ctx->quit || ctx->hostGone)
        return 0;
    if (!builder_init(&b, 28)) {
        LOG_ERROR(ctx, "out of memory relaying WM_COPYDATA; answering 0");
        return 0;
    }
    put_u64(&b, (uint64_t)(uintptr_t)hwnd);
    put_u64(&b, (uint64_t)wParam);
    put_u64(&b, (uint64_t)cds->dwData);
    put_u32(&b, size);
    /* Large bytes go into the upload area when it is free: one copy into memory that stays
     * mapped (and faulted in) on both sides, and a small frame on the pipe, instead of a
     * megabyte through the pipe that the host must drain while we wait in WriteFile. */
    upload = upload_claim(ctx, size);
    if (upload != NULL) {
        memcpy(upload, cds->lpData, size);
        LOG_DEBUG(ctx, "WM_COPYDATA of %u bytes to %p: bytes in the upload area", size, (void *)hwnd);
        return (LRESULT)shim_event_call(ctx, &b, SIPB_T_EV_COPYDATA_UPLOADED);
    }
    LOG_DEBUG(ctx, "WM_COPYDATA of %u bytes to %p: bytes through the pipe", size, (void *)hwnd);
    /* Otherwise the bytes go to the pipe straight from Wine's buffer (valid until we return, and
     * the write is done before we wait): no copy, no fresh megabytes to fault in. */
    return (LRESULT)shim_event_call_tail(ctx, &b, SIPB_T_EV_COPYDATA, cds->lpData, size);
}

static LRESULT relay_message(struct shim_context *ctx, HWND hwnd, UINT msg, WPARAM wParam,
                             LPARAM lParam, int posted)
{
    struct builder b;

    builder_init(&b, 32);
    put_u64(&b, (uint64_t)(uintptr_t)hwnd);
    put_u32(&b, msg);
    put_u32(&b, posted ? SIPB_MESSAGE_POSTED : SIPB_MESSAGE_SENT);
    put_u64(&b, (uint64_t)wParam);
    put_u64(&b, (uint64_t)lParam);
    if (posted) {
        wire_send(ctx, &b, SIPB_T_EV_MESSAGE, 0);
        return 0;
    }
    return (LRESULT)shim_event_call(ctx, &b, SIPB_T_EV_MESSAGE);
}

static LRESULT CALLBACK shim_window_proc(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam)
{
    struct shim_context *ctx;
    DWORD how;
    int posted;

    /* The context is attached by req_create_window once CreateWindowExW has
     * returned, never from a message: a window created while we are inside a
     * sent message (a SIPC connect) sees InSendMessageEx() == ISMEX_SEND even
     * for its own WM_NCCREATE, and a forged WM_NCCREATE must not attach one.
     * Messages before that point (creation messages) need no relaying. */
    ctx = (struct shim_context *)GetWindowLongPtrW(hwnd, GWLP_USERDATA);
    /* Destroyed windows leave the table lazily (window_find_live), so a
     * forged WM_NCDESTROY cannot make the shim forget a live window. */
    if (ctx == NULL || !window_relays(ctx, hwnd, msg))
        return DefWindowProcW(hwnd, msg, wParam, lParam);

    /* Sent (by another thread or process) unless InSendMessageEx says
     * NOSEND; a NOSEND message is posted only when our own loop is
     * dispatching exactly it, otherwise it is a direct same-thread send. */
    how = InSendMessageEx(NULL);
    posted = 0;
    if ((how & (ISMEX_SEND | ISMEX_NOTIFY | ISMEX_CALLBACK)) == 0 && ctx->postedValid &&
        ctx->posted.hwnd == hwnd && ctx->posted.message == msg && ctx->posted.wParam == wParam &&
        ctx->posted.lParam == lParam) {
        posted = 1;
        ctx->postedValid = 0;
    }
    if (ctx->quit) /* leaving: every pending and new send is answered 0 */
        return 0;
    LOG_DEBUG(ctx, "relaying %s message 0x%04x to %p (ismex 0x%lx)", posted ? "posted" : "sent",
              msg, (void *)hwnd, (unsigned long)how);
    if (msg == WM_COPYDATA) {
        if (posted) {
            LOG_ERROR(ctx, "a posted WM_COPYDATA cannot be relayed; ignored");
            return 0;
        }
        return relay_copydata(ctx, hwnd, wParam, (const COPYDATASTRUCT *)lParam);
    }
    return relay_message(ctx, hwnd, msg, wParam, lParam, posted);
}

/* ------------------------------------------------------ class handling */

static DWORD ensure_class(struct shim_context *ctx, const WCHAR *name)
{
    WNDCLASSEXW wc;
    WCHAR **grown;
    size_t i, n;

    for (i = 0; i < ctx->nclasses; i++)
        if (lstrcmpiW(ctx->classes[i], name) == 0)
            return 0;
    memset(&wc, 0, sizeof wc);
    wc.cbSize = sizeof wc;
    wc.lpfnWndProc = shim_window_proc;
    wc.hInstance = ctx->hInstance;
    wc.lpszClassName = name;
    if (RegisterClassExW(&wc) == 0)
        return shim_log_win32(ctx, "RegisterClassExW", GetLastError());
    grown = realloc(ctx->classes, (ctx->nclasses + 1) * sizeof *grown);
    n = (size_t)lstrlenW(name);
    if (grown == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    ctx->classes = grown;
    ctx->classes[ctx->nclasses] = malloc((n + 1) * sizeof(WCHAR));
    if (ctx->classes[ctx->nclasses] == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    memcpy(ctx->classes[ctx->nclasses], name, (n + 1) * sizeof(WCHAR));
    ctx->nclasses++;
    return 0;
}

/* -------------------------------------------------------------- requests */

void req_create_window(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    uint32_t kind, n, i;
    uint32_t *msgs = NULL;
    struct str16 cls, title;
    WCHAR *clsName = NULL, *titleText = NULL;
    struct shim_window *grown;
    struct builder b;
    HWND hwnd;
    DWORD err;
    BOOL ok;

    kind = get_u32(p);
    n = get_u32(p);
    if (!p->bad && n > SIPB_MAX_WINDOW_MESSAGES) {
        /* Out of range: refused before the list is read. */
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CREATE_WINDOW: %u messages (at most %u)", n,
                     SIPB_MAX_WINDOW_MESSAGES);
        return;
    }
    if (!p->bad) {
        msgs = malloc((n ? n : 1) * sizeof *msgs);
        if (msgs == NULL) {
            reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
            return;
        }
        for (i = 0; i < n; i++)
            msgs[i] = get_u32(p);
    }
    cls = get_str16(p);
    title = get_str16(p);
    if (!request_parsed(ctx, p, "CREATE_WINDOW"))
        goto done;
    if (kind != SIPB_WINDOW_MESSAGE_ONLY && kind != SIPB_WINDOW_TOP_LEVEL) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CREATE_WINDOW: unknown kind %u", kind);
        goto done;
    }
    if (cls.count == 0 || cls.count > SHIM_MAX_CLASS_NAME) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CREATE_WINDOW: class name of %u units (1..%u)",
                     cls.count, SHIM_MAX_CLASS_NAME);
        goto done;
    }
    clsName = str16_dup(&cls);
    titleText = str16_dup(&title);
    if (clsName == NULL || titleText == NULL) {
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        goto done;
    }
    if (lstrlenW(clsName) != (int)cls.count || lstrlenW(titleText) != (int)title.count) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CREATE_WINDOW: class or title contains U+0000");
        goto done;
    }
    err = ensure_class(ctx, clsName);
    if (err) {
        reply_win32(ctx, tag, err, "RegisterClassExW");
        goto done;
    }
    windows_prune(ctx);
    if (ctx->nwindows == ctx->capWindows) {
        size_t cap = ctx->capWindows ? ctx->capWindows * 2 : 8;
        grown = realloc(ctx->windows, cap * sizeof *grown);
        if (grown == NULL) {
            reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "realloc");
            goto done;
        }
        ctx->windows = grown;
        ctx->capWindows = cap;
    }
    if (kind == SIPB_WINDOW_MESSAGE_ONLY)
        hwnd = CreateWindowExW(0, clsName, titleText, 0, 0, 0, 0, 0, HWND_MESSAGE, NULL,
                               ctx->hInstance, ctx);
    else
        hwnd = CreateWindowExW(WS_EX_TOOLWINDOW | WS_EX_NOACTIVATE, clsName, titleText, WS_POPUP,
                               0, 0, 0, 0, NULL, NULL, ctx->hInstance, ctx);
    if (hwnd == NULL) {
        err = shim_log_win32(ctx, "CreateWindowExW", GetLastError());
        reply_win32(ctx, tag, err, "CreateWindowExW");
        goto done;
    }
    SetLastError(0);
    if (SetWindowLongPtrW(hwnd, GWLP_USERDATA, (LONG_PTR)ctx) == 0 && GetLastError() != 0) {
        err = shim_log_win32(ctx, "SetWindowLongPtrW", GetLastError());
        DestroyWindow(hwnd);
        reply_win32(ctx, tag, err, "SetWindowLongPtrW");
        goto done;
    }
    ctx->windows[ctx->nwindows].hwnd = hwnd;
    ctx->windows[ctx->nwindows].nmsgs = n;
    ctx->windows[ctx->nwindows].msgs = msgs;
    ctx->nwindows++;
    LOG_INFO(ctx, "created window %p (%s), relaying %u messages", (void *)hwnd,
             kind == SIPB_WINDOW_MESSAGE_ONLY ? "message-only" : "top-level", n);

    builder_init(&b, 12 + 8 * (size_t)n);
    put_u64(&b, (uint64_t)(uintptr_t)hwnd);
    put_u32(&b, n);
    for (i = 0; i < n; i++) {
        if (ctx->changeFilter) {
            SetLastError(0);
            ok = ctx->changeFilter(hwnd, msgs[i], MSGFLT_ALLOW, NULL);
            err = ok ? 0 : GetLastError();
            if (!ok) {
                char what[64];
                __mingw_snprintf(what, sizeof what, "ChangeWindowMessageFilterEx(0x%x)", msgs[i]);
                shim_log_win32(ctx, what, err);
            }
        } else {
            ok = FALSE;
            err = ERROR_PROC_NOT_FOUND;
        }
        put_u32(&b, ok ? 1 : 0);
        put_u32(&b, err);
    }
    msgs = NULL; /* owned by the table now */
    reply_ok(ctx, tag, &b);
done:
    free(msgs);
    free(clsName);
    free(titleText);
}

void req_destroy_window(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    HWND hwnd = (HWND)(uintptr_t)get_u64(p);
    DWORD err;

    if (!request_parsed(ctx, p, "DESTROY_WINDOW"))
        return;
    if (hwnd == NULL || window_find_live(ctx, hwnd) == NULL) {
        reply_status(ctx, tag, SIPB_S_NOT_FOUND, "DESTROY_WINDOW: %p is not a shim window",
                     (void *)hwnd);
        return;
    }
    if (!DestroyWindow(hwnd)) {
        err = shim_log_win32(ctx, "DestroyWindow", GetLastError());
        reply_win32(ctx, tag, err, "DestroyWindow");
        return;
    }
    window_forget(ctx, hwnd);
    reply_ok_empty(ctx, tag);
}

void window_destroy_all(struct shim_context *ctx)
{
    HWND hwnd;

    windows_prune(ctx);
    while (ctx->nwindows > 0) {
        hwnd = ctx->windows[ctx->nwindows - 1].hwnd;
        if (!DestroyWindow(hwnd))
            shim_log_win32(ctx, "DestroyWindow", GetLastError());
        window_forget(ctx, hwnd);
    }
    free(ctx->windows);
    ctx->windows = NULL;
    ctx->capWindows = 0;
}
