/// How traces are grouped into statistics, as in tracemalloc's `key_type`.
public enum KeyType: String, CaseIterable, Sendable {
    /// By source file and line of the allocation site.
    case lineno
    /// By function (and module) of the allocation site.
    case function
    /// By source file of the allocation site.
    case file
    /// By the module (executable or shared library) of the allocation site.
    case module
    /// By the whole call stack, every frame.
    case traceback
}
