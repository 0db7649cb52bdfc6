/*
 * reader.c - the stdin reader thread. It reads complete frames with
 * ReadFile (the only way: Wine's standard handles are plain Unix fds and
 * synchronous), checks the header (size range, flags == 0), and appends them
 * to a queue guarded by a critical section, setting ctx->wakeEvent (manual
 * reset). queue_pop resets the event whenever it finds the queue empty.
 *
 * After end of file, a read error or a bad header the thread queues one
 * FRAME_EOF / FRAME_BAD item and stops: a byte stream cannot be
 * resynchronised after a broken header.
 *
 * This thread touches only hIn, the queue and the log.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads exactly n bytes. Returns n, 0 on a clean EOF before the first
 * byte, or -1 on error / EOF in the middle (with `why` filled in). */
static long long read_exact(struct shim_context *ctx, uint8_t *p, size_t n, char *why,
                            size_t whySize)
{
    size_t got = 0;
    DWORD chunk, r, err;

    while (got < n) {
        chunk = (n - got) > (1u << 24) ? (1u << 24) : (DWORD)(n - got);
        if (!ReadFile(ctx->hIn, p + got, chunk, &r, NULL)) {
            err = GetLastError();
            if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF) {
                r = 0; /* treated as end of file below */
            } else {
                shim_log_win32(ctx, "ReadFile(stdin)", err);
                snprintf(why, whySize, "ReadFile(stdin) failed: error %lu", (unsigned long)err);
                return -1;
            }
        }
        if (r == 0) {
            if (got == 0)
                return 0;
            snprintf(why, whySize, "end of input inside a frame (%lu of %lu bytes)",
                     (unsigned long)got, (unsigned long)n);
            return -1;
        }
        got += r;
    }
    return (long long)n;
}

static void queue_push(struct shim_context *ctx, struct frame *f)
{
    f->next = NULL;
    EnterCriticalSection(&ctx->queueLock);
    if (ctx->queueTail)
        ctx->queueTail->next = f;
    else
        ctx->queueHead = f;
    ctx->queueTail = f;
    if (!SetEvent(ctx->wakeEvent))
        shim_log_win32(ctx, "SetEvent(wakeEvent)", GetLastError());
    LeaveCriticalSection(&ctx->queueLock);
}

struct frame *queue_pop(struct shim_context *ctx)
{
    struct frame *f;

    EnterCriticalSection(&ctx->queueLock);
    f = ctx->queueHead;
    if (f) {
        ctx->queueHead = f->next;
        if (ctx->queueHead == NULL)
            ctx->queueTail = NULL;
        f->next = NULL;
    } else if (!ResetEvent(ctx->wakeEvent)) {
        shim_log_win32(ctx, "ResetEvent(wakeEvent)", GetLastError());
    }
    LeaveCriticalSection(&ctx->queueLock);
    return f;
}

void shim_wake(struct shim_context *ctx)
{
    if (!SetEvent(ctx->wakeEvent))
        shim_log_win32(ctx, "SetEvent(wakeEvent)", GetLastError());
}

void frame_free(struct frame *f)
{
    if (f) {
        free(f->payload);
        free(f);
    }
}

/* Queues a terminal item; if even that allocation fails the main thread
 * still learns about it from the static fallback. */
static void queue_terminal(struct shim_context *ctx, enum frame_kind kind, const char *text)
{
    struct frame *f = calloc(1, sizeof *f);

    if (f == NULL) {
        LOG_ERROR(ctx, "out of memory queueing the end of input");
        ExitProcess(4);
    }
    f->kind = kind;
    snprintf(f->error, sizeof f->error, "%s", text);
    queue_push(ctx, f);
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

static DWORD WINAPI reader_main(void *arg)
{
    struct shim_context *ctx = arg;
    uint8_t header[SIPB_FRAME_HEADER];
    char why[160];
    uint32_t size;
    uint16_t flags;
    long long r;
    struct frame *f;

    for (;;) {
        r = read_exact(ctx, header, SIPB_FRAME_HEADER, why, sizeof why);
        if (r == 0) {
            LOG_INFO(ctx, "stdin reached end of file");
            queue_terminal(ctx, FRAME_EOF, "end of input");
            return reader_park();
        }
        if (r < 0) {
            queue_terminal(ctx, FRAME_EOF, why);
            return reader_park();
        }
        size = (uint32_t)header[0] | (uint32_t)header[1] << 8 | (uint32_t)header[2] << 16 |
               (uint32_t)header[3] << 24;
        flags = (uint16_t)(header[6] | header[7] << 8);
        if (size < SIPB_FRAME_HEADER_TAIL || size > SIPB_FRAME_HEADER_TAIL + SIPB_MAX_PAYLOAD) {
            snprintf(why, sizeof why, "frame size %lu is outside 8..%lu", (unsigned long)size,
                     (unsigned long)(SIPB_FRAME_HEADER_TAIL + SIPB_MAX_PAYLOAD));
            queue_terminal(ctx, FRAME_BAD, why);
            return reader_park();
        }
        if (flags != 0) {
            snprintf(why, sizeof why, "frame flags are 0x%04x, not 0", flags);
            queue_terminal(ctx, FRAME_BAD, why);
            return reader_park();
        }
        f = calloc(1, sizeof *f);
        if (f == NULL) {
            queue_terminal(ctx, FRAME_BAD, "out of memory for a frame");
            return reader_park();
        }
        f->kind = FRAME_DATA;
        f->type = (uint16_t)(header[4] | header[5] << 8);
        f->tag = (uint32_t)header[8] | (uint32_t)header[9] << 8 | (uint32_t)header[10] << 16 |
                 (uint32_t)header[11] << 24;
        f->length = size - SIPB_FRAME_HEADER_TAIL;
        if (f->length > 0) {
            f->payload = malloc(f->length);
            if (f->payload == NULL) {
                free(f);
                snprintf(why, sizeof why, "out of memory for a %lu-byte payload",
                         (unsigned long)(size - SIPB_FRAME_HEADER_TAIL));
                queue_terminal(ctx, FRAME_BAD, why);
                return reader_park();
            }
            r = read_exact(ctx, f->payload, f->length, why, sizeof why);
            if (r <= 0) {
                frame_free(f);
                if (r == 0)
                    snprintf(why, sizeof why, "end of input inside a frame");
                queue_terminal(ctx, FRAME_EOF, why);
                return reader_park();
            }
        }
        queue_push(ctx, f);
    }
}

int reader_start(struct shim_context *ctx)
{
    InitializeCriticalSection(&ctx->queueLock);
    ctx->wakeEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
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
