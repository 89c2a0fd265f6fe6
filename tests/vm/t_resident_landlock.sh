# The resident program set of the landlock backend on the guest kernel (Landlock ABI 2 on
# 6.1, 6 on 6.12), pure cgroup v2: the same cases as the host tier's tests/host/resident.sh.
resident_setup landlock
rs_case_first_load
base=$RS_BASE_COUNT
rs_case_race
rs_case_two
rs_case_ten
rs_case_killrunner
rs_case_upgrade
rs_case_stop "$base"
