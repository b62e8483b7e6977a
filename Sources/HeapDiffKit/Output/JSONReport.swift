/// Renders statistics as one JSON document for programs; the format is
/// specified in docs/JSON.md and versioned by `format_version`.
///
/// Written by hand rather than with JSONEncoder so that keys come in the
/// documented order, frames take one line each, and large reports stay fast.
/// Every documented key is always present (null when unknown), so the output
/// of two runs can also be compared as text.
public enum JSONReport {
    /// `total` defaults to the whole traced heap; pass the filtered one when
    /// the statistics were filtered.
    public static func top(_ statistics: [Statistic], snapshot: Snapshot, keyType: KeyType,
                           total heapTotal: HeapTotal? = nil) -> String {
        var json = JSONWriter()
        json.beginObject()
        header(&json, command: "top", keyType: keyType, sampled: snapshot.isSampled)
        json.key("snapshot"); describe(snapshot, in: &json)
        json.key("total"); total(heapTotal ?? snapshot.total, in: &json)
        json.key("statistics")
        json.beginArray(empty: statistics.isEmpty)
        for statistic in statistics {
            row(&json, site: statistic.site, size: statistic.size, sizeDiff: nil,
                count: statistic.count, countDiff: nil, traceback: statistic.traceback,
                standardErrors: (statistic.sizeStandardError, nil))
        }
        json.endArray()
        json.endObject()
        return json.text
    }

    public static func diff(_ diffs: [StatisticDiff], old: Snapshot, new: Snapshot, keyType: KeyType,
                            total heapTotal: HeapTotal? = nil) -> String {
        var json = JSONWriter()
        json.beginObject()
        header(&json, command: "diff", keyType: keyType, sampled: old.isSampled || new.isSampled)
        json.key("old"); describe(old, in: &json)
        json.key("new"); describe(new, in: &json)
        json.key("total"); total(heapTotal ?? new.total(comparedTo: old), in: &json)
        json.key("statistics")
        json.beginArray(empty: diffs.isEmpty)
        for diff in diffs {
            row(&json, site: diff.site, size: diff.size, sizeDiff: diff.sizeDiff,
                count: diff.count, countDiff: diff.countDiff, traceback: diff.traceback,
                standardErrors: (diff.sizeStandardError, diff.sizeDiffStandardError))
        }
        json.endArray()
        json.endObject()
        return json.text
    }

    // MARK: - Parts

    private static func header(_ json: inout JSONWriter, command: String, keyType: KeyType, sampled: Bool) {
        json.key("format_version"); json.value(JSONFormat.version)
        json.key("command"); json.value(command)
        json.key("key_type"); json.value(keyType.rawValue)
        json.key("sampled"); json.value(sampled)
    }

    /// A standard error in whole bytes, as every number here is an integer.
    private static func bytes(_ standardError: Double) -> Int64 {
        Int64(exactly: standardError.rounded()) ?? .max
    }

    private static func describe(_ snapshot: Snapshot, in json: inout JSONWriter) {
        let process = snapshot.process
        json.beginInlineObject()
        json.key("path"); json.value(snapshot.path)
        json.key("program"); json.value(process.program)
        json.key("pid"); json.value(process.pid)
        json.key("seq"); json.value(process.seq)
        json.key("label"); json.value(process.label)
        json.key("trigger"); json.value(process.trigger.description)
        json.key("wall_time_ns"); json.value(process.wallTimeNs)
        json.key("sample_rate"); json.value(process.sampleRate)
        json.endInlineObject()
    }

    private static func total(_ total: HeapTotal, in json: inout JSONWriter) {
        json.beginInlineObject()
        json.key("size"); json.value(total.size)
        if let sizeDiff = total.sizeDiff { json.key("size_diff"); json.value(sizeDiff) }
        json.key("count"); json.value(total.count)
        if let countDiff = total.countDiff { json.key("count_diff"); json.value(countDiff) }
        json.key("size_stderr"); json.value(bytes(total.sizeStandardError))
        if total.sizeDiff != nil { json.key("size_diff_stderr"); json.value(bytes(total.sizeDiffStandardError)) }
        json.endInlineObject()
    }

