/*
 * hostile-peer.c - a SIPC client that misbehaves on purpose (issue 6: hostile
 * peers). It connects to a server with the C library like any client of the
 * ipcdemo protocol, then attacks it with raw Win32 calls, and finally makes
 * legitimate calls that must still be answered: the server survived.
 *
 *   hostile-peer [options] <attack...>
 *
 * Options:
 *   --title T        server main window title (default sipc_demo_svr)
 *   --v1             the legacy v1 protocol (default v2)
 *   --stack N        slots (default 10, as sinstar3); --buf N bytes per slot
 *                    (default 2048); both must match the server's
 *   --format F       mapping name format (default the ipcdemo's)
 *   --conn-title T   title of the server's per-connection windows, counted by
 *                    conn-windows (default svr_conn_wnd)
 *
 * Output: key=value lines, "connected=1 local= remote=" first. Every attack
 * prints <attack>=<LRESULT the server answered> (SendMessageTimeout, 10 s; a
 * send that failed prints "send-failed"), or, for attacks made through the
 * library, the LRESULT the library saw (0 = SIPC_E_NOT_HANDLED) and
 * <attack>_status=<sipc status>. Then "status=ok". Attacks that write into
 * our send buffer save its 12-byte header first and restore it afterwards.
 *
 * Attacks (v2 unless noted; "C" is our connection window, "A" our window):
 *   control                   a raw AddInt(40, 2) frame in slot 0, sent as a
 *                             client should: must be 1 (control_result=42),
 *                             so that the refusals below are the attack's doing
 *   connect-dead-window       connect (100) with a destroyed window's handle
 *   connect-server-window     connect with the server's main window
 *   connect-twice             connect A again
 *   connect-connection-window connect with C, the server's own window
 *   unconnected-window        a call from a window that never connected (v1:
 *                             to the main window with wParam = AddInt's id)
 *   main-window-call          a v2 call (slot 0, lParam A) to the main window
 *   spoof-lparam-zero|-server|-connection|-garbage
 *                             slot 0 to C with lParam 0, the main window, C,
 *                             or all bits set
 *   slot-stack-size|slot-101|slot-u32-max|slot-u64-max
 *                             wParam = stack size, 101 sent (not posted),
 *                             0xFFFFFFFF, all 64 bits set
 *   header-capacity|header-capacity-small|header-tail|header-cursor|
 *   header-tail-short         a valid AddInt frame, then the header's
 *                             capacity = 0xFFFFFFFF or 64, tail = capacity+1,
 *                             cursor = 0xFFFFFFFF, tail = 7 (inside the frame)
 *   string-negative|string-huge|string-past-slot
 *                             AddString whose first count is -1, 0x7FFFFFFF,
 *                             or 1100 units (past the 2048-byte slot while the
 *                             tail is at the end of the buffer)
 *   frame-overflows-slot      a well-formed AddString frame of 2841 bytes that
 *                             runs from slot 0 into slot 1 (SOUI's writer does
 *                             not check slots)
 *   frame-id-mismatch|frame-bad-marker|frame-unknown-function
 *                             AddInt with ids 102/103, marker 0x00, id 4242
 *   frame-beyond-tail         a call on the last slot, past the tail
 *   outputs-overflow-slot     AddString(400 units, 400 units) through the
 *                             library: the inputs fit the slot, the outputs not
 *   server-send-header        the server's send buffer tail = 0xFFFFFFFF, then
 *                             Sum(3): the server writes its nested Sum(2) in
 *                             its slot (using no header field), and our side
 *                             refuses to read it through the bad header
 *   bad-outputs               Sum(3); our Sum handler answers the server's
 *                             nested call with another function's id in its
 *                             output section
 *   spoof-disconnect          a window that never connected posts 101 to C;
 *                             prints still-connected or dropped (synchronised
 *                             through a second connection whose disconnect is
 *                             posted after it: once its window is gone, ours
 *                             was processed)
 *   squat-mapping|squat-event create the mapping (or its "_mutex" event) the
 *                             server will create for a new client window, then
 *                             connect that window. v1: the names are
 *                             (main window, client): fully predictable. v2: the
 *                             connection window is new; Wine hands out the
 *                             most recently freed window slot next (generation
 *                             + 1), so we destroy four windows and squat the
 *                             names of their successors
 *   v1-wide-wparam            (v1) a call to the main window whose wParam is
 *                             AddInt's id plus bit 32
 *   v1-bad-length             (v1) an AddInt frame whose trailing length field
 *                             says 0x7FFFFFFF
 *   legit                     AddInt(40, 2) and Sum(5) through the library:
 *                             legit=42 legit-sum=15
 *   conn-windows              how many windows titled --conn-title exist
 *   disconnect-s4             SOUI4's disconnect (101 posted to C with lParam
 *                             A); waits for C to go: disconnect-s4=ok|timeout
 */
