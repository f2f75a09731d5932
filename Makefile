# complyd - GNU make build. `make` -> build/complyd, build/complyctl;
# `make check` runs every test; `make check SANITIZE=1` the same under ASan+UBSan.

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
SYSCONFDIR ?= $(PREFIX)/etc
DATADIR	 = $(PREFIX)/share/complyd
MANDIR	 = $(PREFIX)/share/man

CC	?= cc
PKG_CONFIG ?= pkg-config
PKGS	 = libevent yaml-0.1 libpcre2-8 libcjson sqlite3 libcrypto libsystemd
TEST_PKGS = cmocka
# Debian packages that provide PKGS and TEST_PKGS (see `make deps`).
DEB_PKGS = pkg-config libevent-dev libyaml-dev libpcre2-dev libcjson-dev \
	   libsqlite3-dev libssl-dev libsystemd-dev libcmocka-dev

ifeq ($(SANITIZE),1)
BUILD	?= build/san
SAN	 = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD	?= build
SAN	 =
endif

WARN	 = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wcast-qual
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS) $(SAN) -Iinclude \
	   $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) -MMD -MP
LIBS	 = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm
TEST_LIBS = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

LIB_SRC	 = $(wildcard src/core/*.c src/rules/*.c src/engine/*.c src/daemon/*.c)
CTL_SRC	 = $(wildcard src/ctl/*.c)
LIB_OBJ	 = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CTL_OBJ	 = $(CTL_SRC:%.c=$(BUILD)/obj/%.o)
D_OBJ	 = $(BUILD)/obj/src/complyd.o
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC = $(wildcard tests/bench/*.c)
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps check unit e2e bench demo run install clean
# Keep objects of test binaries (make would delete them as intermediates).
.SECONDARY:
all: deps-ok $(BUILD)/complyd $(BUILD)/complyctl

# Fails early with the exact command when a -dev package is missing; as root it installs them.
.PHONY: deps-ok
deps-ok:
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || $(MAKE) --no-print-directory deps
deps:
	@if ! $(PKG_CONFIG) --exists $(PKGS) $(TEST_PKGS) 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing: $(DEB_PKGS)"; \
	    apt-get install -y $(DEB_PKGS) || { apt-get update && apt-get install -y $(DEB_PKGS); }; \
	  else \
	    echo "missing build dependencies; run: sudo apt-get install $(DEB_PKGS)"; exit 1; \
	  fi; \
	fi

$(BUILD)/libcomplyd.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/complyctl: $(CTL_OBJ) $(BUILD)/libcomplyd.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/complyd: $(D_OBJ) $(BUILD)/libcomplyd.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libcomplyd.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/libcomplyd.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# Every test: cmocka unit binaries, end-to-end replay cases, the rule library's own
# test cases and the coverage gate. tests/run-all prints the final "N passed, N failed".
check: all $(UNIT_BIN)
	@BUILD=$(BUILD) sh tests/run-all $(UNIT_BIN)

bench: all $(BENCH_BIN)
	@BUILD=$(BUILD) sh tests/bench/run.sh

# The main job on the embedded default: replay the bundled sample feed against rules/.
demo: all
	$(BUILD)/complyctl replay --rules rules --meta conf/samples/meta conf/samples/events/*.jsonl

# Installs binaries, the unit, the rules and an installed configuration; the
# development files of conf/ (./var paths, well-known tokens) are left out.
UNITDIR	 = $(PREFIX)/lib/systemd/system
SUBST	 = sed -e 's|@DATADIR@|$(DATADIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	   -e 's|/usr/local/bin|$(BINDIR)|g' -e 's|/etc/complyd|$(SYSCONFDIR)/complyd|g'
# The daemon on the development config: SQLite and sockets under ./var.
run: all
	$(BUILD)/complyd -f -c conf/complyd.yaml

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/rules $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/complyd/meta $(DESTDIR)$(SYSCONFDIR)/complyd/holidays \
	    $(DESTDIR)$(SYSCONFDIR)/complyd/syslog-ng
	install -m 755 $(BUILD)/complyd $(BUILD)/complyctl $(DESTDIR)$(BINDIR)
	cp -R rules/. $(DESTDIR)$(DATADIR)/rules/
	install -m 644 conf/holidays/jp.yaml $(DESTDIR)$(SYSCONFDIR)/complyd/holidays/
	install -m 644 conf/syslog-ng/complyd.conf $(DESTDIR)$(SYSCONFDIR)/complyd/syslog-ng/
	$(SUBST) conf/complyd.installed.yaml > $(DESTDIR)$(SYSCONFDIR)/complyd/complyd.yaml
	install -m 640 conf/tokens.installed.yaml $(DESTDIR)$(SYSCONFDIR)/complyd/
	$(SUBST) systemd/complyd.service > $(DESTDIR)$(UNITDIR)/complyd.service
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 644 doc/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 doc/man/*.8 $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
