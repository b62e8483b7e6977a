/* Internal interfaces of libheapdiff.so, the LD_PRELOAD recorder: every
 * module's header, for the files that use most of them. Each .c file's
 * interface is in the header of the same name (common.h: what all share).
 *
 * Layering, bottom up:
 *   mmap_arena.c     bookkeeping memory straight from mmap
 *   real_alloc.c     the real allocator (dlsym RTLD_NEXT) and the bootstrap arena
 *   config.c         HEAPDIFF_* environment, validated once
 *   private_fds.c    the recorder's descriptors (and libunwind's), kept high
 *   own_thread.c     the recorder's own threads: detached, small stack, signals blocked
 *   lock.c           the one lock that guards both tables
 *   trace_tree.c     the interned stacks' frames as one prefix tree
 *   trace_table.c    call stacks interned once, with per-stack counters
 *   pointer_table.c  live block -> (trace, size)
 *   python_layout.c  CPython: where each version keeps what is read (tables, _Py_DebugOffsets)
 *   python_stack.c   CPython: which interpreter; the allocating thread's Python frames (python_frames.h,
 *                    what their raw words decode to in python_decode.h)
 *   python_alloc.c   CPython: the allocator domains' wrappers; free-list reuse re-attributed
 *   python_install.c CPython: the wrappers installed at the first audit event, and given back
 *   python_code.c    CPython: code objects interned once (file, name, line table)
 *   python_stacks.c  CPython: each thread's recent Python stacks, whole, and their traces
 *   eh_frame.c       one return address's unwind rule, read from .eh_frame as libunwind reads it
 *   native_unwind.c  native stacks: proven from memory, walked with the rules, or unw_backtrace
 *   unwind_rules.c   the rules of the return addresses seen, one lock-free table for all threads
 *   stack_memo.c     the per-thread memo of walked stacks and the words that prove them
 *   unloads.c        dlclose passed through; after an unload, cached unwind rules are dropped
 *   capture.h        the stack capture, inlined into each hook
 *   sampler.c        HEAPDIFF_SAMPLE's per-thread countdown (the hot part in sampler.h)
 *   record.c         the one recording function every allocation hook calls
 *   hooks.c          malloc & friends: thin wrappers
 *   cxx_operators.c  C++'s operator new and delete: passed on, or through the hooks where the
 *                    allocator defines its own (jemalloc, tcmalloc, mimalloc)
 *   snapshot_writer.c  one snapshot file, written and renamed into place (snapshot.h;
 *                    its parts' interface: snapshot_writer.h)
 *   control_protocol.c the CLI-recorder protocol, shared with the CLI
 *   control_socket.c   `heapdiff snapshot PID` requests; notices to `heapdiff run`
 *   control.c        start-up, fork, exit, heapdiff_snapshot(): when snapshots are taken
 *   writer_thread.c  the thread that takes requested (socket, signal) and periodic snapshots; seccomp
 *   got_hooks.c      GOT entries of loaded modules pointed at the hooks, and back (attach; preloaded:
 *                    jemalloc's API only)
 *   loaded_module.c  a loaded module's GOT relocations read, one GOT entry written (got_hooks.c's mechanism)
 *   proc_self.c      /proc/self files by a descriptor held from start-up (chroot); GOT page protection
 *   jemalloc_api.c   jemalloc's mallocx & co, where it is the allocator (through the GOT)
 *   python_attach.c  heapdiff attach: CPython's allocator domains wrapped holding its GIL, and back
 *   attach.c         heapdiff attach: the entry point the injector calls, the session thread
 *   attach_pipes.c   heapdiff attach: the session's two FIFOs, at descriptors apart from the program's
 */
#ifndef HEAPDIFF_RECORDER_H
#define HEAPDIFF_RECORDER_H

#include "common.h"
#include "mmap_arena.h"
#include "real_alloc.h"
#include "config.h"
#include "private_fds.h"
#include "own_thread.h"
#include "lock.h"
#include "trace_table.h"
#include "pointer_table.h"
#include "sampler.h"
#include "python_layout.h"
#include "python_stack.h"
#include "python_alloc.h"
#include "python_code.h"
#include "python_attach.h"
#include "record.h"
#include "snapshot.h"
#include "control_socket.h"
#include "control.h"
#include "got_hooks.h"

#endif /* HEAPDIFF_RECORDER_H */
