import Testing
@testable import HeapDiffKit

/// DWARF file names made absolute against their unit's directory.
@Suite struct SourcePathTests {
    @Test(arguments: [
        // Rust's standard library: relative include directories under /rustc/<commit>.
        ("library/std/src/sys/thread/unix.rs", "/rustc/5980", "/rustc/5980/library/std/src/sys/thread/unix.rs"),
        ("library/core/src/../../portable-simd/crates/core_simd/src/lib.rs", "/rustc/5980",
         "/rustc/5980/library/portable-simd/crates/core_simd/src/lib.rs"),
        ("./src/main.c", "/home/me/proj", "/home/me/proj/src/main.c"),
        // Absolute names stay, only folded.
        ("/usr/include/c++/12/bits/new_allocator.h", "/tmp", "/usr/include/c++/12/bits/new_allocator.h"),
        ("/rustc/5980/library/core/src/../../stdarch/x.rs", "/tmp", "/rustc/5980/library/stdarch/x.rs"),
        // Names the compiler made up, and relative directories (glibc's `./nptl`), stay as they are.
        ("<compiler-generated>", "/tmp", "<compiler-generated>"),
        // Swift lists it under the directory `/` (swift-nio's units, Swift 6.3).
        ("//<compiler-generated>", "/tmp", "<compiler-generated>"),
        ("/<compiler-generated>", "/", "<compiler-generated>"),
        ("./nptl/pthread_create.c", "./nptl", "./nptl/pthread_create.c"),
    ])
    func resolvesAgainstTheUnitsDirectory(name: String, directory: String, expected: String) {
        #expect(SourcePath.resolve(name, compilationDirectory: directory) == expected)
    }

    @Test func withoutADirectoryTheNameStays() {
        #expect(SourcePath.resolve("lib.rs", compilationDirectory: nil) == "lib.rs")
        #expect(SourcePath.folded("/a/./b//c/../d") == "/a/b/d")
        #expect(SourcePath.folded("/../x") == "/x")
    }
}
