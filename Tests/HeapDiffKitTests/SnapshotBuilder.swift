import HeapDiffFormat
import Foundation
import HeapDiffKit

/// Writes version-1 snapshot bytes for tests, independently of the reader:
/// from the C header's constants, with the shared C CRC. Its low-level parts
/// (`record`, `file`) let tests assemble damaged files on purpose.
struct SnapshotBuilder {
    var process = ProcessRecord()
    var modules: [Module] = []
    var traces: [Trace] = []
    /// Extra records of any type, written after the traces.
    var extraRecords: [[UInt8]] = []

    func bytes() -> [UInt8] {
        let records = [Self.processRecord(process)] + modules.map(Self.moduleRecord) + traces.map(Self.traceRecord)
            + extraRecords
        return Self.file(records: records)
    }

    /// Writes the snapshot into a fresh temporary file and returns its path.
    func write(in directory: TemporaryDirectory, name: String = "test.1.1.heapsnap") throws -> String {
        try directory.write(bytes(), name: name)
    }

    // MARK: - Records

    static func processRecord(_ process: ProcessRecord) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: Int(HD_PROCESS_FIXED_SIZE))
        put32(process.pid, at: Int(HD_PROCESS_PID), in: &payload)
        put32(process.ppid, at: Int(HD_PROCESS_PPID), in: &payload)
        put32(process.seq, at: Int(HD_PROCESS_SEQ), in: &payload)
        put32(process.trigger.rawValue, at: Int(HD_PROCESS_TRIGGER), in: &payload)
        put64(process.wallTimeNs, at: Int(HD_PROCESS_WALL_NS), in: &payload)
        put64(process.monotonicNs, at: Int(HD_PROCESS_MONO_NS), in: &payload)
        put64(process.startMonotonicNs, at: Int(HD_PROCESS_START_MONO_NS), in: &payload)
        put64(process.rss, at: Int(HD_PROCESS_RSS), in: &payload)
        put64(process.peakRSS, at: Int(HD_PROCESS_PEAK_RSS), in: &payload)
        put64(process.liveBytes, at: Int(HD_PROCESS_LIVE_BYTES), in: &payload)
        put64(process.liveCount, at: Int(HD_PROCESS_LIVE_COUNT), in: &payload)
        put64(process.allocBytes, at: Int(HD_PROCESS_ALLOC_BYTES), in: &payload)
        put64(process.allocCount, at: Int(HD_PROCESS_ALLOC_COUNT), in: &payload)
        put64(process.freeBytes, at: Int(HD_PROCESS_FREE_BYTES), in: &payload)
        put64(process.freeCount, at: Int(HD_PROCESS_FREE_COUNT), in: &payload)
        put64(process.peakLiveBytes, at: Int(HD_PROCESS_PEAK_LIVE_BYTES), in: &payload)
        put32(process.depth, at: Int(HD_PROCESS_DEPTH), in: &payload)
        put32(process.flags, at: Int(HD_PROCESS_FLAGS), in: &payload)
        payload += string(process.program)
        payload += string(process.label)
        // As /proc/PID/cmdline: every argument followed by a NUL.
        payload += string(process.commandLine.map { $0 + "\0" }.joined())
        return record(type: UInt32(HD_RECORD_PROCESS), payload: payload)
    }

    static func moduleRecord(_ module: Module) -> [UInt8] {
        var payload: [UInt8] = []
        append32(module.index, to: &payload)
        append32(UInt32(module.ranges.count), to: &payload)
        append64(module.loadBias, to: &payload)
        payload += string(module.path)
        append32(UInt32(module.buildID.count), to: &payload)
        payload += module.buildID
        for range in module.ranges {
            append64(range.lowerBound, to: &payload)
            append64(range.upperBound, to: &payload)
        }
        return record(type: UInt32(HD_RECORD_MODULE), payload: payload)
    }

    static func traceRecord(_ trace: Trace) -> [UInt8] {
        traceRecord(trace, frameCount: UInt32(trace.frames.count))
    }

    /// A TRACE record whose frame count field may lie about its frames.
    static func traceRecord(_ trace: Trace, frameCount: UInt32) -> [UInt8] {
        var payload: [UInt8] = []
        append64(trace.liveBytes, to: &payload)
        append64(trace.liveCount, to: &payload)
        append64(trace.allocBytes, to: &payload)
        append64(trace.allocCount, to: &payload)
        append32(frameCount, to: &payload)
        append32(trace.truncated ? UInt32(HD_TRACE_FLAG_TRUNCATED) : 0, to: &payload)
        trace.frames.forEach { append64($0, to: &payload) }
        return record(type: UInt32(HD_RECORD_TRACE), payload: payload)
    }

    static func record(type: UInt32, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        append32(type, to: &bytes)
        append32(UInt32(payload.count), to: &bytes)
        return bytes + payload
    }

    // MARK: - File

    /// Header, records, and an END record with the right count and CRC.
    /// Version 1 unless told otherwise: the records above are version 1's.
    static func file(records: [[UInt8]], version: UInt32 = UInt32(HD_FORMAT_V1), minor: UInt32 = 0) -> [UInt8] {
        var bytes = Array(HD_MAGIC.utf8)
        append32(version, to: &bytes)
        if version == UInt32(HD_FORMAT_V1) {
            append32(UInt32(HD_FILE_HEADER_SIZE_V1), to: &bytes)
        } else {
            append32(UInt32(HD_FILE_HEADER_SIZE), to: &bytes)
            append32(minor, to: &bytes)
        }
        records.forEach { bytes += $0 }
        return withEnd(bytes, recordCount: UInt64(records.count))
    }

    /// Appends an END record for `body` (header and records).
    static func withEnd(_ body: [UInt8], recordCount: UInt64) -> [UInt8] {
        var end: [UInt8] = []
        append64(recordCount, to: &end)
        append32(crc32(body), to: &end)
        append32(0, to: &end)
        return body + record(type: UInt32(HD_RECORD_END), payload: end)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { hd_crc32_update(0, $0.baseAddress, $0.count) }
    }

    // MARK: - Little-endian encoding

    static func string(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        append32(UInt32(text.utf8.count), to: &bytes)
        return bytes + Array(text.utf8)
    }

    static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    static func append64(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    static func put32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }

    static func put64(_ value: UInt64, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
}

/// A directory under the system's temporary directory, removed when released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "heapdiff-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func write(_ bytes: [UInt8], name: String) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}
