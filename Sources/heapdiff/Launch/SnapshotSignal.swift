import HeapDiffFormat

/// The signal that makes the recorder take a snapshot, spelled as in
/// `HEAPDIFF_SIGNAL`: `USR1`, `SIGUSR2`, `RTMIN`, `RTMIN+3`, a number, or
/// `off`. Parsed by the recorder's own parser (heapdiff_control.h), so the
/// CLI accepts exactly what the recorder accepts: signals that mean nothing
/// else to the kernel or libc.
enum SnapshotSignal: Equatable {
    case off
    case signal(Int32)

    init?(_ text: String) {
        switch hd_parse_signal(text) {
        case 0: self = .off
        case let number where number > 0: self = .signal(number)
        default: return nil
        }
    }

    /// The accepted spellings, for error messages.
    static let accepted = "USR1, USR2, RTMIN, RTMIN+N, their numbers, or off"
}
