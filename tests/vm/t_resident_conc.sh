# bpf-lsm resident set, many sandboxes at once (tests/lib/resident.sh): two leases at once,
# each confined by its own rules and receiving only its own records, one flooding its ring
# buffer with denials while the other's 50 are all recorded; ten runs at once, each in its
# own slot, all freed afterwards. The set is stopped at the end.
resident_setup bpf-lsm
rs_case_two
rs_case_ten
rs_end
