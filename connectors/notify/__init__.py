"""The notifier: alerts from Kafka to on-call analysts over webhooks."""
