/* The state directory layout (docs/run.md: artifacts, SVF log, ledger, runner records). */
#ifndef CALYX_STATE_H
#define CALYX_STATE_H
#define CALYX_STATE_DEFAULT "/var/lib/calyx"
#define CALYX_STATE_ENV "CALYX_STATE"
#define STATE_LEASES_DIR "outgoing/leases"
#define STATE_RUNS_DIR "outgoing/staging_runs"
#define STATE_RESOURCE_LOG_DIR "logs/resource_monitoring"
#define STATE_SVF_DIR "logs/svf_audit"
#define STATE_SVF_LOG "logs/svf_audit/svf.jsonl"
#define STATE_LEDGER_DIR "ledger"
#define STATE_RUNNERS_DIR "run"     /* STATE/run/<run name>.json: one record per runner at work */
/* --state, else $CALYX_STATE, else the default. */
const char *state_dir_resolve(const char *cli_value);
/* mkdir -p of dir/sub with mode 0750. 0 or -errno. */
int state_mkdirs(const char *dir, const char *sub);
#endif