#include "sipc.h"
#include "sipb_tool.h"
#include "sipc_demo_protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* ---- output ------------------------------------------------------------------ */

static void log_sink(void *ctx, sipc_log_level lvl, const char *msg)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char buf[700];
    DWORD done;
    int n = snprintf(buf, sizeof(buf), "hostile-peer sipc-%s: %s\n", names[lvl & 3], msg);

    if (n > 0)
        WriteFile(GetStdHandle(STD_ERROR_HANDLE), buf,
                  (DWORD)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1), &done, NULL);
}

/* ---- state ------------------------------------------------------------------- */

typedef struct hostile_opts {
    int version;
    const WCHAR *title;
    uint32_t stack;
    uint32_t buf;
    const WCHAR *format;
    const WCHAR *conn_title;
} hostile_opts;

typedef struct hostile {
    hostile_opts opts;
    sipc_config cfg;
    HWND server;
    sipc_conn conn;
    /* When set, our Sum handler answers with a malformed output section. */
    bool bad_outputs;
} hostile;

static hostile g;

/* ---- Sum, served for the server's nested calls --------------------------------- */

static sipc_status on_sum(sipc_conn *c, const DemoSum_in *in, DemoSum_out *out, void *user)
{
    DemoSum_in next;
    DemoSum_out res;
    sipc_status st;

    if (g.bad_outputs || in->n <= 0) {
        out->ret = 0;
        return SIPC_OK;
    }
    next.n = in->n - 1;
    st = DemoSum_call(c, &next, &res);
    if (st != SIPC_OK)
        return st;
    out->ret = (int32_t)((uint32_t)in->n + (uint32_t)res.ret);
    return SIPC_OK;
}
SIPC_HANDLER(DemoSum, on_sum)

/* DemoSum's outputs, or (bad_outputs) the same bytes after an output section
 * header that names function 0xBAD instead of Sum. */
static sipc_status sum_write_out(sipc_stream *s, const void *value)
{
    if (g.bad_outputs) {
        sipc_status st = sipc_stream_seek(s, SIPC_SEEK_CUR, -5);
        if (st == SIPC_OK)
            st = sipc_put_u32(s, 0xBADu);
        if (st == SIPC_OK)
            st = sipc_put_u8(s, SIPC_OUTPUT_MARKER);
        if (st != SIPC_OK)
            return st;
    }
    return DemoSum_write_out(s, value);
}

static sipc_function hostile_sum; /* DemoSum_function with sum_write_out */
static const sipc_handler handlers[] = {{&hostile_sum, on_sum__sipc}};

/* ---- helpers ------------------------------------------------------------------- */

/* A message-only window of our own class that answers nothing. */
static HWND make_window(void)
{
    static bool registered;
    WNDCLASSEXW wc;

    if (!registered) {
        memset(&wc, 0, sizeof(wc));
        wc.cbSize = sizeof(wc);
        wc.lpfnWndProc = DefWindowProcW;
        wc.hInstance = GetModuleHandleW(NULL);
        wc.lpszClassName = L"hostile_peer_wnd";
        if (!RegisterClassExW(&wc))
            return NULL;
        registered = true;
    }
    return CreateWindowExW(0, L"hostile_peer_wnd", L"hostile", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL,
                           GetModuleHandleW(NULL), NULL);
}

