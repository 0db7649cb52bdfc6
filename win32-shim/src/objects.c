/*
 * objects.c - the handle table and the kernel objects the host asks for:
 * file mappings (pagefile-backed, or backed by Z:\dev\shm\<file> so that
 * the host can mmap the same memory) and events.
 *
 * Only handles in the table are accepted from the host; anything else is
 * SIPB_S_NOT_FOUND. The values handed out are the real HANDLE values.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SHM_FILE_UNITS 200
#define READ_RESULT_OVERHEAD 8u /* REPLY status + bytes length */

/* ------------------------------------------------------------- the table */

static struct shim_object *object_find(struct shim_context *ctx, uint64_t value)
{
    size_t i;

    if (value == 0)
        return NULL;
    for (i = 0; i < ctx->nobjects; i++)
        if ((uint64_t)(uintptr_t)ctx->objects[i].handle == value)
            return &ctx->objects[i];
    return NULL;
}

static int object_add(struct shim_context *ctx, HANDLE h, enum shim_object_kind kind,
                      uint8_t *view, uint64_t viewSize)
{
    struct shim_object *grown;
    size_t cap;

    if (ctx->nobjects == ctx->capObjects) {
        cap = ctx->capObjects ? ctx->capObjects * 2 : 16;
        grown = realloc(ctx->objects, cap * sizeof *grown);
        if (grown == NULL)
            return 0;
        ctx->objects = grown;
        ctx->capObjects = cap;
    }
    ctx->objects[ctx->nobjects].handle = h;
    ctx->objects[ctx->nobjects].kind = kind;
    ctx->objects[ctx->nobjects].view = view;
    ctx->objects[ctx->nobjects].viewSize = viewSize;
    ctx->nobjects++;
    return 1;
}

static void object_close(struct shim_context *ctx, struct shim_object *o)
{
    if (o->view && !UnmapViewOfFile(o->view))
        shim_log_win32(ctx, "UnmapViewOfFile", GetLastError());
    if (!CloseHandle(o->handle))
        shim_log_win32(ctx, "CloseHandle", GetLastError());
}

static void object_remove(struct shim_context *ctx, struct shim_object *o)
{
    size_t i = (size_t)(o - ctx->objects);

    ctx->objects[i] = ctx->objects[ctx->nobjects - 1];
    ctx->nobjects--;
}

void objects_close_all(struct shim_context *ctx)
{
    while (ctx->nobjects > 0) {
        object_close(ctx, &ctx->objects[ctx->nobjects - 1]);
        ctx->nobjects--;
    }
    free(ctx->objects);
    ctx->objects = NULL;
    ctx->capObjects = 0;
}

/* A str16 name: NULL when empty (an unnamed object), else a heap copy.
 * Returns 0 (and replies) when the name cannot be used. */
static int object_name(struct shim_context *ctx, uint32_t tag, const struct str16 *s,
                       const char *request, WCHAR **out)
{
    *out = NULL;
    if (s->count == 0)
        return 1;
    *out = str16_dup(s);
    if (*out == NULL) {
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        return 0;
    }
    if ((uint32_t)lstrlenW(*out) != s->count) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "%s: the name contains U+0000", request);
        free(*out);
        *out = NULL;
        return 0;
    }
    return 1;
}

/* Size of the view at `view`, from VirtualQuery (page granular). */
static uint64_t view_size(struct shim_context *ctx, const void *view)
{
    MEMORY_BASIC_INFORMATION mbi;

    if (VirtualQuery(view, &mbi, sizeof mbi) == 0) {
        shim_log_win32(ctx, "VirtualQuery", GetLastError());
        return 0;
    }
    return (uint64_t)mbi.RegionSize;
}

/* ------------------------------------------------------------- mappings */

static int valid_shm_file(const struct str16 *file)
{
    uint32_t i, dots = 0;
    uint16_t c;

    if (file->count < 1 || file->count > MAX_SHM_FILE_UNITS)
        return 0;
    for (i = 0; i < file->count; i++) {
        c = (uint16_t)(file->units[2 * i] | file->units[2 * i + 1] << 8);
        if (c == '.')
            dots++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-'))
            return 0;
    }
    return dots != file->count; /* not "." or ".." */
}

