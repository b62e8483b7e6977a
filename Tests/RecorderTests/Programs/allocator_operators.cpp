// C++ allocations through every shape of the global operator new and
// delete, built against an allocator that defines its own operators
// (jemalloc, tcmalloc, mimalloc) or against none (libstdc++'s): the recorder
// must see the same blocks either way, and the program must behave the same
// (a nothrow new that cannot succeed returns null; with ARGV[1] "throws",
// a plain one throws std::bad_alloc: mimalloc's aborts instead).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

struct Node { char bytes[48]; };
struct alignas(64) Line { char bytes[192]; };
struct Big { char bytes[4000]; };

static void *volatile keep;

int main(int argc, char **argv) {
    // 100 arrays of 1,000 bytes, kept.
    for (int i = 0; i < 100; i++)
        keep = new char[1000]; // @site array
    // 200 nodes, 150 of them deleted again (a sized delete): 50 kept.
    Node *nodes[200];
    for (int i = 0; i < 200; i++)
        nodes[i] = new Node(); // @site node
    for (int i = 0; i < 150; i++)
        delete nodes[i];
    // 40 over-aligned lines, 10 deleted (an aligned, sized delete).
    Line *lines[40];
    for (int i = 0; i < 40; i++) {
        lines[i] = new Line(); // @site aligned
        if (reinterpret_cast<unsigned long>(lines[i]) % 64 != 0)
            return 2;
    }
    for (int i = 0; i < 10; i++)
        delete lines[i];
    // 25 nothrow news of 4,000 bytes, kept, and an array of them deleted.
    for (int i = 0; i < 25; i++)
        keep = new (std::nothrow) Big; // @site nothrow
    delete[] new Big[3];
    // A nothrow new that cannot succeed returns null, a plain one throws.
    size_t huge = static_cast<size_t>(1) << 62;
    if (new (std::nothrow) char[huge] != nullptr)
        return 3;
    if (argc > 1 && std::strcmp(argv[1], "throws") == 0) {
        bool threw = false;
        try {
            keep = new char[huge];
        } catch (const std::bad_alloc &) {
            threw = true;
        }
        if (!threw)
            return 4;
    }
    std::puts("done");
    return 0;
}
