"""Adapters to the outside world: feeds, Kafka, Elasticsearch, webhooks, the local stack and the CLI."""
