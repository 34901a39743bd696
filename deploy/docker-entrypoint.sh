#!/bin/sh
# Entry point of the platform's one image (Dockerfile): $SERVICE picks the service this container
# runs; the process then names itself tasks-$SERVICE and handles SIGTERM (graceful drain).
set -eu

# NAME_FILE=/path sets NAME to the file's content (the convention of the official database images)
# for the variables that carry credentials: compose secrets are files, and the services read only
# their environment. An allow-list, because other settings legitimately end in _FILE
# (SCHEDULES_FILE). Add a new credential-bearing variable here. The file's trailing newlines are
# dropped; setting both NAME and NAME_FILE is an error, never a silent pick.
for name in AMQP_URL REDIS_URL REDIS_SENTINEL_PASSWORD SMTP_URL; do
  eval "file=\${${name}_FILE:-}"
  [ -n "$file" ] || continue
  eval "direct=\${${name}:-}"
  if [ -n "$direct" ]; then
    echo "docker-entrypoint: both $name and ${name}_FILE are set; set only one" >&2
    exit 64
  fi
  if [ ! -r "$file" ]; then
    echo "docker-entrypoint: ${name}_FILE names $file, which cannot be read" >&2
    exit 66
  fi
  value="$(cat "$file")"
  export "$name=$value"
  unset "${name}_FILE"
done

# AMQP_NODES=host:port,... (a RabbitMQ cluster's nodes; docker-compose profile `cluster`): AMQP_URL
# becomes one URL per node, each with AMQP_URL's user, password and vhost, comma-separated (the
# services connect to the first that answers and move on when it goes away). The credentials end
# at the URL's last `@`; the vhost is what follows the host's first `/`.
if [ -n "${AMQP_NODES:-}" ]; then
  url="${AMQP_URL:-}"
  case "$url" in
    *@*) head="${url%@*}@" rest="${url##*@}" ;;
    *://*) head="${url%%://*}://" rest="${url#*://}" ;;
    *)
      echo "docker-entrypoint: AMQP_NODES needs AMQP_URL (or AMQP_URL_FILE) to take the user from" >&2
      exit 64
      ;;
  esac
  vhost=""
  case "$rest" in */*) vhost="/${rest#*/}" ;; esac
  urls=""
  for node in $(printf '%s' "$AMQP_NODES" | tr ',' ' '); do
    urls="${urls:+${urls},}${head}${node}${vhost}"
  done
  export AMQP_URL="$urls"
fi
unset AMQP_NODES

# The image's WORKDIR; also right when the script runs from a checkout (deploy/ is beside it).
cd "$(dirname "$0")/.."

# The service's folder and V8 heap settings, from the service manifest (contracts/src/services.json);
# an unknown SERVICE exits 64 there, naming the known ones.
spec="$(node deploy/service-spec.js "${SERVICE:-}")" || exit 64
folder="$(printf '%s\n' "$spec" | sed -n 1p)"
flags="$(printf '%s\n' "$spec" | sed -n 2p)"
# In front of NODE_OPTIONS: an option set there wins, since V8 keeps the last value of a flag.
export NODE_OPTIONS="${flags}${NODE_OPTIONS:+ ${NODE_OPTIONS}}"

# exec: node replaces this shell, so the signals reach the service (tini, `init: true`, or the
# kubelet's SIGTERM), and the service's exit code is the container's.
exec node --enable-source-maps "${folder}/dist/main.js" "$@"
