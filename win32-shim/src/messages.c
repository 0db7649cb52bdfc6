/*
 * messages.c - messages the host sends out through the shim:
 * SEND_MESSAGE (SendMessageCallbackW + THE WAIT), CALL_MAPPED (the same
 * send, framed by writes into and reads from a mapping's view), POST_MESSAGE,
 * and SEND_COPYDATA (SendMessageTimeoutW on a worker thread + THE WAIT).
 *
 * A send never blocks the main thread: while it is outstanding the main
 * thread keeps servicing messages sent to its windows and host frames, so
 * the peer can call back into us and the host can call out again.
 *
 * The completion state of a send is on the heap and reference counted
 * (the waiter and the completion each hold one reference): a wait that
 * gives up (timeout, target gone, shutdown) drops its reference and the
 * late completion frees the state.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#define NO_LIMIT_MS 0x7FFFFFFFu /* "no timeout" for SendMessageTimeoutW */

static void reply_send_result(struct shim_context *ctx, uint32_t tag, LRESULT lresult,
                              int delivered, DWORD lastError)
{
    struct builder b;

    builder_init(&b, 16);
    put_u64(&b, (uint64_t)(int64_t)lresult);
    put_u32(&b, delivered ? 1 : 0);
    put_u32(&b, lastError);
    reply_ok(ctx, tag, &b);
}

/* --------------------------------------------------------- SEND_MESSAGE */

struct send_state {
    LONG refs;
    volatile LONG done;
    LRESULT lresult;
};

static void send_state_release(struct send_state *st)
{
    if (InterlockedDecrement(&st->refs) == 0)
        free(st);
}

/* Runs on the main thread, from inside PeekMessage (or directly, inside
 * SendMessageCallbackW, when the target is one of our own windows). */
static VOID CALLBACK send_completed(HWND hwnd, UINT msg, ULONG_PTR data, LRESULT result)
{
    struct send_state *st = (struct send_state *)data;

    st->lresult = result;
    InterlockedExchange(&st->done, 1);
    send_state_release(st);
}

static int send_state_done(void *arg)
{
    return ((struct send_state *)arg)->done != 0;
}

/* What send_and_wait did. SEND_REPLIED: it already answered `tag` with an
 * error status (timeout, shutting down, a Win32 failure). */
enum send_result { SEND_DELIVERED, SEND_NOT_DELIVERED, SEND_REPLIED };

/* THE WAIT around one SendMessageCallbackW: SEND_MESSAGE and CALL_MAPPED.
 * On SEND_DELIVERED *lresult is the target's answer; on SEND_NOT_DELIVERED
 * *lastError says why (the target is not, or no longer, a window). */
static enum send_result send_and_wait(struct shim_context *ctx, uint32_t tag, const char *request,
                                      HWND hwnd, UINT msg, DWORD timeoutMs, WPARAM wParam,
                                      LPARAM lParam, LRESULT *lresult, DWORD *lastError)
{
    struct send_state *st;
    enum send_result result = SEND_REPLIED;
    enum wait_result r;
    DWORD err;

    *lresult = 0;
    *lastError = 0;
    /* No IsWindow() first: for another process's window that is a wineserver
     * request, and SendMessageCallbackW fails on a handle that is not a
     * window anyway (checked below). Only the handles it would broadcast to
     * (HWND_BROADCAST, HWND_TOPMOST; the wineserver compares 32 bits) and
     * NULL are refused here. */
    switch ((uint32_t)(ULONG_PTR)hwnd) {
    case 0:
    case 0xFFFFu:
    case 0xFFFFFFFFu:
        *lastError = ERROR_INVALID_WINDOW_HANDLE;
        return SEND_NOT_DELIVERED;
    }
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        return SEND_REPLIED;
    }
    st->refs = 2;
    LOG_DEBUG(ctx, "%s tag %u: 0x%x to %p (depth %u)", request, tag, msg, (void *)hwnd,
              ctx->nestDepth);
    if (!SendMessageCallbackW(hwnd, msg, wParam, lParam, send_completed, (ULONG_PTR)st)) {
        err = GetLastError();
        free(st); /* the completion will never run */
        if (!IsWindow(hwnd)) {
            *lastError = err ? err : ERROR_INVALID_WINDOW_HANDLE;
            return SEND_NOT_DELIVERED;
        }
        shim_log_win32(ctx, "SendMessageCallbackW", err);
        reply_win32(ctx, tag, err, "SendMessageCallbackW");
        return SEND_REPLIED;
    }
    shim_spin_for_send(ctx, send_state_done, st);
    r = shim_wait(ctx, send_state_done, st, timeoutMs, hwnd, 0, 0);
    switch (r) {
    case WAIT_DONE:
        /* Wine completes the callback with 0 when the receiving thread dies
         * before answering: a 0 from a window that no longer exists counts
         * as not delivered. */
        if (st->lresult == 0 && !IsWindow(hwnd)) {
            LOG_INFO(ctx, "%s tag %u: the target window died", request, tag);
            *lastError = ERROR_INVALID_WINDOW_HANDLE;
            result = SEND_NOT_DELIVERED;
        } else {
            *lresult = st->lresult;
            result = SEND_DELIVERED;
        }
        break;
    case WAIT_EXPIRED:
        LOG_INFO(ctx, "%s tag %u: no answer within %lu ms", request, tag, (unsigned long)timeoutMs);
        reply_status(ctx, tag, SIPB_S_TIMEOUT, "no answer within %lu ms", (unsigned long)timeoutMs);
        break;
    case WAIT_TARGET_GONE:
        LOG_INFO(ctx, "%s tag %u: the target window died", request, tag);
        *lastError = ERROR_INVALID_WINDOW_HANDLE;
        result = SEND_NOT_DELIVERED;
        break;
    case WAIT_QUITTING:
        reply_status(ctx, tag, SIPB_S_SHUTTING_DOWN, "the shim is leaving");
        break;
    }
    send_state_release(st);
    return result;
}

