#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`, the guest side (run by run-vm.sh --job, see scripts/bench.sh):
# the same fio matrix on /dev/vdX through virtio-vdpa for
#
#   ours      our vduse.ko, served by an unmodified qemu-storage-daemon
#   stock     Debian's vduse.ko from /lib/modules, same daemon and settings
#   null_blk  the in-kernel ceiling
#
# and the control-path figures of scripts/bench-ctl.c for ours and stock.
# Each repetition runs ours, then stock, then null_blk, so that the noise
# of the machine falls on all three alike.  The vduse module is swapped
# between them; which one is loaded is checked against the build ID of the
# file it should come from, and recorded.
#
#   bench-guest.sh [BENCH_VAR=VALUE...]
#
# Results: one JSON object per line in /tmp/out/runs.jsonl (fio) and
# /tmp/out/ctl.jsonl (control path), /tmp/out/env.json, fio's own JSON in
# /tmp/out/fio/.  scripts/bench-report.py turns them into the report.
set -u

for a in "$@"; do
	case "$a" in
	BENCH_*=*) export "${a?}" ;;
	*) echo "bench-guest: unknown argument $a" >&2; exit 2 ;;
	esac
done

RUNTIME=${BENCH_RUNTIME:-10}
RAMP=${BENCH_RAMP:-2}
REPS=${BENCH_REPS:-3}
CYCLES=${BENCH_CYCLES:-50}
STATUS_ITERS=${BENCH_STATUS_ITERS:-10000}
SIZE=${BENCH_SIZE:-1G}
QSIZE=${BENCH_QSIZE:-128}
BACKENDS=${BENCH_BACKENDS:-null-co file}
TARGETS=${BENCH_TARGETS:-ours stock null_blk}

sel=$VDUSE_TOP/tools/testing/selftests/vduse
ko=${VDUSE_KO:-$VDUSE_TOP/drivers/vdpa/vdpa_user/vduse.ko}
ctl=/tmp/out/bench-ctl
out=/tmp/out
img=/tmp/bench-disk.img
name=bench0
block=/run/modprobe.d/bench-vduse.conf
# shellcheck source=SCRIPTDIR/../tools/testing/selftests/vduse/vduse_lib.sh
. "$sel/vduse_lib.sh"

# The jobs: name, rw, block size, iodepth, numjobs, queues of the device.
JOBS=(
	"randread-4k-qd1	randread	4k	1	1	1"
	"randread-4k-qd32	randread	4k	32	1	1"
	"randwrite-4k-qd1	randwrite	4k	1	1	1"
	"randwrite-4k-qd32	randwrite	4k	32	1	1"
	"read-128k-qd16		read		128k	16	1	1"
	"write-128k-qd16	write		128k	16	1	1"
	"randread-4k-4jobs-qd16	randread	4k	16	4	4"
)
if [ -n "${BENCH_JOBS:-}" ]; then
	keep=()
	for j in "${JOBS[@]}"; do
		read -r jn _ <<< "$j"
		case " $BENCH_JOBS " in *" $jn "*) keep+=("$j") ;; esac
	done
	JOBS=("${keep[@]}")
fi

errors=0
step=0

fail() {
	echo "bench: $*" >&2
	errors=$((errors + 1))
}

fatal() {
	echo "bench: FATAL: $*" >&2
	dmesg > "$out/dmesg.txt"
	exit 1
}

# --- which vduse is loaded --------------------------------------------

# build_id FILE: the hex GNU build ID of a module file, compressed or not.
build_id() {
	local f=$1 tmp
	tmp=$(mktemp)
	case "$f" in
	*.xz) xz -dc "$f" > "$tmp.ko" ;;
	*.zst) zstd -qdc "$f" > "$tmp.ko" ;;
	*.gz) gzip -dc "$f" > "$tmp.ko" ;;
	*) cp "$f" "$tmp.ko" ;;
	esac
	objcopy -O binary --only-section=.note.gnu.build-id "$tmp.ko" "$tmp"
	od -An -tx1 -v "$tmp" | tr -d ' \n' | tail -c 40
	rm -f "$tmp" "$tmp.ko"
}

loaded_build_id() {
	od -An -tx1 -v /sys/module/vduse/notes/.note.gnu.build-id |
		tr -d ' \n' | tail -c 40
}

