/// The host runtime of sipc-bridge: starts `sipc-shim.exe` under Wine and speaks the pipe protocol
/// described in `docs/PROTOCOL.md`.
public enum SIPCHostRuntime {}
