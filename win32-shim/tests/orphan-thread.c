/*
 * orphan-thread.c - a Windows program whose main thread ends while a second
 * thread stays blocked in ReadFile on standard input.
 *
 * That is the shape of a shim whose wineserver went away: Wine ends each
 * thread on its next server call, and the stdin reader, blocked in read() on
 * the host's pipe, makes none. Linux then keeps the process (main thread a
 * zombie) until that read returns, and the host sees no exit. The host test
 * (ShimMainThreadTests) checks that a child started with endsWithMainThread
 * is killed instead.
 *
 *   orphan-thread      prints "ready" on standard error (standard output
 *                      stays empty: it may be a shim's pipe), then calls
 *                      ExitThread(0) on the main thread; the reader thread
 *                      ends the process with exit code 3 once standard
 *                      input has data or reaches its end.
 */
#include <windows.h>

static DWORD WINAPI reader(void *arg)
{
    char byte;
    DWORD got = 0;

    ReadFile(GetStdHandle(STD_INPUT_HANDLE), &byte, 1, &got, NULL);
    ExitProcess(3);
    return 0;
}

int main(void)
{
    static const char ready[] = "ready\n";
    HANDLE thread = CreateThread(NULL, 0, reader, NULL, 0, NULL);
    DWORD done;

    if (!thread)
        return 1;
    Sleep(100); /* the reader is in ReadFile by now */
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), ready, sizeof(ready) - 1, &done, NULL);
    ExitThread(0);
}
