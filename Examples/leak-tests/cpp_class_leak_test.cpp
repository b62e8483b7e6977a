// A leak test for a C++ class: an LRU cache whose eviction forgets to erase
// from its index, so the index grows although the list stays bounded.
//
//   c++ -g -O2 -I../../Sources/HeapDiffRecorder/include cpp_class_leak_test.cpp -ldl
//   heapdiff check -- ./a.out          # fails on the index insert line
#include <list>
#include <string>
#include <unordered_map>
#include "heapdiff.h"

class LruCache {
  public:
    explicit LruCache(size_t capacity) : capacity_(capacity) {}

    const std::string &get(const std::string &key) {
        auto found = index_.find(key);
        if (found != index_.end() && found->second != entries_.end())
            return found->second->second;
        entries_.emplace_front(key, std::string(256, 'v'));
        index_[key] = entries_.begin();   // the index keeps every key ever seen
        if (entries_.size() > capacity_)
            entries_.pop_back();          // bug: index_ still holds the evicted key
        return entries_.front().second;
    }

  private:
    size_t capacity_;
    std::list<std::pair<std::string, std::string>> entries_;
    std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> index_;
};

int main() {
    LruCache cache(100);
    int request = 0;
    heapdiff::run_phases(5, 2000, [&] {
        cache.get("user-session-key-number-" + std::to_string(request++));
    });
    return 0;
}
