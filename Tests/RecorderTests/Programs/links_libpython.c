/* A program linked with libpython that never starts the interpreter, as
 * unbound is (its Python module is optional): allocates at its own line and
 * exits. Its exit snapshot is not one taken as Python finalized. With the
 * argument "run" it starts and finalizes an interpreter first, and then
 * it is. */
#include <stdlib.h>
#include <string.h>

void Py_Initialize(void);
int Py_FinalizeEx(void);

static void *kept[40];

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "run") == 0) {
        Py_Initialize();
        Py_FinalizeEx();
    }
    for (int i = 0; i < 40; i++)
        kept[i] = malloc(250);   // @site kept
    return 0;
}
