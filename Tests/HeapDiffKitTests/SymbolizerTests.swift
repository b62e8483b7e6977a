import Foundation
import Testing
@testable import HeapDiffKit

/// Symbolizes a real program compiled for the test, against what binutils
/// (nm, objdump, readelf) say about the same file.
@Suite struct SymbolizerTests {
    static let source = """
        #include <stdio.h>
        #include <stdlib.h>

        char *leaky_allocation(size_t n) {
            return malloc(n);
        }

        int main(void) {
            char *p = leaky_allocation(16);
            printf("%p\\n", (void *)p);
            return 0;
        }

        """
    static let functionLine = 4
    static let mallocLine = 5

    /// A program compiled with `cc -g -O0 EXTRA`, and facts about it.
    struct Program {
        let directory: TemporaryDirectory
        let sourcePath: String
        let binaryPath: String
        let buildID: [UInt8]

        init(extraFlags: [String] = []) throws {
            directory = try TemporaryDirectory()
            sourcePath = try directory.write(Array(SymbolizerTests.source.utf8), name: "prog.c")
            binaryPath = directory.path + "/prog"
            _ = try shell("cc", ["-g", "-O0"] + extraFlags + ["-o", binaryPath, sourcePath])
            let notes = try shell("readelf", ["-n", binaryPath])
            let hex = try #require(notes.split(separator: "\n").first { $0.contains("Build ID:") }?
                .split(separator: " ").last)
            buildID = stride(from: 0, to: hex.count, by: 2).compactMap { offset in
                let start = hex.index(hex.startIndex, offsetBy: offset)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
            }
        }

        /// File address of a function symbol, from nm.
        func symbolAddress(_ name: String) throws -> UInt64 {
            let line = try #require(try shell("nm", [binaryPath]).split(separator: "\n").first { $0.hasSuffix(" T \(name)") })
            return try #require(UInt64(line.prefix { $0 != " " }, radix: 16))
        }

        /// File address of the instruction after `leaky_allocation`'s call to
        /// malloc: the return address the recorder would capture.
        func returnAddressOfMallocCall() throws -> UInt64 {
            let disassembly = try shell("objdump", ["-d", "--no-show-raw-insn", binaryPath]).split(separator: "\n")
            let start = try #require(disassembly.firstIndex { $0.hasSuffix("<leaky_allocation>:") })
            let call = try #require(disassembly[start...].firstIndex { $0.contains("call") && $0.contains("<malloc@plt>") })
            let next = disassembly[call + 1].trimmingCharacters(in: .whitespaces)
            return try #require(UInt64(next.prefix { $0 != ":" }, radix: 16))
        }

