# dcmmcm: plain GNU make. Targets: all, demo, check, check-asan, check-valgrind, install, uninstall,
# clean, deps. Respects CC, CXX, CFLAGS, CXXFLAGS, LDFLAGS, PREFIX, DESTDIR; V=1 shows commands;
# BUILD=dir puts every output under dir (default build/).

VERSION   := 0.1.0
SOVERSION := 1
# libdcmmcm-media's own ABI version: a library of its own since 0.2, first released as .so.0.
MEDIA_SOVERSION := 0

PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR      ?=

BUILD    ?= build
CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
LDFLAGS  ?=
# Extra flags for every compile and link (check-asan sets the sanitizers here).
SAN      ?=

ifeq ($(origin CC),default)
CC := cc
endif
ifeq ($(origin CXX),default)
CXX := c++
endif

ifneq ($(V),1)
Q := @
endif

WARN        := -Wall -Wextra -Werror
CPPFLAGS_ALL := -Iinclude -Ilib -D_DEFAULT_SOURCE -DMCM_BUILDING_LIBRARY
C_ALL       := -std=c11 $(WARN) -fPIC -fvisibility=hidden $(CPPFLAGS_ALL) $(CFLAGS) $(SAN)
CXX_ALL     := -std=c++17 $(WARN) -fPIC -fvisibility=hidden -fvisibility-inlines-hidden $(CPPFLAGS_ALL) \
               $(CXXFLAGS) $(SAN)