void req_create_mapping(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    static const WCHAR prefix[] = L"Z:\\dev\\shm\\";
    uint32_t size = get_u32(p);
    uint32_t flags = get_u32(p);
    struct str16 name = get_str16(p);
    struct str16 file = get_str16(p);
    WCHAR *mapName = NULL, *path = NULL;
    HANDLE hFile = INVALID_HANDLE_VALUE, hMap = NULL;
    uint8_t *view = NULL;
    uint64_t usable;
    struct builder b;
    size_t plen;
    int existed;
    DWORD err;

    if (!request_parsed(ctx, p, "CREATE_MAPPING"))
        return;
    if (flags & ~(uint32_t)SIPB_MAPPING_DEV_SHM) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CREATE_MAPPING: unknown flags 0x%x", flags);
        return;
    }
    if (size == 0) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CREATE_MAPPING: size 0");
        return;
    }
    if (!object_name(ctx, tag, &name, "CREATE_MAPPING", &mapName))
        return;
    if (flags & SIPB_MAPPING_DEV_SHM) {
        if (!valid_shm_file(&file)) {
            reply_status(ctx, tag, SIPB_S_BAD_REQUEST,
                         "CREATE_MAPPING: file must be 1..200 units of A-Z a-z 0-9 . _ -");
            goto done;
        }
        plen = sizeof prefix / sizeof prefix[0] - 1;
        path = malloc((plen + file.count + 1) * sizeof(WCHAR));
        if (path == NULL) {
            reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
            goto done;
        }
        memcpy(path, prefix, plen * sizeof(WCHAR));
        for (uint32_t i = 0; i < file.count; i++)
            path[plen + i] = (WCHAR)(file.units[2 * i] | file.units[2 * i + 1] << 8);
        path[plen + file.count] = 0;
        hFile = CreateFileW(path, GENERIC_READ | GENERIC_WRITE,
                            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                            CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
        if (hFile == INVALID_HANDLE_VALUE) {
            err = shim_log_win32(ctx, "CreateFileW(Z:\\dev\\shm\\...)", GetLastError());
            reply_win32(ctx, tag, err, "CreateFileW");
            goto done;
        }
    } else if (file.count != 0) {
        LOG_DEBUG(ctx, "CREATE_MAPPING: file ignored without SIPB_MAPPING_DEV_SHM");
    }

    SetLastError(0);
    hMap = CreateFileMappingW(hFile, NULL, PAGE_READWRITE, 0, size, mapName);
    err = GetLastError();
    existed = hMap != NULL && err == ERROR_ALREADY_EXISTS;
    if (hFile != INVALID_HANDLE_VALUE && !CloseHandle(hFile))
        shim_log_win32(ctx, "CloseHandle(file)", GetLastError());
    if (hMap == NULL) {
        shim_log_win32(ctx, "CreateFileMappingW", err);
        reply_win32(ctx, tag, err, "CreateFileMappingW");
        goto done;
    }
    view = MapViewOfFile(hMap, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (view == NULL) {
        err = shim_log_win32(ctx, "MapViewOfFile", GetLastError());
        CloseHandle(hMap);
        reply_win32(ctx, tag, err, "MapViewOfFile");
        goto done;
    }
    usable = size;
    if (existed) { /* someone else's object: its size may differ */
        uint64_t vs = view_size(ctx, view);
        if (vs < usable)
            usable = vs;
    }
    if (!object_add(ctx, hMap, OBJ_MAPPING, view, usable)) {
        UnmapViewOfFile(view);
        CloseHandle(hMap);
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "realloc");
        goto done;
    }
    LOG_INFO(ctx, "mapping %p: %lu bytes%s%s", (void *)hMap, (unsigned long)usable,
             (flags & SIPB_MAPPING_DEV_SHM) ? " over /dev/shm" : "",
             existed ? " (already existed)" : "");
    builder_init(&b, 12);
    put_u64(&b, (uint64_t)(uintptr_t)hMap);
    put_u32(&b, existed ? 1 : 0);
    reply_ok(ctx, tag, &b);
done:
    free(mapName);
    free(path);
}

void req_open_mapping(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    struct str16 name = get_str16(p);
    WCHAR *mapName = NULL;
    struct builder b;
    HANDLE hMap;
    uint8_t *view;
    uint64_t size;
    DWORD err;

    if (!request_parsed(ctx, p, "OPEN_MAPPING"))
        return;
    if (name.count == 0) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "OPEN_MAPPING: empty name");
        return;
    }
    if (!object_name(ctx, tag, &name, "OPEN_MAPPING", &mapName))
        return;
    hMap = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, mapName);
    if (hMap == NULL) {
        err = shim_log_win32(ctx, "OpenFileMappingW", GetLastError());
        reply_win32(ctx, tag, err, "OpenFileMappingW");
        goto done;
    }
    view = MapViewOfFile(hMap, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (view == NULL) {
        err = shim_log_win32(ctx, "MapViewOfFile", GetLastError());
        CloseHandle(hMap);
        reply_win32(ctx, tag, err, "MapViewOfFile");
        goto done;
    }
    size = view_size(ctx, view);
    if (!object_add(ctx, hMap, OBJ_MAPPING, view, size)) {
        UnmapViewOfFile(view);
        CloseHandle(hMap);
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "realloc");
        goto done;
    }
    builder_init(&b, 16);
    put_u64(&b, (uint64_t)(uintptr_t)hMap);
    put_u64(&b, size);
    reply_ok(ctx, tag, &b);
done:
    free(mapName);
}

/* The table entry of a handle the shim handed out, or NULL; the caller
 * checks the kind. For CALL_MAPPED (messages.c), which looks the mapping up
 * again after its send: nested requests may close it or grow the table. */
struct shim_object *mapping_lookup(struct shim_context *ctx, uint64_t handle)
{
    return object_find(ctx, handle);
}

/* Finds a mapping and checks [offset, offset + length) against its view.
 * Replies and returns NULL when the request cannot be carried out. */
