// A server registers a background task per request in a registry, and the
// code that should remove finished tasks was never written.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
#include "leakcheck.h"

struct Task {
    int request;
    std::string name;
    std::vector<char> context;
};

static std::unordered_map<int, std::unique_ptr<Task>> registry;

static void start_background_task(int request) {
    auto task = std::make_unique<Task>(); // @leak
    task->request = request;
    task->name = "refresh-user-profile-for-request-" + std::to_string(request); // @leak
    task->context.resize(256); // @leak
    registry.emplace(request, std::move(task)); // @leak
}

static void handle(int request) {
    std::vector<char> response(2048, 'r'); // @steady
    start_background_task(request);
    (void)response;
}

int main() {
    int request = 0;
    for (int phase = 0; phase < PHASES; phase++) {
        for (int i = 0; i < 1500; i++)
            handle(request++);
        end_phase(phase);
    }
    return 0;
}
