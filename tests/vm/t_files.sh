# File access: outside the lease's paths and the baseline denied; :ro paths read-only;
# :rw paths readable and writable (content checked from outside afterwards).
mkdir -p "$WORK/ro" "$WORK/rw" "$WORK/sb" /srv/secret
echo ro-content > "$WORK/ro/file"
echo rw-old > "$WORK/rw/file"
echo top-secret > /srv/secret/key
echo outside > "$WORK/outside"
sb_script "$WORK/sb/files.sh" <<EOF2
t read-etc-hostname /usr/local/bin/try_open /etc/hostname r
t read-srv-secret /usr/local/bin/try_open /srv/secret/key r
t read-sibling /usr/local/bin/try_open $WORK/outside r
t read-proc-other /usr/local/bin/try_open /proc/1/environ r
t write-baseline /usr/local/bin/try_open /usr/local/bin/hello a
t write-etc /usr/local/bin/try_open /etc/passwd a
t read-baseline /usr/local/bin/try_open /etc/passwd r
t read-ro /usr/local/bin/try_open $WORK/ro/file r
t write-ro /usr/local/bin/try_open $WORK/ro/file w overwritten
t create-ro /usr/local/bin/try_open $WORK/ro/new w created
t read-rw /usr/local/bin/try_open $WORK/rw/file r
t write-rw /usr/local/bin/try_open $WORK/rw/file w rw-new-content
t create-rw /usr/local/bin/try_open $WORK/rw/created w created-content
t reread-rw /usr/local/bin/try_open $WORK/rw/file r
EOF2
S=$WORK/f.state
issue "$WORK/f.lease" --cmd "/bin/sh $WORK/sb/files.sh" --helper /bin/sh --helper /usr/local/bin/try_open \
	--path "$WORK/sb/**:ro" --path "$WORK/ro/**:ro" --path "$WORK/rw/**:rw" || exit 0
crun "$S" "$WORK/f.lease" /bin/sh "$WORK/sb/files.sh"
check "calyx run exits 0" run_ok
check "read outside the lease (/etc/hostname) denied" is_denied read-etc-hostname
check "read outside the lease (/srv/secret/key) denied" is_denied read-srv-secret
check "read of a sibling of the lease paths denied" is_denied read-sibling
check "read of /proc/1/environ denied" is_denied read-proc-other
check "write into the runtime baseline (/usr) denied" is_denied write-baseline
check "write to /etc/passwd (baseline, ro) denied" is_denied write-etc
check "read inside the runtime baseline works" has "$RUN/stdout.log" "read-baseline| ok read: root:x:0:0"
check "read of a :ro path works" is_ok read-ro ro-content
check "write to a :ro path denied" is_denied write-ro
check "create in a :ro path denied" is_denied create-ro
check "the :ro file is unchanged" eq "$(cat "$WORK/ro/file")" ro-content
check "no file created in the :ro path" absent "$WORK/ro/new"
check "read of a :rw path works" is_ok read-rw rw-old
check "write to a :rw path works" is_ok write-rw "wrote 14"
check "create in a :rw path works" is_ok create-rw "wrote 15"
check "reread in the sandbox sees the new content" is_ok reread-rw rw-new-content
check "the :rw file holds the written bytes" eq "$(cat "$WORK/rw/file")" rw-new-content
check "the created file holds the written bytes" eq "$(cat "$WORK/rw/created" 2>/dev/null)" created-content
check "SVF file_event.denied for /etc/hostname" has_event "$S" file_event.denied /etc/hostname
check "SVF file_event.denied for the :ro write" has_event "$S" file_event.denied "$WORK/ro/file"
check "meta.json denials.file >= 7" ge "$(meta denials.file)" 7
check "no sandbox cgroup or BPF program left" no_sandbox_left
