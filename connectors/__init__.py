"""Connectors: pure functions from a provider's raw payload to canonical events.

Contract (see `connectors.base`): `parse(raw, *, received_at, headers)` takes the body exactly
as the provider delivers it and returns a list of `CanonicalEvent`. No Kafka, no HTTP, no clock,
no environment inside. Unreadable input raises `SkippableRecordError` with a precise reason; an
event type the hub does not use returns `[]` and logs why.
"""
