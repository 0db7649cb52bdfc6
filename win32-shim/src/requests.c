/*
 * requests.c - host requests: REPLY helpers, the dispatch by type, and the
 * small query requests (FIND_WINDOW, IS_WINDOW,
 * GET_WINDOW_THREAD_PROCESS_ID, GET_PROCESS_IMAGE). Messages are in
 * messages.c, windows in window.c, mappings and events in objects.c.
 */
#include "shim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------------- replies */

void reply_ok(struct shim_context *ctx, uint32_t tag, struct builder *result)
{
    struct builder b;
    size_t n;

    /* The status goes in front of the result the handler built. */
    if (result->failed || result->data == NULL) {
        builder_free(result);
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "building the result");
        return;
    }
    n = result->len - SIPB_FRAME_HEADER;
    if (n + 4 > SIPB_MAX_PAYLOAD) {
        builder_free(result);
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "the result is too large for one frame");
        return;
    }
    if (result->cap >= result->len + 4) {
        /* Enough room: shift the result up by four bytes, in place. */
        memmove(result->data + SIPB_FRAME_HEADER + 4, result->data + SIPB_FRAME_HEADER, n);
        result->data[SIPB_FRAME_HEADER + 0] = 0;
        result->data[SIPB_FRAME_HEADER + 1] = 0;
        result->data[SIPB_FRAME_HEADER + 2] = 0;
        result->data[SIPB_FRAME_HEADER + 3] = 0;
        result->len += 4;
        wire_send(ctx, result, SIPB_T_REPLY, tag);
        return;
    }
    builder_init(&b, 4 + n);
    put_u32(&b, SIPB_S_OK);
    put_raw(&b, result->data + SIPB_FRAME_HEADER, n);
    builder_free(result);
    wire_send(ctx, &b, SIPB_T_REPLY, tag);
}

void reply_status(struct shim_context *ctx, uint32_t tag, uint32_t status, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    __mingw_vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    text[sizeof text - 1] = '\0';
    LOG_INFO(ctx, "REPLY tag %u status %u: %s", tag, status, text);
    wire_send_text(ctx, SIPB_T_REPLY, tag, status, text);
}

void reply_win32(struct shim_context *ctx, uint32_t tag, DWORD err, const char *what)
{
    struct builder b;

    builder_init(&b, 64);
    put_u32(&b, SIPB_S_WIN32_ERROR);
    put_u32(&b, err);
    put_text(&b, what);
    put_text(&b, " failed");
    wire_send(ctx, &b, SIPB_T_REPLY, tag);
}

void reply_ok_empty(struct shim_context *ctx, uint32_t tag)
{
    struct builder b;

    builder_init(&b, 4);
    put_u32(&b, SIPB_S_OK);
    wire_send(ctx, &b, SIPB_T_REPLY, tag);
}

int request_parsed(struct shim_context *ctx, struct parser *p, const char *request)
{
    if (parser_finish(p))
        return 1;
    protocol_error(ctx, SIPB_E_MALFORMED, "%s: %s", request, p->why);
    return 0;
}

/* ------------------------------------------------------------- queries */

static void req_find_window(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    uint64_t parent = get_u64(p);
    uint64_t after = get_u64(p);
    uint32_t flags = get_u32(p);
    struct str16 cls = get_str16(p);
    struct str16 title = get_str16(p);
    WCHAR *clsName = NULL, *titleText = NULL;
    struct builder b;
    HWND found;

    if (!request_parsed(ctx, p, "FIND_WINDOW"))
        return;
    if (flags & ~3u) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "FIND_WINDOW: unknown flags 0x%x", flags);
        return;
    }
    if ((flags & 1) && (cls.count == 0 || cls.count > SHIM_MAX_CLASS_NAME)) {
        /* No window has such a class; do not hand the name to Wine. */
        builder_init(&b, 8);
        put_u64(&b, 0);
        reply_ok(ctx, tag, &b);
        return;
    }
    if (flags & 1)
        clsName = str16_dup(&cls);
    if (flags & 2)
        titleText = str16_dup(&title);
    if (((flags & 1) && clsName == NULL) || ((flags & 2) && titleText == NULL)) {
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        goto done;
    }
    found = FindWindowExW((HWND)(uintptr_t)parent, (HWND)(uintptr_t)after, clsName, titleText);
    if (found == NULL)
        LOG_DEBUG(ctx, "FindWindowExW found nothing (error %lu)", (unsigned long)GetLastError());
    builder_init(&b, 8);
    put_u64(&b, (uint64_t)(uintptr_t)found);
    reply_ok(ctx, tag, &b);
done:
    free(clsName);
    free(titleText);
}

