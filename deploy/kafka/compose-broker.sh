#!/bin/bash
# The docker-compose broker (apache/kafka image), secure as `horizon kafka start` makes the local one:
# clients sign in with SASL/SCRAM as a principal per service (ingest, classify, subscriptions, notify)
# or admin; the controller's own connections use PLAIN (SCRAM credentials live in the metadata log the
# controller serves, so cannot authenticate it); the StandardAuthorizer lets admin do anything and the
# services only what the ACLs that kafka-init creates allow (horizon/kafka_local/acls.py).
#
# It writes the broker's config from the environment (the passwords come from .env), formats the
# storage once with every principal's SCRAM credentials (a password changed later in .env does not
# change a formatted broker's: alter it with kafka-configs.sh --entity-type users, or start afresh
# with a new kafka-data volume), writes an admin client config for the health check, and runs Kafka.
set -euo pipefail
umask 077  # the files written here hold the admin's password

KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
CONFIG="${HORIZON_KAFKA_CONFIG:-/tmp/horizon-server.properties}"
ADMIN_CONFIG="${HORIZON_KAFKA_ADMIN_CONFIG:-/tmp/horizon-admin.properties}"
HOST="${HORIZON_KAFKA_HOSTNAME:-kafka}"
DATA="${HORIZON_KAFKA_DATA:-/var/lib/kafka/data}"
: "${CLUSTER_ID:?set CLUSTER_ID}"
admin_password="${HORIZON_KAFKA_ADMIN_PASSWORD:?set HORIZON_KAFKA_ADMIN_PASSWORD (see deploy/env.example)}"

scram_jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"${admin_password}\";"
cat > "${CONFIG}" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:9093
listeners=SASL_PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:29092
advertised.listeners=SASL_PLAINTEXT://${HOST}:9092,HOST://localhost:29092
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,HOST:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${admin_password}" user_admin="${admin_password}";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${scram_jaas}
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${scram_jaas}
listener.name.host.scram-sha-256.sasl.jaas.config=${scram_jaas}
listener.name.host.scram-sha-512.sasl.jaas.config=${scram_jaas}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=${DATA}
auto.create.topics.enable=true
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF

cat > "${ADMIN_CONFIG}" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=${scram_jaas}
EOF

scram=()
for principal in admin ingest classify subscriptions notify; do
  variable="HORIZON_KAFKA_${principal^^}_PASSWORD"
  password="${!variable:-}"
  if [[ -z "${password}" ]]; then
    echo "set ${variable} (see deploy/env.example)" >&2
    exit 1
  fi
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    scram+=(--add-scram "${mechanism}=[name=${principal},password=${password}]")
  done
done

"${KAFKA_BIN}/kafka-storage.sh" format --cluster-id "${CLUSTER_ID}" --config "${CONFIG}" --ignore-formatted "${scram[@]}"
exec "${KAFKA_BIN}/kafka-server-start.sh" "${CONFIG}"
