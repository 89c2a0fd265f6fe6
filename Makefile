# calyx build. All outputs under build/. `make V=1` shows the commands.
.DELETE_ON_ERROR:
.SUFFIXES:

BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang-19
BPFTOOL   ?= bpftool
LLVM_STRIP ?= llvm-strip-19

ifeq ($(V),1)
Q :=
else
Q := @
endif

# The release version (semantic versioning): this line is the only place it is written.
# The commit is the build's own (git, "-dirty" with uncommitted changes); a tree without
# git history says "unknown" unless COMMIT is given (a packager's tarball build).
CALYX_VERSION := 0.1.0
COMMIT    ?= $(shell c=$$(git rev-parse --short=7 HEAD 2>/dev/null) && { git diff --quiet HEAD -- 2>/dev/null || c=$$c-dirty; echo $$c; })
VERSION   := $(CALYX_VERSION) (commit $(or $(COMMIT),unknown))
PKGS      := libsodium yaml-0.1 libcjson libbpf libseccomp
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -MMD -MP -D_GNU_SOURCE \
             -I user -I bpf -I $(BUILD)
# Extra compile and link flags for every C unit and binary: make test-asan sets the
# sanitizers here (a separate BUILD), so CFLAGS and its defaults stay as they are.
SANITIZE  ?=
CFLAGS    += $(SANITIZE)
# TEST_HOOKS=1: the fault-injection hooks compiled in (user/base/testhook.h); only
# `make test-hooks` sets it, for its own tree. The shipped binary never has them.
ifeq ($(TEST_HOOKS),1)
CFLAGS    += -DCALYX_TEST_HOOKS
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libarchive 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz
# calyx opens libarchive with dlopen (user/rollback/archive_lib.h): only the tests that
# craft packs themselves link it.
ARCHIVE_LIBS = $(shell pkg-config --libs libarchive 2>/dev/null)

# bpftool gen skeleton output for every bpf/*.bpf.c program.
# Three objects: the resident program set (bpf/calyx.bpf.c, one unit that includes the
# per-concern sources), the doctor's probes and the landlock backend's audit-only observer
# (loaded per audit-only run). The per-concern files are not objects.
BPF_SRCS  := bpf/calyx.bpf.c bpf/probe.bpf.c bpf/observe.bpf.c
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I vmlinux -I bpf

# user/<folder>/<module>.c -> build/obj/<folder>/<module>.o (layout: README.md "Source tree").
USER_SRCS := $(wildcard user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS)) $(BUILD)/obj/shipped_matrix.o \
             $(BUILD)/obj/version.o

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

.PHONY: all deps test test-unit test-cli test-fuzz test-host test-vm test-asan test-hooks demo fuzz fuzz-build bench clean install uninstall
all: $(BUILD)/calyx

# scripts/deps.sh installs the packages whose headers every compile needs. It runs once
# per make invocation, and every compile waits for it (an order-only prerequisite: it
# orders, it never makes a target out of date), so `make -j` cannot compile an object
# before the headers are there. It installs the package groups (scripts/deps.sh) of the
# goals make was given: the binary alone never pulls in QEMU or the fuzzing toolchain,
# and `make test` and `make demo` on a fresh machine install all they run.
DEPS_FOR_test      := unit test fuzz vm install
DEPS_FOR_test-unit := unit
DEPS_FOR_test-cli  := test
DEPS_FOR_test-host := test install
DEPS_FOR_test-vm   := vm
DEPS_FOR_test-asan := unit test $(if $(filter 1,$(ASAN_HOST)),install)
DEPS_FOR_demo      := demo vm
DEPS_FOR_fuzz      := fuzz
DEPS_FOR_fuzz-build := fuzz
DEPS_FOR_test-fuzz := fuzz
DEPS_FOR_bench     := vm
DEPS_GROUPS := build $(foreach g,$(MAKECMDGOALS),$(DEPS_FOR_$(g)))
deps:
	$(Q)scripts/deps.sh $(sort $(DEPS_GROUPS))

# Only the modules that include a generated skeleton wait for the BPF build.
SKEL_USERS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(shell grep -lE 'skel\.h|objhash\.h' $(USER_SRCS) 2>/dev/null))
$(SKEL_USERS): | $(BPF_SKELS)

