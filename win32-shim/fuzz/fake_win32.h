/*
 * fake_win32.h - control of the in-memory Win32 stand-in (fake_win32.c)
 * that the shim's sources run on inside the fuzz harness.
 */
#ifndef SIPB_FAKE_WIN32_H
#define SIPB_FAKE_WIN32_H

#include <windows.h>

/* Which family of calls the fake makes fail, from the `failAfter`-th call
 * of that family on (the shim's error paths). */
enum fake_failure {
    FAKE_FAIL_NONE = 0,
    FAKE_FAIL_REGISTER_CLASS,
    FAKE_FAIL_CREATE_WINDOW,
    FAKE_FAIL_CREATE_THREAD,
    FAKE_FAIL_CREATE_MAPPING,
    FAKE_FAIL_MAP_VIEW,
    FAKE_FAIL_CREATE_FILE,
    FAKE_FAIL_SEND_CALLBACK,
    FAKE_FAIL_SEND_TIMEOUT, /* SendMessageTimeoutW answers ERROR_TIMEOUT */
    FAKE_FAIL_POST_MESSAGE,
    FAKE_FAIL_STDOUT,       /* the host stops reading: WriteFile(stdout) fails */
    FAKE_FAIL_EVENTS,       /* CreateEventW / OpenEventW */
    FAKE_FAIL_COUNT
};

struct fake_config {
    const uint8_t *input; /* what the host wrote to the shim's stdin */
    size_t inputSize;
    size_t readChunk;     /* the most one ReadFile returns (a pipe's short reads) */
    int eofAsError;       /* end of input as ERROR_BROKEN_PIPE instead of a 0-byte read */
    enum fake_failure failure;
    unsigned failAfter;
};

/* Starts a run: no windows, handles or classes exist. */
void fake_begin(const struct fake_config *config);
/* What the shim wrote to stdout during the run (valid until fake_begin). */
const uint8_t *fake_output(size_t *size);
/* Ends a run: aborts if the shim left a handle, view or window behind
 * (it closes everything it opened in window_destroy_all/objects_close_all),
 * then frees the fake's own state. */
void fake_end(void);
/* From now on the configured failure is injected (after the harness has
 * set up what the real shim's main() sets up). */
void fake_arm(void);
/* Aborts with a message: a property of the run did not hold. */
void fake_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif /* SIPB_FAKE_WIN32_H */