static void req_is_window(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    HWND hwnd = (HWND)(uintptr_t)get_u64(p);
    struct builder b;

    if (!request_parsed(ctx, p, "IS_WINDOW"))
        return;
    builder_init(&b, 4);
    put_u32(&b, hwnd != NULL && IsWindow(hwnd) ? 1 : 0);
    reply_ok(ctx, tag, &b);
}

static void req_get_window_thread_process_id(struct shim_context *ctx, uint32_t tag,
                                             struct parser *p)
{
    HWND hwnd = (HWND)(uintptr_t)get_u64(p);
    DWORD tid = 0, pid = 0;
    struct builder b;

    if (!request_parsed(ctx, p, "GET_WINDOW_THREAD_PROCESS_ID"))
        return;
    if (hwnd != NULL) {
        tid = GetWindowThreadProcessId(hwnd, &pid);
        if (tid == 0)
            pid = 0;
    }
    builder_init(&b, 8);
    put_u32(&b, tid);
    put_u32(&b, pid);
    reply_ok(ctx, tag, &b);
}

static void req_get_process_image(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    uint32_t pid = get_u32(p);
    DWORD size = SIPB_MAX_STR16 + 1, err;
    struct builder b;
    HANDLE h;
    WCHAR *path;

    if (!request_parsed(ctx, p, "GET_PROCESS_IMAGE"))
        return;
    h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (h == NULL) {
        err = shim_log_win32(ctx, "OpenProcess", GetLastError());
        reply_win32(ctx, tag, err, "OpenProcess");
        return;
    }
    path = malloc(size * sizeof(WCHAR));
    if (path == NULL) {
        CloseHandle(h);
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        return;
    }
    if (!QueryFullProcessImageNameW(h, 0, path, &size)) {
        err = shim_log_win32(ctx, "QueryFullProcessImageNameW", GetLastError());
        reply_win32(ctx, tag, err, "QueryFullProcessImageNameW");
    } else {
        if (size > SIPB_MAX_STR16)
            size = SIPB_MAX_STR16;
        builder_init(&b, 4 + 2 * (size_t)size);
        put_str16(&b, path, size);
        reply_ok(ctx, tag, &b);
    }
    free(path);
    if (!CloseHandle(h))
        shim_log_win32(ctx, "CloseHandle(process)", GetLastError());
}

/* --------------------------------------------------------------- dispatch */

/* messages.c. Declared here because shim.h belongs to the wait-path work;
 * move it there next to req_send_message. */

void shim_handle_request(struct shim_context *ctx, struct frame *f)
{
    struct parser p;

    parser_init(&p, f->payload, f->length);
    switch (f->type) {
    case SIPB_T_CREATE_WINDOW: req_create_window(ctx, f->tag, &p); break;
    case SIPB_T_DESTROY_WINDOW: req_destroy_window(ctx, f->tag, &p); break;
    case SIPB_T_SEND_MESSAGE: req_send_message(ctx, f->tag, &p); break;
    case SIPB_T_POST_MESSAGE: req_post_message(ctx, f->tag, &p); break;
    case SIPB_T_SEND_COPYDATA: req_send_copydata(ctx, f->tag, f, &p); break;
    case SIPB_T_FIND_WINDOW: req_find_window(ctx, f->tag, &p); break;
    case SIPB_T_IS_WINDOW: req_is_window(ctx, f->tag, &p); break;
    case SIPB_T_GET_WINDOW_THREAD_PROCESS_ID: req_get_window_thread_process_id(ctx, f->tag, &p); break;
    case SIPB_T_CREATE_MAPPING: req_create_mapping(ctx, f->tag, &p); break;
    case SIPB_T_OPEN_MAPPING: req_open_mapping(ctx, f->tag, &p); break;
    case SIPB_T_READ_MAPPING: req_read_mapping(ctx, f->tag, &p); break;
    case SIPB_T_WRITE_MAPPING: req_write_mapping(ctx, f->tag, &p); break;
    case SIPB_T_CREATE_EVENT: req_create_event(ctx, f->tag, &p); break;
    case SIPB_T_OPEN_EVENT: req_open_event(ctx, f->tag, &p); break;
    case SIPB_T_CLOSE_HANDLE: req_close_handle(ctx, f->tag, &p); break;
    case SIPB_T_GET_PROCESS_IMAGE: req_get_process_image(ctx, f->tag, &p); break;
    case SIPB_T_CALL_MAPPED: req_call_mapped(ctx, f->tag, &p); break;
    default:
        reply_status(ctx, f->tag, SIPB_S_UNKNOWN_TYPE, "unknown request type 0x%04x", f->type);
        break;
    }
}
