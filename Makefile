# recite — one build system. `make` builds build/recite; `make test` runs every test.
# `make test SANITIZE=1` builds into build-san/ with ASan+UBSan and runs the same suite.
CC      ?= cc
PKGS    := libwebsockets espeak-ng libopusenc opus md4c libcjson sqlite3 libxml-2.0 libcrypto hiredis \
           libcurl libmpg123 opusfile icu-uc poppler-glib libarchive \
           libavformat libavcodec libavutil libswresample flac glib-2.0
# flite has no pkg-config file: its voices are libraries of their own.
FLITE   := -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb -lflite_cmu_us_kal16 \
           -lflite_cmu_us_kal -lflite_usenglish -lflite_cmulex -lflite
# ONNX Runtime (the piper model): pkg-config's libonnxruntime, which is Debian 13's package
# or what scripts/onnxruntime.sh assembles in /usr/local on Debian 12; else a
# deps/onnxruntime/ made by that script with ORT_PREFIX=deps/onnxruntime (no root needed).
# Without either the build stops and says how to get it: recite never builds quietly
# without its natural voices.
ORT_DIR := $(CURDIR)/deps/onnxruntime
ifeq ($(shell pkg-config --exists libonnxruntime && echo yes),yes)
ORT_CFLAGS := $(shell pkg-config --cflags libonnxruntime)
ORT_LIBS   := $(shell pkg-config --libs libonnxruntime)
else ifneq ($(wildcard $(ORT_DIR)/include/onnxruntime/onnxruntime_c_api.h),)
ORT_CFLAGS := -I$(ORT_DIR)/include/onnxruntime
ORT_LIBS   := -L$(ORT_DIR)/lib -Wl,-rpath,$(ORT_DIR)/lib -lonnxruntime
else ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(error ONNX Runtime not found (the piper model needs it): run `bash scripts/onnxruntime.sh` as root \
  (Debian 13: installs libonnxruntime-dev; Debian 12: assembles it in /usr/local), or without root \
  `ORT_PREFIX=deps/onnxruntime bash scripts/onnxruntime.sh`)
endif
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Isrc -D_GNU_SOURCE \
           $(shell pkg-config --cflags $(PKGS)) $(ORT_CFLAGS)
LDLIBS  += $(shell pkg-config --libs $(PKGS)) $(ORT_LIBS) $(FLITE) -lmp3lame -lpthread -lm

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

# The browser voices' files, copied from node_modules (npm ci runs this too, as postinstall).
VENDOR := web/vendor/espeak-ng/espeak-ng.js
$(VENDOR): node_modules/.package-lock.json scripts/vendor-web.mjs
	node scripts/vendor-web.mjs

integration: $(BUILD)/recite node_modules/.package-lock.json $(VENDOR)
	RECITE_BIN=$(abspath $(BUILD)/recite) node --test --test-concurrency=1 tests/integration/ tests/web/

e2e: $(BUILD)/recite node_modules/.package-lock.json $(VENDOR)
	RECITE_BIN=$(abspath $(BUILD)/recite) node --test --test-concurrency=1 tests/e2e/

# The suites run one after another even under -j: the integration and browser tests start
# real servers and time real playback, and on a 2-core machine running them side by side
# only makes every one of them slower and noisier. (Building is still parallel.)
test: $(BUILD)/recite
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) e2e

run: $(BUILD)/recite
	$(BUILD)/recite serve

clean:
	rm -rf build build-san

# `make install [PREFIX=/usr/local] [DESTDIR=...]`: the binary, the web player under
# share/recite/web (found from the binary: PREFIX/bin/../share/recite/web), the man page
# generated from --help (scripts/manpage.sh), the systemd unit with its paths filled in and
# its service user (sysusers.d). Outside DESTDIR the user is created and systemd reloaded;
# `systemctl enable --now recite` is then the admin's call (README: "Run it as a service").
PREFIX  ?= /usr/local
UNITDIR ?= $(PREFIX)/lib/systemd/system
$(BUILD)/recite.1: $(BUILD)/recite scripts/manpage.sh
	bash scripts/manpage.sh $(BUILD)/recite > $@.tmp && mv $@.tmp $@

