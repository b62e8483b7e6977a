import Glibc

/// The signal that makes the recorder take a snapshot, spelled as in
/// `HEAPDIFF_SIGNAL`: `USR1`, `SIGUSR2`, `RTMIN`, `RTMIN+3`, a number, or
/// `off`. Accepts exactly what the recorder accepts: signals that mean
/// nothing else to the kernel or libc, so that a typo cannot make
/// `heapdiff snapshot` kill the program.
enum SnapshotSignal: Equatable {
    case off
    case signal(Int32)

    /// The recorder's default.
    static let standard = SnapshotSignal.signal(SIGUSR2)

    init?(_ text: String) {
        let lowered = text.lowercased()
        if ["off", "none", "0"].contains(lowered) {
            self = .off
            return
        }
        let name = lowered.hasPrefix("sig") ? String(lowered.dropFirst(3)) : lowered
        let realTimeMin = __libc_current_sigrtmin()
        let realTimeMax = __libc_current_sigrtmax()
        let number: Int32
        switch name {
        case "usr1":
            number = SIGUSR1
        case "usr2":
            number = SIGUSR2
        case "rtmin":
            number = realTimeMin
        case _ where name.hasPrefix("rtmin+"):
            guard let offset = Int32(name.dropFirst("rtmin+".count)), offset >= 0, offset <= 64 else { return nil }
            number = realTimeMin + offset
        default:
            guard let value = Int32(name), value >= 1, value <= 64 else { return nil }
            number = value
        }
        let isRealTime = number >= realTimeMin && number <= realTimeMax
        guard number == SIGUSR1 || number == SIGUSR2 || isRealTime else { return nil }
        self = .signal(number)
    }

    /// The accepted spellings, for error messages.
    static let accepted = "USR1, USR2, RTMIN, RTMIN+N, their numbers, or off"
}
