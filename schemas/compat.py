"""Is a new JSON Schema compatible with the one a contract version was published with?

Compatible means every document the old schema accepts, the new one accepts too: a consumer
that upgrades still reads every record already on a topic (compacted topics keep records
written years ago) and every request a client built against the old version. So, within one
version of a contract:

    allowed    a new optional field, a new enum value, a wider type, a looser bound
    breaking   a removed field (the schemas forbid unknown fields), a narrowed type, a new
               required field, a removed enum value, a tighter bound or a new or changed
               pattern or format

`breaking_changes(old, new)` lists the breaking changes, each with the JSON path where it is.
It reads the subset of JSON Schema 2020-12 that pydantic writes: `$ref` into `$defs`, `anyOf`
/ `oneOf` (nullable fields, unions), `type`, `enum`, `const`, `properties`, `required`,
`additionalProperties`, `items`, `prefixItems` and the string and number bounds. Anything it
does not know and that changed is reported as breaking: a false alarm costs a version bump, a
missed break costs a consumer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Schema = Mapping[str, Any]

_ANNOTATIONS = frozenset({
    "title", "description", "examples", "default", "$comment", "deprecated", "readOnly",
    "writeOnly", "$id", "$schema", "$defs", "definitions", "discriminator",
})
"""Keywords that do not change which documents a schema accepts."""
_TIGHTER_WHEN_LOWER = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
_TIGHTER_WHEN_HIGHER = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")
_UNCHANGEABLE = ("pattern", "format", "multipleOf", "uniqueItems", "propertyNames")
_STRUCTURE = frozenset({
    "$ref", "anyOf", "oneOf", "type", "enum", "const", "properties", "required",
    "additionalProperties", "items", "prefixItems", *_TIGHTER_WHEN_LOWER,
    *_TIGHTER_WHEN_HIGHER, *_UNCHANGEABLE,
})
_JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """The changes from `old` to `new` that reject a document `old` accepted (empty: none)."""
    return _Comparison(old, new).compare(old, new, "$")


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self._roots = (old_root, new_root)
        self._seen: set[tuple[str, str]] = set()

    def compare(self, old: Schema | bool, new: Schema | bool, path: str) -> list[str]:
        old, new = self._resolve(old, 0), self._resolve(new, 1)
        if new is True or new == {}:
            return []
        if old is False:
            return []
        if old is True or old == {}:
            return [f"{path}: accepted anything, now restricted"]
        if new is False:
            return [f"{path}: no longer accepted"]
        assert isinstance(old, Mapping) and isinstance(new, Mapping)
        old_branches, new_branches = self._flat(old, 0), self._flat(new, 1)
        problems: list[str] = []
        for branch in old_branches:
            attempts = [self._compare_branch(branch, other, path) for other in new_branches]
            if any(not found for found in attempts):
                continue
            same_type = [found for found, other in zip(attempts, new_branches, strict=True)
                         if _types(other) & _types(branch)]
            problems += same_type[0] if same_type else [
                f"{path}: {_describe(branch)} no longer accepted"]
        return problems

    def _compare_branch(self, old: Schema, new: Schema, path: str) -> list[str]:
        key = (repr(sorted(old.items())), repr(sorted(new.items())))
        if key in self._seen:  # a recursive definition compared again: assume it holds
            return []
        self._seen.add(key)
        try:
            return self._branch_problems(old, new, path)
        finally:
            self._seen.discard(key)

    def _branch_problems(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems: list[str] = []
        old_types, new_types = _types(old), _types(new)
        lost = old_types - new_types - ({"integer"} if "number" in new_types else set())
        if lost:
            problems.append(f"{path}: type narrowed, {', '.join(sorted(lost))} no longer accepted")
        problems += _values_problems(old, new, path)
        problems += _bound_problems(old, new, path)
        if "object" in old_types & new_types:
            problems += self._object_problems(old, new, path)
        if "array" in old_types & new_types:
            problems += self._array_problems(old, new, path)
        unknown = sorted(set(old) ^ set(new) | {k for k in old if k in new and old[k] != new[k]})
        unknown = [k for k in unknown if k not in _STRUCTURE and k not in _ANNOTATIONS]
        problems += [f"{path}: keyword {k!r} changed" for k in unknown]
        return problems

    def _object_problems(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems: list[str] = []
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        extra = new.get("additionalProperties", True)
        for name, schema in old_props.items():
            if name in new_props:
                problems += self.compare(schema, new_props[name], f"{path}.{name}")
            elif extra is False:
                problems.append(f"{path}.{name}: field removed")
            else:
                problems += self.compare(schema, extra, f"{path}.{name}")
        added_required = set(new.get("required", ())) - set(old.get("required", ()))
        problems += [f"{path}.{name}: new required field" for name in sorted(added_required)]
        old_extra = old.get("additionalProperties", True)
        if old_extra is not False:
            if extra is False:
                problems.append(f"{path}: unknown fields no longer accepted")
            else:
                problems += self.compare(old_extra, extra, f"{path}.*")
        return problems

    def _array_problems(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems: list[str] = []
        old_prefix: list[Any] = list(old.get("prefixItems", ()))
        new_prefix: list[Any] = list(new.get("prefixItems", ()))
        for index, schema in enumerate(old_prefix):
            other = new_prefix[index] if index < len(new_prefix) else new.get("items", True)
            problems += self.compare(schema, other, f"{path}[{index}]")
        old_items = old.get("items", True)
        if old_items is not False:
            for index in range(len(old_prefix), len(new_prefix)):
                problems += self.compare(old_items, new_prefix[index], f"{path}[{index}]")
            problems += self.compare(old_items, new.get("items", True), f"{path}[]")
        return problems

    def _flat(self, schema: Schema, side: int) -> list[Schema]:
        """The schema's alternatives with every reference resolved."""
        flat: list[Schema] = []
        for branch in _branches(schema):
            resolved = self._resolve(branch, side)
            if resolved is True:
                resolved = {}
            if resolved is False:
                continue
            assert isinstance(resolved, Mapping)
            flat += [resolved] if resolved is branch else self._flat(resolved, side)
        return flat

    def _resolve(self, schema: Schema | bool, side: int) -> Schema | bool:
        hops = 0
        while isinstance(schema, Mapping) and "$ref" in schema:
            target = _follow(self._roots[side], schema["$ref"])
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest} if rest else target
            hops += 1
            if hops > 64:
                raise ValueError(f"$ref cycle at {schema!r}")
        return schema


