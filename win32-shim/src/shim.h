/*
 * shim.h - internal interfaces of sipc-shim.exe.
 *
 * The shim carries raw window messages, WM_COPYDATA, named mappings and
 * events between the Swift host (over stdin/stdout, see docs/PROTOCOL.md and
 * include/sipb_protocol.h) and Windows programs running under Wine.
 *
 * All state lives in one struct shim_context. The main thread owns every
 * window and is the only writer of stdout; a reader thread turns stdin into
 * a queue of frames (reader.c). Files:
 *   log.c      logging to stderr
 *   wire.c     payload builder/parser and frame writing
 *   reader.c   the stdin reader thread and the frame queue
 *   wait.c     THE WAIT and frame dispatch (replies, nested requests)
 *   window.c   window class, window table, window procedure
 *   requests.c host requests: replies, dispatch, window queries
 *   messages.c SEND_MESSAGE, POST_MESSAGE, SEND_COPYDATA
 *   objects.c  handle table: mappings and events
 *   main.c     startup, handshake, main loop, shutdown
 */
#ifndef SIPB_SHIM_H
#define SIPB_SHIM_H

#include <windows.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "sipb_protocol.h"

/* ---------------------------------------------------------------- logging */

enum shim_log_level { SHIM_LOG_ERROR = 0, SHIM_LOG_INFO = 1, SHIM_LOG_DEBUG = 2 };

/* ------------------------------------------------------------ frame queue */

enum frame_kind {
    FRAME_DATA = 0, /* a complete, header-checked frame */
    FRAME_EOF,      /* stdin reached end of file or failed */
    FRAME_BAD       /* the header broke the rules; `error` says how */
};

struct shim_context;

/* Frames are recycled: frame_free puts a frame (and its payload buffer, when
 * that is small) back on the reader's free list. A handler may still take
 * f->payload (set it to NULL and free() it later): the buffer is a plain
 * malloc block of `capacity` bytes. */
struct frame {
    struct frame *next;
    enum frame_kind kind;
    uint16_t type;
    uint32_t tag;
    uint32_t length;  /* payload bytes */
    uint8_t *payload; /* heap, may be NULL when length == 0 */
    char error[160];  /* FRAME_BAD / FRAME_EOF text */
    uint32_t capacity;           /* bytes allocated at payload */
    struct shim_context *owner;  /* whose free list frame_free returns it to */
};

/* --------------------------------------------------------- payload codecs */

/* Growable buffer holding one outgoing frame; the 12 header bytes are
 * reserved at the front and filled in by wire_send. */
struct builder {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed or the frame grew too large */
};

/* Cursor over a received payload. Any read past the end sets `bad`, and
 * every later read returns zeros. */
struct parser {
    const uint8_t *data;
    uint32_t len;
    uint32_t pos;
    int bad;
    const char *why;
};

/* A str16 field: points into the payload, not terminated. */
struct str16 {
    const uint8_t *units;
    uint32_t count;
};

/* --------------------------------------------------------- window table */

struct shim_window {
    HWND hwnd;
    uint32_t nmsgs;
    uint32_t *msgs; /* heap */
};

/* Longest window class name Windows accepts (256 with the terminator).
 * Checked before any Win32 call: Wine 8's RegisterClassExW fails with a
 * 282-unit name but corrupts its Unix-side heap doing so. */
#define SHIM_MAX_CLASS_NAME 255u

/* ----------------------------------------------------------- handle table */

enum shim_object_kind { OBJ_MAPPING = 1, OBJ_EVENT = 2 };

struct shim_object {
    HANDLE handle;
    enum shim_object_kind kind;
    uint8_t *view;     /* mappings: the mapped view */
    uint64_t viewSize; /* mappings: bytes READ/WRITE_MAPPING may touch */
};

/* An EV_* frame waiting for the host's REPLY. Lives on the stack of the
 * window procedure that waits; linked into ctx->waits while it waits. */
struct event_wait {
    struct event_wait *outer;
    uint32_t tag;
    int done;
    uint32_t status;
    int64_t lresult;
};

/* What the main thread waits on when it blocks (shim_context.mainWaiting). */
enum main_wait { MAIN_BUSY = 0, MAIN_WAITS_EVENT = 1, MAIN_WAITS_WORD = 2 };

/* ------------------------------------------------------------ the context */

typedef BOOL(WINAPI *change_filter_fn)(HWND, UINT, DWORD, void *);

struct shim_context {
    /* log */
    enum shim_log_level logLevel;
    HANDLE hErr;
    DWORD pid;

    /* pipe */
    HANDLE hIn;
    HANDLE hOut;
    int outBroken; /* a write to stdout failed: the host is gone */

