// Allocations behind the Swift runtime, compiled `swiftc -O -g` by the
// tests. The first argument picks a scenario; it allocates from one marked
// line between the "before" and "after" snapshots, so the diff's top row
// must be that line.
import Glibc

final class Node {
    var value: Int
    var weights: (Double, Double, Double, Double, Double, Double, Double, Double)

    init(value: Int) {
        self.value = value
        weights = (0, 0, 0, 0, 0, 0, 0, 0)
    }
}

var nodes: [Node] = []
var arrays: [[Int]] = []

@inline(never) func makeNodes() {
    for index in 0..<1000 {
        nodes.append(Node(value: index)) // @site swift_class
    }
}

@inline(never) func makeArrays() {
    for index in 0..<100 {
        arrays.append(Array(repeating: index, count: 1000)) // @site swift_array
    }
}

/// heapdiff_snapshot when the recorder is loaded, as heapdiff.h's helper does it.
func snapshot(_ label: String) -> Int32 {
    typealias Function = @convention(c) (UnsafePointer<CChar>?) -> Int32
    guard let symbol = dlsym(nil, "heapdiff_snapshot") else { return 1 }
    return unsafeBitCast(symbol, to: Function.self)(label)
}

// Before the first snapshot: the runtime allocates type metadata on first
// use, and the arguments array once.
let scenario = CommandLine.arguments.dropFirst().first
nodes.reserveCapacity(1000)
arrays.reserveCapacity(100)
let warmUp = (Node(value: -1), Array(repeating: -1, count: 1))
guard snapshot("before") == 0 else { exit(10) }
switch scenario {
case "class": makeNodes()
case "array": makeArrays()
default: exit(2)
}
withExtendedLifetime(warmUp) {}
exit(snapshot("after") == 0 ? 0 : 11)