# Two libraries, each linked with only what its own objects use (dependents before what they
# depend on). DCMTK's Debian dcmtk.pc names sndfile in Requires.private, so pkg-config cannot be
# asked for it without libsndfile1-dev: its headers are in the default path and these are its
# libraries.
#
# libdcmmcm: the core, the SCP runtime, the SCU and the wire (lib/core, lib/scp, lib/scu,
# lib/dcmtk): DCMTK's network and data modules, SQLite. LIB_OBJ are its objects.
DCMTK_LIBS := -ldcmnet -ldcmdata -loflog -lofstd
LIBS       := $(DCMTK_LIBS) -lsqlite3 -lpthread
LIB_C_SRC   := $(sort $(wildcard lib/core/*.c lib/scp/*.c lib/scu/*.c))
LIB_CXX_SRC := $(sort $(wildcard lib/dcmtk/*.cc))
LIB_OBJ     := $(LIB_C_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_CXX_SRC:%.cc=$(BUILD)/obj/%.o)

STATIC_LIB := $(BUILD)/libdcmmcm.a
SHARED_LIB := $(BUILD)/libdcmmcm.so.$(VERSION)
SONAME     := libdcmmcm.so.$(SOVERSION)

# libdcmmcm-media: the default media writer (lib/media, and lib/dcmtk/media for what it asks of
# DCMTK), on libdcmmcm's public API: ISO 9660 images through libisofs, labels with cairo and zint
# (zint ships no .pc file: its header is in the default path and this is its library), and
# dcmjpeg, dcmjpls and dcmimage/dcmimgle to decode compressed instances that a media application
# profile does not allow. MEDIA_LIB_OBJ are its objects.
MEDIA_PC         := libisofs-1 cairo
MEDIA_CFLAGS     := $(shell pkg-config --cflags $(MEDIA_PC) 2>/dev/null)
MEDIA_DCMTK_LIBS := -ldcmjpeg -ldcmjpls -ldcmimage -ldcmimgle -ldcmdata -loflog -lofstd
MEDIA_LIBS       := $(MEDIA_DCMTK_LIBS) $(shell pkg-config --libs $(MEDIA_PC) 2>/dev/null) -lzint -lm
MEDIA_C_SRC      := $(sort $(wildcard lib/media/*.c))
MEDIA_CXX_SRC    := $(sort $(wildcard lib/dcmtk/media/*.cc))
MEDIA_LIB_OBJ    := $(MEDIA_C_SRC:%.c=$(BUILD)/obj/%.o) $(MEDIA_CXX_SRC:%.cc=$(BUILD)/obj/%.o)
$(MEDIA_LIB_OBJ): EXTRA_CFLAGS := $(MEDIA_CFLAGS)

MEDIA_STATIC_LIB := $(BUILD)/libdcmmcm-media.a
MEDIA_SHARED_LIB := $(BUILD)/libdcmmcm-media.so.$(VERSION)
MEDIA_SONAME     := libdcmmcm-media.so.$(MEDIA_SOVERSION)

# The .pc files hold PREFIX, LIBDIR and INCLUDEDIR: pc-vars holds the values they were made with
# (and the private libraries they name) and is rewritten only when one differs, so that
# `make install PREFIX=/opt/x` after `make` remakes them, and a later `make install` remakes them
# again. PC_BUILD is where they are made: check-install makes its own elsewhere, leaving these.
# libdir and includedir are written relative to ${prefix} when they lie under it, so that
# pkg-config --define-variable=prefix=... relocates them.
PC_BUILD ?= $(BUILD)
PC_FILES := $(PC_BUILD)/dcmmcm.pc $(PC_BUILD)/dcmmcm-media.pc
pc_rel    = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
PC_SED   := -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|g' \
            -e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|g' -e 's|@VERSION@|$(VERSION)|g' \
            -e 's|@DCMTK_LIBS@|$(DCMTK_LIBS)|g' -e 's|@MEDIA_DCMTK_LIBS@|$(MEDIA_DCMTK_LIBS)|g' \
            -e 's|@MEDIA_PC@|$(MEDIA_PC)|g'

EXAMPLES := $(patsubst examples/%.c,$(BUILD)/%,$(wildcard examples/*.c))

# Tests: one Check runner. tests/LAYER/suite_NAME.c (LAYER: core, dcmtk, scp, media, tools, as in
# lib/) defines Suite *mcm_suite_NAME(void); tests/support/ is the shared test code and
# tests/check_main.c the runner's main, all linked into the one runner.
SUITE_SRC   := $(sort $(wildcard tests/*/suite_*.c))
SUITE_NAMES := $(patsubst suite_%.c,%,$(notdir $(SUITE_SRC)))
TEST_C_SRC  := tests/check_main.c $(sort $(wildcard tests/support/*.c)) $(SUITE_SRC)
TEST_CXX_SRC := $(sort $(wildcard tests/support/*.cc))
TEST_OBJ    := $(TEST_C_SRC:%.c=$(BUILD)/obj/%.o) $(TEST_CXX_SRC:%.cc=$(BUILD)/obj/%.o)
TEST_RUNNER := $(BUILD)/tests/check_dcmmcm
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
TEST_DEFS    = -DMCM_BUILD_DIR='"$(abspath $(BUILD))"' -DMCM_SOURCE_DIR='"$(abspath .)"' -I$(BUILD)/tests \
               -Itests/support

.PHONY: all deps demo check check-asan check-valgrind check-exports check-headers check-layers check-man \
        check-install check-tools install uninstall clean examples test-runner FORCE

all: deps $(STATIC_LIB) $(SHARED_LIB) $(MEDIA_STATIC_LIB) $(MEDIA_SHARED_LIB) $(PC_FILES) $(EXAMPLES)

deps:
	$(Q)build-aux/deps.sh build

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(C_ALL) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX     $<")
	$(Q)$(CXX) $(CXX_ALL) -MMD -MP -c -o $@ $<

$(STATIC_LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# The Makefile too: the soname (SOVERSION) is not in the file's name, so a bump must relink.
$(SHARED_LIB): $(LIB_OBJ) build-aux/exports.map Makefile
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CXX) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=build-aux/exports.map -Wl,--no-undefined \
	    $(SAN) $(LDFLAGS) -o $@ $(LIB_OBJ) $(LIBS)
	$(Q)ln -sf libdcmmcm.so.$(VERSION) $(BUILD)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(BUILD)/libdcmmcm.so

$(MEDIA_STATIC_LIB): $(MEDIA_LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Linked against the shared libdcmmcm it was built with, by path: it records libdcmmcm.so.0 as
# needed, and --no-undefined proves it uses nothing else of libdcmmcm than what it exports.
$(MEDIA_SHARED_LIB): $(MEDIA_LIB_OBJ) $(SHARED_LIB) build-aux/exports.map Makefile
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CXX) -shared -Wl,-soname,$(MEDIA_SONAME) -Wl,--version-script=build-aux/exports.map -Wl,--no-undefined \
	    $(SAN) $(LDFLAGS) -o $@ $(MEDIA_LIB_OBJ) $(SHARED_LIB) $(MEDIA_LIBS)
	$(Q)ln -sf libdcmmcm-media.so.$(VERSION) $(BUILD)/$(MEDIA_SONAME)
	$(Q)ln -sf $(MEDIA_SONAME) $(BUILD)/libdcmmcm-media.so

# The example tools link only the public API, against the static libraries: mcmscu libdcmmcm
# alone, mcmscp (which writes media) libdcmmcm-media too. examples/common/ is code the tools share
# (their option tables' parser): linked into each, never a tool of its own.
TOOL_COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard examples/common/*.c))
$(TOOL_COMMON_OBJ): $(BUILD)/obj/examples/common/%.o: examples/common/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -std=c11 $(WARN) -Iinclude -D_DEFAULT_SOURCE $(CFLAGS) $(SAN) -MMD -MP -c -o $@ $<

$(BUILD)/mcmscp: EXAMPLE_LIBS = $(MEDIA_STATIC_LIB) $(STATIC_LIB) $(MEDIA_LIBS) $(LIBS)
$(BUILD)/mcmscp: $(MEDIA_STATIC_LIB)
$(BUILD)/%: examples/%.c $(TOOL_COMMON_OBJ) $(STATIC_LIB)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) -std=c11 $(WARN) -Iinclude -D_DEFAULT_SOURCE $(CFLAGS) $(SAN) -MMD -MP -MT $@ -MF $@.d -o $@.o -c $<
	$(Q)$(CXX) $(SAN) $(LDFLAGS) -o $@ $@.o $(TOOL_COMMON_OBJ) $(or $(EXAMPLE_LIBS),$(STATIC_LIB) $(LIBS))

examples: $(EXAMPLES)

# make demo: the study generator (DCMTK only, not installed) and build-aux/demo.sh.
DEMO_STUDY := $(BUILD)/demo-study
$(DEMO_STUDY): build-aux/demo-study.cc
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXXLD   $@")
	$(Q)$(CXX) -std=c++17 $(WARN) $(CXXFLAGS) $(SAN) $(LDFLAGS) -o $@ $< -ldcmdata -loflog -lofstd

demo:
	$(Q)build-aux/deps.sh media
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD) all $(DEMO_STUDY)
	$(Q)build-aux/demo.sh $(BUILD)

$(BUILD)/tests/suites.h: $(SUITE_SRC)
	@mkdir -p $(dir $@)
	$(Q)for s in $(SUITE_NAMES); do echo "MCM_SUITE($$s)"; done > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/tests/%.o: tests/%.c $(BUILD)/tests/suites.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -std=c11 $(WARN) -Iinclude -Ilib -D_DEFAULT_SOURCE $(TEST_DEFS) $(CHECK_CFLAGS) $(MEDIA_CFLAGS) $(CFLAGS) $(SAN) \
	    -MMD -MP -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.cc
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX     $<")
	$(Q)$(CXX) -std=c++17 $(WARN) -Iinclude -Ilib $(TEST_DEFS) $(CXXFLAGS) $(SAN) -MMD -MP -c -o $@ $<

# The tests reach into both libraries' internals, so they link the static archives.
$(TEST_RUNNER): $(TEST_OBJ) $(MEDIA_STATIC_LIB) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CXX) $(SAN) $(LDFLAGS) -o $@ $(TEST_OBJ) $(MEDIA_STATIC_LIB) $(STATIC_LIB) $(CHECK_LIBS) $(MEDIA_LIBS) $(LIBS)

test-runner: $(TEST_RUNNER)

check-exports: $(SHARED_LIB) $(MEDIA_SHARED_LIB)
	$(Q)build-aux/check-exports.sh $(SHARED_LIB) $(MEDIA_SHARED_LIB)

check-headers:
	$(Q)CC="$(CC)" CXX="$(CXX)" build-aux/check-headers.sh $(BUILD)

# Data flows one way (README "Layout"), proved from both libraries' objects: no circle of
# objects, no call between folders but the table's, no DCMTK header outside lib/dcmtk. The
# self-test first shows that the check fails on each kind of violation.
check-layers: $(LIB_OBJ) $(MEDIA_LIB_OBJ)
	$(Q)CC="$(CC)" CXX="$(CXX)" build-aux/test-check-layers.sh
	$(Q)build-aux/check-layers.sh $(LIB_OBJ) $(MEDIA_LIB_OBJ)

check-man: $(SHARED_LIB) $(MEDIA_SHARED_LIB)
	$(Q)build-aux/check-man.sh $(SHARED_LIB) $(MEDIA_SHARED_LIB)

check-install: all
	$(Q)MAKE="$(MAKE)" CC="$(CC)" build-aux/check-install.sh $(BUILD)

# Each tool's --help lists the options its man page documents, no more, no fewer.
check-tools: $(EXAMPLES)
	$(Q)for tool in $(EXAMPLES); do \
	    build-aux/check-tool-options.sh $$tool man/man1/$$(basename $$tool).1 || exit 1; done

# The Check runner comes last, so that make check ends with Check's own summary line.
check: all
	$(Q)build-aux/deps.sh check
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD) check-exports check-headers check-layers check-man check-install \
	    check-tools test-runner
	$(Q)cd $(BUILD) && ./tests/check_dcmmcm

check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all" all test-runner
	$(Q)cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=$(abspath build-aux/lsan.supp):print_suppressions=0 \
	    ./tests/check_dcmmcm

check-valgrind: all test-runner
	$(Q)build-aux/deps.sh valgrind
	$(Q)cd $(BUILD) && CK_FORK=no CK_TIMEOUT_MULTIPLIER=10 MCM_UNDER_VALGRIND=1 valgrind --quiet --error-exitcode=99 \
	    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --suppressions=$(abspath build-aux/valgrind.supp) ./tests/check_dcmmcm

# Rewritten (make's own file functions: no shell quoting of the values) only when they differ;
# make looks at its time again after the recipe, so the .pc files follow only a real change.
pc_same = $(and $(findstring $(1),$(2)),$(findstring $(2),$(1)))
$(PC_BUILD)/pc-vars: FORCE
	$(if $(call pc_same,$(PC_SED),$(file <$@)),@:,@$(shell mkdir -p $(dir $@))$(file >$@,$(PC_SED)):)

$(PC_BUILD)/%.pc: pkgconfig/%.pc.in $(PC_BUILD)/pc-vars
	@$(if $(Q),echo "  GEN     $@")
	$(Q)sed $(PC_SED) $< > $@.tmp && mv $@.tmp $@

FORCE:

install: all $(PC_FILES)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/dcmmcm $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BINDIR)
	install -m 644 $(STATIC_LIB) $(MEDIA_STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED_LIB) $(MEDIA_SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libdcmmcm.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libdcmmcm.so
	ln -sf libdcmmcm-media.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(MEDIA_SONAME)
	ln -sf $(MEDIA_SONAME) $(DESTDIR)$(LIBDIR)/libdcmmcm-media.so
	install -m 644 include/dcmmcm.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 include/dcmmcm/*.h $(DESTDIR)$(INCLUDEDIR)/dcmmcm/
	install -m 644 $(PC_FILES) $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 644 man/man3/*.3 $(DESTDIR)$(MANDIR)/man3/
	$(if $(wildcard man/man1/*.1),install -m 644 man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/)
	$(if $(EXAMPLES),install -m 755 $(EXAMPLES) $(DESTDIR)$(BINDIR)/)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libdcmmcm.a $(DESTDIR)$(LIBDIR)/libdcmmcm.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libdcmmcm.so
	rm -f $(DESTDIR)$(LIBDIR)/libdcmmcm-media.a $(DESTDIR)$(LIBDIR)/libdcmmcm-media.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/$(MEDIA_SONAME) $(DESTDIR)$(LIBDIR)/libdcmmcm-media.so
	rm -f $(DESTDIR)$(INCLUDEDIR)/dcmmcm.h $(DESTDIR)$(PKGCONFIGDIR)/dcmmcm.pc $(DESTDIR)$(PKGCONFIGDIR)/dcmmcm-media.pc
	rm -rf $(DESTDIR)$(INCLUDEDIR)/dcmmcm
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(wildcard man/man3/*.3)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/man1/*.1)))
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(EXAMPLES)))

clean:
	rm -rf $(BUILD) $(BUILD)-asan

-include $(LIB_OBJ:.o=.d) $(MEDIA_LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(TOOL_COMMON_OBJ:.o=.d) $(EXAMPLES:=.d)