    /* reader thread and its queue (the only state shared between threads) */
    HANDLE readerThread;
    /* Auto reset: the wait that consumes it clears it. Set by the reader
     * when it queues frames while the main thread is (about to be) blocked
     * (mainWaiting), and by a SEND_COPYDATA worker when it finishes. Every
     * waiter re-checks its condition and the queue after each wake-up, so a
     * stale signal costs one spurious wake-up and no wake-up is lost. */
    HANDLE wakeEvent;
    CRITICAL_SECTION queueLock; /* guards the queue, mainWaiting, the free list */
    struct frame *queueHead;
    struct frame *queueTail;
    /* Set (under queueLock) by queue_pop_or_arm when the main thread found
     * the queue empty and is going to wait: on wakeEvent (MAIN_WAITS_EVENT)
     * or on wakeWord (MAIN_WAITS_WORD); cleared by the next pop or by the
     * reader when it wakes the thread. Lets the reader skip the wake-up
     * while the main thread is busy anyway. */
    enum main_wait mainWaiting;
    /* A wait for the host's REPLY blocks on this word (WaitOnAddress, a
     * futex inside the process under Wine) instead of on wakeEvent: the
     * reader then wakes it with WakeByAddressSingle, not with SetEvent, and
     * neither side makes a wineserver request (Findings 13). NULL functions:
     * not available or turned off (SIPB_SHIM_WAIT_ON_ADDRESS=0). */
    volatile LONG wakeWord;
    BOOL(WINAPI *waitOnAddress)(volatile VOID *, PVOID, SIZE_T, DWORD);
    VOID(WINAPI *wakeByAddress)(PVOID);
    struct frame *freeFrames; /* recycled frames (reader.c) */
    unsigned nfreeFrames;
    /* One payload buffer over 4 KiB kept for the next large frame (reader.c,
     * payload_release): fresh megabytes cost a page fault per page. */
    uint8_t *keptPayload;
    uint32_t keptCapacity;

    /* the host -> shim ring (ring.c); main thread only. ringBase is NULL
     * when there is none (SIPB_SHIM_RING unset or unusable). */
    uint8_t *ringBase;
    uint32_t ringCapacity;
    uint32_t ringHead;     /* our copy of the head field */
    uint32_t pipeConsumed; /* data frames taken from the pipe queue */
    int ringBroken;        /* a rule was broken: the ring is read no more */

    /* the shim -> host upload area (ring.c); NULL when there is none */
    uint8_t *uploadBase;
    uint32_t uploadCapacity;

    /* lifetime */
    int handshakeDone;
    int quit;           /* leave as soon as possible */
    int exitCode;
    int sendGoodbye;    /* the host asked us to leave: say goodbye back */
    int hostGone;       /* stdin ended or stdout broke: write nothing more */

    /* events to the host */
    LONGLONG spinTicks; /* how long a wait for a REPLY spins first (shim_spin_init) */
    LONGLONG sendSpinTicks; /* how long a wait for a window's answer spins first */
    LONGLONG idleSpinTicks; /* how long the idle main loop spins after a host frame */
    uint32_t nextEventTag;
    struct event_wait *waits; /* innermost first */
    unsigned nestDepth;       /* host requests currently executing */

    /* windows */
    HINSTANCE hInstance;
    change_filter_fn changeFilter;
    struct shim_window *windows;
    size_t nwindows;
    size_t capWindows;
    WCHAR **classes; /* class names registered with our window procedure */
    size_t nclasses;
    /* the posted message the main loop is dispatching right now */
    int postedValid;
    MSG posted;

    /* handle table */
    struct shim_object *objects;
    size_t nobjects;
    size_t capObjects;
};

/* log.c */
void shim_log_init(struct shim_context *ctx);
void shim_log(struct shim_context *ctx, enum shim_log_level level, const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));
/* Logs "<what> failed: error N (text)" at error level and returns `err`. */
DWORD shim_log_win32(struct shim_context *ctx, const char *what, DWORD err);
#define LOG_ERROR(ctx, ...) shim_log((ctx), SHIM_LOG_ERROR, __VA_ARGS__)
#define LOG_INFO(ctx, ...) shim_log((ctx), SHIM_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(ctx, ...) shim_log((ctx), SHIM_LOG_DEBUG, __VA_ARGS__)

