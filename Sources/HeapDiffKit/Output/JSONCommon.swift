import Foundation

/// The version of every command's JSON (docs/JSON.md).
public enum JSONFormat {
    /// `format_version` of every command's JSON. Bumped on any change that
    /// could break a reader of the previous version (a key removed or
    /// renamed, a type or unit changed, a guarantee dropped); adding keys is
    /// not such a change. 2: check's and trend's documents joined the
    /// contract, their frames in the shape of top's and diff's.
    public static let version = 2
}

/// The one way every command's JSON shows a frame (docs/JSON.md, "Frame"):
/// `top` and `diff` (`JSONReport`, written by hand), `check` and `trend`
/// (`CheckReport`, `TrendReport`, with JSONEncoder) all take their keys from
/// `fields`, so a consumer reads a traceback frame, a statistic's site, a
/// leak check's finding and a trend's site with the same code.
struct JSONFrame: Encodable {
    enum Value {
        case string(String?)
        case integer(Int?)
        case unsigned(UInt64)
        case flag(Bool)
    }

    var frame: Frame

    init(_ frame: Frame) {
        self.frame = frame
    }

    /// The frame's keys and values in the documented order; a value not
    /// known is null, never a missing key. `python` only on Python frames.
    static func fields(_ frame: Frame) -> [(key: String, value: Value)] {
        var fields: [(key: String, value: Value)] = [
            ("file", .string(frame.file)), ("line", .integer(frame.line)), ("function", .string(frame.function)),
            ("module", .string(frame.module)), ("offset", .unsigned(frame.offset)), ("inlined", .flag(frame.inlined)),
        ]
        if frame.isPython { fields.append(("python", .flag(true))) }
        return fields
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (name, value) in Self.fields(frame) {
            let key = Key(stringValue: name)
            switch value {
            case .string(let text?): try container.encode(text, forKey: key)
            case .integer(let number?): try container.encode(number, forKey: key)
            case .string(nil), .integer(nil): try container.encodeNil(forKey: key)
            case .unsigned(let number): try container.encode(number, forKey: key)
            case .flag(let flag): try container.encode(flag, forKey: key)
            }
        }
    }
}

/// An object that is named after a frame: the frame's keys, then the
/// object's own, in one JSON object (a finding of `check`, a site of `trend`,
/// as a statistic of `top` and `diff`).
struct JSONSited<Fields: Encodable>: Encodable {
    var site: Frame
    var fields: Fields

    func encode(to encoder: Encoder) throws {
        try JSONFrame(site).encode(to: encoder)
        try fields.encode(to: encoder)
    }
}

/// A value that is null when absent, never a missing key (JSONEncoder leaves
/// out a nil optional).
struct JSONNullable<Value: Encodable>: Encodable {
    var value: Value?

    init(_ value: Value?) {
        self.value = value
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// A command's whole JSON document: `format_version` and `command`, then
/// the command's own keys; keys sorted, pretty-printed, as check and trend
/// print it.
struct JSONDocument<Fields: Encodable>: Encodable {
    var command: String
    var fields: Fields

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: JSONFrame.Key.self)
        try container.encode(JSONFormat.version, forKey: .init(stringValue: "format_version"))
        try container.encode(command, forKey: .init(stringValue: "command"))
        try fields.encode(to: encoder)
    }

    func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
