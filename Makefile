# Créance build. `make up` runs the local stack, `make test` the tests.
# Everything is built under build/; generated code is never committed.

BUILD      ?= build
MODE       ?= debug
CC         ?= cc
PKGS       := libczmq libzmq libprotobuf-c hiredis libpq libmicrohttpd jansson cairo fontconfig libcurl openssl
PYTHON     ?= /usr/bin/python3

ifeq ($(MODE),release)
OPT        := -O2 -DNDEBUG
else ifeq ($(MODE),asan)
OPT        := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDOPT      := -fsanitize=address,undefined
else ifeq ($(MODE),fuzz)
# libFuzzer builds (make fuzz): Debian's clang; every object is instrumented
# for coverage and sanitizers, the fuzz binaries link libFuzzer's main.
CC         := clang
OPT        := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
LDOPT      := -fsanitize=address,undefined
else
OPT        := -O1 -g
endif

CFLAGS     += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
              -D_GNU_SOURCE $(OPT) -I$(BUILD)/gen -Icommon \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS     += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
LDFLAGS    += $(LDOPT)

SERVICES   := broker intake risk reminders reporting
GEN_C      := $(BUILD)/gen/creance.pb-c.c
GEN_H      := $(BUILD)/gen/creance.pb-c.h
GEN_PY     := $(BUILD)/gen/py/creance_pb2.py

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC)) $(BUILD)/obj/gen/creance.pb-c.o
COMMON_LIB := $(BUILD)/lib/libcreance.a

