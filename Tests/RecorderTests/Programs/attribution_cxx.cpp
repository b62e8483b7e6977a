// Allocations behind C++ library plumbing, compiled -O2 -g by the tests.
// argv[1] picks a scenario; it allocates from one marked line between the
// "before" and "after" snapshots, so the diff's top row must be that line.
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
#include "heapdiff.h"

struct Session {
    std::vector<int> ids;
    std::vector<std::string> names;
    char scratch[512];
};

struct Blob {
    char bytes[2048];
};

static std::unordered_map<std::string, std::string> thumbnails;
static Session *sessions[200];
static std::vector<std::shared_ptr<Blob>> blobs;

static void add_thumbnails() {
    std::string name = "thumbnail-0000";
    for (int i = 0; i < 200; i++) {
        name[10] = char('0' + i / 100);
        name[11] = char('0' + i / 10 % 10);
        name[12] = char('0' + i % 10);
        thumbnails[name] = std::string(4096, 'x'); // @site thumbnail
    }
}

static void open_sessions() {
    for (int i = 0; i < 200; i++)
        sessions[i] = new Session(); // @site session
}

static void share_blobs() {
    for (int i = 0; i < 200; i++)
        blobs.push_back(std::make_shared<Blob>()); // @site shared
}

int main(int argc, char **argv) {
    const char *scenario = argc > 1 ? argv[1] : "";
    blobs.reserve(200);
    if (heapdiff_snapshot_if_traced("before") != 0)
        return 10;
    if (std::strcmp(scenario, "thumbnail") == 0)
        add_thumbnails();
    else if (std::strcmp(scenario, "session") == 0)
        open_sessions();
    else if (std::strcmp(scenario, "shared") == 0)
        share_blobs();
    else
        return 2;
    return heapdiff_snapshot_if_traced("after") == 0 ? 0 : 11;
}
