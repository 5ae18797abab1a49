# bash completion for etcdisc. Commands and flags are read from the installed
# etcdisc's own --help, so they never go stale; service names come from etcd
# (`etcdisc services`, with the --endpoints and --prefix already typed, and a
# short timeout so that an unreachable etcd only means no suggestions).

_etcdisc_services() {
  local args=() word
  for word in "${COMP_WORDS[@]}"; do
    case "$word" in
      --endpoints=*|--prefix=*) args+=("$word") ;;
    esac
  done
  etcdisc services --json --timeout=500ms "${args[@]}" 2>/dev/null |
    grep -o '"name":"[^"]*"' | cut -d'"' -f4
}

_etcdisc() {
  local cur=${COMP_WORDS[COMP_CWORD]} command=${COMP_WORDS[1]:-}
  # bash splits "--flag=value" at "=": take the whole token from the line, and
  # answer with what replaces the part after "=".
  local line=${COMP_LINE:0:COMP_POINT}
  local token=${line##*[[:space:]]}
  COMPREPLY=()
  if [[ $COMP_CWORD -eq 1 ]]; then
    local commands
    commands=$(etcdisc --help 2>/dev/null | sed -n 's/^  \([a-z]\+\)  .*/\1/p')
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  case "$token" in
    --password-file=*|--etcd-password-file=*|--cacert=*|--cert=*|--key=*|--metrics-file=*|--tls-cert=*|--tls-key=*|--client-ca=*)
      COMPREPLY=($(compgen -f -- "${token#*=}")); return ;;
    --log-level=*)
      COMPREPLY=($(compgen -W "debug info warning error" -- "${token#*=}")); return ;;
    --policy=*)
      COMPREPLY=($(compgen -W "round_robin random least_in_flight key_hash" -- "${token#*=}")); return ;;
    --events=*)
      COMPREPLY=($(compgen -W "new down new,down" -- "${token#*=}")); return ;;
    --register=*)
      COMPREPLY=($(compgen -W "$(_etcdisc_services)" -- "${token#*=}")); return ;;
    --wait=*)
      # A comma-separated list: complete its last item.
      local items=${token#*=} done=""
      [[ $items == *,* ]] && done=${items%,*},
      COMPREPLY=($(compgen -P "$done" -W "$(_etcdisc_services)" -- "${items##*,}"))
      return ;;
    --*=*)
      return ;;
    -*)
      local flags
      flags=$(etcdisc "$command" --help 2>/dev/null |
              sed -n 's/^  \(--[a-z-]\+=\?\).*/\1/p')
      COMPREPLY=($(compgen -W "$flags --help" -- "$token"))
      if [[ ${COMPREPLY[0]:-} == *= ]]; then compopt -o nospace 2>/dev/null; fi
      return ;;
  esac
  # The first word after the command is the service, for all but `services`,
  # `cluster` (a subcommand, then a cluster) and `run` (whose words after --
  # are a command); every word after `wait` is one.
  local i positional=0
  for ((i = 2; i < COMP_CWORD; i++)); do
    [[ ${COMP_WORDS[i]} != -* ]] && positional=$((positional + 1))
  done
  if [[ $command == cluster ]]; then
    # cluster SUBCOMMAND CLUSTER: the subcommand only.
    if [[ $positional -eq 0 ]]; then
      COMPREPLY=($(compgen -W "join members watch" -- "$cur"))
    fi
  elif [[ $command == run ]]; then
    COMPREPLY=($(compgen -c -- "$cur"))
  elif [[ $command == fleet && $positional -eq 0 ]]; then
    COMPREPLY=($(compgen -W "serve $(_etcdisc_services)" -- "$cur"))
  elif [[ $command == wait ]] ||
     [[ $command != services && $positional -eq 0 ]]; then
    COMPREPLY=($(compgen -W "$(_etcdisc_services)" -- "$cur"))
  fi
}
complete -F _etcdisc etcdisc
