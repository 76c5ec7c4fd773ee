"""Watchfloor's streaming pipeline: pure transforms and one composition root for Beam."""
