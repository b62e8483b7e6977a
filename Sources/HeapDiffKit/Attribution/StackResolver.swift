/// The frames of one snapshot's return addresses, symbolized on demand and
/// remembered per address together with the site rule's verdict on them.
///
/// Finding a trace's allocation site symbolizes its addresses innermost
/// first and stops at the site; addresses in library modules (libc,
/// libstdc++, the Swift runtime) are skipped without being symbolized while
/// the program's own code may still come.
final class StackResolver {
    /// A frame's place in a trace: which return address, and which of the
    /// frames it expands to (0 is the innermost inlined one).
    struct Position: Equatable {
        var address: Int
        var inline: Int
        /// The site is library code (no frame of the program's own code was
        /// found): its callers are counted from library code too.
        var inLibrary = false
    }

    /// A class: looked up for every address of every trace, it is then
    /// one reference counted, not two arrays.
    private final class Resolved {
        let frames: [Frame]
        let roles: [AllocationSiteRule.Role]
        /// The first frame of the program's own code, and of generated code.
        let own: Int?
        let generated: Int?

        init(frames: [Frame], roles: [AllocationSiteRule.Role]) {
            self.frames = frames
            self.roles = roles
            own = roles.firstIndex(of: .own)
            generated = roles.firstIndex(of: .generated)
        }
    }

    private let symbolizer: Symbolizer
    private let rule: AllocationSiteRule
    private let modules: [Module]
    private let map: AddressMap
    private let moduleRoles: [AllocationSiteRule.Role?]
    private var resolved: [UInt64: Resolved] = [:]
    private let python: PythonFrameDecoder
    /// Python frames resolved while their code object was not listed.
    private var withoutCode: [UInt64] = []
    /// The role of each code object's frames: all of one code object's
    /// frames have its file and name, and so one role (a Python service
    /// has thousands of frames per code object, and working a role out
    /// parses the name and matches every pattern).
    private var pythonRoles: [UInt32: AllocationSiteRule.Role] = [:]

    init(snapshot: Snapshot, symbolizer: Symbolizer, rule: AllocationSiteRule) {
        self.symbolizer = symbolizer
        self.rule = rule
        modules = snapshot.modules
        map = AddressMap(modules: snapshot.modules)
        moduleRoles = snapshot.modules.map { rule.role(modulePath: $0.path) }
        python = PythonFrameDecoder(python: snapshot.python)
    }

    /// More of the process's Python code objects, or longer listings of some
    /// (`PythonCode.isListing(ofSameCodeAs:)`), from a later snapshot of it
    /// (`SeriesGrouping`): the frames that named a code object not listed
    /// before are resolved again.
    func addPythonCodes(_ codes: [UInt32: PythonCode]) {
        python.add(codes)
        for address in withoutCode { resolved[address] = nil }
        withoutCode = []
    }

    /// The frames one return address expands to, innermost first; never empty.
    func frames(at address: UInt64) -> [Frame] {
        resolve(address).frames
    }

    /// Whether a stack's block belongs to a runtime's cache of freed objects
    /// (`RuntimeCaches`): its innermost frame allocated it for that cache.
    func isRuntimeCacheBlock<Addresses: RandomAccessCollection<UInt64>>(_ addresses: Addresses) -> Bool {
        guard let innermost = addresses.first else { return false }
        return frames(at: innermost).contains { frame in
            frame.function.map { RuntimeCaches.functions.matchAny(function: FunctionName($0)) } ?? false
        }
    }

    /// Every frame of a stack, inlined ones included, innermost first.
    /// (Stacks are `[UInt64]` or `TraceFrames`: indexed from 0.)
    func stack<Addresses: RandomAccessCollection<UInt64>>(_ addresses: Addresses) -> [Frame] where Addresses.Index == Int {
        addresses.flatMap(frames(at:))
    }

