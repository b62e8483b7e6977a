/// The globs of `AllocationSiteRule.standard`: code that allocates on
/// behalf of its caller, so the caller is the one to blame. Function globs
/// (wrappers, always skipped) match demangled or qualified names (see
/// `FunctionName`); module and file globs name library code, skipped while
/// the program's own code is on the stack.
enum BuiltInPlumbing {
    static let functions = cAndPosix + cxxRuntime + libstdcxx + libcxx + swift + rust + glib + cpython + libiberty
        + ruby + hotspot + perl + php + redis + postgres + mysql + postfix + bind + tor + dovecot + mosquitto + squid
        + openssl + startup

    static let cAndPosix = [
        "malloc", "calloc", "realloc", "reallocarray",
        "strdup", "strndup", "__strdup", "__strndup", "wcsdup", "asprintf", "vasprintf", "__asprintf*",
        "__vasprintf*", "open_memstream", "getline", "getdelim", "__getdelim",
    ]

    /// GCC's libiberty (linked into cc1, as, ld…) and the many projects that
    /// copied its xmalloc, xcalloc, xrealloc, xzalloc; obstack's chunk growth.
    static let libiberty = [
        "x*alloc", "xstrdup", "xstrndup", "xmemdup", "_obstack_begin*", "_obstack_newchunk",
        // and GCC's garbage-collected heap
        "ggc_internal_alloc*", "ggc_internal_cleared_alloc*",
    ]

    /// Ruby's allocator entry points (libruby).
    static let ruby = [
        "ruby_xmalloc*", "ruby_xcalloc*", "ruby_xrealloc*", "ruby_mimmalloc", "rb_xmalloc_mul_add*",
        "rb_xcalloc_mul_add*", "rb_xrealloc_mul_add", "objspace_xmalloc*", "objspace_xcalloc", "objspace_xrealloc",
    ]

    /// HotSpot's C-heap allocation (libjvm): os::malloc under AllocateHeap
    /// and the NMT pre-initialization path (CHeapObj's operator new is a
    /// class's own, in cxxRuntime); and its arenas' chunks, so that the
    /// code that made or filled an arena (a compiler, a thread) is the site.
    static let hotspot = [
        "os::malloc", "os::realloc", "os::strdup*", "AllocateHeap", "ReallocateHeap", "NMTPreInit*",
        "ChunkPool::allocate*", "Arena::grow*", "Arena::Arena*", "Arena::Amalloc*", "Arena::Arealloc*",
    ]

    /// Perl's allocation wrappers (libperl).
    static let perl = ["Perl_safesys*"]

    /// PHP's Zend engine (php, php-fpm, Apache's mod_php): its allocator's
    /// entry points, which reach malloc for persistent memory, and for all
    /// of it under `USE_ZEND_ALLOC=0` (otherwise the Zend heap maps chunks
    /// of its own, which are not malloc's).
    static let php = [
        "__zend_malloc", "__zend_calloc", "__zend_realloc", "__zend_strdup", "zend_strndup", "_emalloc*", "_ecalloc",
        "_erealloc*", "_safe_*alloc", "_estrdup", "_estrndup",
    ]

    /// Redis (and the projects that took its zmalloc and sds): the allocator
    /// wrappers and the string library's growth, so the command that made the
    /// key or value is the site. Its release builds export these names.
    static let redis = [
        "zmalloc*", "zcalloc*", "zrealloc*", "ztrymalloc*", "ztrycalloc*", "ztryrealloc*", "zstrdup",
        "_sdsnewlen", "sdsnewlen", "sdstrynewlen", "sdsnew", "sdsempty", "sdsdup", "sdsMakeRoomFor*", "sdscatlen",
        "sdscatsds", "sdscat", "sdscpylen", "sdsgrowzero", "sdsResize",
    ]

