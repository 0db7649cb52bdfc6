/*
 * reader.c - the stdin reader thread. It reads stdin with ReadFile (the
 * only way: Wine's standard handles are plain Unix fds and synchronous)
 * into one reused buffer, as much as the pipe holds at once, and cuts
 * complete frames out of it: a ReadFile on a pipe returns what is there, so
 * a small frame usually costs one ReadFile, and several frames that arrive
 * together cost one between them. Each header is checked (size range,
 * flags == 0) before anything is allocated for it. A frame too large for
 * the buffer has its payload read straight into its own allocation.
 *
 * Complete frames are appended to a queue guarded by a critical section.
 * The reader wakes the main thread only when it said it is about to wait
 * (mainWaiting): with SetEvent on ctx->wakeEvent (auto reset; a wineserver
 * request), or, when it waits for the host's REPLY, with WakeByAddressSingle
 * on ctx->wakeWord (no wineserver request). A main thread that is busy finds
 * the frames when it next looks.
 * Frames go back to a small free list when freed, so a steady stream of
 * small frames allocates nothing.
 *
 * After end of file, a read error or a bad header the thread queues one
 * FRAME_EOF / FRAME_BAD item and stops: a byte stream cannot be
 * resynchronised after a broken header.
 *
 * This thread touches only hIn, the queue, the free list and the log.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_BUFFER_SIZE (64u * 1024u) /* frames up to this size go through it */
#define FREE_FRAMES_MAX 16u            /* frames kept for reuse */
#define KEEP_PAYLOAD_MAX 4096u         /* payload buffers kept with them */
#define MIN_PAYLOAD_CAPACITY 256u      /* so that small payloads fit a reused buffer */
#define KEEP_LARGE_MAX (4u << 20)      /* the one large buffer kept (payload_release) */

/* ------------------------------------------------------------ the queue */

/* Appends the list first..last and wakes the main thread if it waits. */
static void queue_push_list(struct shim_context *ctx, struct frame *first, struct frame *last)
{
    enum main_wait signal;

    last->next = NULL;
    EnterCriticalSection(&ctx->queueLock);
    if (ctx->queueTail)
        ctx->queueTail->next = first;
    else
        ctx->queueHead = first;
    ctx->queueTail = last;
    signal = ctx->mainWaiting;
    ctx->mainWaiting = MAIN_BUSY;
    LeaveCriticalSection(&ctx->queueLock);
    if (signal == MAIN_WAITS_WORD) {
        /* No wineserver request: a futex wake inside this process. */
        __atomic_add_fetch(&ctx->wakeWord, 1, __ATOMIC_RELEASE);
        ctx->wakeByAddress((PVOID)&ctx->wakeWord);
    } else if (signal == MAIN_WAITS_EVENT && !SetEvent(ctx->wakeEvent)) {
        shim_log_win32(ctx, "SetEvent(wakeEvent)", GetLastError());
    }
}

static struct frame *queue_take_locked(struct shim_context *ctx)
{
    struct frame *f = ctx->queueHead;

    if (f) {
        ctx->queueHead = f->next;
        if (ctx->queueHead == NULL)
            ctx->queueTail = NULL;
        f->next = NULL;
    }
    return f;
}

/* The next host frame in the order the host sent it: the ring's head entry
 * when it is its turn (ring.c), else the pipe queue's head. A DOORBELL only
 * says "look at the ring" and is dropped here. With `arm`, an empty result
 * means the main thread may block (`arm` says on what, enum main_wait): the
 * ring is told so (sleeping) before it is looked at a last time, and the
 * reader before the queue is found empty.
 * The flag is cleared again whenever a frame comes out (and by queue_disarm
 * after the wait), so the host rings only a thread that may be asleep. */
static struct frame *pop_next(struct shim_context *ctx, enum main_wait arm)
{
    struct frame *f;

    for (;;) {
        f = ring_take(ctx);
        if (f == NULL && arm && ctx->ringBase && !ctx->ringBroken) {
            ring_set_sleeping(ctx, 1);
            f = ring_take(ctx);
        }
        if (f) {
            ring_set_sleeping(ctx, 0);
            return f;
        }
        EnterCriticalSection(&ctx->queueLock);
        f = queue_take_locked(ctx);
        ctx->mainWaiting = f == NULL ? arm : MAIN_BUSY;
        LeaveCriticalSection(&ctx->queueLock);
        if (f == NULL)
            return NULL;
        ring_set_sleeping(ctx, 0);
        if (f->kind != FRAME_DATA)
            return f;
        if (f->type == SIPB_T_DOORBELL && f->tag == 0 && f->length == 0 && ctx->ringBase) {
            frame_free(f); /* its work is the ring look at the top of the loop */
            continue;
        }
        ctx->pipeConsumed++;
        return f;
    }
}

