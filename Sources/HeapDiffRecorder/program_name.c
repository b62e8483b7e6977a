/* The program's name in snapshot file names (snapshot.h: hd_program_name). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "recorder.h"
#include "proc_self.h"
#include "snapshot.h"

/* The name in the snapshot files: the name the program was started as
 * (argv[0]'s basename, glibc's program_invocation_short_name, what `ps`
 * shows), so that Debian's redis-server, a symlink to redis-check-rdb, and
 * gcc, one to x86_64-linux-gnu-gcc-12, are named as run. Read before main()
 * (preloaded): a server that rewrites argv[0] into its process title
 * (redis, nginx) does so later. Attached, argv[0] may have been rewritten
 * already, so the executable's name is kept, as it is when argv[0] is
 * empty. Leading '-' (a login shell) and '.' would make a file that looks
 * like an option or is hidden; control characters become '_'. The PROCESS
 * record keeps the executable's path (/proc/self/exe) for symbolization. */
static bool program_name_from_argv0(void) {
    const char *name = program_invocation_short_name;
    while (name && (*name == '-' || *name == '.'))
        name++;
    if (hd_late_load || !name || !*name)
        return false;
    size_t n = 0;
    for (; name[n] && n < sizeof hd_program_name - 1; n++)
        hd_program_name[n] = (unsigned char)name[n] < 0x20 || name[n] == 0x7F ? '_' : name[n];
    hd_program_name[n] = '\0';
    return true;
}

static void program_name_from_exe(void) {
    char exe[4096];
    if (!hd_proc_self_exe(exe, sizeof exe))
        return;
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    if (*base)
        snprintf(hd_program_name, sizeof hd_program_name, "%.255s", base);
}

void hd_program_name_init(void) {
    if (!program_name_from_argv0())
        program_name_from_exe();
}
