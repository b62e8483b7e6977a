/// Functions that allocate the blocks of a runtime's own cache of freed
/// objects: the runtime keeps such a block for reuse instead of freeing it,
/// so the recorder sees it live although the program let go of it, and the
/// cache fills up to its bound as more threads use it. `heapdiff check`
/// (and the leak tests built on it) leaves these blocks out of its verdict:
/// growth there is the runtime warming up, not the program keeping memory.
/// Matched against the innermost frame of a stack, the one that called the
/// allocator.
enum RuntimeCaches {
    static let functions = [
        // libdispatch (Swift's concurrency runtime and Foundation on Linux
        // enqueue through it): each thread keeps up to ~100 freed
        // continuations, and a busier pool has more threads.
        Glob("_dispatch_continuation_alloc_from_heap"),
    ]
}