    /// PostgreSQL's memory contexts: palloc and friends, the allocators under
    /// them (each asks malloc for a new block when its block is full, or for
    /// a context's first block) and the string buffers that grow through
    /// them, so that the function that needed the memory is the site.
    /// Debian's server lives under /usr/lib, so none of its frames is the
    /// program's own: without these the site was `palloc` itself.
    static let postgres = [
        "palloc", "palloc0", "palloc_extended", "palloc_aligned", "repalloc", "repalloc0", "repalloc_extended",
        "repalloc_huge", "MemoryContextAlloc*", "MemoryContextStrdup", "pstrdup", "pnstrdup", "psprintf", "pvsprintf",
        "AllocSetAlloc*", "AllocSetRealloc", "AllocSetContextCreateInternal", "GenerationAlloc*", "GenerationRealloc",
        "GenerationContextCreate", "SlabAlloc*", "SlabContextCreate", "BumpAlloc*", "BumpContextCreate",
        "enlargeStringInfo", "initStringInfo", "makeStringInfo", "appendStringInfo*", "appendBinaryStringInfo*",
    ]

    /// MariaDB's and MySQL's allocation layer (mysys): my_malloc and its
    /// kin, the MEM_ROOT arenas a statement's objects live in, the growable
    /// array, hash, string and lock-free allocator types (their containers,
    /// as the C++ library's are), and InnoDB's allocator and memory heaps,
    /// so that the cache, table or statement code that needed the memory is
    /// the site, not `my_malloc`.
    static let mysql = [
        "my_malloc", "my_realloc", "my_strdup", "my_strndup", "my_memdup", "my_multi_malloc*", "my_large_malloc",
        "my_once_alloc", "my_once_strdup", "my_once_memdup", "alloc_root", "multi_alloc_root", "init_alloc_root",
        "init_sql_alloc", "reset_root_defaults", "strdup_root", "safe_strdup_root", "strmake_root", "memdup_root",
        "init_dynamic_array2", "alloc_dynamic", "allocate_dynamic", "insert_dynamic", "set_dynamic", "my_hash_init2",
        "my_hash_insert", "init_dynamic_string", "dynstr_append*", "dynstr_realloc", "dynstr_set",
        "Binary_string::real_alloc", "Binary_string::realloc_raw", "Binary_string::realloc", "lf_alloc_new",
        "lf_dynarray_lvalue", "lf_hash_insert",
        "ut_allocator<*>::allocate*", "ut_allocator<*>::reallocate*", "ut_malloc*", "ut_zalloc*", "ut_realloc*",
        "mem_heap_create_block*", "mem_heap_add_block",
    ]

    /// Postfix's libpostfix-util: its malloc wrappers, and the string, table
    /// and argument-vector types that grow through them (its containers), so
    /// that the daemon's function that filled one is the site. Postfix's
    /// daemons live under /usr/lib, so none of their frames is the program's own.
    static let postfix = [
        "mymalloc", "myrealloc", "mystrdup", "mystrndup", "mymemdup", "vbuf_print", "vstring_alloc", "vstring_sprintf*",
        "vstring_vsprintf*", "vstring_str*cat", "vstring_str*cpy", "vstring_memcat", "vstring_memcpy", "vstring_insert",
        "vstring_prepend", "vstring_get*", "vstring_import", "htable_create", "htable_enter", "binhash_create",
        "binhash_enter", "argv_alloc", "argv_add*", "argv_split*", "argv_insert*", "argv_replace*",
    ]

    /// BIND 9's libisc: its memory contexts and pools (over jemalloc's own
    /// API), and its hash table, heap and buffer types, which grow through
    /// them, so that the function of libdns or named that filled one is the
    /// site. Debian's BIND lives under /usr/lib and named is stripped.
    static let bind = [
        "isc__mem_get", "isc__mem_allocate", "isc__mem_reallocate", "isc__mem_reget", "isc__mem_strdup",
        "isc__mem_strndup", "isc__mem_malloc", "isc__mem_alloc_noctx", "isc__mempool_get", "isc_ht_init",
        "isc_ht_add", "isc_heap_create", "isc_heap_insert", "isc_buffer_allocate", "isc_buffer_reserve",
    ]

