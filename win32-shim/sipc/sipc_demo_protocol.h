/*
 * sipc_demo_protocol.h - the protocol of SOUI4's ipcdemo (demos/ipcdemo,
 * spec 3.1 and 4.1), declared with SIPC_FUNCTION.
 *
 * Wire types: int32 = 4 bytes LE; wstring = int32 UTF-16 unit count, then
 * that many UTF-16LE units, no terminator (the demo's tstring in a Unicode
 * build).
 *
 *   id   name       direction         inputs              outputs
 *   102  AddInt     client -> server  int32 a, int32 b    int32 ret = a + b
 *   103  AddString  client -> server  wstring a, b        wstring ret = a + b
 *   104  SayHello   server -> client  wstring text        (none)
 *   105  Sum        both ways         int32 n             int32 ret
 *
 * Sum: the handler on either side returns 0 for n <= 0, otherwise
 * n + Sum(n - 1), where Sum(n - 1) is a call to the OTHER side, so the
 * recursion bounces between client and server (Sum(n) = n(n+1)/2).
 *
 * Server main window title: "sipc_demo_svr". Buffer names:
 * "demo2_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22_%08x_2_%08x".
 * bufSize 2048. SOUI's demo uses stackSize 20 (server) / 10 (client); our
 * peers use 64 so that Sum(100) (about 50 nested calls per side) fits.
 */
#ifndef SIPC_DEMO_PROTOCOL_H
#define SIPC_DEMO_PROTOCOL_H

#include "sipc.h"

#define SIPC_DEMO_TITLE L"sipc_demo_svr"
#define SIPC_DEMO_NAME_FORMAT \
    L"demo2_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22_%08x_2_%08x"
#define SIPC_DEMO_BUF_SIZE 2048u
#define SIPC_DEMO_STACK_SIZE 64u

#define SIPC_DEMO_ID_ADD_INT 102u
#define SIPC_DEMO_ID_ADD_STRING 103u
#define SIPC_DEMO_ID_SAY_HELLO 104u
#define SIPC_DEMO_ID_SUM 105u

#define SIPC_DEMO_NONE(X)

#define SIPC_DEMO_ADD_INT_IN(X) X(i32, a) X(i32, b)
#define SIPC_DEMO_ADD_INT_OUT(X) X(i32, ret)
SIPC_FUNCTION(DemoAddInt, SIPC_DEMO_ID_ADD_INT, SIPC_DEMO_ADD_INT_IN, SIPC_DEMO_ADD_INT_OUT)

#define SIPC_DEMO_ADD_STRING_IN(X) X(wstr, a) X(wstr, b)
#define SIPC_DEMO_ADD_STRING_OUT(X) X(wstr, ret)
SIPC_FUNCTION(DemoAddString, SIPC_DEMO_ID_ADD_STRING, SIPC_DEMO_ADD_STRING_IN,
              SIPC_DEMO_ADD_STRING_OUT)

#define SIPC_DEMO_SAY_HELLO_IN(X) X(wstr, text)
SIPC_FUNCTION(DemoSayHello, SIPC_DEMO_ID_SAY_HELLO, SIPC_DEMO_SAY_HELLO_IN, SIPC_DEMO_NONE)

#define SIPC_DEMO_SUM_IN(X) X(i32, n)
#define SIPC_DEMO_SUM_OUT(X) X(i32, ret)
SIPC_FUNCTION(DemoSum, SIPC_DEMO_ID_SUM, SIPC_DEMO_SUM_IN, SIPC_DEMO_SUM_OUT)

#endif /* SIPC_DEMO_PROTOCOL_H */
