/* Writing the host's Prometheus text file (docs/fleet.md "Metrics"): the state dir's
 * audit log counted (metrics.h), both resident program sets' status read, the text
 * written atomically. Used by `calyx enforcer metrics` and at the end of every run when
 * the matrix names metrics.textfile. No logging. */
#ifndef CALYX_FLEET_METRICS_WRITE_H
#define CALYX_FLEET_METRICS_WRITE_H
#include <stddef.h>

/* The text for the state dir open as state_fd, malloc'd; NULL with a message in err (a
 * log file that cannot be read, a line that is not a record, out of memory). */
char *metrics_collect(int state_fd, char *err, size_t errlen);

/* Collect and write to path: a temp file in its directory, then rename over it (mode
 * 0644), so the collector never reads half a file. 0 or -errno with a message. */
int metrics_write_textfile(int state_fd, const char *path, char *err, size_t errlen);

#endif
