/* Threads keep allocating while main calls exit(): the exit snapshot must
 * be written whole and the process must exit with the program's status. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void *churn(void *arg) {
    (void)arg;
    for (;;) {
        void *p = malloc(48);
        free(malloc(16));
        free(p);
    }
    return NULL;
}

int main(void) {
    pthread_t t;
    for (int i = 0; i < 4; i++)
        pthread_create(&t, NULL, churn, NULL);
    for (int i = 0; i < 25; i++)
        (void)malloc(128); // @site before_exit
    usleep(20000);
    exit(7);
}