/* Sends UM_CALL_FUN and prints "<key>=<LRESULT>". */
static LRESULT send_call(const char *key, HWND to, WPARAM wp, LPARAM lp)
{
    DWORD_PTR res = 0;

    if (!SendMessageTimeoutW(to, SIPC_UM_CALL_FUN, wp, lp, SMTO_NORMAL, 10000, &res)) {
        sipb_emit("%s=send-failed", key);
        sipb_emit("%s_error=%lu", key, GetLastError());
        return 0;
    }
    sipb_emit("%s=%lld", key, (long long)(LRESULT)res);
    return (LRESULT)res;
}

/* Prints the outcome of an attack made through the library: the LRESULT it
 * saw (0 when it reports SIPC_E_NOT_HANDLED, 1 when the call succeeded). */
static void emit_library(const char *key, sipc_status st)
{
    if (st == SIPC_OK)
        sipb_emit("%s=1", key);
    else if (st == SIPC_E_NOT_HANDLED)
        sipb_emit("%s=0", key);
    else
        sipb_emit("%s=error", key);
    sipb_emit("%s_status=%s", key, sipc_status_name(st));
}

/* Pumps our messages for up to `ms`, until `done(arg)` holds. */
static bool pump_until(bool (*done)(HWND), HWND arg, DWORD ms)
{
    DWORD start = GetTickCount();
    MSG msg;

    while (!done(arg)) {
        if (GetTickCount() - start > ms)
            return false;
        MsgWaitForMultipleObjectsEx(0, NULL, 10, QS_ALLINPUT, MWMO_INPUTAVAILABLE);
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
            DispatchMessageW(&msg);
    }
    return true;
}

static bool window_gone(HWND h)
{
    return !IsWindow(h);
}

/* ---- raw frames in our send buffer (the server's receive buffer) ---------------- */

typedef struct frame {
    uint8_t b[4096];
    uint32_t n;
} frame;

static void put32(frame *f, uint32_t v)
{
    memcpy(f->b + f->n, &v, 4);
    f->n += 4;
}

static void put8(frame *f, uint8_t v)
{
    f->b[f->n++] = v;
}

/* [seq][id][id2][marker], the head of every v2 frame. */
static void head(frame *f, uint32_t id, uint32_t id2, uint8_t marker)
{
    f->n = 0;
    put32(f, 7);
    put32(f, id);
    put32(f, id2);
    put8(f, marker);
}

static void add_int(frame *f, int32_t a, int32_t b)
{
    head(f, SIPC_DEMO_ID_ADD_INT, SIPC_DEMO_ID_ADD_INT, SIPC_INPUT_MARKER);
    put32(f, (uint32_t)a);
    put32(f, (uint32_t)b);
}

/* A wstring with `count` as its count and `units` units of 'x' after it. */
static void wstr(frame *f, uint32_t count, uint32_t units)
{
    put32(f, count);
    for (uint32_t i = 0; i < units; i++) {
        put8(f, 'x');
        put8(f, 0);
    }
}

typedef struct header {
    uint32_t cap, tail, pos;
} header;

static volatile uint32_t *send_header(void)
{
    return (volatile uint32_t *)g.conn.send.view;
}

static header save(volatile uint32_t *h)
{
    header s = {h[0], h[1], h[2]};
    return s;
}

static void restore(volatile uint32_t *h, header s)
{
    h[0] = s.cap;
    h[1] = s.tail;
    h[2] = s.pos;
}

/* Copies the frame to the start of `slot` and leaves the header as a client's
 * writes would: cursor after the frame, tail raised to it. */
static bool place(uint32_t slot, const frame *f)
{
    volatile uint32_t *h = send_header();
    uint64_t start = (uint64_t)slot * g.opts.buf;
    uint8_t *data = (uint8_t *)g.conn.send.view + SIPC_HEADER_BYTES;

    if (start + f->n > g.conn.send.stream.cap) {
        sipb_emit("error=frame of %u bytes does not fit slot %u of our buffer", f->n, slot);
        return false;
    }
    memcpy(data + start, f->b, f->n);
    h[2] = (uint32_t)(start + f->n);
    if (h[1] < h[2])
        h[1] = h[2];
    return true;
}

/* ---- attacks ------------------------------------------------------------------- */

