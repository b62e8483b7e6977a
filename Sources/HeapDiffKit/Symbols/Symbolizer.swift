/// Turns return addresses into functions, source files and lines, offline.
///
/// A return address in inlined code becomes several frames, innermost
/// first (see `Frame.inlined`). Create one per run of heapdiff and share it
/// between snapshots: each module file is opened once and each distinct
/// (module, offset) is looked up once, which is what makes comparing large
/// snapshots affordable. Modules that cannot be symbolized (file gone, or
/// rebuilt since the recording) are reported once each in `warnings`, and
/// their frames keep only module and offset.
public final class Symbolizer {
    /// One line per module that could not be symbolized, naming its path.
    public private(set) var warnings: [String] = []
    /// Whether function names are demangled (C++, Swift, Rust) or shown as
    /// the symbol table has them.
    public let demangles: Bool

    private var files: [ModuleIdentity: DwarfFile?] = [:]
    private var frames: [FrameIdentity: [Frame]] = [:]
    private var warnedPaths: Set<String> = []

    public init(demangles: Bool = true) {
        self.demangles = demangles
    }

    /// The frames of a runtime address, given the modules of its snapshot.
    public func symbolize(address: UInt64, modules: [Module]) -> [Frame] {
        symbolize(address: address, map: AddressMap(modules: modules), modules: modules)
    }

    func symbolize(address: UInt64, map: AddressMap, modules: [Module]) -> [Frame] {
        guard let index = map.moduleIndex(containing: address), modules.indices.contains(index) else {
            return [Frame(module: "", offset: address)]
        }
        let module = modules[index]
        return symbolize(offset: module.fileRelative(address), in: module)
    }

    /// The frames of a file-relative return address in `module`, innermost first.
    public func symbolize(offset: UInt64, in module: Module) -> [Frame] {
        let identity = FrameIdentity(module: ModuleIdentity(module), offset: offset)
        if let known = frames[identity] { return known }

        var result = [Frame(module: module.path, offset: offset)]
        if let file = dwarfFile(for: module) {
            // A return address points after the call; the call itself is one byte before.
            result = file.locate(fileAddress: offset &- 1).map { location in
                Frame(module: module.path, offset: offset, function: location.function.map(displayName),
                      file: location.file, line: location.line, inlined: location.inlined)
            }
        }
        frames[identity] = result
        return result
    }

    /// Makes `offset` in `module` symbolize to `frames` without reading any
    /// file, as if it had been looked up: for tests of what follows lookup.
    func remember(_ frames: [Frame], offset: UInt64, in module: Module) {
        guard !frames.isEmpty else { return }  // a lookup always gives at least one frame
        self.frames[FrameIdentity(module: ModuleIdentity(module), offset: offset)] = frames
    }

    private func displayName(_ symbol: String) -> String {
        demangles ? Demangler.demangle(symbol) : symbol
    }

    /// The opened file for a module, or nil (with a warning the first time)
    /// when its frames must stay as offsets.
    private func dwarfFile(for module: Module) -> DwarfFile? {
        let identity = ModuleIdentity(module)
        if let known = files[identity] { return known }

        var opened: DwarfFile?
        if !Self.isKernelProvided(module.path) {
            do {
                let file = try DwarfFile(path: module.path)
                if file.buildID == module.buildID {
                    opened = file
                } else {
                    warn(about: module.path, "\(module.path): build-id differs from the one recorded (not the file the "
                        + "process loaded: rebuilt or upgraded since); frames shown as offsets")
                }
            } catch let error as DwarfFile.OpenError {
                warn(about: module.path, "\(module.path): cannot open (\(error.reason)); frames shown as offsets")
            } catch {
                warn(about: module.path, "\(module.path): cannot open (\(error)); frames shown as offsets")
            }
        }
        files[identity] = .some(opened)
        return opened
    }

    /// At most one warning per module path, even when two snapshots
    /// recorded it with different build-ids.
    private func warn(about path: String, _ message: String) {
        if warnedPaths.insert(path).inserted { warnings.append(message) }
    }

    /// The vDSO is mapped by the kernel and has no file to open; its frames
    /// are shown as offsets without a warning.
    static func isKernelProvided(_ path: String) -> Bool {
        path.isEmpty || path.hasPrefix("linux-vdso") || path.hasPrefix("linux-gate") || path == "[vdso]"
    }
}

/// A module file as recorded: the same path with another build-id is another file.
struct ModuleIdentity: Hashable {
    var path: String
    var buildID: [UInt8]

    init(_ module: Module) {
        path = module.path
        buildID = module.buildID
    }
}

private struct FrameIdentity: Hashable {
    var module: ModuleIdentity
    var offset: UInt64
}
