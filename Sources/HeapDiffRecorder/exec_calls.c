/* The programs a traced program starts are traced because they inherit
 * LD_PRELOAD and heapdiff's settings. A program that makes the environment
 * of what it starts itself passes on less:
 *  - without the recorder in LD_PRELOAD (postfix's master keeps only its
 *    import_environment) the program runs unrecorded, and `heapdiff run`
 *    would show nothing of it without saying why: under `run` and `check`
 *    (a report channel is named) a notice names the program and what its
 *    environment leaves out;
 *  - with the recorder but without its settings (lighttpd passes LD_PRELOAD
 *    on to its CGI programs, and none of heapdiff's variables), the recorder
 *    there would write into the program's working directory (a web root)
 *    with default settings: the settings this process started with are
 *    passed on too, as the recorder's variables travel together.
 * Nothing else changes: the program is started as asked.
 *
 * Each runs where the program execs, which may be a vfork child or the
 * child of a multi-threaded fork: nothing here allocates or locks (a scan
 * of the environment, a new one on the stack, a hash into a shared page,
 * one datagram). */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "config.h"
#include "control.h"
#include "control_socket.h"
#include "heapdiff_control.h"
#include "real_alloc.h"
#include "snapshot.h"
#include "thread_state.h"

extern char **environ;

/* The settings `heapdiff run` passes, checked when they were set here. */
static const char *const settings[] = {
    HD_ENV_OUTPUT, HD_ENV_INTERVAL, HD_ENV_SIGNAL,         HD_ENV_DEPTH,  HD_ENV_SAMPLE,
    HD_ENV_KEEP,   HD_ENV_REPORT,   HD_ENV_PROGRAM_PARENT, HD_ENV_FORMAT,
};
enum { SETTINGS = sizeof settings / sizeof settings[0], NOTED_PROGRAMS = 64 };
static bool watching;           /* under run or check, with children followed */
static unsigned settings_set;   /* bit i: settings[i] was in the environment at start-up */
/* "NAME=value" of each setting this process started with, to pass on. */
static const char *saved[SETTINGS];
static char saved_text[8192];

/* Programs already named in a notice, by the hash of their path and the
 * names left out: shared
 * with the forked children, which are what execs (a server spawning the
 * same helper for hours sends one notice for it, not thousands). */
static uint64_t *noted;

static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_fexecve)(int, char *const[], char *const[]);
static int (*real_posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                               const posix_spawnattr_t *, char *const[], char *const[]);
static int (*real_posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                                const posix_spawnattr_t *, char *const[], char *const[]);
static int (*real_system)(const char *);
static FILE *(*real_popen)(const char *, const char *);

#define RESOLVE(name) (real_##name ? real_##name : (real_##name = hd_next_definition(#name, (void *)name)))

