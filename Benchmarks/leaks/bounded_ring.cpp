// An event log kept in a deque bounded at 1,000 entries: it fills, then
// every push is matched by a pop. Must NOT be reported.
#include <deque>
#include <string>
#include "leakcheck.h"

static std::deque<std::string> recent_events;

static void track(int id) {
    recent_events.push_back("event-with-a-long-enough-payload-" + std::to_string(id)); // @steady
    if (recent_events.size() > 1000)
        recent_events.pop_front();
}

int main() {
    int id = 0;
    for (int i = 0; i < 1000; i++)   // fill the ring before the first snapshot
        track(id++);
    end_phase(0);
    for (int phase = 1; phase < PHASES; phase++) {
        for (int i = 0; i < 3000; i++)
            track(id++);
        end_phase(phase);
    }
    return 0;
}
