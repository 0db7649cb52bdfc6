/*
 * fake_win32.c - the Win32 calls of the shim's sources, in memory, for the fuzz
 * harness. Only what the shim relies on is modelled, and modelled strictly:
 *
 *   stdin     the fuzzer's input, returned in short reads of `readChunk`
 *   stdout    collected, so the harness can check every frame the shim wrote
 *   windows   a table; a send to one of them calls its window procedure at
 *             once (a same-thread send), posted messages wait in a queue
 *   mappings  heap sections rounded up to pages, views share the section;
 *             AddressSanitizer sees any access past a view
 *   events, files, threads, processes: handles in a table
 *
 * A thread runs to completion inside CreateThread. Nothing real is created:
 * no file in /dev/shm, no window, no process. Misuse that Windows would
 * punish is fatal here, so the fuzzer reports it: closing a handle that is
 * not open, a view that is not mapped, a class name Wine cannot take, a
 * file outside Z:\dev\shm, a wait that nothing can end, a handle, view or
 * window still open at the end.
 */
#include "fake_win32.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FAKE_PID 0x30u
#define FAKE_TID 0x20u
#define MAX_OBJECTS 512
#define MAX_VIEWS 512
#define MAX_WINDOWS 64
#define MAX_CLASSES 64
#define MAX_POSTED 64
#define MAX_SECTION_BYTES (1u << 20) /* larger mappings fail with ERROR_NOT_ENOUGH_MEMORY */
#define PAGE 4096u
#define MAX_IDLE_WAITS 100000u

#define H_STDIN ((HANDLE)(uintptr_t)0x10)
#define H_STDOUT ((HANDLE)(uintptr_t)0x14)
#define H_STDERR ((HANDLE)(uintptr_t)0x18)
#define H_PROCESS ((HANDLE)(intptr_t)-1)
#define OBJECT_BASE 0x1000u
#define WINDOW_BASE 0x20000u
#define MODULE_EXE ((HMODULE)(uintptr_t)0x400000)
#define MODULE_USER32 ((HMODULE)(uintptr_t)0x7000000)

enum object_kind { K_FREE = 0, K_EVENT, K_MAPPING, K_FILE, K_THREAD, K_PROCESS };

struct section {
    WCHAR *name;
    uint8_t *mem;
    size_t size; /* page-rounded, what VirtualQuery reports */
    unsigned refs; /* handles + views */
};

struct kevent {
    WCHAR *name;
    int signaled;
    int manual;
    unsigned refs;
};

struct object {
    enum object_kind kind;
    struct section *sec;
    struct kevent *ev;
};

struct view {
    uint8_t *mem;
    struct section *sec;
};

struct window {
    int alive;
    int destroying;
    int messageOnly;
    WCHAR *cls;
    WCHAR *title;
    WNDPROC proc;
    LONG_PTR userdata;
};

struct wclass {
    WCHAR *name;
    WNDPROC proc;
};

static struct {
    struct fake_config cfg;
    int armed; /* failures are injected only after the harness's own setup */
    size_t inPos;
    uint8_t *out;
    size_t outLen, outCap;
    DWORD lastError;
    ULONGLONG tick;
    unsigned idle;
    unsigned calls[FAKE_FAIL_COUNT];
    struct object objects[MAX_OBJECTS];
    struct view views[MAX_VIEWS];
    struct window windows[MAX_WINDOWS];
    unsigned nwindows;
    struct wclass classes[MAX_CLASSES];
    unsigned nclasses;
    MSG posted[MAX_POSTED];
    unsigned postedHead, npostedMsgs;
} fk;

/* ------------------------------------------------------------- helpers */

