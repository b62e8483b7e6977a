/* proc_self.c: this process's own /proc files, through a descriptor of /proc
 * held from start-up (a chrooted process still reads them). */
#ifndef HEAPDIFF_PROC_SELF_H
#define HEAPDIFF_PROC_SELF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common.h"

/* Opens /proc and keeps it, unless it is kept already (attached, an earlier
 * read opened it); before the program can chroot: at start-up, or at
 * attach. */
void hd_proc_self_open(void) HD_HIDDEN;
/* heapdiff attach, at the end of a session: let go (a later read opens
 * /proc by path again). */
void hd_proc_self_close(void) HD_HIDDEN;
/* Up to cap bytes of /proc/self/NAME; 0 when it cannot be read. */
size_t hd_proc_self_read(const char *name, char *buf, size_t cap) HD_HIDDEN;
/* The executable's path, NUL-terminated; its length, 0 when unknown. */
size_t hd_proc_self_exe(char *buf, size_t cap) HD_HIDDEN;

/* The process's pid as heapdiff sees it: in the pid namespace of the /proc
 * held from start-up, which may not be the process's own (unshare --pid);
 * getpid() when /proc cannot say. For its files' names, snapshots and
 * control socket. */
pid_t hd_own_pid(void) HD_HIDDEN;

/* /proc/self/maps, in pages of the recorder's own (hd_pages_free gives them back). */
struct hd_maps {
    char *text;
    size_t length, capacity;
};
/* Reads the file (again); false when it cannot be read. */
bool hd_maps_load(struct hd_maps *m) HD_HIDDEN;
/* PROT_* of the mapping that holds address, -1 when none does. */
int hd_maps_protection(const struct hd_maps *m, uintptr_t address) HD_HIDDEN;

#endif
