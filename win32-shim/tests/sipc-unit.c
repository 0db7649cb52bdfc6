/*
 * sipc-unit.c - in-process tests of the C SIPC library: stream semantics,
 * name formatting, the exact frame bytes (spec appendix), and hostile input
 * against a served connection (bad slots, ids, markers, counts, headers,
 * foreign senders), all on one thread with a loopback server + client.
 *
 * Output: one "test=<name> result=ok|fail" line per test (plus detail=...
 * on failure), then "unit=ok" or "unit=fail". Exit code 0 only if all pass.
 */
#include "sipc.h"
#include "sipc_demo_protocol.h"
#include "sipb_tool.h" /* sipb_emit */
#include "test_protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int g_failures;

static int g_bad; /* failures inside the current test */

#define EXPECT(cond)                                                       \
    do {                                                                   \
        if (!(cond)) {                                                     \
            sipb_emit("detail=%s:%d: %s", __FILE__, __LINE__, #cond);           \
            g_bad++;                                                       \
        }                                                                  \
    } while (0)
#define EXPECT_ST(expr, want)                                              \
    do {                                                                   \
        sipc_status st__ = (expr);                                         \
        if (st__ != (want)) {                                              \
            sipb_emit("detail=%s:%d: %s -> %s, expected %s", __FILE__, __LINE__, \
                 #expr, sipc_status_name(st__), sipc_status_name(want));   \
            g_bad++;                                                       \
        }                                                                  \
    } while (0)

static void finish(const char *name)
{
    sipb_emit("test=%s result=%s", name, g_bad ? "fail" : "ok");
    if (g_bad)
        g_failures++;
    g_bad = 0;
}

/* ---- stream ---------------------------------------------------------------- */

static void test_stream(void)
{
    static uint8_t mem[12 + 64];
    sipc_stream s, w;
    uint32_t v, pos, tail;
    uint8_t big[80];

    memset(mem, 0xAA, sizeof(mem));
    EXPECT_ST(sipc_stream_attach(&s, mem, sizeof(mem), true, 64), SIPC_OK);
    EXPECT(((uint32_t *)mem)[0] == 64 && ((uint32_t *)mem)[1] == 0 && ((uint32_t *)mem)[2] == 0);
    EXPECT_ST(sipc_put_u32(&s, 0x11223344), SIPC_OK);
    EXPECT(mem[12] == 0x44 && mem[15] == 0x11); /* little-endian */
    EXPECT_ST(sipc_stream_tell(&s, &pos), SIPC_OK);
    EXPECT(pos == 4);
    /* overflow: error, nothing written, cursor unchanged */
    memset(big, 1, sizeof(big));
    EXPECT_ST(sipc_stream_write(&s, big, 61), SIPC_E_OVERFLOW);
    EXPECT_ST(sipc_stream_tell(&s, &pos), SIPC_OK);
    EXPECT(pos == 4 && mem[16] == 0xAA);
    EXPECT_ST(sipc_stream_write(&s, big, 60), SIPC_OK);
    /* read past the tail: short read error, nothing consumed */
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 62), SIPC_OK);
    EXPECT_ST(sipc_get_u32(&s, &v), SIPC_E_SHORT_READ);
    EXPECT_ST(sipc_stream_tell(&s, &pos), SIPC_OK);
    EXPECT(pos == 62);
    /* seek beyond tail raises the tail (SOUI "auto expand") */
    EXPECT_ST(sipc_stream_set_tail(&s, 10), SIPC_OK);
    EXPECT_ST(sipc_stream_tell(&s, &pos), SIPC_OK);
    EXPECT(pos == 10); /* cursor clamped to the new tail */
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 20), SIPC_OK);
    EXPECT_ST(sipc_stream_tail(&s, &tail), SIPC_OK);
    EXPECT(tail == 20);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_END, -16), SIPC_OK);
    EXPECT_ST(sipc_stream_tell(&s, &pos), SIPC_OK);
    EXPECT(pos == 4);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_CUR, -5), SIPC_E_INVALID_ARG);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 65), SIPC_E_OVERFLOW);
    /* a window limits writes and reads */
    EXPECT_ST(sipc_stream_window(&s, 8, &w), SIPC_OK);
    EXPECT_ST(sipc_put_u32(&w, 1), SIPC_OK);
    EXPECT_ST(sipc_put_u8(&w, 1), SIPC_E_OVERFLOW);
    EXPECT_ST(sipc_stream_window(&s, 65, &w), SIPC_E_OVERFLOW);
    /* tampered header: every operation refuses */
    ((uint32_t *)mem)[1] = 65; /* tail > capacity */
    EXPECT_ST(sipc_put_u8(&s, 1), SIPC_E_BAD_HEADER);
    ((uint32_t *)mem)[1] = 20;
    ((uint32_t *)mem)[2] = 21; /* cursor > tail */
    EXPECT_ST(sipc_get_u8(&s, (uint8_t *)&v), SIPC_E_BAD_HEADER);
    ((uint32_t *)mem)[2] = 0;
    ((uint32_t *)mem)[0] = 1000; /* capacity changed under us */
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_E_BAD_HEADER);
    /* attaching to a header that claims more than the memory */
    EXPECT_ST(sipc_stream_attach(&w, mem, sizeof(mem), false, 0), SIPC_E_BAD_HEADER);
    ((uint32_t *)mem)[0] = 64;
    EXPECT_ST(sipc_stream_attach(&w, mem, sizeof(mem), false, 0), SIPC_OK);
    EXPECT(w.cap == 64);
    finish("stream");
}

