"""The local single-node Apache Kafka broker (KRaft), run from Maven Central jars with Java 17.

`fetch_jars` copies Kafka's runtime class path into a cache outside the clone (once);
`start` writes the broker's config into a state folder, formats its storage once, launches
`java ... kafka.Kafka` detached with a pid file and a log file, and waits until the port
answers a metadata request; `stop` sends SIGTERM and waits; `status` reads the pid file;
`create_topics` makes the project's topics with their partition counts. By default the broker is
secure: SASL/SCRAM for every client, a principal per service with its passwords in the state
folder's credentials.json (credentials.py), and each service's ACLs (acls.py); `secure=False`
(HORIZON_KAFKA_SECURE=false) runs it PLAINTEXT, for tests. Expected failures
(no Java, Maven failed, broker died, port taken) come back as `Outcome` values with the
reason and the log tail; the CLI (`horizon kafka ...`) turns them into exit codes.
"""

from horizon.kafka_local.acls import Grant, create_acls, grants
from horizon.kafka_local.config import BrokerSecurity, java_command, log4j_properties, new_cluster_id, server_properties
from horizon.kafka_local.credentials import (
    ADMIN, PRINCIPALS, principal_environment, principal_settings, read_credentials,
)
from horizon.kafka_local.jars import fetch_jars
from horizon.kafka_local.process import start, status, stop
from horizon.kafka_local.settings import KAFKA_VERSION, POM, BrokerStatus, KafkaLocalSettings, Outcome, free_port_pair
from horizon.kafka_local.topics import create_topics, ensure_topics
from horizon.kafka_local.wire import metadata_broker_count, metadata_request, probe, probe_secure

__all__ = [
    "ADMIN",
    "PRINCIPALS",
    "BrokerSecurity",
    "Grant",
    "free_port_pair",
    "create_acls",
    "grants",
    "principal_environment",
    "principal_settings",
    "probe_secure",
    "read_credentials",
    "KAFKA_VERSION",
    "POM",
    "BrokerStatus",
    "KafkaLocalSettings",
    "Outcome",
    "create_topics",
    "ensure_topics",
    "fetch_jars",
    "java_command",
    "log4j_properties",
    "metadata_broker_count",
    "metadata_request",
    "new_cluster_id",
    "probe",
    "server_properties",
    "start",
    "status",
    "stop",
]
