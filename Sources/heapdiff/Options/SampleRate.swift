import ArgumentParser
import HeapDiffFormat
import HeapDiffKit

/// `--sample BYTES` (run, check; attach can take the same option): the
/// sampling rate, read by the recorder's own parser (heapdiff_control.h),
/// so the option and `HEAPDIFF_SAMPLE` accept exactly the same sizes.
struct SampleRate: ExpressibleByArgument, Equatable {
    /// Mean bytes between two sample points; 0 records every allocation.
    var bytes: UInt64

    init(bytes: UInt64) {
        self.bytes = bytes
    }

    init?(argument: String) {
        var bytes: UInt64 = 0
        guard hd_parse_sample_rate(argument, &bytes) else { return nil }
        self.bytes = bytes
    }

    /// `--sample`'s parser, which says why a value is refused (ArgumentParser
    /// appends the reason to "The value … is invalid for '--sample <bytes>'").
    static func parse(_ argument: String) throws -> SampleRate {
        if let rate = SampleRate(argument: argument) { return rate }
        if let bytes = SizeParsing.bytes(argument), bytes > Int64(HD_SAMPLE_RATE_MAX) {
            throw ValidationError("at most 1GiB between sample points")
        }
        throw ValidationError("a size such as 512KiB, 64k, 1.5MiB or 524288 (units are powers of 1024), "
            + "or 0 for every allocation")
    }

    static let help = ArgumentHelp(
        "Sample allocations: record about one per this many bytes allocated (512KiB, 64k, 1MiB; at most 1GiB; "
            + "0: every one), for a few percent overhead; live figures become estimates with a standard error.",
        valueName: "bytes")
}

/// `--keep N`: the recorder keeps only its latest N periodic snapshots.
struct KeptSnapshots: ExpressibleByArgument, Equatable {
    var count: UInt32

    init?(argument: String) {
        var count: UInt32 = 0
        guard hd_parse_keep(argument, &count) else { return nil }
        self.count = count
    }
}
