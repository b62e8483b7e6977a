/// Turns return addresses into functions, source files and lines, offline.
///
/// Create one per run of heapdiff and share it between snapshots: each
/// module file is opened once and each distinct (module, offset) is looked
/// up once, which is what makes comparing large snapshots affordable.
/// Modules that cannot be symbolized (file gone, or rebuilt since the
/// recording) are reported once each in `warnings`, and their frames keep
/// only module and offset.
public final class Symbolizer {
    /// One line per module that could not be symbolized, naming its path.
    public private(set) var warnings: [String] = []

    private var files: [ModuleIdentity: DwarfFile?] = [:]
    private var frames: [FrameIdentity: Frame] = [:]

    public init() {}

    /// The frame of a runtime address, given the modules of its snapshot.
    public func symbolize(address: UInt64, modules: [Module]) -> Frame {
        symbolize(address: address, map: AddressMap(modules: modules), modules: modules)
    }

    func symbolize(address: UInt64, map: AddressMap, modules: [Module]) -> Frame {
        guard let index = map.moduleIndex(containing: address), modules.indices.contains(index) else {
            return Frame(module: "", offset: address)
        }
        let module = modules[index]
        return symbolize(offset: module.fileRelative(address), in: module)
    }

    /// The frame of a file-relative return address in `module`.
    public func symbolize(offset: UInt64, in module: Module) -> Frame {
        let identity = FrameIdentity(module: ModuleIdentity(module), offset: offset)
        if let known = frames[identity] { return known }

        var frame = Frame(module: module.path, offset: offset)
        if let file = dwarfFile(for: module) {
            // A return address points after the call; the call itself is one byte before.
            let location = file.locate(fileAddress: offset &- 1)
            frame.function = location.function
            frame.file = location.file
            frame.line = location.line
        }
        frames[identity] = frame
        return frame
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
                    warn("\(module.path): build-id differs from the one recorded; frames shown as offsets")
                }
            } catch let error as DwarfFile.OpenError {
                warn("\(module.path): cannot open (\(error.reason)); frames shown as offsets")
            } catch {
                warn("\(module.path): cannot open (\(error)); frames shown as offsets")
            }
        }
        files[identity] = .some(opened)
        return opened
    }

    private func warn(_ message: String) {
        if !warnings.contains(message) { warnings.append(message) }
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
