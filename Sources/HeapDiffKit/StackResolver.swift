/// The frames of one snapshot's return addresses, symbolized on demand and
/// remembered per address together with the site rule's verdict on them.
///
/// Finding a trace's allocation site symbolizes its addresses innermost
/// first and stops at the site; addresses in plumbing modules (libc,
/// libstdc++, the Swift runtime) are skipped without being symbolized.
final class StackResolver {
    /// A frame's place in a trace: which return address, and which of the
    /// frames it expands to (0 is the innermost inlined one).
    struct Position: Equatable {
        var address: Int
        var inline: Int
    }

    private struct Resolved {
        var frames: [Frame]
        var plumbing: [Bool]
        var generated: [Bool]
    }

    private let symbolizer: Symbolizer
    private let rule: AllocationSiteRule
    private let modules: [Module]
    private let map: AddressMap
    private let plumbingModules: [Bool]
    private var resolved: [UInt64: Resolved] = [:]
    private let python: PythonFrameDecoder
    private let hasPython: Bool

    init(snapshot: Snapshot, symbolizer: Symbolizer, rule: AllocationSiteRule) {
        self.symbolizer = symbolizer
        self.rule = rule
        modules = snapshot.modules
        map = AddressMap(modules: snapshot.modules)
        plumbingModules = snapshot.modules.map { rule.isPlumbing(modulePath: $0.path) }
        python = PythonFrameDecoder(python: snapshot.python)
        hasPython = snapshot.python != nil
    }

    /// The frames one return address expands to, innermost first; never empty.
    func frames(at address: UInt64) -> [Frame] {
        resolve(address).frames
    }

    /// Every frame of a stack, inlined ones included, innermost first.
    /// (Stacks are `[UInt64]` or `TraceFrames`: indexed from 0.)
    func stack<Addresses: RandomAccessCollection<UInt64>>(_ addresses: Addresses) -> [Frame] where Addresses.Index == Int {
        addresses.flatMap(frames(at:))
    }

    /// The frame at `position` and the frames outward from it that are not
    /// plumbing: the frames a cumulative statistic counts.
    func siteAndCallers<Addresses: RandomAccessCollection<UInt64>>(_ addresses: Addresses, from position: Position) -> [Frame]
    where Addresses.Index == Int {
        var frames: [Frame] = []
        for index in addresses.indices where index >= position.address {
            let isSiteAddress = index == position.address
            guard isSiteAddress || !isInPlumbingModule(addresses[index]) else { continue }
            let resolved = resolve(addresses[index])
            for inline in resolved.frames.indices {
                let isSite = isSiteAddress && inline == position.inline
                if isSite || (!resolved.plumbing[inline] && (!isSiteAddress || inline > position.inline)) {
                    frames.append(resolved.frames[inline])
                }
            }
        }
        return frames
    }

    /// The allocation site: the first frame that is not plumbing (generated
    /// Python code only when nothing else is), or the innermost frame when
    /// all are; nil for an empty stack.
    func site<Addresses: RandomAccessCollection<UInt64>>(of addresses: Addresses) -> (position: Position, frame: Frame)?
    where Addresses.Index == Int {
        guard let innermost = addresses.first else { return nil }
        var generated: (position: Position, frame: Frame)?
        for (index, address) in addresses.enumerated() where !isInPlumbingModule(address) {
            let resolved = resolve(address)
            for inline in resolved.frames.indices where !resolved.plumbing[inline] {
                let site = (position: Position(address: index, inline: inline), frame: resolved.frames[inline])
                guard resolved.generated[inline] else { return site }
                generated = generated ?? site
            }
        }
        if let generated { return generated }
        // Under Python code with only library frames, the innermost Python frame.
        if hasPython, let index = addresses.firstIndex(where: PythonFrameAddress.isPython) {
            return (Position(address: index, inline: 0), frames(at: addresses[index])[0])
        }
        return (Position(address: 0, inline: 0), frames(at: innermost)[0])
    }

    private func isInPlumbingModule(_ address: UInt64) -> Bool {
        guard let index = map.moduleIndex(containing: address), plumbingModules.indices.contains(index) else {
            return false
        }
        return plumbingModules[index]
    }

    private func resolve(_ address: UInt64) -> Resolved {
        if let known = resolved[address] { return known }
        var frames = PythonFrameAddress.isPython(address) && hasPython
            ? [python.frame(for: address)] : symbolizer.symbolize(address: address, map: map, modules: modules)
        if frames.isEmpty { frames = [Frame(module: "", offset: address)] }
        let result = Resolved(frames: frames, plumbing: frames.map(rule.isPlumbing), generated: frames.map(rule.isGenerated))
        resolved[address] = result
        return result
    }
}
