# poolfs - plain Makefile: pattern rules, -MMD dependency files, pkg-config.
#
#   make            build poolfs, poolctl and the unit tests into build/
#   make test       install deps, build, run unit tests then mounted tests
#   make san        the same under ASan + UBSan (build-san/)
#   make tsan       the multi-threaded daemon under TSan (build-tsan/)
#   make demo       install deps, build, create and mount a demo pool
#   make bench      benchmarks against passthrough_ll and the native fs
#   make fuzz       libFuzzer targets for the format engines (clang)

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD   ?= build
CC      ?= gcc

PKGS    := fuse3 rocksdb jansson libcrypto cunit
WARN    := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
           -Wwrite-strings -Wvla -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) $(CFLAGS) \
           -I. -include common/banned.h $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=address,undefined
endif
ifeq ($(SAN),thread)
ALL_CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=thread
endif

# tools/ is library too but for poolctl.c: the control protocol, server and
# commands run in poolfs (the server answers on STORE/control.sock) and in
# poolctl (without a daemon); docs/code.md.
LIB_SRC   := $(wildcard common/*.c store/*.c policy/*.c policy/desens/*.c) \
             $(filter-out tools/poolctl.c,$(wildcard tools/*.c))
FS_SRC    := $(wildcard fs/*.c)
TEST_SRC  := $(wildcard tests/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)

# Files with test hooks (#ifdef POOL_TEST) are compiled a second time with
# -DPOOL_TEST into the library only the unit tests link: the hooks never
# reach poolfs, poolctl or the benches.
TEST_HOOK_SRC := store/audit_journal.c store/chunker.c store/chunk_writer.c store/pack.c \
		 store/pack_gc.c

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_LIB_OBJ := $(filter-out $(TEST_HOOK_SRC:%.c=$(BUILD)/%.o),$(LIB_OBJ)) \
             $(TEST_HOOK_SRC:%.c=$(BUILD)/test-hooks/%.o)
FS_OBJ    := $(FS_SRC:%.c=$(BUILD)/%.o)
TESTS     := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
LIB       := $(BUILD)/libpool.a
TEST_LIB  := $(BUILD)/libpool-test.a
# the disk-fault shim of tests/mount/t_faults.sh: LD_PRELOADed, never installed
FAULT_SHIM := $(BUILD)/tests/libfaultfs.so

all: $(BUILD)/poolfs $(BUILD)/poolctl $(TESTS) $(BENCHES) $(FAULT_SHIM)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DPOOL_TEST -MMD -MP -c -o $@ $<

$(BUILD)/test-hooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DPOOL_TEST -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(TEST_LIB): $(TEST_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/poolfs: $(FS_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/poolctl: $(BUILD)/tools/poolctl.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# no _FILE_OFFSET_BITS: it defines open() and open64() both, as libc does
$(FAULT_SHIM): tests/fault/shim.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@bash scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/run.sh

san: deps
	@$(MAKE) --no-print-directory BUILD=build-san SAN=1 CFLAGS="-O1 -g" all
	@T_SLOW=2 TEST_BUDGET=5400 BUILD=build-san bash tests/run.sh

tsan: deps
	@$(MAKE) --no-print-directory BUILD=build-tsan SAN=thread CFLAGS="-O1 -g" all
	@T_SLOW=5 TEST_BUDGET=7200 BUILD=build-tsan bash tests/run.sh mount

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash bench/run.sh

soak: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash bench/soak.sh

fuzz: deps
	@bash tests/fuzz/run.sh

# mount -t fuse.poolfs: mount(8) runs /sbin/mount.fuse.poolfs, else
# /sbin/mount.fuse (fuse3 ships it as a link to mount.fuse3); the link is
# made only where the latter is missing. mount.fuse3 then finds poolfs in
# the shell's default PATH, which holds /usr/local/bin and /usr/bin.
# The unit is made here, not in BUILD: it names BINDIR, which each
# install may set differently.
install: $(BUILD)/poolfs $(BUILD)/poolctl
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(PREFIX)/share/doc/poolfs $(DESTDIR)/etc/poolfs/mounts
	install -m 755 $(BUILD)/poolfs $(BUILD)/poolctl $(DESTDIR)$(BINDIR)/
	install -m 644 docs/poolfs.8 docs/poolctl.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/poolfs@.service.in > $(DESTDIR)$(UNITDIR)/poolfs@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/poolfs@.service
	install -m 644 systemd/mount.conf.example docs/admin-guide.md \
		$(DESTDIR)$(PREFIX)/share/doc/poolfs/
	if [ ! -e /sbin/mount.fuse ] && [ ! -e /usr/sbin/mount.fuse ]; then \
		install -d $(DESTDIR)/sbin && ln -sf mount.fuse3 $(DESTDIR)/sbin/mount.fuse.poolfs; fi

clean:
	rm -rf build build-san build-tsan build-fuzz

.PHONY: all deps test san tsan demo bench soak fuzz install clean
# keep the objects of the test and bench programs (made through pattern
# rules, so make would delete them); a bare .SECONDARY: would make every
# target intermediate, and a deleted libpool.a was then never rebuilt
.SECONDARY: $(TESTS:%=%.o) $(BENCHES:%=%.o)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