/* wire.c */
int builder_init(struct builder *b, size_t expectedPayload);
void builder_free(struct builder *b);
void put_u16(struct builder *b, uint16_t v);
void put_u32(struct builder *b, uint32_t v);
void put_u64(struct builder *b, uint64_t v);
void put_raw(struct builder *b, const void *p, size_t n);
void put_bytes(struct builder *b, const void *p, uint32_t n); /* u32 length + bytes */
void put_str16(struct builder *b, const WCHAR *s, uint32_t count);
void put_text(struct builder *b, const char *s); /* UTF-8 to the end */

void parser_init(struct parser *p, const uint8_t *data, uint32_t len);
uint16_t get_u16(struct parser *p);
uint32_t get_u32(struct parser *p);
uint64_t get_u64(struct parser *p);
const uint8_t *get_bytes(struct parser *p, uint32_t *length);
struct str16 get_str16(struct parser *p);
int parser_finish(struct parser *p); /* 1 when no error and no trailing bytes */
WCHAR *str16_dup(const struct str16 *s); /* heap, terminated; NULL on OOM */

/* Sends the frame in `b` (and frees it). Returns 1 on success. */
int wire_send(struct shim_context *ctx, struct builder *b, uint16_t type, uint32_t tag);
/* The same frame followed by `tailLen` bytes written straight from `tail` (no copy into the
 * builder): for large payloads such as WM_COPYDATA's bytes. */
int wire_send_tail(struct shim_context *ctx, struct builder *b, uint16_t type, uint32_t tag,
                   const void *tail, uint32_t tailLen);
int wire_send_text(struct shim_context *ctx, uint16_t type, uint32_t tag, uint32_t code,
                   const char *text);
/* Sends PROTOCOL_ERROR and makes the shim leave with a nonzero code. */
void protocol_error(struct shim_context *ctx, uint32_t reason, const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));

/* reader.c */
int reader_start(struct shim_context *ctx);
/* The reader thread's work: reads hIn and queues frames until end of input,
 * a read error or a bad header, queues the FRAME_EOF / FRAME_BAD item and
 * returns (the thread then parks). Separate so that win32-shim/fuzz can run
 * it over an input in memory. */
void reader_run(struct shim_context *ctx);
struct frame *queue_pop(struct shim_context *ctx);
/* Like queue_pop, but when the queue is empty it records that the main
 * thread is about to wait on wakeEvent: call it right before that wait,
 * and wait only when it returns NULL. */
struct frame *queue_pop_or_arm(struct shim_context *ctx);
/* The same for a wait on ctx->wakeWord: read the word before this call, and
 * wait (WaitOnAddress with that value) only when it returns NULL. */
struct frame *queue_pop_or_arm_word(struct shim_context *ctx);
/* After that wait, whatever ended it: the main thread is awake, so neither
 * the reader nor the host needs to wake it (no SetEvent, no DOORBELL) while it
 * runs the sent messages that ended the wait, nested waits and spins included. */
void queue_disarm(struct shim_context *ctx);
void shim_wake(struct shim_context *ctx); /* any thread: wake the main thread's wait */
/* A frame with room for `length` payload bytes (recycled when possible), or NULL. */
struct frame *frame_new(struct shim_context *ctx, uint32_t length);
void frame_free(struct frame *f);
/* Frees a payload buffer taken from a frame (capacity: the frame's), or
 * keeps it for the next large frame. Any thread. */
void payload_release(struct shim_context *ctx, uint8_t *payload, uint32_t capacity);

/* ring.c (main thread only) */
/* Maps the ring named by SIPB_SHIM_RING; returns 1 when the shim reads it. */
int ring_open(struct shim_context *ctx);
/* Maps the upload area named by SIPB_SHIM_UPLOAD; returns 1 when the shim uses it. */
int upload_open(struct shim_context *ctx);
/* The upload area's data, claimed for `length` bytes (busy set), or NULL
 * when there is no area, the length is below SIPB_UPLOAD_MIN_BYTES or above
 * the capacity, or the host has not copied the last bytes out yet. A claim
 * is the host's to end: it clears busy once it has read the bytes (if the
 * frame never reaches it, the session is over anyway). */
uint8_t *upload_claim(struct shim_context *ctx, uint32_t length);
/* The ring's head entry when it is the next frame in the host's order, a
 * FRAME_BAD item when the ring broke a rule, or NULL. */
struct frame *ring_take(struct shim_context *ctx);
/* Whether an entry is published (a cheap look, for spinning). */
int ring_pending(struct shim_context *ctx);
/* Tells the host whether to ring the doorbell (with a full fence after it). */
void ring_set_sleeping(struct shim_context *ctx, int sleeping);

