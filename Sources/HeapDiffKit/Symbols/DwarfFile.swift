import CLibdw
import Glibc

/// One ELF file opened with elfutils' libdwfl for offline lookups.
///
/// Each file gets its own `Dwfl` session so that it can be placed at bias 0
/// and looked up with the file-relative addresses the snapshot provides,
/// whatever address the process had mapped it at.
final class DwarfFile {
    /// What libdw found out about one level of a file-relative address:
    /// the function the code belongs to and the source line being executed
    /// in it. Names are as stored (mangled for C++ and Swift).
    struct Location: Equatable {
        var function: String?
        var file: String?
        var line: Int?
        var inlined = false
    }

    struct OpenError: Error {
        var reason: String
    }

    private let session: OpaquePointer
    private let module: OpaquePointer
    /// `dwfl_begin` keeps a pointer to its callbacks: they must outlive the session.
    private let callbacks: UnsafeMutablePointer<Dwfl_Callbacks>
    /// Added to a file address to get the address libdwfl expects.
    private let bias: Dwarf_Addr
    /// The file's GNU build-id, empty when it has none.
    let buildID: [UInt8]
    /// Built on the first address libdwfl cannot place in a unit.
    private lazy var unitIndex = CompileUnitIndex(module: module)
    /// Built on the first address that needs a symbol's name.
    private lazy var symbols = SymbolTable(module: module)

    init(path: String) throws {
        guard access(path, R_OK) == 0 else {
            throw OpenError(reason: String(cString: strerror(errno)))
        }
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(to: Dwfl_Callbacks(
            find_elf: dwfl_build_id_find_elf,
            find_debuginfo: dwfl_standard_find_debuginfo,
            section_address: dwfl_offline_section_address,
            debuginfo_path: nil
        ))
        guard let session = dwfl_begin(callbacks) else {
            callbacks.deallocate()
            throw OpenError(reason: Self.lastError())
        }
        // Base 0 with add_p_vaddr: a shared object or PIE keeps its link-time
        // addresses, as a non-PIE executable always does.
        dwfl_report_begin(session)
        let reported = dwfl_report_elf(session, baseName(of: path), path, -1, 0, true)
        dwfl_report_end(session, nil, nil)
        guard let module = reported else {
            let reason = Self.lastError()
            dwfl_end(session)
            callbacks.deallocate()
            throw OpenError(reason: reason)
        }
        var bias: Dwarf_Addr = 0
        guard dwfl_module_getelf(module, &bias) != nil else {
            let reason = Self.lastError()
            dwfl_end(session)
            callbacks.deallocate()
            throw OpenError(reason: reason)
        }
        self.session = session
        self.module = module
        self.bias = bias
        self.buildID = Self.buildID(of: module)
    }

    deinit {
        dwfl_end(session)
        callbacks.deallocate()
    }

    /// The source locations of the instruction at `fileAddress`, innermost
    /// first: one per inlined call it is part of, then the real function.
    /// The innermost line comes from the line table; each outer level's is
    /// the call site recorded on the inlined subroutine below it.
    func locate(fileAddress: UInt64) -> [Location] {
        let address = fileAddress &+ bias
        guard let unit = compileUnit(at: address) else { return [Location(function: symbolName(at: address))] }
        let unitAddress = address &- unit.bias
        var (file, line) = Self.sourceLine(in: unit.die, at: unitAddress)
        var locations: [Location] = []
        for scope in InlineScopes(unit: unit.die, address: unitAddress).functions {
            let inlined = scope.callSite != nil
            // The symbol covers clones (`f.constprop.0`) and code without debug info.
            let name = inlined ? scope.name : scope.name ?? symbolName(at: address)
            locations.append(Location(function: name, file: file, line: line, inlined: inlined))
            if let callSite = scope.callSite { (file, line) = callSite }
        }
        if locations.last?.inlined ?? true {
            // No enclosing subprogram was found: the symbol stands for it.
            locations.append(Location(function: symbolName(at: address), file: file, line: line))
        }
        // Every file here is named in this unit's tables, so relative to its directory.
        let directory = Self.compilationDirectory(of: unit.die)
        for index in locations.indices {
            if let name = locations[index].file {
                locations[index].file = SourcePath.resolve(name, compilationDirectory: directory)
            }
        }
        return locations
    }

    private static func compilationDirectory(of unit: UnsafeMutablePointer<Dwarf_Die>) -> String? {
        var attribute = Dwarf_Attribute()
        guard dwarf_attr(unit, UInt32(DW_AT_comp_dir), &attribute) != nil,
              let directory = dwarf_formstring(&attribute) else { return nil }
        return String(cString: directory)
    }

    private func compileUnit(at address: Dwarf_Addr) -> CompileUnitIndex.Unit? {
        var unitBias: Dwarf_Addr = 0
        if let die = dwfl_module_addrdie(module, address, &unitBias) {
            return CompileUnitIndex.Unit(die: die, bias: unitBias)
        }
        return unitIndex.unit(containing: address)
    }

    /// The line table's file and line for a unit-relative address; line 0
    /// (code the compiler made up) counts as unknown.
    private static func sourceLine(in unit: UnsafeMutablePointer<Dwarf_Die>,
                                   at address: Dwarf_Addr) -> (file: String?, line: Int?) {
        guard let line = dwarf_getsrc_die(unit, address) else { return (nil, nil) }
        var number: Int32 = 0
        let file = dwarf_linesrc(line, nil, nil).map { String(cString: $0) }
        guard dwarf_lineno(line, &number) == 0, number > 0 else { return (file, nil) }
        return (file, Int(number))
    }

    func symbolName(at address: Dwarf_Addr) -> String? {
        guard let name = symbols.name(at: address) else { return nil }
        // Drop a symbol version (`__libc_start_main@@GLIBC_2.34`): it is not
        // part of the function's name, and no mangled name contains '@'.
        return String(String(cString: name).prefix { $0 != "@" })
    }

    /// libdwfl's own answer, which `SymbolTable` reproduces (tests compare them).
    func libdwflSymbolName(at address: Dwarf_Addr) -> String? {
        var offset: GElf_Off = 0
        var symbol = GElf_Sym()
        var sectionIndex: GElf_Word = 0
        var elf: OpaquePointer?
        var symbolBias: Dwarf_Addr = 0
        guard let name = dwfl_module_addrinfo(module, address, &offset, &symbol, &sectionIndex, &elf, &symbolBias)
        else { return nil }
        return String(String(cString: name).prefix { $0 != "@" })
    }

    /// The addresses libdwfl places the module's symbols at, for tests.
    func symbolAddresses() -> [Dwarf_Addr] {
        let count = dwfl_module_getsymtab(module)
        return (1..<max(1, count)).compactMap { index in
            var symbol = GElf_Sym()
            var address: GElf_Addr = 0
            var section: GElf_Word = 0
            guard dwfl_module_getsym_info(module, index, &symbol, &address, &section, nil, nil) != nil,
                  section != UInt32(SHN_UNDEF), Int32(symbol.st_info & 0xf) == STT_FUNC else { return nil }
            return address
        }
    }

    private static func buildID(of module: OpaquePointer) -> [UInt8] {
        var bits: UnsafePointer<UInt8>?
        var address: GElf_Addr = 0
        let length = dwfl_module_build_id(module, &bits, &address)
        guard length > 0, let bits else { return [] }
        return Array(UnsafeBufferPointer(start: bits, count: Int(length)))
    }

    private static func lastError() -> String {
        dwfl_errmsg(-1).map { String(cString: $0) } ?? "unknown libdwfl error"
    }
}
