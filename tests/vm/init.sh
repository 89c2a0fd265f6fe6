#!/bin/sh
# /init of the VM test tier's initramfs (installed as /init by scripts/vm-initramfs.sh).
# Mounts what calyx needs, runs the guest runner (or the --shell-cmd), sends the results
# out through the second serial port and powers off. The host trusts only the final
# "RC=<n>" line: anything that stops us before it (panic, hang) is a failure there.
export PATH=/usr/local/bin:/usr/bin:/usr/sbin
export HOME=/root
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t securityfs securityfs /sys/kernel/security
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# Controllers for the sandboxes; calyx enables them further down in its own subtree.
echo "+memory +pids +cpu" > /sys/fs/cgroup/cgroup.subtree_control
hostname -F /etc/hostname
ip link set lo up

# Raw mode, or the tty turns every "\n" into "\r\n" in the host's results file.
stty -F /dev/ttyS1 raw -echo
export VM_RESULTS_TTY=/dev/ttyS1

if [ -f /tests/shell-cmd.sh ]; then
	echo "# vm: running --shell-cmd" > /dev/ttyS1
	sh /tests/shell-cmd.sh > /dev/ttyS1 2>&1
	rc=$?
else
	sh /tests/vm/run.sh
	rc=$?
fi
echo "RC=$rc" > /dev/ttyS1
sync
poweroff -f