    private static func row(_ json: inout JSONWriter, site: Frame, size: Int64, sizeDiff: Int64?,
                            count: Int64, countDiff: Int64?, traceback: [Frame],
                            standardErrors: (size: Double, sizeDiff: Double?)) {
        json.beginObject()
        json.key("size"); json.value(size)
        if let sizeDiff { json.key("size_diff"); json.value(sizeDiff) }
        json.key("count"); json.value(count)
        if let countDiff { json.key("count_diff"); json.value(countDiff) }
        json.key("size_stderr"); json.value(bytes(standardErrors.size))
        if let sizeDiff = standardErrors.sizeDiff { json.key("size_diff_stderr"); json.value(bytes(sizeDiff)) }
        frameFields(site, in: &json)
        json.key("traceback")
        json.beginArray(empty: traceback.isEmpty)
        for frame in traceback {
            json.beginInlineObject()
            frameFields(frame, in: &json)
            json.endInlineObject()
        }
        json.endArray()
        json.endObject()
    }

    private static func frameFields(_ frame: Frame, in json: inout JSONWriter) {
        for (key, value) in JSONFrame.fields(frame) {
            json.key(key)
            switch value {
            case .string(let text): json.value(text)
            case .integer(let number): json.value(number)
            case .unsigned(let number): json.value(number)
            case .flag(let flag): json.value(flag)
            }
        }
    }
}

/// Appends pretty-printed JSON (RFC 8259) to a string: two-space indents,
/// one key per line, except "inline" objects, which take a single line.
struct JSONWriter {
    private(set) var text = ""
    private var depth = 0
    /// Per open container: nothing written in it yet.
    private var isFirst: [Bool] = []
    private var inline: [Bool] = []

    mutating func beginObject() {
        openValue()
        text += "{"
        push(inline: false)
    }

    mutating func endObject() {
        close("}")
    }

    /// `{"a": 1, "b": 2}` on one line.
    mutating func beginInlineObject() {
        openValue()
        text += "{"
        push(inline: true)
    }

    mutating func endInlineObject() {
        close("}")
    }

    /// An empty array is written as `[]`.
    mutating func beginArray(empty: Bool) {
        openValue()
        text += "["
        push(inline: empty)
    }

    mutating func endArray() {
        close("]")
    }

    mutating func key(_ name: String) {
        separate()
        appendString(name)
        text += ": "
        pendingKey = true
    }

    mutating func value(_ string: String?) {
        openValue()
        if let string { appendString(string) } else { text += "null" }
    }

    mutating func value<Number: BinaryInteger>(_ number: Number?) {
        openValue()
        text += number.map { "\($0)" } ?? "null"
    }

    mutating func value(_ flag: Bool) {
        openValue()
        text += flag ? "true" : "false"
    }

    // MARK: - Layout

    /// A value directly after its key continues the line; any other value
    /// (an array element, the document) starts its own.
    private var pendingKey = false

    private mutating func openValue() {
        if pendingKey {
            pendingKey = false
        } else if !isFirst.isEmpty {
            separate()
        }
    }

    private mutating func separate() {
        guard let first = isFirst.last else { return }
        if !first { text += "," }
        isFirst[isFirst.count - 1] = false
        if inline.last == true {
            if !first { text += " " }
        } else {
            newline(depth)
        }
    }

    private mutating func push(inline isInline: Bool) {
        depth += 1
        isFirst.append(true)
        inline.append(isInline || inline.last == true)
    }

    private mutating func close(_ bracket: String) {
        let wasEmpty = isFirst.removeLast()
        let wasInline = inline.removeLast()
        depth -= 1
        if !wasInline && !wasEmpty { newline(depth) }
        text += bracket
    }

    private mutating func newline(_ level: Int) {
        text += "\n"
        text += String(repeating: "  ", count: level)
    }

    private mutating func appendString(_ string: String) {
        text += "\""
        defer { text += "\"" }
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            text += string
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                text.unicodeScalars.append(scalar)
            }
        }
    }
}
