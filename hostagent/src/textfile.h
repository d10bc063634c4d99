/* textfile.h: whole-file text reads and writes for the sysfs-style backends (cgroup,
 * resctrl), internal to hostagent/src. */
#ifndef HOSTAGENT_SRC_TEXTFILE_H
#define HOSTAGENT_SRC_TEXTFILE_H

#include <stddef.h>

/* Reads up to len - 1 bytes of path into buf (NUL-terminated). Returns the byte count or
 * -errno. */
int ha_read_text(const char *path, char *buf, size_t len);
/* Writes text to path in one write(2) (kernel control files take a value per write).
 * O_CREAT lets a temporary test tree stand in for sysfs/cgroupfs, where every file exists.
 * Returns 0 or -errno (-EIO for a short write). */
int ha_write_text(const char *path, const char *text);

#endif
