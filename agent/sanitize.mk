# agent/sanitize.mk: `make SANITIZE=address,undefined` (any -fsanitize=
# list) builds the agent, its unit tests and the pgoutput driver with
# those sanitizers; `make test SANITIZE=...` runs every suite with them
# (scripts/run-tests.sh: how reports are caught, docs/fuzzing.md).
#
# Included by agent/Makefile and test/pgoutput.mk (which also runs on its
# own).  Objects are built beside their sources, so .build-flags records
# the compiler and sanitizers they were built with: when SANITIZE (or CC)
# changes, everything that depends on it is rebuilt instead of a mix of
# sanitized and plain objects being linked.

SANITIZE ?=
# clang's UBSan checks more than gcc 12's (a non-zero offset applied to a
# null pointer, for one), and the fuzz targets are built with it too: it is
# the compiler of sanitized builds unless CC is set.
ifneq ($(SANITIZE),)
ifeq ($(origin CC),default)
CC = clang-14
endif
endif
SAN_FLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
BUILD_FLAGS_STAMP = .build-flags
BUILD_FLAGS_NOW = $(CC) $(SAN_FLAGS)
$(shell echo '$(BUILD_FLAGS_NOW)' | cmp -s - $(BUILD_FLAGS_STAMP) || echo '$(BUILD_FLAGS_NOW)' > $(BUILD_FLAGS_STAMP))
