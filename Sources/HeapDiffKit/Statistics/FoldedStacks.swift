/// Brendan Gregg's folded stacks, the input of flamegraph.pl, inferno and
/// speedscope: one line per distinct symbolized stack, frames outermost
/// first separated by `;`, then a space and a byte count:
///
///     main;handle_request;cache_insert 51200
///
/// Every frame of the stack is kept (inlined calls as frames of their own,
/// allocator plumbing included): a flame graph shows whole stacks. A frame
/// is named by its function, or `module+0xOFFSET` when it has none.
public enum FoldedStacks {
    /// The live bytes of `snapshot` per symbolized stack; or, given `base`,
    /// the growth from `base` to `snapshot` per stack, positive growth only
    /// (a flame graph cannot draw a negative width). Traces whose stacks
    /// symbolize to the same frame names are merged. Lines with no bytes are
    /// left out; lines are sorted by stack, so the output is stable.
    public static func lines(of snapshot: Snapshot, base: Snapshot? = nil, symbolizer: Symbolizer) -> [String] {
        let new = totals(of: snapshot, symbolizer: symbolizer)
        let old = base.map { totals(of: $0, symbolizer: symbolizer) } ?? [:]
        return new.compactMap { stack, bytes -> (String, UInt64)? in
            let before = old[stack] ?? 0
            return bytes > before ? (stack, bytes - before) : nil
        }
        .sorted { $0.0 < $1.0 }
        .map { "\($0.0) \($0.1)" }
    }

    /// The name of one frame in a folded line: never containing the `;`
    /// that separates frames, nor a line break.
    public static func name(of frame: Frame) -> String {
        var name = frame.function ?? frame.moduleOffset
        if name.isEmpty { name = frame.moduleOffset }
        return String(name.map { character -> Character in
            switch character {
            case ";": return ":"
            case "\n", "\r": return " "
            default: return character
            }
        })
    }

    /// Live bytes per folded stack (`a;b;c`), traces with equal stacks merged.
    private static func totals(of snapshot: Snapshot, symbolizer: Symbolizer) -> [String: UInt64] {
        let resolver = StackResolver(snapshot: snapshot, symbolizer: symbolizer, rule: .innermostFrame)
        var totals: [String: UInt64] = [:]
        for trace in snapshot.traces where trace.liveBytes > 0 {
            let stack = resolver.stack(trace.frames).reversed().map(name(of:)).joined(separator: ";")
            let key = stack.isEmpty ? "[unknown]" : stack
            let (sum, overflow) = totals[key, default: 0].addingReportingOverflow(trace.liveBytes)
            totals[key] = overflow ? .max : sum
        }
        return totals
    }
}