void fake_fatal(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fake_win32: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

static int should_fail(enum fake_failure which)
{
    if (!fk.armed || fk.cfg.failure != which)
        return 0;
    return fk.calls[which]++ >= fk.cfg.failAfter;
}

static WCHAR *wdup(LPCWSTR s)
{
    size_t n = (size_t)lstrlenW(s);
    WCHAR *copy = malloc((n + 1) * sizeof(WCHAR));

    if (copy == NULL)
        fake_fatal("out of memory");
    memcpy(copy, s, (n + 1) * sizeof(WCHAR));
    return copy;
}

static int wequal(LPCWSTR a, LPCWSTR b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static HANDLE object_handle(unsigned i) { return (HANDLE)(uintptr_t)(OBJECT_BASE + 4u * i); }

static struct object *object_of(HANDLE h)
{
    uintptr_t v = (uintptr_t)h;
    uintptr_t i;

    if (v < OBJECT_BASE || (v - OBJECT_BASE) % 4 != 0)
        return NULL;
    i = (v - OBJECT_BASE) / 4;
    if (i >= MAX_OBJECTS || fk.objects[i].kind == K_FREE)
        return NULL;
    return &fk.objects[i];
}

static HANDLE object_new(enum object_kind kind, struct section *sec, struct kevent *ev)
{
    unsigned i;

    for (i = 0; i < MAX_OBJECTS; i++) {
        if (fk.objects[i].kind == K_FREE) {
            fk.objects[i].kind = kind;
            fk.objects[i].sec = sec;
            fk.objects[i].ev = ev;
            return object_handle(i);
        }
    }
    fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
    return NULL;
}

static void section_release(struct section *sec)
{
    if (--sec->refs == 0) {
        free(sec->name);
        free(sec->mem);
        free(sec);
    }
}

static void event_release(struct kevent *ev)
{
    if (--ev->refs == 0) {
        free(ev->name);
        free(ev);
    }
}

/* A named object of either kind, for the shared namespace. */
static struct object *named(LPCWSTR name)
{
    unsigned i;

    for (i = 0; i < MAX_OBJECTS; i++) {
        struct object *o = &fk.objects[i];
        if (o->kind == K_MAPPING && o->sec->name && wequal(o->sec->name, name))
            return o;
        if (o->kind == K_EVENT && o->ev->name && wequal(o->ev->name, name))
            return o;
    }
    return NULL;
}

static struct window *window_of(HWND hwnd)
{
    uintptr_t v = (uintptr_t)hwnd;
    uintptr_t i;

    if (v < WINDOW_BASE || (v - WINDOW_BASE) % 16 != 0)
        return NULL;
    i = (v - WINDOW_BASE) / 16;
    if (i >= fk.nwindows || !fk.windows[i].alive)
        return NULL;
    return &fk.windows[i];
}

/* ------------------------------------------------------------- control */

void fake_begin(const struct fake_config *config)
{
    free(fk.out);
    memset(&fk, 0, sizeof fk);
    fk.cfg = *config;
    if (fk.cfg.readChunk == 0)
        fk.cfg.readChunk = 1;
    fk.tick = 1000;
}

const uint8_t *fake_output(size_t *size)
{
    *size = fk.outLen;
    return fk.out;
}

void fake_arm(void) { fk.armed = 1; }

void fake_end(void)
{
    unsigned i;

    for (i = 0; i < MAX_OBJECTS; i++)
        if (fk.objects[i].kind != K_FREE)
            fake_fatal("handle %p (kind %d) was never closed", object_handle(i),
                       fk.objects[i].kind);
    for (i = 0; i < MAX_VIEWS; i++)
        if (fk.views[i].mem)
            fake_fatal("a view of %lu bytes was never unmapped", (unsigned long)fk.views[i].sec->size);
    for (i = 0; i < fk.nwindows; i++) {
        if (fk.windows[i].alive)
            fake_fatal("window %u was never destroyed", i);
        free(fk.windows[i].cls);
        free(fk.windows[i].title);
    }
    for (i = 0; i < fk.nclasses; i++)
        free(fk.classes[i].name);
    fk.nwindows = fk.nclasses = 0;
}

/* ------------------------------------------------------------ kernel32 */

DWORD GetLastError(void) { return fk.lastError; }

void SetLastError(DWORD err) { fk.lastError = err; }

HANDLE GetStdHandle(DWORD which)
{
    if (which == STD_INPUT_HANDLE)
        return H_STDIN;
    if (which == STD_OUTPUT_HANDLE)
        return H_STDOUT;
    if (which == STD_ERROR_HANDLE)
        return H_STDERR;
    return INVALID_HANDLE_VALUE;
}

BOOL ReadFile(HANDLE h, LPVOID buf, DWORD n, LPDWORD read, void *overlapped)
{
    size_t left = fk.cfg.inputSize - fk.inPos;
    size_t take = n;

    if (h != H_STDIN || overlapped != NULL)
        fake_fatal("ReadFile(%p) is not a read of stdin", h);
    fk.idle = 0;
    if (take > fk.cfg.readChunk)
        take = fk.cfg.readChunk;
    if (take > left)
        take = left;
    if (take == 0 && n > 0 && fk.cfg.eofAsError) {
        *read = 0;
        fk.lastError = ERROR_BROKEN_PIPE;
        return FALSE;
    }
    if (take)
        memcpy(buf, fk.cfg.input + fk.inPos, take);
    fk.inPos += take;
    *read = (DWORD)take;
    return TRUE;
}

BOOL WriteFile(HANDLE h, LPCVOID buf, DWORD n, LPDWORD written, void *overlapped)
{
    if (overlapped != NULL)
        fake_fatal("overlapped WriteFile");
    if (h == H_STDERR) {
        if (getenv("FUZZ_SHIM_LOG"))
            fwrite(buf, 1, n, stderr);
        *written = n;
        return TRUE;
    }
    if (h != H_STDOUT)
        fake_fatal("WriteFile(%p) is not a write to stdout or stderr", h);
    fk.idle = 0;
    if (should_fail(FAKE_FAIL_STDOUT)) {
        *written = 0;
        fk.lastError = ERROR_BROKEN_PIPE;
        return FALSE;
    }
    if (fk.outLen + n > fk.outCap) {
        size_t cap = fk.outCap ? fk.outCap * 2 : 4096;
        while (cap < fk.outLen + n)
            cap *= 2;
        fk.out = realloc(fk.out, cap);
        if (fk.out == NULL)
            fake_fatal("out of memory for stdout");
        fk.outCap = cap;
    }
    memcpy(fk.out + fk.outLen, buf, n);
    fk.outLen += n;
    *written = n;
    return TRUE;
}

BOOL CloseHandle(HANDLE h)
{
    struct object *o = object_of(h);

    if (h == H_STDIN || h == H_STDOUT || h == H_STDERR)
        fake_fatal("the shim closed a standard handle");
    if (o == NULL)
        fake_fatal("CloseHandle(%p): not an open handle", h);
    if (o->kind == K_MAPPING)
        section_release(o->sec);
    else if (o->kind == K_EVENT)
        event_release(o->ev);
    memset(o, 0, sizeof *o);
    return TRUE;
}

void InitializeCriticalSection(CRITICAL_SECTION *cs) { cs->locked = 0; }

void EnterCriticalSection(CRITICAL_SECTION *cs)
{
    if (cs->locked)
        fake_fatal("EnterCriticalSection: already held (one thread: a missing Leave)");
    cs->locked = 1;
}

void LeaveCriticalSection(CRITICAL_SECTION *cs)
{
    if (!cs->locked)
        fake_fatal("LeaveCriticalSection without Enter");
    cs->locked = 0;
}

HANDLE CreateEventW(void *attributes, BOOL manualReset, BOOL initialState, LPCWSTR name)
{
    struct object *o;
    struct kevent *ev;
    HANDLE h;

    if (should_fail(FAKE_FAIL_EVENTS)) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    if (name && (o = named(name)) != NULL) {
        if (o->kind != K_EVENT) {
            fk.lastError = ERROR_INVALID_HANDLE;
            return NULL;
        }
        h = object_new(K_EVENT, NULL, o->ev);
        if (h) {
            o->ev->refs++;
            fk.lastError = ERROR_ALREADY_EXISTS;
        }
        return h;
    }
    ev = calloc(1, sizeof *ev);
    if (ev == NULL)
        fake_fatal("out of memory");
    ev->name = name ? wdup(name) : NULL;
    ev->manual = manualReset;
    ev->signaled = initialState;
    ev->refs = 1;
    h = object_new(K_EVENT, NULL, ev);
    if (h == NULL)
        event_release(ev);
    else
        fk.lastError = 0;
    return h;
}

HANDLE OpenEventW(DWORD access, BOOL inherit, LPCWSTR name)
{
    struct object *o;
    HANDLE h;

    if (should_fail(FAKE_FAIL_EVENTS)) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    if (name == NULL || (o = named(name)) == NULL) {
        fk.lastError = ERROR_FILE_NOT_FOUND;
        return NULL;
    }
    if (o->kind != K_EVENT) {
        fk.lastError = ERROR_INVALID_HANDLE;
        return NULL;
    }
    h = object_new(K_EVENT, NULL, o->ev);
    if (h)
        o->ev->refs++;
    return h;
}

BOOL SetEvent(HANDLE h)
{
    struct object *o = object_of(h);

    if (o == NULL || o->kind != K_EVENT)
        fake_fatal("SetEvent(%p): not an event", h);
    o->ev->signaled = 1;
    return TRUE;
}

/* One wait step: 0 when the event ended it (and was reset if auto). */
static int take_event(HANDLE h)
{
    struct object *o = object_of(h);

    if (o == NULL || o->kind != K_EVENT)
        fake_fatal("wait on %p: not an event", h);
    if (!o->ev->signaled)
        return 1;
    if (!o->ev->manual)
        o->ev->signaled = 0;
    return 0;
}

static void idle_wait(DWORD ms)
{
    if (++fk.idle > MAX_IDLE_WAITS)
        fake_fatal("%u waits in a row with nothing that could end them: the shim hangs", fk.idle);
    fk.tick += ms == INFINITE ? 1000 : ms;
}

DWORD WaitForSingleObject(HANDLE h, DWORD ms)
{
    if (take_event(h) == 0)
        return WAIT_OBJECT_0;
    idle_wait(ms);
    return WAIT_TIMEOUT;
}

HANDLE CreateThread(void *attributes, SIZE_T stack, LPTHREAD_START_ROUTINE start, LPVOID arg,
                    DWORD flags, LPDWORD id)
{
    HANDLE h;

    if (should_fail(FAKE_FAIL_CREATE_THREAD)) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    h = object_new(K_THREAD, NULL, NULL);
    if (h == NULL)
        return NULL;
    if (id)
        *id = FAKE_TID + 1;
    start(arg); /* runs to completion: the fake has one thread */
    return h;
}

void Sleep(DWORD ms)
{
    if (ms == INFINITE)
        fake_fatal("Sleep(INFINITE) on the only thread");
    fk.tick += ms;
}

ULONGLONG GetTickCount64(void) { return fk.tick++; }
/* One processor: the shim then never spins (its spin would only burn the fuzzer's time). */
DWORD GetActiveProcessorCount(WORD group) { (void)group; return 1; }
BOOL QueryPerformanceFrequency(LARGE_INTEGER *frequency) { frequency->QuadPart = 1000; return TRUE; }
BOOL QueryPerformanceCounter(LARGE_INTEGER *count) { count->QuadPart = (LONGLONG)fk.tick++; return TRUE; }

LONG InterlockedDecrement(LONG volatile *p) { return --*p; }

LONG InterlockedExchange(LONG volatile *p, LONG v)
{
    LONG old = *p;
    *p = v;
    return old;
}

DWORD GetCurrentProcessId(void) { return FAKE_PID; }

HANDLE GetCurrentProcess(void) { return H_PROCESS; }

BOOL TerminateProcess(HANDLE h, UINT code) { fake_fatal("TerminateProcess(%u)", code); }

void ExitProcess(UINT code) { fake_fatal("ExitProcess(%u)", code); }

HANDLE OpenProcess(DWORD access, BOOL inherit, DWORD pid)
{
    if (pid != FAKE_PID) {
        fk.lastError = ERROR_INVALID_PARAMETER;
        return NULL;
    }
    return object_new(K_PROCESS, NULL, NULL);
}

BOOL QueryFullProcessImageNameW(HANDLE h, DWORD flags, LPWSTR name, DWORD *size)
{
    static const WCHAR path[] = L"C:\\windows\\sipc-shim.exe";
    DWORD n = (DWORD)(sizeof path / sizeof path[0] - 1);
    struct object *o = object_of(h);

    if (o == NULL || o->kind != K_PROCESS)
        fake_fatal("QueryFullProcessImageNameW(%p): not a process handle", h);
    if (*size <= n) {
        fk.lastError = 122; /* ERROR_INSUFFICIENT_BUFFER */
        return FALSE;
    }
    memcpy(name, path, (n + 1) * sizeof(WCHAR));
    *size = n;
    return TRUE;
}

HMODULE GetModuleHandleW(LPCWSTR name)
{
    static const WCHAR user32[] = L"user32.dll";

    if (name == NULL)
        return MODULE_EXE;
    if (lstrcmpiW(name, user32) == 0)
        return MODULE_USER32;
    fk.lastError = 126; /* ERROR_MOD_NOT_FOUND */
    return NULL;
}

static BOOL fake_change_filter(HWND hwnd, UINT msg, DWORD action, void *status)
{
    if (window_of(hwnd) == NULL) {
        fk.lastError = ERROR_INVALID_WINDOW_HANDLE;
        return FALSE;
    }
    return TRUE;
}

FARPROC GetProcAddress(HMODULE module, LPCSTR name)
{
    if (module == MODULE_USER32 && strcmp(name, "ChangeWindowMessageFilterEx") == 0)
        return (FARPROC)(void (*)(void))fake_change_filter;
    fk.lastError = ERROR_PROC_NOT_FOUND;
    return NULL;
}

/* The harness sets up its ring itself (fuzz_shim.c); ring_open finds no name. */
DWORD GetEnvironmentVariableW(LPCWSTR name, LPWSTR value, DWORD size)
{
    (void)name, (void)value, (void)size;
    return 0;
}

BOOL GetFileSizeEx(HANDLE file, LARGE_INTEGER *size)
{
    (void)file;
    size->QuadPart = 0;
    return FALSE;
}

DWORD GetEnvironmentVariableA(LPCSTR name, LPSTR value, DWORD size)
{
    const char *v = getenv("FUZZ_SHIM_LOG") ? getenv(name) : NULL;
    size_t n;

    if (v == NULL)
        return 0;
    n = strlen(v);
    if (n >= size)
        return (DWORD)n + 1;
    memcpy(value, v, n + 1);
    return (DWORD)n;
}

DWORD FormatMessageA(DWORD flags, LPCVOID source, DWORD id, DWORD lang, LPSTR buf, DWORD size,
                     void *args)
{
    int n = snprintf(buf, size, "fake error %lu.\r\n", (unsigned long)id);
    return n > 0 && (DWORD)n < size ? (DWORD)n : 0;
}

HANDLE CreateFileW(LPCWSTR path, DWORD access, DWORD share, void *attributes, DWORD disposition,
                   DWORD flags, HANDLE templ)
{
    static const WCHAR prefix[] = L"Z:\\dev\\shm\\";
    size_t plen = sizeof prefix / sizeof prefix[0] - 1;
    size_t i, n = (size_t)lstrlenW(path);
    HANDLE h;

    if (n <= plen || memcmp(path, prefix, plen * sizeof(WCHAR)) != 0)
        fake_fatal("CreateFileW outside Z:\\dev\\shm");
    for (i = plen; i < n; i++)
        if (path[i] == '\\' || path[i] == '/' || path[i] == ':')
            fake_fatal("CreateFileW: the file name leaves Z:\\dev\\shm");
    if ((n == plen + 1 && path[plen] == '.') ||
        (n == plen + 2 && path[plen] == '.' && path[plen + 1] == '.'))
        fake_fatal("CreateFileW: the file name is . or ..");
    if (should_fail(FAKE_FAIL_CREATE_FILE)) {
        fk.lastError = 5; /* ERROR_ACCESS_DENIED */
        return INVALID_HANDLE_VALUE;
    }
    h = object_new(K_FILE, NULL, NULL);
    return h ? h : INVALID_HANDLE_VALUE;
}

HANDLE CreateFileMappingW(HANDLE file, void *attributes, DWORD protect, DWORD sizeHigh,
                          DWORD sizeLow, LPCWSTR name)
{
    struct object *o, *f;
    struct section *sec;
    HANDLE h;

    if (file != INVALID_HANDLE_VALUE && ((f = object_of(file)) == NULL || f->kind != K_FILE))
        fake_fatal("CreateFileMappingW over %p, which is not an open file", file);
    if (should_fail(FAKE_FAIL_CREATE_MAPPING)) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    if (name && (o = named(name)) != NULL) {
        if (o->kind != K_MAPPING) {
            fk.lastError = ERROR_INVALID_HANDLE;
            return NULL;
        }
        h = object_new(K_MAPPING, o->sec, NULL);
        if (h) {
            o->sec->refs++;
            fk.lastError = ERROR_ALREADY_EXISTS;
        }
        return h;
    }
    if (sizeHigh != 0 || sizeLow == 0) {
        fk.lastError = ERROR_INVALID_PARAMETER;
        return NULL;
    }
    if (sizeLow > MAX_SECTION_BYTES) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    sec = calloc(1, sizeof *sec);
    if (sec == NULL)
        fake_fatal("out of memory");
    sec->size = ((size_t)sizeLow + PAGE - 1) / PAGE * PAGE;
    sec->mem = calloc(1, sec->size);
    if (sec->mem == NULL)
        fake_fatal("out of memory");
    sec->name = name ? wdup(name) : NULL;
    sec->refs = 1;
    h = object_new(K_MAPPING, sec, NULL);
    if (h == NULL)
        section_release(sec);
    else
        fk.lastError = 0;
    return h;
}

HANDLE OpenFileMappingW(DWORD access, BOOL inherit, LPCWSTR name)
{
    struct object *o;
    HANDLE h;

    if (name == NULL || (o = named(name)) == NULL) {
        fk.lastError = ERROR_FILE_NOT_FOUND;
        return NULL;
    }
    if (o->kind != K_MAPPING) {
        fk.lastError = ERROR_INVALID_HANDLE;
        return NULL;
    }
    h = object_new(K_MAPPING, o->sec, NULL);
    if (h)
        o->sec->refs++;
    return h;
}

LPVOID MapViewOfFile(HANDLE mapping, DWORD access, DWORD offsetHigh, DWORD offsetLow, SIZE_T n)
{
    struct object *o = object_of(mapping);
    unsigned i;

    if (o == NULL || o->kind != K_MAPPING)
        fake_fatal("MapViewOfFile(%p): not a mapping handle", mapping);
    if (offsetHigh || offsetLow || n)
        fake_fatal("MapViewOfFile: only whole views are modelled");
    if (should_fail(FAKE_FAIL_MAP_VIEW)) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    for (i = 0; i < MAX_VIEWS; i++) {
        if (fk.views[i].mem == NULL) {
            fk.views[i].mem = o->sec->mem;
            fk.views[i].sec = o->sec;
            o->sec->refs++;
            return o->sec->mem;
        }
    }
    fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
    return NULL;
}

BOOL UnmapViewOfFile(LPCVOID view)
{
    unsigned i;

    for (i = 0; i < MAX_VIEWS; i++) {
        if (fk.views[i].mem != NULL && fk.views[i].mem == view) {
            struct section *sec = fk.views[i].sec;
            fk.views[i].mem = NULL;
            fk.views[i].sec = NULL;
            section_release(sec);
            return TRUE;
        }
    }
    fake_fatal("UnmapViewOfFile(%p): not a mapped view", view);
}

SIZE_T VirtualQuery(LPCVOID address, MEMORY_BASIC_INFORMATION *info, SIZE_T size)
{
    unsigned i;

    for (i = 0; i < MAX_VIEWS; i++) {
        if (fk.views[i].mem != NULL && fk.views[i].mem == address) {
            memset(info, 0, sizeof *info);
            info->BaseAddress = fk.views[i].mem;
            info->AllocationBase = fk.views[i].mem;
            info->RegionSize = fk.views[i].sec->size;
            return sizeof *info;
        }
    }
    fk.lastError = ERROR_INVALID_PARAMETER;
    return 0;
}

int lstrlenW(LPCWSTR s)
{
    int n = 0;

    if (s == NULL)
        return 0;
    while (s[n])
        n++;
    return n;
}

static WCHAR wlower(WCHAR c) { return c >= 'A' && c <= 'Z' ? (WCHAR)(c + 32) : c; }

int lstrcmpiW(LPCWSTR a, LPCWSTR b)
{
    while (*a && wlower(*a) == wlower(*b)) {
        a++;
        b++;
    }
    return (int)wlower(*a) - (int)wlower(*b);
}

int lstrcmpiA(LPCSTR a, LPCSTR b) { return strcasecmp(a, b); }

/* -------------------------------------------------------------- user32 */

ATOM RegisterClassExW(const WNDCLASSEXW *wc)
{
    unsigned i;
    int n = lstrlenW(wc->lpszClassName);

    if (n > 255)
        fake_fatal("RegisterClassExW with a %d-unit name (Wine's heap does not survive it)", n);
    if (should_fail(FAKE_FAIL_REGISTER_CLASS)) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return 0;
    }
    for (i = 0; i < fk.nclasses; i++) {
        if (lstrcmpiW(fk.classes[i].name, wc->lpszClassName) == 0) {
            fk.lastError = ERROR_CLASS_ALREADY_EXISTS;
            return 0;
        }
    }
    if (fk.nclasses == MAX_CLASSES) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return 0;
    }
    fk.classes[fk.nclasses].name = wdup(wc->lpszClassName);
    fk.classes[fk.nclasses].proc = wc->lpfnWndProc;
    fk.nclasses++;
    return (ATOM)(0xC000 + fk.nclasses);
}

