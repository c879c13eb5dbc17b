#!/usr/bin/env bash
# bench/city.sh BUILD: the city-sized case. A policy of 46 departments,
# CITY_ENTRIES catalog entries and CITY_GRANTS grants (bench/city_gen.py),
# CITY_FILES small CSV files in CITY_DIRS entry directories, served by
# poolfs (a pool mount, read by a member of 数据资源局, which sees the
# whole tree: masked views of the unconditional entries, its grants' views
# of the conditional ones, its own share-none entries raw) and by
# libfuse's passthrough_ll over the same tree on the native filesystem,
# twice: with its own caching (1 s entry and attribute timeouts) and with
# the pool mount's (timeouts 0).
#
# Measured, each cold (caches dropped): ls -R and find | wc -l of the
# mount, stat() of CITY_STAT files drawn at random, open+read+close of
# CITY_READ small files (first use builds their views; again once the
# views are in the store), `poolctl policy apply` of the whole policy on
# the live mount and of a one-grant change, the daemon's VmRSS/VmHWM
# after each phase, and the store's size.
#
# The fill is set-up, not a figure: city_gen.py (two processes) writes
# the native tree and streams the same tree to bench/city_fill, which
# fills the pool store-side with the nodes, versions and audit records
# (mkdir, create, write, release) a daemon writes when a writer makes the
# tree in an allow_all mount, run with fsync and fdatasync stubbed out
# (LD_PRELOAD) and one sync after: through the mount a million files
# took 21 min. `poolctl audit verify` and the pool's file count are
# checked before anything is measured; nothing measured runs without
# sync.
#
# Environment: CITY_FILES (1000000, the issue's city; on a quiet 2-vCPU
# machine 200 000 files take under 3 minutes, so a million about 13:
# its first listing builds ~900 000 views, each reading its file's chunk
# from a cold store; CITY_FILES=200000 for a shorter run; timings in
# bench/RESULTS.md "City"), CITY_DIRS (2000), CITY_ENTRIES
# (2000), CITY_GRANTS (10000), CITY_STAT (10000), CITY_READ (10000),
# CITY_KEEP=1 keeps the work directory (and its tmpfs mounted),
# CITY_REUSE=DIR measures a kept one again without filling it,
# CITY_NATIVE=disk puts the native tree on the disk, not on the tmpfs
# it is on when memory allows (there its cells and passthrough_ll's are
# warm: dropping caches does not empty a tmpfs; the poolfs ratios are if
# anything pessimistic). passthrough_ll needs a descriptor per
# inode: it runs with its limit of open files raised to
# /proc/sys/fs/nr_open where root may (CAP_SYS_RESOURCE: not in the
# helpers' sandbox, whose hard limit is 20 000), and past that its
# cells say EMFILE or error. Timings:
# bench/RESULTS.md "City". Exits 1 when poolfs could not be measured.
set -uo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
GEN=$ROOT/bench/city_gen.py
FILES=${CITY_FILES:-1000000}
DIRS=${CITY_DIRS:-2000}
ENTRIES=${CITY_ENTRIES:-2000}
GRANTS=${CITY_GRANTS:-10000}
NSTAT=${CITY_STAT:-10000}
NREAD=${CITY_READ:-10000}
READER_UID=10000	# shuju, the first department of city_gen.py
READER_GID=20000
PT=$BUILD/bench-ref/passthrough_ll
FILL=$BUILD/bench/city_fill

