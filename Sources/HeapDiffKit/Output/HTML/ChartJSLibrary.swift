import Foundation

/// Chart.js, which the report's charts are drawn with. It is read from the
/// system when a report is written and inlined into the page, so the page
/// works offline and the library is never part of this repository: Debian's
/// `libjs-chart.js` installs its minified UMD build (Chart.js 3's
/// `chart.min.js`; Chart.js 4 names it `chart.umd.js`).
public enum ChartJSLibrary {
    /// Overrides the search: the path of a Chart.js UMD build.
    public static let environmentVariable = "HEAPDIFF_CHARTJS"

    public static let debianPaths = [
        "/usr/share/javascript/chart.js/chart.min.js",
        "/usr/share/javascript/chart.js/chart.umd.js",
    ]

    public struct Missing: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The path to read: `HEAPDIFF_CHARTJS`, else the first Debian path that exists.
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment,
                            exists: (String) -> Bool = { FileManager.default.isReadableFile(atPath: $0) }) throws -> String {
        if let chosen = environment[environmentVariable], !chosen.isEmpty {
            guard exists(chosen) else {
                throw Missing(description: "Chart.js not found: \(environmentVariable) names \(chosen), which cannot be read")
            }
            return chosen
        }
        guard let found = debianPaths.first(where: exists) else {
            throw Missing(description: "Chart.js not found: \(debianPaths[0]) is missing "
                + "(apt install libjs-chart.js, or run scripts/setup.sh; or set \(environmentVariable) to a chart.umd.js)")
        }
        return found
    }

    /// The library's source, from `path(environment:)`.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let path = try path(environment: environment)
        guard let data = FileManager.default.contents(atPath: path), let source = String(data: data, encoding: .utf8),
              !source.isEmpty else {
            throw Missing(description: "Chart.js not found: \(path) cannot be read as UTF-8 text")
        }
        return source
    }
}