# A unit test or fuzz target names the modules it links in a line
# "links: base/errmsg policy/pathpat" (folder/module under user/) near its top, so one
# module's unfinished work never blocks another module's tests.
links_of = $(shell sed -n 's/.*links:[[:space:]]*\([a-z0-9_/ ]*\).*/\1/p' $(1) | head -n1)

$(BUILD)/calyx: $(USER_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/obj/%.o: user/%.c | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# The version ("0.1.0 (commit 7243d07)") in one generated unit, rewritten only when it
# changes: the binary, its audit records and the stamps of the resident sets it loads
# always say the same version. The host matrix's path (SYSCONFDIR, below) is there too,
# so the binary reads the file make install wrote.
$(BUILD)/version.c: FORCE
	@mkdir -p $(@D)
	$(Q)printf '/* generated */\nconst char calyx_version[] = "%s";\nconst char calyx_host_matrix[] = "%s";\n' \
	  '$(VERSION)' '$(SYSCONFDIR)/calyx/capability_matrix.yaml' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/obj/version.o: $(BUILD)/version.c | deps
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
.PHONY: FORCE
FORCE:

# The shipped capability matrix is compiled in: `calyx run --pub KEY` uses it with KEY trusted.
$(BUILD)/shipped_matrix.c: policies/capability_matrix.yaml
	@mkdir -p $(@D)
	$(Q){ echo '/* generated from $< */'; echo 'const char calyx_shipped_matrix[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@
$(BUILD)/obj/shipped_matrix.o: $(BUILD)/shipped_matrix.c | deps
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# Kept, not deleted as intermediates of the skeletons: once their .d files exist they are
# named targets, and a missing one would rebuild its skeleton, every module that includes
# it and calyx at the next make (make install's, say) after a build from clean.
.SECONDARY: $(BPF_OBJS)
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c vmlinux/vmlinux.h | deps
	@mkdir -p $(@D)
	@echo "  BPF     $<"
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

# The skeleton and, beside it, the object's BLAKE2b-256: the stamp a resident set carries
# (user/enforce/resident.c compares it with every run, without reading the object).
$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp
	$(Q){ echo '/* generated: BLAKE2b-256 of $(notdir $<), the object $(notdir $@) embeds */'; \
	  b2sum -l 256 $< | cut -c1-64 | sed -e 's/../0x&, /g' -e 's/^/#define CALYX_OBJECT_HASH_$(shell echo $* | tr a-z A-Z) { /' -e 's/, $$/ }/'; } > $(BUILD)/$*.objhash.h
	$(Q)mv $@.tmp $@

.SECONDEXPANSION:
# Only sources and objects reach the compiler: $^ also holds the headers its .d file names.
$(BUILD)/tests/%: tests/unit/%.c $$(addprefix $(BUILD)/obj/,$$(addsuffix .o,$$(call links_of,tests/unit/$$*.c))) | deps
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) $(ARCHIVE_LIBS) -lcmocka

test: all test-unit test-cli test-fuzz test-host test-vm test-asan
# make test runs the sanitizer tier whole, its host run included (ASAN_HOST=1; about 7
# minutes more than the plain tiers alone, docs/sanitizers.md "Time"; `make test
# ASAN_HOST=0` leaves it out), after the plain host tier: the two share the host's
# cgroups and resident sets.
test: ASAN_HOST = 1
ifneq ($(filter test,$(MAKECMDGOALS)),)
test-asan: | test-host
endif

# The test build (docs/reliability.md): the same sources with the hooks, in
# $(BUILD)/testhooks/calyx, for tests/host/crash.sh. Never installed.
test-hooks: | deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/testhooks TEST_HOOKS=1 all

test-unit: $(UNIT_BINS) | deps
	$(Q)scripts/run-unit-tests.sh $(UNIT_BINS)

test-cli: $(BUILD)/calyx | deps
	$(Q)tests/cli/run.sh $(BUILD)/calyx

# Host tier: needs root (cgroups, BPF, Landlock) on the real kernel.
test-host: $(BUILD)/calyx test-hooks | deps
	$(Q)tests/host/run.sh $(BUILD)/calyx

# VM tier: the bpf-lsm backend and the escape suite in QEMU with Debian's 6.1 kernel, and
# again with Debian's 6.12 kernel: the CO-RE programs must load and enforce on both.
VM_KERNELS ?= 6.1 6.12
test-vm: $(BUILD)/calyx | deps
	$(Q)for k in $(VM_KERNELS); do scripts/vm-test.sh --kernel $$k $(BUILD)/calyx || exit 1; done

# Sanitizer tier (docs/sanitizers.md): calyx and the unit tests built again under
# $(ASAN_BUILD) with ASan, LSan and UBSan, every finding fatal (scripts/sanitized.sh); the
# unit and CLI tiers run with that build. ASAN_HOST=1 runs the host tier with it too
# (root; under /tmp/calyx-tier.lock when other host runs share the machine), after the
# sanitized test build crash.sh runs (its test-hooks calyx, next to the binary it tests).
ASAN_BUILD ?= $(BUILD)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_UNIT  := $(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(UNIT_BINS))
test-asan: | deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) SANITIZE='$(ASAN_FLAGS)' $(ASAN_BUILD)/calyx $(ASAN_UNIT)
	$(Q)echo '$(ASAN_FLAGS)' > $(ASAN_BUILD)/sanitize.flags   # for helpers linked against these objects (tests/lib/objs.sh)
	$(Q)if [ "$(ASAN_HOST)" = 1 ]; then \
	  $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD)/testhooks SANITIZE='$(ASAN_FLAGS)' TEST_HOOKS=1 $(ASAN_BUILD)/testhooks/calyx && \
	  echo '$(ASAN_FLAGS)' > $(ASAN_BUILD)/testhooks/sanitize.flags; fi   # crash.sh's test build, next to the calyx it tests
	$(Q)tests/asan/selftest.sh $(ASAN_BUILD) '$(ASAN_FLAGS)'
	$(Q)scripts/sanitized.sh $(ASAN_BUILD)/reports/unit scripts/run-unit-tests.sh $(ASAN_UNIT)
	$(Q)scripts/sanitized.sh $(ASAN_BUILD)/reports/cli tests/cli/run.sh $(ASAN_BUILD)/calyx
	$(Q)if [ "$(ASAN_HOST)" = 1 ]; then scripts/sanitized.sh $(ASAN_BUILD)/reports/host tests/host/run.sh $(ASAN_BUILD)/calyx; fi

