/*
 * wait.c - THE WAIT and the dispatch of host frames.
 *
 * Whenever the main thread has to wait (for the host's REPLY to an EV_*
 * frame, or for the completion of an outgoing SendMessage), it runs
 * shim_wait(): it keeps servicing the messages other threads and processes
 * SEND to it (that is how a Windows peer's nested call reaches our window
 * procedure while we wait) and keeps processing host frames (a REPLY
 * completes whichever wait owns its tag, a request runs inline, nested).
 *
 * Nesting goes through the native stack, so every level keeps its frame
 * small: payloads are on the heap.
 *
 * A wait for the host's REPLY first spins for a short while (ctx->spinTicks,
 * SIPB_SHIM_SPIN_US, default 100 us) watching the ring (ring.c) and the
 * reader's queue, and only then arms the wake event and blocks. A host that
 * answers within the spin costs the main thread no wineserver request and no
 * wake-up: SetEvent, the wineserver's wake of the blocked thread and the
 * thread's return to user space were most of the time the host's answer took
 * to get back, and an answer in the ring does not need the reader thread's
 * wake-up either (docs/BENCHMARKS.md, Findings 8). Messages sent to us wait
 * for the spin to end, so it is kept short, and it is off on a single
 * processor.
 *
 * Two more spins (Findings 9): a wait for a Windows window's answer to our
 * SendMessageCallbackW first polls for it with PeekMessage, as SOUI's
 * clients do (SIPB_SHIM_SEND_SPIN_US, default 400 us), and the idle main
 * loop watches the ring for a while after each host request before it
 * blocks (SIPB_SHIM_IDLE_SPIN_US, default 200 us, main.c), so that a host
 * making calls one after another finds the shim awake. On this project's
 * virtual machines a blocked thread is woken by an interrupt to a halted
 * virtual processor, which costs far more than the spin.
 *
 * When the spin for the host's REPLY ends without it, the thread blocks on
 * ctx->wakeWord with WaitOnAddress, which Wine implements with a futex inside
 * the process, and the reader wakes it with WakeByAddressSingle: no
 * SetEvent, no select and no set_queue_mask request to the wineserver, which
 * under load serves every request in turn with the SOUI clients' spinning
 * PeekMessage stream (docs/BENCHMARKS.md, Findings 13). Only a host frame can
 * complete such a wait, and every host request arrives as one (a nested
 * SEND_MESSAGE then waits with MsgWaitForMultipleObjectsEx as before), so
 * messages Windows programs send us meanwhile wait for the REPLY, as they
 * would at a Windows server busy with a call; a wait that lasts is woken
 * every HOST_WAIT_POLL_MS to run them, so that none can wait for us forever.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#define WATCH_POLL_MS 50 /* how often a wait re-checks IsWindow(target) */
#define HOST_WAIT_POLL_MS 5 /* how often a wait on wakeWord looks for sent messages */

/* ------------------------------------------------- messages sent to us */

void shim_dispatch_posted(struct shim_context *ctx, MSG *msg)
{
    /* Mark the message so the window procedure can tell a posted message
     * from a direct same-thread SendMessage (both show ISMEX_NOSEND). */
    ctx->posted = *msg;
    ctx->postedValid = 1;
    DispatchMessageW(msg);
    ctx->postedValid = 0;
}

static void service_sent_messages(struct shim_context *ctx)
{
    MSG msg;

    /* PM_QS_SENDMESSAGE: run the messages sent to this thread (and the
     * SendMessageCallback completions); posted ones stay queued for the
     * main loop. Called only when the wait below said a sent message is
     * there: each empty PeekMessage is a wineserver request. */
    while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE | PM_QS_SENDMESSAGE)) {
        if (msg.message == WM_QUIT) {
            LOG_INFO(ctx, "ignoring WM_QUIT");
            continue;
        }
        shim_dispatch_posted(ctx, &msg);
        if (ctx->quit)
            return;
    }
}

/* ---------------------------------------------------------- the spin */

#define SPIN_US_DEFAULT 100u
#define SEND_SPIN_US_DEFAULT 400u
#define IDLE_SPIN_US_DEFAULT 200u
#define SPIN_US_MAX 10000u

/* Reads a spin setting of up to SPIN_US_MAX microseconds from `name`, and
 * returns it in performance-counter ticks (0 when off, on one processor, or
 * without a counter). A bad value is refused with a log line; a spin that is
 * on is said in one ("<what> up to N us"). */