# Each service: main.c makes the binary, its other modules form a library
# that the unit tests link against.
define service_rules
$(1)_SRC := $$(filter-out services/$(1)/main.c,$$(wildcard services/$(1)/*.c))
$(1)_OBJ := $$(patsubst %.c,$(BUILD)/obj/%.o,$$($(1)_SRC))
$(BUILD)/lib/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
$(BUILD)/bin/creance-$(1): $(BUILD)/obj/services/$(1)/main.o $(BUILD)/lib/lib$(1).a $(COMMON_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s))))

# The command-line client: services/cli/main.c makes $(BUILD)/bin/creance
# (not creance-cli), its other modules form libcli.a for the unit tests.
CLI_SRC    := $(filter-out services/cli/main.c,$(wildcard services/cli/*.c))
CLI_OBJ    := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC))
$(BUILD)/lib/libcli.a: $(CLI_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/bin/creance: $(BUILD)/obj/services/cli/main.o $(BUILD)/lib/libcli.a $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

SERVICE_LIBS := $(foreach s,$(SERVICES),$(BUILD)/lib/lib$(s).a) $(BUILD)/lib/libcli.a
BINS       := $(foreach s,$(SERVICES),$(BUILD)/bin/creance-$(s)) $(BUILD)/bin/creance-feedsim \
              $(BUILD)/bin/creance $(BUILD)/bin/creance-backtest
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# common/db.c against the e2e stack's PostgreSQL (tests/e2e/test_db_pipeline.py).
E2E_BINS   := $(BUILD)/tests/db-pipeline-check

.PHONY: all deps deps-check build build-bins test test-unit test-e2e test-faults up down status clean \
        fuzz fuzz-ci fuzz-bins test-asan test-valgrind bench bench-quick compose-test
.DEFAULT_GOAL := all

# Targets a person runs first check the Debian packages, then build in a
# second make: the compiler flags come from pkg-config, which only knows the
# libraries once they are installed.
all: deps-check
	@$(MAKE) --no-print-directory build
build: $(BINS) $(UNIT_BINS) $(E2E_BINS) $(GEN_PY)
build-bins: $(BINS)

deps:
	@scripts/deps.sh install
deps-check:
	@scripts/deps.sh check-or-install

$(GEN_C) $(GEN_H): proto/creance.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<
$(GEN_PY): proto/creance.proto
	@mkdir -p $(BUILD)/gen/py
	protoc --proto_path=proto --python_out=$(BUILD)/gen/py $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/obj/%.o: %.c $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(COMMON_LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# Risk's prediction backtest (scripts/backtest.c) uses risk's own modules.
$(BUILD)/bin/creance-backtest: $(BUILD)/obj/scripts/backtest.o $(BUILD)/lib/librisk.a $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/creance-feedsim: $(BUILD)/obj/scripts/feedsim.o $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/db-pipeline-check: $(BUILD)/obj/tests/e2e/db_pipeline_check.o $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(SERVICE_LIBS) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

test: all
	@BUILD=$(BUILD) scripts/run-tests.sh all
test-unit: all
	@BUILD=$(BUILD) scripts/run-tests.sh unit
test-e2e: all
	@BUILD=$(BUILD) scripts/run-tests.sh e2e
# Faults under a stream of 100k+ events (tests/faults): services killed,
# PostgreSQL and Redis restarted, a slow consumer. Minutes, not seconds:
# not part of `test` nor yet of CI (see README). FAULTS_ARGS go to pytest.
test-faults: all
	@PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$(abspath $(BUILD))/gen/py" \
	    CREANCE_BUILD="$(abspath $(BUILD))" $(PYTHON) -m pytest -q -s tests/faults $(FAULTS_ARGS)

# Fuzzing (tests/fuzz/README.md): libFuzzer targets built with MODE=fuzz in
# FUZZ_BUILD; `fuzz` runs each for FUZZ_SECONDS, `fuzz-ci` for 10 s.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(SERVICE_LIBS) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
fuzz-bins: $(FUZZ_BINS)
fuzz fuzz-ci: deps-check
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) MODE=fuzz fuzz-bins
	@FUZZ_BUILD=$(FUZZ_BUILD) $(if $(filter fuzz-ci,$@),FUZZ_SEED=1) tests/fuzz/run.sh $(if $(filter fuzz-ci,$@),10,$(FUZZ_SECONDS))

# Sanitizers and valgrind over the test suites (own build dirs).
ASAN_BUILD ?= build-asan
test-asan: deps-check
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) MODE=asan build
	@BUILD=$(ASAN_BUILD) tests/fuzz/sanitize.sh asan
test-valgrind: deps-check
	@$(MAKE) --no-print-directory BUILD=$(BUILD) build
	@BUILD=$(BUILD) tests/fuzz/sanitize.sh valgrind

# Benchmarks (BENCHMARKS.md): release build in BENCH_BUILD, own stack; one
# table of ingest, bus, risk (bench/risk.py), dunning (bench/dunning.py),
# KPI (bench/kpi.py) and peak RSS. BENCH_STEPS=ingest,bus,risk,dunning,kpi,rss
# picks sections (default: all).
BENCH_BUILD ?= build-bench
bench bench-quick: deps-check
	@$(MAKE) --no-print-directory BUILD=$(BENCH_BUILD) MODE=release build-bins $(BENCH_BUILD)/gen/py/creance_pb2.py $(BENCH_BUILD)/bin/bus_bench
	@BUILD=$(BENCH_BUILD) bench/run.sh $(if $(filter bench-quick,$@),quick,full)
$(BUILD)/bin/bus_bench: $(BUILD)/obj/bench/bus_bench.o $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The container stack under podman-compose (scripts/compose-test.sh): builds
# the images, runs docker-compose.yml, feeds intake and reads the API back.
# Not part of `test`: it takes minutes and installs podman when missing.
compose-test: deps-check
	@$(MAKE) --no-print-directory $(BUILD)/bin/creance-feedsim $(BUILD)/bin/creance
	@BUILD=$(BUILD) scripts/compose-test.sh

up: all
	@BUILD=$(BUILD) scripts/stack.sh up
down:
	@scripts/stack.sh down
status:
	@scripts/stack.sh status

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Keep object files of the unit tests (make treats them as intermediate).
.SECONDARY:
