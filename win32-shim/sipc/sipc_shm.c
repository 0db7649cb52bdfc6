/*
 * sipc_shm.c - buffer names and the named mappings/events (spec 4.1).
 *
 * The server creates both mappings (pagefile-backed, PAGE_READWRITE,
 * capacity + 12 bytes) and an auto-reset, initially signalled event named
 * "<mapping>_mutex" beside each; the client opens them with
 * OpenFileMapping(FILE_MAP_READ | FILE_MAP_WRITE) and OpenEvent(SYNCHRONIZE).
 * The events are never waited on by the v2 protocol; they exist because SOUI
 * clients refuse to connect without them.
 */
#include "sipc_internal.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

bool sipc_name_format_valid(const WCHAR *fmt)
{
    int conversions = 0;
    size_t n = 0;

    if (!fmt)
        return false;
    for (const WCHAR *p = fmt; *p; p++, n++) {
        if (*p != L'%')
            continue;
        if (p[1] == L'%') {
            p++;
            continue;
        }
        if (wcsncmp(p, L"%08x", 4) != 0)
            return false;
        conversions++;
        p += 3;
    }
    return conversions == 2 && n < SIPC_MAX_NAME - 16;
}

sipc_status sipc_format_name(const WCHAR *fmt, uint32_t writer, uint32_t reader,
                             WCHAR *out, size_t out_units)
{
    size_t o = 0;
    int which = 0;

    if (!out || out_units == 0 || !sipc_name_format_valid(fmt))
        return SIPC_E_INVALID_ARG;
    for (const WCHAR *p = fmt; *p; p++) {
        if (*p == L'%' && p[1] == L'%') {
            if (o + 1 >= out_units)
                return SIPC_E_INVALID_ARG;
            out[o++] = L'%';
            p++;
            continue;
        }
        if (*p != L'%') {
            if (o + 1 >= out_units)
                return SIPC_E_INVALID_ARG;
            out[o++] = *p;
            continue;
        }
        /* "%08x": eight lower-case hex digits, zero padded */
        uint32_t v = which++ == 0 ? writer : reader;
        if (o + 8 >= out_units)
            return SIPC_E_INVALID_ARG;
        for (int i = 7; i >= 0; i--, v >>= 4)
            out[o + i] = L"0123456789abcdef"[v & 15];
        o += 8;
        p += 3;
    }
    out[o] = 0;
    return SIPC_OK;
}

static sipc_status event_name(const WCHAR *mapping, WCHAR *out, size_t units)
{
    size_t n = wcslen(mapping);

    if (n + 7 > units)
        return SIPC_E_INVALID_ARG;
    memcpy(out, mapping, n * sizeof(WCHAR));
    memcpy(out + n, L"_mutex", 7 * sizeof(WCHAR));
    return SIPC_OK;
}

void sipc__shm_close(sipc_shm *m, const sipc_config *cfg)
{
    if (m->view)
        sipc__check(cfg, UnmapViewOfFile(m->view), "UnmapViewOfFile");
    if (m->mapping)
        sipc__check(cfg, CloseHandle(m->mapping), "CloseHandle(mapping)");
    if (m->event)
        sipc__check(cfg, CloseHandle(m->event), "CloseHandle(event)");
    memset(m, 0, sizeof(*m));
}

static sipc_status map_whole(sipc_shm *m, sipc_error *err, const WCHAR *name)
{
    MEMORY_BASIC_INFORMATION mbi;

    m->view = MapViewOfFile(m->mapping, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (!m->view)
        return sipc__fail_win32(err, "MapViewOfFile(%ls)", name);
    if (VirtualQuery(m->view, &mbi, sizeof(mbi)) != sizeof(mbi))
        return sipc__fail_win32(err, "VirtualQuery(%ls)", name);
    m->view_bytes = mbi.RegionSize;
    return SIPC_OK;
}

sipc_status sipc__shm_create(sipc_shm *m, sipc_error *err, const WCHAR *fmt,
                             HWND writer, HWND reader, uint32_t capacity,
                             SECURITY_ATTRIBUTES *sa, bool with_event)
{
    WCHAR name[SIPC_MAX_NAME], ev[SIPC_MAX_NAME + 8];
    uint64_t bytes = (uint64_t)capacity + SIPC_HEADER_BYTES;
    sipc_status st;

    memset(m, 0, sizeof(*m));
    st = sipc_format_name(fmt, sipc__hwnd32(writer), sipc__hwnd32(reader), name,
                          SIPC_MAX_NAME);
    if (st != SIPC_OK)
        return sipc__fail(err, st, "bad mapping name format");
    m->mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, sa, PAGE_READWRITE,
                                    (DWORD)(bytes >> 32), (DWORD)bytes, name);
    if (!m->mapping)
        return sipc__fail_win32(err, "CreateFileMapping(%ls)", name);
    if (GetLastError() == ERROR_ALREADY_EXISTS) {
        /* SOUI reuses (and re-initialises) a pre-existing object; a name we
         * did not create may belong to a squatter, so refuse it. */
        sipc__shm_close(m, NULL);
        return sipc__fail(err, SIPC_E_EXISTS, "mapping %ls already exists", name);
    }
    st = map_whole(m, err, name);
    if (st == SIPC_OK && m->view_bytes < bytes)
        st = sipc__fail(err, SIPC_E_WIN32, "mapping %ls is smaller than requested", name);
    if (st == SIPC_OK)
        st = sipc_stream_attach(&m->stream, m->view, (size_t)bytes, true, capacity);
    if (st == SIPC_OK && with_event) {
        st = event_name(name, ev, sizeof(ev) / sizeof(ev[0]));
        if (st == SIPC_OK) {
            m->event = CreateEventW(sa, FALSE, TRUE, ev);
            if (!m->event)
                st = sipc__fail_win32(err, "CreateEvent(%ls)", ev);
            else if (GetLastError() == ERROR_ALREADY_EXISTS)
                st = sipc__fail(err, SIPC_E_EXISTS, "event %ls already exists", ev);
        }
    }
    if (st != SIPC_OK)
        sipc__shm_close(m, NULL);
    return st;
}

sipc_status sipc__shm_open(sipc_shm *m, sipc_error *err, const WCHAR *fmt,
                           HWND writer, HWND reader, bool with_event)
{
    WCHAR name[SIPC_MAX_NAME], ev[SIPC_MAX_NAME + 8];
    sipc_status st;

    memset(m, 0, sizeof(*m));
    st = sipc_format_name(fmt, sipc__hwnd32(writer), sipc__hwnd32(reader), name,
                          SIPC_MAX_NAME);
    if (st != SIPC_OK)
        return sipc__fail(err, st, "bad mapping name format");
    m->mapping = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    if (!m->mapping)
        return sipc__fail_win32(err, "OpenFileMapping(%ls)", name);
    st = map_whole(m, err, name);
    if (st == SIPC_OK) {
        /* capacity comes from the creator's header; it must fit the view */
        st = sipc_stream_attach(&m->stream, m->view, m->view_bytes, false, 0);
        if (st != SIPC_OK)
            sipc__fail(err, st, "mapping %ls: header capacity exceeds the view", name);
    }
    if (st == SIPC_OK && with_event) {
        st = event_name(name, ev, sizeof(ev) / sizeof(ev[0]));
        if (st == SIPC_OK) {
            m->event = OpenEventW(SYNCHRONIZE, FALSE, ev);
            if (!m->event)
                st = sipc__fail_win32(err, "OpenEvent(%ls)", ev);
        }
    }
    if (st != SIPC_OK)
        sipc__shm_close(m, NULL);
    return st;
}