static LONGLONG spin_setting(struct shim_context *ctx, const char *name, unsigned long fallback,
                             const char *what)
{
    char value[16];
    DWORD n;
    unsigned long us = fallback;
    LARGE_INTEGER freq;

    n = GetEnvironmentVariableA(name, value, sizeof value);
    if (n >= sizeof value) {
        LOG_ERROR(ctx, "%s is not a number of microseconds up to %u; using %lu", name, SPIN_US_MAX,
                  fallback);
    } else if (n > 0) {
        char *end;
        us = strtoul(value, &end, 10);
        if (end == value || *end != '\0' || us > SPIN_US_MAX) {
            LOG_ERROR(ctx, "%s=%s is not a number of microseconds up to %u; using %lu", name, value,
                      SPIN_US_MAX, fallback);
            us = fallback;
        }
    }
    if (us == 0 || GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) < 2 ||
        !QueryPerformanceFrequency(&freq) || freq.QuadPart <= 0)
        return 0; /* spinning on one processor only delays the peer it waits for */
    LOG_INFO(ctx, "%s up to %lu us", what, us);
    return (LONGLONG)(((unsigned long long)freq.QuadPart * us + 999999u) / 1000000u);
}

/* Finds WaitOnAddress and WakeByAddressSingle (kernelbase.dll: Windows 8 and
 * later, and Wine), unless SIPB_SHIM_WAIT_ON_ADDRESS is 0; without them a
 * wait for the host blocks on wakeEvent like every other wait. */
static void wait_on_address_init(struct shim_context *ctx)
{
    char value[8];
    DWORD n = GetEnvironmentVariableA("SIPB_SHIM_WAIT_ON_ADDRESS", value, sizeof value);
    HMODULE kernelbase;

    ctx->waitOnAddress = NULL;
    ctx->wakeByAddress = NULL;
    if (n > 0 && n < sizeof value && strcmp(value, "0") == 0) {
        LOG_INFO(ctx, "waits for the host block on the wake event (SIPB_SHIM_WAIT_ON_ADDRESS=0)");
        return;
    }
    kernelbase = GetModuleHandleW(L"kernelbase.dll");
    if (kernelbase) {
        ctx->waitOnAddress = (BOOL(WINAPI *)(volatile VOID *, PVOID, SIZE_T, DWORD))(
            void (*)(void))GetProcAddress(kernelbase, "WaitOnAddress");
        ctx->wakeByAddress =
            (VOID(WINAPI *)(PVOID))(void (*)(void))GetProcAddress(kernelbase, "WakeByAddressSingle");
    }
    if (ctx->waitOnAddress == NULL || ctx->wakeByAddress == NULL) {
        ctx->waitOnAddress = NULL;
        ctx->wakeByAddress = NULL;
        LOG_INFO(ctx, "no WaitOnAddress: waits for the host block on the wake event");
        return;
    }
    LOG_INFO(ctx, "waits for the host block on an address (WaitOnAddress)");
}

/* Three spins, each of which keeps a thread (and its processor) awake for a
 * short while instead of blocking and being woken through the wineserver:
 * docs/BENCHMARKS.md, Findings 8 and 9. */
void shim_spin_init(struct shim_context *ctx)
{
    ctx->spinTicks = spin_setting(ctx, "SIPB_SHIM_SPIN_US", SPIN_US_DEFAULT,
                                  "waits for the host spin first");
    ctx->sendSpinTicks = spin_setting(ctx, "SIPB_SHIM_SEND_SPIN_US", SEND_SPIN_US_DEFAULT,
                                      "waits for a window's answer spin first");
    ctx->idleSpinTicks = spin_setting(ctx, "SIPB_SHIM_IDLE_SPIN_US", IDLE_SPIN_US_DEFAULT,
                                      "after a host request, watches for the next");
    wait_on_address_init(ctx);
}

/* A host frame is waiting: in the reader's queue or in the ring. An unlocked
 * look, only a hint: the frame is then taken by queue_pop_or_arm. */
static int host_frame_waiting(struct shim_context *ctx)
{
    return __atomic_load_n(&ctx->queueHead, __ATOMIC_ACQUIRE) != NULL || ring_pending(ctx);
}

/* Watches the ring and the reader's queue for up to `ticks` performance-
 * counter ticks, and returns as soon as a frame is there. The unlocked looks
 * are only hints: the frame is then taken by queue_pop_or_arm. */
void shim_spin_for_frame(struct shim_context *ctx, LONGLONG ticks)
{
    LARGE_INTEGER start, now;
    unsigned i;

    if (ticks <= 0)
        return;
    QueryPerformanceCounter(&start);
    for (;;) {
        for (i = 0; i < 64; i++) {
            if (host_frame_waiting(ctx))
                return;
            YieldProcessor();
        }
        QueryPerformanceCounter(&now);
        if (now.QuadPart - start.QuadPart >= ticks)
            return;
    }
}

/* The wait for a Windows window's answer to our SendMessageCallbackW, first
 * part: for up to ctx->sendSpinTicks, keep asking for sent messages (the
 * completion is one) as SOUI's own clients do, instead of blocking and being
 * woken by the wineserver. Stops early when a host frame comes (shim_wait
 * then takes it) or when we are leaving. */