# identity WHICH FILE: a JSON line saying what is loaded and from where.
identity() {
	local want got taint
	want=$(build_id "$2")
	got=$(loaded_build_id)
	taint=$(cat /sys/module/vduse/taint 2>/dev/null)
	if [ -z "$got" ] || [ "$want" != "$got" ]; then
		fatal "$1: the loaded vduse (build ID $got) is not $2 ($want)"
	fi
	printf '{"type": "module", "target": "%s", "file": "%s", "build_id": "%s", "taint": "%s", "verified": true}\n' \
		"$1" "$2" "$got" "$taint" >> "$out/ctl.jsonl"
	echo "# $1: vduse build ID $got from $2 (taint '${taint}')"
}

vduse_unload() {
	[ -d /sys/module/vduse ] || return 0
	# Whatever a failed step left behind.
	vdpa dev del "$name" 2>/dev/null
	qsd_stop
	"$ctl" cleanup > /dev/null 2>&1
	rmmod vduse || fatal "rmmod vduse"
}

load_ours() {
	vduse_unload
	echo "install vduse /bin/false" > "$block"
	insmod "$ko" || fatal "insmod $ko"
	"$sel/vduse_is_ours.sh" "$ko" || fatal "the loaded vduse is not ours"
	identity ours "$ko"
}

