# recite — one build system. `make` builds build/recite; `make test` runs every test.
# `make test SANITIZE=1` builds into build-san/ with ASan+UBSan and runs the same suite.
CC      ?= cc
PKGS    := libwebsockets espeak-ng libopusenc opus md4c libcjson sqlite3 libxml-2.0 libcrypto
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Isrc -D_GNU_SOURCE \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lmp3lame -lpthread -lm

ifeq ($(SANITIZE),1)
BUILD   := build-san
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
# Sanitizer settings reach every test, including the server processes the Node tests start.
export ASAN_OPTIONS := detect_leaks=1
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
else
BUILD   := build
endif

SRC      := $(wildcard src/*.c src/*/*.c)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/recite

$(BUILD)/recite: $(BUILD)/src/main.o $(BUILD)/librecite.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/librecite.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/librecite.a tests/unit/check.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/librecite.a $(LDFLAGS) $(LDLIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

node_modules/.package-lock.json: package.json
	npm ci --no-audit --no-fund

integration: $(BUILD)/recite node_modules/.package-lock.json
	RECITE_BIN=$(abspath $(BUILD)/recite) node --test --test-concurrency=1 tests/integration/ tests/web/

e2e: $(BUILD)/recite node_modules/.package-lock.json
	RECITE_BIN=$(abspath $(BUILD)/recite) node --test --test-concurrency=1 tests/e2e/

test: unit integration e2e

run: $(BUILD)/recite
	$(BUILD)/recite serve

clean:
	rm -rf build build-san

.PHONY: all unit integration e2e test run clean
-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d