    /// Tor: its malloc wrappers (exported by Debian's stripped tor), and the
    /// list and map types that grow through them, so that the function that
    /// filled one (`geoip_load_file`, a directory parser) is the site.
    static let tor = [
        "tor_malloc_", "tor_malloc_zero_", "tor_calloc_", "tor_realloc_", "tor_reallocarray_", "tor_strdup_",
        "tor_strndup_", "tor_memdup_", "tor_memdup_nulterm_", "tor_asprintf", "tor_vasprintf", "smartlist_new",
        "smartlist_add", "smartlist_add_all", "smartlist_add_strdup", "smartlist_add_*asprintf", "smartlist_grow",
        "smartlist_insert", "smartlist_split_string", "smartlist_join_strings*", "strmap_new", "strmap_set*",
        "digestmap_new", "digestmap_set", "digest256map_new", "digest256map_set", "*map_impl_HT_GROW",
    ]

    /// Dovecot's libdovecot: its malloc wrappers and memory pools (the data
    /// stack's blocks, an alloconly pool's), and the buffer, string, array,
    /// hash table and input stream types that grow through them, so that the
    /// function of imap, auth or log that made or filled one is the site.
    /// Debian's services live under /usr/lib/dovecot: none of their frames is
    /// the program's own.
    static let dovecot = [
        "i_malloc", "i_realloc", "i_strdup*", "i_strndup", "i_strconcat", "p_strdup*", "p_strndup", "p_strconcat",
        "p_strarray_dup", "t_malloc*", "t_buffer_*", "t_str_new", "t_strdup*", "t_strconcat", "pool_alloconly_create*",
        "pool_allocfree_create*", "pool_datastack_create", "buffer_create_dynamic*", "buffer_append*", "buffer_write*",
        "buffer_insert*", "buffer_get_space_unsafe", "str_new", "str_append*", "str_printfa", "str_vprintfa",
        "array_idx_get_space_i", "array_insert_space_i", "hash_table_create*", "hash_table_insert",
        "i_stream_try_alloc*", "i_stream_grow_buffer",
    ]

    /// Mosquitto's malloc wrappers (the broker and libmosquitto each have them).
    static let mosquitto = ["mosquitto__malloc", "mosquitto__calloc", "mosquitto__realloc", "mosquitto__strdup",
                            "mosquitto__strndup"]

    /// Squid: its memory pools (each type's objects and buffers come from
    /// one), the callback-data allocator, and its string and buffer types
    /// (`SBuf`, `MemBlob`, `String`), which grow through them, so that the
    /// store, parser or request code that needed the memory is the site.
    static let squid = [
        "MemPoolMalloc::allocate*", "MemPoolChunked::allocate*", "MemAllocator::alloc*", "Mem::AllocatorProxy::alloc*",
        "memAllocate", "memAllocBuf", "memReallocBuf", "memAllocString", "memAllocRigid", "cbdataInternalAlloc*",
        "PoolingAllocator<*>::allocate*", "MemBlob::memAlloc*", "MemBlob::MemBlob*", "SBuf::reAlloc*",
        "SBuf::rawSpace*", "SBuf::rawAppendStart*", "SBuf::lowAppend*", "SBuf::append*", "SBuf::assign*",
        "SBuf::c_str*",
        "String::allocBuffer*", "String::allocAndFill*", "String::operator=*", "String::append*",
    ]

    /// OpenSSL's allocation entry points (libcrypto), which every part of it
    /// allocates through.
    static let openssl = [
        "CRYPTO_malloc", "CRYPTO_zalloc", "CRYPTO_realloc", "CRYPTO_clear_realloc", "CRYPTO_strdup",
        "CRYPTO_strndup", "CRYPTO_memdup", "CRYPTO_secure_malloc", "CRYPTO_secure_zalloc",
    ]

