/*
 * sipc_server.c - the server role (spec 3.3, 3.4; v1: 11).
 *
 * v2: the main window answers connect (wParam 100, lParam client HWND)
 * synchronously with a new message-only window that serves that client,
 * after creating Name(conn, client) and Name(client, conn) with their
 * "_mutex" events. Disconnect (101) is posted to the main window (SOUI3) or
 * to the connection window (SOUI4). A timer on the main window drops clients
 * whose window died.
 * v1: connect answers 1 and the main window serves every client; calls are
 * routed by lParam.
 */
#include "sipc_internal.h"

#include <string.h>
#include <wchar.h>

static void destroy_conn(sipc_server *srv, sipc_conn *c)
{
    if (c->local && c->local != srv->main) {
        SetWindowLongPtrW(c->local, GWLP_USERDATA, 0);
        sipc__check(&srv->cfg.base, DestroyWindow(c->local), "DestroyWindow(connection)");
    }
    free(c);
}

void sipc__server_conn_released(sipc_server *srv, sipc_conn *c)
{
    destroy_conn(srv, c);
}

sipc_conn *sipc_server_find(sipc_server *srv, HWND client)
{
    if (!srv || !client)
        return NULL;
    for (size_t i = 0; i < srv->count; i++)
        if (srv->conns[i]->remote == client)
            return srv->conns[i];
    return NULL;
}

void sipc__server_drop(sipc_server *srv, sipc_conn *c, sipc_drop_reason why)
{
    size_t i;

    for (i = 0; i < srv->count && srv->conns[i] != c; i++)
        ;
    if (i == srv->count)
        return; /* already dropped */
    memmove(&srv->conns[i], &srv->conns[i + 1], (srv->count - i - 1) * sizeof(c));
    srv->count--;
    if (srv->cfg.on_disconnect)
        srv->cfg.on_disconnect(srv, c, why, srv->cfg.user);
    if (sipc__conn_close(c))
        destroy_conn(srv, c);
    /* else: freed by the connection when its running calls finish */
}

static LRESULT on_connect(sipc_server *srv, HWND client)
{
    const sipc_config *cfg = &srv->cfg.base;
    sipc_conn *c;
    sipc_status st;
    uint32_t cap;

    if (!client || !IsWindow(client) || client == srv->main ||
        sipc_server_find(srv, client)) {
        sipc__log(cfg, SIPC_LOG_WARN, "connect from %p refused (invalid or known)",
                  (void *)client);
        return 0;
    }
    if (srv->count >= srv->cfg.max_clients) {
        sipc__log(cfg, SIPC_LOG_WARN, "connect from %p refused: %u clients",
                  (void *)client, srv->cfg.max_clients);
        return 0;
    }
    if (srv->count == srv->alloc) {
        size_t n = srv->alloc ? srv->alloc * 2 : 8;
        sipc_conn **p = realloc(srv->conns, n * sizeof(*p));
        if (!p)
            return 0;
        srv->conns = p;
        srv->alloc = n;
    }
    c = malloc(sizeof(*c));
    if (!c)
        return 0;
    sipc__conn_setup(c, cfg, srv->name_format);
    c->server = srv;
    c->remote = client;
    if (cfg->version == SIPC_V2) {
        c->local = sipc__create_window(&c->tag, SIPC__CONN_TITLE, false, &srv->err);
        if (!c->local) {
            free(c);
            sipc__log(cfg, SIPC_LOG_ERROR, "%s", srv->err.what);
            return 0;
        }
        cap = cfg->buf_size * cfg->stack_size;
    } else {
        c->local = srv->main;
        cap = cfg->buf_size;
    }
    /* server send = Name(conn, client), server receive = Name(client, conn) */
    st = sipc__shm_create(&c->send, &srv->err, srv->name_format, c->local, client, cap,
                          srv->cfg.sa, cfg->version == SIPC_V2);
    if (st == SIPC_OK)
        st = sipc__shm_create(&c->recv, &srv->err, srv->name_format, client, c->local, cap,
                              srv->cfg.sa, cfg->version == SIPC_V2);
    if (st != SIPC_OK) {
        sipc__log(cfg, SIPC_LOG_ERROR, "connect from %p: %s", (void *)client, srv->err.what);
        sipc__shm_close(&c->send, cfg);
        sipc__shm_close(&c->recv, cfg);
        destroy_conn(srv, c);
        return 0;
    }
    sipc__conn_detect_thread(c);
    c->connected = true;
    srv->conns[srv->count++] = c;
    if (srv->cfg.on_connect)
        srv->cfg.on_connect(srv, c, srv->cfg.user);
    return cfg->version == SIPC_V2 ? (LRESULT)c->local : 1;
}

