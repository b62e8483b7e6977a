/// The environment of the program that `run` starts: heapdiff's own, plus
/// what loads and configures the recorder.
struct ChildEnvironment {
    var library: String
    var outputDirectory: String
    var interval: String?
    var signal: String?
    var depth: Int?
    /// heapdiff's own pid: the recorder in its direct child knows itself as
    /// the program, and its descendants as helpers or workers.
    var programParent: Int32

    /// `KEY=VALUE` entries, sorted by key so the result is reproducible.
    func entries(from base: [String: String]) -> [String] {
        var environment = base
        // Prepended so the recorder's malloc wins, keeping the user's preloads after it.
        if let existing = base["LD_PRELOAD"], !existing.isEmpty {
            environment["LD_PRELOAD"] = library + ":" + existing
        } else {
            environment["LD_PRELOAD"] = library
        }
        environment["HEAPDIFF_OUTPUT"] = outputDirectory
        if let interval { environment["HEAPDIFF_INTERVAL"] = interval }
        if let signal { environment["HEAPDIFF_SIGNAL"] = signal }
        if let depth { environment["HEAPDIFF_DEPTH"] = String(depth) }
        environment["HEAPDIFF_PROGRAM_PARENT"] = String(programParent)
        return environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
