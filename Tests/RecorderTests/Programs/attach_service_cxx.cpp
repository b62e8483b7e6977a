// A C++ service that runs without heapdiff until `heapdiff attach` joins it:
// three std::threads serve REQUESTS requests each (argument 1, default 4000),
// one every 2 ms. Each request caches a response that is never evicted (the
// leak), builds a scratch string it drops, and remembers its key in a
// bounded deque. stdout gets "ready", then a summary that depends only on
// the work done.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

static std::mutex lock;
static std::unordered_map<std::string, std::vector<char>> cache;
static std::deque<std::string> recent;

static void serve(unsigned id, unsigned request) {
    std::string scratch(900, 'a' + request % 26); // @site scratch
    std::string key = "/item/" + std::to_string(id) + "/" + std::to_string(request) + std::string(32, '-');
    std::vector<char> response(600 + request % 64, scratch[0]); // @site response
    std::lock_guard<std::mutex> guard(lock);
    cache.emplace(key, std::move(response)); // @site cache-node
    recent.push_back(key.substr(0, 40)); // @site recent
    if (recent.size() > 64)
        recent.pop_front();
}

int main(int argc, char **argv) {
    unsigned requests = argc > 1 ? (unsigned)std::strtoul(argv[1], nullptr, 10) : 4000;
    std::vector<std::thread> threads;
    for (unsigned id = 0; id < 3; id++)
        threads.emplace_back([id, requests] {
            for (unsigned n = 0; n < requests; n++) {
                serve(id, n);
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        });
    std::printf("ready\n");
    std::fflush(stdout);
    for (auto &t : threads)
        t.join();
    unsigned long bytes = 0;
    for (auto &entry : cache)
        bytes += entry.second.size() + (unsigned char)entry.second[0];
    std::printf("served %zu requests: %lu bytes kept, %zu recent\n", cache.size(), bytes, recent.size());
    return 0;
}
