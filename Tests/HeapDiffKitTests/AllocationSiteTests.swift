import Testing
@testable import HeapDiffKit

/// Which frame a trace is charged to: built-in plumbing rules, the user's
/// own globs, `--no-skip`, and grouping by module, on `AttributionFixture`.
@Suite struct AllocationSiteTests {
    typealias Row = AttributionFixture.Row
    let fixture = AttributionFixture()

    @Test func siteIsTheFirstFrameOutsidePlumbing() {
        // operator new (libstdc++) and the inlined std::vector code (system
        // header) are skipped; an inlined helper of the program's is not.
        #expect(fixture.rows(StatisticsOptions()) == [
            Row("/src/cache.cpp:42", 1000, 10), Row("/src/cache.cpp:50", 500, 5), Row("/src/util.h:7", 300, 3),
            Row("operator new(unsigned long) (libstdc++.so.6)", 50, 1),
        ])
        let top = AttributionFixture.snapshot.statistics(StatisticsOptions(), symbolizer: fixture.symbolizer)
        #expect(top.first?.site == AttributionFixture.cacheAdd42)
        #expect(top.first?.traceback == [AttributionFixture.operatorNew, AttributionFixture.vectorGrowth,
                                         AttributionFixture.cacheAdd42, AttributionFixture.main10])
        #expect(top[2].site.inlined)
    }

    @Test func userGlobsAddPlumbing() {
        let skipCache = AllocationSiteRule.standard.adding(functions: [Glob("Cache::*")], files: [Glob("util.h")])
        #expect(fixture.rows(StatisticsOptions(rule: skipCache)) == [
            Row("/src/main.cpp:10", 1500, 15), Row("/src/main.cpp:12", 300, 3),
            Row("operator new(unsigned long) (libstdc++.so.6)", 50, 1),
        ])
        // The whole program is plumbing: every trace falls back to frame 0.
        let skipApp = AllocationSiteRule.standard.adding(modules: [Glob("app")])
        #expect(fixture.rows(StatisticsOptions(rule: skipApp)) == [
            Row("operator new(unsigned long) (libstdc++.so.6)", 1850, 19),
        ])
    }

    @Test func noSkipChargesFrameZeroUnlessTheUserSaysOtherwise() {
        #expect(fixture.rows(StatisticsOptions(rule: .innermostFrame)) == [
            Row("operator new(unsigned long) (libstdc++.so.6)", 1850, 19),
        ])
        // Without the built-in rules, the inlined std::vector frame is the site.
        let onlyMine = AllocationSiteRule.innermostFrame.adding(modules: [Glob("libstdc++*")])
        #expect(fixture.rows(StatisticsOptions(rule: onlyMine)) == [
            Row("/usr/include/c++/12/bits/vector.tcc:123", 1000, 10), Row("/src/cache.cpp:50", 500, 5),
            Row("/src/util.h:7", 300, 3), Row("operator new(unsigned long) (libstdc++.so.6)", 50, 1),
        ])
    }

    /// Python code compiled from a string (a dataclass's `__init__`) is passed
    /// over while the program's own code calls it, and is the site when
    /// nothing else is (`python -c`), ahead of the standard library.
    @Test func generatedPythonCodeIsTheSiteOnlyWithoutARealCaller() {
        func python(_ file: String, _ line: Int) -> Frame {
            Frame(module: file, offset: 0, function: "f", file: file, line: line, isPython: true)
        }
        let eval = Frame(module: "/usr/bin/python3.11", offset: 0x1000, function: "_PyEval_EvalFrameDefault")
        let stdlib = python("/usr/lib/python3.11/json/encoder.py", 200)
        let rule = AllocationSiteRule.standard
        #expect(rule.siteIndex(of: [eval, python("<string>", 3), python("/srv/app.py", 12)]) == 2)
        #expect(rule.siteIndex(of: [eval, stdlib, python("<attrs generated init app.C>", 4), python("/srv/app.py", 9)]) == 3)
        #expect(rule.siteIndex(of: [eval, stdlib, python("<string>", 1)]) == 2)
        #expect(AllocationSiteRule.innermostFrame.siteIndex(of: [python("<string>", 3), python("/srv/app.py", 12)]) == 0)
        #expect(!rule.isGenerated(Frame(module: "<string>", offset: 0, file: "<string>")))   // only Python frames
    }

    @Test func groupByModuleOfTheSite() {
        #expect(fixture.rows(StatisticsOptions(keyType: .module)) == [
            Row("/srv/app", 1800, 18), Row("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", 50, 1),
        ])
    }

    @Test func tracebackKeepsEveryFrame() {
        let statistics = AttributionFixture.snapshot.statistics(StatisticsOptions(keyType: .traceback),
                                                                symbolizer: fixture.symbolizer)
        #expect(statistics.first?.key == .traceback([
            .function(name: "operator new(unsigned long)", module: AttributionFixture.libstdcxx.path),
            .line(file: "/usr/include/c++/12/bits/vector.tcc", line: 123),
            .line(file: "/src/cache.cpp", line: 42), .line(file: "/src/main.cpp", line: 10),
        ]))
        #expect(statistics.first?.site == AttributionFixture.cacheAdd42)
    }

    @Test func mangledNamesAreMatchedDemangled() {
        // As under --raw-symbols: the frame keeps the mangled name.
        let frame = Frame(module: "/srv/app", offset: 1,
                          function: "_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__normal_iteratorIPiS1_EEDpOT_",
                          file: "/src/cache.cpp", line: 3)
        #expect(AllocationSiteRule.standard.isPlumbing(frame))
        #expect(!AllocationSiteRule.innermostFrame.isPlumbing(frame))
        let swiftInit = Frame(module: "/srv/app", offset: 1, function: "$s4main4NodeC5valueACSi_tcfC")
        #expect(AllocationSiteRule.standard.isPlumbing(swiftInit))
        #expect(!AllocationSiteRule.standard.isPlumbing(Frame(module: "/srv/app", offset: 1, function: "Cache::add(int)",
                                                                file: "/src/cache.cpp", line: 42)))
    }

    /// A stack of a program that lives among the system libraries: its
    /// wrapper, a nameless helper, the function to blame, then start-up.
    private static func libraryProgramStack(module: String, wrappers: [String], site: String) -> [Frame] {
        wrappers.map { Frame(module: module, offset: 0x10, function: $0) }
            + [Frame(module: module, offset: 0x20), Frame(module: module, offset: 0x30, function: site),
               Frame(module: "/usr/lib/x86_64-linux-gnu/libc.so.6", offset: 0x40, function: "__libc_start_call_main"),
               Frame(module: "/usr/bin/launcher", offset: 0x50)]
    }

    /// A program under /usr/lib has no frame of its own code: the C library's
    /// functions that allocate for their caller (tzset's zone names, for
    /// dovecot's imap through localtime) are passed over for the library
    /// that called them, or for the stripped program's nameless code.
    @Test func theCRuntimeIsTheSiteOnlyWhenNothingElseCanBe() {
        let rule = AllocationSiteRule.standard
        let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6", libdovecot = "/usr/lib/dovecot/libdovecot.so.0"
        let imap = [
            Frame(module: libc, offset: 1, function: "__tzstring_len"),
            Frame(module: libc, offset: 2, function: "__tzfile_read"),
            Frame(module: libc, offset: 3, function: "tzset_internal"),
            Frame(module: libdovecot, offset: 4, function: "time_to_local_day_start"),
            Frame(module: "/usr/lib/dovecot/libdovecot-storage.so.0", offset: 5, function: "mail_index_update_day_headers"),
            Frame(module: "/usr/lib/dovecot/imap", offset: 6, function: "main"),
            Frame(module: libc, offset: 7, function: "__libc_start_call_main"),
        ]
        #expect(rule.siteIndex(of: imap) == 3)
        // The C++ library alike.
        let locale = [Frame(module: "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", offset: 1,
                            function: "std::locale::_Impl::_Impl(unsigned long)")] + imap.dropFirst(3)
        #expect(rule.siteIndex(of: Array(locale)) == 1)
        // A stripped system program's nameless code that called fopen is the site, not fopen.
        let memcached = "/usr/bin/memcached"
        let config = [
            Frame(module: libc, offset: 1, function: "malloc"), Frame(module: libc, offset: 2, function: "fopen"),
            Frame(module: memcached, offset: 0x11d1d), Frame(module: memcached, offset: 0x1904b),
        ]
        #expect(rule.siteIndex(of: config) == 2)
        // The recorder's dlclose hook, between the loader and the library that unloads a module.
        let unload = [
            Frame(module: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", offset: 1, function: "_dl_close_worker"),
            Frame(module: libc, offset: 2, function: "__dlclose"),
            Frame(module: "/usr/lib/heapdiff/libheapdiff.so", offset: 3, function: "dlclose"),
            Frame(module: libdovecot, offset: 4, function: "module_dir_unload"),
            Frame(module: "/usr/lib/dovecot/imap-login", offset: 5, function: "main"),
        ]
        #expect(rule.siteIndex(of: unload) == 3)
        // Nothing but the runtime: its first named function that is no wrapper.
        #expect(rule.siteIndex(of: Array(imap.prefix(3))) == 0)
        // Own code still comes first.
        let own = [imap[0], Frame(module: "/srv/app", offset: 9, function: "rotate_logs")] + imap.dropFirst(3)
        #expect(rule.siteIndex(of: own) == 1)
    }

    /// A class's own operator new (node's V8 allocates its C++ objects with
    /// Malloced's) allocates for the new-expression that called it.
    @Test func aClasssOwnOperatorNewIsAWrapper() {
        let node = "/usr/bin/node"
        let frames = [Frame(module: node, offset: 0x10, function: "v8::internal::Malloced::operator new(unsigned long)"),
                      Frame(module: node, offset: 0x20, function: "v8::internal::Isolate::Init(bool)"),
                      Frame(module: node, offset: 0x30, function: "main")]
        #expect(AllocationSiteRule.standard.siteIndex(of: frames) == 1)
        // A method that merely has "new" in its name is the program's.
        let renewed = [Frame(module: node, offset: 0x10, function: "Pool::renew(unsigned long)")] + frames.dropFirst()
        #expect(AllocationSiteRule.standard.siteIndex(of: renewed) == 0)
    }

    /// Each runtime's allocator wrappers are skipped, so its own function is
    /// the site even though every frame is under /usr/lib.
    @Test(arguments: [
        ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", ["xmalloc"], "c_parser_string_literal(c_parser*, bool, bool)"),
        ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", ["xcalloc"], "ht_create(unsigned int)"),
        ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", ["xrealloc"], "vec_safe_grow"),
        ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", ["ggc_internal_alloc(unsigned long, void (*)(void*), unsigned long, unsigned long)"],
         "make_node(tree_code)"),
        ("/usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1", ["ruby_xmalloc2"], "rb_ary_new_capa"),
        ("/usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1", ["ruby_xcalloc_body"], "rb_st_init_table_with_size"),
        ("/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
         ["os::malloc(unsigned long, MEMFLAGS, NativeCallStack const&)",
          "AllocateHeap(unsigned long, MEMFLAGS, AllocFailStrategy::AllocFailEnum)"],
         "StringTable::create_table()"),
        ("/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
         ["os::malloc(unsigned long, MEMFLAGS, NativeCallStack const&)",
          "CHeapObj<(MEMFLAGS)5>::operator new(unsigned long)"],
         "Thread::Thread()"),
        // An arena's new chunk is the arena user's (java -version: C2 building its stubs).
        ("/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
         ["os::malloc(unsigned long, MEMFLAGS, NativeCallStack const&)",
          "ChunkPool::allocate(unsigned long, AllocFailStrategy::AllocFailEnum)",
          "Arena::grow(unsigned long, AllocFailStrategy::AllocFailEnum)",
          "Arena::Arealloc(void*, unsigned long, unsigned long, AllocFailStrategy::AllocFailEnum)"],
         "Node::out_grow(unsigned int)"),
        ("/usr/lib/x86_64-linux-gnu/libperl.so.5.36", ["Perl_safesysmalloc"], "Perl_newSV"),
        ("/usr/lib/x86_64-linux-gnu/libperl.so.5.36", ["Perl_safesysrealloc"], "Perl_sv_grow"),
        ("/usr/bin/redis-check-rdb", ["ztrymalloc_usable_internal", "zmalloc_usable", "_sdsnewlen", "sdsnewlen"],
         "createRawStringObject"),
        ("/usr/bin/redis-check-rdb", ["zcalloc_num"], "dictExpand"),
        // Debian's PostgreSQL server, under /usr/lib: a memory context's new block, a context's first block,
        // a string buffer's growth; and OpenSSL's allocator as libcrypto calls it.
        ("/usr/lib/postgresql/15/bin/postgres", ["AllocSetAlloc", "palloc"], "CreateTemplateTupleDesc"),
        ("/usr/lib/postgresql/15/bin/postgres", ["AllocSetContextCreateInternal"], "CreateExecutorState"),
        ("/usr/lib/postgresql/15/bin/postgres", ["AllocSetRealloc", "repalloc", "enlargeStringInfo",
                                                 "appendBinaryStringInfo"], "pq_sendcountedtext"),
        ("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", ["CRYPTO_zalloc"], "EVP_CIPHER_fetch"),
        // Debian's php8.2 under USE_ZEND_ALLOC=0: a value built by the VM (str_repeat's handler is nameless),
        // a request's string, a persistent table's growth.
        ("/usr/bin/php8.2", ["__zend_malloc", "_safe_femalloc"], "execute_ex"),
        ("/usr/bin/php8.2", ["__zend_malloc", "_emalloc_56"], "zend_hash_lookup"),
        ("/usr/sbin/php-fpm8.2", ["__zend_realloc", "_safe_erealloc"], "zend_register_functions"),
        // Debian's MariaDB 10.11: a key cache, a MEM_ROOT's first block, a lock-free hash's node, a string buffer.
        ("/usr/sbin/mariadbd", ["my_malloc", "my_multi_malloc_large"], "init_key_cache"),
        ("/usr/sbin/mariadbd", ["my_malloc", "init_alloc_root",
                                "init_sql_alloc(unsigned int, st_mem_root*, unsigned int, unsigned int, unsigned long)"],
         "alloc_table_share(char const*, char const*, char const*, unsigned int)"),
        ("/usr/sbin/mariadbd", ["my_malloc", "lf_alloc_new", "lf_hash_insert"],
         "MDL_map::find_or_insert(LF_PINS*, MDL_key const*)"),
        ("/usr/sbin/mariadbd", ["my_malloc", "Binary_string::real_alloc(unsigned long)"], "login_connection(THD*)"),
        // Debian's postfix 3.7 (its daemons under /usr/lib/postfix/sbin): a table's entry, a log line's buffer.
        ("/usr/lib/postfix/libpostfix-util.so", ["mymalloc", "htable_enter"], "get_mail_conf_bool"),
        ("/usr/lib/postfix/libpostfix-util.so", ["myrealloc", "vbuf_print", "vstring_vsprintf_append",
                                                 "vstring_sprintf_append"], "msg_vprintf"),
        // Debian's BIND 9.18 named: a resolver's hash table, a pool's object.
        ("/usr/lib/x86_64-linux-gnu/libisc-9.18.49-1~deb12u3-Debian.so", ["isc__mem_get", "isc_ht_init"],
         "dns_resolver_create"),
        ("/usr/lib/x86_64-linux-gnu/libisc-9.18.49-1~deb12u3-Debian.so", ["isc__mempool_get"], "dns_message_create"),
        // Debian's dovecot 2.3 (its services under /usr/lib/dovecot): the log process's table per
        // connection, a read buffer of an input stream.
        ("/usr/lib/dovecot/libdovecot.so.0", ["hash_table_create"], "log_connection_create"),
        ("/usr/lib/dovecot/libdovecot.so.0", ["i_stream_try_alloc", "i_stream_grow_buffer"], "i_stream_file_read"),
        // Debian's mosquitto 2.0: a retained message's topic.
        ("/usr/sbin/mosquitto", ["mosquitto__malloc"], "retain__store"),
        // Debian's squid 5: a memory cache node, a URL's buffer, a header's string.
        ("/usr/sbin/squid", ["xmalloc", "MemPoolMalloc::allocate()"], "mem_hdr::nodeToRecieve(long)"),
        ("/usr/sbin/squid", ["xmalloc", "MemPoolMalloc::allocate()", "MemBlob::memAlloc(unsigned int)",
                             "MemBlob::MemBlob(unsigned int)", "SBuf::reAlloc(unsigned int)"], "AnyP::Uri::absolute() const"),
        ("/usr/sbin/squid", ["xmalloc", "MemPoolMalloc::allocate()", "String::allocBuffer(unsigned long)",
                             "String::allocAndFill(char const*, int)", "String::operator=(char const*)"],
         "HttpHeaderEntry::HttpHeaderEntry(Http::HdrType, SBuf const&, char const*)"),
        // Debian's tor 0.4.9: the GeoIP table's entries and its list's growth, as tor loads them.
        ("/usr/sbin/tor", ["tor_malloc_", "tor_malloc_zero_"], "geoip_load_file"),
        ("/usr/sbin/tor", ["tor_reallocarray_", "smartlist_add"], "geoip_load_file"),
    ])
    func runtimeWrappersAreSkipped(module: String, wrappers: [String], site: String) {
        let frames = Self.libraryProgramStack(module: module, wrappers: wrappers, site: site)
        #expect(frames.prefix(wrappers.count).allSatisfy { AllocationSiteRule.standard.role(of: $0) == .wrapper })
        #expect(AllocationSiteRule.standard.siteIndex(of: frames) == wrappers.count + 1)
    }

    @Test func libraryFramesAreSkippedOnlyWhileTheProgramsOwnCodeIsThere() {
        let rule = AllocationSiteRule.standard
        let fopen = Frame(module: "/usr/lib/x86_64-linux-gnu/libc.so.6", offset: 1, function: "fopen")
        let load = Frame(module: "/srv/app", offset: 2, function: "load_config")
        #expect(rule.siteIndex(of: [fopen, load]) == 1)
        // A stripped system program's nameless main is not the program's own code.
        let rubyMain = Frame(module: "/usr/bin/ruby3.1", offset: 0x110b)
        let strTimes = Frame(module: "/usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1", offset: 3, function: "rb_str_times")
        #expect(rule.role(of: rubyMain) == .library)
        #expect(rule.siteIndex(of: [strTimes, rubyMain]) == 0)
        // A stripped system program whose own nameless code calls the allocator, run from a library's
        // named event loop (memcached under libevent): the program's innermost frame, not the loop.
        let memcached = "/usr/bin/memcached", libevent = "/usr/lib/x86_64-linux-gnu/libevent-2.1.so.7.0.1"
        let slab = [
            Frame(module: "/usr/lib/x86_64-linux-gnu/libc.so.6", offset: 1, function: "malloc"),
            Frame(module: memcached, offset: 0x11d1d), Frame(module: memcached, offset: 0x127e8),
            Frame(module: libevent, offset: 0x21585),
            Frame(module: libevent, offset: 0x21c1f, function: "event_base_loop"),
            Frame(module: memcached, offset: 0x1904b),
            Frame(module: "/usr/lib/x86_64-linux-gnu/libc.so.6", offset: 2, function: "start_thread"),
        ]
        #expect(rule.siteIndex(of: slab) == 1)
        // Named library code called by it still comes first (libruby's function called by ruby's main).
        #expect(rule.siteIndex(of: [slab[0], slab[3], strTimes, slab[1], slab[4]]) == 2)
        // A named one is.
        let named = Frame(module: "/usr/sbin/nginx", offset: 4, function: "ngx_palloc")
        #expect(rule.siteIndex(of: [fopen, named]) == 1)
        // The user's rules apply to library code too.
        let cc1 = Self.libraryProgramStack(module: "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", wrappers: ["xcalloc"],
                                           site: "ht_create(unsigned int)")
        #expect(rule.adding(functions: [Glob("ht_create")]).siteIndex(of: cc1.prefix(3) + [
            Frame(module: "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", offset: 0x60, function: "init_stringpool()"),
        ] + cc1.dropFirst(3)) == 3)
        // JIT-compiled code (outside every module) is passed over: a JVM's class loading is charged to
        // libjvm's function, not to the Java frame's bare address.
        let jvm = "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so"
        let defineClass = [
            Frame(module: jvm, offset: 1, function: "os::malloc(unsigned long, MEMFLAGS, NativeCallStack const&)"),
            Frame(module: jvm, offset: 2, function: "AllocateHeap(unsigned long, MEMFLAGS, AllocFailStrategy::AllocFailEnum)"),
            Frame(module: jvm, offset: 3, function: "SymbolTable::allocate_symbol(char const*, int, bool)"),
            Frame(module: "/usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so", offset: 4,
                  function: "Java_java_lang_ClassLoader_defineClass2"),
            Frame(module: "", offset: 0x7fef8cedf6f5),
            Frame(module: jvm, offset: 5, function: "JavaCalls::call_helper(JavaValue*, methodHandle const&, JavaCallArguments*, JavaThread*)"),
        ]
        #expect(rule.role(of: defineClass[4]) == .library)
        #expect(rule.siteIndex(of: defineClass) == 2)
        // Nothing but wrappers and nameless frames: the first frame that is no wrapper.
        let nameless = [Frame(module: "/usr/lib/gcc/cc1", offset: 1, function: "xmalloc"), Frame(module: "/usr/lib/gcc/cc1", offset: 2)]
        #expect(rule.siteIndex(of: nameless) == 1)
    }

    /// The same rule where snapshots are grouped (StackResolver): a stripped system program's code run from a
    /// library's event loop is charged to the program's innermost frame; libruby's named function called by
    /// ruby's nameless main still is the site.
    @Test func strippedProgramCodeCalledFromALibraryIsTheSite() {
        let memcached = Module(index: 0, path: "/usr/bin/memcached", loadBias: 0x5555_0000_0000,
                               ranges: [0x5555_0000_1000..<0x5555_0010_0000])
        let libevent = Module(index: 1, path: "/usr/lib/x86_64-linux-gnu/libevent-2.1.so.7",
                              loadBias: 0x7f10_0000_0000, ranges: [0x7f10_0000_1000..<0x7f10_0010_0000])
        let libc = Module(index: 2, path: "/usr/lib/x86_64-linux-gnu/libc.so.6",
                          loadBias: 0x7f20_0000_0000, ranges: [0x7f20_0000_1000..<0x7f20_0010_0000])
        let symbolizer = Symbolizer()
        symbolizer.remember([Frame(module: libc.path, offset: 0x2000, function: "malloc")], offset: 0x2000, in: libc)
        symbolizer.remember([Frame(module: libevent.path, offset: 0x21c1f, function: "event_base_loop")],
                            offset: 0x21c1f, in: libevent)
        for offset: UInt64 in [0x11d1d, 0x127e8, 0x1904b, 0x2000] {
            symbolizer.remember([Frame(module: memcached.path, offset: offset)], offset: offset, in: memcached)
        }
        symbolizer.remember([Frame(module: libevent.path, offset: 0x21585)], offset: 0x21585, in: libevent)
        let traces = [
            // malloc <- memcached <- memcached <- libevent (nameless) <- event_base_loop <- memcached
            Trace(liveBytes: 4096, liveCount: 4, frames: [0x7f20_0000_2000, 0x5555_0001_1d1d, 0x5555_0001_27e8,
                                                          0x7f10_0002_1585, 0x7f10_0002_1c1f, 0x5555_0001_904b]),
            // malloc <- event_base_loop <- memcached's nameless main: the library function
            Trace(liveBytes: 100, liveCount: 1, frames: [0x7f20_0000_2000, 0x7f10_0002_1c1f, 0x5555_0000_2000]),
        ]
        let snapshot = Snapshot(path: "memcached", process: ProcessRecord(), modules: [memcached, libevent, libc],
                                traces: traces)
        let rows = snapshot.statistics(StatisticsOptions(), symbolizer: symbolizer)
            .map { "\($0.key.label()) \($0.size)/\($0.count)" }
        #expect(rows == ["memcached+0x11d1d 4096/4", "event_base_loop (libevent-2.1.so.7) 100/1"])
    }
}
