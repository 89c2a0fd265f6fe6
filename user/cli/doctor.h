/* `calyx doctor`: what this kernel supports and what calyx will use. */
#ifndef CALYX_DOCTOR_H
#define CALYX_DOCTOR_H
#include <stdbool.h>
/* Prints the report on stdout; returns 0 when some enforcement backend is usable, else
 * EXIT_ENFORCE_UNAVAILABLE. */
int doctor_run(bool verbose, bool json);
#endif
