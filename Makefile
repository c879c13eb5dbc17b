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

LIB_SRC   := $(wildcard common/*.c store/*.c policy/*.c) \
             $(filter-out tools/poolctl.c,$(wildcard tools/*.c))
FS_SRC    := $(wildcard fs/*.c)
TEST_SRC  := $(wildcard tests/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
FS_OBJ    := $(FS_SRC:%.c=$(BUILD)/%.o)
TESTS     := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
LIB       := $(BUILD)/libpool.a
# the disk-fault shim of tests/mount/t_faults.sh: LD_PRELOADed, never installed
FAULT_SHIM := $(BUILD)/tests/libfaultfs.so

all: $(BUILD)/poolfs $(BUILD)/poolctl $(TESTS) $(BENCHES) $(FAULT_SHIM)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/poolfs: $(FS_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/poolctl: $(BUILD)/tools/poolctl.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
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
	@BUILD=build-san bash tests/run.sh

tsan: deps
	@$(MAKE) --no-print-directory BUILD=build-tsan SAN=thread CFLAGS="-O1 -g" all
	@T_SLOW=5 TEST_BUDGET=7200 BUILD=build-tsan bash tests/run.sh mount

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash bench/run.sh

fuzz: deps
	@bash tests/fuzz/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/poolfs $(BUILD)/poolctl $(DESTDIR)$(PREFIX)/bin/
	for m in docs/*.1; do [ -e "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man1/; done; true

clean:
	rm -rf build build-san build-tsan build-fuzz

.PHONY: all deps test san tsan demo bench fuzz install clean
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
