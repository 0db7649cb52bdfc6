import Foundation
import Testing

@testable import SIPCHost

/// Requests the fuzz target of the shim (win32-shim/fuzz) turned up, run against the real shim under Wine: the
/// fake Win32 the fuzzer runs on must model what Wine does with them, or the fuzzer's verdict means nothing.
@Suite(
    "Hostile requests to the shim under Wine", .serialized,
    .enabled(if: BridgeWine.enabled, "needs wine64, SIPB_SHIM and msg-peer.exe in SIPB_WIN_BIN: run `make test`"))
struct ShimHostileRequestTests {
    /// `WM_COPYDATA` carries a pointer in `lParam`. A host that sends or posts it with a raw number to a window
    /// that relays `WM_COPYDATA` must not make the shim read that number as a `COPYDATASTRUCT` (its window
    /// procedure would crash): Windows and Wine refuse pointer messages in `SendMessageCallbackW` and
    /// `PostMessageW` with `ERROR_MESSAGE_SYNC_ONLY` (1159).
    @Test(
        "WM_COPYDATA sent, mapped-called or posted with a raw lParam to a shim window: refused, the shim lives on",
        .timeLimit(.minutes(2)))
    func copyDataWithARawPointer() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let window = try connection.createWindow(
            className: "SipbHostile", title: BridgeWine.uniqueTitle("sipb-hostile"), relaying: [wmCopyData])
        connection.onCopyData(to: window.hwnd) { _, copy in
            Issue.record("a raw lParam reached the host as WM_COPYDATA of \(copy.data.count) bytes")
            return 0
        }
        let mapping = try connection.createMapping(name: "", size: 4096)
        for lParam: UInt64 in [0, 0x10, 0xDEAD_BEEF_0000] {
            #expect(
                throws: BridgeError.requestFailed(
                    request: .sendMessage, status: .win32Error, lastError: 1159,
                    message: "SendMessageCallbackW failed")
            ) {
                _ = try connection.sendMessage(to: window.hwnd, message: wmCopyData, lParam: lParam)
            }
            #expect(
                throws: BridgeError.requestFailed(
                    request: .callMapped, status: .win32Error, lastError: 1159,
                    message: "SendMessageCallbackW failed")
            ) {
                _ = try connection.callMapped(
                    mapping.handle, writing: [], to: window.hwnd, message: wmCopyData, lParam: lParam, reading: [])
            }
            #expect(
                throws: BridgeError.requestFailed(
                    request: .postMessage, status: .win32Error, lastError: 1159, message: "PostMessageW failed")
            ) {
                try connection.postMessage(to: window.hwnd, message: wmCopyData, lParam: lParam)
            }
        }
        #expect(try connection.isWindow(window.hwnd))
        #expect(connection.shutdown(timeout: .seconds(10)) == .exited(0))
    }
}
