// A memo table keyed by the request object: the key keeps every request,
// and with it its 16 KiB body, alive (the lru_cache-on-a-method incident).
#include <map>
#include <memory>
#include <string>
#include "leakcheck.h"

struct Request {
    int id;
    std::string body;
};

static std::map<std::shared_ptr<Request>, int> memo;

static int score(const std::shared_ptr<Request> &request) {
    auto found = memo.find(request);
    if (found != memo.end())
        return found->second;
    int value = (int)request->body.size() + request->id % 7;
    memo.emplace(request, value); // @leak
    return value;
}

static void handle(int id) {
    auto request = std::make_shared<Request>(); // @leak
    request->id = id;
    request->body.assign(16 * 1024, 'b'); // @leak
    score(request);
}

int main() {
    int id = 0;
    for (int phase = 0; phase < PHASES; phase++) {
        for (int i = 0; i < 300; i++)
            handle(id++);
        end_phase(phase);
    }
    return 0;
}
