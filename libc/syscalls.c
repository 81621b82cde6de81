/*
 * The system calls newlib needs (built with --disable-newlib-supplied-syscalls,
 * its reentrant wrappers call these plain names: write, sbrk, ...).
 * Output goes to the console; sbrk carves the heap chosen at boot; exit ends
 * the run through the verdict path; everything else fails with a clear errno.
 */
#include "syscalls.h"

#include "console.h"
#include "runner.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/times.h>

#undef errno
extern int errno;

#define STDIN_FD 0
#define STDOUT_FD 1
#define STDERR_FD 2

static uint8_t *heap_start, *heap_end, *heap_break;

void heap_init(uint64_t base, size_t size)
{
	heap_start = (uint8_t *)(uintptr_t)base;
	heap_end = heap_start + size;
	heap_break = heap_start;
}

void *sbrk(ptrdiff_t increment)
{
	uint8_t *old = heap_break;

	if (!heap_start || increment > heap_end - heap_break || increment < heap_start - heap_break) {
		errno = ENOMEM;
		return (void *)-1;
	}
	heap_break += increment;
	return old;
}

int write(int fd, const char *buf, int len)
{
	if (fd != STDOUT_FD && fd != STDERR_FD) {
		errno = EBADF;
		return -1;
	}
	console_write(buf, (size_t)len);
	return len;
}

int read(int fd, char *buf, int len)
{
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOSYS; /* no console input: the firmware is non-interactive */
	return -1;
}

int close(int fd)
{
	(void)fd;
	errno = EBADF;
	return -1;
}

int fstat(int fd, struct stat *st)
{
	if (fd > STDERR_FD) {
		errno = EBADF;
		return -1;
	}
	st->st_mode = S_IFCHR; /* a character device: newlib line-buffers it */
	return 0;
}

int isatty(int fd)
{
	return fd <= STDERR_FD;
}

int lseek(int fd, int offset, int whence)
{
	(void)fd;
	(void)offset;
	(void)whence;
	errno = ESPIPE;
	return -1;
}

int open(const char *path, int flags, int mode)
{
	(void)path;
	(void)flags;
	(void)mode;
	errno = ENOENT; /* there is no file system */
	return -1;
}

int getpid(void)
{
	return 1;
}

int kill(int pid, int sig)
{
	(void)pid;
	(void)sig;
	errno = EINVAL;
	return -1;
}

clock_t times(struct tms *buf)
{
	(void)buf;
	errno = ENOSYS;
	return (clock_t)-1;
}

/* abort(), assert() and exit() land here: the run ends with a FAIL verdict. */
void _exit(int status)
{
	runner_fatal(status == 0 ? "exit-called" : "abort-or-nonzero-exit");
}
