/* Loads each plugin named on the command line in turn, calls its plug()
 * (which mallocs 64 bytes, kept) and unloads it. Plugins of the same size
 * are mapped at the same address one after the other, so the same return
 * address comes back with other code behind it: an unwind rule cached for
 * the first plugin would read the second's stack wrongly (see unloads.c). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    void *seen = NULL;
    for (int i = 1; i < argc; i++) {
        void *handle = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            fprintf(stderr, "%s\n", dlerror());
            return 2;
        }
        void *(*plug)(void);
        *(void **)&plug = dlsym(handle, "plug");
        printf("plugin %d%s\n", i, (void *)plug == seen ? " at the same address" : "");
        seen = (void *)plug;
        if (!plug())
            return 3;
        dlclose(handle);
    }
    puts("done");
    return 0;
}
