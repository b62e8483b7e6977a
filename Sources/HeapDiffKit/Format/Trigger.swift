/// What made the recorder take a snapshot.
public enum Trigger: Equatable, Hashable, Sendable {
    /// The program called `heapdiff_snapshot()`.
    case api
    /// Requested from outside: `heapdiff snapshot PID`, or the optional snapshot signal.
    case signal
    /// The `HEAPDIFF_INTERVAL` timer fired.
    case interval
    /// The process was exiting.
    case exit
    /// A trigger written by a newer recorder; kept rather than rejected.
    case unknown(UInt32)

    public init(rawValue: UInt32) {
        switch rawValue {
        case FormatLayout.Trigger.api: self = .api
        case FormatLayout.Trigger.signal: self = .signal
        case FormatLayout.Trigger.interval: self = .interval
        case FormatLayout.Trigger.exit: self = .exit
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt32 {
        switch self {
        case .api: return FormatLayout.Trigger.api
        case .signal: return FormatLayout.Trigger.signal
        case .interval: return FormatLayout.Trigger.interval
        case .exit: return FormatLayout.Trigger.exit
        case .unknown(let value): return value
        }
    }
}

extension Trigger: CustomStringConvertible {
    public var description: String {
        switch self {
        case .api: return "api"
        case .signal: return "signal"
        case .interval: return "interval"
        case .exit: return "exit"
        case .unknown(let value): return "unknown(\(value))"
        }
    }
}
