/*
 * ring.c - the host -> shim ring: a file under /dev/shm that the host
 * creates and names in SIPB_SHIM_RING, mapped here through Z:\dev\shm\.
 * Also the shim -> host upload area (SIPB_SHIM_UPLOAD, at the end), where
 * the bytes of a large WM_COPYDATA go instead of through the pipe.
 * The host may put any frame there instead of writing it to the pipe; the
 * main thread takes it without a system call, without the reader thread
 * and without a wineserver request. That is what a wait that spins
 * (wait.c) can see at once: a REPLY in the ring is a plain memory store
 * away, where a REPLY on the pipe costs the reader thread's wake-up first.
 *
 * Order. Every entry carries the number of frames the host had written to
 * the pipe before it. The next frame is the ring's head entry when that
 * number equals the pipe frames taken so far (pipeConsumed), otherwise the
 * next pipe frame: so ring and pipe frames come out in the order the host
 * sent them, whichever way each went (docs/PROTOCOL.md, "The ring").
 *
 * Wake-ups. Before the main thread blocks it sets `sleeping` and looks at
 * the ring once more (both with full fences); the host, after publishing an
 * entry, takes `sleeping` (exchange with 0, after a full fence) and, when it
 * was set, writes a DOORBELL frame to the pipe, which wakes the main thread
 * the usual way. One of the two always sees the other's store, so no entry
 * is missed. The flag is cleared as soon as a wait ends (queue_disarm), so
 * a thread that is awake, spinning or nested is not rung.
 *
 * The host is trusted no more than the pipe: every field read from the
 * ring is checked, and a ring that breaks a rule ends the session with a
 * protocol error, like a bad pipe header.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile uint32_t *ring_field(struct shim_context *ctx, uint32_t offset)
{
    return (volatile uint32_t *)(ctx->ringBase + offset);
}

/* Opens /dev/shm/<name>, the name read from the environment variable `var`
 * (1 to 200 characters of A-Z a-z 0-9 . _ -), and maps all of it when its size
 * is within [minSize, maxSize]. `what` names it in the log. Returns the view,
 * or NULL (logged) when there is no such variable or the file is unusable. */
static uint8_t *map_dev_shm(struct shim_context *ctx, const WCHAR *var, const char *what,
                            uint64_t minSize, uint64_t maxSize, uint64_t *sizeOut)
{
    static const WCHAR prefix[] = L"Z:\\dev\\shm\\";
    WCHAR name[201], path[sizeof prefix / sizeof prefix[0] + 200];
    DWORD n, i;
    HANDLE hFile, hMap;
    LARGE_INTEGER size;
    uint8_t *view;

    n = GetEnvironmentVariableW(var, name, sizeof name / sizeof name[0]);
    if (n == 0)
        return NULL; /* not offered */
    if (n >= sizeof name / sizeof name[0]) {
        LOG_ERROR(ctx, "the %s's variable is longer than 200 characters; no %s", what, what);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        WCHAR c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.')) {
            LOG_ERROR(ctx, "the %s's variable is not a /dev/shm file name (A-Z a-z 0-9 . _ -); no %s",
                      what, what);
            return NULL;
        }
    }
    memcpy(path, prefix, sizeof prefix - sizeof(WCHAR));
    memcpy(path + sizeof prefix / sizeof prefix[0] - 1, name, (n + 1) * sizeof(WCHAR));
    hFile = CreateFileW(path, GENERIC_READ | GENERIC_WRITE,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                        FILE_ATTRIBUTE_NORMAL, NULL);
    if (hFile == INVALID_HANDLE_VALUE) {
        LOG_ERROR(ctx, "cannot open the %s's file (Win32 error %lu); no %s", what,
                  (unsigned long)GetLastError(), what);
        return NULL;
    }
    if (!GetFileSizeEx(hFile, &size) || size.QuadPart < 0 || (uint64_t)size.QuadPart < minSize ||
        (uint64_t)size.QuadPart > maxSize) {
        LOG_ERROR(ctx, "the %s's file size (%lld bytes) is out of range; no %s", what,
                  (long long)size.QuadPart, what);
        CloseHandle(hFile);
        return NULL;
    }
    hMap = CreateFileMappingW(hFile, NULL, PAGE_READWRITE, 0, 0, NULL);
    CloseHandle(hFile);
    if (hMap == NULL) {
        LOG_ERROR(ctx, "CreateFileMappingW for the %s failed (Win32 error %lu); no %s", what,
                  (unsigned long)GetLastError(), what);
        return NULL;
    }
    view = MapViewOfFile(hMap, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, (SIZE_T)size.QuadPart);
    CloseHandle(hMap); /* the view keeps the mapping */
    if (view == NULL) {
        LOG_ERROR(ctx, "MapViewOfFile for the %s failed (Win32 error %lu); no %s", what,
                  (unsigned long)GetLastError(), what);
        return NULL;
    }
    *sizeOut = (uint64_t)size.QuadPart;
    return view;
}