HWND CreateWindowExW(DWORD exStyle, LPCWSTR cls, LPCWSTR title, DWORD style, int x, int y, int w,
                     int h, HWND parent, HMENU menu, HINSTANCE instance, LPVOID param)
{
    struct window *win;
    unsigned i;

    if (should_fail(FAKE_FAIL_CREATE_WINDOW)) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    for (i = 0; i < fk.nclasses; i++)
        if (lstrcmpiW(fk.classes[i].name, cls) == 0)
            break;
    if (i == fk.nclasses) {
        fk.lastError = ERROR_CANNOT_FIND_WND_CLASS;
        return NULL;
    }
    if (fk.nwindows == MAX_WINDOWS) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    win = &fk.windows[fk.nwindows];
    memset(win, 0, sizeof *win);
    win->alive = 1;
    win->messageOnly = parent == HWND_MESSAGE;
    win->cls = wdup(cls);
    win->title = wdup(title ? title : L"");
    win->proc = fk.classes[i].proc;
    return (HWND)(uintptr_t)(WINDOW_BASE + 16u * fk.nwindows++);
}

BOOL DestroyWindow(HWND hwnd)
{
    struct window *win = window_of(hwnd);
    unsigned i, n, kept;

    if (win == NULL) {
        fk.lastError = ERROR_INVALID_WINDOW_HANDLE;
        return FALSE;
    }
    if (win->destroying)
        return TRUE;
    win->destroying = 1;
    win->proc(hwnd, WM_DESTROY, 0, 0); /* may be relayed to the host and nest */
    win->alive = 0;
    /* its posted messages go with it */
    n = fk.npostedMsgs;
    kept = 0;
    for (i = 0; i < n; i++) {
        MSG m = fk.posted[(fk.postedHead + i) % MAX_POSTED];
        if (m.hwnd != hwnd)
            fk.posted[(fk.postedHead + kept++) % MAX_POSTED] = m;
    }
    fk.npostedMsgs = kept;
    return TRUE;
}

