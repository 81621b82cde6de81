/* UART descriptions: see uart_desc.h. */
#include "uart_desc.h"

#include <stdio.h>

void uart_desc_name(const struct uart_desc *u, char *buf, size_t cap)
{
	const char *kind = u->space == UART_SPACE_IO ? "io" :
			   u->stride == UART_STRIDE_DWORD ? "mmio32" : "mmio";

	snprintf(buf, cap, "%s:0x%llx", kind, (unsigned long long)u->base);
}

bool uart_desc_same(const struct uart_desc *a, const struct uart_desc *b)
{
	return a->space == b->space && a->base == b->base;
}