int ring_open(struct shim_context *ctx)
{
    uint64_t size;
    uint8_t *view;
    uint32_t magic, capacity;

    view = map_dev_shm(ctx, L"SIPB_SHIM_RING", "ring", SIPB_RING_DATA + SIPB_RING_MIN_CAPACITY,
                       SIPB_RING_DATA + SIPB_RING_MAX_CAPACITY, &size);
    if (view == NULL)
        return 0; /* every frame comes through the pipe */
    magic = *(volatile uint32_t *)(view + SIPB_RING_OFF_MAGIC);
    capacity = *(volatile uint32_t *)(view + SIPB_RING_OFF_CAPACITY);
    if (magic != SIPB_RING_MAGIC || capacity < SIPB_RING_MIN_CAPACITY ||
        capacity > SIPB_RING_MAX_CAPACITY || (capacity & (capacity - 1)) != 0 ||
        (uint64_t)capacity + SIPB_RING_DATA > size) {
        LOG_ERROR(ctx, "the ring file's header is not valid (magic 0x%08x, capacity %u); no ring",
                  magic, capacity);
        UnmapViewOfFile(view);
        return 0;
    }
    ctx->ringBase = view;
    ctx->ringCapacity = capacity;
    ctx->ringHead = *ring_field(ctx, SIPB_RING_OFF_HEAD);
    LOG_INFO(ctx, "reading host frames from the ring too (%u bytes)", capacity);
    return 1;
}

/* ---------------------------------------------------------- upload area */

int upload_open(struct shim_context *ctx)
{
    uint64_t size;
    uint8_t *view;
    uint32_t magic, capacity;

    view = map_dev_shm(ctx, L"SIPB_SHIM_UPLOAD", "upload area",
                       SIPB_UPLOAD_DATA + SIPB_UPLOAD_MIN_CAPACITY,
                       SIPB_UPLOAD_DATA + SIPB_UPLOAD_MAX_CAPACITY, &size);
    if (view == NULL)
        return 0; /* WM_COPYDATA bytes go through the pipe */
    magic = *(volatile uint32_t *)(view + SIPB_UPLOAD_OFF_MAGIC);
    capacity = *(volatile uint32_t *)(view + SIPB_UPLOAD_OFF_CAPACITY);
    if (magic != SIPB_UPLOAD_MAGIC || capacity < SIPB_UPLOAD_MIN_CAPACITY ||
        capacity > SIPB_UPLOAD_MAX_CAPACITY || (uint64_t)capacity + SIPB_UPLOAD_DATA > size) {
        LOG_ERROR(ctx, "the upload area's header is not valid (magic 0x%08x, capacity %u); no upload area",
                  magic, capacity);
        UnmapViewOfFile(view);
        return 0;
    }
    ctx->uploadBase = view;
    ctx->uploadCapacity = capacity;
    LOG_INFO(ctx, "putting the bytes of WM_COPYDATA of %u bytes and more into the upload area (%u bytes)",
             SIPB_UPLOAD_MIN_BYTES, capacity);
    return 1;
}

