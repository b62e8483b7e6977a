import Foundation
import HeapDiffKit
import Testing

/// The line-table decoders against CPython's own answer, on every version
/// read: for every code object of a few standard-library modules, the line
/// of each instruction range as the interpreter gives it (`co_lines()` from
/// 3.10 on, `dis.findlinestarts` before), which the decoder must reproduce
/// from the raw table the recorder copies (`co_lnotab` in 3.8 and 3.9,
/// `co_linetable` after).
@Suite struct PythonLineTableTests {
    static let script = """
        import dis, json, sys, types, asyncio.base_events, json.decoder, functools
        def codes(code):
            yield code
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    yield from codes(const)
        def ranges(code):
            if hasattr(code, "co_lines"):
                return [[s, e, l] for s, e, l in code.co_lines()]
            starts = list(dis.findlinestarts(code)) + [(len(code.co_code), None)]
            return [[s, e, l] for (s, l), (e, _) in zip(starts, starts[1:])]
        out = []
        for module in (asyncio.base_events, json.decoder, functools):
            source = open(module.__file__).read()
            for code in codes(compile(source, module.__file__, "exec")):
                table = code.co_linetable if sys.version_info >= (3, 10) else code.co_lnotab
                out.append({"table": list(table), "first": code.co_firstlineno, "lines": ranges(code)})
        print(json.dumps({"version": sys.hexversion, "codes": out}))
        """

    struct CodeLines: Decodable {
        var table: [UInt8]
        var first: Int
        var lines: [[Int?]]
    }

    struct Output: Decodable {
        var version: UInt32
        var codes: [CodeLines]
    }

    @Test(arguments: PythonVersions.all)
    func matchesCPythonForEveryInstruction(_ python: PythonVersions.Interpreter) throws {
        let run = try Harness.run(try python.requirePath(), arguments: ["-c", Self.script], preload: false)
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONDecoder().decode(Output.self, from: run.stdout)
        #expect(output.version >> 16 == python.hexMinor)
        let format = PythonLineTable.Format(hexVersion: output.version)
        #expect(output.codes.count > 150)
        var checked = 0
        for code in output.codes {
            let table = PythonLineTable(bytes: code.table, firstLine: code.first, format: format)
            for range in code.lines {
                guard let start = range[0], let end = range[1] else { continue }
                for instruction in (start / 2)..<(end / 2) {
                    #expect(table.line(atInstruction: instruction) == range[2], "\(python) instruction \(instruction)")
                    checked += 1
                }
            }
        }
        #expect(checked > 10_000)
    }

    @Test func formatFollowsTheVersion() {
        #expect(PythonLineTable.Format(hexVersion: 0x0308_12F0) == .lineNumberTable)
        #expect(PythonLineTable.Format(hexVersion: 0x0309_12F0) == .lineNumberTable)
        #expect(PythonLineTable.Format(hexVersion: 0x030A_0DF0) == .lineTable310)
        #expect(PythonLineTable.Format(hexVersion: 0x030B_07F0) == .locationTable)
        #expect(PythonLineTable.Format(hexVersion: 0x030D_00F0) == .locationTable)
    }

    @Test func damagedTableGivesNoLineInsteadOfGarbage() {
        // 0x7f lacks the entry-start bit; a long-form entry cut short.
        #expect(PythonLineTable(bytes: [0x7F], firstLine: 1).line(atInstruction: 0) == nil)
        #expect(PythonLineTable(bytes: [0xF0 | 0x01], firstLine: 1).line(atInstruction: 0) == nil)
        #expect(PythonLineTable(bytes: [], firstLine: 1).line(atInstruction: 0) == nil)
        // Odd-length pair tables, and a 3.10 range with no line (-128).
        #expect(PythonLineTable(bytes: [2], firstLine: 1, format: .lineNumberTable).line(atInstruction: 0) == nil)
        #expect(PythonLineTable(bytes: [2, 1, 4], firstLine: 1, format: .lineTable310).line(atInstruction: 0) == nil)
        let table310 = PythonLineTable(bytes: [2, 0, 4, 0x80, 2, 3], firstLine: 10, format: .lineTable310)
        #expect([0, 1, 2, 3, 4].map(table310.line(atInstruction:)) == [10, nil, nil, 13, nil])
        let lnotab = PythonLineTable(bytes: [0, 1, 4, 2, 2, 0xFF], firstLine: 10, format: .lineNumberTable)
        #expect([0, 1, 2, 3].map(lnotab.line(atInstruction:)) == [11, 11, 13, 12])
    }
}
