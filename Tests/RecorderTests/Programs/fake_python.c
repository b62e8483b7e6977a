/* A stand-in for a CPython version the recorder does not read (built with
 * -rdynamic and -DFAKE_VERSION=PY_VERSION_HEX): it exports what the
 * recorder looks for in an interpreter (Py_Version, _PyRuntime starting
 * with a _Py_DebugOffsets cookie, the eval loop, PySys_AddAuditHook and the
 * allocator-domain API), raises one audit event as an interpreter does when
 * it starts, and then allocates "objects" the way pymalloc serves them:
 * through its object domain, from an arena of its own that never calls
 * malloc. Prints how many audit hooks were added. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "heapdiff.h"

#ifndef FAKE_VERSION
#define FAKE_VERSION 0x030E00F0
#endif

const unsigned long Py_Version = FAKE_VERSION;
struct {
    char cookie[8];
    uint64_t version;
    unsigned char rest[4096];
} _PyRuntime = {"xdebugpy", FAKE_VERSION, {0}};

void _PyEval_EvalFrameDefault(void) {}

typedef struct {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t count, size_t size);
    void *(*realloc)(void *ctx, void *p, size_t size);
    void (*free)(void *ctx, void *p);
} Allocator;

static unsigned char arena[1 << 20];
static size_t used;

static void *arena_malloc(void *ctx, size_t size) {
    (void)ctx;
    size = (size + 15) & ~(size_t)15;
    if (used + size > sizeof arena)
        return NULL;
    used += size;
    return arena + used - size;
}
static void *arena_calloc(void *ctx, size_t count, size_t size) { return arena_malloc(ctx, count * size); }
static void *arena_realloc(void *ctx, void *p, size_t size) { (void)p; return arena_malloc(ctx, size); }
static void arena_free(void *ctx, void *p) { (void)ctx, (void)p; }

static void *raw_malloc(void *ctx, size_t size) { (void)ctx; return malloc(size); }
static void *raw_calloc(void *ctx, size_t count, size_t size) { (void)ctx; return calloc(count, size); }
static void *raw_realloc(void *ctx, void *p, size_t size) { (void)ctx; return realloc(p, size); }
static void raw_free(void *ctx, void *p) { (void)ctx; free(p); }

static Allocator domains[3] = {
    {NULL, raw_malloc, raw_calloc, raw_realloc, raw_free},
    {NULL, arena_malloc, arena_calloc, arena_realloc, arena_free},
    {NULL, arena_malloc, arena_calloc, arena_realloc, arena_free},
};

void PyMem_GetAllocator(int domain, Allocator *allocator) { *allocator = domains[domain]; }
void PyMem_SetAllocator(int domain, Allocator *allocator) { domains[domain] = *allocator; }

typedef int (*AuditHook)(const char *event, void *arguments, void *data);
static AuditHook hooks[4];
static void *hook_data[4];
static int hook_count;

int PySys_AddAuditHook(AuditHook hook, void *data) {
    void *entry = domains[0].malloc(domains[0].ctx, 32);   /* as CPython keeps its entry */
    domains[0].free(domains[0].ctx, entry);
    if (hook_count == 4)
        return -1;
    hooks[hook_count] = hook;
    hook_data[hook_count++] = data;
    return 0;
}

void *PyObject_Malloc(size_t size) {
    return domains[2].malloc(domains[2].ctx, size);
}

int main(void) {
    for (int i = 0; i < hook_count; i++)
        hooks[i]("cpython.run_command", NULL, hook_data[i]);
    static void *objects[1000];
    heapdiff_snapshot_if_traced("before");
    for (int i = 0; i < 1000; i++)
        objects[i] = PyObject_Malloc(48);   // @site objects
    heapdiff_snapshot_if_traced("after");
    printf("audit hooks: %d\n", hook_count);
    return objects[999] ? 0 : 1;
}
