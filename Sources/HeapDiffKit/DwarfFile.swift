import CLibdw
import Glibc

/// One ELF file opened with elfutils' libdwfl for offline lookups.
///
/// Each file gets its own `Dwfl` session so that it can be placed at bias 0
/// and looked up with the file-relative addresses the snapshot provides,
/// whatever address the process had mapped it at.
final class DwarfFile {
    /// What libdw found out about a file-relative address.
    struct Location {
        var function: String?
        var file: String?
        var line: Int?
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

    /// Function, source file and line of the instruction at `fileAddress`.
    func locate(fileAddress: UInt64) -> Location {
        let address = fileAddress &+ bias
        var location = Location(function: symbolName(at: address))
        if let inlined = inlinedFunctionName(at: address) {
            // The symbol names the function the code was inlined into, but the
            // line belongs to the inlined one: name that one so both agree.
            location.function = inlined
        }
        if let line = dwfl_module_getsrc(module, address) {
            var number: Int32 = 0
            var column: Int32 = 0
            var lineAddress: Dwarf_Addr = 0
            if let file = dwfl_lineinfo(line, &lineAddress, &number, &column, nil, nil) {
                location.file = String(cString: file)
                location.line = number > 0 ? Int(number) : nil
            }
        }
        return location
    }

    private func symbolName(at address: Dwarf_Addr) -> String? {
        var offset: GElf_Off = 0
        var symbol = GElf_Sym()
        var sectionIndex: GElf_Word = 0
        var elf: OpaquePointer?
        var symbolBias: Dwarf_Addr = 0
        guard let name = dwfl_module_addrinfo(module, address, &offset, &symbol, &sectionIndex, &elf, &symbolBias)
        else { return nil }
        // Drop a symbol version (`__libc_start_main@@GLIBC_2.34`): it is not
        // part of the function's name, and no mangled name contains '@'.
        return String(String(cString: name).prefix { $0 != "@" })
    }

    private func inlinedFunctionName(at address: Dwarf_Addr) -> String? {
        var dieBias: Dwarf_Addr = 0
        guard let unit = dwfl_module_addrdie(module, address, &dieBias) else { return nil }
        var scopes: UnsafeMutablePointer<Dwarf_Die>?
        let count = dwarf_getscopes(unit, address &- dieBias, &scopes)
        defer { free(scopes) }
        guard count > 0, let scopes else { return nil }
        for index in 0..<Int(count) {
            switch dwarf_tag(scopes + index) {
            case Int32(DW_TAG_inlined_subroutine):
                return dwarf_diename(scopes + index).map { String(cString: $0) }
            case Int32(DW_TAG_subprogram):
                return nil  // not inlined: the symbol name is the right one
            default:
                continue
            }
        }
        return nil
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