BOOL IsWindow(HWND hwnd) { return window_of(hwnd) != NULL; }

LRESULT DefWindowProcW(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam)
{
    if (msg == WM_CLOSE)
        DestroyWindow(hwnd);
    return 0;
}

LONG_PTR SetWindowLongPtrW(HWND hwnd, int index, LONG_PTR value)
{
    struct window *win = window_of(hwnd);
    LONG_PTR old;

    if (win == NULL || index != GWLP_USERDATA) {
        fk.lastError = win ? ERROR_INVALID_PARAMETER : ERROR_INVALID_WINDOW_HANDLE;
        return 0;
    }
    old = win->userdata;
    win->userdata = value;
    return old;
}

LONG_PTR GetWindowLongPtrW(HWND hwnd, int index)
{
    struct window *win = window_of(hwnd);

    if (win == NULL || index != GWLP_USERDATA) {
        fk.lastError = win ? ERROR_INVALID_PARAMETER : ERROR_INVALID_WINDOW_HANDLE;
        return 0;
    }
    return win->userdata;
}

DWORD GetWindowThreadProcessId(HWND hwnd, LPDWORD pid)
{
    if (window_of(hwnd) == NULL) {
        fk.lastError = ERROR_INVALID_WINDOW_HANDLE;
        return 0;
    }
    if (pid)
        *pid = FAKE_PID;
    return FAKE_TID;
}

