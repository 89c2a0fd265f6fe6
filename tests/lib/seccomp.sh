# Shared by host tests (sourced): the shipped matrix with the seccomp baseline's
# inet_sockets group relaxed, for tests that exercise the cgroup/LSM network programs
# behind socket(AF_INET/AF_INET6), which the baseline refuses first under deny_all
# (docs/seccomp.md).
# inet_matrix OUT: write it to OUT; non-zero (and a message) when the shipped matrix no
# longer has the line to change.
inet_matrix() {
	sed -e 's/^seccomp: {allow: \[\]}$/seccomp: {allow: [inet_sockets]}/' \
		policies/capability_matrix.yaml > "$1" &&
		grep -qx 'seccomp: {allow: \[inet_sockets\]}' "$1" ||
		{ echo "inet_matrix: policies/capability_matrix.yaml has no 'seccomp: {allow: []}' line" >&2; return 1; }
}
