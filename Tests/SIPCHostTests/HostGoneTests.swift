import Foundation
import SIPCHost
import Testing

/// When the host goes away (its end of the pipe closes, as when its process dies), the shim answers the
/// pending SendMessage with 0 and exits, so no Windows program hangs.
@Suite(.serialized, .enabled(if: WineTestEnvironment.enabled, "needs Wine and the Windows programs: run `make test`"))
struct HostGoneTests {
    @Test func theShimAnswersPendingSendsWithZeroAndExits() throws {
        let session = try ShimSession()
        defer { session.close() }
        let bridge = session.bridge
        let title = uniqueTitle("sipb_gone")
        let window = try bridge.createWindow(className: "sipb_gone", title: title, relaying: [0x8001])
        var closedAt: ContinuousClock.Instant?
        bridge.onMessage(0x8001, to: window.hwnd) { connection, _ in
            // The host "dies" in the middle of answering: the shim reads end-of-file instead of a REPLY.
            closedAt = .now
            connection.transport.closeOutput()
            return 123
        }
        let peer = try WindowsProgram("msg-peer.exe", ["send", title, String(0x8001), "1", "2"])
        let deadline = ContinuousClock.now + .seconds(30)
        while closedAt == nil, bridge.failure == nil, ContinuousClock.now < deadline {
            try? bridge.serve(for: .milliseconds(20))
        }
        let closed = try #require(closedAt, "the message never reached the host")
        let transport = try #require(bridge.transport as? PipeTransport)
        let status = transport.process.waitForExit(timeout: .seconds(5))
        let exitedAfter = ContinuousClock.now - closed
        #expect(status != nil, "the shim did not exit")
        #expect(exitedAfter < .seconds(1), "the shim took \(exitedAfter) to exit")
        #expect(peer.finish() == 0)
        #expect(peer.values("lresult").first?.split(separator: " ").first == "0", "\(peer.lines)")
    }
}
