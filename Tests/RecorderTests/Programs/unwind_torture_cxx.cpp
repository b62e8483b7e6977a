// C++ exceptions thrown through frames that allocate, caught at varying
// depths, then allocations over the stale frames they left: the recorder's
// stacks must equal unw_backtrace's (UnwindExactnessTests). Blocks the
// exceptions free are freed; everything else stays live, so a snapshot's
// traceback table covers nearly every allocation. Fixed seeds; the main
// thread, then 4 threads at once.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#define NOINLINE __attribute__((noinline))

namespace {

thread_local unsigned long long seed;
unsigned next_random() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return static_cast<unsigned>(seed >> 11);
}

// Every kept block, per thread (moved into one list at the end).
thread_local std::vector<std::unique_ptr<std::string>> *kept;

struct Failure : std::runtime_error {
    int depth;
    explicit Failure(int d) : std::runtime_error(std::string(40 + d, 'e')), depth(d) {}
};

NOINLINE void throw_from(int depth, int target) {
    auto local = std::make_unique<std::vector<int>>(8 + depth);   // freed as the exception passes
    kept->push_back(std::make_unique<std::string>(32 + depth, 'k'));
    if (depth == target)
        throw Failure(depth);
    throw_from(depth + 1, target);
    (*local)[0] = depth;
}

NOINLINE int catch_at(int depth, int catch_depth, int target) {
    if (depth < catch_depth)
        return catch_at(depth + 1, catch_depth, target) + 1;
    try {
        throw_from(depth, target);
    } catch (const Failure &failure) {
        kept->push_back(std::make_unique<std::string>(failure.what()));
        return failure.depth;
    }
    return -1;
}

NOINLINE void build_map(int depth) {
    if (depth > 0) {
        build_map(depth - 1);
        return;
    }
    auto *map = new std::map<int, std::string>;
    for (int i = 0; i < 6; i++)
        (*map)[static_cast<int>(next_random() % 100)] = std::string(20 + i * 9, 'm');
    __asm__ volatile("" : : "r"(map) : "memory");   // kept: never freed
}

NOINLINE void rethrow_through(int depth) {
    try {
        throw_from(0, depth);
    } catch (...) {
        kept->push_back(std::make_unique<std::string>(64, 'r'));
        throw;
    }
}

void all_phases(unsigned long long start, std::vector<std::unique_ptr<std::string>> *out) {
    seed = start;
    kept = out;
    for (int i = 0; i < 600; i++) {
        unsigned r = next_random();
        int catch_depth = static_cast<int>(r % 12), target = catch_depth + static_cast<int>((r >> 4) % 20);
        catch_at(0, catch_depth, target);
        build_map(static_cast<int>((r >> 9) % 25));   // over the frames the exception left
        try {
            rethrow_through(static_cast<int>((r >> 14) % 10));
        } catch (const Failure &) {
        }
    }
}

}  // namespace

int main() {
    std::vector<std::unique_ptr<std::string>> main_kept;
    all_phases(0x2545F4914F6CDD1Dull, &main_kept);
    std::vector<std::vector<std::unique_ptr<std::string>>> per_thread(4);
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < 4; i++)
        threads.emplace_back(all_phases, 0x9E3779B97F4A7C15ull + i, &per_thread[i]);
    for (auto &thread : threads)
        thread.join();
    size_t count = main_kept.size();
    for (auto &list : per_thread)
        count += list.size();
    std::printf("%zu kept\n", count);
    std::fflush(stdout);
    std::exit(0);   // main's locals stay: every kept block is live at the exit snapshot
}
