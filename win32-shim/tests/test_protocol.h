/*
 * test_protocol.h - type-coverage functions served by `sipc-peer server`
 * (and by the Swift side's test server). Ids 201-204, client -> server.
 *
 * Wire encoding (all little-endian, no padding, in the order listed):
 *   i8/u8 1 byte, i16/u16 2, i32/u32 4, i64/u64 8, f32 IEEE single 4,
 *   f64 IEEE double 8, BOOL 4 (int32), bool 1, POINT 8 (x, y),
 *   SIZE 8 (cx, cy), RECT 16 (left, top, right, bottom), bytes[256] verbatim,
 *   h64 8 (a handle as u64), str = int32 byte count + bytes,
 *   wstr = int32 UTF-16 unit count + UTF-16LE units, array<i32> = int32
 *   count + count x int32. Strings carry no terminator.
 *
 * Every server returns TRANSFORMED values (never plain echoes):
 *
 * 201 TypesInts(i8 a, u8 b, i16 c, u16 d, i32 e, u32 f, i64 g, u64 h)
 *     -> (i8, u8, i16, u16, i32, u32, i64, u64): each input + 1, wrapping
 *        in its own width (127 -> -128, 255 -> 0, -1 -> 0, ...).
 * 202 TypesFloats(f32 f, f64 d, BOOL b4, bool b1)
 *     -> (f32 f * 2, f64 d * 2, BOOL (b4 == 0 ? 1 : 0), bool (b1 == 0 ? 1 : 0))
 *        (the products are exact for the test values; BOOL/bool outputs are
 *        always 0 or 1; any non-zero input counts as true).
 * 203 TypesGeometry(POINT p, SIZE s, RECT r, bytes[256] bytes, h64 handle)
 *     -> (POINT {x = p.y, y = p.x}, SIZE {cx = s.cy, cy = s.cx},
 *         RECT {left = r.bottom, top = r.right, right = r.top, bottom = r.left},
 *         bytes[256] with out[i] = in[255 - i], h64 ~handle (bitwise not))
 * 204 TypesStrings(str a, wstr w, array<i32> v)
 *     -> (str a followed by the byte 0x21 '!',
 *         wstr w followed by the unit 0x2713 (CHECK MARK),
 *         array<i32> v in reverse order (same count),
 *         i32 number of UTF-16 units in w (surrogate pairs count 2))
 */
#ifndef SIPC_TEST_PROTOCOL_H
#define SIPC_TEST_PROTOCOL_H

#include "sipc.h"

#define TEST_ID_INTS 201u
#define TEST_ID_FLOATS 202u
#define TEST_ID_GEOMETRY 203u
#define TEST_ID_STRINGS 204u

#define TEST_INTS_FIELDS(X) \
    X(i8, a) X(u8, b) X(i16, c) X(u16, d) X(i32, e) X(u32, f) X(i64, g) X(u64, h)
SIPC_FUNCTION(TestInts, TEST_ID_INTS, TEST_INTS_FIELDS, TEST_INTS_FIELDS)

#define TEST_FLOATS_FIELDS(X) X(f32, f) X(f64, d) X(bool4, b4) X(bool1, b1)
SIPC_FUNCTION(TestFloats, TEST_ID_FLOATS, TEST_FLOATS_FIELDS, TEST_FLOATS_FIELDS)

#define TEST_GEOMETRY_FIELDS(X) \
    X(point, p) X(size, s) X(rect, r) X(bytes, bytes, 256) X(h64, handle)
SIPC_FUNCTION(TestGeometry, TEST_ID_GEOMETRY, TEST_GEOMETRY_FIELDS, TEST_GEOMETRY_FIELDS)

#define TEST_STRINGS_IN(X) X(str, a) X(wstr, w) X(array, v, int32_t)
#define TEST_STRINGS_OUT(X) X(str, a) X(wstr, w) X(array, v, int32_t) X(i32, units)
SIPC_FUNCTION(TestStrings, TEST_ID_STRINGS, TEST_STRINGS_IN, TEST_STRINGS_OUT)

#endif /* SIPC_TEST_PROTOCOL_H */