    /// The global operator new, and any class's own (HotSpot's CHeapObj,
    /// V8's Malloced, an arena-backed node type): it only allocates for the
    /// new-expression that called it, which is the site.
    static let cxxRuntime = [
        "operator new*", "*::operator new*", "__cxa_allocate_exception", "__gnu_cxx::new_allocator*", "__gnu_cxx::__alloc_traits*",
    ]

    /// Template code instantiated (and usually inlined) into the program that
    /// only allocates for the container; the program's call of it is the site.
    static let libstdcxx = [
        "std::allocator*", "std::__new_allocator*", "std::allocator_traits*", "std::__allocated_ptr*",
        "std::vector*", "std::_Vector_base*", "std::__cxx11::basic_string*", "std::basic_string*",
        "std::__cxx11::list*", "std::__cxx11::_List_base*", "std::deque*", "std::_Deque_base*",
        "std::_Hashtable*", "std::unordered_map*", "std::unordered_set*", "std::unordered_multimap*",
        "std::__detail::*", "std::_Rb_tree*", "std::map*", "std::set*", "std::multimap*", "std::multiset*",
        "std::__shared_count*", "std::__shared_ptr*", "std::shared_ptr*", "std::make_shared*",
        "std::__allocate_shared*", "std::_Sp_*", "std::__make_shared*", "std::make_unique*",
        "std::function*", "std::_Function_base*", "std::__uninitialized*", "std::uninitialized_*",
        "std::__do_uninit_copy*", "std::_Construct*",
    ]

    static let libcxx = [
        "std::__1::allocator*", "std::__1::allocator_traits*", "std::__1::__libcpp_allocate*", "std::__1::vector*",
        "std::__1::__split_buffer*", "std::__1::basic_string*", "std::__1::__hash_table*", "std::__1::unordered_map*",
        "std::__1::__tree*", "std::__1::map*", "std::__1::set*", "std::__1::make_shared*",
        "std::__1::allocate_shared*", "std::__1::__shared_ptr_emplace*", "std::__1::shared_ptr*",
        "std::__1::make_unique*", "std::__1::list*", "std::__1::deque*", "std::__1::__deque_base*",
    ]

    /// The runtime's entry points, and standard library code that generic
    /// specialization copies into the program.
    static let swift = [
        "swift_allocObject", "swift_slowAlloc", "swift_allocBox", "swift_allocEmptyBox", "swift_makeBoxUnique",
        "swift_bufferAllocate", "_swift_allocObject_", "swift::swift_slowAlloc*",
        "*.__allocating_init", "Swift._allocateUninitializedArray*", "Swift._allocateBufferUninitialized*",
        "Swift._ContiguousArrayBuffer*", "Swift._ContiguousArrayStorage*", "Swift._ArrayBuffer*",
        "Swift._ArrayBufferProtocol*", "Swift.Array*", "Swift.ContiguousArray*", "Swift.ArraySlice*",
        "Swift._copyCollectionToContiguousArray*", "Swift._copySequenceToContiguousArray*",
        "Swift.Dictionary*", "Swift._NativeDictionary*", "Swift.__RawDictionaryStorage*", "Swift._DictionaryStorage*",
        "Swift.Set*", "Swift._NativeSet*", "Swift.__RawSetStorage*", "Swift._SetStorage*",
        "Swift.String*", "Swift._StringGuts*", "Swift._StringObject*", "Swift.__StringStorage*",
        "Swift.ManagedBuffer*", "Swift._allocateStringStorage*",
    ]

    /// Rust: the global allocator's entry points, and the standard library's
    /// allocating types (`Vec`, `String`, `Box`, `Arc`, `format!` live in the
    /// `alloc` crate; `HashMap` is `hashbrown` under `std::collections`), for
    /// programs built without line tables, as cargo's release profile strips
    /// them. With line tables the files below say the same. An impl's
    /// methods demangle as `<alloc::vec::Vec<T> as Clone>::clone`.
    static let rust = [
        "__rust_alloc", "__rust_alloc_zeroed", "__rust_realloc", "__rdl_alloc", "__rdl_alloc_zeroed", "__rdl_realloc",
        "__rg_alloc", "__rg_alloc_zeroed", "__rg_realloc",
        "alloc::*", "<alloc::*", "<T as alloc::*", "<[T]>::to_vec*", "hashbrown::*", "<hashbrown::*",
        "std::collections::*", "<std::collections::*",
    ]

