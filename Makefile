# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# netprof: one entry point. `make V=1` shows full commands.

OUTPUT     ?= .output
CLANG      ?= clang
BPFTOOL    ?= bpftool
CC         ?= gcc
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS     ?= -O2 -g
WARNINGS   := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
INCLUDES   := -I$(OUTPUT) -Imaps -Ilib -I.
USER_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE $(INCLUDES)
LIBS       := -lbpf -lelf -lz -lpcap -lmnl -lm

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__BPF__ \
	      -Wall -Werror -I$(OUTPUT) -Imaps -Ibpf

BPF_OBJS   := flow sockets latency profile
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_HDRS   := $(wildcard bpf/lib/*.bpf.h) $(wildcard maps/*.h)
SKELS      := $(patsubst %,$(OUTPUT)/%.skel.h,$(BPF_OBJS))

LIB_SRCS   := $(wildcard lib/*.c)
LIB_OBJS   := $(patsubst lib/%.c,$(OUTPUT)/lib/%.o,$(LIB_SRCS))
DAEMON_OBJS := $(patsubst daemon/%.c,$(OUTPUT)/daemon/%.o,$(wildcard daemon/*.c))
CLI_OBJS   := $(patsubst cli/%.c,$(OUTPUT)/cli/%.o,$(wildcard cli/*.c))
HDRS       := $(wildcard lib/*.h maps/*.h daemon/*.h cli/*.h)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))
TEST_TOOLS := $(OUTPUT)/tests/delaybridge $(OUTPUT)/tests/hotwork
BENCH_BINS := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(filter-out %.bpf.c,$(wildcard bench/*.c)))
# fuzz harnesses (tests/fuzz): libFuzzer builds for `make fuzz`; the same with
# ASan and UBSan over their seed corpora in `make check` (FUZZ_STANDALONE)
FUZZERS    := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REGRESS := $(patsubst %,$(OUTPUT)/fuzz/regress_%,$(FUZZERS))
FUZZ_SECONDS ?= 60
SAN_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

.PHONY: install uninstall all deps demo check check-kernels test-unit test-netns bench fuzz clean
.DELETE_ON_ERROR:
.SECONDARY:

BENCH_BPF  := $(patsubst bench/%.bpf.c,$(OUTPUT)/bench/%.bpf.o,$(wildcard bench/*.bpf.c))

all: $(OUTPUT)/netprofd $(OUTPUT)/netprof $(UNIT_TESTS) $(TEST_TOOLS) $(BENCH_BINS) $(BENCH_BPF) $(FUZZ_REGRESS)

deps:
	$(Q)./tests/deps.sh debian-packages.txt

$(OUTPUT) $(OUTPUT)/lib $(OUTPUT)/daemon $(OUTPUT)/cli $(OUTPUT)/tests $(OUTPUT)/bench $(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "netprof: $(VMLINUX_BTF) missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y (or pass VMLINUX_BTF=FILE)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

# sockets.bpf.c takes ring slots with an atomic fetch-and-add (BPF v3)
$(OUTPUT)/sockets.bpf.o $(OUTPUT)/latency.bpf.o $(OUTPUT)/profile.bpf.o: BPF_CFLAGS += -mcpu=v3

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/bench/%.bpf.o: bench/%.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/lib/%.o: lib/%.c $(HDRS) $(SKELS) | $(OUTPUT)/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/daemon/%.o: daemon/%.c $(HDRS) $(SKELS) | $(OUTPUT)/daemon
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/cli/%.o: cli/%.c $(HDRS) $(SKELS) | $(OUTPUT)/cli
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/netprofd: $(DAEMON_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/netprof: $(CLI_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -o $@

# unit tests with UBSan over the library (its sources built in): undefined
# behaviour ends the test
$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/test.h $(LIB_SRCS) $(HDRS) $(SKELS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -fsanitize=undefined -fno-sanitize-recover=undefined -Itests/unit \
		$< $(LIB_SRCS) $(LIBS) -o $@

# the library built into each harness, sanitized (its own objects: no -fPIE mix)
$(OUTPUT)/fuzz/regress_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB_SRCS) $(HDRS) $(SKELS) | $(OUTPUT)/fuzz
	$(call msg,CC,$@)
	$(Q)$(CC) $(SAN_FLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -DFUZZ_STANDALONE $(INCLUDES) \
		$< $(LIB_SRCS) $(LIBS) -o $@

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB_SRCS) $(HDRS) $(SKELS) | $(OUTPUT)/fuzz
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(SAN_FLAGS) -fsanitize=fuzzer $(WARNINGS) -std=gnu11 -D_GNU_SOURCE $(INCLUDES) \
		$< $(LIB_SRCS) $(LIBS) -o $@

# `make fuzz [FUZZ_SECONDS=60]`: each harness for that long from its seeds
# (tests/fuzz/seeds; captures from ../shared/pcaps; an ELF of the tests);
# what it finds lands in $(OUTPUT)/fuzz/crash-*: add it to the seeds once fixed
fuzz: $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZERS)) $(OUTPUT)/tests/hotwork
	$(Q)./tests/fuzz/run.sh $(OUTPUT) $(FUZZ_SECONDS) $(FUZZERS)

# the profiler's workload: every function a frame, leaves included (clang:
# gcc 12 drops the frame pointer of leaf functions despite the flag; no
# shrink-wrapping, which sets the frame up only after a hot loop)
$(OUTPUT)/tests/hotwork: tests/lib/hotwork.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CLANG) -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
		-fno-optimize-sibling-calls -mllvm -enable-shrink-wrap=false -Wall -Werror $< -o $@

$(OUTPUT)/bench/%: bench/%.c $(LIB_OBJS) $(HDRS) $(SKELS) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) $< $(LIB_OBJS) $(LIBS) -o $@

# The README's two commands. Both install what is missing first.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tests/demo.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tests/run.sh

# The kernel matrix in full (tests/kernels.sh): every suite on every kernel,
# and docs/kernels.md's tables rewritten from the run. `make check` runs its
# short form. Run it before resolving a change to bpf/.
check-kernels: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tests/kernels.sh --suites probe,unit,smoke,replay --kernels 5.10,6.1,6.12,host --doc docs/kernels.md

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./bench/run.sh

# Install: `make install [PREFIX=/usr/local] [DESTDIR=]` (docs/install.md).
PREFIX     ?= /usr/local
SBINDIR    := $(PREFIX)/sbin
MANDIR     := $(PREFIX)/share/man
DOCDIR     := $(PREFIX)/share/doc/netprof
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
# netprofd's capabilities in its unit: the narrowest set that runs it all in
# the host's namespace (--netns adds CAP_SYS_ADMIN: docs/install.md)
NETPROFD_CAPS := CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_RESOURCE CAP_SYSLOG

# man pages from the programs' own --help (docs/man.py): they cannot disagree
$(OUTPUT)/man/netprof.8: docs/man.py $(OUTPUT)/netprofd $(OUTPUT)/netprof
	$(call msg,MAN,$(OUTPUT)/man)
	$(Q)python3 docs/man.py $(OUTPUT)/man $(OUTPUT)/netprofd $(OUTPUT)/netprof

install: $(OUTPUT)/netprofd $(OUTPUT)/netprof $(OUTPUT)/man/netprof.8
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSTEMDDIR)
	$(Q)install -m 755 $(OUTPUT)/netprofd $(OUTPUT)/netprof $(DESTDIR)$(SBINDIR)
	$(Q)install -m 644 $(OUTPUT)/man/*.8 $(DESTDIR)$(MANDIR)/man8
	$(Q)install -m 644 docs/*.md $(DESTDIR)$(DOCDIR)
	$(Q)install -m 644 README.md $(DESTDIR)$(DOCDIR)/overview.md
	$(Q)install -m 644 daemon/dist/netprof.bash $(DESTDIR)$(BASHCOMPDIR)/netprof
	$(Q)ln -sf netprof $(DESTDIR)$(BASHCOMPDIR)/netprofd
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|' -e 's|@CAPS@|$(NETPROFD_CAPS)|g' \
		daemon/dist/netprofd.service.in >$(DESTDIR)$(SYSTEMDDIR)/netprofd.service
	$(Q)chmod 644 $(DESTDIR)$(SYSTEMDDIR)/netprofd.service

uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/netprofd $(DESTDIR)$(SBINDIR)/netprof \
		$(DESTDIR)$(MANDIR)/man8/netprofd.8 $(DESTDIR)$(MANDIR)/man8/netprof.8 \
		$(DESTDIR)$(MANDIR)/man8/netprof-*.8 $(DESTDIR)$(BASHCOMPDIR)/netprof \
		$(DESTDIR)$(BASHCOMPDIR)/netprofd $(DESTDIR)$(SYSTEMDDIR)/netprofd.service
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
