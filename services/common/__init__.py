"""Infrastructure glue shared by the services: logging and Kafka wiring. Imports no service."""
