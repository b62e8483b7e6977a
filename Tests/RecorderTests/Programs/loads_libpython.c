/* A host that loads the interpreter as a plugin, as uWSGI's python3 plugin
 * does: libpython (argv[1]) is dlopen'ed after start-up, started, and runs
 * the script argv[2]. The program then exits with the interpreter up, so
 * the exit snapshot holds what the script kept. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    void *python = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (!python) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    void (*initialize)(void) = (void (*)(void))dlsym(python, "Py_Initialize");
    int (*run_file)(FILE *, const char *, int, void *) =
        (int (*)(FILE *, const char *, int, void *))dlsym(python, "PyRun_SimpleFileExFlags");
    FILE *script = fopen(argv[2], "r");
    if (!initialize || !run_file || !script)
        return 2;
    initialize();
    return run_file(script, argv[2], 1, NULL) == 0 ? 0 : 1;
}
