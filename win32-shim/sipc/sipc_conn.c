/*
 * sipc_conn.c - one side of a connection: making calls (spec 5.3, 8, 11),
 * serving calls (spec 5.4, 11), and the client's connect/disconnect (3.2).
 */
#include "sipc_internal.h"

#include <string.h>
#include <wchar.h>

void sipc__conn_setup(sipc_conn *c, const sipc_config *cfg, const WCHAR *fmt)
{
    memset(c, 0, sizeof(*c));
    c->tag.magic = SIPC__TAG_MAGIC;
    c->tag.kind = SIPC__WND_CONN;
    c->tag.owner = c;
    c->cfg = *cfg;
    wcscpy(c->name_format, fmt);
    c->cfg.name_format = c->name_format;
}

void sipc__conn_detect_thread(sipc_conn *c)
{
    DWORD pl = 0, pr = 0;
    DWORD tl = GetWindowThreadProcessId(c->local, &pl);
    DWORD tr = GetWindowThreadProcessId(c->remote, &pr);

    c->same_thread = tl != 0 && tl == tr && pl == pr;
}

static void release_buffers(sipc_conn *c)
{
    sipc__shm_close(&c->send, &c->cfg);
    sipc__shm_close(&c->recv, &c->cfg);
}

bool sipc__conn_close(sipc_conn *c)
{
    c->connected = false;
    if (c->busy) {
        c->close_pending = true;
        return false;
    }
    release_buffers(c);
    return true;
}

static void enter(sipc_conn *c)
{
    c->busy++;
}

/* The last statement that may touch `c`: a closed server connection is
 * freed here once its last running call has finished. */
static void leave(sipc_conn *c)
{
    if (--c->busy == 0 && c->close_pending) {
        c->close_pending = false;
        release_buffers(c);
        if (c->server)
            sipc__server_conn_released(c->server, c);
    }
}

static sipc_status conn_fail(sipc_conn *c, sipc_status st, const char *what)
{
    sipc__fail(&c->err, st, "%s: %s", what, sipc_status_name(st));
    sipc__log(&c->cfg, SIPC_LOG_WARN, "%s", c->err.what);
    return st;
}

/* ---- caller side ------------------------------------------------------------- */

/* Reply state of one SendMessageCallback. Heap-allocated: if the wait is
 * abandoned (peer gone, WM_QUIT) a late callback frees it instead. */
typedef struct wait_state {
    volatile LONG done;
    volatile LONG abandoned;
    LRESULT result;
} wait_state;

static VOID CALLBACK on_reply(HWND hwnd, UINT msg, ULONG_PTR data, LRESULT result)
{
    wait_state *w = (wait_state *)data;

    if (w->abandoned) {
        free(w);
        return;
    }
    w->result = result;
    w->done = 1;
}

/* Spec 5.3 step 2: service calls already posted to us before writing a new
 * frame. v2 filters on the local window; v1 peeked every window. */
static sipc_status drain(sipc_conn *c)
{
    HWND filter = c->cfg.version == SIPC_V1 ? NULL : c->local;
    MSG msg;

    while (PeekMessageW(&msg, filter, SIPC_UM_CALL_FUN, SIPC_UM_CALL_FUN, PM_REMOVE)) {
        if (msg.message == WM_QUIT) {
            PostQuitMessage((int)msg.wParam);
            return SIPC_E_QUIT;
        }
        DispatchMessageW(&msg);
    }
    return SIPC_OK;
}

