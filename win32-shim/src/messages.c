/*
 * messages.c - messages the host sends out through the shim:
 * SEND_MESSAGE (SendMessageCallbackW + THE WAIT), POST_MESSAGE, and
 * SEND_COPYDATA (SendMessageTimeoutW on a worker thread + THE WAIT).
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

void req_send_message(struct shim_context *ctx, uint32_t tag, struct parser *p)
{
    HWND hwnd = (HWND)(uintptr_t)get_u64(p);
    UINT msg = get_u32(p);
    DWORD timeoutMs = get_u32(p);
    WPARAM wParam = (WPARAM)get_u64(p);
    LPARAM lParam = (LPARAM)get_u64(p);
    struct send_state *st;
    enum wait_result r;
    DWORD err;

    if (!request_parsed(ctx, p, "SEND_MESSAGE"))
        return;
    if (hwnd == NULL || !IsWindow(hwnd)) {
        reply_send_result(ctx, tag, 0, 0, ERROR_INVALID_WINDOW_HANDLE);
        return;
    }
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        reply_win32(ctx, tag, ERROR_NOT_ENOUGH_MEMORY, "malloc");
        return;
    }
    st->refs = 2;
    LOG_DEBUG(ctx, "SEND_MESSAGE tag %u: 0x%x to %p (depth %u)", tag, msg, (void *)hwnd,
              ctx->nestDepth);
    if (!SendMessageCallbackW(hwnd, msg, wParam, lParam, send_completed, (ULONG_PTR)st)) {
        err = shim_log_win32(ctx, "SendMessageCallbackW", GetLastError());
        free(st); /* the completion will never run */
        if (!IsWindow(hwnd))
            reply_send_result(ctx, tag, 0, 0, err);
        else
            reply_win32(ctx, tag, err, "SendMessageCallbackW");
        return;
    }
    r = shim_wait(ctx, send_state_done, st, timeoutMs, hwnd);
    switch (r) {
    case WAIT_DONE:
        /* Wine completes the callback with 0 when the receiving thread dies
         * before answering: a 0 from a window that no longer exists counts
         * as not delivered. */
        if (st->lresult == 0 && !IsWindow(hwnd)) {
            LOG_INFO(ctx, "SEND_MESSAGE tag %u: the target window died", tag);
            reply_send_result(ctx, tag, 0, 0, ERROR_INVALID_WINDOW_HANDLE);
        } else {
            reply_send_result(ctx, tag, st->lresult, 1, 0);
        }
        break;
    case WAIT_EXPIRED:
        LOG_INFO(ctx, "SEND_MESSAGE tag %u: no answer within %lu ms", tag, (unsigned long)timeoutMs);
        reply_status(ctx, tag, SIPB_S_TIMEOUT, "no answer within %lu ms", (unsigned long)timeoutMs);
        break;
    case WAIT_TARGET_GONE:
        LOG_INFO(ctx, "SEND_MESSAGE tag %u: the target window died", tag);
        reply_send_result(ctx, tag, 0, 0, ERROR_INVALID_WINDOW_HANDLE);
        break;
    case WAIT_QUITTING:
        reply_status(ctx, tag, SIPB_S_SHUTTING_DOWN, "the shim is leaving");
        break;
    }
    send_state_release(st);
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
    DWORD timeoutMs;
    DWORD_PTR result;
    BOOL ok;
    DWORD err;
};

static void copydata_job_release(struct copydata_job *job)
{
    if (InterlockedDecrement(&job->refs) == 0) {
        free(job->payload);
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
static DWORD WINAPI copydata_worker(void *arg)
{
    struct copydata_job *job = arg;
    struct shim_context *ctx = job->ctx;

    SetLastError(0);
    job->ok = SendMessageTimeoutW(job->hwnd, WM_COPYDATA, job->wParam, (LPARAM)&job->cds,
                                  SMTO_NORMAL, job->timeoutMs ? job->timeoutMs : NO_LIMIT_MS,
                                  &job->result) != 0;
    job->err = job->ok ? 0 : GetLastError();
    InterlockedExchange(&job->done, 1);
    shim_wake(ctx);
    copydata_job_release(job);
    return 0;
}

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
    HANDLE thread;
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
    f->payload = NULL;
    LOG_DEBUG(ctx, "SEND_COPYDATA tag %u: %lu bytes to %p (depth %u)", tag, (unsigned long)length,
              (void *)hwnd, ctx->nestDepth);

    thread = CreateThread(NULL, 64 * 1024, copydata_worker, job, STACK_SIZE_PARAM_IS_A_RESERVATION,
                          NULL);
    if (thread == NULL) {
        err = shim_log_win32(ctx, "CreateThread(copydata)", GetLastError());
        job->refs = 1;
        copydata_job_release(job);
        reply_win32(ctx, tag, err, "CreateThread");
        return;
    }
    CloseHandle(thread);

    r = shim_wait(ctx, copydata_job_done, job, timeoutMs, hwnd);
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