struct frame *queue_pop(struct shim_context *ctx)
{
    return pop_next(ctx, MAIN_BUSY);
}

void queue_disarm(struct shim_context *ctx)
{
    EnterCriticalSection(&ctx->queueLock);
    ctx->mainWaiting = MAIN_BUSY;
    LeaveCriticalSection(&ctx->queueLock);
    ring_set_sleeping(ctx, 0);
}

struct frame *queue_pop_or_arm(struct shim_context *ctx)
{
    return pop_next(ctx, MAIN_WAITS_EVENT);
}

struct frame *queue_pop_or_arm_word(struct shim_context *ctx)
{
    return pop_next(ctx, MAIN_WAITS_WORD);
}

void shim_wake(struct shim_context *ctx)
{
    if (!SetEvent(ctx->wakeEvent))
        shim_log_win32(ctx, "SetEvent(wakeEvent)", GetLastError());
}

/* ------------------------------------------------------------ the frames */

/* A frame with room for `length` payload bytes (f->payload is NULL only
 * when length is 0 and no buffer came with the recycled frame), or NULL
 * when memory ran out. */
static struct frame *frame_alloc(struct shim_context *ctx, uint32_t length)
{
    struct frame *f;
    uint32_t cap;

    EnterCriticalSection(&ctx->queueLock);
    f = ctx->freeFrames;
    if (f) {
        ctx->freeFrames = f->next;
        ctx->nfreeFrames--;
    }
    LeaveCriticalSection(&ctx->queueLock);
    if (f == NULL) {
        f = calloc(1, sizeof *f);
        if (f == NULL)
            return NULL;
        f->owner = ctx;
    }
    f->next = NULL;
    f->kind = FRAME_DATA;
    f->type = 0;
    f->tag = 0;
    f->length = 0;
    f->error[0] = '\0';
    if (f->payload == NULL)
        f->capacity = 0;
    if (length > f->capacity && length > KEEP_PAYLOAD_MAX) {
        /* The large buffer a frame gave back: its pages are already faulted in. */
        EnterCriticalSection(&ctx->queueLock);
        if (ctx->keptPayload != NULL && ctx->keptCapacity >= length) {
            free(f->payload);
            f->payload = ctx->keptPayload;
            f->capacity = ctx->keptCapacity;
            ctx->keptPayload = NULL;
            ctx->keptCapacity = 0;
        }
        LeaveCriticalSection(&ctx->queueLock);
    }
    if (length > f->capacity) {
        free(f->payload);
        cap = length < MIN_PAYLOAD_CAPACITY ? MIN_PAYLOAD_CAPACITY : length;
        f->payload = malloc(cap);
        f->capacity = f->payload ? cap : 0;
        if (f->payload == NULL) {
            free(f);
            return NULL;
        }
    }
    f->length = length;
    return f;
}

struct frame *frame_new(struct shim_context *ctx, uint32_t length)
{
    return frame_alloc(ctx, length);
}

void frame_free(struct frame *f)
{
    struct shim_context *ctx;

    if (f == NULL)
        return;
    ctx = f->owner;
    if (f->payload == NULL || f->capacity > KEEP_PAYLOAD_MAX) {
        /* taken by a handler, or too large to keep with the frame */
        if (ctx)
            payload_release(ctx, f->payload, f->capacity);
        else
            free(f->payload);
        f->payload = NULL;
        f->capacity = 0;
    }
    if (ctx) {
        EnterCriticalSection(&ctx->queueLock);
        if (ctx->nfreeFrames < FREE_FRAMES_MAX) {
            f->next = ctx->freeFrames;
            ctx->freeFrames = f;
            ctx->nfreeFrames++;
            f = NULL;
        }
        LeaveCriticalSection(&ctx->queueLock);
    }
    if (f) {
        free(f->payload);
        free(f);
    }
}