$(BUILD)/recite.service: dist/recite.service.in
	@mkdir -p $(dir $@)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' $< > $@

install: $(BUILD)/recite $(BUILD)/recite.1 $(BUILD)/recite.service
	install -Dm755 $(BUILD)/recite $(DESTDIR)$(PREFIX)/bin/recite
	install -d $(DESTDIR)$(PREFIX)/share/recite/web
	cp -R web/. $(DESTDIR)$(PREFIX)/share/recite/web/
	install -Dm644 $(BUILD)/recite.1 $(DESTDIR)$(PREFIX)/share/man/man1/recite.1
	install -Dm644 $(BUILD)/recite.service $(DESTDIR)$(UNITDIR)/recite.service
	install -Dm644 dist/recite.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/recite.conf
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	  systemd-sysusers $(PREFIX)/lib/sysusers.d/recite.conf && systemctl daemon-reload; fi

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/recite $(DESTDIR)$(PREFIX)/share/recite \
	  $(DESTDIR)$(PREFIX)/share/man/man1/recite.1 $(DESTDIR)$(UNITDIR)/recite.service \
	  $(DESTDIR)$(PREFIX)/lib/sysusers.d/recite.conf

.PHONY: all unit integration e2e test run clean install uninstall
-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d

# ---- Fuzzing and ThreadSanitizer (docs/RELIABILITY.md) ---------------------------------
# `make fuzz` builds each fuzz/fuzz_*.c with clang -fsanitize=fuzzer,address,undefined
# against the sources (objects in build-fuzz/, not the gcc archive) and runs it for
# FUZZ_SECONDS on its seeds (fuzz/corpus/), the saved crash inputs
# (tests/fuzz-regressions/) and what earlier runs found (build-fuzz/corpus/). A crash
# stops the run; its input is in build-fuzz/artifacts/.
# `make fuzz-regressions` replays the seeds and saved crash inputs through the same
# targets built with $(CC) (under ASan+UBSan with SANITIZE=1); `make unit` runs it.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build-fuzz
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Isrc -D_GNU_SOURCE \
                $(shell pkg-config --cflags $(PKGS)) $(ORT_CFLAGS) -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES   := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_OBJ     := $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o)

$(FUZZ_DIR)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/librecite.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_DIR)/librecite.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/librecite.a $(LDLIBS)

fuzz-build: $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)

fuzz: fuzz-build
	@set -e; mkdir -p $(FUZZ_DIR)/artifacts; for t in $(FUZZ_NAMES); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; echo "== $$t: $(FUZZ_SECONDS) s"; \
	  dict=; if [ -f fuzz/$$t.dict ]; then dict=-dict=fuzz/$$t.dict; fi; \
	  reg=; if [ -d tests/fuzz-regressions/$$t ]; then reg=tests/fuzz-regressions/$$t; fi; \
	  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	    $(FUZZ_DIR)/$$t $$dict -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2048 \
	      -max_len=65536 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
	      $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t $$reg \
	      > $(FUZZ_DIR)/$$t.log 2>&1; then \
	    tail -n 60 $(FUZZ_DIR)/$$t.log; echo "$$t: CRASH, input in $(FUZZ_DIR)/artifacts/"; exit 1; fi; \
	  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|INITED' $(FUZZ_DIR)/$$t.log; \
	done

# The whole server's HTTP front door alone, 30 s: CI runs it in the Debian 13 leg, whose
# libwebsockets (4.3) serves keep-alive and pipelining that Debian 12's (4.1) never does, so
# the fuzz stage above cannot reach those paths.
fuzz-http:
	$(MAKE) fuzz FUZZ_NAMES=fuzz_http FUZZ_SECONDS=30

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz_common.h $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ fuzz/fuzz_$*.c fuzz/replay.c $(BUILD)/librecite.a $(LDFLAGS) $(LDLIBS)

