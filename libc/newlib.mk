# newlib, built once from Debian's newlib-source for x86_64-elf with the
# host gcc, into the build tree.  The build directory name carries a hash of
# the tarball, its size and the flags, so changing any of them builds a new
# copy and an unchanged tree never rebuilds it.

NEWLIB_TARBALL ?= /usr/src/newlib/newlib-3.3.0.tar.xz
NEWLIB_CFLAGS := -O2 -g -ffreestanding -fno-pie -fno-pic -mno-red-zone \
	-fno-stack-protector -fno-asynchronous-unwind-tables
NEWLIB_CONFIGURE_FLAGS := --target=x86_64-elf --disable-multilib \
	--disable-newlib-supplied-syscalls
NEWLIB_TOOLS := CC_FOR_TARGET=gcc AR_FOR_TARGET=ar AS_FOR_TARGET=as \
	LD_FOR_TARGET=ld RANLIB_FOR_TARGET=ranlib NM_FOR_TARGET=nm \
	STRIP_FOR_TARGET=strip OBJCOPY_FOR_TARGET=objcopy \
	OBJDUMP_FOR_TARGET=objdump READELF_FOR_TARGET=readelf

NEWLIB_ID := $(shell printf '%s\n' '$(NEWLIB_TARBALL)' '$(NEWLIB_CFLAGS)' \
	'$(NEWLIB_CONFIGURE_FLAGS)' "$$(gcc -dumpfullversion 2>/dev/null)" | \
	md5sum | cut -c1-10)
NEWLIB_DIR := $(BUILD)/newlib-$(NEWLIB_ID)
NEWLIB_PREFIX := $(abspath $(NEWLIB_DIR))/install
NEWLIB_INC := $(NEWLIB_PREFIX)/x86_64-elf/include
NEWLIB_LIBC := $(NEWLIB_PREFIX)/x86_64-elf/lib/libc.a
NEWLIB_STAMP := $(NEWLIB_DIR)/.installed

$(NEWLIB_STAMP): | deps
	@echo "  NEWLIB  $(NEWLIB_TARBALL) -> $(NEWLIB_DIR) (about 2 minutes, once)"
	$(Q)rm -rf $(NEWLIB_DIR) && mkdir -p $(NEWLIB_DIR)/src $(NEWLIB_DIR)/obj
	$(Q)tar -xf $(NEWLIB_TARBALL) -C $(NEWLIB_DIR)/src --strip-components=1
	$(Q)cd $(NEWLIB_DIR)/obj && ../src/configure $(NEWLIB_CONFIGURE_FLAGS) \
		--prefix=$(NEWLIB_PREFIX) $(NEWLIB_TOOLS) \
		CFLAGS_FOR_TARGET="$(NEWLIB_CFLAGS)" > configure.log 2>&1 || \
		{ tail -20 configure.log; echo "newlib configure failed: $(NEWLIB_DIR)/obj/configure.log"; exit 1; }
	$(Q)MAKEFLAGS= $(MAKE) -C $(NEWLIB_DIR)/obj -j$(JOBS) all-target-newlib > $(NEWLIB_DIR)/obj/build.log 2>&1 || \
		{ tail -20 $(NEWLIB_DIR)/obj/build.log; echo "newlib build failed: $(NEWLIB_DIR)/obj/build.log"; exit 1; }
	$(Q)MAKEFLAGS= $(MAKE) -C $(NEWLIB_DIR)/obj install-target-newlib > $(NEWLIB_DIR)/obj/install.log 2>&1 || \
		{ tail -20 $(NEWLIB_DIR)/obj/install.log; echo "newlib install failed"; exit 1; }
	$(Q)rm -rf $(NEWLIB_DIR)/src $(NEWLIB_DIR)/obj/x86_64-elf/newlib/libc $(NEWLIB_DIR)/obj/x86_64-elf/newlib/libm
	$(Q)touch $@