/* wait.c */
enum wait_result { WAIT_DONE = 0, WAIT_EXPIRED, WAIT_QUITTING, WAIT_TARGET_GONE };
typedef int (*wait_done_fn)(void *arg);
/* Waits until done(arg), servicing sent messages and host frames. Before
 * blocking it first spins up to spinTicks (0: no spin) for a host frame,
 * again after each frame it processed. With forHost (a wait for the host's
 * REPLY, which only a host frame can complete) it blocks on ctx->wakeWord
 * when it can, and looks for sent messages only every HOST_WAIT_POLL_MS. */
enum wait_result shim_wait(struct shim_context *ctx, wait_done_fn done, void *arg,
                           DWORD timeoutMs, HWND watch, LONGLONG spinTicks, int forHost);
/* Reads SIPB_SHIM_SPIN_US into ctx->spinTicks and SIPB_SHIM_SEND_SPIN_US
 * into ctx->sendSpinTicks (0 on one processor), and finds WaitOnAddress
 * unless SIPB_SHIM_WAIT_ON_ADDRESS=0. */
void shim_spin_init(struct shim_context *ctx);
/* Before shim_wait for an outgoing SendMessageCallbackW: polls for its
 * completion up to ctx->sendSpinTicks, stopping at a host frame. */
void shim_spin_for_send(struct shim_context *ctx, wait_done_fn done, void *arg);
/* Watches the ring and the reader's queue for up to `ticks`; returns as soon
 * as a host frame is there (it is not taken). */
void shim_spin_for_frame(struct shim_context *ctx, LONGLONG ticks);
void shim_process_frame(struct shim_context *ctx, struct frame *f);
void shim_dispatch_posted(struct shim_context *ctx, MSG *msg);
/* Sends an EV_* frame built in `b` with a fresh tag and waits for the
 * host's REPLY. Returns its lresult, or 0 on error status or shutdown. */
int64_t shim_event_call(struct shim_context *ctx, struct builder *b, uint16_t type);
/* shim_event_call whose frame ends with `tailLen` bytes sent from `tail` as they are. */
int64_t shim_event_call_tail(struct shim_context *ctx, struct builder *b, uint16_t type,
                             const void *tail, uint32_t tailLen);

/* window.c */
int window_init(struct shim_context *ctx);
struct shim_window *window_find(struct shim_context *ctx, HWND hwnd);
void window_destroy_all(struct shim_context *ctx);

/* requests.c */
void reply_ok(struct shim_context *ctx, uint32_t tag, struct builder *result);
void reply_status(struct shim_context *ctx, uint32_t tag, uint32_t status, const char *fmt, ...)
    __attribute__((format(gnu_printf, 4, 5)));
void reply_win32(struct shim_context *ctx, uint32_t tag, DWORD err, const char *what);
void reply_ok_empty(struct shim_context *ctx, uint32_t tag);
void shim_handle_request(struct shim_context *ctx, struct frame *f);
/* window.c implements these two requests */
void req_create_window(struct shim_context *ctx, uint32_t tag, struct parser *p);
void req_destroy_window(struct shim_context *ctx, uint32_t tag, struct parser *p);

/* messages.c */
void req_send_message(struct shim_context *ctx, uint32_t tag, struct parser *p);
void req_post_message(struct shim_context *ctx, uint32_t tag, struct parser *p);
/* CALL_MAPPED: writes into a mapping's view, SEND_MESSAGE, reads back (messages.c). */
void req_call_mapped(struct shim_context *ctx, uint32_t tag, struct parser *p);
/* May take ownership of f->payload (sets it to NULL). */
void req_send_copydata(struct shim_context *ctx, uint32_t tag, struct frame *f, struct parser *p);

/* objects.c */
void req_create_mapping(struct shim_context *ctx, uint32_t tag, struct parser *p);
void req_open_mapping(struct shim_context *ctx, uint32_t tag, struct parser *p);
void req_read_mapping(struct shim_context *ctx, uint32_t tag, struct parser *p);
void req_write_mapping(struct shim_context *ctx, uint32_t tag, struct parser *p);
void req_create_event(struct shim_context *ctx, uint32_t tag, struct parser *p);
void req_open_event(struct shim_context *ctx, uint32_t tag, struct parser *p);
void req_close_handle(struct shim_context *ctx, uint32_t tag, struct parser *p);
/* The mapping object behind a handle the shim handed out, or NULL (objects.c). */
struct shim_object *mapping_lookup(struct shim_context *ctx, uint64_t handle);
void objects_close_all(struct shim_context *ctx);

/* A request whose payload broke the framing rules: protocol error. Returns
 * 1 when the parser is fine (the caller goes on). */
int request_parsed(struct shim_context *ctx, struct parser *p, const char *request);

#endif /* SIPB_SHIM_H */
