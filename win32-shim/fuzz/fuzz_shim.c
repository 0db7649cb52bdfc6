/*
 * fuzz_shim.c - libFuzzer target: the shim's side of the pipe protocol.
 *
 * The shim's own sources (reader.c, wire.c, wait.c, requests.c, messages.c,
 * objects.c, window.c, log.c) run natively on the in-memory Win32 of
 * fake_win32.c. The fuzzer's input is what the host writes to the shim's
 * stdin after the handshake; it is read in short reads by reader_run, and
 * every frame goes through shim_process_frame and the request handlers, as
 * in the shim's main loop. Built with AddressSanitizer and
 * UndefinedBehaviorSanitizer.
 *
 * Beyond "no crash": the shim must end (the queue never runs dry before its
 * end-of-input item), close every handle, view and window it opened, and
 * write only well-formed frames to stdout: size in range, flags 0, a type
 * the shim may send, a REPLY only for a request tag it received, with a
 * known status.
 *
 * Input layout:
 *   u8 read     bits 0-2: the most one ReadFile returns (1, 2, 5, 12, 64,
 *               777, 4096, 65536 bytes); bit 3: end of input is
 *               ERROR_BROKEN_PIPE rather than a 0-byte read; bit 4: posted
 *               messages run between host frames (as when the host's
 *               frames arrive one by one) rather than after the last one
 *   u8 failure  below 128: none; else which family of Win32 calls fails
 *   u8 after    from which call of that family on (0..7)
 *   rest        the host's bytes
 */
#include "fake_win32.h"
#include "shim.h"

#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Does `tag` belong to a request frame of the input? Cut the input the way
 * the protocol says (independently of reader.c) and look. */
static int input_has_request_tag(const uint8_t *in, size_t n, uint32_t tag)
{
    size_t pos = 0;

    while (n - pos >= SIPB_FRAME_HEADER) {
        uint32_t size = le32(in + pos);
        uint16_t type = le16(in + pos + 4);
        if (size < SIPB_FRAME_HEADER_TAIL || size > SIPB_FRAME_HEADER_TAIL + SIPB_MAX_PAYLOAD ||
            le16(in + pos + 6) != 0)
            return 0;
        if (n - pos - SIPB_FRAME_PREFIX < size)
            return 0; /* cut short: the shim never saw it */
        /* every type but the five control frames is a request (0 included) */
        if ((type == 0 || type > SIPB_T_PROTOCOL_ERROR) && le32(in + pos + 8) == tag)
            return 1;
        pos += SIPB_FRAME_PREFIX + (size_t)size;
    }
    return 0;
}

