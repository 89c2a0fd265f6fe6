/* Which byte strings the ring buffer delivers may be taken as records (struct calyx_event
 * and its bodies, calyx.h). Every consumer (sentinel/events.h, sentinel/procs.h,
 * run/summary.h) reads a record's body by its type, so only whole records of a known type,
 * whose head says the size the ring buffer delivered and whose size is its type's, may
 * reach them: anything else is counted as malformed (user/enforce/slots.c). Pure module. */
#ifndef CALYX_RINGREC_H
#define CALYX_RINGREC_H
#include <stdbool.h>
#include <stddef.h>

/* Whether the size bytes at data (8-byte aligned, as the ring buffer hands them over)
 * are one record a consumer may read. */
bool ringrec_valid(const void *data, size_t size);

#endif