static void test_counted(void)
{
    static uint8_t mem[12 + 64];
    sipc_stream s;
    sipc_str a = {0};
    sipc_wstr b = {0};
    void *arr = NULL;
    uint32_t n = 0;

    EXPECT_ST(sipc_stream_attach(&s, mem, sizeof(mem), true, 64), SIPC_OK);
    EXPECT_ST(sipc_put_str(&s, "abc", 3), SIPC_OK);
    EXPECT_ST(sipc_put_wstr(&s, L"\u00e9\U0001D11E", 3), SIPC_OK);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_OK);
    EXPECT_ST(sipc_get_str(&s, &a), SIPC_OK);
    EXPECT(a.len == 3 && memcmp(a.data, "abc", 4) == 0);
    EXPECT_ST(sipc_get_wstr(&s, &b), SIPC_OK);
    EXPECT(b.len == 3 && b.data[0] == 0xe9 && b.data[1] == 0xD834 && b.data[2] == 0xDD1E &&
           b.data[3] == 0);
    free(a.data);
    free(b.data);
    /* bytes on the wire: 03 00 00 00 'a' 'b' 'c' 03 00 00 00 e9 00 34 d8 1e dd */
    EXPECT(mem[12] == 3 && mem[15] == 0 && mem[16] == 'a' && mem[19] == 3 && mem[23] == 0xe9 &&
           mem[25] == 0x34 && mem[26] == 0xd8);
    /* negative count */
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_OK);
    EXPECT_ST(sipc_put_i32(&s, -1), SIPC_OK);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_OK);
    EXPECT_ST(sipc_get_str(&s, &a), SIPC_E_BAD_LENGTH);
    EXPECT(a.data == NULL && a.len == 0);
    /* count larger than the bytes present (tail is 29) */
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_OK);
    EXPECT_ST(sipc_put_i32(&s, 26), SIPC_OK);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_OK);
    EXPECT_ST(sipc_get_str(&s, &a), SIPC_E_BAD_LENGTH);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_OK);
    EXPECT_ST(sipc_put_i32(&s, 0x7fffffff), SIPC_OK);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_OK);
    EXPECT_ST(sipc_get_wstr(&s, &b), SIPC_E_BAD_LENGTH);
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 0), SIPC_OK);
    EXPECT_ST(sipc_get_array(&s, &arr, &n, 4), SIPC_E_BAD_LENGTH);
    EXPECT(arr == NULL);
    /* a string that does not fit: nothing written at all */
    EXPECT_ST(sipc_stream_seek(&s, SIPC_SEEK_SET, 60), SIPC_OK);
    EXPECT_ST(sipc_put_str(&s, "x", 1), SIPC_E_OVERFLOW);
    EXPECT(((uint32_t *)mem)[2] == 60);
    finish("counted");
}

