// SPDX-License-Identifier: GPL-2.0
/*
 * The VM runner's check between two programs: a program must not leave
 * VDUSE devices behind (a timeout, a failed assertion before its
 * cleanup).  Prints one line per leftover device and, with -d, detaches
 * and destroys it so that the next program starts from a clean module.
 *
 *   vduse_leftovers [-d]
 *
 * Exit status: 0 nothing was left, 1 devices were left (and, with -d,
 * all removed), 2 a device could not be removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vduse_lib.h"

int main(int argc, char **argv)
{
	int destroy = argc > 1 && !strcmp(argv[1], "-d");
	int ctrl = -1, found = 0, stuck = 0, r;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	dir = opendir("/sys/class/vduse");
	if (!dir)
		return 0;	/* module not loaded: nothing can be left */
	if (destroy)
		ctrl = open("/dev/vduse/control", O_RDWR);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "control"))
			continue;
		found++;
		snprintf(path, sizeof(path), "/sys/bus/vdpa/devices/%s",
			 de->d_name);
		printf("%s%s\n", de->d_name,
		       access(path, F_OK) ? "" : " (attached)");
		if (!destroy)
			continue;
		if (!access(path, F_OK))
			vduse_vdpa_del(de->d_name, 60);
		r = ctrl < 0 ? -ENODEV : vduse_destroy(ctrl, de->d_name);
		if (r) {
			printf("%s: cannot destroy: %s\n", de->d_name,
			       strerror(-r));
			stuck++;
		}
	}
	closedir(dir);
	if (ctrl >= 0)
		close(ctrl);
	return stuck ? 2 : !!found;
}