static sipc_status send_call(sipc_conn *c, WPARAM wp, LRESULT *result)
{
    HWND remote = c->remote, local = c->local;
    wait_state *w;
    MSG msg;

    *result = 0;
    if (c->cfg.version == SIPC_V1 || c->same_thread) {
        /* v1 always, v2 between windows of one thread: plain SendMessage,
         * which also runs messages the peer sends us meanwhile. */
        *result = SendMessageW(remote, SIPC_UM_CALL_FUN, wp, (LPARAM)local);
        if (*result == 0 && !IsWindow(remote))
            return SIPC_E_PEER_GONE;
        return SIPC_OK;
    }
    w = calloc(1, sizeof(*w));
    if (!w)
        return SIPC_E_NO_MEMORY;
    if (!SendMessageCallbackW(remote, SIPC_UM_CALL_FUN, wp, (LPARAM)local, on_reply,
                              (ULONG_PTR)w)) {
        DWORD e = GetLastError();
        free(w);
        if (!IsWindow(remote))
            return SIPC_E_PEER_GONE;
        SetLastError(e);
        return sipc__fail_win32(&c->err, "SendMessageCallback(UM_CALL_FUN)");
    }
    /* Spec 8: pump our own UM_CALL_FUN (PeekMessage also runs sent messages
     * and delivers the reply callback) until the reply arrives or the peer's
     * window is gone. */
    for (;;) {
        if (PeekMessageW(&msg, local, SIPC_UM_CALL_FUN, SIPC_UM_CALL_FUN, PM_REMOVE)) {
            if (msg.message == WM_QUIT) {
                PostQuitMessage((int)msg.wParam);
                w->abandoned = 1;
                return SIPC_E_QUIT;
            }
            DispatchMessageW(&msg);
        }
        if (w->done)
            break;
        if (!IsWindow(remote)) {
            w->abandoned = 1;
            return SIPC_E_PEER_GONE;
        }
        if (c->cfg.wait_mode == SIPC_WAIT_BLOCK)
            MsgWaitForMultipleObjectsEx(0, NULL, 10, QS_SENDMESSAGE | QS_POSTMESSAGE, 0);
    }
    *result = w->result;
    free(w);
    return SIPC_OK;
}

/* Read `[id][0xF1][outputs]` at the cursor. */
static sipc_status read_outputs(sipc_stream *s, const sipc_function *fn, void *out)
{
    uint32_t id = 0;
    uint8_t mark = 0;
    sipc_status st = sipc_get_u32(s, &id);

    if (st == SIPC_OK)
        st = sipc_get_u8(s, &mark);
    if (st == SIPC_OK && (id != fn->id || mark != SIPC_OUTPUT_MARKER))
        st = SIPC_E_BAD_FRAME;
    if (st == SIPC_OK && fn->read_out)
        st = fn->read_out(s, out);
    return st;
}

static sipc_status write_frame_head(sipc_stream *s, uint32_t seq, const sipc_function *fn,
                                    const void *in)
{
    sipc_status st = sipc_put_i32(s, (int32_t)seq);

    if (st == SIPC_OK)
        st = sipc_put_u32(s, fn->id);
    if (st == SIPC_OK)
        st = sipc_put_u32(s, fn->id);
    if (st == SIPC_OK)
        st = sipc_put_u8(s, SIPC_INPUT_MARKER);
    if (st == SIPC_OK && fn->write_in)
        st = fn->write_in(s, in);
    return st;
}

static sipc_status call_v2(sipc_conn *c, const sipc_function *fn, const void *in,
                           void *out)
{
    uint32_t slot = c->depth, seq, p = 0;
    uint64_t lo = (uint64_t)slot * c->cfg.buf_size, hi = lo + c->cfg.buf_size;
    sipc_stream s;
    LRESULT r = 0;
    sipc_status st;

    if (slot + 1 > c->cfg.stack_size)
        return conn_fail(c, SIPC_E_STACK_FULL, fn->name);
    if (hi > c->send.stream.cap)
        return conn_fail(c, SIPC_E_STACK_FULL, "slot beyond the shared buffer's capacity");
    st = sipc_stream_window(&c->send.stream, (uint32_t)hi, &s);
    if (st == SIPC_OK)
        st = sipc_stream_seek(&s, SIPC_SEEK_SET, (int64_t)lo);
    if (st != SIPC_OK)
        return conn_fail(c, st, "seek to call slot");
    seq = c->seq;
    c->seq = c->seq + 1 >= SIPC_V2_SEQ_WRAP ? 0 : c->seq + 1;
    st = write_frame_head(&s, seq, fn, in);
    if (st == SIPC_OK)
        st = sipc_stream_tell(&s, &p);
    if (st != SIPC_OK)
        return conn_fail(c, st, "writing call inputs");
    c->depth++;
    st = send_call(c, (WPARAM)slot, &r);
    if (st == SIPC_OK && r == 0)
        st = SIPC_E_NOT_HANDLED;
    if (st == SIPC_OK) {
        st = sipc_stream_seek(&s, SIPC_SEEK_SET, p);
        if (st == SIPC_OK)
            st = read_outputs(&s, fn, out);
        if (st != SIPC_OK)
            sipc_free_out(fn, out);
    }
    c->depth--;
    if (st != SIPC_OK)
        conn_fail(c, st, fn->name);
    return st;
}

