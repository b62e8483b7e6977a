// operator new/delete reach the recorder through libstdc++'s malloc:
// 100 Widgets are created at one line and 30 deleted, so 70 stay live.
#include <cstdio>
#include <vector>
#include "heapdiff.h"

struct Widget {
    long id;
    double weights[13];
};

int main() {
    std::vector<Widget *> widgets;
    widgets.reserve(100);
    for (long i = 0; i < 100; i++)
        widgets.push_back(new Widget{i, {}}); // @site widget
    for (int i = 0; i < 30; i++)
        delete widgets[i];
    std::printf("sizeof(Widget)=%zu\n", sizeof(Widget));
    return heapdiff_snapshot_if_traced("widgets") == 0 ? 0 : 1;
}
