"""Voices: the catalog (consent ledger, likeness guard, watermark and provenance grow here)."""