void hd_exec_calls_init(void) {
    (void)RESOLVE(execve);
    (void)RESOLVE(execvpe);
    (void)RESOLVE(fexecve);
    (void)RESOLVE(posix_spawn);
    (void)RESOLVE(posix_spawnp);
    (void)RESOLVE(system);
    (void)RESOLVE(popen);
    if (!hd_config.output_ok || !hd_config.report_name[0] || !hd_config.follow_children)
        return;   /* not recording, nobody to tell, or children are meant to run untraced */
    watching = true;
    size_t used = 0;
    for (unsigned i = 0; i < SETTINGS; i++) {
        const char *value = getenv(settings[i]);
        if (!value)
            continue;
        settings_set |= 1u << i;
        int n = snprintf(saved_text + used, sizeof saved_text - used, "%s=%s", settings[i], value);
        if (n >= 0 && used + (size_t)n < sizeof saved_text) {
            saved[i] = saved_text + used;
            used += (size_t)n + 1;
        }
    }
    void *page = mmap(NULL, NOTED_PROGRAMS * sizeof *noted, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    noted = page == MAP_FAILED ? NULL : page;
}

static const char *find(char *const envp[], const char *name) {
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static bool preloads_recorder(const char *value) {
    for (const char *p = value; p && *p;) {
        while (*p == ':' || *p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ':' && *p != ' ')
            p++;
        if (p > start && hd_preload_entry_is_recorder(start, p))
            return true;
    }
    return false;
}

/* True the first time this process tree starts KEY without MISSING
 * (and when the table is full or missing: a notice too many rather than one
 * lost). */
static bool first_time(const char *key, const char *missing) {
    if (!noted)
        return true;
    uint64_t h = 1469598103934665603ull;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = missing; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h |= 1;   /* 0 marks an empty slot */
    for (unsigned i = 0; i < NOTED_PROGRAMS; i++) {
        uint64_t seen = 0;
        if (__atomic_compare_exchange_n(&noted[i], &seen, h, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return true;
        if (seen == h)
            return false;
    }
    return true;
}

/* The loader ignores LD_PRELOAD's paths in secure-execution mode: in a
 * program started while the real and effective user (or group) differ, or
 * from a set-user-ID or set-group-ID file that makes them differ (squid's
 * master starts its kids as real user proxy, effective user root). Named
 * once per program, as an environment that leaves the recorder out is. */
static void note_secure_execution(const char *program, const char *shown) {
    const char *name = program;
    unsigned ruid = getuid(), euid = geteuid(), rgid = getgid(), egid = getegid();
    struct stat st;
    char found[512];
    if (!strchr(program, '/')) {
        /* execvp's name: not a program that will not start (squid tries a
         * squid_start script first), and its file for the bits below. */
        const char *path = getenv("PATH");
        bool exists = false;
        for (const char *p = path ? path : "/bin:/usr/bin"; !exists && *p;) {
            size_t n = strcspn(p, ":");
            if (snprintf(found, sizeof found, "%.*s/%s", (int)n, n ? p : ".", program) < (int)sizeof found)
                exists = access(found, X_OK) == 0;
            p += n + (p[n] == ':');
        }
        if (!exists)
            return;
        program = found;
    }
    if (stat(program, &st) == 0) {
        if (st.st_mode & S_ISUID)
            euid = st.st_uid;
        if (st.st_mode & S_ISGID)
            egid = st.st_gid;
    }
    if (ruid == euid && rgid == egid)
        return;
    char detail[80];
    if (ruid != euid)
        snprintf(detail, sizeof detail, "real user %u, effective user %u", ruid, euid);
    else
        snprintf(detail, sizeof detail, "real group %u, effective group %u", rgid, egid);
    if (first_time(program, "\tsecure"))
        hd_report(HD_REPORT_SECURE_EXECUTION, "%s\t%s\t%s", hd_program_name, shown ? shown : name, detail);
}

/* Room for a new environment: the entries, the settings, the end; 1 (no
 * new one, only the notice) past 512 entries, 4 KiB of stack, which a
 * thread started with a small stack can spare. */
static size_t room_for(char *const envp[]) {
    size_t n = 0;
    if (watching)
        for (char *const *e = envp; e && *e && n <= 512; e++)
            n++;
    return watching && n <= 512 ? n + SETTINGS + 1 : 1;
}

/* The environment to start PROGRAM with: ENVP, or ENVP and the settings it
 * leaves out in MERGED (ROOM entries) when it keeps the recorder. A notice
 * names what an environment without the recorder leaves out, in the text
 * "NAME\tSHOWN\tVAR VAR…": this process's name, the program as shown (PROGRAM
 * when NULL), the names. */
static char *const *environment_for(const char *program, const char *shown, char *const envp[], char **merged,
                                    size_t room) {
    /* Not recording (confined by seccomp, say): not a system call more. */
    if (!watching || !hd_forgetting(hd_thread()))
        return envp;
    bool preloaded = preloads_recorder(find(envp, "LD_PRELOAD"));
    bool fits = preloaded && room > 1;
    char missing[256] = "";
    size_t used = 0, n = 0;
    bool added = false;
    /* (bounded: another thread may setenv meanwhile) */
    for (char *const *e = envp; fits && e && *e; e++)
        if (n + SETTINGS + 1 < room)
            merged[n++] = *e;
        else
            fits = false;
    if (!preloaded)
        used = (size_t)snprintf(missing, sizeof missing, "LD_PRELOAD");
    for (unsigned i = 0; i < SETTINGS; i++) {
        if (!(settings_set & (1u << i)) || find(envp, settings[i]))
            continue;
        if (fits && saved[i]) {
            merged[n++] = (char *)saved[i];
            added = true;
        } else if (used < sizeof missing) {
            used += (size_t)snprintf(missing + used, sizeof missing - used, "%s%s", used ? " " : "", settings[i]);
        }
    }
    if (!program)
        program = "";
    if (preloaded) {
        int saved_errno = errno;   /* stat may fail: the exec's errno is the program's */
        note_secure_execution(program, shown);
        errno = saved_errno;
    }
    if (missing[0] && first_time(program, missing))
        hd_report(HD_REPORT_ENVIRONMENT_LEFT_OUT, "%s\t%s\t%s", hd_program_name, shown ? shown : program, missing);
    if (!added)
        return envp;
    merged[n] = NULL;
    return merged;
}

#define NEW_ENVIRONMENT(envp) \
    size_t room_ = room_for(envp); \
    char *merged_[room_]

HD_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
    NEW_ENVIRONMENT(envp);
    envp = environment_for(path, NULL, envp, merged_, room_);
    if (RESOLVE(execve))
        return real_execve(path, argv, envp);
    return (int)syscall(SYS_execve, path, argv, envp);
}

/* execv and execvp are execve and execvpe with the process's environment,
 * as glibc defines them. */
HD_EXPORT int execv(const char *path, char *const argv[]) {
    return execve(path, argv, environ);
}

HD_EXPORT int execvp(const char *file, char *const argv[]) {
    return execvpe(file, argv, environ);
}

HD_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
    NEW_ENVIRONMENT(envp);
    envp = environment_for(file, NULL, envp, merged_, room_);
    return RESOLVE(execvpe) ? real_execvpe(file, argv, envp) : (errno = ENOSYS, -1);
}

HD_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
    NEW_ENVIRONMENT(envp);
    envp = environment_for(argv[0] ? argv[0] : "", NULL, envp, merged_, room_);
    return RESOLVE(fexecve) ? real_fexecve(fd, argv, envp) : (errno = ENOSYS, -1);
}

HD_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    NEW_ENVIRONMENT(envp);
    envp = environment_for(path, NULL, envp, merged_, room_);
    return RESOLVE(posix_spawn) ? real_posix_spawn(pid, path, actions, attr, argv, envp) : ENOSYS;
}