static void test_names(void)
{
    WCHAR out[SIPC_MAX_NAME];

    EXPECT_ST(sipc_format_name(L"sistart3_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22"
                               L"_%08x_2_%08x",
                               0x000A0B2C, 0x00120456, out, SIPC_MAX_NAME),
              SIPC_OK);
    EXPECT(wcscmp(out, L"sistart3_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22"
                       L"_000a0b2c_2_00120456") == 0);
    EXPECT_ST(sipc_format_name(L"100%%_%08x_%08x", 0xffffffffu, 1, out, SIPC_MAX_NAME), SIPC_OK);
    EXPECT(wcscmp(out, L"100%_ffffffff_00000001") == 0);
    EXPECT(!sipc_name_format_valid(L"x_%08x"));
    EXPECT(!sipc_name_format_valid(L"x_%08x_%08x_%08x"));
    EXPECT(!sipc_name_format_valid(L"x_%s_%08x"));
    EXPECT(!sipc_name_format_valid(L"x_%8x_%08x"));
    EXPECT(!sipc_name_format_valid(NULL));
    EXPECT_ST(sipc_format_name(L"%08x%08x", 1, 2, out, 10), SIPC_E_INVALID_ARG);
    finish("names");
}

/* ---- loopback connection ---------------------------------------------------------- */

static sipc_status on_seg_end(sipc_conn *c, const DemoSum_in *in, DemoSum_out *out, void *u)
{
    out->ret = in->n == 2 ? 7 : -1;
    return SIPC_OK;
}
/* sinstar3's ISinstar_GetCompositionSegmentEnd: id 115, int in, int out */
#define SEG_IN(X) X(i32, seg)
#define SEG_OUT(X) X(i32, end)
SIPC_FUNCTION(SegEnd, 115, SEG_IN, SEG_OUT)
static sipc_status on_seg(sipc_conn *c, const SegEnd_in *in, SegEnd_out *out, void *u)
{
    DemoSum_in i2 = {in->seg};
    DemoSum_out o2;
    sipc_status st = on_seg_end(c, &i2, &o2, u);
    out->end = o2.ret;
    return st;
}
SIPC_HANDLER(SegEnd, on_seg)

static sipc_status on_add_string(sipc_conn *c, const DemoAddString_in *in,
                                 DemoAddString_out *out, void *user)
{
    return sipc_wstr_concat(&out->ret, in->a.data, in->a.len, in->b.data, in->b.len);
}
SIPC_HANDLER(DemoAddString, on_add_string)

static sipc_status on_sum(sipc_conn *c, const DemoSum_in *in, DemoSum_out *out, void *user)
{
    DemoSum_in next = {in->n - 1};
    DemoSum_out r;
    sipc_status st;

    if (in->n <= 0)
        return SIPC_OK;
    st = DemoSum_call(c, &next, &r);
    out->ret = in->n + r.ret;
    return st;
}
SIPC_HANDLER(DemoSum, on_sum)

static sipc_status on_hello(sipc_conn *c, const DemoSayHello_in *in, DemoSayHello_out *out,
                            void *user)
{
    (*(int *)user)++;
    return SIPC_OK;
}
SIPC_HANDLER(DemoSayHello, on_hello)

