"""Watchfloor's contracts: settings, topic specs, document models and index templates. No I/O here."""