static int attack_control(void)
{
    volatile uint32_t *h = send_header();
    header saved = save(h);
    uint8_t *out = (uint8_t *)g.conn.send.view + SIPC_HEADER_BYTES;
    frame f;
    uint32_t id;
    int32_t ret;

    add_int(&f, 40, 2);
    if (!place(0, &f))
        return 1;
    if (send_call("control", g.conn.remote, 0, (LPARAM)g.conn.local) == 1) {
        /* [id][F1][i32] right after the inputs */
        memcpy(&id, out + f.n, 4);
        memcpy(&ret, out + f.n + 5, 4);
        sipb_emit("control_result=%d", id == SIPC_DEMO_ID_ADD_INT && out[f.n + 4] == SIPC_OUTPUT_MARKER
                                      ? ret
                                      : -1);
    }
    restore(h, saved);
    return 0;
}

static int attack_connect(const char *key)
{
    HWND client;

    if (!strcmp(key, "connect-dead-window")) {
        client = make_window();
        if (!client || !DestroyWindow(client)) {
            sipb_emit("error=cannot make a dead window");
            return 1;
        }
    } else if (!strcmp(key, "connect-server-window")) {
        client = g.server;
    } else if (!strcmp(key, "connect-twice")) {
        client = g.conn.local;
    } else {
        client = g.conn.remote;
    }
    sipb_emit("%s_client=0x%llx", key, (unsigned long long)(uintptr_t)client);
    if (send_call(key, g.server, SIPC_FUN_ID_CONNECT, (LPARAM)client) != 0)
        PostMessageW(g.server, SIPC_UM_CALL_FUN, SIPC_FUN_ID_DISCONNECT, (LPARAM)client);
    return 0;
}

/* A valid AddInt frame in slot 0, then one message from the wrong sender or
 * to the wrong slot or window. */
static int attack_message(const char *key)
{
    volatile uint32_t *h = send_header();
    header saved = save(h);
    HWND stranger = NULL, to = g.conn.remote;
    WPARAM wp = 0;
    LPARAM lp = (LPARAM)g.conn.local;
    frame f;
    int rc = 0;

    add_int(&f, 1, 2);
    if (g.opts.version == SIPC_V2 && !place(0, &f))
        return 1;
    if (!strcmp(key, "unconnected-window")) {
        stranger = make_window();
        if (!stranger) {
            sipb_emit("error=CreateWindow failed");
            return 1;
        }
        lp = (LPARAM)stranger;
        if (g.opts.version == SIPC_V1) {
            to = g.server;
            wp = SIPC_DEMO_ID_ADD_INT;
        }
    } else if (!strcmp(key, "main-window-call")) {
        to = g.server;
    } else if (!strcmp(key, "spoof-lparam-zero")) {
        lp = 0;
    } else if (!strcmp(key, "spoof-lparam-server")) {
        lp = (LPARAM)g.server;
    } else if (!strcmp(key, "spoof-lparam-connection")) {
        lp = (LPARAM)g.conn.remote;
    } else if (!strcmp(key, "spoof-lparam-garbage")) {
        lp = (LPARAM)-1;
    } else if (!strcmp(key, "slot-stack-size")) {
        wp = g.opts.stack;
    } else if (!strcmp(key, "slot-101")) {
        wp = SIPC_FUN_ID_DISCONNECT;
    } else if (!strcmp(key, "slot-u32-max")) {
        wp = 0xFFFFFFFFu;
    } else if (!strcmp(key, "slot-u64-max")) {
        wp = (WPARAM)-1;
    } else if (!strcmp(key, "v1-wide-wparam")) {
        to = g.server;
        wp = (WPARAM)1 << 32 | SIPC_DEMO_ID_ADD_INT;
    } else {
        sipb_emit("error=unknown message attack %s", key);
        rc = 2;
    }
    if (rc == 0) {
        sipb_emit("%s_wparam=%llu", key, (unsigned long long)wp);
        sipb_emit("%s_lparam=0x%llx", key, (unsigned long long)lp);
        send_call(key, to, wp, lp);
    }
    if (stranger)
        DestroyWindow(stranger);
    restore(h, saved);
    return rc;
}