static const sipc_handler srv_handlers[] = {
    SIPC_ENTRY(SegEnd, on_seg),
    SIPC_ENTRY(DemoAddString, on_add_string),
    SIPC_ENTRY(DemoSum, on_sum),
};
static const sipc_handler cli_handlers[] = {
    SIPC_ENTRY(DemoSum, on_sum),
    SIPC_ENTRY(DemoSayHello, on_hello),
};

typedef struct loop {
    sipc_server srv;
    sipc_conn cli;
    sipc_conn *sc; /* the server's side */
    int hellos;
} loop;

static void loop_connected(sipc_server *s, sipc_conn *c, void *user)
{
    ((loop *)user)->sc = c;
}

static sipc_status loop_open(loop *l, int version, uint32_t stack)
{
    sipc_server_config sc;
    sipc_config cc;
    sipc_status st;

    memset(l, 0, sizeof(*l));
    memset(&sc, 0, sizeof(sc));
    sc.base.version = version;
    sc.base.buf_size = 256;
    sc.base.stack_size = stack;
    sc.base.name_format = L"sipc_unit_%08x_to_%08x";
    sc.base.handlers = srv_handlers;
    sc.base.handler_count = sizeof(srv_handlers) / sizeof(srv_handlers[0]);
    sc.title = L"sipc_unit_server";
    sc.on_connect = loop_connected;
    sc.user = l;
    st = sipc_server_start(&l->srv, &sc);
    if (st != SIPC_OK)
        return st;
    cc = sc.base;
    cc.handlers = cli_handlers;
    cc.handler_count = sizeof(cli_handlers) / sizeof(cli_handlers[0]);
    cc.user = &l->hellos;
    return sipc_connect(&l->cli, &cc, l->srv.main);
}

static void loop_close(loop *l)
{
    sipc_disconnect(&l->cli);
    /* deliver the posted disconnect */
    MSG msg;
    while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
        DispatchMessageW(&msg);
    sipc_server_stop(&l->srv);
}

static void test_frame_bytes(void)
{
    static const uint8_t want_in[17] = {0x05, 0, 0, 0, 0x73, 0, 0, 0, 0x73, 0, 0, 0, 0xF0, 2, 0, 0, 0};
    static const uint8_t want_out[9] = {0x73, 0, 0, 0, 0xF1, 7, 0, 0, 0};
    loop l;
    SegEnd_in in = {2};
    SegEnd_out out;
    const uint8_t *data;
    const uint32_t *hdr;

    EXPECT_ST(loop_open(&l, SIPC_V2, 4), SIPC_OK);
    EXPECT(l.sc != NULL && l.cli.same_thread);
    l.cli.seq = 5;
    EXPECT_ST(SegEnd_call(&l.cli, &in, &out), SIPC_OK);
    EXPECT(out.end == 7);
    EXPECT(l.cli.seq == 6 && l.cli.depth == 0);
    hdr = (const uint32_t *)l.cli.send.view;
    data = (const uint8_t *)l.cli.send.view + 12;
    EXPECT(hdr[0] == 256 * 4);
    EXPECT(memcmp(data, want_in, sizeof(want_in)) == 0);
    EXPECT(memcmp(data + 17, want_out, sizeof(want_out)) == 0);
    EXPECT(hdr[1] == 26 && hdr[2] == 26); /* tail and cursor after the outputs */
    /* the same bytes are the server's receive buffer */
    EXPECT(memcmp((const uint8_t *)l.sc->recv.view + 12, want_in, sizeof(want_in)) == 0);
    /* sequence numbers wrap after 65534 */
    l.cli.seq = 0xFFFE;
    EXPECT_ST(SegEnd_call(&l.cli, &in, &out), SIPC_OK);
    EXPECT(l.cli.seq == 0);
    loop_close(&l);
    finish("frame_bytes");
}

