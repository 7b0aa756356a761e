# calsync - build, test, demo and benchmark entry points.
#
#   make            build build/calsync, build/calsync-worker, build/calsync-scheduler,
#                   build/calsync-hooks
#                   (and for the tests build/calsync-worker-test: with the test provider)
#   make test       install what is missing, build, start real services, run every suite
#   make check-asan the same suite against an ASan+UBSan build (build-asan/)
#   make demo       install, build, start services, migrate, seed, run scheduler + workers
#   make bench      benchmarks (never timed assertions)
#   make chaos      the chaos test with 10,000 changes (tests/integration/test_chaos.py)
#   make lint       static checks that the compiler does not make
#   make fuzz       libFuzzer targets (build-fuzz/), each run for FUZZ_RUNS inputs
#                   (or FUZZ_SECONDS seconds) from its seed corpus in tests/fuzz/
#   make fuzz-coverage  line coverage of each fuzz target over a corpus (FUZZ_CORPUS)

CC      ?= cc
SAN     ?=
BUILD   ?= build
PKGS    := hiredis rdkafka libcurl libpq jansson libical libsodium libxml-2.0 libmicrohttpd

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += -pthread -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) \
           -Icommon -Iproviders -Iengine -Iworker -Ischeduler -Ihooks -Itests/fuzz \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread

FUZZ_LINK := -fsanitize=fuzzer,address,undefined
ifeq ($(FUZZ),1)
CC      := clang
BUILD   := build-fuzz
CFLAGS  += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
endif
ifeq ($(FUZZ),cov)
CC      := clang
BUILD   := build-fuzzcov
CFLAGS  += -O1 -fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping
FUZZ_LINK := -fsanitize=fuzzer -fprofile-instr-generate
endif

ifeq ($(SAN),1)
BUILD   := build-asan
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

MAINS     := worker/main.c scheduler/main.c cli/main.c hooks/main.c
LIB_SRCS  := $(filter-out $(MAINS),$(wildcard common/*.c providers/*.c engine/*.c worker/*.c scheduler/*.c cli/*.c hooks/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
PROGRAMS  := $(BUILD)/calsync $(BUILD)/calsync-worker $(BUILD)/calsync-scheduler $(BUILD)/calsync-hooks
# the worker of the tests: the production worker with the test provider linked in
TEST_PROGRAMS := $(BUILD)/calsync-worker-test
# the fuzz targets: the library with a scripted transport in place of libcurl's (http.c)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TARGETS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/%)
FUZZ_OBJS    := $(filter-out $(BUILD)/obj/common/http.o,$(LIB_OBJS)) \
                $(BUILD)/obj/tests/fuzz/scripted_http.o

.PHONY: all test check-asan demo bench lint setup clean unit fuzz fuzz-targets fuzz-coverage
all: $(PROGRAMS) $(TEST_PROGRAMS) $(BUILD)/test-unit $(BUILD)/provider-check

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libcalsync.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/calsync: $(BUILD)/obj/cli/main.o $(BUILD)/libcalsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/calsync-worker: $(BUILD)/obj/worker/main.o $(BUILD)/libcalsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/calsync-worker-test: $(BUILD)/obj/worker/main.o $(BUILD)/obj/tests/provider/testprov.o \
                             $(BUILD)/libcalsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/calsync-scheduler: $(BUILD)/obj/scheduler/main.o $(BUILD)/libcalsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/calsync-hooks: $(BUILD)/obj/hooks/main.o $(BUILD)/libcalsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/test-unit: $(UNIT_OBJS) $(BUILD)/libcalsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/provider-check: $(BUILD)/obj/tests/tools/provider_check.o $(BUILD)/libcalsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libfuzz.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/libfuzz.a
	$(CC) $(FUZZ_LINK) -o $@ $^ $(LDLIBS)
.SECONDARY: $(FUZZ_SRCS:%.c=$(BUILD)/obj/%.o)

fuzz-targets: $(FUZZ_TARGETS)

setup:
	@deploy/setup.sh

test: setup
	@$(MAKE) --no-print-directory all
	@tests/run.sh $(BUILD)

check-asan: setup
	@$(MAKE) --no-print-directory SAN=1 all
	@tests/run.sh build-asan

demo: setup
	@$(MAKE) --no-print-directory all
	@deploy/demo.sh

fuzz: setup
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-targets
	@tests/fuzz/run.sh build-fuzz

fuzz-coverage: setup
	@$(MAKE) --no-print-directory FUZZ=cov fuzz-targets
	@tests/fuzz/coverage.sh build-fuzzcov

bench: setup
	@$(MAKE) --no-print-directory all
	@tests/bench/run.sh $(BUILD)

.PHONY: chaos
chaos: setup
	@$(MAKE) --no-print-directory all
	@CALSYNC_CHAOS_CHANGES=10000 CALSYNC_CHAOS_SECONDS=300 CALSYNC_CHAOS_SETTLE_S=600 \
		CALSYNC_TEST_FILTER=test_chaos tests/run.sh $(BUILD)

lint:
	@tests/lint.sh

clean:
	rm -rf build build-asan build-fuzz build-fuzzcov

-include $(shell find build build-asan build-fuzz build-fuzzcov -name '*.d' 2>/dev/null)
