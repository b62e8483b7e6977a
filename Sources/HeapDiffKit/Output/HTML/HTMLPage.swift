import Foundation

/// Writes the report's single HTML file: markup, style, Chart.js, the data as
/// one JSON element, and the page's own script, all inline so the file opens
/// offline and can be mailed or attached to a ticket as it is.
///
/// Everything that comes from snapshots or the command line (paths, program
/// names, labels, the title) is either HTML-escaped here or put in the JSON
/// and inserted by the script as text, never as markup.
public enum HTMLPage {
    public static func render(_ model: HTMLReportModel, chartJS: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(model), as: UTF8.self)
        let title = escape(model.title)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="heapdiff report">
            <title>\(title)</title>
            <style>
            \(PageStyle.css)
            </style>
            </head>
            <body>
            <header>
            <h1>\(title)</h1>
            <p class="summary">\(escape(summary(model)))</p>
            </header>
            \(PageMarkup.sections)
            <div id="render-status" data-status="loading" hidden></div>
            <script type="application/json" id="heapdiff-data">\(scriptSafeJSON(json))</script>
            <script>
            \(try inlineScript(chartJS))
            </script>
            <script>
            \(FlameGraphScript.source)
            </script>
            <script>
            \(PageScript.source)
            </script>
            </body>
            </html>

            """
    }

    /// `program (pid 42): 12 snapshots over 1 min; SEQ 1 → 12`.
    static func summary(_ model: HTMLReportModel) -> String {
        let seconds = (model.snapshots.last?.seconds ?? 0) - (model.snapshots.first?.seconds ?? 0)
        let count = model.snapshots.count
        return "\(model.program) (pid \(model.pid)): \(count) snapshot\(count == 1 ? "" : "s") over "
            + String(format: "%.1f s", seconds) + ", grouped by \(model.keyType)"
            + (model.sampleRate > 0
                ? "; sampled every \(SizeFormatting.size(Int64(model.sampleRate))): sizes and counts are estimates" : "")
    }

    /// Text for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// JSON that can sit inside a <script> element: every `<` becomes the
    /// JSON escape `\u003c`, which reads back as the same string, so no
    /// value (a path containing `</script>`, or `<!--`) can end the element
    /// or change how the HTML parser reads it. `<` can only occur inside
    /// JSON strings, where the escape is valid.
    public static func scriptSafeJSON(_ json: String) -> String {
        json.replacingOccurrences(of: "<", with: "\\u003c")
    }

    public struct UnsafeScript: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// A third-party script made safe to inline: `</script` in it (possible
    /// in a string literal or a regular expression) would end the element,
    /// and means the same as `<\/script` wherever it can occur. `<!--` can
    /// change how the rest of the element is parsed and has no such rewrite
    /// that is valid everywhere (a /u regular expression rejects `\!`), so a
    /// script containing it is refused. Chart.js 3.9 has neither.
    static func inlineScript(_ source: String) throws -> String {
        let safe = source.replacing(try Regex("</(?=[Ss][Cc][Rr][Ii][Pp][Tt])"), with: "<\\/")
        guard !safe.contains("<!--") else {
            throw UnsafeScript(description: "Chart.js contains '<!--' and cannot be inlined into a page safely")
        }
        return safe
    }
}