static sipc_status call_v1(sipc_conn *c, const sipc_function *fn, const void *in,
                           void *out)
{
    sipc_stream s = c->send.stream;
    uint32_t start = 0, end = 0, seq;
    LRESULT r = 0;
    sipc_status st;

    /* v1 frames are pushed at the tail: [seq][id][id][F0][inputs][int32 L] */
    st = sipc_stream_seek(&s, SIPC_SEEK_END, 0);
    if (st == SIPC_OK)
        st = sipc_stream_tell(&s, &start);
    if (st != SIPC_OK)
        return conn_fail(c, st, "v1 frame start");
    seq = c->seq;
    c->seq = c->seq + 1 > SIPC_V1_SEQ_MAX ? 0 : c->seq + 1;
    st = write_frame_head(&s, seq, fn, in);
    if (st == SIPC_OK)
        st = sipc_stream_tell(&s, &end);
    if (st == SIPC_OK)
        st = sipc_put_i32(&s, (int32_t)(end - start));
    if (st != SIPC_OK) {
        sipc_stream_set_tail(&s, start);
        return conn_fail(c, st, "writing v1 call inputs");
    }
    c->depth++;
    st = send_call(c, (WPARAM)fn->id, &r);
    if (st == SIPC_OK && r == 0)
        st = SIPC_E_NOT_HANDLED;
    if (st == SIPC_OK) {
        st = sipc_stream_seek(&s, SIPC_SEEK_SET, (int64_t)end + 4);
        if (st == SIPC_OK)
            st = read_outputs(&s, fn, out);
        if (st != SIPC_OK)
            sipc_free_out(fn, out);
    }
    /* pop the frame (LIFO) */
    sipc_stream_set_tail(&s, start);
    c->depth--;
    if (st != SIPC_OK)
        conn_fail(c, st, fn->name);
    return st;
}

sipc_status sipc_call(sipc_conn *c, const sipc_function *fn, const void *in, void *out)
{
    sipc_status st;

    if (!c || !fn || (fn->in_size && !in) || (fn->out_size && !out))
        return SIPC_E_INVALID_ARG;
    if (fn->out_size)
        memset(out, 0, fn->out_size);
    if (!c->connected)
        return conn_fail(c, SIPC_E_NOT_CONNECTED, fn->name);
    enter(c);
    st = drain(c);
    if (st == SIPC_OK && !c->connected)
        st = SIPC_E_NOT_CONNECTED;
    if (st != SIPC_OK)
        conn_fail(c, st, "before call");
    else if (c->cfg.version == SIPC_V1)
        st = call_v1(c, fn, in, out);
    else
        st = call_v2(c, fn, in, out);
    leave(c);
    return st;
}

/* ---- callee side ------------------------------------------------------------- */

static const sipc_handler *find_handler(const sipc_conn *c, uint32_t id)
{
    for (size_t i = 0; i < c->cfg.handler_count; i++)
        if (c->cfg.handlers[i].fn->id == id)
            return &c->cfg.handlers[i];
    return NULL;
}

/* The cursor is on `[id][F0][inputs]`. v1_end: where the inputs must end
 * (v1 frames carry their length), NULL for v2. Returns the LRESULT. */