fuzz-regressions: $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
	@set -e; for t in $(FUZZ_NAMES); do \
	  $(BUILD)/fuzz/$$t fuzz/corpus/$$t tests/fuzz-regressions/$$t; done

unit: fuzz-regressions

.PHONY: fuzz fuzz-build fuzz-regressions fuzz-http
-include $(FUZZ_OBJ:.o=.d)

# The server runs libwebsockets on a libev loop (epoll; see src/server/server.c). libev is a
# dependency of libwebsockets-dev, which ships no pkg-config file for it.
LDLIBS += -lev

# The benchmarks' C helpers (bench/*.c), linked against the archive like the server:
# `make bench-tools` builds build/bench/raw_ref, doc_ref, piper_ref and take (see docs/BENCHMARKS.md).
$(BUILD)/bench/%: bench/%.c $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/librecite.a $(LDFLAGS) $(LDLIBS)

bench-tools: $(BUILD)/bench/raw_ref $(BUILD)/bench/doc_ref $(BUILD)/bench/piper_ref $(BUILD)/bench/kokoro_ref $(BUILD)/bench/take

# ThreadSanitizer: `make tsan` builds the library, the server, the queue, piper and kokoro unit
# tests (test_piper, test_kokoro: 4 threads rendering on one shared ONNX Runtime session) and
# tests/tsan/pool_stress.c with -fsanitize=thread into build-tsan/, runs the queue test and
# the pool stress (4 real workers against the queue, evictions and take-backs racing), then
# the integration tests that drive the worker pool hardest against the TSan server.
TSAN_DIR    := build-tsan
TSAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread -std=gnu11 -Wall -Wextra \
               -Wno-unused-parameter -Isrc -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS)) $(ORT_CFLAGS)
TSAN_OBJ    := $(LIB_SRC:%.c=$(TSAN_DIR)/%.o)
TSAN_ENV    := TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
TSAN_IT     := dedup flow eviction order crash

$(TSAN_DIR)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -MMD -MP -c -o $@ $<

$(TSAN_DIR)/librecite.a: $(TSAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(TSAN_DIR)/recite: $(TSAN_DIR)/src/main.o $(TSAN_DIR)/librecite.a
	$(CC) -fsanitize=thread -o $@ $^ $(LDLIBS)

$(TSAN_DIR)/tests/%: tests/unit/%.c $(TSAN_DIR)/librecite.a tests/unit/check.h
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -Itests/unit -o $@ $< $(TSAN_DIR)/librecite.a $(LDLIBS)

$(TSAN_DIR)/tsan/%: tests/tsan/%.c $(TSAN_DIR)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) -o $@ $< $(TSAN_DIR)/librecite.a $(LDLIBS)

tsan: $(TSAN_DIR)/recite $(TSAN_DIR)/tests/test_queue $(TSAN_DIR)/tests/test_piper $(TSAN_DIR)/tests/test_kokoro $(TSAN_DIR)/tsan/pool_stress node_modules/.package-lock.json
	$(TSAN_ENV) $(TSAN_DIR)/tests/test_queue
	$(TSAN_ENV) $(TSAN_DIR)/tests/test_piper
	$(TSAN_ENV) $(TSAN_DIR)/tests/test_kokoro
	$(TSAN_ENV) $(TSAN_DIR)/tsan/pool_stress 10
	$(TSAN_ENV) RECITE_BIN=$(abspath $(TSAN_DIR)/recite) node --test --test-concurrency=1 \
	  $(TSAN_IT:%=tests/integration/%.test.mjs)

.PHONY: bench-tools tsan
-include $(TSAN_OBJ:.o=.d)