HWND FindWindowExW(HWND parent, HWND after, LPCWSTR cls, LPCWSTR title)
{
    unsigned i = 0;

    if (parent != NULL && parent != HWND_MESSAGE) {
        fk.lastError = window_of(parent) ? ERROR_FILE_NOT_FOUND : ERROR_INVALID_WINDOW_HANDLE;
        return NULL; /* the shim's windows have no children */
    }
    if (after != NULL) {
        if (window_of(after) == NULL) {
            fk.lastError = ERROR_INVALID_WINDOW_HANDLE;
            return NULL;
        }
        i = (unsigned)(((uintptr_t)after - WINDOW_BASE) / 16) + 1;
    }
    for (; i < fk.nwindows; i++) {
        struct window *win = &fk.windows[i];
        if (!win->alive || win->messageOnly != (parent == HWND_MESSAGE))
            continue;
        if (cls && lstrcmpiW(win->cls, cls) != 0)
            continue;
        if (title && !wequal(win->title, title))
            continue;
        return (HWND)(uintptr_t)(WINDOW_BASE + 16u * i);
    }
    fk.lastError = ERROR_FILE_NOT_FOUND;
    return NULL;
}

/* Messages whose parameters are pointers cannot be sent asynchronously or
 * posted: Windows and Wine refuse them with ERROR_MESSAGE_SYNC_ONLY (Wine
 * has a table of them; WM_COPYDATA is the one the shim's window procedure
 * dereferences, and ShimHostileRequestTests checks Wine's answer). */
