import ArgumentParser
import HeapDiffKit

/// A size option (`4096`, `64K`, `1.5MiB`), parsed by HeapDiffKit's
/// SizeParsing so that every size option reads sizes the same way.
struct ByteSize: ExpressibleByArgument, Equatable {
    var bytes: Int64

    init(bytes: Int64) {
        self.bytes = bytes
    }

    init?(argument: String) {
        guard let bytes = SizeParsing.bytes(argument) else { return nil }
        self.bytes = bytes
    }

    var defaultValueDescription: String { "\(bytes)" }
}
