/// A function's name in the two forms that function globs are matched
/// against: the full demangled name, and its *qualified name*.
///
/// The qualified name drops what makes demangled names hard to match with a
/// wildcard: template and generic arguments, the parameter list and anything
/// after it (`const`, Swift's `-> Result`), a leading return type, and a
/// Swift `… specialization <…> of ` prefix. So
/// `void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(…)`
/// is also `std::vector::_M_realloc_insert`, and
/// `generic specialization <Swift.Int> of Swift.Array.init(repeating: A, count: Swift.Int) -> [A]`
/// is also `Swift.Array.init`.
public struct FunctionName: Equatable, Sendable {
    public let demangled: String
    public let qualified: String

    /// `name` as a frame shows it, demangled first if it is still mangled
    /// (as with `--raw-symbols`).
    public init(_ name: String) {
        demangled = Demangler.isMangled(name) ? Demangler.demangle(name) : name
        qualified = Self.qualifiedName(of: demangled)
    }

    /// Worked on UTF-8 bytes: every delimiter is ASCII, which never occurs
    /// inside a multi-byte character, and a Swift program's demangled names
    /// run to hundreds of characters (as `Character`s this was a third of
    /// `heapdiff check`'s time on a swift-nio test).
    static func qualifiedName(of name: String) -> String {
        let stripped = stripArgumentsAndParameters(Array(name.utf8))
        // A top-level space separates a return type or a Swift prefix from the
        // name, except after `operator` (`operator new`, `operator bool`).
        var tokens = splitAtTopLevelSpaces(stripped)
        guard var result = tokens.popLast() else { return name }
        if let previous = tokens.last, previous.ends(with: operatorKeyword) {
            result = previous + [UInt8(ascii: " ")] + result
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static let operatorKeyword = Array("operator".utf8)
    private static let anonymousNamespace = Array("(anonymous namespace)".utf8)

    /// The name up to its parameter list, without `<…>` argument lists;
    /// `(anonymous namespace)` and `{lambda(…)#1}` are kept as parts of it.
    private static func stripArgumentsAndParameters(_ name: [UInt8]) -> ArraySlice<UInt8> {
        var result: [UInt8] = []
        result.reserveCapacity(name.count)
        var angleDepth = 0
        var index = 0
        while index < name.count {
            let byte = name[index]
            if angleDepth == 0, byte == UInt8(ascii: "o"), let symbol = operatorSymbol(in: name, at: index) {
                result += operatorKeyword
                result += symbol
                index += operatorKeyword.count + symbol.count
                continue
            }
            switch byte {
            case UInt8(ascii: "<"):
                angleDepth += 1
            case UInt8(ascii: ">"):
                angleDepth = max(0, angleDepth - 1)
            case _ where angleDepth > 0:
                break
            case UInt8(ascii: "("):
                guard name[index...].starts(with: anonymousNamespace) else { return trimmingSpaces(result) }
                result += anonymousNamespace
                index += anonymousNamespace.count
                continue
            case UInt8(ascii: "{"):
                let closing = name[index...].firstIndex(of: UInt8(ascii: "}")) ?? name.count - 1
                result += name[index...closing]
                index = closing + 1
                continue
            default:
                result.append(byte)
            }
            index += 1
        }
        return trimmingSpaces(result)
    }

    private static func trimmingSpaces(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        let space = UInt8(ascii: " ")
        guard let first = bytes.firstIndex(where: { $0 != space }),
              let last = bytes.lastIndex(where: { $0 != space }) else { return [] }
        return bytes[first...last]
    }

    /// The punctuation of an operator's name starting at `index` (`()`,
    /// `<<`, `->`, `[]`…), or nil when no `operator` keyword starts there.
    private static func operatorSymbol(in name: [UInt8], at index: Int) -> ArraySlice<UInt8>? {
        guard name[index...].starts(with: operatorKeyword) else { return nil }
        if index > 0, isIdentifierByte(name[index - 1]) {
            return nil  // part of a longer identifier
        }
        let rest = name[(index + operatorKeyword.count)...]
        if rest.starts(with: Array("()".utf8)) { return rest.prefix(2) }
        return rest.prefix { operatorPunctuation.contains($0) }
    }

    private static let operatorPunctuation = Set("+-*/%^&|~!=<>,[]".utf8)

    /// A letter, digit or `_`; any byte of a multi-byte character counts too
    /// (Swift identifiers may be written in any script).
    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), 0x80...:
            return true
        default:
            return false
        }
    }

    private static func splitAtTopLevelSpaces(_ text: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var tokens: [ArraySlice<UInt8>] = []
        var start = text.startIndex
        var depth = 0  // inside (anonymous namespace) or {lambda(…)}
        for index in text.indices {
            switch text[index] {
            case UInt8(ascii: "("), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            case UInt8(ascii: " ") where depth == 0:
                if index > start { tokens.append(text[start..<index]) }
                start = index + 1
            default: break
            }
        }
        if text.endIndex > start { tokens.append(text[start..<text.endIndex]) }
        return tokens
    }
}

extension ArraySlice where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self.suffix(suffix.count).elementsEqual(suffix)
    }
}
