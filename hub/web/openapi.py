"""The OpenAPI 3.1 document of every HTTP endpoint of the hub, served at `GET /openapi.json`.

Two servers answer HTTP: a worker (`hub worker`: case queries, feeds and their stream, the
console, health and metrics) and the webhook intake (`hub ingest`: one `POST /webhooks/<source>`
per connector that arrives over HTTP). The document lists both; intake paths carry their own
`servers`. Record shapes are the committed contracts of `schemas.export` (their `$defs` moved to
`components/schemas`); every error answer is a `problem` (RFC 9457, `schemas.problems`).

The intake's paths come from `connectors.registry`: a new HTTP connector is documented by being
registered, with the headers its descriptor names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, get_args

from aiohttp import web as aioweb

from connectors.base import Connector
from connectors.registry import CONNECTORS
from schemas.case import CaseStatus
from schemas.export import CONTRACTS_BY_NAME
from schemas.problems import PROBLEM_MEDIA_TYPE

OPENAPI_PATH = "/openapi.json"
HTTP_CONTRACTS = ("case", "shipment", "feed-view", "feed-region", "problem")
"""The contracts HTTP answers carry, as components."""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref("problem")}}}


def _json(description: str, schema: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}},
            **extra}


def _text(description: str, media_type: str) -> dict[str, Any]:
    return {"description": description,
            "content": {media_type: {"schema": {"type": "string"}}}}


def _path_parameter(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def _query(name: str, description: str, schema: Mapping[str, Any] | None = None,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": dict(schema or {"type": "string"})}


BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_UNAUTHORIZED = _problem("unauthorized: no token, or an unknown one")
_BAD_REQUEST = _problem("bad_request: a bad parameter, or a token in the URL (refused)")
_STATUS = _query("status", "only cases in this status",
                 {"type": "string", "enum": list(get_args(CaseStatus))})
_REGION = _path_parameter("region", "a region code (DE, JP, ...)")


def _worker_paths() -> dict[str, Any]:
    case_status = {"type": "array", "items": _ref("case")}
    return {
        "/": {"get": {
            "operationId": "workerStatus", "tags": ["health"],
            "summary": "faust's own liveness answer",
            "responses": {"200": _json("the worker's web server is up",
                                       {"type": "object", "properties": {
                                           "status": {"type": "string", "const": "OK"}}})},
        }},
        "/livez": {"get": {
            "operationId": "livez", "tags": ["health"],
            "summary": "is the process alive (no stage died): a failure is a reason to restart",
            "responses": {
                "200": _json("alive", {"type": "object"}),
                "503": _json("a stage died or the worker is stopping", {"type": "object"}),
            },
        }},
        "/readyz": {"get": {
            "operationId": "readyz", "tags": ["health"],
            "summary": "is the pipeline running, restored and its read model caught up "
                       "(a rebalance makes it fail for a while: not a reason to restart)",
            "responses": {
                "200": _json("ready", _ref("health")),
                "503": _json("not ready (the same facts say why)", _ref("health")),
            },
        }},
        "/health": {"get": {
            "operationId": "health", "tags": ["health"],
            "summary": "the same as /readyz (kept for existing probes)",
            "responses": {
                "200": _json("ready", _ref("health")),
                "503": _json("not ready (the same facts say why)", _ref("health")),
            },
        }},
        "/metrics": {"get": {
            "operationId": "metrics", "tags": ["health"],
            "summary": "metrics in the Prometheus text format (the worker's hub_*; the "
                       "intake serves its own hub_intake_* at the same path)",
            "responses": {"200": _text("the metric families", "text/plain")},
        }},
        "/metrics.json": {"get": {
            "operationId": "metricsJson", "tags": ["health"],
            "summary": "the same figures as JSON, for the dashboard",
            "responses": {"200": _json("the figures", {"type": "object"})},
        }},
        "/dashboard": {"get": {
            "operationId": "dashboard", "tags": ["health"],
            "summary": "a page charting /metrics.json",
            "responses": {"200": _text("the page", "text/html")},
        }},
        "/cases/{case_id}": {"get": {
            "operationId": "getCase", "tags": ["cases"], "security": BEARER,
            "summary": "one case (free text masked)",
            "parameters": [_path_parameter("case_id", "the case id")],
            "responses": {
                "200": _json("the case", _ref("case")),
                "400": _BAD_REQUEST, "401": _UNAUTHORIZED,
                "404": _problem("not_found: no such case, or one the token may not read"),
            },
        }},
        "/cases": {"get": {
            "operationId": "listCasesOfOrder", "tags": ["cases"], "security": BEARER,
            "summary": "the cases of one order the token may read",
            "parameters": [_query("order_id", "the marketplace's order number",
                                  {"type": "string", "minLength": 1, "maxLength": 200},
                                  required=True)],
            "responses": {"200": _json("the cases", case_status),
                          "400": _BAD_REQUEST, "401": _UNAUTHORIZED},
        }},
        "/shipments/{tracking_number}": {"get": {
            "operationId": "getShipment", "tags": ["cases"], "security": BEARER,
            "summary": "a return parcel's shipping and customs state (step texts masked)",
            "parameters": [_path_parameter("tracking_number", "the parcel's tracking number")],
            "responses": {
                "200": _json("the shipment", _ref("shipment")),
                "400": _BAD_REQUEST, "401": _UNAUTHORIZED,
                "404": _problem("not_found: no such shipment, or one the token may not read"),
            },
        }},
        "/feeds": {"get": {
            "operationId": "listRegions", "tags": ["feeds"], "security": BEARER,
            "summary": "the regions the token reads, with their locale and console strings",
            "responses": {
                "200": _json("the regions", {
                    "type": "object", "required": ["regions"], "additionalProperties": False,
                    "properties": {"regions": {"type": "array", "items": _ref("feed-region")}}}),
                "400": _BAD_REQUEST, "401": _UNAUTHORIZED,
            },
        }},
        "/feeds/{region}": {"get": {
            "operationId": "listFeed", "tags": ["feeds"], "security": BEARER,
            "summary": "one page of the region's case views, most recently updated first",
            "parameters": [
                _REGION, _STATUS,
                _query("limit", "page size", {"type": "integer", "minimum": 1,
                                              "maximum": 1000}),
                _query("cursor", "the next page, from the previous page's Link header"),
            ],
            "responses": {
                "200": _json("the views", {"type": "array", "items": _ref("feed-view")},
                             headers={"Link": {
                                 "description": '<...>; rel="next" when there are more',
                                 "schema": {"type": "string"}}}),
                "400": _BAD_REQUEST, "401": _UNAUTHORIZED,
                "403": _problem("forbidden: the token reads other regions"),
                "404": _problem("not_found: no such region"),
            },
        }},
        "/feeds/{region}/ticket": {"post": {
            "operationId": "issueStreamTicket", "tags": ["feeds"], "security": BEARER,
            "summary": "a short-lived ticket for the region's stream (EventSource sends no "
                       "headers)",
            "parameters": [_REGION],
            "responses": {
                "200": _json("the ticket", {
                    "type": "object", "required": ["ticket", "expires_in"],
                    "additionalProperties": False,
                    "properties": {"ticket": {"type": "string"},
                                   "expires_in": {"type": "integer",
                                                  "description": "seconds"}}}),
                "400": _BAD_REQUEST, "401": _UNAUTHORIZED,
                "403": _problem("forbidden: the token reads other regions"),
                "404": _problem("not_found: no such region"),
            },
        }},
        "/feeds/{region}/stream": {"get": {
            "operationId": "streamFeed", "tags": ["feeds"], "security": [*BEARER, {}],
            "summary": "Server-Sent Events: the latest views, `event: ready`, then every update",
            "description": (
                "`event: case` (id `<case_id>:<version>`, data: a `feed-view`), "
                "`event: ready` (data: {count, next}) after the snapshot, `event: removed` "
                "(data: {case_id, removed: true}) when a case leaves the feed or the filtered "
                "status. Authenticated by the bearer token or by `?ticket=`."),
            "parameters": [_REGION, _STATUS,
                           _query("ticket", "a ticket from POST /feeds/{region}/ticket")],
            "responses": {
                "200": _text("the event stream", "text/event-stream"),
                "400": _BAD_REQUEST,
                "401": _problem("unauthorized: no token, or an invalid or expired ticket"),
                "403": _problem("forbidden: the token reads other regions"),
                "404": _problem("not_found: no such region"),
                "429": _problem("too_many_streams: the token has all its streams open "
                                "(Retry-After)"),
                "503": _problem("unavailable: the region has all its streams open "
                                "(Retry-After)"),
            },
        }},
        **_console_paths(),
        "/console": {"get": {
            "operationId": "console", "tags": ["console"],
            "summary": "the support console (reads the feeds with the token in its fragment)",
            "responses": {"200": _text("the page", "text/html")},
        }},
        "/console/{asset}": {"get": {
            "operationId": "consoleAsset", "tags": ["console"],
            "summary": "the console's script and style sheet",
            "parameters": [{**_path_parameter("asset", "the file"),
                            "schema": {"type": "string", "enum": ["console.js",
                                                                  "console.css"]}}],
            "responses": {"200": {"description": "the file", "content": {
                "text/javascript": {"schema": {"type": "string"}},
                "text/css": {"schema": {"type": "string"}}}},
                "404": _problem("not_found: no such asset")},
        }},
    }


def _console_paths() -> dict[str, Any]:
    """The support console's work queue, agents' actions and sign-in strings."""
    forbidden = _problem("forbidden: the token reads other regions")
    return {
        "/queue/{region}": {"get": {
            "operationId": "workQueue", "tags": ["console"], "security": BEARER,
            "summary": "the region's work queue: searched, filtered, nearest deadline first, "
                       "one page, with the region's first response and first-contact "
                       "resolution",
            "parameters": [
                _REGION, _STATUS,
                _query("q", "order, tracking, return, claim or refund number (or a part)"),
                _query("sla", "SLA state now", {"type": "string",
                                                "enum": ["breached", "at_risk", "on_track"]}),
                _query("marketplace", "a marketplace id"), _query("reason", "a reason code"),
                _query("assignee", "me (an agent's token), none, or an agent id"),
                _query("closed", "1: closed cases too"),
                _query("limit", "page size", {"type": "integer", "minimum": 1, "maximum": 200}),
                _query("cursor", "the next page, from the previous page's `next`"),
            ],
            "responses": {
                "200": _json("one page", {
                    "type": "object", "required": ["cases", "next", "total", "stats"],
                    "properties": {
                        "cases": {"type": "array", "items": _ref("feed-view")},
                        "next": {"type": ["string", "null"]},
                        "total": {"type": "integer"}, "stats": {"type": "object"}}}),
                "400": _BAD_REQUEST, "401": _UNAUTHORIZED, "403": forbidden,
                "404": _problem("not_found: no such region"),
            },
        }},
        "/cases/{case_id}/actions": {"post": {
            "operationId": "postAgentAction", "tags": ["console"], "security": BEARER,
            "summary": "an agent's action on a case of the agent's region (idempotent by "
                       "`action_id`): written to case.actions as an `agent-action`",
            "parameters": [_path_parameter("case_id", "the case id")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["action_id", "kind"],
                "properties": {"action_id": {"type": "string", "minLength": 8,
                                             "maxLength": 100},
                               "kind": {"type": "string", "enum": [
                                   "take", "reply", "note", "request_info", "escalate",
                                   "propose", "close"]}}}}}},
            "responses": {
                "202": _json("recorded", {
                    "type": "object", "required": ["action_id", "event_id", "case_id"],
                    "properties": {"action_id": {"type": "string"},
                                   "event_id": {"type": "string"},
                                   "case_id": {"type": "string"}}}),
                "400": _BAD_REQUEST, "401": _UNAUTHORIZED,
                "403": _problem("forbidden: not an agent's token, or another region's case"),
                "404": _problem("not_found: no such case"),
                "409": _problem("conflict: the case has no order yet"),
                "413": _problem("too_large: the action is too large"),
            },
        }},
        "/agents": {"get": {
            "operationId": "listAgents", "tags": ["console"], "security": BEARER,
            "summary": "who the token's agent is, and the agents of its region",
            "responses": {"200": _json("the agents", {"type": "object"}),
                          "400": _BAD_REQUEST, "401": _UNAUTHORIZED},
        }},
        "/console/locale/{region}": {"get": {
            "operationId": "consoleLocale", "tags": ["console"],
            "summary": "the region's page strings, language and direction (no case data)",
            "parameters": [_REGION],
            "responses": {"200": _json("the strings", {"type": "object"}),
                          "404": _problem("not_found: no such region")},
        }},
    }


_INTAKE_SERVER = [{"url": "http://{host}:{port}", "description": "webhook intake (hub ingest)",
                   "variables": {"host": {"default": "localhost"},
                                 "port": {"default": "8080"}}}]
_ACCEPTED = {"type": "object", "required": ["accepted"], "additionalProperties": False,
             "properties": {"accepted": {"type": "boolean", "const": True},
                            "duplicate": {"type": "boolean", "const": True}}}


def _webhook(connector: Connector) -> dict[str, Any]:
    http = connector.http
    assert http is not None
    accepted = (_text("written (Adyen's required answer)", "text/plain")
                if http.accepted_body is not None
                else _json("written; `duplicate` when the delivery was accepted before",
                           _ACCEPTED))
    responses: dict[str, Any] = {
        "200": accepted,
        "400": _problem("bad_delivery_id or unexpected_resource"),
        "401": _problem("the signature or credential is missing, malformed, wrong or stale "
                        "(code: missing_signature, malformed_signature, bad_signature, stale, "
                        "...)"),
        "413": _problem("too_large: the body is over the intake's limit"),
        "503": _problem("not_configured, not_written, in_flight, certificate_unavailable or "
                        "resource_unavailable: the provider retries later"),
    }
    if http.replay == "rejected":
        responses["409"] = _problem("replay: a signature seen before")
    parameters = [
        {"name": name, "in": "header", "required": False, "schema": {"type": "string"},
         "description": "kept on the raw record as http." + name}
        for name in http.kept_headers if name not in http.signature_headers
    ]
    signature = [
        {"name": name, "in": "header", "required": False, "schema": {"type": "string"},
         "description": f"authenticates the delivery ({connector.signature_scheme})"}
        for name in http.signature_headers
    ]
    return {
        "servers": _INTAKE_SERVER,
        "post": {
            "operationId": f"receive_{connector.source}",
            "tags": ["webhooks"],
            "summary": connector.description,
            "description": (
                f"The provider's own payload, verified with `{connector.signature_scheme}` and "
                f"written as received to `{connector.raw_topic}`; 200 only once the broker "
                "acknowledged it."),
            "parameters": [*signature, *parameters],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
            "responses": responses,
        },
    }


def _intake_paths(connectors: Iterable[Connector]) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/healthz": {"servers": _INTAKE_SERVER, "get": {
            "operationId": "intakeHealth", "tags": ["health"],
            "summary": "the intake is up, and the sources it takes",
            "responses": {"200": _json("up", {
                "type": "object", "required": ["status", "sources"],
                "properties": {"status": {"type": "string", "const": "ok"},
                               "sources": {"type": "array", "items": {"type": "string"}}}})},
        }},
    }
    for connector in connectors:
        if connector.http is not None:
            paths[f"/webhooks/{connector.source}"] = _webhook(connector)
    return paths


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name in HTTP_CONTRACTS:
        contract = CONTRACTS_BY_NAME[name]
        document = contract.json_schema()
        definitions: dict[str, Any] = document.pop("$defs", {})
        # Definitions of one name in several contracts are shared when equal, else suffixed.
        unchanged = {def_name: def_name for def_name in definitions}
        renamed = {
            def_name: def_name
            if schemas.get(def_name, _rewrite(definition, unchanged))
            == _rewrite(definition, unchanged) else f"{def_name}-{name}"
            for def_name, definition in definitions.items()
        }
        for def_name, definition in definitions.items():
            schemas[renamed[def_name]] = _rewrite(definition, renamed)
        schema_id = document.pop("$id")
        document.pop("$schema")
        schemas[name] = {**_rewrite(document, renamed), "x-schema-id": schema_id}
    schemas["health"] = {
        "type": "object",
        "required": ["ready", "read_model_caught_up", "pipeline_ready", "rebalancing",
                     "assigned_partitions"],
        "properties": {"ready": {"type": "boolean"},
                       "read_model_caught_up": {"type": "boolean"},
                       "pipeline_ready": {"type": "boolean"},
                       "rebalancing": {"type": "boolean"},
                       "assigned_partitions": {"type": "integer"}},
    }
    return {"schemas": schemas, "securitySchemes": {"bearer": {
        "type": "http", "scheme": "bearer",
        "description": "a team token (reads its region), an agent's token (reads its region "
                       "and acts on its cases) or an operator token (reads all); never in the "
                       "URL"}}}


def _rewrite(node: Any, renamed: Mapping[str, str]) -> Any:
    """`node` with its `#/$defs/X` references pointing at the components they moved to."""
    if isinstance(node, dict):
        return {key: (f"#/components/schemas/{renamed[value.removeprefix('#/$defs/')]}"
                      if key == "$ref" and isinstance(value, str)
                      and value.startswith("#/$defs/") else _rewrite(value, renamed))
                for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite(item, renamed) for item in node]
    return node


@cache
def openapi_document(connectors: tuple[Connector, ...] = CONNECTORS) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the worker's and the intake's endpoints."""
    paths = {**_worker_paths(), **_intake_paths(connectors)}
    own = {"get": {
        "operationId": "openapi", "tags": ["health"],
        "summary": "this document (served by the worker and by the intake)",
        "responses": {"200": _json("the OpenAPI document", {"type": "object"})}}}
    paths[OPENAPI_PATH] = own
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aftersales-hub",
            "version": "1",
            "description": (
                "Case queries, regional feeds and the support console on every worker; "
                "provider webhooks on the intake. Every error answer is "
                f"`{PROBLEM_MEDIA_TYPE}` (RFC 9457) with the hub's `code`."),
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "http://{host}:{port}", "description": "a worker (hub worker)",
                     "variables": {"host": {"default": "localhost"},
                                   "port": {"default": "6066"}}}],
        "tags": [{"name": name} for name in ("cases", "feeds", "console", "webhooks",
                                              "health")],
        "paths": paths,
        "components": _components(),
    }


def openapi_json() -> bytes:
    """The document as served."""
    return json.dumps(openapi_document(), ensure_ascii=False).encode()


async def serve_openapi(request: aioweb.Request) -> aioweb.Response:
    """`GET /openapi.json` on an aiohttp application (the intake)."""
    return aioweb.Response(body=openapi_json(), content_type="application/json")


def register_openapi_view(app: Any) -> None:
    """Serve the document at `GET /openapi.json` on a worker's web server."""

    @app.page(OPENAPI_PATH)
    async def openapi(web: Any, request: aioweb.Request) -> aioweb.Response:
        return await serve_openapi(request)
