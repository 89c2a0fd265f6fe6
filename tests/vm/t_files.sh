# File access: outside the lease's paths and the baseline denied; :ro paths read-only;
# :rw paths readable and writable (content checked from outside afterwards). Host files
# outside the sandbox's view are ENOENT there and :ro binds refuse writes (EROFS) before
# the enforcer is asked; the enforcer's own refusals are shown on what the view holds but
# no rule grants: $WORK/vis/in/* (the lease's $WORK/vis/* grants only vis's entries),
# another process's /proc files, the baseline's /dev/null (ro rule, working device) and
# the private /tmp.
mkdir -p "$WORK/ro" "$WORK/rw" "$WORK/sb" "$WORK/vis/in" /srv/secret
echo ro-content > "$WORK/ro/file"
echo rw-old > "$WORK/rw/file"
echo top-secret > /srv/secret/key
echo outside > "$WORK/vis/in/outside"
sb_script "$WORK/sb/files.sh" <<EOF2
t read-etc-hostname /usr/local/bin/try_open /etc/hostname r
t read-srv-secret /usr/local/bin/try_open /srv/secret/key r
t read-sibling /usr/local/bin/try_open $WORK/vis/in/outside r
t write-devnull /usr/local/bin/try_open /dev/null w x
t create-tmp /usr/local/bin/try_open /tmp/new-in-private-tmp w x
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
	--path "$WORK/sb/**:ro" --path "$WORK/ro/**:ro" --path "$WORK/rw/**:rw" --path "$WORK/vis/*:ro" || exit 0
crun "$S" "$WORK/f.lease" /bin/sh "$WORK/sb/files.sh"
check "calyx run exits 0" run_ok
check "a host file outside the view (/etc/hostname) does not exist there" errno_is read-etc-hostname ENOENT
check "... nor /srv/secret/key" errno_is read-srv-secret ENOENT
check "read of a file the view shows but no rule grants denied" is_denied read-sibling
check "read of /proc/1/environ denied" is_denied read-proc-other
check "write into the runtime baseline (/usr): its read-only mount refuses it" errno_is write-baseline EROFS
check "write to /etc/passwd (baseline, ro): read-only mount" errno_is write-etc EROFS
check "write to the baseline's /dev/null (ro rule) denied" is_denied write-devnull
check "create in the private /tmp (no rule) denied" is_denied create-tmp
check "read inside the runtime baseline works" has "$RUN/stdout.log" "read-baseline| ok read: root:x:0:0"
check "read of a :ro path works" is_ok read-ro ro-content
check "write to a :ro path: read-only mount" errno_is write-ro EROFS
check "create in a :ro path: read-only mount" errno_is create-ro EROFS
check "the :ro file is unchanged" eq "$(cat "$WORK/ro/file")" ro-content
check "no file created in the :ro path" absent "$WORK/ro/new"
check "read of a :rw path works" is_ok read-rw rw-old
check "write to a :rw path works" is_ok write-rw "wrote 14"
check "create in a :rw path works" is_ok create-rw "wrote 15"
check "reread in the sandbox sees the new content" is_ok reread-rw rw-new-content
check "the :rw file holds the written bytes" eq "$(cat "$WORK/rw/file")" rw-new-content
check "the created file holds the written bytes" eq "$(cat "$WORK/rw/created" 2>/dev/null)" created-content
check "SVF file_event.denied for the shown, ungranted file" has_event "$S" file_event.denied "$WORK/vis/in/outside"
check "SVF file_event.denied for the write to /dev/null" has_event "$S" file_event.denied /dev/null
check "meta.json denials.file >= 4" ge "$(meta denials.file)" 4
check "no sandbox cgroup or BPF program left" no_sandbox_left
