/// heapdiff's version, printed by `heapdiff --version`. The snapshot format
/// has its own version (docs/FORMAT.md); this one names the tool's release.
enum Version {
    static let current = "0.1.0"
}
