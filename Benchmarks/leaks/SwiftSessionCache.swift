// A Swift service keeps a session object per client in a dictionary that is
// never pruned; the per-request buffer is released. Snapshots through dlsym,
// so the program needs no link against heapdiff.
import Glibc

typealias SnapshotFunction = @convention(c) (UnsafePointer<CChar>?) -> Int32
let snapshot: SnapshotFunction? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "heapdiff_snapshot")
    .map { unsafeBitCast($0, to: SnapshotFunction.self) }

final class Session {
    let client: Int
    var history: [Int]
    init(client: Int) {
        self.client = client
        history = Array(repeating: client, count: 64) // @leak
    }
}

var sessions: [Int: Session] = [:]
var served = 0

@inline(never) func handle(client: Int) {
    let buffer = [UInt8](repeating: UInt8(client & 0xff), count: 4096) // @steady
    sessions[client] = Session(client: client) // @leak
    served += Int(buffer[0])
}

var client = 0
for phase in 0..<5 {
    for _ in 0..<1000 {
        handle(client: client)
        client += 1
    }
    // LEAKCHECK_SNAPSHOTS=two: only after the first phase and the last, as leakcheck.h does.
    if getenv("LEAKCHECK_SNAPSHOTS").map({ String(cString: $0) }) != "two" || phase == 0 || phase == 4 {
        _ = snapshot?("phase \(phase)")
    }
}
print("served \(sessions.count) sessions")