void shim_spin_for_send(struct shim_context *ctx, wait_done_fn done, void *arg)
{
    LARGE_INTEGER start, now;
    LONGLONG ticks = ctx->sendSpinTicks;

    if (ticks <= 0)
        return;
    QueryPerformanceCounter(&start);
    while (!done(arg) && !ctx->quit) {
        if (host_frame_waiting(ctx))
            return;
        service_sent_messages(ctx);
        QueryPerformanceCounter(&now);
        if (now.QuadPart - start.QuadPart >= ticks)
            return;
    }
}

/* ---------------------------------------------------------- the wait */

/* The blocking part of a wait for the host (forHost): on ctx->wakeWord,
 * whose value `seen` was read before queue_pop_or_arm_word found nothing.
 * When HOST_WAIT_POLL_MS pass without a wake-up, runs the messages sent to
 * us meanwhile. */
static void wait_for_host_word(struct shim_context *ctx, LONG seen)
{
    BOOL woken = ctx->waitOnAddress(&ctx->wakeWord, &seen, sizeof seen, HOST_WAIT_POLL_MS);
    DWORD err = woken ? 0 : GetLastError();

    queue_disarm(ctx);
    if (woken)
        return;
    if (err != ERROR_TIMEOUT) {
        shim_log_win32(ctx, "WaitOnAddress", err);
        Sleep(1); /* do not spin flat out if this keeps failing */
    }
    if (MsgWaitForMultipleObjectsEx(0, NULL, 0, QS_SENDMESSAGE, MWMO_INPUTAVAILABLE) == WAIT_OBJECT_0)
        service_sent_messages(ctx);
}

enum wait_result shim_wait(struct shim_context *ctx, wait_done_fn done, void *arg,
                           DWORD timeoutMs, HWND watch, LONGLONG spinTicks, int forHost)
{
    int spin = spinTicks > 0;
    int onWord = forHost && ctx->waitOnAddress != NULL;
    LONG seen = 0;
    ULONGLONG start = GetTickCount64();
    ULONGLONG lastWatch = start;
    ULONGLONG now, elapsed;
    DWORD slice, rc;
    struct frame *f;

    for (;;) {
        if (done(arg))
            return WAIT_DONE;
        if (ctx->quit)
            return WAIT_QUITTING;
        now = GetTickCount64();
        elapsed = now - start;
        if (watch && now - lastWatch >= WATCH_POLL_MS) {
            lastWatch = now;
            if (!IsWindow(watch))
                return WAIT_TARGET_GONE;
        }
        if (timeoutMs && elapsed >= timeoutMs)
            return WAIT_EXPIRED;

        /* Host frames first (after a spin for one, when asked and not done
         * since the last frame); when there are none, tell the reader we wait. */
        if (spin) {
            spin = 0;
            shim_spin_for_frame(ctx, spinTicks);
        }
        if (onWord)
            seen = __atomic_load_n(&ctx->wakeWord, __ATOMIC_ACQUIRE); /* before the queue is looked at */
        f = onWord ? queue_pop_or_arm_word(ctx) : queue_pop_or_arm(ctx);
        if (f) {
            shim_process_frame(ctx, f);
            spin = spinTicks > 0;
            continue;
        }
        if (onWord) {
            wait_for_host_word(ctx, seen);
            continue;
        }

        slice = INFINITE;
        if (timeoutMs)
            slice = (DWORD)(timeoutMs - elapsed);
        if (watch && slice > WATCH_POLL_MS)
            slice = WATCH_POLL_MS;
        /* MWMO_INPUTAVAILABLE: a sent message that is already queued ends
         * the wait at once, so no PeekMessage is needed before it. */
        rc = MsgWaitForMultipleObjectsEx(1, &ctx->wakeEvent, slice, QS_SENDMESSAGE,
                                         MWMO_INPUTAVAILABLE);
        queue_disarm(ctx);
        if (rc == WAIT_OBJECT_0 + 1) {
            service_sent_messages(ctx);
        } else if (rc == WAIT_FAILED) {
            shim_log_win32(ctx, "MsgWaitForMultipleObjectsEx", GetLastError());
            Sleep(1); /* do not spin flat out if this keeps failing */
        }
    }
}

/* ------------------------------------------------- events to the host */

static int event_wait_done(void *arg)
{
    return ((struct event_wait *)arg)->done;
}

int64_t shim_event_call(struct shim_context *ctx, struct builder *b, uint16_t type)
{
    return shim_event_call_tail(ctx, b, type, NULL, 0);
}