static int pointer_message(UINT msg) { return msg == WM_COPYDATA; }

BOOL SendMessageCallbackW(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam, SENDASYNCPROC callback,
                          ULONG_PTR data)
{
    struct window *win = window_of(hwnd);
    LRESULT r;

    if (pointer_message(msg)) {
        fk.lastError = ERROR_MESSAGE_SYNC_ONLY;
        return FALSE;
    }
    if (win == NULL) {
        fk.lastError = ERROR_INVALID_WINDOW_HANDLE;
        return FALSE;
    }
    if (should_fail(FAKE_FAIL_SEND_CALLBACK)) {
        fk.lastError = ERROR_NOT_ENOUGH_MEMORY;
        return FALSE;
    }
    /* Same thread: the procedure runs now, the callback right after it. */
    r = win->proc(hwnd, msg, wParam, lParam);
    callback(hwnd, msg, data, r);
    return TRUE;
}

LRESULT SendMessageTimeoutW(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam, UINT flags,
                            UINT timeout, DWORD_PTR *result)
{
    struct window *win = window_of(hwnd);

    if (win == NULL) {
        fk.lastError = ERROR_INVALID_WINDOW_HANDLE;
        return 0;
    }
    if (should_fail(FAKE_FAIL_SEND_TIMEOUT)) {
        fk.lastError = ERROR_TIMEOUT;
        return 0;
    }
    *result = (DWORD_PTR)win->proc(hwnd, msg, wParam, lParam);
    return 1;
}

