import Foundation
import Testing

@testable import SIPCHost

/// Keeps `win32-shim/include/sipb_protocol.h` and `PipeProtocol.swift` identical.
@Suite("C header and Swift mirror")
struct ProtocolHeaderTests {
    /// `<repo>/win32-shim/include/sipb_protocol.h`, found from this file's path.
    static var headerPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("win32-shim/include/sipb_protocol.h").path
    }

    /// Every `#define SIPB_NAME value` of the header (the include guard, which has no value, is left out).
    static func headerDefines() throws -> [String: UInt64] {
        let text = try String(contentsOfFile: headerPath, encoding: .utf8)
        var defines: [String: UInt64] = [:]
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("#define") else { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[1].hasPrefix("SIPB_") else { continue }
            let name = String(words[1])
            if words.count == 2 {
                #expect(name == "SIPB_PROTOCOL_H", "\(name) has no value")
                continue
            }
            var literal = String(words[2]).lowercased()
            while let last = literal.last, last == "u" || last == "l" { literal.removeLast() }
            let value = literal.hasPrefix("0x") ? UInt64(literal.dropFirst(2), radix: 16) : UInt64(literal)
            guard let value else {
                Issue.record("cannot read the value of \(name): \(words[2])")
                continue
            }
            #expect(defines[name] == nil, "\(name) is defined twice")
            defines[name] = value
        }
        return defines
    }

    @Test("every SIPB_* define of the header has the same value in the Swift mirror, and nothing more")
    func headerMatchesMirror() throws {
        let header = try Self.headerDefines()
        #expect(header.count >= 40, "read only \(header.count) defines from \(Self.headerPath)")
        var mirror: [String: UInt64] = [:]
        for (name, value) in PipeProtocol.cConstants {
            #expect(mirror[name] == nil, "the Swift mirror lists \(name) twice")
            mirror[name] = value
        }
        for (name, value) in header.sorted(by: { $0.key < $1.key }) {
            if let swift = mirror[name] {
                #expect(
                    swift == value, "\(name): header 0x\(String(value, radix: 16)), Swift 0x\(String(swift, radix: 16))"
                )
            } else {
                Issue.record("\(name) is in the header but not in PipeProtocol.cConstants")
            }
        }
        for name in mirror.keys.sorted() where header[name] == nil {
            Issue.record("\(name) is in the Swift mirror but not in the header")
        }
    }

    @Test("derived limits agree with the header's")
    func derivedLimits() {
        #expect(PipeProtocol.frameHeaderSize == PipeProtocol.framePrefixSize + PipeProtocol.frameHeaderTailSize)
        #expect(PipeProtocol.maxPayload == 64 * 1024 * 1024 + 64 * 1024)
        #expect(PipeProtocol.magic == UInt32(0x53) | UInt32(0x49) << 8 | UInt32(0x50) << 16 | UInt32(0x42) << 24)
    }
}