static void test_nesting(void)
{
    loop l;
    DemoSum_in in = {6};
    DemoSum_out out;

    /* stack 4: Sum(6) needs 4 client-side levels (6,4,2,0) -> fits */
    EXPECT_ST(loop_open(&l, SIPC_V2, 4), SIPC_OK);
    EXPECT_ST(DemoSum_call(&l.cli, &in, &out), SIPC_OK);
    EXPECT(out.ret == 21);
    /* Sum(8) needs 5 client levels: the innermost call fails cleanly */
    in.n = 8;
    EXPECT_ST(DemoSum_call(&l.cli, &in, &out), SIPC_E_NOT_HANDLED);
    EXPECT(out.ret == 0 && l.cli.depth == 0 && l.sc->depth == 0);
    /* afterwards the connection still works */
    in.n = 5;
    EXPECT_ST(DemoSum_call(&l.cli, &in, &out), SIPC_OK);
    EXPECT(out.ret == 15);
    /* server -> client call */
    DemoSayHello_in h = {{L"hi", 2}};
    DemoSayHello_out ho;
    EXPECT_ST(DemoSayHello_call(l.sc, &h, &ho), SIPC_OK);
    EXPECT(l.hellos == 1);
    loop_close(&l);
    finish("nesting_v2");

    EXPECT_ST(loop_open(&l, SIPC_V1, 1), SIPC_OK);
    /* v1 frames stack contiguously: 9 client frames of 21 bytes in 256 */
    in.n = 16;
    EXPECT_ST(DemoSum_call(&l.cli, &in, &out), SIPC_OK);
    EXPECT(out.ret == 136);
    /* too deep for a 256-byte v1 buffer: fails cleanly, frames popped */
    in.n = 40;
    EXPECT_ST(DemoSum_call(&l.cli, &in, &out), SIPC_E_NOT_HANDLED);
    {
        uint32_t tail = 1;
        EXPECT_ST(sipc_stream_tail(&l.cli.send.stream, &tail), SIPC_OK);
        EXPECT(tail == 0); /* v1 frames popped */
    }
    EXPECT_ST(DemoSayHello_call(l.sc, &h, &ho), SIPC_OK);
    EXPECT(l.hellos == 1);
    loop_close(&l);
    finish("nesting_v1");
}

/* Write raw bytes into the client's send buffer at `off` and deliver
 * UM_CALL_FUN(wp, lp) to the server's connection window. */
static LRESULT inject(loop *l, uint32_t off, const void *bytes, uint32_t n, WPARAM wp, LPARAM lp)
{
    uint32_t *hdr = (uint32_t *)l->cli.send.view;

    memcpy((uint8_t *)l->cli.send.view + 12 + off, bytes, n);
    hdr[1] = off + n;
    hdr[2] = off + n;
    return SendMessageW(l->cli.remote, SIPC_UM_CALL_FUN, wp, lp);
}

