# The argv-binding tests' shared predicate (POSIX sh: sourced by tests/escape/e_argv.sh in
# the VM under busybox sh and by tests/host/argv.sh under bash). The caller defines
# `line NAME`: that check's "rc=N OUTPUT" from the sandboxed script's output.

# killed NAME: the check's process died of SIGKILL (rc 137, not any other failure), and no
# payload's mark shows (42001: python3 -c 'print(6*7*1000+1)'; HELLO-RAN, TOOL-RAN,
# PAYLOAD-RAN: the probes and scripts). Sets WHY.
killed() {
	_l=$(line "$1")
	case $_l in
	*42001*|*PAYLOAD-RAN*|*HELLO-RAN*|*TOOL-RAN*) WHY="the payload ran: '$_l'"; return 1 ;;
	"rc=137 "*) return 0 ;;
	esac
	WHY="want rc=137 (SIGKILL), got '${_l:-<no line $1>}'"
	return 1
}
