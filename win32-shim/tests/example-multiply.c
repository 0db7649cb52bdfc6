/*
 * example-multiply.c - the README's example, Windows side: declare a function
 * once, connect to a SIPC server by its window title, call it.
 *
 *   example-multiply.exe <server title> A B     prints "product=<A*B>"
 */
#include <stdio.h>
#include <stdlib.h>
#include "sipc.h"

/* Multiply(int32 a, int32 b) -> int64 product, function id 300. */
#define MULTIPLY_IN(X) X(i32, a) X(i32, b)
#define MULTIPLY_OUT(X) X(i64, product)
SIPC_FUNCTION(Multiply, 300, MULTIPLY_IN, MULTIPLY_OUT)

int main(int argc, char **argv)
{
    WCHAR title[256];
    sipc_config cfg = {0};
    sipc_conn conn = {0};
    Multiply_in in;
    Multiply_out out;
    sipc_status st;

    if (argc != 4 || MultiByteToWideChar(CP_UTF8, 0, argv[1], -1, title, 256) == 0)
        return 2;
    cfg.name_format = L"demo2_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22_%08x_2_%08x";
    cfg.stack_size = 64;
    st = sipc_connect(&conn, &cfg, sipc_find_server(title));
    if (st != SIPC_OK) {
        printf("error=%s\n", sipc_status_name(st));
        return 1;
    }
    in.a = atoi(argv[2]);
    in.b = atoi(argv[3]);
    st = Multiply_call(&conn, &in, &out);
    if (st == SIPC_OK)
        printf("product=%lld\n", (long long)out.product);
    else
        printf("error=%s\n", sipc_status_name(st));
    fflush(stdout);
    sipc_disconnect(&conn);
    return st == SIPC_OK ? 0 : 1;
}
