"""Canonical, versioned models of the hub (pydantic v2, frozen, extra fields forbidden)."""