# The one place the distribution's vduse.ko is loaded: the block comes
# off for a plain `modprobe vduse` from /lib/modules, then goes back on.
load_stock() {
	local f
	vduse_unload
	rm -f "$block"
	modprobe vduse || fatal "modprobe vduse (stock)"
	echo "install vduse /bin/false" > "$block"
	f=$(modinfo -n vduse) || fatal "modinfo -n vduse"
	case "$f" in
	/lib/modules/*) ;;
	*) fatal "the stock vduse should come from /lib/modules, not $f" ;;
	esac
	if "$sel/vduse_is_ours.sh" "$ko"; then
		fatal "modprobe vduse loaded our module, not the stock one"
	fi
	identity stock "$f"
}

# --- devices -------------------------------------------------------------

# qsd_bench_start BACKEND QUEUES: serve the backend as VDUSE device $name.
qsd_bench_start() {
	local bd
	case "$1" in
	null-co) bd="driver=null-co,node-name=n0,size=$(numfmt --from=iec "$SIZE"),read-zeroes=on" ;;
	file) bd="driver=file,node-name=n0,filename=$img,cache.direct=off,aio=threads" ;;
	*) fatal "unknown backend $1" ;;
	esac
	qemu-storage-daemon --blockdev "$bd" \
		--export "type=vduse-blk,id=exp0,node-name=n0,name=$name,num-queues=$2,queue-size=$QSIZE,writable=on" \
		> "$out/qsd-$1.log" 2>&1 &
	QSD_PID=$!
	wait_for 20 test -c "/dev/vduse/$name"
}

nullb_start() {	# QUEUES
	modprobe null_blk queue_mode=2 irqmode=0 hw_queue_depth="$QSIZE" \
		submit_queues="$1" poll_queues=0 nr_devices=1 gb=$(( $(numfmt --from=iec "$SIZE") >> 30 )) ||
		return 1
	wait_for 20 test -b /dev/nullb0
}

nullb_stop() {
	[ -d /sys/module/null_blk ] || return 0
	rmmod null_blk
}

# --- fio ----------------------------------------------------------------

nr_runs() {
	local n=0 t
	for t in $TARGETS; do
		case "$t" in
		null_blk) n=$((n + ${#JOBS[@]})) ;;
		*) n=$((n + ${#JOBS[@]} * $(wc -w <<< "$BACKENDS"))) ;;
		esac
	done
	echo $((n * REPS))
}
TOTAL=$(nr_runs)

# run_job TARGET BACKEND DEV REP JOB...: one fio run, one line of results.
run_job() {
	local target=$1 backend=$2 dev=$3 rep=$4 jn=$5 rw=$6 bs=$7 qd=$8 nj=$9
	local f=$out/fio/$target-$backend-$jn-$rep.json line
	step=$((step + 1))
	fio --name="$jn" --filename="/dev/$dev" --rw="$rw" --bs="$bs" \
		--iodepth="$qd" --numjobs="$nj" --group_reporting \
		--ioengine=libaio --direct=1 --time_based --runtime="$RUNTIME" \
		--ramp_time="$RAMP" --norandommap --randrepeat=0 \
		--output-format=json --output="$f" > /dev/null 2>&1
	line=$(python3 - "$f" "$target" "$backend" "$jn" "$rep" "$dev" \
		"[$step/$TOTAL]" "$out/runs.jsonl" <<-'EOF'
		import json, sys
		f, target, backend, job, rep, dev, step, runs = sys.argv[1:]
		r = {"target": target, "backend": backend, "job": job, "rep": int(rep),
		     "dev": dev}
		try:
		    j = json.load(open(f))["jobs"][0]
		    d = j["write"] if j["write"]["io_bytes"] > j["read"]["io_bytes"] else j["read"]
		    pct = d["clat_ns"].get("percentile", {})
		    r.update({"iops": d["iops"], "bw_kib": d["bw"],
		              "clat_mean_us": d["clat_ns"]["mean"] / 1e3,
		              "clat_p99_us": pct.get("99.000000", 0) / 1e3,
		              "lat_mean_us": d["lat_ns"]["mean"] / 1e3})
		    if j.get("error", 0) or not d["iops"]:
		        r["error"] = "fio error %d" % j.get("error", 0)
		except Exception as e:
		    r["error"] = "no fio result: %s" % e
		with open(runs, "a") as o:
		    o.write(json.dumps(r) + "\n")
		if "error" in r:
		    print("%s %s %s %s rep %s: %s" % (step, target, backend, job, rep,
		                                      r["error"]))
		else:
		    print("%s %s %s %s rep %s: %.0f IOPS, %.1f MiB/s, clat %.1f us" % (
		        step, target, backend, job, rep, r["iops"], r["bw_kib"] / 1024,
		        r["clat_mean_us"]))
	EOF
	)
	echo "$line"
	case "$line" in *": no fio result"* | *": fio error"*)
		fail "$target $backend $jn rep $rep failed" ;;
	esac
}

# run_jobs TARGET BACKEND DEV REP QUEUES: the jobs for a device of QUEUES.
run_jobs() {
	local j jn rw bs qd nj nq
	for j in "${JOBS[@]}"; do
		read -r jn rw bs qd nj nq <<< "$j"
		[ "$nq" = "$5" ] || continue
		run_job "$1" "$2" "$3" "$4" "$jn" "$rw" "$bs" "$qd" "$nj"
	done
}

queue_counts() {
	local j nq seen=
	for j in "${JOBS[@]}"; do
		read -r _ _ _ _ _ nq <<< "$j"
		case " $seen " in *" $nq "*) ;; *) seen="$seen $nq" ;; esac
	done
	echo "$seen"
}

# The block layer gives a single-queue disk mq-deadline and a multi-queue
# one none: none for all, so that only the device differs.
no_scheduler() {	# DEV
	echo none > "/sys/block/$1/queue/scheduler" ||
		fail "$1: cannot set the I/O scheduler to none"
}

# note_device TARGET BACKEND QUEUES DEV: what the block layer made of it.
note_device() {
	local hw
	hw=$(find "/sys/block/$4/mq" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	printf '{"type": "device", "target": "%s", "backend": "%s", "queues": %s, "hw_queues": %s, "nr_requests": %s, "scheduler": "%s"}\n' \
		"$1" "$2" "$3" "$hw" "$(cat "/sys/block/$4/queue/nr_requests")" \
		"$(sed 's/.*\[\(.*\)\].*/\1/' "/sys/block/$4/queue/scheduler")" \
		>> "$out/devices.jsonl"
}

vduse_fio() {	# TARGET REP
	local backend nq blk
	for backend in $BACKENDS; do
		for nq in $(queue_counts); do
			if ! qsd_bench_start "$backend" "$nq"; then
				fail "$1 $backend: qemu-storage-daemon did not create the device"
				qsd_stop
				continue
			fi
			if ! blk=$(vdpa_attach "$name"); then
				fail "$1 $backend: vdpa dev add failed"
				qsd_stop
				continue
			fi
			no_scheduler "$blk"
			[ "$2" != 1 ] || note_device "$1" "$backend" "$nq" "$blk"
			run_jobs "$1" "$backend" "$blk" "$2" "$nq"
			vdpa_detach "$name" || fail "$1 $backend: vdpa dev del"
			qsd_stop
		done
	done
}