        /// As the recorder would describe the program loaded at `bias`.
        func module(loadBias bias: UInt64, buildID: [UInt8]? = nil) -> Module {
            Module(index: 0, path: binaryPath, buildID: buildID ?? self.buildID, loadBias: bias,
                   ranges: [bias..<(bias + 0x10_0000)])
        }
    }

    @Test func returnAddressInPositionIndependentExecutable() throws {
        let program = try Program()
        let bias: UInt64 = 0x5555_5555_4000
        let returnAddress = try program.returnAddressOfMallocCall()
        let frames = Symbolizer().symbolize(address: bias + returnAddress, modules: [program.module(loadBias: bias)])
        #expect(frames == [Frame(module: program.binaryPath, offset: returnAddress, function: "leaky_allocation",
                               file: program.sourcePath, line: Self.mallocLine)])
    }

    @Test func functionStartInNonPositionIndependentExecutable() throws {
        let program = try Program(extraFlags: ["-no-pie"])
        // A non-PIE executable is loaded at its link-time addresses: bias 0.
        let address = try program.symbolAddress("leaky_allocation")
        let module = Module(index: 0, path: program.binaryPath, buildID: program.buildID, loadBias: 0,
                            ranges: [0x40_0000..<0x50_0000])
        let frame = try #require(Symbolizer().symbolize(address: address + 1, modules: [module]).first)
        #expect(frame.function == "leaky_allocation")
        #expect(frame.file == program.sourcePath)
        #expect(frame.line == Self.functionLine)
    }

    @Test func statisticsNameTheCallingLine() throws {
        let program = try Program()
        let bias: UInt64 = 0x5600_0000_0000
        let inLeaky = bias + (try program.returnAddressOfMallocCall())
        let inMain = bias + (try program.symbolAddress("main")) + 0x10
        let libc = Module(index: 1, path: "/usr/lib/x86_64-linux-gnu/libc-not-here.so.6",
                          loadBias: 0x7f00_0000_0000, ranges: [0x7f00_0000_0000..<0x7f00_0010_0000])
        let snapshot = Snapshot(path: "synthetic", process: ProcessRecord(),
                                modules: [program.module(loadBias: bias), libc],
                                traces: [Trace(liveBytes: 160, liveCount: 10, frames: [0x7f00_0000_1234, inLeaky, inMain])])
        let symbolizer = Symbolizer()
        let statistics = snapshot.statistics(by: .lineno, symbolizer: symbolizer)
        let top = try #require(statistics.first)
        #expect(statistics.count == 1)
        #expect(top.key == .line(file: program.sourcePath, line: Self.mallocLine))
        #expect(top.site.function == "leaky_allocation")
        #expect(top.site.module == program.binaryPath)
        #expect(top.size == 160 && top.count == 10)
        #expect(top.traceback.map(\.function) == [nil, "leaky_allocation", "main"])
        #expect(symbolizer.warnings == ["/usr/lib/x86_64-linux-gnu/libc-not-here.so.6: cannot open (No such file or directory); frames shown as offsets"])

        let byFunction = snapshot.statistics(by: .function, symbolizer: symbolizer)
        #expect(byFunction.map(\.key) == [.function(name: "leaky_allocation", module: program.binaryPath)])
        let byFile = snapshot.statistics(by: .file, symbolizer: symbolizer)
        #expect(byFile.map(\.key) == [.file(path: program.sourcePath)])
    }

    @Test func rebuiltModuleIsShownAsOffsets() throws {
        let program = try Program()
        let bias: UInt64 = 0x5555_5555_4000
        let address = try program.symbolAddress("leaky_allocation")
        let symbolizer = Symbolizer()
        let stale = program.module(loadBias: bias, buildID: [0xde, 0xad, 0xbe, 0xef])
        let frames = symbolizer.symbolize(address: bias + address, modules: [stale])
        #expect(frames == [Frame(module: program.binaryPath, offset: address)])
        let frame = try #require(frames.first)
        #expect(frame.description == "prog+0x\(String(address, radix: 16))")
        _ = symbolizer.symbolize(address: bias + address + 4, modules: [stale])
        #expect(symbolizer.warnings == ["\(program.binaryPath): build-id differs from the one recorded (not the file the "
                                        + "process loaded: rebuilt or upgraded since); frames shown as offsets"])
    }

    @Test func addressOutsideEveryModule() throws {
        let program = try Program()
        let frames = Symbolizer().symbolize(address: 0x1234, modules: [program.module(loadBias: 0x5555_0000_0000)])
        #expect(frames == [Frame(module: "", offset: 0x1234)])
        let frame = try #require(frames.first)
        #expect(frame.description == "0x1234")
    }
}

/// Runs a tool from PATH and returns its standard output; throws on failure.
@discardableResult
func shell(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ShellFailure(description: "\(tool) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

struct ShellFailure: Error, CustomStringConvertible {
    var description: String
}

/// `SymbolTable` answers as libdwfl's linear `dwfl_module_addrinfo` does,
/// at the start of every function symbol and inside it.
@Suite struct SymbolTableTests {
    @Test(arguments: ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                      "/usr/bin/python3.11"])
    func namesAsLibdwflDoes(path: String) throws {
        let file = try DwarfFile(path: path)
        let starts = file.symbolAddresses()
        #expect(starts.count > 1000)
        var mismatches: [String] = []
        // Every function on small files; a spread of them on big ones, as
        // libdwfl's own lookups are slow there.
        let step = max(1, starts.count / 3000)
        for start in stride(from: 0, to: starts.count, by: step).map({ starts[$0] }) {
            for address in [start, start + 1, start + 9] {
                let ours = file.symbolName(at: address), theirs = file.libdwflSymbolName(at: address)
                if ours != theirs { mismatches.append("\(String(address, radix: 16)): \(ours ?? "nil") vs \(theirs ?? "nil")") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ: \(mismatches.prefix(10))")
    }
}
