import Foundation
import ArgumentParser

/// A size given on the command line: `4096`, `64K`, `64KiB`, `1.5M`, `2GiB`
/// (binary units; `KB`, `MB`, `GB` are read as binary too, as heapdiff
/// prints sizes in binary units).
struct ByteSize: ExpressibleByArgument, Equatable {
    var bytes: Int64

    init(bytes: Int64) {
        self.bytes = bytes
    }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isNumber || $0 == "." }
        let unit = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let scales: [String: Double] = ["": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024,
                                        "m": 1_048_576, "mb": 1_048_576, "mib": 1_048_576,
                                        "g": 1_073_741_824, "gb": 1_073_741_824, "gib": 1_073_741_824]
        guard let value = Double(digits), let scale = scales[unit] else { return nil }
        let bytes = (value * scale).rounded()
        guard bytes.isFinite, bytes >= 0, bytes < 9.2e18 else { return nil }
        self.bytes = Int64(bytes)
    }

    var defaultValueDescription: String { "\(bytes)" }
}
