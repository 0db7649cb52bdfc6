/*
 * sipb_protocol.h - the pipe protocol between the Swift host and win32-shim.
 *
 * This header is the single definition of the protocol's numbers. The Swift
 * mirror is Sources/SIPCHost/PipeProtocol.swift; Tests/SIPCHostTests checks
 * every SIPB_* constant below against it. docs/PROTOCOL.md explains the
 * payloads. Keep the three in step: change this file first.
 *
 * All integers are little-endian. A frame is:
 *
 *   u32 size   bytes that follow this field: SIPB_FRAME_HEADER_TAIL + payload
 *   u16 type   one of SIPB_T_*
 *   u16 flags  0 (reserved; a non-zero value is a protocol error)
 *   u32 tag    request tag; for SIPB_T_REPLY the tag being answered; 0 when
 *              no reply is expected
 *   ...        payload (size - 8 bytes)
 *
 * "str16" in a payload is: u32 unit count (<= SIPB_MAX_STR16), then that many
 * UTF-16LE code units, no terminator.
 */
#ifndef SIPB_PROTOCOL_H
#define SIPB_PROTOCOL_H

/* Handshake */
#define SIPB_MAGIC 0x42504953u /* "SIPB" read as a little-endian u32 */
#define SIPB_VERSION_MAJOR 1
#define SIPB_VERSION_MINOR 2 /* 1.1: the ring (HELLO flags, DOORBELL); 1.2: the upload area */

/* Framing limits */
#define SIPB_FRAME_PREFIX 4       /* the u32 size field */
#define SIPB_FRAME_HEADER_TAIL 8  /* type + flags + tag, counted in size */
#define SIPB_FRAME_HEADER 12      /* prefix + header tail */
#define SIPB_MAX_PAYLOAD 67174400u /* 64 MiB + 64 KiB */
#define SIPB_MAX_STR16 32767u
#define SIPB_MAX_WINDOW_MESSAGES 256u

/* Control frames (either direction unless noted) */
#define SIPB_T_HELLO 0x0001          /* shim -> host, tag 0 */
#define SIPB_T_HELLO_ACK 0x0002      /* host -> shim, tag 0 */
#define SIPB_T_GOODBYE 0x0003        /* either, tag 0: orderly end */
#define SIPB_T_REPLY 0x0004          /* either: answers the request `tag` */
#define SIPB_T_PROTOCOL_ERROR 0x0005 /* either, tag 0: sender closes after it */
#define SIPB_T_DOORBELL 0x0006       /* host -> shim, tag 0, no payload: look at the ring */

/* Host -> shim requests (tag != 0, always answered by a REPLY) */
#define SIPB_T_CREATE_WINDOW 0x0100
#define SIPB_T_DESTROY_WINDOW 0x0101
#define SIPB_T_SEND_MESSAGE 0x0102
#define SIPB_T_POST_MESSAGE 0x0103
#define SIPB_T_SEND_COPYDATA 0x0104
#define SIPB_T_FIND_WINDOW 0x0105
#define SIPB_T_IS_WINDOW 0x0106
#define SIPB_T_GET_WINDOW_THREAD_PROCESS_ID 0x0107
#define SIPB_T_CREATE_MAPPING 0x0108
#define SIPB_T_OPEN_MAPPING 0x0109
#define SIPB_T_READ_MAPPING 0x010A
#define SIPB_T_WRITE_MAPPING 0x010B
#define SIPB_T_CREATE_EVENT 0x010C
#define SIPB_T_OPEN_EVENT 0x010D
#define SIPB_T_CLOSE_HANDLE 0x010E
#define SIPB_T_GET_PROCESS_IMAGE 0x010F
#define SIPB_T_CALL_MAPPED 0x0110 /* WRITE_MAPPING x n + SEND_MESSAGE + READ_MAPPING x n */
#define SIPB_MAX_MAPPED_SPANS 4u  /* CALL_MAPPED: most writes, and most reads, per request */

/* Shim -> host events */
#define SIPB_T_EV_MESSAGE 0x0200  /* tag != 0 when sent (answer: i64 LRESULT), 0 when posted */
#define SIPB_T_EV_COPYDATA 0x0201 /* tag != 0; answer: i64 LRESULT */
#define SIPB_T_EV_COPYDATA_UPLOADED 0x0202 /* as EV_COPYDATA, the bytes in the upload area (1.2) */

/* REPLY status (first u32 of a REPLY payload) */
#define SIPB_S_OK 0
#define SIPB_S_BAD_REQUEST 1    /* malformed or out-of-range payload */
#define SIPB_S_UNKNOWN_TYPE 2   /* request type not known to the receiver */
#define SIPB_S_NOT_FOUND 3      /* unknown window or handle */
#define SIPB_S_WIN32_ERROR 4    /* a Win32 call failed; u32 GetLastError() follows */
#define SIPB_S_TIMEOUT 5        /* SendMessageTimeout-style timeout elapsed */
#define SIPB_S_SHUTTING_DOWN 6  /* the receiver is going away */