void payload_release(struct shim_context *ctx, uint8_t *payload, uint32_t capacity)
{
    uint8_t *drop = payload;

    if (payload == NULL)
        return;
    if (capacity > KEEP_PAYLOAD_MAX && capacity <= KEEP_LARGE_MAX) {
        EnterCriticalSection(&ctx->queueLock);
        if (ctx->keptPayload == NULL || ctx->keptCapacity < capacity) {
            drop = ctx->keptPayload; /* keep the larger one */
            ctx->keptPayload = payload;
            ctx->keptCapacity = capacity;
        }
        LeaveCriticalSection(&ctx->queueLock);
    }
    free(drop);
}

/* Queues a terminal item; if even that allocation fails the process ends. */
static void queue_terminal(struct shim_context *ctx, enum frame_kind kind, const char *text)
{
    struct frame *f = calloc(1, sizeof *f);

    if (f == NULL) {
        LOG_ERROR(ctx, "out of memory queueing the end of input");
        ExitProcess(4);
    }
    f->owner = ctx;
    f->kind = kind;
    snprintf(f->error, sizeof f->error, "%s", text);
    queue_push_list(ctx, f, f);
}

/* After its last item the thread parks instead of returning: a thread that
 * is exiting holds the loader lock (DLL_THREAD_DETACH), and if the main
 * thread ends the process at that moment Wine's process exit can stall
 * until the wineserver's 0.5 s SIGKILL. A parked thread holds nothing. */
static DWORD reader_park(void)
{
    for (;;)
        Sleep(INFINITE);
    return 0;
}

/* ----------------------------------------------------------- reading */

/* One ReadFile of up to n bytes. Returns the count (0 = end of input), or
 * -1 on error with `why` filled in. */
static long long read_some(struct shim_context *ctx, uint8_t *p, DWORD n, char *why, size_t whySize)
{
    DWORD r, err;

    if (!ReadFile(ctx->hIn, p, n, &r, NULL)) {
        err = GetLastError();
        if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF)
            return 0;
        shim_log_win32(ctx, "ReadFile(stdin)", err);
        snprintf(why, whySize, "ReadFile(stdin) failed: error %lu", (unsigned long)err);
        return -1;
    }
    return (long long)r;
}

/* Reads exactly n bytes (a large payload, straight into its buffer).
 * `already` bytes of the frame (`total` in all) arrived before; they are
 * only used for the message. Returns 1, or 0 with `why` filled in. */
static int read_exact(struct shim_context *ctx, uint8_t *p, size_t n, size_t already,
                      size_t total, char *why, size_t whySize)
{
    size_t got = 0;
    long long r;

    while (got < n) {
        r = read_some(ctx, p + got, (n - got) > (1u << 24) ? (1u << 24) : (DWORD)(n - got), why,
                      whySize);
        if (r < 0)
            return 0;
        if (r == 0) {
            snprintf(why, whySize, "end of input inside a frame (%lu of %lu bytes)",
                     (unsigned long)(already + got), (unsigned long)total);
            return 0;
        }
        got += (size_t)r;
    }
    return 1;
}

