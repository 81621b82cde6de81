# Sanitizer builds of the host unit tests and libFuzzer harnesses for the
# portable parsers in src/lib.  Included at the end of GNUmakefile (uses its
# BUILD, Q, PYTHON and HOST_SRCS).  See docs/robustness.md.
#
#   make unit-san     host unit tests under AddressSanitizer + UBSan
#   make fuzz-check   every harness over its seed corpus and regression inputs
#   make fuzz         fuzz every harness FUZZ_SECONDS (default 60) each; table
#   make fuzz-proof-roundtrip   C escapes through python/proofboot/prooflog.py's decoder

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_HARNESS ?=
FUZZ_DIR := $(BUILD)/fuzz

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 $(SAN_FLAGS)
# Reports abort the run (and fail make); leaks count as errors too.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# ---------------------------------------------------------------- unit tests
UNIT_SAN := $(BUILD)/host/unit-tests-san

$(UNIT_SAN): $(HOST_SRCS) $(wildcard src/lib/*.h tests/unit/*.h tests/unit/data/*.inc) | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  SANCC   $@")
	$(Q)$(FUZZ_CC) $(SAN_CFLAGS) -Isrc/lib -Itests/unit $(HOST_SRCS) -o $@

.PHONY: unit-san
unit-san: $(UNIT_SAN)
	$(Q)$(SAN_ENV) $(UNIT_SAN)

# ---------------------------------------------------------------- harnesses
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_NAMES))
# The harnesses link the very src/lib sources the firmware is built from.
FUZZ_LIB_OBJS := $(patsubst src/lib/%.c,$(FUZZ_DIR)/obj/%.o,$(wildcard src/lib/*.c))
FUZZ_CFLAGS := $(SAN_CFLAGS) -fsanitize=fuzzer-no-link -Isrc/lib -Itests/fuzz -MMD -MP

$(FUZZ_DIR)/obj/%.o: src/lib/%.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/harness_%.o: tests/fuzz/fuzz_%.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/harness_%.o $(FUZZ_LIB_OBJS)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(SAN_FLAGS) -fsanitize=fuzzer $^ -o $@

# Keep the objects (make would delete them as intermediates of the pattern chain).
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_NAMES:%=$(FUZZ_DIR)/obj/harness_%.o)

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_NAMES:%=$(FUZZ_DIR)/obj/harness_%.d)

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

# Replays tests/fuzz/corpus/<h> and tests/fuzz/regressions/<h> through each
# harness once (libFuzzer -runs=0): any sanitizer report or invariant fails.
.PHONY: fuzz-check
fuzz-check: $(FUZZ_BINS) fuzz-proof-roundtrip
	$(Q)$(SAN_ENV) $(PYTHON) tests/fuzz/run_fuzz.py replay --bin-dir $(FUZZ_DIR) $(FUZZ_NAMES)

# Fuzzes each harness (or FUZZ_HARNESS=name) for FUZZ_SECONDS, one after the
# other; new inputs go to $(FUZZ_DIR)/corpus, crashes to $(FUZZ_DIR)/crashes.
.PHONY: fuzz
fuzz: $(FUZZ_BINS)
	$(Q)$(SAN_ENV) $(PYTHON) tests/fuzz/run_fuzz.py fuzz --bin-dir $(FUZZ_DIR) \
		--seconds $(FUZZ_SECONDS) $(or $(FUZZ_HARNESS),$(FUZZ_NAMES))

# The proof-line round trip: escapes made by the C writer (src/lib/proof.c)
# decoded by the Python parser (python/proofboot/prooflog.py).
PROOF_DUMP := $(FUZZ_DIR)/proof-dump

$(PROOF_DUMP): tests/fuzz/proof_dump.c src/lib/proof.c src/lib/proof.h | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  SANCC   $@")
	$(Q)$(FUZZ_CC) $(SAN_CFLAGS) -Isrc/lib tests/fuzz/proof_dump.c src/lib/proof.c -o $@

.PHONY: fuzz-proof-roundtrip
fuzz-proof-roundtrip: $(PROOF_DUMP)
	$(Q)PROOF_DUMP=$(PROOF_DUMP) $(SAN_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider \
		tests/fuzz/test_proof_roundtrip.py

# Seed corpora: `make fuzz-seeds` re-captures from QEMU and re-synthesizes.
.PHONY: fuzz-seeds
fuzz-seeds: $(ISO)
	$(Q)$(PYTHON) tests/fuzz/seeds.py capture --iso $(ISO) --elf $(ELF)
	$(Q)$(PYTHON) tests/fuzz/seeds.py synth

.PHONY: fuzz-clean
fuzz-clean:
	rm -rf $(FUZZ_DIR) $(UNIT_SAN)