void req_send_message(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    HWND hwnd = (HWND)(uintptr_t)get_u64(p);
    UINT msg = get_u32(p);
    DWORD timeoutMs = get_u32(p);
    WPARAM wParam = (WPARAM)get_u64(p);
    LPARAM lParam = (LPARAM)get_u64(p);
    LRESULT lresult;
    DWORD lastError;

    if (!request_parsed(ctx, p, "SEND_MESSAGE"))
        return;
    switch (send_and_wait(ctx, tag, "SEND_MESSAGE", hwnd, msg, timeoutMs, wParam, lParam, &lresult,
                          &lastError)) {
    case SEND_DELIVERED: reply_send_result(ctx, tag, lresult, 1, 0); break;
    case SEND_NOT_DELIVERED: reply_send_result(ctx, tag, 0, 0, lastError); break;
    case SEND_REPLIED: break;
    }
}

/* ---------------------------------------------------------- CALL_MAPPED */

/* objects.c. Declared here because shim.h belongs to the wait-path work;
 * move it there with the other objects.c functions. */

/* REPLY status, lresult, delivered, lastError, readCount, then per read a
 * bytes length: what a CALL_MAPPED result costs besides the bytes read. */
#define CALL_MAPPED_RESULT_OVERHEAD (4u + 8u + 4u + 4u + 4u + 4u * SIPB_MAX_MAPPED_SPANS)

struct mapped_span {
    uint32_t offset;
    uint32_t length;
    const uint8_t *data; /* writes: points into the request's payload */
};

/* Checks one span against the view; replies BAD_REQUEST when it is past
 * the end. 64-bit arithmetic: two u32 values cannot overflow it. */
static int span_fits(struct shim_context *ctx, uint32_t tag, const struct shim_object *o,
                     const struct mapped_span *s, const char *what, uint32_t index)
{
    if ((uint64_t)s->offset + (uint64_t)s->length <= o->viewSize)
        return 1;
    reply_status(ctx, tag, SIPB_S_BAD_REQUEST,
                 "CALL_MAPPED: %s %u (offset %u + length %u) is past the mapping's %llu bytes",
                 what, index, s->offset, s->length, (unsigned long long)o->viewSize);
    return 0;
}

/* WRITE_MAPPING x writeCount, SEND_MESSAGE, READ_MAPPING x readCount in one
 * round trip. Everything is checked before the first byte is written. */