demo: all | deps
	$(Q)scripts/demo.sh $(BUILD)/calyx

# The benchmark (tests/bench/README.md): one table of VM (QEMU TCG -icount, guest-ns) and
# host (hyperfine) figures; outputs under $(BUILD)/bench. BENCH_ARGS e.g. '--kernel 6.12'.
bench: all | deps
	$(Q)tests/bench/run.sh $(BENCH_ARGS) $(BUILD)/calyx

# libFuzzer targets (docs/fuzzing.md): clang with ASan and UBSan, every UBSan report fatal.
# One per parser of untrusted or operator input, tests/fuzz/fuzz_NAME.c, seeds in
# tests/fuzz/seeds/NAME. `make fuzz` runs each FUZZ_RUNS times, its generated corpus kept
# in build/fuzz/corpus-NAME; the long campaign is scripts/fuzz-long.sh.
FUZZ_RUNS ?= 1000000
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=gnu11 -D_GNU_SOURCE -I user -I bpf -I $(BUILD)
# Every header is a prerequisite (the sources are compiled in one clang call, no .d files).
$(BUILD)/fuzz/%: tests/fuzz/%.c $$(addprefix user/,$$(addsuffix .c,$$(call links_of,tests/fuzz/$$*.c))) \
		 $(wildcard user/*/*.h bpf/*.h) | deps
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS)
fuzz-build: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS) | deps
	$(Q)for f in $(FUZZ_BINS); do \
	  n=$$(basename $$f); n=$${n#fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "== $$n: $(FUZZ_RUNS) runs"; \
	  $$f -runs=$(FUZZ_RUNS) -max_len=65536 -artifact_prefix=$(BUILD)/fuzz/ \
	    $(BUILD)/fuzz/corpus-$$n tests/fuzz/seeds/$$n || exit 1; \
	done

# The regression run of `make test`: every target over all its seeds (the inputs of past
# findings among them), then FUZZ_TEST_RUNS mutations from a fixed -seed, into a corpus
# emptied first, so a regression that crashes on a seed fails the same way every time.
FUZZ_TEST_RUNS ?= 4000
test-fuzz: $(FUZZ_BINS) | deps
	$(Q)pass=0; fail=0; for f in $(FUZZ_BINS); do \
	  n=$$(basename $$f); c=$(BUILD)/fuzz/test-corpus-$$n; rm -rf $$c; mkdir -p $$c; \
	  if $$f -runs=$(FUZZ_TEST_RUNS) -seed=1 -max_len=65536 -artifact_prefix=$(BUILD)/fuzz/ \
	       $$c tests/fuzz/seeds/$${n#fuzz_} >$(BUILD)/fuzz/test-$$n.log 2>&1; then \
	    echo "ok - $$n: its seeds and $(FUZZ_TEST_RUNS) runs"; pass=$$((pass + 1)); \
	  else \
	    echo "not ok - $$n: see $(BUILD)/fuzz/test-$$n.log"; tail -n 30 $(BUILD)/fuzz/test-$$n.log; \
	    fail=$$((fail + 1)); \
	  fi; \
	done; echo "$$pass passed, $$fail failed"; [ $$fail -eq 0 ]

# make install [PREFIX=/usr/local] [DESTDIR=…] (docs/install.md): the binary, the man
# pages, the bash completion, the systemd unit of the resident enforcer, and the shipped
# matrix as /etc/calyx/capability_matrix.yaml. An existing matrix there is never
# overwritten: when it differs from the shipped one, the shipped one goes beside it as
# capability_matrix.yaml.dist. make uninstall removes the same files, and the matrix only
# when it is still byte for byte the shipped one (an edited host policy stays).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR    ?= $(PREFIX)/lib/systemd/system
# The pages' sources are docs/man/*.[15], their footer's version a placeholder filled in
# from CALYX_VERSION (the one place it is written).
MAN1 := $(patsubst docs/man/%,$(BUILD)/man/%,$(wildcard docs/man/*.1))
MAN5 := $(patsubst docs/man/%,$(BUILD)/man/%,$(wildcard docs/man/*.5))
$(BUILD)/man/%: docs/man/% Makefile
	@mkdir -p $(@D)
	$(Q)sed 's/@VERSION@/$(CALYX_VERSION)/g' $< > $@
MATRIX_DEST := $(DESTDIR)$(SYSCONFDIR)/calyx/capability_matrix.yaml

install: $(BUILD)/calyx $(MAN1) $(MAN5)
	install -D -m 0755 $(BUILD)/calyx $(DESTDIR)$(BINDIR)/calyx
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -D -m 0644 scripts/install/calyx.bash-completion $(DESTDIR)$(COMPLETIONDIR)/calyx
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' scripts/install/calyx-enforcer.service.in > $(DESTDIR)$(UNITDIR)/calyx-enforcer.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/calyx-enforcer.service
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/calyx
	$(Q)if [ ! -e $(MATRIX_DEST) ] && [ ! -L $(MATRIX_DEST) ]; then \
	  echo "install -m 0644 policies/capability_matrix.yaml $(MATRIX_DEST)"; \
	  install -m 0644 policies/capability_matrix.yaml $(MATRIX_DEST); \
	elif cmp -s policies/capability_matrix.yaml $(MATRIX_DEST); then \
	  echo "$(MATRIX_DEST): already the shipped matrix"; \
	else \
	  install -m 0644 policies/capability_matrix.yaml $(MATRIX_DEST).dist; \
	  echo "$(MATRIX_DEST) differs from the shipped matrix: kept; the shipped one is $(MATRIX_DEST).dist"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/calyx
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(DESTDIR)$(COMPLETIONDIR)/calyx $(DESTDIR)$(UNITDIR)/calyx-enforcer.service
	$(Q)for f in $(MATRIX_DEST) $(MATRIX_DEST).dist; do \
	  if [ -f $$f ] && [ ! -L $$f ] && cmp -s policies/capability_matrix.yaml $$f; then \
	    echo "rm -f $$f"; rm -f $$f; \
	  elif [ -e $$f ] || [ -L $$f ]; then \
	    echo "$$f differs from the shipped matrix (edited): kept"; \
	  fi; \
	done
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/calyx 2>/dev/null || true

clean:
	rm -rf $(BUILD)

-include $(USER_OBJS:.o=.d) $(BPF_OBJS:.o=.d) $(UNIT_BINS:=.d)
