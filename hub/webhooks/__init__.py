"""Webhook intake: verify provider webhooks and write their raw bytes to `raw.<source>`.

    signatures   pure verifiers, one per signature scheme (no I/O, no clock)
    replay       the replay cache Protocol and its bounded in-memory implementation
    certificates PayPal certificate fetching (pinned hosts) and RSA verification
    secrets      the configured secrets, checked against the sources served
    app          the aiohttp application, `serve_intake` and `run_intake`
"""
