/* A host that loads the interpreter as a plugin, as uWSGI's python3 plugin
 * does: libpython (argv[1]) is dlopen'ed after start-up, started, and runs
 * the script argv[2]. With "thread" (argv[3]) the script runs on a thread
 * of the host's while the main thread waits in C, as Apache's mod_wsgi
 * serves requests; with "subinterpreter" it runs in a subinterpreter of
 * the main thread's, as mod_wsgi runs applications unless told to use the
 * main one. The program then exits with the interpreter up, so the
 * exit snapshot holds what the script kept. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int (*run_file)(FILE *, const char *, int, void *);
static int (*gil_ensure)(void);
static void (*gil_release)(int);
static const char *path;

static void *run_script(void *result) {
    FILE *script = fopen(path, "r");
    int gil = gil_ensure();
    *(int *)result = script ? run_file(script, path, 1, NULL) : -1;
    gil_release(gil);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    void *python = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (!python) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    path = argv[2];
    void (*initialize)(void) = (void (*)(void))dlsym(python, "Py_Initialize");
    void *(*save_thread)(void) = (void *(*)(void))dlsym(python, "PyEval_SaveThread");
    run_file = (int (*)(FILE *, const char *, int, void *))dlsym(python, "PyRun_SimpleFileExFlags");
    gil_ensure = (int (*)(void))dlsym(python, "PyGILState_Ensure");
    gil_release = (void (*)(int))dlsym(python, "PyGILState_Release");
    if (!initialize || !save_thread || !run_file || !gil_ensure || !gil_release)
        return 2;
    initialize();
    int result = -1;
    void *(*new_interpreter)(void) = (void *(*)(void))dlsym(python, "Py_NewInterpreter");
    if (argc > 3 && strcmp(argv[3], "subinterpreter") == 0) {
        FILE *script = fopen(path, "r");
        if (!new_interpreter || !new_interpreter() || !script)
            return 2;
        result = run_file(script, path, 1, NULL);
    } else if (argc > 3 && strcmp(argv[3], "thread") == 0) {
        (void)save_thread();   /* the GIL given up for good by the main thread */
        pthread_t thread;
        if (pthread_create(&thread, NULL, run_script, &result) != 0 || pthread_join(thread, NULL) != 0)
            return 2;
    } else {
        (void)run_script(&result);
    }
    return result == 0 ? 0 : 1;
}