say() { printf 'city: %s\n' "$*" >&2; }
die() { printf 'city: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
[ "$DIRS" -le "$ENTRIES" ] || die "CITY_DIRS ($DIRS) > CITY_ENTRIES ($ENTRIES)"
[ -x "$PT" ] || die "$PT missing (bench/run.sh builds it)"
[ -x "$FILL" ] || die "$FILL missing (make all builds it)"
(sync; echo 3 > /proc/sys/vm/drop_caches) 2> /dev/null || die "cannot drop caches"

if [ -n "${CITY_REUSE:-}" ]; then
	W=$CITY_REUSE	# a kept work directory: its tree and store are reused
	[ -d "$W/store" ] && [ -d "$W/native" ] || die "$W: no kept city"
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/poolfs-city.XXXXXX") || die mktemp
fi
PFPID= PTPID=
cleanup() {
	for m in "$W/mnt_pf" "$W/mnt_pt" "$W/mnt_pt0"; do
		fusermount3 -u "$m" 2> /dev/null || fusermount3 -uz "$m" 2> /dev/null
	done
	for p in $PFPID $PTPID; do kill "$p" 2> /dev/null; done
	[ "${CITY_KEEP:-0}" = 1 ] && { say "kept $W"; return; }
	# the tmpfs of this run, or of the kept one it reused
	mountpoint -q "$W/native" && umount "$W/native"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$W/native" "$W/mnt_pf" "$W/mnt_pt"
chmod 755 "$W"	# the reader is no root
# the native tree on a tmpfs when memory allows (as bench/run.sh's): a
# million small files on a shared disk take longer to remove than to
# measure. Each file holds a page, and its inode and dentry ~1 KiB more.
need_mb=$(((FILES + DIRS * 2) * 4 / 1024 + 64))
avail_mb=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
if [ -z "${CITY_REUSE:-}" ] && [ "${CITY_NATIVE:-tmpfs}" = tmpfs ] &&
	[ "$avail_mb" -gt $((need_mb * 2 + 2048)) ] &&
	! mount -t tmpfs -o "size=${need_mb}m,nr_inodes=0,mode=755" tmpfs "$W/native"; then
	say "the native tree goes on the disk"
fi
NATIVE_KIND=$(stat -f -c %T "$W/native")

gcc -O2 -shared -fPIC -x c -o "$W/nosync.so" - <<'EOF' || die "cannot build the fill's fsync stub"
int fsync(int fd) { (void)fd; return 0; }
int fdatasync(int fd) { (void)fd; return 0; }
EOF

. "$(dirname "$0")/lib.sh"	# is_mounted, wait_mounted
# pf_mount [ENV=VALUE...] -- [poolfs options]
pf_mount() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" "$BUILD/poolfs" "$W/store" "$W/mnt_pf" -f "$@" 2>> "$W/pf.log" &
	PFPID=$!
	wait_mounted "$W/mnt_pf" || die "poolfs did not mount: $(tail -n3 "$W/pf.log")"
}
pf_umount() {
	fusermount3 -u "$W/mnt_pf"
	wait "$PFPID"
	PFPID=
}
rss() {	# VmRSS VmHWM of the poolfs daemon, MiB
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 }
		END { printf "%.0f %.0f", r / 1024, h / 1024 }' "/proc/$PFPID/status"
}
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }
as_reader() { setpriv --reuid=$READER_UID --regid=$READER_GID --clear-groups "$@"; }
# the reader's python: a per-user shim (pyenv) is not the reader's to run
RPY=/usr/bin/python3
[ -x $RPY ] || RPY=python3

declare -A RES=()
t0=$SECONDS
say "policy: 46 departments, $ENTRIES entries, $GRANTS grants; $FILES files in $DIRS directories; work in $W"
python3 "$GEN" policy 46 "$ENTRIES" "$GRANTS" > "$W/policy.json" || die "policy generator failed"
python3 "$GEN" change "$W/policy.json" > "$W/policy2.json" || die "policy generator failed"