/* A valid AddInt frame in slot 0, its header tampered, then a proper call. */
static int attack_header(const char *key)
{
    volatile uint32_t *h = send_header();
    header saved = save(h);
    frame f;

    add_int(&f, 1, 2);
    if (!place(0, &f))
        return 1;
    if (!strcmp(key, "header-capacity"))
        h[0] = 0xFFFFFFFFu;
    else if (!strcmp(key, "header-capacity-small"))
        h[0] = 64;
    else if (!strcmp(key, "header-tail"))
        h[1] = g.conn.send.stream.cap + 1;
    else if (!strcmp(key, "header-cursor"))
        h[2] = 0xFFFFFFFFu;
    else {
        h[1] = 7;
        h[2] = 7;
    }
    send_call(key, g.conn.remote, 0, (LPARAM)g.conn.local);
    restore(h, saved);
    return 0;
}

/* A crafted frame in slot 0 (or a call on a slot past the tail). */
static int attack_frame(const char *key)
{
    volatile uint32_t *h = send_header();
    header saved = save(h);
    WPARAM slot = 0;
    frame f;

    if (!strcmp(key, "string-negative")) {
        head(&f, SIPC_DEMO_ID_ADD_STRING, SIPC_DEMO_ID_ADD_STRING, SIPC_INPUT_MARKER);
        wstr(&f, 0xFFFFFFFFu, 4);
        wstr(&f, 1, 1);
    } else if (!strcmp(key, "string-huge")) {
        head(&f, SIPC_DEMO_ID_ADD_STRING, SIPC_DEMO_ID_ADD_STRING, SIPC_INPUT_MARKER);
        wstr(&f, 0x7FFFFFFFu, 4);
        wstr(&f, 1, 1);
    } else if (!strcmp(key, "string-past-slot")) {
        head(&f, SIPC_DEMO_ID_ADD_STRING, SIPC_DEMO_ID_ADD_STRING, SIPC_INPUT_MARKER);
        wstr(&f, 1100, 4);
    } else if (!strcmp(key, "frame-overflows-slot")) {
        head(&f, SIPC_DEMO_ID_ADD_STRING, SIPC_DEMO_ID_ADD_STRING, SIPC_INPUT_MARKER);
        wstr(&f, 1400, 1400);
        wstr(&f, 10, 10);
    } else if (!strcmp(key, "frame-id-mismatch")) {
        head(&f, SIPC_DEMO_ID_ADD_INT, SIPC_DEMO_ID_ADD_STRING, SIPC_INPUT_MARKER);
        put32(&f, 1);
        put32(&f, 2);
    } else if (!strcmp(key, "frame-bad-marker")) {
        head(&f, SIPC_DEMO_ID_ADD_INT, SIPC_DEMO_ID_ADD_INT, 0x00);
        put32(&f, 1);
        put32(&f, 2);
    } else if (!strcmp(key, "frame-unknown-function")) {
        head(&f, 4242, 4242, SIPC_INPUT_MARKER);
    } else if (!strcmp(key, "frame-beyond-tail")) {
        add_int(&f, 1, 2);
        slot = g.opts.stack - 1;
    } else {
        sipb_emit("error=unknown frame attack %s", key);
        return 2;
    }
    if (!place(0, &f))
        return 1;
    if (!strcmp(key, "string-past-slot"))
        h[1] = g.conn.send.stream.cap; /* the bytes are there: only the slot ends the string */
    if (!strcmp(key, "frame-beyond-tail"))
        h[1] = h[2] = 100;
    send_call(key, g.conn.remote, slot, (LPARAM)g.conn.local);
    restore(h, saved);
    return 0;
}

/* v1: an AddInt frame at the tail whose trailing length says 0x7FFFFFFF. */
static int attack_v1_length(void)
{
    volatile uint32_t *h = send_header();
    header saved = save(h);
    uint8_t *data = (uint8_t *)g.conn.send.view + SIPC_HEADER_BYTES;
    uint32_t start = h[1];
    frame f;

    add_int(&f, 1, 2);
    put32(&f, 0x7FFFFFFFu);
    if (start > g.conn.send.stream.cap || f.n > g.conn.send.stream.cap - start) {
        sipb_emit("error=no room for a v1 frame");
        return 1;
    }
    memcpy(data + start, f.b, f.n);
    h[1] = h[2] = start + f.n;
    send_call("v1-bad-length", g.server, SIPC_DEMO_ID_ADD_INT, (LPARAM)g.conn.local);
    restore(h, saved);
    return 0;
}