    static let glib = [
        "g_malloc*", "g_try_malloc*", "g_realloc*", "g_try_realloc*", "g_new*", "g_slice_alloc*",
        "g_strdup*", "g_strndup", "g_memdup*",
    ]

    static let cpython = [
        "PyMem_*", "_PyMem_*", "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc", "_PyObject_*Alloc*",
    ]

    /// Process start-up code linked into every program: never a site, and
    /// no use as a cumulative row.
    static let startup = ["_start", "__libc_start_main*", "__libc_start_call_main"]

    /// The C and C++ runtimes (glibc with its loader and NSS modules, the C++
    /// library and its unwinder), and the recorder, whose hooks stand in for
    /// libc's `dlclose`, `fork` and `exec*`: without the program's own code
    /// on the stack, their functions are passed over for the library that
    /// called them.
    static let runtimeModules = [
        "*/libc.so*", "*/ld-linux*", "*/libm.so*", "*/libpthread.so*", "*/libdl.so*", "*/librt.so*",
        "*/libresolv.so*", "*/libnss_*", "*/libstdc++.so*", "*/libgcc_s.so*", "*/libc++.so*", "*/libc++abi.so*",
        "libheapdiff*",
    ]

    /// Where distributions install programs: their frames without a name (a
    /// stripped interpreter's `main`) are library code, not the program's own.
    static let systemPrograms = ["/usr/bin/*", "/bin/*", "/usr/sbin/*", "/sbin/*", "/usr/libexec/*", "/usr/games/*"]

    /// System library directories, the Swift toolchain, and the recorder itself.
    static let modules = [
        "/lib/*", "/lib64/*", "/usr/lib/*", "/usr/lib64/*", "/usr/local/lib/*", "/opt/swift/*", "libheapdiff*",
    ] + pythonModules

    /// The CPython interpreter (its executable and libpython) and compiled
    /// extension modules of the standard library and installed packages:
    /// under Python code, the Python line that called them is the site.
    static let pythonModules = [
        "*/bin/python", "*/bin/python3*", "*/libpython3*", "*/lib-dynload/*", "*/site-packages/*",
        "*/dist-packages/*",
    ]

    /// Python source of the standard library and of installed packages: a
    /// frame of the program's own files is the site while there is one.
    static let pythonFiles = [
        "*/lib/python3*/*", "*/lib64/python3*/*", "*/site-packages/*", "*/dist-packages/*", "<frozen *>",
    ]

    /// Python code compiled from strings: dataclasses, namedtuple and `exec`
    /// name it `<string>`, attrs `<attrs generated init …>`.
    static let generatedPythonFiles = ["<string>", "<attrs generated *>"]

    /// System and toolchain headers: inlined template code lands in the
    /// program with these as its source files.
    static let files = [
        "/usr/include/*", "/usr/local/include/*", "/usr/lib/gcc/*", "/usr/lib/llvm*", "/opt/swift/*",
        // Swift thunks and outlined code that belong to no line of the program.
        "*<compiler-generated>",
    ] + rustFiles + pythonFiles

    /// Rust's standard library as its debug information names it: rustup's
    /// toolchains under `/rustc/<commit>`, the crates it depends on under
    /// `/rust/deps`, Debian's rustc under `/usr/src/rustc-<version>`; and the
    /// crates a project depends on, from crates.io or git, in cargo's home.
    static let rustFiles = [
        "/rustc/*", "/rust/deps/*", "/usr/src/rustc-*", "*/.cargo/registry/*", "*/.cargo/git/*",
    ]
}
