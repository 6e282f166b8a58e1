// SPDX-License-Identifier: GPL-2.0
/*
 * Device-side helpers shared by the VDUSE selftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vduse_lib.h"

int vduse_ctrl_open(void)
{
	int fd = open(VDUSE_CONTROL_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vduse_ctrl_get_api(int ctrl_fd, uint64_t *version)
{
	return ioctl(ctrl_fd, VDUSE_GET_API_VERSION, version) ? -errno : 0;
}

int vduse_ctrl_set_api(int ctrl_fd, uint64_t version)
{
	return ioctl(ctrl_fd, VDUSE_SET_API_VERSION, &version) ? -errno : 0;
}

int vduse_sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}