static int attack_outputs_overflow(void)
{
    static WCHAR a[400], b[400];
    DemoAddString_in in = {{a, 400}, {b, 400}};
    DemoAddString_out out;
    sipc_status st;

    for (int i = 0; i < 400; i++) {
        a[i] = L'a';
        b[i] = L'b';
    }
    st = DemoAddString_call(&g.conn, &in, &out);
    DemoAddString_free_out(&out);
    emit_library("outputs-overflow-slot", st);
    return 0;
}

static int attack_sum(const char *key)
{
    volatile uint32_t *h = (volatile uint32_t *)g.conn.recv.view;
    header saved = save(h);
    DemoSum_in in = {3};
    DemoSum_out out;
    sipc_status st;

    if (!strcmp(key, "server-send-header"))
        h[1] = 0xFFFFFFFFu;
    else
        g.bad_outputs = true;
    st = DemoSum_call(&g.conn, &in, &out);
    g.bad_outputs = false;
    restore(h, saved);
    emit_library(key, st);
    return 0;
}

static int attack_spoof_disconnect(void)
{
    HWND stranger = make_window();
    sipc_conn witness;
    bool synced;

    memset(&witness, 0, sizeof(witness));
    if (!stranger) {
        sipb_emit("error=CreateWindow failed");
        return 1;
    }
    if (sipc_connect(&witness, &g.cfg, g.server) != SIPC_OK) {
        sipb_emit("error=the witness connection failed: %s", witness.err.what);
        DestroyWindow(stranger);
        return 1;
    }
    sipb_emit("spoof-disconnect_lparam=0x%llx", (unsigned long long)(uintptr_t)stranger);
    PostMessageW(g.conn.remote, SIPC_UM_CALL_FUN, SIPC_FUN_ID_DISCONNECT, (LPARAM)stranger);
    /* Posted messages reach the server in order: once the witness's connection
     * window is gone, the spoofed disconnect before it has been served. */
    PostMessageW(g.server, SIPC_UM_CALL_FUN, SIPC_FUN_ID_DISCONNECT, (LPARAM)witness.local);
    synced = pump_until(window_gone, witness.remote, 10000);
    sipb_emit("spoof-disconnect_sync=%s", synced ? "ok" : "timeout");
    sipb_emit("spoof-disconnect=%s", IsWindow(g.conn.remote) ? "still-connected" : "dropped");
    sipc_disconnect(&witness);
    DestroyWindow(stranger);
    return 0;
}

/* Wine's next handle for the window slot `h` had, once freed. */
static uint32_t successor(HWND h)
{
    uint32_t v = (uint32_t)(uintptr_t)h, generation = (v >> 16) + 1;

    if (generation >= 0xFFFF)
        generation = 1;
    return generation << 16 | (v & 0xFFFF);
}