void req_call_mapped(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    struct mapped_span writes[SIPB_MAX_MAPPED_SPANS], reads[SIPB_MAX_MAPPED_SPANS];
    uint64_t handle, readTotal = 0;
    uint32_t writeCount, readCount, i;
    HWND hwnd;
    UINT msg;
    DWORD timeoutMs, lastError;
    WPARAM wParam;
    LPARAM lParam;
    LRESULT lresult;
    struct shim_object *o;
    struct builder b;
    int delivered;

    handle = get_u64(p);
    writeCount = get_u32(p);
    if (!p->bad && writeCount > SIPB_MAX_MAPPED_SPANS) {
        /* The rest of the payload cannot be read without trusting the count. */
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CALL_MAPPED: writeCount %u is above %u",
                     writeCount, SIPB_MAX_MAPPED_SPANS);
        return;
    }
    for (i = 0; i < writeCount && !p->bad; i++) {
        writes[i].offset = get_u32(p);
        writes[i].data = get_bytes(p, &writes[i].length);
    }
    hwnd = (HWND)(uintptr_t)get_u64(p);
    msg = get_u32(p);
    timeoutMs = get_u32(p);
    wParam = (WPARAM)get_u64(p);
    lParam = (LPARAM)get_u64(p);
    readCount = get_u32(p);
    if (!p->bad && readCount > SIPB_MAX_MAPPED_SPANS) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CALL_MAPPED: readCount %u is above %u",
                     readCount, SIPB_MAX_MAPPED_SPANS);
        return;
    }
    for (i = 0; i < readCount && !p->bad; i++) {
        reads[i].offset = get_u32(p);
        reads[i].length = get_u32(p);
        reads[i].data = NULL;
        readTotal += reads[i].length;
    }
    if (!request_parsed(ctx, p, "CALL_MAPPED"))
        return;

    o = mapping_lookup(ctx, handle);
    if (o == NULL) {
        reply_status(ctx, tag, SIPB_S_NOT_FOUND,
                     "CALL_MAPPED: handle 0x%llx is not one the shim handed out",
                     (unsigned long long)handle);
        return;
    }
    if (o->kind != OBJ_MAPPING) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "CALL_MAPPED: handle 0x%llx is not a mapping",
                     (unsigned long long)handle);
        return;
    }
    for (i = 0; i < writeCount; i++)
        if (!span_fits(ctx, tag, o, &writes[i], "write", i))
            return;
    for (i = 0; i < readCount; i++)
        if (!span_fits(ctx, tag, o, &reads[i], "read", i))
            return;
    if (readTotal > SIPB_MAX_PAYLOAD - CALL_MAPPED_RESULT_OVERHEAD) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST,
                     "CALL_MAPPED: %llu bytes of reads do not fit a frame",
                     (unsigned long long)readTotal);
        return;
    }

    for (i = 0; i < writeCount; i++)
        if (writes[i].length)
            memcpy(o->view + writes[i].offset, writes[i].data, writes[i].length);
    /* `o` is not used past the send: nested requests may close the mapping
     * or grow the table under us. */
    o = NULL;

    switch (send_and_wait(ctx, tag, "CALL_MAPPED", hwnd, msg, timeoutMs, wParam, lParam, &lresult,
                          &lastError)) {
    case SEND_DELIVERED: delivered = 1; break;
    case SEND_NOT_DELIVERED: delivered = 0; break;
    default: return; /* SEND_REPLIED */
    }
    if (!delivered)
        readCount = 0;
    else if (readCount > 0) {
        o = mapping_lookup(ctx, handle);
        if (o == NULL || o->kind != OBJ_MAPPING) {
            reply_status(ctx, tag, SIPB_S_NOT_FOUND,
                         "CALL_MAPPED: the mapping 0x%llx was closed during the send (lresult %lld)",
                         (unsigned long long)handle, (long long)lresult);
            return;
        }
        for (i = 0; i < readCount; i++)
            if ((uint64_t)reads[i].offset + reads[i].length > o->viewSize) {
                reply_status(ctx, tag, SIPB_S_NOT_FOUND,
                             "CALL_MAPPED: the mapping 0x%llx changed during the send",
                             (unsigned long long)handle);
                return;
            }
    }
    if (!builder_init(&b, CALL_MAPPED_RESULT_OVERHEAD + (size_t)readTotal)) {
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        return;
    }
    put_u64(&b, (uint64_t)(int64_t)lresult);
    put_u32(&b, (uint32_t)delivered);
    put_u32(&b, lastError);
    put_u32(&b, readCount);
    for (i = 0; i < readCount; i++)
        put_bytes(&b, o->view + reads[i].offset, reads[i].length);
    reply_ok(ctx, tag, &b);
}

/* --------------------------------------------------------- POST_MESSAGE */

void req_post_message(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    HWND hwnd = (HWND)(uintptr_t)get_u64(p);
    UINT msg = get_u32(p);
    uint32_t reserved = get_u32(p);
    WPARAM wParam = (WPARAM)get_u64(p);
    LPARAM lParam = (LPARAM)get_u64(p);
    struct builder b;
    BOOL ok;
    DWORD err = 0;

    if (!request_parsed(ctx, p, "POST_MESSAGE"))
        return;
    if (reserved != 0) {
        reply_status(ctx, tag, SIPB_S_BAD_REQUEST, "POST_MESSAGE: reserved field is %u, not 0",
                     reserved);
        return;
    }
    ok = PostMessageW(hwnd, msg, wParam, lParam);
    if (!ok)
        err = shim_log_win32(ctx, "PostMessageW", GetLastError());
    builder_init(&b, 8);
    put_u32(&b, ok ? 1 : 0);
    put_u32(&b, err);
    reply_ok(ctx, tag, &b);
}

