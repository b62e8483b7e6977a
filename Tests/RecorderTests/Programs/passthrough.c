/* Writes bytes 0..255 and a line to stdout, echoes stdin to stdout, a line
 * to stderr, and exits with status 3: heapdiff run must pass all of it
 * through unchanged. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    for (int i = 0; i < 256; i++)
        putchar(i);
    printf("\nargs:%d:%s\n", argc, argc > 1 ? argv[1] : "");
    int c;
    while ((c = getchar()) != EOF)
        putchar(c);
    fprintf(stderr, "to stderr\n");
    char *leak = malloc(1000);
    leak[0] = 1;
    return 3;
}