nullb_fio() {	# REP
	local nq
	for nq in $(queue_counts); do
		nullb_start "$nq" || { fail "null_blk did not load"; continue; }
		no_scheduler nullb0
		[ "$1" != 1 ] || note_device null_blk null_blk "$nq" nullb0
		run_jobs null_blk null_blk nullb0 "$1" "$nq"
		nullb_stop || fail "rmmod null_blk"
	done
}

# --- the control path -----------------------------------------------------

ctl_bench() {	# TARGET REP
	local r
	for what in "cycles $CYCLES" "status $STATUS_ITERS"; do
		# shellcheck disable=SC2086
		if r=$("$ctl" $what 2> "$out/ctl-err.txt"); then
			printf '{"type": "%s", "target": "%s", "rep": %s, "result": %s}\n' \
				"${what% *}" "$1" "$2" "$r" >> "$out/ctl.jsonl"
			echo "       $1 ${what% *} rep $2: $r"
		else
			fail "$1 bench-ctl $what: $(cat "$out/ctl-err.txt")"
			"$ctl" cleanup > /dev/null 2>&1
		fi
	done
}

# --- main -------------------------------------------------------------------

mkdir -p /run/modprobe.d "$out/fio"
: > "$out/runs.jsonl"
: > "$out/ctl.jsonl"
: > "$out/devices.jsonl"
echo "install vduse /bin/false" > "$block"
modprobe -a vdpa vhost_iotlb virtio_vdpa vhost_vdpa virtio_blk ||
	fatal "cannot load the vdpa stack"
[ -x "$ctl" ] || fatal "$ctl is missing (scripts/bench.sh builds it)"
[ -r "$ko" ] || fatal "$ko is missing: run make"
for tool in qemu-storage-daemon vdpa fio python3 objcopy; do
	command -v "$tool" > /dev/null || fatal "$tool is missing"
done

# The host's / is a 9p share: read the programs and their libraries once,
# so that the first run does not pay for it.
for tool in qemu-storage-daemon fio python3 vdpa; do
	p=$(command -v "$tool")
	ldd "$p" | grep -o '/[^ ]*' | xargs cat "$p" > /dev/null 2>&1
done

case " $BACKENDS " in
*" file "*)
	# Allocated up front: reads of holes would be cheaper than of data.
	fallocate -l "$SIZE" "$img" || fatal "cannot allocate $SIZE on /tmp"
	;;
esac

printf '%s\n' "${JOBS[@]}" > "$out/jobs.tsv"
python3 - "$out/env.json" "$out/jobs.tsv" <<EOF
import json, os, sys, platform
env = {
    "kernel": platform.release(),
    "vcpus": os.cpu_count(),
    "mem_mb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20,
    "runtime_s": $RUNTIME, "ramp_s": $RAMP, "reps": $REPS,
    "cycles": $CYCLES, "status_iters": $STATUS_ITERS,
    "size": "$SIZE", "queue_size": $QSIZE,
    "backends": "$BACKENDS".split(), "targets": "$TARGETS".split(),
    "fio": os.popen("fio --version").read().strip(),
    "qsd": os.popen("qemu-storage-daemon --version").read().splitlines()[0],
    "jobs": [dict(zip(["name", "rw", "bs", "iodepth", "numjobs", "queues"],
                      l.split())) for l in open(sys.argv[2])],
}
json.dump(env, open(sys.argv[1], "w"), indent=1)
EOF
echo "# bench: ${REPS} repetition(s), fio ${RUNTIME}s + ${RAMP}s ramp per run, $TOTAL runs"
dmesg -C
start=$(date +%s)
for rep in $(seq 1 "$REPS"); do
	for t in $TARGETS; do
		case "$t" in
		ours) load_ours ;;
		stock) load_stock ;;
		null_blk) vduse_unload; nullb_fio "$rep"; continue ;;
		*) fatal "unknown target $t" ;;
		esac
		vduse_fio "$t" "$rep"
		ctl_bench "$t" "$rep"
	done
done
vduse_unload
rm -f "$block" "$img"
echo "# bench: $(( $(date +%s) - start )) s in the guest"

dmesg > "$out/dmesg.txt"
if grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace:' "$out/dmesg.txt"; then
	fail "the kernel complained (dmesg.txt)"
fi
[ "$errors" = 0 ] || { echo "bench: $errors error(s)" >&2; exit 1; }
exit 0