# fill ROOT [tee]: two processes (the daemon is not theirs to wait for)
fill() {
	local p pids=() rc=0
	for p in 0 1; do python3 "$GEN" fill "$1" "$DIRS" "$FILES" $p 2 ${2:-} & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
if [ -z "${CITY_REUSE:-}" ]; then
	"$BUILD/poolctl" init "$W/store" --cipher none > "$W/init.log" 2>&1 ||
		die "poolctl init: $(cat "$W/init.log")"
	say "filling the native tree and, store-side, the pool (city_fill, fsync stubbed)"
	fill "$W/native" tee | LD_PRELOAD="$W/nosync.so" "$FILL" "$W/store" 2> "$W/fill.log" ||
		die "fill failed: $(tail -n3 "$W/fill.log")"
	sync
	"$BUILD/poolctl" -s "$W/store" audit verify > "$W/verify.log" 2>&1 ||
		die "the filled pool fails audit verify: $(tail -n3 "$W/verify.log")"
	n=$("$BUILD/poolctl" -s "$W/store" stats | awk '$1 == "files" { print $2 }')
	[ "$n" = "$FILES" ] || die "the filled pool holds ${n:-?} files, not $FILES"
	say "filled and verified in $((SECONDS - t0)) s ($(tail -n1 "$W/fill.log"))"
fi

# ---- policy apply on the live mount ----
pf_mount --
read -r RES[rss0] RES[hwm0] <<< "$(rss)"
if [ -n "${CITY_REUSE:-}" ]; then
	# the whole policy is applied over one of its departments alone
	python3 "$GEN" bare "$W/policy.json" > "$W/policy0.json" &&
		"$BUILD/poolctl" -s "$W/store" policy apply "$W/policy0.json" > /dev/null 2>&1 ||
		die "cannot apply the bare policy"
fi
apply() {
	local t
	t=$(python3 "$GEN" time "$BUILD/poolctl" -s "$W/store" policy apply "$1") ||
		{ say "policy apply $1 failed: $("$BUILD/poolctl" -s "$W/store" policy apply "$1" 2>&1 | tail -n2)"; return 1; }
	echo "${t% *}"
}
RES[apply]=$(apply "$W/policy.json") || die "policy apply failed"
read -r RES[rss_apply] RES[hwm_apply] <<< "$(rss)"
RES[apply1]=$(apply "$W/policy2.json") || die "policy apply (one grant) failed"
read -r RES[rss_apply1] RES[hwm_apply1] <<< "$(rss)"

# passthrough_ll keeps a descriptor open per inode the kernel knows: its
# limit is raised as far as the kernel allows (root may); past that it
# fails (EMFILE), and its cell says so
NOFILE=$(cat /proc/sys/fs/nr_open 2> /dev/null || ulimit -Hn)
(ulimit -n "$NOFILE" 2> /dev/null) ||
	say "passthrough_ll keeps the hard limit of $(ulimit -Hn) open files (raising it needs CAP_SYS_RESOURCE)"
# pt0 is passthrough_ll with the pool mount's caching: entry and
# attribute timeouts 0 (the pool mount cannot let the kernel keep a name
# or attributes one caller looked up for the next: docs/filesystem.md),
# so every stat walks the whole path through the daemon, as in poolfs
for ref in pt pt0; do
	opts=source=$W/native
	[ $ref = pt0 ] && opts+=,timeout=0
	mkdir -p "$W/mnt_$ref"
	(ulimit -n "$NOFILE" 2> /dev/null || ulimit -n "$(ulimit -Hn)"
	 exec "$PT" -f -o "$opts" "$W/mnt_$ref") 2> "$W/$ref.log" &
	PTPID+=" $!"
	wait_mounted "$W/mnt_$ref" || die "passthrough_ll did not mount: $(tail -n3 "$W/$ref.log")"
done

# measure KEY ARGS...: city_gen.py ARGS with ROOT for the mount; seconds
# (and lines, for listings) into RES[KEY,pf|pt]
measure() {
	local key=$1 out
	shift
	cold
	out=$(as_reader $RPY "$GEN" "${@//ROOT/$W/mnt_pf}") || { say "poolfs: $key failed"; RES[$key,pf]=error; }
	[ "${RES[$key,pf]:-}" = error ] || { RES[$key,pf]=${out% *}; RES[$key,pfn]=${out#* }; }
	read -r RES[rss_$key] RES[hwm_$key] <<< "$(rss)"
	for ref in pt pt0; do
		cold
		out=$(python3 "$GEN" "${@//ROOT/$W/mnt_$ref}" 2> "$W/$ref.err") || {
			say "passthrough_ll ($ref): $key failed: $(tail -n1 "$W/$ref.err")"
			RES[$key,$ref]=error
			grep -q "Too many open files" "$W/$ref.err" "$W/$ref.log" && RES[$key,$ref]="EMFILE"
		}
		[[ ${RES[$key,$ref]:-} =~ ^[A-Z]|error ]] ||
			{ RES[$key,$ref]=${out% *}; RES[$key,${ref}n]=${out#* }; }
	done
	cold
	out=$(python3 "$GEN" "${@//ROOT/$W/native}") && { RES[$key,nat]=${out% *}; RES[$key,natn]=${out#* }; }
}
say "ls -R"; measure lsr time ls -R ROOT
say "find"; measure find time find ROOT
# the reader sees the whole tree: as many names as the native one (when
# every entry has its directory: the catalog shows the others too)
[ "$DIRS" != "$ENTRIES" ] || [ "${RES[find,pfn]:-}" = "${RES[find,natn]:-}" ] ||
	say "warning: poolfs lists ${RES[find,pfn]:-?} names, the native tree ${RES[find,natn]:-?}"
say "stat"; measure stat stat ROOT "$DIRS" "$FILES" "$NSTAT"
say "open+read+close (views built)"; measure read read ROOT "$DIRS" "$FILES" "$NREAD"
say "open+read+close (views stored)"; measure read2 read ROOT "$DIRS" "$FILES" "$NREAD"
# a policy change while the kernel knows every inode of the tree: the
# mount invalidates what the kernel caches of each
say "policy apply with the tree cached"
cold
as_reader find "$W/mnt_pf" > /dev/null 2>&1
read -r RES[rss_cached] RES[hwm_cached] <<< "$(rss)"
RES[apply2]=$(apply "$W/policy.json") || die "policy apply (tree cached) failed"
read -r RES[rss_apply2] RES[hwm_apply2] <<< "$(rss)"
pf_umount
RES[store]=$(du -sm "$W/store" | cut -f1)
RES[native]=$(du -sm "$W/native" | cut -f1)

# ---- the table ----
{
	echo "what|unit|native|passthrough_ll|(a) passthrough_ll timeout=0|poolfs|poolfs/passthrough_ll|poolfs/(a)|target|poolfs VmRSS/VmHWM MiB after"
	ratio() { [[ $1 =~ ^[0-9.]+$ ]] && [[ $2 =~ ^[0-9.]+$ ]] &&
		awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' || echo -; }
	row() {	# key label unit target
		local pf=${RES[$1,pf]:-error} pt=${RES[$1,pt]:-error} pt0=${RES[$1,pt0]:-error}
		printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s/%s\n' "$2" "$3" "${RES[$1,nat]:--}" "$pt" "$pt0" "$pf" \
			"$(ratio "$pf" "$pt")" "$(ratio "$pf" "$pt0")" "$4" "${RES[rss_$1]:--}" "${RES[hwm_$1]:--}"
	}
	row lsr "ls -R (${RES[lsr,pfn]:-?} / ${RES[lsr,ptn]:-?} lines)" s -
	row find "find, names (${RES[find,pfn]:-?} / ${RES[find,ptn]:-?})" s -
	row stat "stat of $NSTAT random files" s "<= 2 x passthrough_ll"
	row read "open+read+close of $NREAD files, views built" s -
	row read2 "open+read+close of $NREAD files, views stored" s -
	printf 'policy apply, whole policy, live mount|s|-|-|-|%s|-|-|-|%s/%s\n' "${RES[apply]}" \
		"${RES[rss_apply]}" "${RES[hwm_apply]}"
	printf 'policy apply, one grant changed|s|-|-|-|%s|-|-|-|%s/%s\n' "${RES[apply1]}" \
		"${RES[rss_apply1]}" "${RES[hwm_apply1]}"
	printf 'policy apply, one grant, every inode cached|s|-|-|-|%s|-|-|-|%s/%s\n' "${RES[apply2]}" \
		"${RES[rss_apply2]}" "${RES[hwm_apply2]}"
	printf 'daemon after find, tree cached|MiB|-|-|-|-|-|-|-|%s/%s\n' "${RES[rss_cached]}" "${RES[hwm_cached]}"
	printf 'daemon at mount, before the policy|MiB|-|-|-|-|-|-|-|%s/%s\n' "${RES[rss0]}" "${RES[hwm0]}"
	printf 'store size / native tree|MiB|%s|-|-|%s|%s|-|-|-\n' "${RES[native]}" "${RES[store]}" \
		"$(awk -v a="${RES[store]}" -v b="${RES[native]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
} > "$W/table"
echo "city: $FILES files in $DIRS directories, $ENTRIES entries, $GRANTS grants," \
	"$(nproc) cores, caches dropped, native tree on $NATIVE_KIND, load $(cut -d' ' -f1-3 /proc/loadavg)," \
	"run $((SECONDS - t0)) s"
column -t -s '|' < "$W/table"
[[ ${RES[stat,pf]:-} =~ ^[0-9.]+$ ]]
