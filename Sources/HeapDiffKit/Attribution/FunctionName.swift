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

    static func qualifiedName(of name: String) -> String {
        let stripped = stripArgumentsAndParameters(name)
        // A top-level space separates a return type or a Swift prefix from the
        // name, except after `operator` (`operator new`, `operator bool`).
        var tokens = splitAtTopLevelSpaces(stripped)
        guard var result = tokens.popLast() else { return name }
        if let previous = tokens.last, previous.hasSuffix("operator") {
            result = previous + " " + result
        }
        return result
    }

    /// The name up to its parameter list, without `<…>` argument lists;
    /// `(anonymous namespace)` and `{lambda(…)#1}` are kept as parts of it.
    private static func stripArgumentsAndParameters(_ name: String) -> String {
        let characters = Array(name)
        var result = ""
        var angleDepth = 0
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if angleDepth == 0, let symbol = operatorSymbol(in: characters, at: index) {
                result += "operator" + symbol
                index += "operator".count + symbol.count
                continue
            }
            switch character {
            case "<":
                angleDepth += 1
            case ">":
                angleDepth = max(0, angleDepth - 1)
            case _ where angleDepth > 0:
                break
            case "(":
                let anonymous = "(anonymous namespace)"
                guard String(characters[index...].prefix(anonymous.count)) == anonymous else {
                    return result.trimmingSpaces
                }
                result += anonymous
                index += anonymous.count
                continue
            case "{":
                let closing = characters[index...].firstIndex(of: "}") ?? characters.count - 1
                result += String(characters[index...closing])
                index = closing + 1
                continue
            default:
                result.append(character)
            }
            index += 1
        }
        return result.trimmingSpaces
    }

    /// The punctuation of an operator's name starting at `index` (`()`,
    /// `<<`, `->`, `[]`…), or nil when no `operator` keyword starts there.
    private static func operatorSymbol(in characters: [Character], at index: Int) -> String? {
        let keyword = Array("operator")
        guard characters[index...].starts(with: keyword) else { return nil }
        if index > 0, characters[index - 1].isLetter || characters[index - 1].isNumber || characters[index - 1] == "_" {
            return nil  // part of a longer identifier
        }
        let rest = characters[(index + keyword.count)...]
        if rest.starts(with: Array("()")) { return "()" }
        return String(rest.prefix { "+-*/%^&|~!=<>,[]".contains($0) })
    }

    private static func splitAtTopLevelSpaces(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var depth = 0  // inside (anonymous namespace) or {lambda(…)}
        for character in text {
            switch character {
            case "(", "{": depth += 1
            case ")", "}": depth = max(0, depth - 1)
            default: break
            }
            if character == " " && depth == 0 {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }
}
