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
 *               frames arrive one by one) rather than after the last one;
 *               bits 5-6: the ring (below)
 *   u8 failure  below 128: none; else which family of Win32 calls fails
 *   u8 after    from which call of that family on (0..7)
 *   rest        the host's bytes
 *
 * The ring (ring.c), set up in memory as the host would: with bit 5 the
 * next byte is a mask and the host's frames are split between the ring and
 * the pipe as the host splits them (frame k goes to the ring when bit k % 8
 * of the mask is set and it fits), each entry counting the pipe frames
 * before it; the shim must then write exactly what it writes when every
 * frame comes through the pipe (with an empty ring).
 * With bit 6 (and not 5) the next two bytes are a length n and the next n
 * bytes (at most 4096) are the ring's data area as published, unchecked:
 * whatever they hold must be refused cleanly.
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
        /* every type but the six control frames is a request (0 included) */
        if ((type == 0 || type > SIPB_T_DOORBELL) && le32(in + pos + 8) == tag)
            return 1;
        pos += SIPB_FRAME_PREFIX + (size_t)size;
    }
    return 0;
}

/* Everything the shim wrote must be whole, valid frames of its direction. */
static void check_output(const uint8_t *in, size_t inSize, int strictTags)
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
            if (tag == 0 || (strictTags && !input_has_request_tag(in, inSize, tag)))
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

#define FUZZ_RING_CAPACITY 4096u

/* A ring as ShimRing (Swift) creates it, with nothing published yet. */
static uint8_t *ring_new(void)
{
    uint8_t *ring = calloc(1, SIPB_RING_DATA + FUZZ_RING_CAPACITY);

    if (ring == NULL)
        abort();
    *(uint32_t *)(ring + SIPB_RING_OFF_MAGIC) = SIPB_RING_MAGIC;
    *(uint32_t *)(ring + SIPB_RING_OFF_CAPACITY) = FUZZ_RING_CAPACITY;
    return ring;
}

static void ring_put(uint8_t *ring, uint32_t *tail, const void *src, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n; i++)
        ring[SIPB_RING_DATA + ((*tail + i) & (FUZZ_RING_CAPACITY - 1))] = ((const uint8_t *)src)[i];
    *tail += n;
}

/* Splits the host's bytes as the host would: whole frames whose mask bit is
 * set go to the ring (when they fit), the rest, and everything from the
 * first broken or cut header on, to the pipe (written to `pipe`). */
