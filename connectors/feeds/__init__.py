"""Feed ingestion: registry, fetch, parse, normalise, publish."""
