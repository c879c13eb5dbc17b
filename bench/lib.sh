# bench/lib.sh - sourced by the bench scripts: what they measure alike.

# median of REPS runs of "$@" (each prints seconds), each after `cold`,
# which the sourcing script defines (drop caches, or remount)
median() {
	local i out=()
	for ((i = 0; i < REPS; i++)); do
		cold
		out+=("$("$@")") || return 1
		[ -n "${out[-1]}" ] || return 1
	done
	printf '%s\n' "${out[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