static struct shim_object *mapping_range(struct shim_context *ctx, uint32_t tag, uint64_t handle,
                                         uint32_t offset, uint32_t length, const char *request)
{
    struct shim_object *o = object_find(ctx, handle);

    if (o == NULL) {
        reply_status(ctx, tag, SIPB_S_NOT_FOUND, "%s: handle 0x%llx is not one the shim handed out",
                     request, (unsigned long long)handle);
        return NULL;
    }
    if (o->kind != OBJ_MAPPING) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "%s: handle 0x%llx is not a mapping", request,
                     (unsigned long long)handle);
        return NULL;
    }
    /* 64-bit arithmetic: two u32 values cannot overflow it. */
    if ((uint64_t)offset + (uint64_t)length > o->viewSize) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST,
                     "%s: offset %u + length %u is past the mapping's %llu bytes", request, offset,
                     length, (unsigned long long)o->viewSize);
        return NULL;
    }
    return o;
}

void req_read_mapping(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    uint64_t handle = get_u64(p);
    uint32_t offset = get_u32(p);
    uint32_t length = get_u32(p);
    struct shim_object *o;
    struct builder b;

    if (!request_parsed(ctx, p, "READ_MAPPING"))
        return;
    if (length > SIPB_MAX_PAYLOAD - READ_RESULT_OVERHEAD) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "READ_MAPPING: length %u does not fit a frame",
                     length);
        return;
    }
    o = mapping_range(ctx, tag, handle, offset, length, "READ_MAPPING");
    if (o == NULL)
        return;
    if (!builder_init(&b, READ_RESULT_OVERHEAD + (size_t)length)) {
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        return;
    }
    put_bytes(&b, o->view + offset, length);
    reply_ok(ctx, tag, &b);
}

void req_write_mapping(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    uint64_t handle = get_u64(p);
    uint32_t offset = get_u32(p);
    uint32_t length;
    const uint8_t *data = get_bytes(p, &length);
    struct shim_object *o;

    if (!request_parsed(ctx, p, "WRITE_MAPPING"))
        return;
    o = mapping_range(ctx, tag, handle, offset, length, "WRITE_MAPPING");
    if (o == NULL)
        return;
    if (length)
        memcpy(o->view + offset, data, length);
    reply_ok_empty(ctx, tag);
}

/* --------------------------------------------------------------- events */

void req_create_event(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    uint32_t manualReset = get_u32(p);
    uint32_t initialState = get_u32(p);
    struct str16 name = get_str16(p);
    WCHAR *evName = NULL;
    struct builder b;
    HANDLE h;
    DWORD err;
    int existed;

    if (!request_parsed(ctx, p, "CREATE_EVENT"))
        return;
    if (!object_name(ctx, tag, &name, "CREATE_EVENT", &evName))
        return;
    SetLastError(0);
    h = CreateEventW(NULL, manualReset != 0, initialState != 0, evName);
    err = GetLastError();
    if (h == NULL) {
        shim_log_win32(ctx, "CreateEventW", err);
        reply_win32(ctx, tag, err, "CreateEventW");
        goto done;
    }
    existed = err == ERROR_ALREADY_EXISTS;
    if (!object_add(ctx, h, OBJ_EVENT, NULL, 0)) {
        CloseHandle(h);
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "realloc");
        goto done;
    }
    builder_init(&b, 12);
    put_u64(&b, (uint64_t)(uintptr_t)h);
    put_u32(&b, existed ? 1 : 0);
    reply_ok(ctx, tag, &b);
done:
    free(evName);
}

void req_open_event(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    uint32_t access = get_u32(p);
    struct str16 name = get_str16(p);
    WCHAR *evName = NULL;
    struct builder b;
    HANDLE h;
    DWORD err;

    if (!request_parsed(ctx, p, "OPEN_EVENT"))
        return;
    if (name.count == 0) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "OPEN_EVENT: empty name");
        return;
    }
    if (!object_name(ctx, tag, &name, "OPEN_EVENT", &evName))
        return;
    h = OpenEventW(access, FALSE, evName);
    if (h == NULL) {
        err = shim_log_win32(ctx, "OpenEventW", GetLastError());
        reply_win32(ctx, tag, err, "OpenEventW");
        goto done;
    }
    if (!object_add(ctx, h, OBJ_EVENT, NULL, 0)) {
        CloseHandle(h);
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "realloc");
        goto done;
    }
    builder_init(&b, 8);
    put_u64(&b, (uint64_t)(uintptr_t)h);
    reply_ok(ctx, tag, &b);
done:
    free(evName);
}

/* ---------------------------------------------------------- CLOSE_HANDLE */

void req_close_handle(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    uint64_t handle = get_u64(p);
    struct shim_object *o;

    if (!request_parsed(ctx, p, "CLOSE_HANDLE"))
        return;
    o = object_find(ctx, handle);
    if (o == NULL) {
        reply_status(ctx, tag, SIPB_S_NOT_FOUND, "CLOSE_HANDLE: handle 0x%llx is not one the shim "
                     "handed out", (unsigned long long)handle);
        return;
    }
    object_close(ctx, o);
    object_remove(ctx, o);
    reply_ok_empty(ctx, tag);
}
