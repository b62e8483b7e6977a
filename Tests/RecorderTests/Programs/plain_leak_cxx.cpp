// The plain leak test in C++: one snapshot after warm-up, one after the
// load, then exit. Each upload keeps a 512-byte Session in a list that is
// never pruned. "fixed" keeps the last 64 (the fix); "one" takes only the
// snapshot after the load.
#include <array>
#include <cstring>
#include <memory>
#include "heapdiff.h"

struct Session {
    Session *next;
    char payload[504];
};

static Session *sessions;
static std::array<std::unique_ptr<Session>, 64> recent;

static void upload(int request, bool bounded) {
    if (bounded) {
        recent[request % 64].reset(new Session{nullptr, {}}); // @site recent
    } else {
        sessions = new Session{sessions, {}}; // @site sessions
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "leak";
    bool bounded = std::strcmp(mode, "fixed") == 0;
    for (int i = 0; i < 100; i++)
        upload(i, bounded);
    if (std::strcmp(mode, "one") != 0)
        heapdiff_snapshot_if_traced("warm");
    for (int i = 100; i < 1100; i++)
        upload(i, bounded);
    heapdiff_snapshot_if_traced("loaded");
    return 0;
}