static LRESULT dispatch(sipc_conn *c, sipc_stream *s, uint32_t id, const uint32_t *v1_end)
{
    const sipc_handler *h = find_handler(c, id);
    const sipc_function *fn;
    uint32_t id2 = 0, p = 0;
    uint8_t mark = 0;
    void *in = NULL, *out = NULL;
    sipc_status st;

    if (!h) {
        sipc__log(&c->cfg, SIPC_LOG_WARN, "call of unknown function id %u answered 0", id);
        return 0;
    }
    fn = h->fn;
    st = sipc_get_u32(s, &id2);
    if (st == SIPC_OK)
        st = sipc_get_u8(s, &mark);
    if (st == SIPC_OK && (id2 != id || mark != SIPC_INPUT_MARKER))
        st = SIPC_E_BAD_FRAME;
    if (st != SIPC_OK) {
        conn_fail(c, st, "incoming frame header");
        return 0;
    }
    in = calloc(1, fn->in_size ? fn->in_size : 1);
    out = calloc(1, fn->out_size ? fn->out_size : 1);
    if (!in || !out) {
        free(in);
        free(out);
        conn_fail(c, SIPC_E_NO_MEMORY, fn->name);
        return 0;
    }
    if (fn->read_in)
        st = fn->read_in(s, in);
    if (st == SIPC_OK)
        st = sipc_stream_tell(s, &p);
    if (st == SIPC_OK && v1_end) {
        if (p != *v1_end)
            st = SIPC_E_BAD_FRAME;
        p += 4; /* skip the trailing length */
    }
    if (st != SIPC_OK) {
        conn_fail(c, st, "incoming inputs");
    } else {
        st = h->handle(c, in, out, c->cfg.user);
        if (st != SIPC_OK) {
            sipc__log(&c->cfg, SIPC_LOG_WARN, "handler of %s failed: %s; answered 0",
                      fn->name, sipc_status_name(st));
        } else {
            /* Outputs go right after the inputs, wherever nested calls left
             * the shared cursor. */
            st = sipc_stream_seek(s, SIPC_SEEK_SET, p);
            if (st == SIPC_OK)
                st = sipc_put_u32(s, fn->id);
            if (st == SIPC_OK)
                st = sipc_put_u8(s, SIPC_OUTPUT_MARKER);
            if (st == SIPC_OK && fn->write_out)
                st = fn->write_out(s, out);
            if (st != SIPC_OK)
                conn_fail(c, st, "writing outputs");
        }
    }
    if (fn->free_in)
        fn->free_in(in);
    if (fn->free_out)
        fn->free_out(out);
    free(in);
    free(out);
    return st == SIPC_OK ? 1 : 0;
}

static LRESULT serve_v2(sipc_conn *c, WPARAM slot)
{
    uint64_t lo, hi;
    uint32_t id = 0;
    int32_t seq = 0;
    sipc_stream s;
    sipc_status st;

    if (slot >= c->cfg.stack_size) {
        conn_fail(c, SIPC_E_BAD_SLOT, "incoming call slot");
        return 0;
    }
    lo = (uint64_t)slot * c->cfg.buf_size;
    hi = lo + c->cfg.buf_size;
    if (hi > c->recv.stream.cap) {
        conn_fail(c, SIPC_E_BAD_SLOT, "incoming call slot beyond capacity");
        return 0;
    }
    st = sipc_stream_window(&c->recv.stream, (uint32_t)hi, &s);
    if (st == SIPC_OK)
        st = sipc_stream_seek(&s, SIPC_SEEK_SET, (int64_t)lo);
    if (st == SIPC_OK)
        st = sipc_get_i32(&s, &seq); /* read and ignored, as in SOUI */
    if (st == SIPC_OK)
        st = sipc_get_u32(&s, &id);
    if (st != SIPC_OK) {
        conn_fail(c, st, "incoming call");
        return 0;
    }
    return dispatch(c, &s, id, NULL);
}

