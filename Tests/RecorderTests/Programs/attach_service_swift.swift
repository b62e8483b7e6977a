// A Swift service that runs without heapdiff until `heapdiff attach` joins
// it: three threads serve a request every 2 ms until stdin closes. Each
// request keeps a session (a payload of 600 to 663 bytes) in a dictionary
// that is never pruned (the leak: payload, session and the dictionary's
// storage), uses a scratch buffer it drops, and remembers its path in a
// bounded ring. At the end every session is checked; the output depends on
// nothing else, so an attached run prints what an unattached one prints.
import Glibc

final class Session {
    let id: Int
    let path: String
    let payload: [UInt8]
    init(id: Int, path: String, payload: [UInt8]) {
        self.id = id
        self.path = path
        self.payload = payload
    }
}

var lock = pthread_mutex_t()
var sessions: [String: Session] = [:]
var recent = [String?](repeating: nil, count: 64)
var stopping = false

@inline(never) func serve(_ worker: Int, _ request: Int) -> Int {
    var scratch = [UInt8](repeating: 0, count: 2048) // @site scratch
    scratch[request % 2048] = UInt8(truncatingIfNeeded: request)
    let path = "/item/\(worker)/\(request)"
    let payload = [UInt8](repeating: UInt8(97 + request % 26), count: 600 + request % 64) // @site payload
    let session = Session(id: request, path: path, payload: payload) // @site session
    pthread_mutex_lock(&lock)
    sessions[path] = session // @site table
    recent[request % 64] = String(repeating: "r", count: 40) + path // @site recent
    pthread_mutex_unlock(&lock)
    return Int(scratch[request % 2048])
}

func work(_ worker: Int) {
    var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
    var request = 0
    while true {
        pthread_mutex_lock(&lock)
        let stop = stopping
        pthread_mutex_unlock(&lock)
        if stop { break }
        _ = serve(worker, request)
        request += 1
        nanosleep(&pause, nil)
    }
}

pthread_mutex_init(&lock, nil)
var threads: [pthread_t] = []
for worker in 0..<3 {
    var thread = pthread_t()
    let argument = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    argument.pointee = worker
    pthread_create(&thread, nil, { argument in
        work(argument!.assumingMemoryBound(to: Int.self).pointee)
        return nil
    }, argument)
    threads.append(thread)
}
print("ready")
fflush(stdout)
while readLine() != nil {}
pthread_mutex_lock(&lock)
stopping = true
pthread_mutex_unlock(&lock)
for thread in threads { pthread_join(thread, nil) }
let intact = sessions.allSatisfy { path, session in
    session.path == path && session.payload.count == 600 + session.id % 64
        && session.payload.allSatisfy { $0 == UInt8(97 + session.id % 26) }
}
print("served: sessions intact: \(intact), \(recent.compactMap { $0 }.count) recent")
