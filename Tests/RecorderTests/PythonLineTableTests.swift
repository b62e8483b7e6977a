import Foundation
import HeapDiffKit
import Testing

/// The line-table decoder against CPython's own answer: for every code
/// object of a few standard-library modules, `co_lines()` gives the line of
/// each instruction range, which the decoder must reproduce from the raw
/// `co_linetable` bytes the recorder copies.
@Suite struct PythonLineTableTests {
    static let script = """
        import json, types, asyncio.base_events, json.decoder, functools
        def codes(code):
            yield code
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    yield from codes(const)
        out = []
        for module in (asyncio.base_events, json.decoder, functools):
            source = open(module.__file__).read()
            for code in codes(compile(source, module.__file__, "exec")):
                out.append({"table": list(code.co_linetable), "first": code.co_firstlineno,
                            "lines": [[s, e, l] for s, e, l in code.co_lines()]})
        print(json.dumps(out))
        """

    struct CodeLines: Decodable {
        var table: [UInt8]
        var first: Int
        var lines: [[Int?]]
    }

    @Test func matchesCPythonForEveryInstruction() throws {
        let run = try Harness.run("/usr/bin/python3.11", arguments: ["-c", Self.script])
        #expect(run.status == 0, "\(run.stderr)")
        let codes = try JSONDecoder().decode([CodeLines].self, from: run.stdout)
        #expect(codes.count > 150)
        var checked = 0
        for code in codes {
            let table = PythonLineTable(bytes: code.table, firstLine: code.first)
            for range in code.lines {
                guard let start = range[0], let end = range[1] else { continue }
                for instruction in (start / 2)..<(end / 2) {
                    #expect(table.line(atInstruction: instruction) == range[2], "instruction \(instruction)")
                    checked += 1
                }
            }
        }
        #expect(checked > 10_000)
    }

    @Test func damagedTableGivesNoLineInsteadOfGarbage() {
        // 0x7f lacks the entry-start bit; a long-form entry cut short.
        #expect(PythonLineTable(bytes: [0x7F], firstLine: 1).line(atInstruction: 0) == nil)
        #expect(PythonLineTable(bytes: [0xF0 | 0x01], firstLine: 1).line(atInstruction: 0) == nil)
        #expect(PythonLineTable(bytes: [], firstLine: 1).line(atInstruction: 0) == nil)
    }
}