static int attack_squat(const char *key)
{
    bool event = !strcmp(key, "squat-event");
    HANDLE objects[4] = {0};
    uint32_t candidates[4];
    HWND decoys[4] = {0};
    WCHAR name[SIPC_MAX_NAME + 8];
    int count = 0, rc = 0;
    HWND client = make_window();
    LRESULT res;

    if (!client) {
        sipb_emit("error=CreateWindow failed");
        return 1;
    }
    if (g.opts.version == SIPC_V1) {
        candidates[count++] = (uint32_t)(uintptr_t)g.server;
    } else {
        for (int i = 0; i < 4; i++)
            decoys[i] = make_window();
        for (int i = 0; i < 4; i++) {
            if (!decoys[i] || !DestroyWindow(decoys[i])) {
                sipb_emit("error=decoy windows failed");
                DestroyWindow(client);
                return 1;
            }
            candidates[count++] = successor(decoys[i]);
        }
    }
    for (int i = 0; i < count && rc == 0; i++) {
        uint32_t conn = candidates[i], cli = (uint32_t)(uintptr_t)client;
        /* the mapping the server reads from; the event of the one it writes */
        if (sipc_format_name(g.cfg.name_format, event ? conn : cli, event ? cli : conn, name,
                             SIPC_MAX_NAME) != SIPC_OK) {
            rc = 1;
            break;
        }
        if (event) {
            wcscat(name, L"_mutex");
            objects[i] = CreateEventW(NULL, FALSE, FALSE, name);
        } else {
            objects[i] = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name);
        }
        if (!objects[i])
            rc = 1;
    }
    if (rc == 0) {
        sipb_emit("%s_client=0x%llx", key, (unsigned long long)(uintptr_t)client);
        res = send_call(key, g.server, SIPC_FUN_ID_CONNECT, (LPARAM)client);
        if (res != 0) {
            sipb_emit("%s_connection=0x%08x", key, (unsigned)(uintptr_t)res);
            for (int i = 0; i < count; i++)
                sipb_emit("%s_predicted=0x%08x", key, candidates[i]);
            PostMessageW(g.server, SIPC_UM_CALL_FUN, SIPC_FUN_ID_DISCONNECT, (LPARAM)client);
        }
    } else {
        sipb_emit("error=squatting failed (GetLastError=%lu)", GetLastError());
    }
    for (int i = 0; i < count; i++)
        if (objects[i])
            CloseHandle(objects[i]);
    DestroyWindow(client);
    return rc;
}

static int legit(void)
{
    DemoAddInt_in in = {40, 2};
    DemoAddInt_out out;
    DemoSum_in sum_in = {5};
    DemoSum_out sum_out;
    sipc_status st = DemoAddInt_call(&g.conn, &in, &out);

    if (st != SIPC_OK) {
        sipb_emit("legit=error");
        sipb_emit("legit_status=%s", sipc_status_name(st));
        return 1;
    }
    sipb_emit("legit=%d", out.ret);
    st = DemoSum_call(&g.conn, &sum_in, &sum_out);
    if (st != SIPC_OK) {
        sipb_emit("legit-sum=error");
        sipb_emit("legit-sum_status=%s", sipc_status_name(st));
        return 1;
    }
    sipb_emit("legit-sum=%d", sum_out.ret);
    return 0;
}

static int count_conn_windows(void)
{
    HWND after = NULL;
    int n = 0;

    while ((after = FindWindowExW(HWND_MESSAGE, after, NULL, g.opts.conn_title)) != NULL && n < 1000)
        n++;
    sipb_emit("conn-windows=%d", n);
    return 0;
}

static int disconnect_s4(void)
{
    HWND conn = g.conn.remote;

    PostMessageW(conn, SIPC_UM_CALL_FUN, SIPC_FUN_ID_DISCONNECT, (LPARAM)g.conn.local);
    sipb_emit("disconnect-s4=%s", pump_until(window_gone, conn, 10000) ? "ok" : "timeout");
    sipc_disconnect(&g.conn);
    return 0;
}

static int run(const char *key)
{
    if (!g.conn.connected && strcmp(key, "conn-windows") != 0) {
        sipb_emit("error=not connected before %s", key);
        return 1;
    }
    if (!strcmp(key, "control"))
        return attack_control();
    if (!strncmp(key, "connect-", 8))
        return attack_connect(key);
    if (!strcmp(key, "unconnected-window") || !strcmp(key, "main-window-call") ||
        !strcmp(key, "v1-wide-wparam") ||
        !strncmp(key, "spoof-lparam-", 13) || !strncmp(key, "slot-", 5))
        return attack_message(key);
    if (!strncmp(key, "header-", 7))
        return attack_header(key);
    if (!strncmp(key, "string-", 7) || !strncmp(key, "frame-", 6))
        return attack_frame(key);
    if (!strcmp(key, "v1-bad-length"))
        return attack_v1_length();
    if (!strcmp(key, "outputs-overflow-slot"))
        return attack_outputs_overflow();
    if (!strcmp(key, "server-send-header") || !strcmp(key, "bad-outputs"))
        return attack_sum(key);
    if (!strcmp(key, "spoof-disconnect"))
        return attack_spoof_disconnect();
    if (!strncmp(key, "squat-", 6))
        return attack_squat(key);
    if (!strcmp(key, "legit"))
        return legit();
    if (!strcmp(key, "conn-windows"))
        return count_conn_windows();
    if (!strcmp(key, "disconnect-s4"))
        return disconnect_s4();
    sipb_emit("error=unknown attack %s", key);
    return 2;
}

