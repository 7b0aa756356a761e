"""tests/integration/schema_helpers.py - the message schemas of docs/asyncapi.yaml:
which message types each stream (channel address) carries and the JSON Schema
of each (docs/schemas/), and checks that fail with the message and the broken
rule when an entry does not fit."""

import json
import pathlib

import jsonschema
import yaml

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"


def _load():
    api = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    schemas = {}
    for path in (DOCS / "schemas").glob("*.json"):
        s = json.loads(path.read_text())
        schemas[s["$id"]] = s
    by_file = {p.name: json.loads(p.read_text()) for p in (DOCS / "schemas").glob("*.json")}
    channels = {}
    for ch in api["channels"].values():
        types = {}
        for name, ref in ch["messages"].items():
            msg = api["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
            types[name] = by_file[msg["payload"]["$ref"].rsplit("/", 1)[1]]
        channels[ch["address"]] = types
    return channels, schemas


CHANNELS, SCHEMAS = _load()


def _validator(schema):
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    try:
        from referencing import Registry, Resource
        registry = Registry().with_resources(
            (sid, Resource.from_contents(s)) for sid, s in SCHEMAS.items())
        return cls(schema, registry=registry)
    except ImportError:  # jsonschema before 4.18 (Debian 12)
        return cls(schema, resolver=jsonschema.RefResolver.from_schema(schema, store=SCHEMAS))


def check(address, mtype, data):
    """Assert that data (a parsed payload) is a valid `mtype` message of the channel."""
    types = CHANNELS.get(address)
    assert types is not None, f"{address}: no such channel in docs/asyncapi.yaml"
    assert mtype in types, f"{address}: message type {mtype!r} is not in docs/asyncapi.yaml"
    errors = sorted(_validator(types[mtype]).iter_errors(data), key=str)
    assert not errors, (f"{address} {mtype} breaks its schema: {errors[0].message}"
                        f" at {list(errors[0].absolute_path)}: {json.dumps(data)}")


def check_stream(r, stream):
    """Check every entry of a Redis stream; returns [(type, data)] checked."""
    seen = []
    for _id, fields in r.xrange(stream):
        assert set(fields) == {"type", "data"}, f"{stream} {_id}: fields {sorted(fields)}"
        data = json.loads(fields["data"])
        check(stream, fields["type"], data)
        seen.append((fields["type"], data))
    return seen
