"""The local stack: a real Kafka broker and Elasticsearch node, assembled from Maven Central.

``watchfloor stack up|down|status|logs`` drives it; ``make run`` and ``make test`` use it.
"""
