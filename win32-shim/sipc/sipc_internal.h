/*
 * sipc_internal.h - declarations shared by the library's .c files only.
 */
#ifndef SIPC_INTERNAL_H
#define SIPC_INTERNAL_H

#include "sipc.h"

#define SIPC__TAG_MAGIC 0x43504953u /* "SIPC" */
#define SIPC__WND_SERVER 1
#define SIPC__WND_CONN 2
#define SIPC__TIMER_ID 0x5150u
#define SIPC__CONN_TITLE L"svr_conn_wnd"
#define SIPC__CLIENT_TITLE L"sipc_client_wnd"

static inline uint32_t sipc__hwnd32(HWND h)
{
    return (uint32_t)((uintptr_t)h & 0xffffffffu);
}

/* Record a failure in *err (if err is non-NULL) and return st. */
sipc_status sipc__fail(sipc_error *err, sipc_status st, const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));
/* Same, with SIPC_E_WIN32 and the current GetLastError(). */
sipc_status sipc__fail_win32(sipc_error *err, const char *fmt, ...)
    __attribute__((format(gnu_printf, 2, 3)));
void sipc__log(const sipc_config *cfg, sipc_log_level lvl, const char *fmt, ...)
    __attribute__((format(gnu_printf, 3, 4)));
/* Log `what` with GetLastError() when a cleanup call returned FALSE. */
void sipc__check(const sipc_config *cfg, BOOL ok, const char *what);

/* Apply defaults and check a configuration (copies it into *out). */
sipc_status sipc__config_norm(const sipc_config *in, sipc_config *out, WCHAR *fmt_copy);

/* A window of the library's class, tagged with `tag`. */
HWND sipc__create_window(sipc_wndtag *tag, const WCHAR *title, bool top_level,
                         sipc_error *err);
/* ChangeWindowMessageFilterEx(hwnd, UM_CALL_FUN, MSGFLT_ALLOW), if present. */
void sipc__allow_call_message(HWND hwnd);

sipc_status sipc__shm_create(sipc_shm *m, sipc_error *err, const WCHAR *fmt,
                             HWND writer, HWND reader, uint32_t capacity,
                             SECURITY_ATTRIBUTES *sa, bool with_event);
sipc_status sipc__shm_open(sipc_shm *m, sipc_error *err, const WCHAR *fmt,
                           HWND writer, HWND reader, bool with_event);
void sipc__shm_close(sipc_shm *m, const sipc_config *cfg);

/* Connection lifetime. */
void sipc__conn_setup(sipc_conn *c, const sipc_config *cfg, const WCHAR *fmt);
void sipc__conn_detect_thread(sipc_conn *c);
/* Mark closed; unmap now, or when the last running call finishes. Returns
 * true if the resources were released now. */
bool sipc__conn_close(sipc_conn *c);
/* Server: a connection's last running call finished after it was closed. */
void sipc__server_conn_released(sipc_server *srv, sipc_conn *c);
/* Server: forget a connection (calls on_disconnect). */
void sipc__server_drop(sipc_server *srv, sipc_conn *c, sipc_drop_reason why);

#endif /* SIPC_INTERNAL_H */
