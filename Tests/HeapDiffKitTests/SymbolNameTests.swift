import Testing
@testable import HeapDiffKit

/// Demangling, the qualified names function globs match, and the parsing of
/// the command line's sizes and filters.
@Suite struct SymbolNameTests {
    static let vectorInsert = "_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__normal_iteratorIPiS1_EEDpOT_"

    /// Swift's async functions are split at each await into partial
    /// functions; each is named as the function it is part of.
    @Test func asyncPartialFunctionsAreNamedAsTheirFunction() {
        let nextVarInt = "SwiftProtobuf.AsyncMessageSequence.AsyncIterator.nextVarInt() async throws"
            + " -> Swift.Optional<Swift.UInt64>"
        #expect(Demangler.demangle("$s13SwiftProtobuf20AsyncMessageSequenceV0C8IteratorV10nextVarInts6UInt64VSgyYaKF")
                == nextVarInt)
        #expect(Demangler.demangle("$s13SwiftProtobuf20AsyncMessageSequenceV0C8IteratorV10nextVarInts6UInt64VSgyYaKFTQ1_")
                == nextVarInt)
        #expect(Demangler.demangle("$s13SwiftProtobuf20AsyncMessageSequenceV0C8IteratorV10nextVarInts6UInt64VSgyYaKFTY0_")
                == nextVarInt)
        // Other Swift names keep what they say.
        #expect(Demangler.demangle("$s13SwiftProtobuf20AsyncMessageSequenceV0C8IteratorV10nextVarInts6UInt64VSgyYaKFTu")
                == "async function pointer to " + nextVarInt)
    }

    @Test func demanglesItaniumSwiftAndRust() {
        #expect(Demangler.demangle(Self.vectorInsert)
                == "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>"
                + "(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int const&)")
        #expect(Demangler.demangle("_Znwm") == "operator new(unsigned long)")
        #expect(Demangler.demangle("$s4main4NodeC5valueACSi_tcfC") == "main.Node.__allocating_init(value: Swift.Int) -> main.Node")
        #expect(Demangler.demangle("_ZN4core3ptr13drop_in_place17h0123456789abcdefE") == "core::ptr::drop_in_place")
        #expect(Demangler.demangle("_ZN66_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..drop..Drop$GT$4drop17h1a2b3c4d5e6f7a8bE")
                == "<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop")
        // Rust's v0 mangling, which rustc 1.95's standard library uses.
        #expect(Demangler.demangle("_RNvNtCslNYArtu3iFV_5alloc5alloc5alloc") == "alloc::alloc::alloc")
        #expect(Demangler.demangle("_RNvXs_NtCslNYArtu3iFV_5alloc5allocNtB4_6GlobalNtNtCsgEmfK2I1SDS_4core5alloc9Allocator8allocate")
                == "<alloc::alloc::Global as core::alloc::Allocator>::allocate")
        #expect(Demangler.isMangled("_RNvNtCslNYArtu3iFV_5alloc5alloc5alloc"))
    }

    @Test func leavesOtherNamesAlone() {
        #expect(Demangler.demangle("malloc") == "malloc")
        #expect(Demangler.demangle("_Znot_a_name") == "_Znot_a_name")
        #expect(Demangler.demangle("__libc_start_main") == "__libc_start_main")
        #expect(Demangler.demangle("$sNotSwift!") == "$sNotSwift!")
        #expect(Demangler.demangle("_RNotRust") == "_RNotRust")
    }

    @Test(arguments: [
        ("void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(int const&)",
         "std::vector::_M_realloc_insert"),
        ("operator new(unsigned long)", "operator new"),
        ("operator new[](unsigned long)", "operator new[]"),
        ("(anonymous namespace)::Cache::add(int)", "(anonymous namespace)::Cache::add"),
        ("Cache::operator()(int) const", "Cache::operator()"),
        ("bool operator< <int>(Box<int> const&, Box<int> const&)", "operator<"),
        ("Widget::operator->() const", "Widget::operator->"),
        ("main::{lambda(int, int)#1}::operator()(int, int) const", "main::{lambda(int, int)#1}::operator()"),
        ("main.Node.__allocating_init(value: Swift.Int) -> main.Node", "main.Node.__allocating_init"),
        ("generic specialization <Swift.Int> of Swift.Array.init(repeating: A, count: Swift.Int) -> [A]",
         "Swift.Array.init"),
        ("main", "main"),
    ])
    func qualifiedNames(demangled: String, qualified: String) {
        #expect(FunctionName(demangled).qualified == qualified)
    }

    @Test func globsMatchEitherForm() {
        let name = FunctionName(Self.vectorInsert)
        #expect(Glob("std::vector::_M_realloc_insert").matches(function: name))
        #expect(Glob("void std::vector<int*").matches(function: name))
        #expect(!Glob("std::list*").matches(function: name))
        #expect(Glob("libstdc++*").matches(path: "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"))
        #expect(Glob("/usr/lib/*").matches(path: "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"))
        #expect(!Glob("lib").matches(path: "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"))
        #expect(Glob("operator new\\[\\]*").matches(function: FunctionName("_Znam")))
    }

    @Test(arguments: [
        ("512", 512), ("10K", 10_240), ("10kb", 10_240), ("1MiB", 1_048_576), ("1.5M", 1_572_864),
        (" 2 GiB ", 2_147_483_648), ("0", 0), ("7B", 7),
    ] as [(String, Int64)])
    func sizes(text: String, bytes: Int64) {
        #expect(SizeParsing.bytes(text) == bytes)
    }

    @Test(arguments: ["", "K", "-5", "10X", "1e3", "ten", "99999999999T"])
    func badSizes(text: String) {
        #expect(SizeParsing.bytes(text) == nil)
    }

    @Test func filterArguments() {
        #expect(TraceFilter(argument: "file:*/vendor/*", inclusive: false)
                == TraceFilter(inclusive: false, kind: .file, pattern: Glob("*/vendor/*")))
        #expect(TraceFilter(argument: "function:std::vector*", inclusive: true, allFrames: true)
                == TraceFilter(inclusive: true, kind: .function, pattern: Glob("std::vector*"), allFrames: true))
        #expect(TraceFilter(argument: "module:", inclusive: true) == nil)
        #expect(TraceFilter(argument: "line:12", inclusive: true) == nil)
        #expect(TraceFilter(argument: "cache.c", inclusive: true) == nil)
    }
}
