/* Starts programs with environments that leave out what `heapdiff run`
 * set, in each way a program can, and one that keeps it all: exec_calls.c
 * must name each program started without the recorder once per set of
 * variables left out, and pass the settings on where the recorder stays. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void wait_for(pid_t pid) {
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "exec_env: child %d failed\n", (int)pid);
        exit(3);
    }
}

int main(int argc, char **args) {
    char *clean[] = {"PATH=/usr/bin:/bin", NULL};
    char *argv[] = {"true", NULL};
    /* A cleaned environment, three times over (one notice), then by execle
     * under another name. */
    for (int i = 0; i < 3; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            execve("/bin/true", argv, clean);
            _exit(127);
        }
        wait_for(pid);
    }
    pid_t pid = fork();
    if (pid == 0) {
        execle("/usr/bin/true", "true", (char *)NULL, clean);
        _exit(127);
    }
    wait_for(pid);
    /* One setting unset in the process's own environment, by vfork. */
    pid = vfork();
    if (pid == 0) {
        execlp("true", "true", (char *)NULL);
        _exit(127);
    }
    wait_for(pid);
    /* The recorder kept but a setting left out, in the process's own
     * environment and (as lighttpd starts a CGI program) in one made for the
     * program: the settings are passed on, so each prints its value. */
    pid = fork();
    if (pid == 0) {
        unsetenv("HEAPDIFF_INTERVAL");
        execl("/usr/bin/printenv", "printenv", "HEAPDIFF_INTERVAL", (char *)NULL);
        _exit(127);
    }
    wait_for(pid);
    char preload[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
    char *cgi[] = {preload, "PATH=/usr/bin:/bin", NULL};
    char *printenv[] = {"printenv", "HEAPDIFF_OUTPUT", NULL};
    pid = fork();
    if (pid == 0) {
        execve("/usr/bin/printenv", printenv, cgi);
        _exit(127);
    }
    wait_for(pid);
    /* The recorder kept in an environment too crowded to add to (past 512
     * entries): the settings are named instead, and the recorder there
     * writes into its working directory, ARGV[1]. */
    if (argc > 1) {
        static char crowd[600][16];
        char *crowded[603];
        crowded[0] = preload;
        crowded[1] = "PATH=/usr/bin:/bin";
        for (int i = 0; i < 600; i++) {
            snprintf(crowd[i], sizeof crowd[i], "FILLER%d=x", i);
            crowded[i + 2] = crowd[i];
        }
        crowded[602] = NULL;
        pid = fork();
        if (pid == 0) {
            if (chdir(args[1]) != 0)
                _exit(126);
            execve("/bin/true", argv, crowded);
            _exit(127);
        }
        wait_for(pid);
    }
    /* posix_spawn from this process, with the cleaned environment. */
    char *echo[] = {"echo", "spawned", NULL};
    if (posix_spawn(&pid, "/bin/echo", NULL, NULL, echo, clean) != 0)
        return 4;
    wait_for(pid);
    /* Everything kept: no notice. */
    if (posix_spawnp(&pid, "true", NULL, NULL, argv, environ) != 0)
        return 5;
    wait_for(pid);
    /* system() and popen() pass on the process's own environment: without
     * the recorder (named once for both commands; the status kept), then
     * with the recorder but without one setting. */
    pid = fork();
    if (pid == 0) {
        unsetenv("LD_PRELOAD");
        int status = system("echo system");
        _exit(status == 0 && WEXITSTATUS(system("exit 3")) == 3 ? 0 : 1);
    }
    wait_for(pid);
    pid = fork();
    if (pid == 0) {
        unsetenv("HEAPDIFF_INTERVAL");
        FILE *shell = popen("echo popen", "r");
        char line[64] = "";
        if (!shell || !fgets(line, sizeof line, shell) || pclose(shell) != 0)
            _exit(1);
        fputs(line, stdout);
        _exit(fflush(stdout) == 0 ? 0 : 1);
    }
    wait_for(pid);
    return 0;
}
