/* Allocates, then replaces itself with the program named in argv[1]: its
 * children inherit the recorder unless HEAPDIFF_FOLLOW_CHILDREN=0. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    (void)malloc(10);
    execv(argv[1], argv + 1);
    return 127;
}
