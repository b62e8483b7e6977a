// Sessions and their connections point at each other with shared_ptr: each
// pair keeps the other alive after the server drops them.
#include <memory>
#include <string>
#include <vector>
#include "leakcheck.h"

struct Connection;
struct Session {
    std::string user;
    std::vector<char> state;
    std::shared_ptr<Connection> connection;
};
struct Connection {
    int fd;
    std::shared_ptr<Session> session;   // should have been weak_ptr
};

static void open_session(int id) {
    auto session = std::make_shared<Session>(); // @leak
    session->user = "user-" + std::to_string(id) + "-with-a-name-longer-than-sso"; // @leak
    session->state.resize(1024); // @leak
    auto connection = std::make_shared<Connection>(); // @leak
    connection->fd = id;
    connection->session = session;
    session->connection = connection;
}   // both go out of scope here, and neither is freed

int main() {
    int id = 0;
    for (int phase = 0; phase < PHASES; phase++) {
        for (int i = 0; i < 800; i++)
            open_session(id++);
        end_phase(phase);
    }
    return 0;
}
