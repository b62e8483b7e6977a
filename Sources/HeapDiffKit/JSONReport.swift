import Foundation

/// Renders statistics as one JSON object for scripts:
///
///     {"old": …, "new": …, "key_type": "lineno", "total": {…}, "statistics": [{…}]}
///
/// Keys are sorted and every site field is always present (null when
/// unknown), so that the output of two runs can be compared as text.
/// `old` and the `*_diff` fields appear only for a comparison.
public enum JSONReport {
    public static func top(_ statistics: [Statistic], snapshot: Snapshot, keyType: KeyType) throws -> String {
        let document = Document(
            old: nil, new: snapshot.path, keyType: keyType.rawValue,
            total: Total(snapshot.total),
            statistics: statistics.map {
                Row(site: $0.site, size: $0.size, sizeDiff: nil, count: $0.count, countDiff: nil, traceback: $0.traceback)
            })
        return try encode(document)
    }

    public static func diff(_ diffs: [StatisticDiff], old: Snapshot, new: Snapshot, keyType: KeyType) throws -> String {
        let document = Document(
            old: old.path, new: new.path, keyType: keyType.rawValue,
            total: Total(new.total(comparedTo: old)),
            statistics: diffs.map {
                Row(site: $0.site, size: $0.size, sizeDiff: $0.sizeDiff, count: $0.count, countDiff: $0.countDiff,
                    traceback: $0.traceback)
            })
        return try encode(document)
    }

    private static func encode(_ document: Document) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    private struct Document: Encodable {
        var old: String?
        var new: String
        var keyType: String
        var total: Total
        var statistics: [Row]

        enum CodingKeys: String, CodingKey {
            case old, new, total, statistics
            case keyType = "key_type"
        }
    }

    private struct Total: Encodable {
        var size: Int64
        var sizeDiff: Int64?
        var count: Int64
        var countDiff: Int64?

        init(_ total: HeapTotal) {
            size = total.size
            sizeDiff = total.sizeDiff
            count = total.count
            countDiff = total.countDiff
        }

        enum CodingKeys: String, CodingKey {
            case size, count
            case sizeDiff = "size_diff"
            case countDiff = "count_diff"
        }
    }

    private struct Row: Encodable {
        var site: Frame
        var size: Int64
        var sizeDiff: Int64?
        var count: Int64
        var countDiff: Int64?
        var traceback: [Frame]

        enum CodingKeys: String, CodingKey {
            case size, count, file, line, function, module, traceback
            case sizeDiff = "size_diff"
            case countDiff = "count_diff"
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(size, forKey: .size)
            try container.encodeIfPresent(sizeDiff, forKey: .sizeDiff)
            try container.encode(count, forKey: .count)
            try container.encodeIfPresent(countDiff, forKey: .countDiff)
            try container.encode(site.file, forKey: .file)
            try container.encode(site.line, forKey: .line)
            try container.encode(site.function, forKey: .function)
            try container.encode(site.module, forKey: .module)
            try container.encode(traceback.map(FrameRow.init), forKey: .traceback)
        }
    }

    private struct FrameRow: Encodable {
        var frame: Frame

        enum CodingKeys: String, CodingKey {
            case file, line, function, module, offset
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(frame.file, forKey: .file)
            try container.encode(frame.line, forKey: .line)
            try container.encode(frame.function, forKey: .function)
            try container.encode(frame.module, forKey: .module)
            try container.encode(frame.offset, forKey: .offset)
        }
    }
}