static size_t split_input(const uint8_t *in, size_t n, uint8_t mask, uint8_t *ring, uint8_t *pipe)
{
    size_t pos = 0, out = 0;
    uint32_t tail = 0, pipeFrames = 0, k = 0;

    while (n - pos >= SIPB_FRAME_HEADER) {
        uint32_t size = le32(in + pos), entry, before;
        size_t whole;
        static const uint8_t zeros[8];

        if (size < SIPB_FRAME_HEADER_TAIL || size > SIPB_FRAME_HEADER_TAIL + SIPB_MAX_PAYLOAD ||
            le16(in + pos + 6) != 0 || n - pos - SIPB_FRAME_PREFIX < size)
            break;
        whole = SIPB_FRAME_PREFIX + (size_t)size;
        entry = (uint32_t)((SIPB_RING_ENTRY_HEADER + whole + 7) & ~(size_t)7);
        /* a DOORBELL always goes through the pipe: its only use is to say "look at the ring" */
        if ((mask >> (k++ % 8) & 1) && le16(in + pos + 4) != SIPB_T_DOORBELL &&
            whole <= FUZZ_RING_CAPACITY / 4 &&
            entry <= FUZZ_RING_CAPACITY - tail) {
            before = pipeFrames;
            ring_put(ring, &tail, &entry, 4);
            ring_put(ring, &tail, &before, 4);
            ring_put(ring, &tail, in + pos, (uint32_t)whole);
            ring_put(ring, &tail, zeros, entry - SIPB_RING_ENTRY_HEADER - (uint32_t)whole);
        } else {
            memcpy(pipe + out, in + pos, whole);
            out += whole;
            pipeFrames++;
        }
        pos += whole;
    }
    memcpy(pipe + out, in + pos, n - pos);
    out += n - pos;
    *(uint32_t *)(ring + SIPB_RING_OFF_TAIL) = tail;
    return out;
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

/* One run of the shim over `cfg`'s pipe bytes and, when given, a ring:
 * what main() sets up, the reader's work, main_loop, leave(). The shim's
 * stdout stays in the fake until the next fake_begin. */
static void run_shim(const struct fake_config *cfg, uint8_t *ring, int interleave)
{
    struct shim_context *ctx;
    struct frame *f;
    size_t i;
    MSG msg;

    fake_begin(cfg);

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
    if (ring) { /* what ring_open does once it has the mapping */
        ctx->ringBase = ring;
        ctx->ringCapacity = FUZZ_RING_CAPACITY;
    }
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
    free(ctx->keptPayload); /* the large buffer kept for the next large frame */
    for (i = 0; i < ctx->nclasses; i++)
        free(ctx->classes[i]);
    free(ctx->classes);
    CloseHandle(ctx->wakeEvent);
    free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = { 1, 2, 5, 12, 64, 777, 4096, 65536 };
    struct fake_config cfg;
    size_t hostSize, refLen, outLen;
    int interleave;
    const uint8_t *host, *out;
    uint8_t *ring = NULL, *pipe = NULL, *ref;

    if (size < 3)
        return 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.readChunk = chunks[data[0] & 7];
    cfg.eofAsError = (data[0] & 8) != 0;
    interleave = (data[0] & 16) != 0;
    cfg.failure = data[1] < 128 ? FAKE_FAIL_NONE
                                : (enum fake_failure)(1 + data[1] % (FAKE_FAIL_COUNT - 1));
    cfg.failAfter = data[2] % 8;
    host = data + 3;
    hostSize = size - 3;

    if (data[0] & 32) {
        /* Split between the ring and the pipe: the shim must do exactly what
         * it does when every frame comes through the pipe. */
        if (hostSize < 1)
            return 0;
        cfg.input = host + 1;
        cfg.inputSize = hostSize - 1;
        ring = ring_new(); /* a ring with nothing in it: DOORBELLs are valid in both runs */
        run_shim(&cfg, ring, interleave);
        free(ring);
        check_output(cfg.input, cfg.inputSize, 1);
        fake_end();
        out = fake_output(&refLen);
        ref = malloc(refLen ? refLen : 1);
        if (ref == NULL)
            abort();
        if (refLen)
            memcpy(ref, out, refLen);

        ring = ring_new();
        pipe = malloc(hostSize);
        if (pipe == NULL)
            abort();
        cfg.inputSize = split_input(host + 1, hostSize - 1, host[0], ring, pipe);
        cfg.input = pipe;
        run_shim(&cfg, ring, interleave);
        fake_end();
        out = fake_output(&outLen);
        if (outLen != refLen || (refLen && memcmp(out, ref, refLen) != 0))
            fake_fatal("with frames split between the ring and the pipe the shim wrote %lu bytes, "
                       "not the %lu it writes when all come through the pipe (or other bytes)",
                       (unsigned long)outLen, (unsigned long)refLen);
        free(ref);
    } else if (data[0] & 64) {
        /* Raw ring bytes: refused cleanly, or run. Their requests' tags are not checked. */
        uint32_t n;
        if (hostSize < 2)
            return 0;
        n = le16(host);
        if (n > FUZZ_RING_CAPACITY || n > hostSize - 2)
            return 0;
        ring = ring_new();
        memcpy(ring + SIPB_RING_DATA, host + 2, n);
        *(uint32_t *)(ring + SIPB_RING_OFF_TAIL) = n;
        cfg.input = host + 2 + n;
        cfg.inputSize = hostSize - 2 - n;
        run_shim(&cfg, ring, interleave);
        check_output(cfg.input, cfg.inputSize, 0);
        fake_end();
    } else {
        cfg.input = host;
        cfg.inputSize = hostSize;
        run_shim(&cfg, NULL, interleave);
        check_output(cfg.input, cfg.inputSize, 1);
        fake_end();
    }
    free(ring);
    free(pipe);
    return 0;
}
