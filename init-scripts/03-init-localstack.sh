#!/usr/bin/env bash
# LocalStack ready.d hook: creates the DynamoDB tables and SQS queues, idempotently, from
# resources.json (the one source of truth, also read by src/infra/init.ts). No name is written
# here: everything comes from the JSON.
#
# docker-compose.yml mounts this file and resources.json side by side in
# /etc/localstack/init/ready.d/ (LocalStack runs only *.sh / *.py there; the JSON is ignored).
# Outside LocalStack: `aws --endpoint-url $AWS_ENDPOINT_URL` stands in for awslocal.
#
# Env: RESOURCES_JSON (default: resources.json beside this script), RESOURCE_PREFIX (default '').
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RESOURCES_JSON="${RESOURCES_JSON:-$here/resources.json}"
RESOURCE_PREFIX="${RESOURCE_PREFIX:-}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_PAGER=""

if command -v awslocal >/dev/null 2>&1; then
  aws_() { awslocal "$@" </dev/null; }
else
  aws_() { aws --endpoint-url "${AWS_ENDPOINT_URL:-http://localhost:4566}" "$@" </dev/null; }
fi

[ -r "$RESOURCES_JSON" ] || { echo "init: $RESOURCES_JSON not found" >&2; exit 1; }

# defs <query> [arg]: reads resources.json (prefix applied) and prints what the query asks for.
defs() {
  python3 - "$RESOURCES_JSON" "$RESOURCE_PREFIX" "$@" <<'PY'
import json, sys
path, prefix, query = sys.argv[1], sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else None
with open(path) as f:
    d = json.load(f)
tables = {prefix + t["TableName"]: dict(t, TableName=prefix + t["TableName"]) for t in d["tables"]}
queues = [dict(q, QueueName=prefix + q["QueueName"],
               DeadLetterQueue=prefix + q["DeadLetterQueue"] if q.get("DeadLetterQueue") else "")
          for q in d["queues"]]
if query == "tables":
    print("\n".join(tables))
elif query == "table":                       # create-table --cli-input-json
    print(json.dumps(tables[arg]))
elif query == "queues":                      # name<TAB>dlq-name-or-empty, DLQs first (file order)
    print("\n".join(f'{q["QueueName"]}\t{q["DeadLetterQueue"]}' for q in queues))
elif query == "create-attrs":                # only what can be set at creation only
    q = next(q for q in queues if q["QueueName"] == arg)
    fifo = q.get("Attributes", {}).get("FifoQueue")
    print(json.dumps({"FifoQueue": fifo} if fifo else {}))
elif query == "attrs":                       # the mutable attributes, plus the redrive policy
    q = next(q for q in queues if q["QueueName"] == arg)
    attrs = {k: v for k, v in q.get("Attributes", {}).items() if k != "FifoQueue"}
    if len(sys.argv) > 5 and sys.argv[5]:
        attrs["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": sys.argv[5], "maxReceiveCount": d["redrive"]["maxReceiveCount"]})
    print(json.dumps(attrs))
else:
    sys.exit(f"unknown query {query}")
PY
}

# Tables
while IFS= read -r table; do
  [ -n "$table" ] || continue
  if aws_ dynamodb describe-table --table-name "$table" >/dev/null 2>&1; then
    echo "init: table $table exists"
  else
    aws_ dynamodb create-table --cli-input-json "$(defs table "$table")" >/dev/null
    echo "init: table $table created"
  fi
  aws_ dynamodb wait table-exists --table-name "$table"
done < <(defs tables)

# Queues (dead-letter queues come first in the file, so their ARNs exist for the redrive policies)
declare -A arn
while IFS=$'\t' read -r queue dlq; do
  [ -n "$queue" ] || continue
  url="$(aws_ sqs create-queue --queue-name "$queue" --attributes "$(defs create-attrs "$queue")" \
    --query QueueUrl --output text)"
  dlq_arn=""
  if [ -n "$dlq" ]; then
    dlq_arn="${arn[$dlq]:-}"
    [ -n "$dlq_arn" ] || { echo "init: dead-letter queue $dlq must be defined before $queue" >&2; exit 1; }
  fi
  attrs="$(defs attrs "$queue" "$dlq_arn")"
  if [ "$attrs" != "{}" ]; then
    aws_ sqs set-queue-attributes --queue-url "$url" --attributes "$attrs"
  fi
  arn[$queue]="$(aws_ sqs get-queue-attributes --queue-url "$url" --attribute-names QueueArn \
    --query Attributes.QueueArn --output text)"
  echo "init: queue $queue ready${dlq:+ (dead letters to $dlq)}"
done < <(defs queues)

echo "init: tables and queues ready from $RESOURCES_JSON (prefix '$RESOURCE_PREFIX')"
