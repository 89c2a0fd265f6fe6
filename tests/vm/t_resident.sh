# The resident program set of the bpf-lsm backend (tests/lib/resident.sh, the cases shared
# with the host tier's landlock run): the first run loads it and later runs load no
# program at all (count, and the next program id), two first runs racing load it once, a
# set of another build is replaced when idle and refused (75) while it serves a sandbox,
# and enforcer stop refuses (75) a live sandbox, --force kills it, then nothing is left
# and the host's BPF objects are back to before. Concurrency: t_resident_conc; a killed
# runner: t_resident_kill; the landlock backend here: t_resident_landlock.
resident_setup bpf-lsm
rs_case_first_load
base=$RS_BASE_COUNT
rs_case_race
rs_case_upgrade
rs_case_stop "$base"
