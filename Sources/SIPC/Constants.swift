/// The numbers SIPC itself uses on the wire and in window messages (spec §1).
public enum SIPCConstants {
    /// `UM_CALL_FUN` = `WM_USER + 1000`: the only window message SIPC uses.
    public static let callMessage: UInt32 = 0x0400 + 1000
    /// `wParam` of a connect request sent to the server's main window.
    public static let connectFunctionID: UInt32 = 100
    /// `wParam` of a (posted) disconnect.
    public static let disconnectFunctionID: UInt32 = 101
    /// The first function id an application may use.
    public static let firstApplicationFunctionID: UInt32 = 102
    /// Marks the start of a frame's input section.
    public static let inputMarker: UInt8 = 0xF0
    /// Marks the start of a frame's output section.
    public static let outputMarker: UInt8 = 0xF1
    /// Bytes of the shared-buffer header: capacity, tail, cursor (3 × u32).
    public static let sharedHeaderSize = 12
    /// The v2 call sequence number wraps to 0 when it reaches this value (values 0…65534).
    public static let sequenceWrapV2: Int32 = 0xFFFF
    /// The v1 call sequence number wraps to 0 when it exceeds this value.
    public static let sequenceLimitV1: Int32 = 100_000
    /// `WM_COPYDATA`.
    public static let copyDataMessage: UInt32 = 0x004A
}
