#!/usr/bin/env bash
# Writes etcdisc(1) from the CLI's own --help texts, so the man page says
# exactly what the binary does: make_man.sh ETCDISC_BINARY OUTPUT
set -euo pipefail
cli=$1 out=$2
include=$(mktemp)
trap 'rm -f "$include"' EXIT
{
  echo "[COMMANDS]"
  for command in $("$cli" --help | sed -n 's/^  \([a-z]\+\)  .*/\1/p'); do
    echo ".SS $command"
    echo ".nf"
    # Drop what the top-level page already says: common flags, exit codes.
    "$cli" "$command" --help | sed '/^Flags of every command:/,/^$/d; /^Exit codes/,$d' |
      sed 's/\\/\\\\/g; s/^\./\\\&./'
    echo ".fi"
  done
  echo "[ENVIRONMENT]"
  echo "ETCD_HOSTS (or ETCD_HOST) names the etcd members when --endpoints is not given."
  echo "[SEE ALSO]"
  echo "etcd(1), etcdctl(1)"
} >"$include"
help2man --no-info --no-discard-stderr --section=1 \
  --name="service discovery on etcd v3" --include="$include" \
  --output="$out" "$cli"