static uint32_t load_u32(const uint8_t *q)
{
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

/* Checks a header; returns 0 with `why` filled in when it breaks the rules. */
static int header_ok(const uint8_t *h, char *why, size_t whySize)
{
    uint32_t size = load_u32(h);
    uint16_t flags = (uint16_t)(h[6] | h[7] << 8);

    if (size < SIPB_FRAME_HEADER_TAIL || size > SIPB_FRAME_HEADER_TAIL + SIPB_MAX_PAYLOAD) {
        snprintf(why, whySize, "frame size %lu is outside 8..%lu", (unsigned long)size,
                 (unsigned long)(SIPB_FRAME_HEADER_TAIL + SIPB_MAX_PAYLOAD));
        return 0;
    }
    if (flags != 0) {
        snprintf(why, whySize, "frame flags are 0x%04x, not 0", flags);
        return 0;
    }
    return 1;
}

/* Frames cut out of one read, queued together (one lock, one signal). */
struct batch {
    struct frame *first;
    struct frame *last;
};

static void batch_add(struct batch *b, struct frame *f)
{
    f->next = NULL;
    if (b->last)
        b->last->next = f;
    else
        b->first = f;
    b->last = f;
}

static void batch_flush(struct shim_context *ctx, struct batch *b)
{
    if (b->first)
        queue_push_list(ctx, b->first, b->last);
    b->first = b->last = NULL;
}

/* Queues the frames cut so far and the terminal item, and frees the read
 * buffer: the end of reader_run. */
static void reader_stop(struct shim_context *ctx, struct batch *b, uint8_t *buf,
                        enum frame_kind kind, const char *why)
{
    batch_flush(ctx, b); /* the frames before the end still count */
    queue_terminal(ctx, kind, why);
    free(buf);
}

void reader_run(struct shim_context *ctx)
{
    struct batch batch = { NULL, NULL };
    char why[160];
    uint8_t *buf;
    size_t have = 0, pos = 0, avail, inBuf;
    uint32_t length;
    long long r;
    struct frame *f;

    buf = malloc(READ_BUFFER_SIZE);
    if (buf == NULL) {
        reader_stop(ctx, &batch, buf, FRAME_BAD, "out of memory for the read buffer");
        return;
    }
    for (;;) {
        /* Cut out every complete frame in buf[pos, have). */
        while ((avail = have - pos) >= SIPB_FRAME_HEADER) {
            const uint8_t *h = buf + pos;

            if (!header_ok(h, why, sizeof why)) {
                reader_stop(ctx, &batch, buf, FRAME_BAD, why);
                return;
            }
            length = load_u32(h) - SIPB_FRAME_HEADER_TAIL;
            inBuf = avail - SIPB_FRAME_HEADER;
            if (inBuf < length && SIPB_FRAME_HEADER + (size_t)length <= READ_BUFFER_SIZE)
                break; /* the rest will arrive in the buffer */
            f = frame_alloc(ctx, length);
            if (f == NULL) {
                snprintf(why, sizeof why, "out of memory for a %lu-byte payload",
                         (unsigned long)length);
                reader_stop(ctx, &batch, buf, FRAME_BAD, why);
                return;
            }
            f->type = (uint16_t)(h[4] | h[5] << 8);
            f->tag = load_u32(h + 8);
            if (inBuf >= length) {
                if (length)
                    memcpy(f->payload, h + SIPB_FRAME_HEADER, length);
                pos += SIPB_FRAME_HEADER + (size_t)length;
                batch_add(&batch, f);
                continue;
            }
            /* Larger than the buffer: the rest goes straight into place. */
            memcpy(f->payload, h + SIPB_FRAME_HEADER, inBuf);
            pos = have = 0;
            batch_flush(ctx, &batch);
            if (!read_exact(ctx, f->payload + inBuf, length - inBuf, SIPB_FRAME_HEADER + inBuf,
                            SIPB_FRAME_HEADER + (size_t)length, why, sizeof why)) {
                frame_free(f);
                reader_stop(ctx, &batch, buf, FRAME_EOF, why);
                return;
            }
            batch_add(&batch, f);
        }
        batch_flush(ctx, &batch);

        /* Keep the partial frame at the front, then read what is there. */
        if (pos == have) {
            pos = have = 0;
        } else if (pos > 0) {
            memmove(buf, buf + pos, have - pos);
            have -= pos;
            pos = 0;
        }
        r = read_some(ctx, buf + have, (DWORD)(READ_BUFFER_SIZE - have), why, sizeof why);
        if (r < 0) {
            reader_stop(ctx, &batch, buf, FRAME_EOF, why);
            return;
        }
        if (r == 0) {
            if (have == 0) {
                LOG_INFO(ctx, "stdin reached end of file");
                reader_stop(ctx, &batch, buf, FRAME_EOF, "end of input");
                return;
            }
            snprintf(why, sizeof why, "end of input inside a frame (%lu of %lu bytes)",
                     (unsigned long)have,
                     (unsigned long)(have < SIPB_FRAME_HEADER
                                         ? SIPB_FRAME_HEADER
                                         : SIPB_FRAME_HEADER + load_u32(buf) -
                                               SIPB_FRAME_HEADER_TAIL));
            reader_stop(ctx, &batch, buf, FRAME_EOF, why);
            return;
        }
        have += (size_t)r;
    }
}

static DWORD WINAPI reader_main(void *arg)
{
    reader_run(arg);
    return reader_park();
}

int reader_start(struct shim_context *ctx)
{
    InitializeCriticalSection(&ctx->queueLock);
    ctx->wakeEvent = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (ctx->wakeEvent == NULL) {
        shim_log_win32(ctx, "CreateEventW(wakeEvent)", GetLastError());
        return 0;
    }
    ctx->readerThread = CreateThread(NULL, 64 * 1024, reader_main, ctx,
                                     STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
    if (ctx->readerThread == NULL) {
        shim_log_win32(ctx, "CreateThread(reader)", GetLastError());
        return 0;
    }
    return 1;
}