static void test_hostile(void)
{
    loop l;
    LPARAM me;
    uint8_t f[64];
    uint32_t *hdr;

    EXPECT_ST(loop_open(&l, SIPC_V2, 4), SIPC_OK);
    me = (LPARAM)l.cli.local;
    hdr = (uint32_t *)l.cli.send.view;
    /* a valid hand-made frame is answered 1 */
    static const uint8_t good[17] = {0, 0, 0, 0, 0x73, 0, 0, 0, 0x73, 0, 0, 0, 0xF0, 2, 0, 0, 0};
    EXPECT(inject(&l, 0, good, sizeof(good), 0, me) == 1);
    EXPECT(inject(&l, 256 * 3, good, sizeof(good), 3, me) == 1);
    /* slot out of range / huge / "negative" */
    EXPECT(inject(&l, 0, good, sizeof(good), 4, me) == 0);
    EXPECT(inject(&l, 0, good, sizeof(good), (WPARAM)-1, me) == 0);
    EXPECT(inject(&l, 0, good, sizeof(good), 0x7fffffff, me) == 0);
    /* not from the peer */
    EXPECT(inject(&l, 0, good, sizeof(good), 0, (LPARAM)l.srv.main) == 0);
    EXPECT(inject(&l, 0, good, sizeof(good), 0, 0) == 0);
    /* unknown id, id mismatch, wrong marker */
    memcpy(f, good, sizeof(good));
    f[4] = 0x99;
    f[8] = 0x99;
    EXPECT(inject(&l, 0, f, sizeof(good), 0, me) == 0);
    memcpy(f, good, sizeof(good));
    f[8] = 0x74;
    EXPECT(inject(&l, 0, f, sizeof(good), 0, me) == 0);
    memcpy(f, good, sizeof(good));
    f[12] = 0xF1;
    EXPECT(inject(&l, 0, f, sizeof(good), 0, me) == 0);
    /* truncated inputs (tail before the int) */
    EXPECT(inject(&l, 0, good, 15, 0, me) == 0);
    /* AddString with negative, huge and slot-crossing counts */
    static const uint8_t neg[] = {0, 0, 0, 0, 103, 0, 0, 0, 103, 0, 0, 0, 0xF0, 0xff, 0xff, 0xff, 0xff};
    EXPECT(inject(&l, 0, neg, sizeof(neg), 0, me) == 0);
    static const uint8_t huge[] = {0, 0, 0, 0, 103, 0, 0, 0, 103, 0, 0, 0, 0xF0, 0xff, 0xff, 0xff, 0x7f};
    EXPECT(inject(&l, 0, huge, sizeof(huge), 0, me) == 0);
    {
        /* count 200 units = 400 bytes: more than the 256-byte slot holds even
         * though the tail (set past the slot) would allow it */
        uint8_t cross[13 + 4 + 400];
        memset(cross, 'x', sizeof(cross));
        memcpy(cross, huge, 13);
        cross[13] = 200;
        cross[14] = cross[15] = cross[16] = 0;
        EXPECT(inject(&l, 0, cross, sizeof(cross), 0, me) == 0);
    }
    /* an output that would not fit in its slot is refused (no spill) */
    {
        uint8_t big[13 + 4 + 2 * 100 + 4 + 2 * 10];
        uint32_t next_slot_before;
        memset(big, 0, sizeof(big));
        memcpy(big, neg, 13);
        big[13] = 100;                 /* a: 100 units */
        big[13 + 4 + 200] = 10;        /* b: 10 units -> output 110 units = 220 bytes */
        memset((uint8_t *)l.cli.send.view + 12 + 256, 0x5A, 4);
        next_slot_before = *(uint32_t *)((uint8_t *)l.cli.send.view + 12 + 256);
        EXPECT(inject(&l, 0, big, sizeof(big), 0, me) == 0);
        EXPECT(*(uint32_t *)((uint8_t *)l.cli.send.view + 12 + 256) == next_slot_before);
    }
    /* tampered header: tail beyond capacity, capacity changed */
    hdr[1] = 0xFFFFFFF0;
    hdr[2] = 0;
    EXPECT(SendMessageW(l.cli.remote, SIPC_UM_CALL_FUN, 0, me) == 0);
    hdr[0] = 0x7fffffff;
    hdr[1] = 17;
    EXPECT(SendMessageW(l.cli.remote, SIPC_UM_CALL_FUN, 0, me) == 0);
    hdr[0] = 256 * 4;
    /* our own calls notice a tampered header too */
    {
        SegEnd_in in = {2};
        SegEnd_out out;
        hdr[1] = 5;
        hdr[2] = 9;
        EXPECT_ST(SegEnd_call(&l.cli, &in, &out), SIPC_E_BAD_HEADER);
        hdr[1] = hdr[2] = 0;
        EXPECT_ST(SegEnd_call(&l.cli, &in, &out), SIPC_OK);
        EXPECT(out.end == 7);
    }
    /* a call whose inputs do not fit the slot is not sent */
    {
        static WCHAR text[300];
        DemoAddString_in in = {{text, 300}, {text, 1}};
        DemoAddString_out out;
        for (int i = 0; i < 300; i++)
            text[i] = L'a';
        EXPECT_ST(DemoAddString_call(&l.cli, &in, &out), SIPC_E_OVERFLOW);
        EXPECT(out.ret.data == NULL && l.cli.depth == 0);
    }
    /* connect from an already-connected HWND, from the main window, from junk */
    EXPECT(SendMessageW(l.srv.main, SIPC_UM_CALL_FUN, 100, me) == 0);
    EXPECT(SendMessageW(l.srv.main, SIPC_UM_CALL_FUN, 100, (LPARAM)l.srv.main) == 0);
    EXPECT(SendMessageW(l.srv.main, SIPC_UM_CALL_FUN, 100, 0x12345678) == 0);
    /* SOUI4-style disconnect posted to the connection window */
    EXPECT(l.srv.count == 1);
    PostMessageW(l.cli.remote, SIPC_UM_CALL_FUN, 101, me);
    {
        MSG msg;
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
            DispatchMessageW(&msg);
    }
    EXPECT(l.srv.count == 0);
    loop_close(&l);
    finish("hostile_v2");

    /* v1: bad trailing lengths */
    EXPECT_ST(loop_open(&l, SIPC_V1, 1), SIPC_OK);
    me = (LPARAM)l.cli.local;
    {
        uint8_t v1[17 + 4];
        memcpy(v1, good, 17);
        *(int32_t *)(v1 + 17) = 17;
        EXPECT(inject(&l, 0, v1, sizeof(v1), 0x73, me) == 1);
        EXPECT(inject(&l, 0, v1, sizeof(v1), 0x74, me) == 0);   /* wParam != id */
        *(int32_t *)(v1 + 17) = 1000;
        EXPECT(inject(&l, 0, v1, sizeof(v1), 0x73, me) == 0);   /* longer than data */
        *(int32_t *)(v1 + 17) = -5;
        EXPECT(inject(&l, 0, v1, sizeof(v1), 0x73, me) == 0);
        uint8_t pad[17 + 1 + 4];                                 /* inputs != length */
        memcpy(pad, good, 17);
        pad[17] = 0;
        *(int32_t *)(pad + 18) = 18;
        EXPECT(inject(&l, 0, pad, sizeof(pad), 0x73, me) == 0);
        EXPECT(inject(&l, 0, v1, 2, 0x73, me) == 0);            /* shorter than 4 */
    }
    loop_close(&l);
    finish("hostile_v1");
}