static void check_connectivity(sipc_server *srv)
{
    for (size_t i = srv->count; i-- > 0;) {
        if (i >= srv->count)
            continue;
        if (!IsWindow(srv->conns[i]->remote))
            sipc__server_drop(srv, srv->conns[i], SIPC_DROP_DEAD);
    }
}

LRESULT sipc_server_on_message(sipc_server *srv, HWND hwnd, UINT msg, WPARAM wp,
                               LPARAM lp, BOOL *handled)
{
    sipc_conn *c;

    *handled = FALSE;
    if (!srv || hwnd != srv->main)
        return 0;
    if (msg == WM_TIMER && wp == SIPC__TIMER_ID) {
        *handled = TRUE;
        check_connectivity(srv);
        return 0;
    }
    if (msg != SIPC_UM_CALL_FUN)
        return 0;
    *handled = TRUE;
    if (wp == SIPC_FUN_ID_CONNECT)
        return on_connect(srv, (HWND)lp);
    c = sipc_server_find(srv, (HWND)lp);
    if (wp == SIPC_FUN_ID_DISCONNECT) {
        if (!c)
            return 0;
        sipc__server_drop(srv, c, SIPC_DROP_DISCONNECT);
        return 1;
    }
    if (!c)
        return 0;
    /* v1: every call arrives here. v2: SOUI4 forwards calls that reach the
     * main window to the client's connection. */
    {
        BOOL h = FALSE;
        return sipc_conn_on_message(c, c->local, msg, wp, lp, &h);
    }
}

sipc_status sipc_server_start(sipc_server *srv, const sipc_server_config *cfg)
{
    sipc_status st;

    if (!srv)
        return SIPC_E_INVALID_ARG;
    memset(srv, 0, sizeof(*srv));
    if (!cfg || !cfg->title)
        return sipc__fail(&srv->err, SIPC_E_INVALID_ARG, "server config without a title");
    srv->cfg = *cfg;
    st = sipc__config_norm(&cfg->base, &srv->cfg.base, srv->name_format);
    if (st != SIPC_OK)
        return sipc__fail(&srv->err, st, "invalid sipc_config");
    if (srv->cfg.max_clients == 0)
        srv->cfg.max_clients = 256;
    if (srv->cfg.check_ms == 0)
        srv->cfg.check_ms = 50;
    srv->tag.magic = SIPC__TAG_MAGIC;
    srv->tag.kind = SIPC__WND_SERVER;
    srv->tag.owner = srv;
    srv->main = sipc__create_window(&srv->tag, cfg->title, cfg->top_level, &srv->err);
    if (!srv->main)
        return srv->err.status;
    srv->timer = SetTimer(srv->main, SIPC__TIMER_ID, srv->cfg.check_ms, NULL);
    if (!srv->timer) {
        st = sipc__fail_win32(&srv->err, "SetTimer(connectivity check)");
        SetWindowLongPtrW(srv->main, GWLP_USERDATA, 0);
        sipc__check(&srv->cfg.base, DestroyWindow(srv->main), "DestroyWindow(server)");
        srv->main = NULL;
        return st;
    }
    return SIPC_OK;
}

void sipc_server_stop(sipc_server *srv)
{
    if (!srv || srv->tag.magic != SIPC__TAG_MAGIC)
        return;
    while (srv->count)
        sipc__server_drop(srv, srv->conns[srv->count - 1], SIPC_DROP_SHUTDOWN);
    if (srv->main) {
        if (srv->timer)
            sipc__check(&srv->cfg.base, KillTimer(srv->main, srv->timer), "KillTimer");
        SetWindowLongPtrW(srv->main, GWLP_USERDATA, 0);
        sipc__check(&srv->cfg.base, DestroyWindow(srv->main), "DestroyWindow(server)");
    }
    free(srv->conns);
    srv->conns = NULL;
    srv->alloc = 0;
    srv->main = NULL;
    srv->tag.magic = 0;
}
