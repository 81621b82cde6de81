# newlib, built once from Debian's newlib-source for x86_64-elf with the
# host gcc, into the build tree (libc/build-newlib.sh).  The directory name
# carries a hash of the tarball, the flags and the compiler version, so
# changing any of them builds a new copy and an unchanged tree never
# rebuilds it.

NEWLIB_TARBALL ?= /usr/src/newlib/newlib-3.3.0.tar.xz
NEWLIB_CFLAGS := -O2 -g -ffreestanding -fno-pie -fno-pic -mno-red-zone \
	-fno-stack-protector -fno-asynchronous-unwind-tables
# c99 formats: %zu, %jd, %hhu in printf (the firmware uses size_t freely).
NEWLIB_CONFIGURE_FLAGS := --target=x86_64-elf --disable-multilib \
	--disable-newlib-supplied-syscalls --enable-newlib-io-c99-formats \
	--enable-newlib-io-long-long

NEWLIB_ID := $(shell printf '%s\n' '$(NEWLIB_TARBALL)' '$(NEWLIB_CFLAGS)' \
	'$(NEWLIB_CONFIGURE_FLAGS)' "$$(gcc -dumpfullversion 2>/dev/null)" | \
	md5sum | cut -c1-10)
NEWLIB_DIR := $(BUILD)/newlib-$(NEWLIB_ID)
NEWLIB_PREFIX := $(abspath $(NEWLIB_DIR))/install
NEWLIB_INC := $(NEWLIB_PREFIX)/x86_64-elf/include
NEWLIB_LIBC := $(NEWLIB_PREFIX)/x86_64-elf/lib/libc.a
NEWLIB_STAMP := $(NEWLIB_DIR)/.installed

$(NEWLIB_STAMP): libc/build-newlib.sh | deps
	$(Q)libc/build-newlib.sh $(NEWLIB_TARBALL) $(NEWLIB_DIR) $(JOBS) \
		'$(NEWLIB_CFLAGS)' $(NEWLIB_CONFIGURE_FLAGS)