/* -------------------------------------------------------- SEND_COPYDATA */

struct copydata_job {
    LONG refs;
    volatile LONG done;
    struct shim_context *ctx;
    HWND hwnd;
    WPARAM wParam;
    COPYDATASTRUCT cds;
    uint8_t *payload; /* the request's payload; cds.lpData points into it */
    uint32_t capacity; /* its buffer's size */
    DWORD timeoutMs;
    DWORD_PTR result;
    BOOL ok;
    DWORD err;
};

static void copydata_job_release(struct copydata_job *job)
{
    if (InterlockedDecrement(&job->refs) == 0) {
        payload_release(job->ctx, job->payload, job->capacity);
        free(job);
    }
}

static int copydata_job_done(void *arg)
{
    return ((struct copydata_job *)arg)->done != 0;
}

/* The worker blocks in SendMessageTimeoutW, which can carry WM_COPYDATA's
 * bytes across processes; the main thread waits and services meanwhile
 * (including the peer's nested sends to our windows). */
static void copydata_run(struct copydata_job *job)
{
    struct shim_context *ctx = job->ctx;

    SetLastError(0);
    job->ok = SendMessageTimeoutW(job->hwnd, WM_COPYDATA, job->wParam, (LPARAM)&job->cds,
                                  SMTO_NORMAL, job->timeoutMs ? job->timeoutMs : NO_LIMIT_MS,
                                  &job->result) != 0;
    job->err = job->ok ? 0 : GetLastError();
    InterlockedExchange(&job->done, 1);
    shim_wake(ctx);
    copydata_job_release(job);
}

#ifndef SIPB_FUZZ_WINDOWS_H
/* Workers are kept: creating a thread costs a millisecond or two under Wine,
 * more than sending a small WM_COPYDATA. A worker that finished its job waits
 * (idle) up to COPYDATA_IDLE_MS for another; at most COPYDATA_IDLE_MAX wait at
 * once (several run at once only when SEND_COPYDATA requests nest). The fuzz
 * build's in-memory Win32 runs a thread to completion inside CreateThread, so
 * there every job gets a thread of its own, as below when no worker is idle. */
#define COPYDATA_IDLE_MAX 4
#define COPYDATA_IDLE_MS 30000

struct copydata_worker {
    HANDLE wake;                 /* auto-reset: a job was handed over */
    struct copydata_job *job;    /* guarded by g_pool_lock */
    struct copydata_worker *next;
};

static SRWLOCK g_pool_lock = SRWLOCK_INIT;
static struct copydata_worker *g_idle;
static unsigned g_idle_count;

/* Takes `w` off the idle list (the lock is held). */
static void pool_unlink(struct copydata_worker *w)
{
    struct copydata_worker **pp = &g_idle;

    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = w->next;
        g_idle_count--;
    }
}

static DWORD WINAPI copydata_worker(void *arg)
{
    struct copydata_worker *w = arg;
    struct copydata_job *job = w->job;

    for (;;) {
        copydata_run(job);
        AcquireSRWLockExclusive(&g_pool_lock);
        if (g_idle_count >= COPYDATA_IDLE_MAX) {
            ReleaseSRWLockExclusive(&g_pool_lock);
            break;
        }
        w->job = NULL;
        w->next = g_idle;
        g_idle = w;
        g_idle_count++;
        ReleaseSRWLockExclusive(&g_pool_lock);
        WaitForSingleObject(w->wake, COPYDATA_IDLE_MS);
        /* Decided under the lock: a job handed over as the wait timed out is run. */
        AcquireSRWLockExclusive(&g_pool_lock);
        job = w->job;
        if (job == NULL)
            pool_unlink(w);
        ReleaseSRWLockExclusive(&g_pool_lock);
        if (job == NULL)
            break;
    }
    CloseHandle(w->wake);
    free(w);
    return 0;
}

/* Runs `job` on an idle worker, or on a new one. Returns 0 (with GetLastError)
 * when no thread could be made. */
