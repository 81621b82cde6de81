/* QEMU fw_cfg (legacy port interface) and isa-debug-exit. */
#include "qemu.h"

#include "io.h"

#include <string.h>

#define FW_CFG_PORT_SELECTOR 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_FILE_NAME_LEN 56
#define ISA_DEBUG_EXIT_PORT 0xf4

static void fw_cfg_select(uint16_t key)
{
	outw(FW_CFG_PORT_SELECTOR, key);
}

static void fw_cfg_read(void *buf, size_t len)
{
	uint8_t *out = buf;

	for (size_t i = 0; i < len; i++)
		out[i] = inb(FW_CFG_PORT_DATA);
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_select(FW_CFG_SIGNATURE);
	fw_cfg_read(sig, sizeof(sig));
	return memcmp(sig, "QEMU", sizeof(sig)) == 0;
}

long fw_cfg_read_file(const char *name, char *buf, size_t cap)
{
	uint8_t count_be[4];

	if (!fw_cfg_present() || cap == 0)
		return -1;
	fw_cfg_select(FW_CFG_FILE_DIR);
	fw_cfg_read(count_be, sizeof(count_be));
	uint32_t count = be32(count_be);
	for (uint32_t i = 0; i < count; i++) {
		struct {
			uint8_t size[4];
			uint8_t select[2];
			uint8_t reserved[2];
			char name[FW_CFG_FILE_NAME_LEN];
		} entry;
		fw_cfg_read(&entry, sizeof(entry));
		if (strncmp(entry.name, name, FW_CFG_FILE_NAME_LEN) != 0)
			continue;
		uint32_t size = be32(entry.size);
		size_t take = size < cap - 1 ? size : cap - 1;
		fw_cfg_select((uint16_t)(entry.select[0] << 8 | entry.select[1]));
		fw_cfg_read(buf, take);
		buf[take] = '\0';
		return (long)size;
	}
	return -1;
}

void qemu_debug_exit(unsigned code)
{
	if (fw_cfg_present())
		outl(ISA_DEBUG_EXIT_PORT, code);
}
