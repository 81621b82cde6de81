/* Console fan-out: today the COM1 serial port. */
#include "console.h"

#include "serial.h"

void console_init(void)
{
	serial_init();
}

void console_write(const char *buf, size_t len)
{
	serial_write(buf, len);
}
