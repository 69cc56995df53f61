"""Wiring: models, the spoken turn, and (growing) the streaming turn engine."""
