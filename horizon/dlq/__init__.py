"""Dead letters after the fact: what is parked on the `<topic>.dlq.<service>` topics, and replaying it.

letters.py holds the pure part (a parked letter, filters, the summary per topic, which letters a
replay sends); broker.py reads the dead-letter topics and republishes. `horizon dlq` (in
horizon/commands/dlq.py) prints them.
"""
