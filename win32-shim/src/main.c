/*
 * main.c - sipc-shim.exe: startup, the handshake, the main loop and the
 * orderly exit. See docs/PROTOCOL.md.
 *
 * Exit codes: 0 after the host's GOODBYE or when the host went away
 * (stdin ended, stdout broke); 1 when the shim could not start;
 * 2 after a protocol error (sent or received).
 */
#include "shim.h"

#include <string.h>

/* The shim's only global: everything else hangs off it. */
static struct shim_context g_shim;

static void send_hello(struct shim_context *ctx)
{
    struct builder b;

    builder_init(&b, 16);
    put_u32(&b, SIPB_MAGIC);
    put_u16(&b, SIPB_VERSION_MAJOR);
    put_u16(&b, SIPB_VERSION_MINOR);
    put_u32(&b, (uint32_t)GetCurrentProcessId());
    put_u32(&b, (ctx->ringBase ? SIPB_HELLO_RING : 0) | (ctx->uploadBase ? SIPB_HELLO_UPLOAD : 0));
    wire_send(ctx, &b, SIPB_T_HELLO, 0);
}

/* Waits for HELLO_ACK. Returns 1 when the handshake succeeded. */
static int handshake(struct shim_context *ctx)
{
    struct frame *f;
    struct parser p;
    uint32_t magic;
    uint16_t major, minor;

    send_hello(ctx);
    while (!ctx->quit) {
        f = queue_pop_or_arm(ctx);
        if (f == NULL) {
            if (WaitForSingleObject(ctx->wakeEvent, INFINITE) == WAIT_FAILED) {
                shim_log_win32(ctx, "WaitForSingleObject(wakeEvent)", GetLastError());
                Sleep(1);
            }
            continue;
        }
        if (f->kind != FRAME_DATA) {
            shim_process_frame(ctx, f); /* end of input or a bad header */
            return 0;
        }
        if (f->type != SIPB_T_HELLO_ACK || f->tag != 0) {
            protocol_error(ctx, SIPB_E_MALFORMED,
                           "expected HELLO_ACK with tag 0, got type 0x%04x tag %u", f->type, f->tag);
            frame_free(f);
            return 0;
        }
        parser_init(&p, f->payload, f->length);
        magic = get_u32(&p);
        major = get_u16(&p);
        minor = get_u16(&p);
        if (!parser_finish(&p)) {
            protocol_error(ctx, SIPB_E_MALFORMED, "HELLO_ACK: %s", p.why);
        } else if (magic != SIPB_MAGIC) {
            protocol_error(ctx, SIPB_E_MALFORMED, "HELLO_ACK: magic 0x%08x, expected 0x%08x", magic,
                           SIPB_MAGIC);
        } else if (major != SIPB_VERSION_MAJOR) {
            protocol_error(ctx, SIPB_E_VERSION, "host speaks version %u.%u, the shim %u.%u", major,
                           minor, SIPB_VERSION_MAJOR, SIPB_VERSION_MINOR);
        } else {
            LOG_INFO(ctx, "handshake done: host version %u.%u", major, minor);
            ctx->handshakeDone = 1;
        }
        frame_free(f);
        return ctx->handshakeDone;
    }
    return 0;
}

/* Host frames and window messages until someone says goodbye. Host frames
 * go first. The message queue is read only when there may be something in
 * it (at the start, after the wait said so, and after a PeekMessage that
 * returned a message): an empty PeekMessage is a wineserver request, and
 * MWMO_INPUTAVAILABLE ends the wait at once when input is already queued. */
static void main_loop(struct shim_context *ctx)
{
    struct frame *f;
    int peek = 1, idleSpin = 0;
    MSG msg;
    DWORD rc;

    while (!ctx->quit) {
        if (idleSpin && !peek) {
            idleSpin = 0;
            shim_spin_for_frame(ctx, ctx->idleSpinTicks);
        }
        f = peek ? queue_pop(ctx) : queue_pop_or_arm(ctx);
        if (f) {
            shim_process_frame(ctx, f);
            idleSpin = 1;
            continue;
        }
        if (peek) {
            /* Runs the messages sent to us inside; returns a posted one. */
            peek = PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE);
            if (peek) {
                if (msg.message == WM_QUIT)
                    LOG_INFO(ctx, "ignoring WM_QUIT");
                else
                    shim_dispatch_posted(ctx, &msg);
            }
            continue;
        }
        rc = MsgWaitForMultipleObjectsEx(1, &ctx->wakeEvent, INFINITE, QS_ALLINPUT,
                                         MWMO_INPUTAVAILABLE);
        queue_disarm(ctx);
        if (rc == WAIT_OBJECT_0 + 1) {
            peek = 1;
        } else if (rc == WAIT_FAILED) {
            shim_log_win32(ctx, "MsgWaitForMultipleObjectsEx", GetLastError());
            Sleep(1);
        }
    }
}

static void leave(struct shim_context *ctx)
{
    if (ctx->sendGoodbye && !ctx->hostGone)
        wire_send_text(ctx, SIPB_T_GOODBYE, 0, SIPB_E_NONE, "shim leaving");
    window_destroy_all(ctx);
    objects_close_all(ctx);
    LOG_INFO(ctx, "exiting with code %d", ctx->exitCode);
    /* Everything the host must see is written (WriteFile, unbuffered), the
     * windows and handles are gone. TerminateProcess skips DLL detach: the
     * reader thread may sit in ReadFile and a SEND_COPYDATA worker in
     * SendMessageTimeoutW, and ExitProcess could stall on locks they hold. */
    if (!TerminateProcess(GetCurrentProcess(), (UINT)ctx->exitCode))
        shim_log_win32(ctx, "TerminateProcess", GetLastError());
    ExitProcess((UINT)ctx->exitCode);
}

int main(void)
{
    struct shim_context *ctx = &g_shim;

    memset(ctx, 0, sizeof *ctx);
    ctx->nextEventTag = 1;
    shim_log_init(ctx);
    shim_spin_init(ctx);
    ctx->hIn = GetStdHandle(STD_INPUT_HANDLE);
    ctx->hOut = GetStdHandle(STD_OUTPUT_HANDLE);
    if (ctx->hIn == NULL || ctx->hIn == INVALID_HANDLE_VALUE || ctx->hOut == NULL ||
        ctx->hOut == INVALID_HANDLE_VALUE) {
        shim_log_win32(ctx, "GetStdHandle", GetLastError());
        return 1;
    }
    if (!window_init(ctx) || !reader_start(ctx))
        return 1;
    ring_open(ctx);
    upload_open(ctx);
    LOG_INFO(ctx, "started");
    if (handshake(ctx))
        main_loop(ctx);
    leave(ctx);
    return ctx->exitCode;
}