static int copydata_dispatch(struct copydata_job *job)
{
    struct copydata_worker *w;
    HANDLE thread;

    AcquireSRWLockExclusive(&g_pool_lock);
    w = g_idle;
    if (w) {
        g_idle = w->next;
        g_idle_count--;
        w->job = job;
    }
    ReleaseSRWLockExclusive(&g_pool_lock);
    if (w) {
        SetEvent(w->wake);
        return 1;
    }
    w = calloc(1, sizeof *w);
    if (w == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return 0;
    }
    w->wake = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (w->wake == NULL) {
        free(w);
        return 0;
    }
    w->job = job;
    thread = CreateThread(NULL, 64 * 1024, copydata_worker, w, STACK_SIZE_PARAM_IS_A_RESERVATION,
                          NULL);
    if (thread == NULL) {
        DWORD err = GetLastError();
        CloseHandle(w->wake);
        free(w);
        SetLastError(err);
        return 0;
    }
    CloseHandle(thread);
    return 1;
}
#else
static DWORD WINAPI copydata_thread(void *arg)
{
    copydata_run(arg);
    return 0;
}

static int copydata_dispatch(struct copydata_job *job)
{
    HANDLE thread = CreateThread(NULL, 64 * 1024, copydata_thread, job,
                                 STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
    if (thread == NULL)
        return 0;
    CloseHandle(thread);
    return 1;
}
#endif

void req_send_copydata(struct shim_context *ctx, uint32_t tag, struct frame *f, struct parser *p)
{
    HWND hwnd = (HWND)(uintptr_t)get_u64(p);
    WPARAM wParam = (WPARAM)get_u64(p);
    ULONG_PTR dwData = (ULONG_PTR)get_u64(p);
    DWORD timeoutMs = get_u32(p);
    uint32_t length;
    const uint8_t *data = get_bytes(p, &length);
    struct copydata_job *job;
    enum wait_result r;
    DWORD err;

    if (!request_parsed(ctx, p, "SEND_COPYDATA"))
        return;
    if (hwnd == NULL || !IsWindow(hwnd)) {
        reply_send_result(ctx, tag, 0, 0, ERROR_INVALID_WINDOW_HANDLE);
        return;
    }
    job = calloc(1, sizeof *job);
    if (job == NULL) {
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        return;
    }
    job->refs = 2;
    job->ctx = ctx;
    job->hwnd = hwnd;
    job->wParam = wParam;
    job->timeoutMs = timeoutMs;
    job->cds.dwData = dwData;
    job->cds.cbData = length;
    job->cds.lpData = length ? (void *)data : NULL;
    /* Take the payload: the job may outlive this request (timeout). */
    job->payload = f->payload;
    job->capacity = f->capacity;
    f->payload = NULL;
    f->capacity = 0;
    LOG_DEBUG(ctx, "SEND_COPYDATA tag %u: %lu bytes to %p (depth %u)", tag, (unsigned long)length,
              (void *)hwnd, ctx->nestDepth);

    if (!copydata_dispatch(job)) {
        err = shim_log_win32(ctx, "CreateThread(copydata)", GetLastError());
        job->refs = 1;
        copydata_job_release(job);
        reply_win32(ctx, tag, err, "CreateThread");
        return;
    }

    r = shim_wait(ctx, copydata_job_done, job, timeoutMs, hwnd, 0, 0);
    switch (r) {
    case WAIT_DONE:
        if (job->ok) {
            reply_send_result(ctx, tag, (LRESULT)job->result, 1, 0);
        } else if (job->err == ERROR_TIMEOUT) {
            reply_status(ctx, tag, SIPB_S_TIMEOUT, "no answer within %lu ms",
                         (unsigned long)timeoutMs);
        } else if (!IsWindow(hwnd)) {
            reply_send_result(ctx, tag, 0, 0, job->err);
        } else {
            shim_log_win32(ctx, "SendMessageTimeoutW(WM_COPYDATA)", job->err);
            reply_win32(ctx, tag, job->err, "SendMessageTimeoutW");
        }
        break;
    case WAIT_EXPIRED:
        LOG_INFO(ctx, "SEND_COPYDATA tag %u: no answer within %lu ms", tag,
                 (unsigned long)timeoutMs);
        reply_status(ctx, tag, SIPB_S_TIMEOUT, "no answer within %lu ms", (unsigned long)timeoutMs);
        break;
    case WAIT_TARGET_GONE:
        LOG_INFO(ctx, "SEND_COPYDATA tag %u: the target window died", tag);
        reply_send_result(ctx, tag, 0, 0, ERROR_INVALID_WINDOW_HANDLE);
        break;
    case WAIT_QUITTING:
        reply_status(ctx, tag, SIPB_S_SHUTTING_DOWN, "the shim is leaving");
        break;
    }
    copydata_job_release(job);
}