    /// The frame at `position` and the frames outward from it that are not
    /// plumbing: the frames a cumulative statistic counts. (Outward from a
    /// site in library code, library frames count and wrappers do not.)
    func siteAndCallers<Addresses: RandomAccessCollection<UInt64>>(_ addresses: Addresses, from position: Position) -> [Frame]
    where Addresses.Index == Int {
        var frames: [Frame] = []
        for index in addresses.indices where index >= position.address {
            let isSiteAddress = index == position.address
            guard isSiteAddress || !isSkipped(addresses[index], libraryToo: !position.inLibrary) else { continue }
            let resolved = resolve(addresses[index])
            for inline in resolved.frames.indices {
                let isSite = isSiteAddress && inline == position.inline
                let counts = resolved.roles[inline] == .own || resolved.roles[inline] == .generated || (position.inLibrary && resolved.roles[inline] == .library)
                if isSite || (counts && (!isSiteAddress || inline > position.inline)) {
                    frames.append(resolved.frames[inline])
                }
            }
        }
        return frames
    }

    /// The allocation site as `AllocationSiteRule` defines it; nil for an
    /// empty stack. The common case, a frame of the program's own code, is
    /// found symbolizing innermost first and skipping library modules unread.
    func site<Addresses: RandomAccessCollection<UInt64>>(of addresses: Addresses) -> (position: Position, frame: Frame)?
    where Addresses.Index == Int {
        guard let innermost = addresses.first else { return nil }
        var generated: (position: Position, frame: Frame)?
        for (index, address) in addresses.enumerated() where !isSkipped(address, libraryToo: true) {
            let resolved = resolve(address)
            if let inline = resolved.own {
                return (Position(address: index, inline: inline), resolved.frames[inline])
            }
            if generated == nil, let inline = resolved.generated {
                generated = (Position(address: index, inline: inline), resolved.frames[inline])
            }
        }
        if let generated { return generated }
        // Under Python code with only library frames, the innermost Python frame.
        if let index = addresses.firstIndex(where: python.isPython) {
            return (Position(address: index, inline: 0), frames(at: addresses[index])[0])
        }
        // No own code: the program lives among the libraries (cc1 under
        // /usr/lib/gcc, libruby, libjvm, dovecot's imap).
        var choice = LibrarySiteChoice<(position: Position, frame: Frame)>(rule: rule)
        for (index, address) in addresses.enumerated() where !isSkipped(address, libraryToo: false) {
            let resolved = resolve(address)
            for inline in resolved.frames.indices {
                let frame = resolved.frames[inline]
                let here = (Position(address: index, inline: inline, inLibrary: true), frame)
                if let site = choice.offer(frame, role: resolved.roles[inline], at: here) { return site }
            }
        }
        return choice.fallback ?? (Position(address: 0, inline: 0), frames(at: innermost)[0])
    }

    /// Whether every frame at this address is skipped: a wrapper module, or
    /// (with libraryToo) a library module.
    private func isSkipped(_ address: UInt64, libraryToo: Bool) -> Bool {
        guard let index = map.moduleIndex(containing: address), moduleRoles.indices.contains(index),
              let role = moduleRoles[index] else {
            return false
        }
        return role == .wrapper || (libraryToo && role == .library)
    }

    private func resolve(_ address: UInt64) -> Resolved {
        if let known = resolved[address] { return known }
        let result: Resolved
        if python.isPython(address) {
            let frame = python.frame(for: address)
            let role: AllocationSiteRule.Role
            if python.hasCode(at: address) {
                let id = PythonFrameAddress.codeID(address)
                role = pythonRoles[id] ?? rule.role(of: frame)
                pythonRoles[id] = role
            } else {
                withoutCode.append(address)
                role = rule.role(of: frame)
            }
            result = Resolved(frames: [frame], roles: [role])
        } else {
            var frames = symbolizer.symbolize(address: address, map: map, modules: modules)
            if frames.isEmpty { frames = [Frame(module: "", offset: address)] }
            result = Resolved(frames: frames, roles: frames.map(rule.role(of:)))
        }
        resolved[address] = result
        return result
    }
}
