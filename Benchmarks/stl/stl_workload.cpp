// A C++ STL workload: an order book keyed by strings, with vectors of
// fills, string building and erasing, the way a service's request path
// allocates. Single thread, deterministic.
#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

struct Order {
    std::string client;
    std::vector<int> fills;
};

int main(int argc, char **argv) {
    long rounds = argc > 1 ? std::atol(argv[1]) : 300000;
    std::map<std::string, Order> book;
    std::unordered_map<int, std::string> names;
    unsigned long checksum = 0;
    for (long i = 0; i < rounds; i++) {
        std::string key = "order-" + std::to_string(i % 5000) + "-" + std::to_string(i % 7);
        Order &order = book[key];
        order.client = "client-with-a-longish-name-" + std::to_string(i % 977);
        order.fills.push_back((int)i);
        if (order.fills.size() > 8)
            book.erase(key);
        names[(int)(i % 20000)] = key;
        checksum += key.size() + names.size();
    }
    std::printf("%lu\n", checksum);
    return 0;
}