uint8_t *upload_claim(struct shim_context *ctx, uint32_t length)
{
    uint32_t idle = 0;

    if (ctx->uploadBase == NULL || length < SIPB_UPLOAD_MIN_BYTES || length > ctx->uploadCapacity)
        return NULL;
    /* The host sets it back to 0 once it has copied the bytes out; until then (a WM_COPYDATA
     * that came in while the host had not read the last one yet) the pipe carries the bytes. */
    if (!__atomic_compare_exchange_n((volatile uint32_t *)(ctx->uploadBase + SIPB_UPLOAD_OFF_BUSY), &idle,
                                     1u, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return NULL;
    return ctx->uploadBase + SIPB_UPLOAD_DATA;
}

int ring_pending(struct shim_context *ctx)
{
    return ctx->ringBase && !ctx->ringBroken &&
           __atomic_load_n(ring_field(ctx, SIPB_RING_OFF_TAIL), __ATOMIC_ACQUIRE) != ctx->ringHead;
}

void ring_set_sleeping(struct shim_context *ctx, int sleeping)
{
    if (ctx->ringBase == NULL)
        return;
    __atomic_store_n(ring_field(ctx, SIPB_RING_OFF_SLEEPING), sleeping ? 1u : 0u, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Copies n bytes at data offset `at` (mod capacity) out of the ring. */
static void ring_copy(struct shim_context *ctx, uint32_t at, void *dst, uint32_t n)
{
    uint32_t off = at & (ctx->ringCapacity - 1);
    uint32_t first = ctx->ringCapacity - off;

    if (first > n)
        first = n;
    memcpy(dst, ctx->ringBase + SIPB_RING_DATA + off, first);
    if (n > first)
        memcpy((uint8_t *)dst + first, ctx->ringBase + SIPB_RING_DATA, n - first);
}

static uint32_t le32(const uint8_t *q)
{
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

static struct frame *ring_bad(struct shim_context *ctx, const char *why)
{
    struct frame *f = calloc(1, sizeof *f);

    ctx->ringBroken = 1;
    if (f == NULL) {
        LOG_ERROR(ctx, "out of memory reporting a broken ring: %s", why);
        ExitProcess(4);
    }
    f->owner = ctx;
    f->kind = FRAME_BAD;
    snprintf(f->error, sizeof f->error, "ring: %s", why);
    return f;
}

struct frame *ring_take(struct shim_context *ctx)
{
    uint8_t head8[SIPB_RING_ENTRY_HEADER], hdr[SIPB_FRAME_HEADER];
    uint32_t tail, used, entryBytes, pipeBefore, size, length, need;
    int32_t ahead;
    struct frame *f;
    char why[120];

    if (ctx->ringBase == NULL || ctx->ringBroken)
        return NULL;
    tail = __atomic_load_n(ring_field(ctx, SIPB_RING_OFF_TAIL), __ATOMIC_ACQUIRE);
    used = tail - ctx->ringHead;
    if (used == 0)
        return NULL;
    if (used > ctx->ringCapacity || used % 8 != 0) {
        snprintf(why, sizeof why, "%u bytes published in a ring of %u (tail %u, head %u)", used,
                 ctx->ringCapacity, tail, ctx->ringHead);
        return ring_bad(ctx, why);
    }
    if (used < SIPB_RING_ENTRY_HEADER + SIPB_FRAME_HEADER)
        return ring_bad(ctx, "an entry shorter than its headers was published");
    ring_copy(ctx, ctx->ringHead, head8, sizeof head8);
    entryBytes = le32(head8);
    pipeBefore = le32(head8 + 4);
    if (entryBytes % 8 != 0 || entryBytes < SIPB_RING_ENTRY_HEADER + SIPB_FRAME_HEADER ||
        entryBytes > used) {
        snprintf(why, sizeof why, "entry of %u bytes with %u published", entryBytes, used);
        return ring_bad(ctx, why);
    }
    ahead = (int32_t)(pipeBefore - ctx->pipeConsumed);
    if (ahead > 0)
        return NULL; /* pipe frames the host sent before this entry come first */
    if (ahead < 0) {
        snprintf(why, sizeof why, "entry after %u pipe frames, but %u were taken already",
                 pipeBefore, ctx->pipeConsumed);
        return ring_bad(ctx, why);
    }
    ring_copy(ctx, ctx->ringHead + SIPB_RING_ENTRY_HEADER, hdr, sizeof hdr);
    size = le32(hdr);
    if (size < SIPB_FRAME_HEADER_TAIL || hdr[6] != 0 || hdr[7] != 0) {
        snprintf(why, sizeof why, "frame size %u or flags 0x%02x%02x not valid", size, hdr[7],
                 hdr[6]);
        return ring_bad(ctx, why);
    }
    length = size - SIPB_FRAME_HEADER_TAIL;
    need = SIPB_RING_ENTRY_HEADER + SIPB_FRAME_HEADER + length; /* wraps only if length > entryBytes */
    if (length > entryBytes || need > entryBytes || entryBytes - need >= 8) {
        snprintf(why, sizeof why, "a %u-byte payload in an entry of %u bytes", length, entryBytes);
        return ring_bad(ctx, why);
    }
    f = frame_new(ctx, length);
    if (f == NULL)
        return ring_bad(ctx, "out of memory for a frame");
    f->type = (uint16_t)(hdr[4] | hdr[5] << 8);
    f->tag = le32(hdr + 8);
    if (length)
        ring_copy(ctx, ctx->ringHead + SIPB_RING_ENTRY_HEADER + SIPB_FRAME_HEADER, f->payload,
                  length);
    ctx->ringHead += entryBytes;
    /* The copy is done before the host may reuse the space. */
    __atomic_store_n(ring_field(ctx, SIPB_RING_OFF_HEAD), ctx->ringHead, __ATOMIC_RELEASE);
    return f;
}