/* Everything the shim wrote must be whole, valid frames of its direction. */
static void check_output(const uint8_t *in, size_t inSize)
{
    size_t n, pos = 0;
    const uint8_t *out = fake_output(&n);

    while (pos < n) {
        uint32_t size, tag, status;
        uint16_t type;

        if (n - pos < SIPB_FRAME_HEADER)
            fake_fatal("stdout ends inside a frame header (%lu bytes)", (unsigned long)(n - pos));
        size = le32(out + pos);
        type = le16(out + pos + 4);
        tag = le32(out + pos + 8);
        if (size < SIPB_FRAME_HEADER_TAIL || size > SIPB_FRAME_HEADER_TAIL + SIPB_MAX_PAYLOAD)
            fake_fatal("the shim wrote a frame of size %lu", (unsigned long)size);
        if (n - pos - SIPB_FRAME_PREFIX < size)
            fake_fatal("stdout ends inside a frame");
        if (le16(out + pos + 6) != 0)
            fake_fatal("the shim wrote non-zero flags");
        switch (type) {
        case SIPB_T_REPLY:
            if (size < SIPB_FRAME_HEADER_TAIL + 4)
                fake_fatal("a REPLY without a status");
            status = le32(out + pos + SIPB_FRAME_HEADER);
            if (status > SIPB_S_SHUTTING_DOWN)
                fake_fatal("a REPLY with status %lu", (unsigned long)status);
            if (tag == 0 || !input_has_request_tag(in, inSize, tag))
                fake_fatal("a REPLY for tag %lu, which no request carried", (unsigned long)tag);
            break;
        case SIPB_T_GOODBYE:
        case SIPB_T_PROTOCOL_ERROR:
            if (tag != 0 || size < SIPB_FRAME_HEADER_TAIL + 4)
                fake_fatal("a GOODBYE or PROTOCOL_ERROR with tag %lu and %lu bytes",
                           (unsigned long)tag, (unsigned long)size);
            break;
        case SIPB_T_EV_MESSAGE:
            if (size != SIPB_FRAME_HEADER_TAIL + 32)
                fake_fatal("an EV_MESSAGE of %lu bytes", (unsigned long)size);
            break;
        case SIPB_T_EV_COPYDATA:
            if (tag == 0 || size < SIPB_FRAME_HEADER_TAIL + 28 ||
                le32(out + pos + SIPB_FRAME_HEADER + 24) != size - SIPB_FRAME_HEADER_TAIL - 28)
                fake_fatal("a malformed EV_COPYDATA");
            break;
        default:
            fake_fatal("the shim wrote frame type 0x%04x", type);
        }
        pos += SIPB_FRAME_PREFIX + (size_t)size;
    }
}

static void free_frames(struct frame *f)
{
    while (f) {
        struct frame *next = f->next;
        free(f->payload);
        free(f);
        f = next;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = { 1, 2, 5, 12, 64, 777, 4096, 65536 };
    struct fake_config cfg;
    struct shim_context *ctx;
    struct frame *f;
    size_t i;
    int interleave;
    MSG msg;

    if (size < 3)
        return 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.readChunk = chunks[data[0] & 7];
    cfg.eofAsError = (data[0] & 8) != 0;
    interleave = (data[0] & 16) != 0;
    cfg.failure = data[1] < 128 ? FAKE_FAIL_NONE
                                : (enum fake_failure)(1 + data[1] % (FAKE_FAIL_COUNT - 1));
    cfg.failAfter = data[2] % 8;
    cfg.input = data + 3;
    cfg.inputSize = size - 3;
    fake_begin(&cfg);

    /* What main() and reader_start() set up, after a handshake. */
    ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        abort();
    ctx->nextEventTag = 1;
    shim_log_init(ctx);
    ctx->hIn = GetStdHandle(STD_INPUT_HANDLE);
    ctx->hOut = GetStdHandle(STD_OUTPUT_HANDLE);
    window_init(ctx);
    InitializeCriticalSection(&ctx->queueLock);
    ctx->wakeEvent = CreateEventW(NULL, FALSE, FALSE, NULL);
    ctx->handshakeDone = 1;
    fake_arm();

    /* The reader thread's work, all of it first: the main thread sees the
     * same frames in the same order as when the two run side by side. */
    reader_run(ctx);

    /* main_loop (main.c): host frames first, then posted messages. */
    while (!ctx->quit) {
        f = queue_pop(ctx);
        if (f) {
            shim_process_frame(ctx, f);
            if (!interleave || ctx->quit)
                continue;
        }
        if (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE)) {
            if (msg.message != WM_QUIT)
                shim_dispatch_posted(ctx, &msg);
            continue;
        }
        if (f == NULL)
            fake_fatal("the frame queue ran dry before its end-of-input item");
    }

    /* leave() (main.c), then what process exit would reclaim. */
    window_destroy_all(ctx);
    objects_close_all(ctx);
    free_frames(ctx->queueHead);
    free_frames(ctx->freeFrames);
    for (i = 0; i < ctx->nclasses; i++)
        free(ctx->classes[i]);
    free(ctx->classes);
    CloseHandle(ctx->wakeEvent);
    check_output(cfg.input, cfg.inputSize);
    fake_end();
    free(ctx);
    return 0;
}
