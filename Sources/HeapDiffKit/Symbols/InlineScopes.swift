import CLibdw
import Glibc

/// The function-level DWARF scopes around an address, innermost first: each
/// `DW_TAG_inlined_subroutine` the code was inlined through, then the
/// `DW_TAG_subprogram` they were all inlined into. Done as elfutils'
/// `eu-addr2line -i` does it: `dwarf_getscopes` finds the innermost scope,
/// `dwarf_getscopes_die` walks out from it through the concrete (physical)
/// nesting, which is the chain of inlined calls.
struct InlineScopes {
    struct Function {
        /// The linkage (mangled) name when there is one, else the plain name.
        var name: String?
        /// For an inlined subroutine, where it was called from in the next
        /// scope out (`DW_AT_call_file`, `DW_AT_call_line`); nil for the subprogram.
        var callSite: (file: String?, line: Int?)?
    }

    private(set) var functions: [Function] = []

    /// The scopes at `address` (a DWARF address) in the compile unit `unit`.
    init(unit: UnsafeMutablePointer<Dwarf_Die>, address: Dwarf_Addr) {
        guard var innermost = Self.innermostScope(in: unit, at: address) else { return }
        var chain: UnsafeMutablePointer<Dwarf_Die>?
        let depth = dwarf_getscopes_die(&innermost, &chain)
        defer { free(chain) }
        guard depth > 0, let chain else { return }
        var files: OpaquePointer?
        for index in 0..<Int(depth) {
            let die = chain + index
            switch dwarf_tag(die) {
            case Int32(DW_TAG_inlined_subroutine):
                if files == nil { files = Self.sourceFiles(of: die) }
                functions.append(Function(name: Self.name(of: die), callSite: Self.callSite(of: die, files: files)))
            case Int32(DW_TAG_subprogram):
                functions.append(Function(name: Self.name(of: die), callSite: nil))
                return
            default:
                continue  // lexical blocks and the like
            }
        }
    }

    private static func innermostScope(in unit: UnsafeMutablePointer<Dwarf_Die>, at address: Dwarf_Addr) -> Dwarf_Die? {
        var scopes: UnsafeMutablePointer<Dwarf_Die>?
        let count = dwarf_getscopes(unit, address, &scopes)
        defer { free(scopes) }
        if count > 0, let scopes, dwarf_tag(scopes) != Int32(DW_TAG_compile_unit) { return scopes.pointee }
        return searchInnermostScope(in: unit.pointee, at: address)
    }

    /// `dwarf_getscopes` does not look inside a `DW_TAG_module`, where swiftc
    /// puts every function: this search does, descending into DIEs whose
    /// addresses contain `address` and into containers that have none.
    private static func searchInnermostScope(in unit: Dwarf_Die, at address: Dwarf_Addr) -> Dwarf_Die? {
        let containers = [DW_TAG_module, DW_TAG_namespace, DW_TAG_class_type, DW_TAG_structure_type,
                          DW_TAG_union_type].map { Int32($0) }
        var innermost: Dwarf_Die?
        var pending = [unit]
        while var parent = pending.popLast() {
            var child = Dwarf_Die()
            var more = dwarf_child(&parent, &child) == 0
            while more {
                if dwarf_haspc(&child, address) == 1 {
                    // Ranges nest: the innermost scope is somewhere below this one.
                    innermost = child
                    pending = [child]
                    break
                }
                let hasAddresses = dwarf_hasattr(&child, UInt32(DW_AT_low_pc)) != 0
                    || dwarf_hasattr(&child, UInt32(DW_AT_ranges)) != 0
                if !hasAddresses && containers.contains(dwarf_tag(&child)) {
                    pending.append(child)
                }
                var next = Dwarf_Die()
                more = dwarf_siblingof(&child, &next) == 0
                child = next
            }
        }
        return innermost
    }

    private static func name(of die: UnsafeMutablePointer<Dwarf_Die>) -> String? {
        var attribute = Dwarf_Attribute()
        for linkage in [DW_AT_linkage_name, DW_AT_MIPS_linkage_name] {
            // `integrate` follows DW_AT_abstract_origin and DW_AT_specification.
            if dwarf_attr_integrate(die, UInt32(linkage), &attribute) != nil,
               let name = dwarf_formstring(&attribute) {
                return String(cString: name)
            }
        }
        return dwarf_diename(die).map { String(cString: $0) }
    }

    private static func callSite(of die: UnsafeMutablePointer<Dwarf_Die>,
                                 files: OpaquePointer?) -> (file: String?, line: Int?) {
        var attribute = Dwarf_Attribute()
        var value: Dwarf_Word = 0
        var file: String?
        if let files, dwarf_attr(die, UInt32(DW_AT_call_file), &attribute) != nil,
           dwarf_formudata(&attribute, &value) == 0, let index = Int(exactly: value),
           let name = dwarf_filesrc(files, index, nil, nil) {
            file = String(cString: name)
        }
        var line: Int?
        if dwarf_attr(die, UInt32(DW_AT_call_line), &attribute) != nil, dwarf_formudata(&attribute, &value) == 0,
           value > 0, value <= UInt64(Int32.max) {
            line = Int(value)
        }
        return (file, line)
    }

    /// The file table of the unit holding `die`, which call-file indexes refer to.
    private static func sourceFiles(of die: UnsafeMutablePointer<Dwarf_Die>) -> OpaquePointer? {
        var unit = Dwarf_Die()
        guard dwarf_diecu(die, &unit, nil, nil) != nil else { return nil }
        var files: OpaquePointer?
        var count = 0
        guard dwarf_getsrcfiles(&unit, &files, &count) == 0 else { return nil }
        return files
    }
}