/* ---- main ------------------------------------------------------------------------- */

typedef LPWSTR *(WINAPI *argv_fn)(LPCWSTR, int *);

static int parse_opts(int argc, WCHAR **argv, int i, hostile_opts *o)
{
    o->version = SIPC_V2;
    o->title = SIPC_DEMO_TITLE;
    o->stack = 10;
    o->buf = SIPC_DEMO_BUF_SIZE;
    o->format = SIPC_DEMO_NAME_FORMAT;
    o->conn_title = L"svr_conn_wnd";
    for (; i < argc && wcsncmp(argv[i], L"--", 2) == 0; i++) {
        const WCHAR *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!wcscmp(a, L"--v1"))
            o->version = SIPC_V1;
        else if (!wcscmp(a, L"--title") && has_val)
            o->title = argv[++i];
        else if (!wcscmp(a, L"--format") && has_val)
            o->format = argv[++i];
        else if (!wcscmp(a, L"--conn-title") && has_val)
            o->conn_title = argv[++i];
        else if (!wcscmp(a, L"--stack") && has_val) {
            if (!sipb_parse_u32(argv[++i], &o->stack) || o->stack == 0)
                return -1;
        } else if (!wcscmp(a, L"--buf") && has_val) {
            if (!sipb_parse_u32(argv[++i], &o->buf) || o->buf == 0)
                return -1;
        } else {
            return -1;
        }
    }
    return i;
}

int main(void)
{
    HMODULE shell32 = LoadLibraryW(L"shell32.dll");
    FARPROC proc = shell32 ? GetProcAddress(shell32, "CommandLineToArgvW") : NULL;
    WCHAR **argv;
    int argc = 0, i;
    sipc_status st;

    if (!proc || !(argv = ((argv_fn)(void (*)(void))proc)(GetCommandLineW(), &argc))) {
        sipb_emit("error=CommandLineToArgvW unavailable");
        return 1;
    }
    i = parse_opts(argc, argv, 1, &g.opts);
    if (i < 0 || i >= argc) {
        sipb_emit("error=usage: hostile-peer [--title T] [--v1] [--stack N] [--buf N] [--format F] "
                  "[--conn-title T] <attack...>");
        return 2;
    }
    hostile_sum = DemoSum_function;
    hostile_sum.write_out = sum_write_out;
    memset(&g.cfg, 0, sizeof(g.cfg));
    g.cfg.version = g.opts.version;
    g.cfg.buf_size = g.opts.buf;
    g.cfg.stack_size = g.opts.stack;
    g.cfg.name_format = g.opts.format;
    g.cfg.handlers = handlers;
    g.cfg.handler_count = sizeof(handlers) / sizeof(handlers[0]);
    g.cfg.wait_mode = SIPC_WAIT_BLOCK;
    g.cfg.log = log_sink;
    g.server = sipc_find_server(g.opts.title);
    if (!g.server) {
        sipb_emit("error=SIPC_E_NOT_FOUND");
        sipb_emit("status=fail");
        return 1;
    }
    st = sipc_connect(&g.conn, &g.cfg, g.server);
    if (st != SIPC_OK) {
        sipb_emit("error=%s", sipc_status_name(st));
        sipb_emit("error_detail=%s", g.conn.err.what);
        sipb_emit("status=fail");
        return 1;
    }
    sipb_emit("connected=1");
    sipb_emit("local=0x%08x", (unsigned)(uintptr_t)g.conn.local);
    sipb_emit("remote=0x%08x", (unsigned)(uintptr_t)g.conn.remote);
    for (; i < argc; i++) {
        char key[64];
        int rc;

        if (WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, key, sizeof(key), NULL, NULL) <= 0) {
            sipb_emit("error=argument too long");
            return 2;
        }
        rc = run(key);
        if (rc != 0) {
            sipb_emit("status=fail");
            sipc_disconnect(&g.conn);
            return rc;
        }
    }
    sipc_disconnect(&g.conn);
    sipb_emit("status=ok");
    return 0;
}
