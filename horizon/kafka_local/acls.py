"""Who may do what on a secure broker: each service's ACLs, from the topics' owners in contracts.

- a service writes the topics it produces (contracts.topics.PRODUCERS), and nothing else: ingest
  only items, so it cannot forge a profile;
- it reads the topics it consumes (CONSUMERS), in consumer groups whose names start with its own;
- it writes (and may create) its own dead-letter topics, `<topic>.dlq.<service>`;
- `admin` is a super user (topics, ACLs, `horizon dlq`), and no ACL names it.

`grants()` is the list, as data (docker-compose's kafka-init job is checked against it);
`create_acls()` sends it to the broker through the admin API (CreateAcls; the StandardAuthorizer
keeps ACLs in the metadata log, and creating one that exists changes nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from contracts.topics import CONSUMERS, PRODUCERS, SERVICES, dead_letter_topic
from services.common.kafka_settings import KafkaSettings

log = logging.getLogger(__name__)

# The protocol's codes (org.apache.kafka.common.resource / acl)
_RESOURCE = {"topic": 2, "group": 3}
_PATTERN = {"literal": 3, "prefixed": 4}
_OPERATION = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8}
_ALLOW = 3


@dataclass(frozen=True, order=True)
class Grant:
    """One ACL: `User:<principal>` may do `operation` on a topic or group (a name, or a prefix)."""

    principal: str
    operation: str
    resource: str  # "topic" | "group"
    name: str
    pattern: str = "literal"  # "literal" | "prefixed"


def grants() -> list[Grant]:
    """Every service's ACLs (admin needs none: it is a super user)."""
    out: set[Grant] = set()
    for topic, producer in PRODUCERS.items():
        out |= {Grant(producer, "WRITE", "topic", topic), Grant(producer, "DESCRIBE", "topic", topic)}
    for topic, consumers in CONSUMERS.items():
        for service in consumers:
            letters = dead_letter_topic(topic, service)
            out |= {Grant(service, "READ", "topic", topic), Grant(service, "DESCRIBE", "topic", topic),
                    Grant(service, "WRITE", "topic", letters), Grant(service, "CREATE", "topic", letters),
                    Grant(service, "DESCRIBE", "topic", letters)}
    for service in SERVICES:
        if any(service in consumers for consumers in CONSUMERS.values()):
            out |= {Grant(service, "READ", "group", service, "prefixed"),
                    Grant(service, "DESCRIBE", "group", service, "prefixed")}
    return sorted(out)


async def create_acls(admin: KafkaSettings, wanted: list[Grant] | None = None) -> int:
    """Create the ACLs on the broker, signed in as admin; the number sent. Raises on any refusal."""
    from aiokafka.client import AIOKafkaClient
    from aiokafka.protocol.admin import CreateAclsRequest

    wanted = grants() if wanted is None else wanted
    client = AIOKafkaClient(**admin.client_options(), client_id="horizon-acls")
    await client.bootstrap()
    try:
        node = client.get_random_node()
        for grant in wanted:
            request = CreateAclsRequest(_RESOURCE[grant.resource], grant.name, _PATTERN[grant.pattern],
                                        f"User:{grant.principal}", "*", _OPERATION[grant.operation], _ALLOW)
            response = await client.send(node, request)
            [(error, message)] = response.creation_responses
            if error:
                raise RuntimeError(f"the broker refused {grant}: error {error} {message or ''}".strip())
    finally:
        await client.close()
    log.info("ACLs created", extra={"acls": len(wanted)})
    return len(wanted)
