/* A program that loads a plugin while heapdiff is attached, so the plugin's
 * GOT must be switched over after the attach. Built twice: as the program,
 * and with -DPLUGIN -shared -fPIC as the plugin, which leaks 700 bytes per
 * request. The program prints "ready", serves a request every 2 ms, loads
 * the plugin (argument 1) when "load" arrives on stdin, and hands it every
 * request from then on, until stdin closes. */
#ifdef PLUGIN
#include <stdlib.h>
#include <string.h>

static void *kept[1 << 20];
static unsigned count;

void plugin_handle(unsigned request) {
    char *body = malloc(700); // @site plugin
    memset(body, (int)request, 700);
    if (count < sizeof kept / sizeof kept[0])
        kept[count++] = body;
}
#else
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void (*_Atomic handler)(unsigned);
static _Atomic int done;

static void *read_commands(void *path) {
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strcmp(line, "load\n") != 0)
            continue;
        void *plugin = dlopen(path, RTLD_NOW);
        if (!plugin) {
            fprintf(stderr, "%s\n", dlerror());
            continue;
        }
        handler = (void (*)(unsigned))dlsym(plugin, "plugin_handle");
        printf("loaded\n");
        fflush(stdout);
    }
    done = 1;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    pthread_t reader;
    pthread_create(&reader, NULL, read_commands, argv[1]);
    printf("ready\n");
    fflush(stdout);
    struct timespec pause = {0, 2000000};
    for (unsigned request = 0; !done; request++) {
        void (*handle)(unsigned) = handler;
        if (handle)
            handle(request);
        nanosleep(&pause, NULL);
    }
    pthread_join(reader, NULL);
    return 0;
}
#endif
