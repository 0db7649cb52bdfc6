#!/usr/bin/env python3
"""Writes the seed inputs of the three fuzz targets (docs/reliability-fuzzing.md).

Seeds are valid exchanges the fuzzer mutates from: without them it would spend most of its time finding the
framing. Their layouts are documented at the top of each target:
  Fuzz/Sources/fuzz-sipc-frames/FuzzSIPCFrames.swift   -> Fuzz/Corpus/sipc-frames/seed-*
  Fuzz/Sources/fuzz-pipe-protocol/FuzzPipeProtocol.swift -> Fuzz/Corpus/pipe-protocol/seed-*
  win32-shim/fuzz/fuzz_shim.c                          -> win32-shim/fuzz/corpus/seed-*
Run from the repository root; the output is committed. Regression inputs (regress-*) are kept as found.
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def u8(v): return struct.pack('<B', v & 0xFF)
def u16(v): return struct.pack('<H', v & 0xFFFF)
def u32(v): return struct.pack('<I', v & 0xFFFFFFFF)
def i32(v): return struct.pack('<i', v)
def u64(v): return struct.pack('<Q', v & 0xFFFFFFFFFFFFFFFF)
def i64(v): return struct.pack('<q', v)
def f64(v): return struct.pack('<d', v)
def f32(v): return struct.pack('<f', v)


def str16(text):
    units = text.encode('utf-16-le')
    return u32(len(units) // 2) + units


def bytes_field(data): return u32(len(data)) + bytes(data)


def frame(type_, tag, payload=b''):
    return u32(8 + len(payload)) + u16(type_) + u16(0) + u32(tag) + payload


# Pipe protocol numbers (win32-shim/include/sipb_protocol.h)
HELLO, HELLO_ACK, GOODBYE, REPLY, PROTOCOL_ERROR = 1, 2, 3, 4, 5
CREATE_WINDOW, DESTROY_WINDOW, SEND_MESSAGE, POST_MESSAGE, SEND_COPYDATA = 0x100, 0x101, 0x102, 0x103, 0x104
FIND_WINDOW, IS_WINDOW, GET_TID_PID = 0x105, 0x106, 0x107
CREATE_MAPPING, OPEN_MAPPING, READ_MAPPING, WRITE_MAPPING = 0x108, 0x109, 0x10A, 0x10B
CREATE_EVENT, OPEN_EVENT, CLOSE_HANDLE, GET_PROCESS_IMAGE, CALL_MAPPED = 0x10C, 0x10D, 0x10E, 0x10F, 0x110
EV_MESSAGE, EV_COPYDATA = 0x200, 0x201


def reply_ok(tag, result=b''): return frame(REPLY, tag, u32(0) + result)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


# ---------------------------------------------------------------- the shim (host -> shim)
# The fake's first window is 0x20000, the next 0x20010; handle 0x1000 is the shim's wake event, so the first
# object the host creates is 0x1004, then 0x1008, ...
W1, W2 = 0x20000, 0x20010
H1, H2, H3 = 0x1004, 0x1008, 0x100C


def create_window(tag, msgs, cls='FuzzCls', title='t', kind=0):
    return frame(CREATE_WINDOW, tag, u32(kind) + u32(len(msgs)) + b''.join(u32(m) for m in msgs) + str16(cls) +
                 str16(title))


def send_message(tag, hwnd, msg, timeout=0, w=0, l=0):
    return frame(SEND_MESSAGE, tag, u64(hwnd) + u32(msg) + u32(timeout) + u64(w) + u64(l))


def shim_seeds():
    seeds = {}
    seeds['windows'] = (
        create_window(1, [0x8001, 0x004A, 0x0002]) +
        send_message(2, W1, 0x8001, w=7, l=8) + reply_ok(1, i64(42)) +  # EV_MESSAGE tag 1 answered
        frame(POST_MESSAGE, 3, u64(W1) + u32(0x8001) + u32(0) + u64(1) + u64(2)) +
        frame(SEND_COPYDATA, 4, u64(W1) + u64(0) + u64(9) + u32(0) + bytes_field(b'hello')) +
        reply_ok(2, i64(5)) +  # EV_COPYDATA tag 2
        frame(FIND_WINDOW, 5, u64(0xFFFFFFFFFFFFFFFD) + u64(0) + u32(3) + str16('FuzzCls') + str16('t')) +
        frame(IS_WINDOW, 6, u64(W1)) + frame(GET_TID_PID, 7, u64(W1)) +
        frame(GET_PROCESS_IMAGE, 8, u32(0x30)) +
        frame(DESTROY_WINDOW, 9, u64(W1)) + reply_ok(3, i64(0)) +  # WM_DESTROY relayed as tag 3
        frame(GOODBYE, 0, u32(0) + b'bye'))
    seeds['mappings'] = (
        frame(CREATE_MAPPING, 1, u32(4096) + u32(0) + str16('Local\\m') + str16('')) +
        frame(WRITE_MAPPING, 2, u64(H1) + u32(16) + bytes_field(b'abcdef')) +
        frame(READ_MAPPING, 3, u64(H1) + u32(0) + u32(32)) +
        frame(OPEN_MAPPING, 4, str16('Local\\m')) +
        frame(CREATE_MAPPING, 5, u32(100) + u32(1) + str16('') + str16('sipb-fuzz')) +
        frame(CLOSE_HANDLE, 6, u64(H2)) +
        frame(CREATE_EVENT, 7, u32(1) + u32(0) + str16('Local\\e')) +
        frame(OPEN_EVENT, 8, u32(0x1F0003) + str16('Local\\e')) +
        frame(CLOSE_HANDLE, 9, u64(H1)) +
        frame(GOODBYE, 0, u32(0)))
    seeds['call-mapped'] = (
        create_window(1, [0x8002]) +
        frame(CREATE_MAPPING, 2, u32(8192) + u32(0) + str16('') + str16('')) +
        frame(CALL_MAPPED, 3, u64(H1) + u32(2) + u32(0) + bytes_field(b'\x01\x02\x03') + u32(4090) +
              bytes_field(b'xyz') + u64(W1) + u32(0x8002) + u32(1000) + u64(3) + u64(4) + u32(2) + u32(0) +
              u32(8) + u32(4000) + u32(100)) +
        reply_ok(1, i64(1)) +  # the relayed 0x8002
        frame(CALL_MAPPED, 4, u64(H1) + u32(0) + u64(W2) + u32(1) + u32(0) + u64(0) + u64(0) + u32(1) + u32(0) +
              u32(4)) +
        frame(GOODBYE, 0, u32(0)))
    seeds['bad-requests'] = (
        create_window(1, [1] * 3, cls='') +
        frame(CREATE_MAPPING, 2, u32(0) + u32(0) + str16('') + str16('')) +
        frame(CREATE_MAPPING, 3, u32(64) + u32(1) + str16('') + str16('..')) +
        frame(READ_MAPPING, 4, u64(0x1234) + u32(0) + u32(1)) +
        frame(POST_MESSAGE, 5, u64(0) + u32(0) + u32(1) + u64(0) + u64(0)) +
        frame(0x0777, 6, b'') +
        frame(SEND_MESSAGE, 7, u64(0) + u32(0)))  # truncated: a protocol error
    seeds['nested'] = (
        create_window(1, [0x8001]) +
        send_message(2, W1, 0x8001) +
        send_message(3, W1, 0x8001) +  # nested inside the wait for EV_MESSAGE tag 1
        reply_ok(2, i64(2)) + reply_ok(1, i64(1)) +
        frame(REPLY, 99, u32(0) + i64(0)) +  # a REPLY nobody waits for
        frame(PROTOCOL_ERROR, 0, u32(2) + b'host says no'))
    out = os.path.join(ROOT, 'win32-shim', 'fuzz', 'corpus')
    # read size, posted messages between frames, end of input; failure injection (10: stdout breaks)
    configs = {'windows': (0x14, 0, 0), 'mappings': (0x00, 0, 0), 'call-mapped': (0x0E, 0, 0),
               'bad-requests': (0x03, 0, 0), 'nested': (0x16, 0x80 + 9, 3)}
    for name, stream in seeds.items():
        read, failure, after = configs[name]
        write(os.path.join(out, 'seed-' + name), u8(read) + u8(failure) + u8(after) + stream)


# ---------------------------------------------------------------- the host (shim -> host)
HOST_WINDOW = 0x10010


def pipe_seeds():
    hello = b''  # mode bit 3 puts a valid HELLO in front
    create_result = u64(HOST_WINDOW) + u32(3) + (u32(1) + u32(0)) * 3
    sent = frame(EV_MESSAGE, 100, u64(HOST_WINDOW) + u32(0x8001) + u32(0) + u64(5) + u64(6))
    nested = frame(EV_MESSAGE, 101, u64(HOST_WINDOW) + u32(0x8002) + u32(0) + u64(0) + u64(HOST_WINDOW))
    posted = frame(EV_MESSAGE, 0, u64(HOST_WINDOW) + u32(0x8001) + u32(1) + u64(0) + u64(0))
    copy = frame(EV_COPYDATA, 102, u64(HOST_WINDOW) + u64(0) + u64(7) + bytes_field(b'data'))
    seeds = {
        # script 0: isWindow, createWindow, sendMessage, ...
        'script0': (0x08, hello + sent + reply_ok(1, u32(1)) + reply_ok(2, create_result) +
                    nested + reply_ok(3, u32(1)) + reply_ok(4, i64(1) + u32(1) + u32(0)) + posted + copy),
        # script 3: two requests started, finished out of order
        'script3': (0x38, reply_ok(2, bytes_field(b'0123456789abcdef')) + reply_ok(1, u32(0)) +
                    frame(REPLY, 3, u32(4) + u32(5) + b'access denied') + frame(REPLY, 4, u32(3) + b'no')),
        # script 5: CALL_MAPPED result with reads
        'script5': (0x5B, reply_ok(1, i64(7) + u32(1) + u32(0) + u32(1) + bytes_field(b'\x00\x01\x02\x03')) +
                    frame(GOODBYE, 0, u32(0) + b'shim leaving')),
        'bad-flags': (0x09, u32(8) + u16(REPLY) + u16(1) + u32(1)),
        'protocol-error': (0x0A, frame(PROTOCOL_ERROR, 0, u32(2) + b'shim says no')),
        'no-hello': (0x00, frame(REPLY, 1, u32(0))),
    }
    out = os.path.join(ROOT, 'Fuzz', 'Corpus', 'pipe-protocol')
    for name, (mode, stream) in seeds.items():
        write(os.path.join(out, 'seed-' + name), u8(mode) + stream)


# ---------------------------------------------------------------- SIPC frames
def sipc_call(fid, inputs, seq=0): return i32(seq) + u32(fid) + u32(fid) + b'\xF0' + inputs


def wide(text):
    units = text.encode('utf-16-le')
    return i32(len(units) // 2) + units


def narrow(text):
    data = text.encode('utf-8')
    return i32(len(data)) + data


def sipc_seeds():
    calls = {
        'add-int': (102, i32(1) + i32(2)),
        'concat': (103, wide('ab') + wide('c')),
        'narrow': (104, narrow('xy') + i32(3) + i32(1) + i32(2) + i32(3)),
        'mixed': (105, i32(2) + wide('a') + wide('bc') + b'\x01' + f64(1.5) + i32(1)),
        'geometry': (106, i32(1) + i32(2) + i32(3) + i32(4) + i32(5) + i32(6) + i32(7) + i32(8) + u64(9)),
        'keyboard': (107, bytes(range(16)) + b'\x01' + struct.pack('<h', -2) + f32(0.5)),
        'fails': (108, i32(3)),
        'grow': (109, u16(300)),
        'nothing': (110, b''),
        'nested': (5000, i32(2) + i32(1) + b'\x01' + i32(0) + i32(1) + i32(1) + wide('q')),
    }
    out = os.path.join(ROOT, 'Fuzz', 'Corpus', 'sipc-frames')
    buf_size, stack = 238, 3  # 256-byte slots, 4 of them
    for name, (fid, inputs) in calls.items():
        body = sipc_call(fid, inputs)
        # v2, callee, consistent header, slot 1 (the cursor field 0 leaves the cursor at 0)
        write(os.path.join(out, 'seed-v2-' + name),
              u8(0x08) + u8(buf_size) + u8(stack) + u8(1) + u64(0) + u32(0) * 3 + body)
        # v1, callee, consistent header: the frame ends at the cursor with its length field
        ids = [102, 103, 104, 105, 106, 107, 108, 109, 110, 5000]
        write(os.path.join(out, 'seed-v1-' + name),
              u8(0x09) + u8(buf_size) + u8(stack) + u8(ids.index(fid)) + u64(0) + u32(0) * 3 + body +
              i32(len(body)))
    # caller side: the peer's answer to AddInt (v2) and to Concat (v1)
    write(os.path.join(out, 'seed-caller-v2'),
          u8(0x0A) + u8(buf_size) + u8(stack) + u8(0x80) + u64(0) + u32(0) * 3 + u32(102) + b'\xF1' + i32(3))
    write(os.path.join(out, 'seed-caller-v1'),
          u8(0x0B) + u8(buf_size) + u8(stack) + u8(0x80) + u64(1) + u32(0) * 3 + u32(103) + b'\xF1' + wide('abc'))
    # buffer operations on a consistent-looking header
    write(os.path.join(out, 'seed-buffer-ops'),
          u8(0x04) + u8(buf_size) + u8(stack) + u8(0) + u64(0) + u32(1024) + u32(10) + u32(5) +
          u64(3) + u8(0) + u8(0) + u64(2) + u8(3) + u8(5) + b'hello' + u64(0) + u8(6))


if __name__ == '__main__':
    shim_seeds()
    pipe_seeds()
    sipc_seeds()
    sys.exit(0)