BOOL PostMessageW(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam)
{
    MSG *m;

    if (pointer_message(msg)) {
        fk.lastError = ERROR_MESSAGE_SYNC_ONLY;
        return FALSE;
    }
    if (hwnd != NULL && window_of(hwnd) == NULL) {
        fk.lastError = ERROR_INVALID_WINDOW_HANDLE;
        return FALSE;
    }
    if (should_fail(FAKE_FAIL_POST_MESSAGE) || fk.npostedMsgs == MAX_POSTED) {
        fk.lastError = ERROR_NOT_ENOUGH_QUOTA;
        return FALSE;
    }
    m = &fk.posted[(fk.postedHead + fk.npostedMsgs++) % MAX_POSTED];
    memset(m, 0, sizeof *m);
    m->hwnd = hwnd;
    m->message = msg;
    m->wParam = wParam;
    m->lParam = lParam;
    return TRUE;
}

BOOL PeekMessageW(MSG *msg, HWND hwnd, UINT first, UINT last, UINT remove)
{
    if (hwnd != NULL || first != 0 || last != 0 || !(remove & PM_REMOVE))
        fake_fatal("PeekMessageW: only the shim's calls are modelled");
    if (remove & PM_QS_SENDMESSAGE)
        return FALSE; /* sends run at once in the fake: none is ever queued */
    if (fk.npostedMsgs == 0)
        return FALSE;
    *msg = fk.posted[fk.postedHead];
    fk.postedHead = (fk.postedHead + 1) % MAX_POSTED;
    fk.npostedMsgs--;
    return TRUE;
}

LRESULT DispatchMessageW(const MSG *msg)
{
    struct window *win = window_of(msg->hwnd);

    return win ? win->proc(msg->hwnd, msg->message, msg->wParam, msg->lParam) : 0;
}

DWORD MsgWaitForMultipleObjectsEx(DWORD count, const HANDLE *handles, DWORD ms, DWORD wake,
                                  DWORD flags)
{
    if (count != 1)
        fake_fatal("MsgWaitForMultipleObjectsEx: %lu handles", (unsigned long)count);
    if (take_event(handles[0]) == 0) {
        fk.idle = 0;
        return WAIT_OBJECT_0;
    }
    if ((wake & QS_ALLINPUT) == QS_ALLINPUT && fk.npostedMsgs > 0) {
        fk.idle = 0;
        return WAIT_OBJECT_0 + 1;
    }
    idle_wait(ms);
    return WAIT_TIMEOUT;
}

DWORD InSendMessageEx(LPVOID reserved) { return ISMEX_NOSEND; }