def _follow(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are compared, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, Mapping):
        raise ValueError(f"{ref!r} does not name a schema")
    return node


def _branches(schema: Schema) -> Iterator[Schema]:
    """The alternatives a schema accepts, one per `anyOf` / `oneOf` branch (flattened)."""
    union = schema.get("anyOf") or schema.get("oneOf")
    if not union:
        yield schema
        return
    shared = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
    for branch in union:
        if isinstance(branch, Mapping) and not any(k in branch for k in ("anyOf", "oneOf")):
            yield {**shared, **branch} if shared else branch
        elif isinstance(branch, Mapping):
            yield from _branches({**shared, **branch})
        elif branch:
            yield {}


def _types(schema: Schema) -> frozenset[str]:
    if "$ref" in schema:
        return _JSON_TYPES  # resolved when compared; any type may match
    if "const" in schema:
        return frozenset({_json_type(schema["const"])})
    if "enum" in schema and "type" not in schema:
        return frozenset(_json_type(value) for value in schema["enum"])
    declared = schema.get("type")
    if declared is None:
        return _JSON_TYPES
    return frozenset([declared] if isinstance(declared, str) else declared)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _values(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def _values_problems(old: Schema, new: Schema, path: str) -> list[str]:
    new_values = _values(new)
    if new_values is None:
        return []
    old_values = _values(old)
    if old_values is None:
        return [f"{path}: values now restricted to {new_values!r}"]
    removed = [value for value in old_values if value not in new_values]
    return [f"{path}: enum value {value!r} removed" for value in removed]


def _bound_problems(old: Schema, new: Schema, path: str) -> list[str]:
    problems: list[str] = []
    for keyword in _TIGHTER_WHEN_LOWER:
        if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
            problems.append(f"{path}: {keyword} tightened to {new[keyword]!r}")
    for keyword in _TIGHTER_WHEN_HIGHER:
        if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
            problems.append(f"{path}: {keyword} tightened to {new[keyword]!r}")
    for keyword in _UNCHANGEABLE:
        if keyword in new and old.get(keyword) != new[keyword]:
            problems.append(f"{path}: {keyword} changed to {new[keyword]!r}")
    return problems


def _describe(schema: Schema) -> str:
    values = _values(schema)
    if values is not None:
        return f"value {values[0]!r}" if len(values) == 1 else f"values {values!r}"
    return "type " + "/".join(sorted(_types(schema)))
