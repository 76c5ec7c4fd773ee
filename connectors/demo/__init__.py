"""The bundled demo: our own news corpus rendered as RSS feeds and served locally."""
