// The plain leak test in Swift: one snapshot after warm-up, one after the
// load, then exit. Each request memoizes an 88-byte object (a 16-byte
// header, a reference and 8 Doubles) in a list that is never pruned.
// "fixed" keeps the last 64 (the fix); "one" takes only the snapshot after
// the load.
import Glibc

final class Memo {
    let next: Memo?
    var weights: (Double, Double, Double, Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0, 0, 0, 0)
    init(next: Memo?) { self.next = next }
}

var memos: Memo?
var recent = [Memo?](repeating: nil, count: 64)

@inline(never) func handle(_ request: Int, bounded: Bool) {
    if bounded {
        recent[request % 64] = Memo(next: nil) // @site recent
    } else {
        memos = Memo(next: memos) // @site memo
    }
}

func snapshot(_ label: String) {
    typealias Function = @convention(c) (UnsafePointer<CChar>?) -> Int32
    guard let symbol = dlsym(nil, "heapdiff_snapshot") else { return }
    _ = unsafeBitCast(symbol, to: Function.self)(label)
}

let mode = CommandLine.arguments.dropFirst().first ?? "leak"
for request in 0..<100 { handle(request, bounded: mode == "fixed") }
if mode != "one" { snapshot("warm") }
for request in 100..<1100 { handle(request, bounded: mode == "fixed") }
snapshot("loaded")
