/// The settings both sides of a SIPC connection must agree on, plus the server's title.
public struct SIPCProfile: Sendable, Equatable {
    /// A name for logs and the command line.
    public var name: String
    /// The server main window's title, which clients find with `FindWindow`.
    public var serverTitle: String
    /// The mapping name pattern: text with exactly two `%08x` (writer HWND, then reader HWND).
    public var bufferNameFormat: String
    /// Bytes per slot and number of slots (v1 uses `layout.capacity` as its single buffer's size).
    public var layout: SlotLayout
    /// The frame format.
    public var wireVersion: WireVersion

    /// Creates a profile.
    public init(
        name: String, serverTitle: String, bufferNameFormat: String, layout: SlotLayout, wireVersion: WireVersion
    ) {
        self.name = name
        self.serverTitle = serverTitle
        self.bufferNameFormat = bufferNameFormat
        self.layout = layout
        self.wireVersion = wireVersion
    }

    /// The SOUI4 ipcdemo (spec §9, S4 `demos/ipcdemo`): title `sipc_demo_svr`, 2048-byte slots.
    /// The demo's client uses 10 slots; our peers use 64 so that `Sum(100)` fits.
    public static func ipcDemo(stackSize: Int = 64) throws(SIPCError) -> SIPCProfile {
        SIPCProfile(
            name: "ipcdemo", serverTitle: "sipc_demo_svr",
            bufferNameFormat: "demo2_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22_%08x_2_%08x",
            layout: try SlotLayout(bufSize: 2048, stackSize: stackSize), wireVersion: .v2)
    }

    /// sinstar3 (spec §3.1, §4.1, §9): 2048 × 10, its server title and buffer names.
    public static let sinstar3 = SIPCProfile(
        name: "sinstar3", serverTitle: "sinstar3_server_wnd_{85B55CBC-7D48-4860-BA88-0BE4B073A94F}",
        bufferNameFormat: "sistart3_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22_%08x_2_%08x",
        layout: try! SlotLayout(bufSize: 2048, stackSize: 10), wireVersion: .v2)

    /// The 2019 v1 SIpcDemo (spec §11): one 1024-byte buffer per direction.
    public static let v1Demo = SIPCProfile(
        name: "v1demo", serverTitle: "sipc_demo_svr",
        bufferNameFormat: "demo_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22_%08x_2_%08x",
        layout: try! SlotLayout(bufSize: 1024, stackSize: 1), wireVersion: .v1)

    /// The mapping name for the buffer written by `writer` and read by `reader`: each HWND's low
    /// 32 bits as 8 lower-case, zero-padded hex digits, in that order.
    /// - Throws: ``SIPCError/invalidConfiguration(_:)`` unless the format has exactly two `%08x`.
    public func bufferName(writer: UInt64, reader: UInt64) throws(SIPCError) -> String {
        let parts = bufferNameFormat.split(separator: "%08x", omittingEmptySubsequences: false)
        guard parts.count == 3, !bufferNameFormat.contains("%%") else {
            throw .invalidConfiguration("buffer name format needs exactly two %08x: \(bufferNameFormat)")
        }
        return parts[0] + Self.hex8(writer) + parts[1] + Self.hex8(reader) + parts[2]
    }

    /// The `<mapping name>_mutex` event that goes with each mapping (spec §4.1).
    public static func eventName(forBuffer name: String) -> String { name + "_mutex" }

    static func hex8(_ value: UInt64) -> String {
        let digits = String(UInt32(truncatingIfNeeded: value), radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
