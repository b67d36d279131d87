# civis_fdw: PostgreSQL foreign data wrapper for the Civis Platform API
MODULE_big = civis_fdw
OBJS = \
	src/civis_fdw.o \
	src/option.o \
	src/naming.o \
	src/quirks.o \
	src/import.o \
	src/spec.o \
	src/qual.o \
	src/decide.o \
	src/value.o \
	src/plan.o \
	src/planner.o \
	src/scan.o \
	src/scan_sort.o \
	src/scan_store.o \
	src/scan_count.o \
	src/paging.o \
	src/request.o \
	src/transport.o \
	src/budget.o \
	src/monitor.o \
	src/http_error.o \
	src/json_page.o \
	src/decode.o \
	src/explain.o \
	src/estimate.o \
	src/analyze.o \
	src/schema_diff.o

EXTENSION = civis_fdw
DATA = civis_fdw--1.0.0.sql civis_fdw--1.0.0--1.1.0.sql civis_fdw--1.1.0--1.2.0.sql
PGFILEDESC = "civis_fdw - foreign data wrapper for the Civis Platform API"

SHLIB_LINK = -lcurl -lcjson
PG_CPPFLAGS = -I$(srcdir)/src
# Warnings are errors in CI (WERROR=1); -Wextra's noise from PostgreSQL's
# own headers is switched off by name, never wholesale.
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif
# The test build (scripts/test.sh) adds civis_fdw.debug_skip_recheck, a switch
# that gives wrong results on purpose to prove the recheck matters.  The
# installed extension and the Debian package never have it.
ifeq ($(CIVIS_TEST_BUILD),1)
PG_CPPFLAGS += -DCIVIS_TEST_BUILD
endif

REGRESS = $(shell cat $(srcdir)/test/regress_schedule 2>/dev/null)
REGRESS_OPTS = --inputdir=$(srcdir) --load-extension=civis_fdw --dbname=civis_fdw_regress

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: a changed struct in a header must
# rebuild every object (and bitcode file) that might use it
$(OBJS) $(OBJS:.o=.bc): $(wildcard $(srcdir)/src/*.h)

# The benchmark of the "Performance" issue (bench/run.sh; not a test).
.PHONY: bench
bench:
	bash $(srcdir)/bench/run.sh

# The shared request budget's bench (issue 20; bench/budget.sh; not a test).
.PHONY: bench-budget
bench-budget:
	bash $(srcdir)/bench/budget.sh

# The differential fuzzer with a fresh random seed (issue 9; scripts/fuzz.sh
# builds and installs, like scripts/test.sh).  FUZZ_SEED=N picks the seed.
.PHONY: fuzz
fuzz:
	bash $(srcdir)/scripts/fuzz.sh $(FUZZ_SEED)
