import Logging
import SIPC

/// The SOUI ipcdemo protocol (S4 `demos/ipcdemo/protocol.h`, spec §9): what `sipc-host demo` serves
/// and what `sipc-demo-client.exe` calls.
public enum SIPCDemo {
    /// 102: `AddInt(int a, int b) → int`.
    public static let addInt = IPCFunction(
        id: 102, name: "AddInt", inputs: (Int32.self, Int32.self), outputs: Int32.self)
    /// 103: `AddString(tstring a, tstring b) → tstring` (wide strings in the Unicode build).
    public static let addString = IPCFunction(
        id: 103, name: "AddString", inputs: (WideString.self, WideString.self), outputs: WideString.self)
    /// 104: `SayHello(tstring text)`, server → client, no outputs.
    public static let sayHello = IPCFunction(id: 104, name: "SayHello", inputs: WideString.self, outputs: ())
    /// 105: `Sum(int n) → int`: `n + Sum(n − 1)` computed by calling the other side; 0 for n ≤ 0.
    public static let sum = IPCFunction(id: 105, name: "Sum", inputs: Int32.self, outputs: Int32.self)

    /// The server's handlers, logging each call at `info`.
    public static func serverRouter(logger: Logger) -> SIPCRouter<SIPCPeer> {
        var router = SIPCRouter<SIPCPeer>()
        router.registerContextual(addInt) { (inputs: (Int32, Int32), peer: SIPCPeer) in
            let result = inputs.0 &+ inputs.1
            logger.info("AddInt(\(inputs.0), \(inputs.1)) = \(result)", metadata: ["client": "\(peer.remoteWindow)"])
            return result
        }
        router.registerContextual(addString) { (inputs: (WideString, WideString), peer: SIPCPeer) in
            let result = WideString(units: inputs.0.units + inputs.1.units)
            logger.info(
                "AddString(\"\(inputs.0.string)\", \"\(inputs.1.string)\") = \"\(result.string)\"",
                metadata: ["client": "\(peer.remoteWindow)"])
            return result
        }
        router.registerContextual(sum) { n, peer in
            let result = n <= 0 ? 0 : n &+ (try peer.call(sum, n - 1))
            logger.info("Sum(\(n)) = \(result)", metadata: ["client": "\(peer.remoteWindow)"])
            return result
        }
        return router
    }

    /// The greeting the Swift server sends each new client.
    public static let greeting = WideString("Hello from the Swift host ✓")
}