HD_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    NEW_ENVIRONMENT(envp);
    envp = environment_for(file, NULL, envp, merged_, room_);
    return RESOLVE(posix_spawnp) ? real_posix_spawnp(pid, file, actions, attr, argv, envp) : ENOSYS;
}

/* system() and popen() start "/bin/sh -c COMMAND" with the process's own
 * environment through glibc's internal posix_spawn, which no hook sees, so
 * it is looked at here. Nothing can be added to it (the shell gets environ
 * itself, and changing environ would race other threads): what it leaves
 * out is named, the recorder or settings alike. One notice per set of names
 * for all commands (a server running a new command line each request would
 * otherwise send one each), naming the first. */
static void look_at_shell_environment(const char *command) {
    if (!watching || !command)
        return;
    char shown[96];
    int n = snprintf(shown, sizeof shown, "sh -c '%s'", command);
    if (n >= (int)sizeof shown)
        memcpy(shown + sizeof shown - 6, "â¦'", 5);   /* …' */
    (void)environment_for("/bin/sh", shown, environ, NULL, 1);
}

HD_EXPORT int system(const char *command) {
    look_at_shell_environment(command);
    return RESOLVE(system) ? real_system(command) : (errno = ENOSYS, -1);
}

HD_EXPORT FILE *popen(const char *command, const char *mode) {
    look_at_shell_environment(command);
    return RESOLVE(popen) ? real_popen(command, mode) : (errno = ENOSYS, (FILE *)NULL);
}

/* The execl family, as glibc builds it: the arguments into an array on the
 * stack, then the array form's hook. */
#define COLLECT_ARGUMENTS(first, argv, ap_after)                                                                  \
    va_list count_ap;                                                                                             \
    va_start(count_ap, first);                                                                                    \
    size_t argc = 1;                                                                                              \
    while (va_arg(count_ap, const char *))                                                                        \
        argc++;                                                                                                   \
    va_end(count_ap);                                                                                             \
    char *argv[argc + 1];                                                                                         \
    va_list ap_after;                                                                                             \
    va_start(ap_after, first);                                                                                    \
    argv[0] = (char *)first;                                                                                      \
    for (size_t i = 1; i <= argc; i++)                                                                            \
        argv[i] = va_arg(ap_after, char *);

HD_EXPORT int execl(const char *path, const char *arg, ...) {
    COLLECT_ARGUMENTS(arg, argv, ap)
    va_end(ap);
    return execv(path, argv);
}

HD_EXPORT int execlp(const char *file, const char *arg, ...) {
    COLLECT_ARGUMENTS(arg, argv, ap)
    va_end(ap);
    return execvp(file, argv);
}

HD_EXPORT int execle(const char *path, const char *arg, ...) {
    COLLECT_ARGUMENTS(arg, argv, ap)
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}
