/* The run report as one self-contained HTML page (docs/report.md): inline CSS, inline SVG,
 * no script, no URL of any kind, a Content-Security-Policy that forbids loading anything.
 * Every string of the run goes through report/escape.h. Pure: the page is a function of
 * the loaded run (report/load.h) and the generator line, so the same state gives the same
 * bytes. */
#ifndef CALYX_REPORT_HTML_H
#define CALYX_REPORT_HTML_H
#include "report/escape.h"
#include "report/load.h"

/* Append the page of r to b. generator names the program ("calyx 1.2-3-gabc"), trusted
 * text. 0, or -ENOMEM (b->oom: the page is incomplete and must not be written). */
int report_html(const struct report_run *r, const char *generator, struct html_buf *b);

#endif