int64_t shim_event_call_tail(struct shim_context *ctx, struct builder *b, uint16_t type,
                             const void *tail, uint32_t tailLen)
{
    struct event_wait w;

    if (ctx->quit || ctx->hostGone) {
        builder_free(b);
        return 0;
    }
    memset(&w, 0, sizeof w);
    w.tag = ctx->nextEventTag++;
    if (ctx->nextEventTag == 0)
        ctx->nextEventTag = 1;
    /* Link before sending: the REPLY may be queued before WriteFile returns. */
    w.outer = ctx->waits;
    ctx->waits = &w;
    if (wire_send_tail(ctx, b, type, w.tag, tail, tailLen))
        shim_wait(ctx, event_wait_done, &w, 0, NULL, ctx->spinTicks, 1);
    /* Unlink (waits complete strictly inside-out, so we are the head). */
    if (ctx->waits == &w) {
        ctx->waits = w.outer;
    } else {
        struct event_wait **pp = &ctx->waits;
        while (*pp && *pp != &w)
            pp = &(*pp)->outer;
        if (*pp)
            *pp = w.outer;
    }
    if (!w.done) {
        LOG_INFO(ctx, "event tag %u abandoned (shutting down): answering 0", w.tag);
        return 0;
    }
    if (w.status != SIPB_S_OK) {
        LOG_INFO(ctx, "event tag %u answered with status %u: answering 0", w.tag, w.status);
        return 0;
    }
    return w.lresult;
}

/* A REPLY from the host answers one of our EV_* frames. */
static void handle_reply(struct shim_context *ctx, struct frame *f)
{
    struct event_wait *w;
    struct parser p;
    uint32_t status;
    int64_t lresult = 0;

    parser_init(&p, f->payload, f->length);
    status = get_u32(&p);
    if (status == SIPB_S_OK) {
        lresult = (int64_t)get_u64(&p);
        parser_finish(&p);
    } else if (status == SIPB_S_WIN32_ERROR) {
        get_u32(&p); /* error code; the rest is text */
    }
    if (p.bad) {
        protocol_error(ctx, SIPB_E_MALFORMED, "REPLY tag %u: %s", f->tag, p.why);
        return;
    }
    for (w = ctx->waits; w; w = w->outer) {
        if (w->tag == f->tag && !w->done) {
            w->done = 1;
            w->status = status;
            w->lresult = lresult;
            if (w != ctx->waits)
                LOG_DEBUG(ctx, "REPLY tag %u answers an outer wait; stored", f->tag);
            return;
        }
    }
    LOG_ERROR(ctx, "REPLY for tag %u, which no event is waiting for; ignored", f->tag);
}

/* ------------------------------------------------------ frame dispatch */

void shim_process_frame(struct shim_context *ctx, struct frame *f)
{
    if (f->kind == FRAME_EOF) {
        LOG_INFO(ctx, "the host is gone (%s); leaving", f->error);
        ctx->hostGone = 1;
        ctx->quit = 1;
        frame_free(f);
        return;
    }
    if (f->kind == FRAME_BAD) {
        protocol_error(ctx, SIPB_E_MALFORMED, "%s", f->error);
        frame_free(f);
        return;
    }
    LOG_DEBUG(ctx, "<- type 0x%04x tag %u payload %lu", f->type, f->tag,
              (unsigned long)f->length);
    if (ctx->quit) {
        /* Leaving already: nothing more is carried out. */
        frame_free(f);
        return;
    }

    switch (f->type) {
    case SIPB_T_REPLY:
        handle_reply(ctx, f);
        break;
    case SIPB_T_GOODBYE:
        LOG_INFO(ctx, "GOODBYE from the host; leaving");
        ctx->quit = 1;
        ctx->sendGoodbye = 1;
        break;
    case SIPB_T_PROTOCOL_ERROR: {
        struct parser p;
        uint32_t reason;
        parser_init(&p, f->payload, f->length);
        reason = get_u32(&p);
        LOG_ERROR(ctx, "PROTOCOL_ERROR from the host (reason %u): %.*s", reason,
                  p.bad ? 0 : (int)(f->length - 4), p.bad ? "" : (const char *)f->payload + 4);
        ctx->quit = 1;
        ctx->exitCode = 2;
        break;
    }
    case SIPB_T_DOORBELL: /* a valid one never gets here (reader.c drops it) */
        protocol_error(ctx, SIPB_E_MALFORMED,
                       "DOORBELL with a tag or a payload, in the ring, or without a ring");
        break;
    case SIPB_T_HELLO:
    case SIPB_T_HELLO_ACK:
        protocol_error(ctx, SIPB_E_MALFORMED, "unexpected frame type 0x%04x after the handshake",
                       f->type);
        break;
    default:
        if (f->tag == 0) {
            protocol_error(ctx, SIPB_E_MALFORMED, "request type 0x%04x carries tag 0", f->type);
            break;
        }
        ctx->nestDepth++;
        shim_handle_request(ctx, f);
        ctx->nestDepth--;
        break;
    }
    frame_free(f);
}
