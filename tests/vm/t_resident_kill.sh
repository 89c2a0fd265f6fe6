# bpf-lsm resident set, a SIGKILLed runner (tests/lib/resident.sh; t_killrunner for the
# links themselves): nothing of its sandbox survives, what is put into the dead sandbox is
# still confined, status does not show it live, the next run frees its slot and cgroups.
resident_setup bpf-lsm
rs_case_killrunner
rs_end