static LRESULT serve_v1(sipc_conn *c, WPARAM fun_id)
{
    sipc_stream s = c->recv.stream;
    uint32_t pos = 0, id = 0, start, end;
    int32_t len = 0, seq = 0;
    sipc_status st = sipc_stream_tell(&s, &pos);

    /* The frame ends at the shared cursor with its length: step back. */
    if (st == SIPC_OK && pos < 4)
        st = SIPC_E_BAD_FRAME;
    if (st == SIPC_OK)
        st = sipc_stream_seek(&s, SIPC_SEEK_SET, (int64_t)pos - 4);
    if (st == SIPC_OK)
        st = sipc_get_i32(&s, &len);
    if (st == SIPC_OK && (len < 13 || (uint32_t)len > pos - 4))
        st = SIPC_E_BAD_FRAME;
    if (st != SIPC_OK) {
        conn_fail(c, st, "incoming v1 frame length");
        return 0;
    }
    end = pos - 4;
    start = end - (uint32_t)len;
    st = sipc_stream_seek(&s, SIPC_SEEK_SET, start);
    if (st == SIPC_OK)
        st = sipc_get_i32(&s, &seq);
    if (st == SIPC_OK)
        st = sipc_get_u32(&s, &id);
    if (st == SIPC_OK && id != fun_id)
        st = SIPC_E_BAD_FRAME;
    if (st != SIPC_OK) {
        conn_fail(c, st, "incoming v1 frame");
        return 0;
    }
    return dispatch(c, &s, id, &end);
}

LRESULT sipc_conn_on_message(sipc_conn *c, HWND hwnd, UINT msg, WPARAM wp, LPARAM lp,
                             BOOL *handled)
{
    LRESULT r;

    *handled = FALSE;
    if (c && msg == SIPC_UM_RECONN && hwnd == c->local && !c->server) {
        /* Only noted: the application reconnects outside the message handler
         * (sipc_disconnect destroys this very window). */
        sipc__log(&c->cfg, SIPC_LOG_INFO, "UM_RECONN: the server asks for a reconnect");
        c->reconnect_requested = true;
        *handled = TRUE;
        return 0;
    }
    if (!c || msg != SIPC_UM_CALL_FUN || hwnd != c->local)
        return 0;
    *handled = TRUE;
    if (!c->connected)
        return 0;
    if ((HWND)lp != c->remote) {
        /* SOUI does not look at lParam; we only accept our peer's calls. */
        sipc__log(&c->cfg, SIPC_LOG_WARN,
                  "UM_CALL_FUN(%llu) from %p, not from the peer %p: answered 0",
                  (unsigned long long)wp, (void *)lp, (void *)c->remote);
        return 0;
    }
    if (c->cfg.version == SIPC_V2 && wp == SIPC_FUN_ID_DISCONNECT &&
        wp >= c->cfg.stack_size) {
        /* SOUI4: the peer posts 101 to our window when it goes away. */
        sipc__log(&c->cfg, SIPC_LOG_INFO, "peer %p disconnected", (void *)c->remote);
        if (c->server)
            sipc__server_drop(c->server, c, SIPC_DROP_DISCONNECT);
        else
            sipc__conn_close(c);
        return 0;
    }
    enter(c);
    r = c->cfg.version == SIPC_V1 ? serve_v1(c, wp) : serve_v2(c, wp);
    leave(c);
    return r;
}

/* ---- client ------------------------------------------------------------------ */

