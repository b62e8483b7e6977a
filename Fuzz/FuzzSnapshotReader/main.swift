import HeapDiffFormat
import Glibc
import HeapDiffKit

// libFuzzer over the snapshot reader (`make fuzz`): every input must be read
// or rejected with a SnapshotError; a trap, crash, hang or leak is a bug.
// Declared only when HEAPDIFF_FUZZ is set and built with -sanitize=fuzzer
// (see Package.swift). The corpus is plain snapshot files: Fuzz/corpus/.

/// Each input is read twice: as it is, which exercises the structural checks
/// up to the checksum, and with its END record's CRC made right, so that
/// mutated payloads get past the checksum and reach the record decoders.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSnapshotReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? Snapshot.parse(bytes: bytes, name: "fuzz")

    let endSize = Int(HD_RECORD_HEADER_SIZE) + Int(HD_END_SIZE)
    guard bytes.count >= Int(HD_FILE_HEADER_SIZE) + endSize else { return 0 }
    let endOffset = bytes.count - endSize
    let crc = bytes.withUnsafeBytes { hd_crc32_update(0, $0.baseAddress, endOffset) }
    let crcOffset = endOffset + Int(HD_RECORD_HEADER_SIZE) + Int(HD_END_CRC32)
    var changed = false
    for index in 0..<4 {
        let byte = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index)))
        if bytes[crcOffset + index] != byte {
            bytes[crcOffset + index] = byte
            changed = true
        }
    }
    if changed { _ = try? Snapshot.parse(bytes: bytes, name: "fuzz") }
    return 0
}

// SwiftPM links an executable's top-level code as its `main`, so libFuzzer's
// own `main` is not linked in: hand control to libFuzzer's driver here.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzSnapshotReader))