static void test_dead_peer(void)
{
    loop l;
    SegEnd_in in = {2};
    SegEnd_out out;

    EXPECT_ST(loop_open(&l, SIPC_V2, 4), SIPC_OK);
    /* the client window vanishes: the 50 ms check drops it */
    HWND client = l.cli.local;
    l.cli.local = NULL;
    SetWindowLongPtrW(client, GWLP_USERDATA, 0);
    DestroyWindow(client);
    DWORD t0 = GetTickCount();
    while (l.srv.count && GetTickCount() - t0 < 1000) {
        MSG msg;
        MsgWaitForMultipleObjects(0, NULL, FALSE, 10, QS_ALLINPUT);
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
            DispatchMessageW(&msg);
    }
    EXPECT(l.srv.count == 0);
    sipb_emit("dead_client_detect_ms=%lu", (unsigned long)(GetTickCount() - t0));
    l.cli.local = client;
    l.cli.owns_local = false;
    /* calling a destroyed connection window fails cleanly */
    EXPECT(SegEnd_call(&l.cli, &in, &out) != SIPC_OK);
    loop_close(&l);
    finish("dead_peer");
}

int main(void)
{
    test_stream();
    test_counted();
    test_names();
    test_frame_bytes();
    test_nesting();
    test_hostile();
    test_dead_peer();
    sipb_emit("unit=%s", g_failures ? "fail" : "ok");
    return g_failures ? 1 : 0;
}