sipc_status sipc_connect(sipc_conn *c, const sipc_config *cfg, HWND server)
{
    WCHAR fmt[SIPC_MAX_NAME];
    sipc_config norm;
    DWORD_PTR res = 0;
    LARGE_INTEGER t0, t1, freq;
    LRESULT sent;
    DWORD err;
    sipc_status st;

    if (!c)
        return SIPC_E_INVALID_ARG;
    if (c->tag.magic == SIPC__TAG_MAGIC && (c->connected || c->busy || c->local))
        return sipc__fail(&c->err, SIPC_E_BUSY, "sipc_connect on a live connection");
    st = sipc__config_norm(cfg, &norm, fmt);
    if (st != SIPC_OK) {
        memset(c, 0, sizeof(*c));
        return sipc__fail(&c->err, st, "invalid sipc_config");
    }
    sipc__conn_setup(c, &norm, fmt);
    if (!server || !IsWindow(server))
        return conn_fail(c, SIPC_E_NOT_FOUND, "server window");
    c->local = sipc__create_window(&c->tag, SIPC__CLIENT_TITLE, false, &c->err);
    if (!c->local)
        return c->err.status;
    c->owns_local = true;
    SetLastError(0);
    QueryPerformanceCounter(&t0);
    sent = SendMessageTimeoutW(server, SIPC_UM_CALL_FUN, SIPC_FUN_ID_CONNECT, (LPARAM)c->local,
                               SMTO_ABORTIFHUNG, SIPC_CONNECT_TIMEOUT_MS, &res);
    err = GetLastError();
    QueryPerformanceCounter(&t1);
    QueryPerformanceFrequency(&freq);
    c->connect_answer_ms = (double)(t1.QuadPart - t0.QuadPart) * 1000.0 / (double)freq.QuadPart;
    if (!sent) {
        SetLastError(err);
        st = sipc__fail_win32(&c->err, "connect: SendMessageTimeout(UM_CALL_FUN, 100)");
        goto fail;
    }
    if (res == 0) {
        st = sipc__fail(&c->err, SIPC_E_REFUSED, "connect: the server answered 0");
        goto fail;
    }
    c->server_main = server;
    if (norm.version == SIPC_V2) {
        HWND conn = (HWND)res;
        if (!IsWindow(conn) || conn == c->local) {
            st = sipc__fail(&c->err, SIPC_E_REFUSED,
                            "connect: the answer %p is not a window%s", (void *)conn,
                            res == 1 ? " (a v1 server?)" : "");
            goto fail_posted;
        }
        c->remote = conn;
    } else {
        if (res != 1) {
            st = sipc__fail(&c->err, SIPC_E_REFUSED,
                            "connect: a v1 server answers 1, got %p (a v2 server?)",
                            (void *)res);
            goto fail_posted;
        }
        c->remote = server;
    }
    /* SOUI's client opens Name(local, remote) to send and Name(remote, local)
     * to receive, mappings read/write and events SYNCHRONIZE. */
    st = sipc__shm_open(&c->send, &c->err, c->name_format, c->local, c->remote,
                        norm.version == SIPC_V2);
    if (st == SIPC_OK)
        st = sipc__shm_open(&c->recv, &c->err, c->name_format, c->remote, c->local,
                            norm.version == SIPC_V2);
    if (st == SIPC_OK && (c->send.stream.cap < norm.buf_size || c->recv.stream.cap < 32))
        st = sipc__fail(&c->err, SIPC_E_BAD_HEADER,
                        "server buffers too small (send %u, receive %u bytes)",
                        c->send.stream.cap, c->recv.stream.cap);
    if (st != SIPC_OK)
        goto fail_posted;
    sipc__conn_detect_thread(c);
    c->connected = true;
    return SIPC_OK;

fail_posted:
    /* Unlike SOUI (which reports success and stays unconnected) we fail, and
     * tell the server to drop what it set up. */
    sipc__check(&c->cfg,
                PostMessageW(server, SIPC_UM_CALL_FUN, SIPC_FUN_ID_DISCONNECT, (LPARAM)c->local),
                "PostMessage(UM_CALL_FUN, 101)");
fail:
    sipc__log(&c->cfg, SIPC_LOG_ERROR, "%s", c->err.what);
    release_buffers(c);
    SetWindowLongPtrW(c->local, GWLP_USERDATA, 0);
    sipc__check(&c->cfg, DestroyWindow(c->local), "DestroyWindow(client window)");
    c->local = NULL;
    c->remote = NULL;
    c->server_main = NULL;
    c->owns_local = false;
    return st;
}

void sipc_disconnect(sipc_conn *c)
{
    if (!c || c->tag.magic != SIPC__TAG_MAGIC || c->server)
        return;
    if (c->server_main && c->local)
        sipc__check(&c->cfg,
                    PostMessageW(c->server_main, SIPC_UM_CALL_FUN, SIPC_FUN_ID_DISCONNECT,
                                 (LPARAM)c->local),
                    "disconnect: PostMessage(UM_CALL_FUN, 101)");
    sipc__conn_close(c);
    if (c->owns_local && c->local) {
        SetWindowLongPtrW(c->local, GWLP_USERDATA, 0);
        sipc__check(&c->cfg, DestroyWindow(c->local), "DestroyWindow(client window)");
    }
    c->owns_local = false;
    c->local = NULL;
    c->remote = NULL;
    c->server_main = NULL;
}
