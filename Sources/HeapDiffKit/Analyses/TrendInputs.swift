import Foundation

/// The machine facts a trend is extrapolated against.
public enum TrendInputs {
    /// MemTotal from /proc/meminfo, in bytes.
    public static func machineMemory() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
              let kib = Int64(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kib * 1024
    }
}