/* CREATE_WINDOW kinds */
#define SIPB_WINDOW_MESSAGE_ONLY 0 /* parent HWND_MESSAGE; needs no display */
#define SIPB_WINDOW_TOP_LEVEL 1    /* invisible WS_POPUP; needs a display under Wine */

/* CREATE_MAPPING flags */
#define SIPB_MAPPING_DEV_SHM 1 /* back the mapping with Z:\dev\shm\<file> */

/* EV_MESSAGE kinds */
#define SIPB_MESSAGE_SENT 0
#define SIPB_MESSAGE_POSTED 1

/* GOODBYE / PROTOCOL_ERROR reasons */
#define SIPB_E_NONE 0
#define SIPB_E_VERSION 1   /* handshake version mismatch */
#define SIPB_E_MALFORMED 2 /* a frame broke the rules above */
#define SIPB_E_IO 3        /* the pipe failed */
#define SIPB_E_INTERNAL 4

/* Windows values the protocol carries */
#define SIPB_HWND_MESSAGE 0xFFFFFFFFFFFFFFFDull /* (HWND)-3 */

/* ------------------------------------------------------------------------
 * The host -> shim ring (docs/PROTOCOL.md, "The ring"). The host creates a
 * file under /dev/shm, names it in the shim's environment (SIPB_SHIM_RING)
 * and, once the shim's HELLO says SIPB_HELLO_RING, may put any frame there
 * instead of on the pipe. All fields are little-endian u32.
 */
#define SIPB_HELLO_RING 0x00000001u /* HELLO's last field: the shim reads the ring */
#define SIPB_RING_MAGIC 0x47525053u /* "SPRG" */
#define SIPB_RING_OFF_MAGIC 0       /* SIPB_RING_MAGIC */
#define SIPB_RING_OFF_CAPACITY 4    /* bytes in the data area: a power of two, 4 KiB..16 MiB */
#define SIPB_RING_OFF_TAIL 64       /* host: bytes ever published, mod 2^32 */
#define SIPB_RING_OFF_HEAD 128      /* shim: bytes ever consumed, mod 2^32 */
#define SIPB_RING_OFF_SLEEPING 192  /* shim: 1 while its main thread may block */
#define SIPB_RING_DATA 256          /* the data area starts here */
#define SIPB_RING_MIN_CAPACITY 4096u
#define SIPB_RING_MAX_CAPACITY 16777216u
/* Each entry: u32 entry bytes (a multiple of 8, this header included),
 * u32 pipe frames the host had sent before it, then one frame exactly as on
 * the pipe (header and payload), then zero padding to the entry's size.
 * Entries start at offsets that are multiples of 8 and may wrap around the
 * end of the data area. */
#define SIPB_RING_ENTRY_HEADER 8

/* ------------------------------------------------------------------------
 * The shim -> host upload area (docs/PROTOCOL.md, "The upload area";
 * protocol 1.2). The host creates another file under /dev/shm and names it
 * in SIPB_SHIM_UPLOAD; once the shim's HELLO says SIPB_HELLO_UPLOAD, the shim
 * may put the bytes of a WM_COPYDATA there and send EV_COPYDATA_UPLOADED
 * (u64 hwnd, u64 wParam, u64 dwData, u32 length: the fields of EV_COPYDATA
 * without the bytes, which are the area's first `length` data bytes).
 * `busy` is the area's owner: the shim changes it from 0 to 1 before it
 * fills the area, the host from 1 to 0 once it has copied the bytes out.
 * All fields are little-endian u32.
 */
#define SIPB_HELLO_UPLOAD 0x00000002u  /* HELLO's last field: the shim uses the upload area */
#define SIPB_UPLOAD_MAGIC 0x50555053u  /* "SPUP" */
#define SIPB_UPLOAD_OFF_MAGIC 0        /* SIPB_UPLOAD_MAGIC */
#define SIPB_UPLOAD_OFF_CAPACITY 4     /* bytes in the data area, 4 KiB..64 MiB */
#define SIPB_UPLOAD_OFF_BUSY 64        /* 1 while the area holds bytes the host has not copied */
#define SIPB_UPLOAD_DATA 128           /* the data area starts here */
#define SIPB_UPLOAD_MIN_CAPACITY 4096u
#define SIPB_UPLOAD_MAX_CAPACITY 67108864u
#define SIPB_UPLOAD_MIN_BYTES 4096u    /* smaller WM_COPYDATA always go through the pipe */

#endif /* SIPB_PROTOCOL_H */
