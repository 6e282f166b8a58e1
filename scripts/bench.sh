#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: boot the test VM once and run scripts/bench-guest.sh in it,
# which measures our vduse.ko against Debian's own vduse.ko and null_blk
# (fio through virtio-blk, and the control path with scripts/bench-ctl.c).
# The report lands in bench/results/<date>-<kernel>.md, with the same data
# in a .json beside it.  See bench/README.md.
#
# Settings, from the environment (defaults in brackets):
#   BENCH_REPS [3]		repetitions; ours, stock and null_blk interleave
#   BENCH_RUNTIME [10]		seconds of each fio run, after
#   BENCH_RAMP [2]		seconds of ramp, not counted
#   BENCH_CYCLES [50]		create/attach/detach/destroy cycles per rep
#   BENCH_STATUS_ITERS [10000]	VHOST_VDPA_SET_STATUS round trips per rep
#   BENCH_JOBS [all]		a subset of the fio jobs, by name
#   BENCH_BACKENDS [null-co file]	qemu-storage-daemon backends
#   BENCH_TARGETS [ours stock null_blk]
#   BENCH_SIZE [1G]		the disk, BENCH_QSIZE [128] its queue size
#   BENCH_OUT [bench/results]	where the report goes
#   VDUSE_VM_MEM [3072]		guest memory in MB (the file backend is
#				BENCH_SIZE of the guest's tmpfs)
set -euo pipefail

top=${TOP:-$(readlink -f "$(dirname "$0")/..")}
build=${BUILD:-$top/build}
vm=$top/tools/testing/selftests/vduse/vm
results=${BENCH_OUT:-$top/bench/results}

reps=${BENCH_REPS:-3}
runtime=${BENCH_RUNTIME:-10}
ramp=${BENCH_RAMP:-2}

out=$build/bench/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out" "$results"
cc -O2 -g -Wall -Wextra -Werror -I"$top/include/uapi" \
	-o "$out/bench-ctl" "$top/scripts/bench-ctl.c" -lpthread

# The module under test is a copy: a rebuild in the tree while the VM
# runs must not change it between repetitions.
ko=${VDUSE_KO:-$top/drivers/vdpa/vdpa_user/vduse.ko}
[ -r "$ko" ] || { echo "bench: no $ko (make)" >&2; exit 1; }
cp "$ko" "$out/vduse.ko"
export VDUSE_KO=$out/vduse.ko

# run-vm.sh passes arguments, not the environment, to the job.
args=()
for v in "${!BENCH_@}"; do
	[ "$v" = BENCH_OUT ] || args+=("$v=${!v}")
done

# At most 35 fio runs a repetition (7 jobs: ours and stock on two
# backends, null_blk), each with fio's start and end, and the module
# swaps, daemons and control-path loops around them.
timeout=$(( reps * (35 * (runtime + ramp + 20) + 600) + 600 ))

{
	echo "{"
	echo " \"host_cpu\": \"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)\","
	echo " \"host_cpus\": $(nproc),"
	if [ "${VDUSE_VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
		echo ' "accel": "kvm",'
	else
		echo ' "accel": "tcg",'
	fi
	echo " \"qemu\": \"$(qemu-system-x86_64 --version | head -n 1)\","
	echo " \"commit\": \"$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)\","
	echo " \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
	echo "}"
} > "$out/host.json"

echo "bench: ${reps} repetition(s) of ${runtime}s (+${ramp}s ramp) fio runs;" \
	"raw results in $out"
start=$(date +%s)
rc=0
VDUSE_VM_MEM=${VDUSE_VM_MEM:-3072} "$vm/run-vm.sh" \
	--job "$top/scripts/bench-guest.sh" --out "$out" --timeout "$timeout" \
	-- "${args[@]}" || rc=$?
elapsed=$(( $(date +%s) - start ))
echo "bench: the VM ran for ${elapsed}s (exit $rc)"

# A partial run still gets its report, marked as such.
if [ -s "$out/runs.jsonl" ] || [ -s "$out/ctl.jsonl" ]; then
	python3 "$top/scripts/bench-report.py" --out "$out" --results "$results" \
		--seconds "$elapsed" --exit-code "$rc"
fi
exit "$rc"
