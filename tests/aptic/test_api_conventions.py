"""Conventions of the partner API, read from its committed contract: every list is a page of
the same LimitOffsetPagination (`limit`, `offset`; `{count, next, previous, results}`),
unless it is one of the few answers below that are not pages of rows."""

import json

import pytest
import yaml

from aptic.api import server_error
from tests.aptic.test_openapi import COMMITTED

# operationId → why it is not paginated.
NOT_PAGES = {
    "places_search": "a distance search: the nearest places around a point, nearest first, "
                     "at most `limit` (≤ 100); a wider radius shows more, there is no page 2",
    "places_geojson": "a GeoJSON FeatureCollection of a map viewport (clustered when large)",
    "communes_autocomplete": "autocompletion: the 10 best suggestions for what is typed",
}
PAGE_PROPERTIES = {"count", "next", "previous", "results"}


def load_schema():
    return yaml.safe_load(COMMITTED.read_text())


def resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def ok_body(schema, operation):
    content = operation["responses"].get("200", {}).get("content", {})
    media = content.get("application/json")
    return resolve(schema, media["schema"]) if media else None


def is_list(schema, operation):
    body = ok_body(schema, operation)
    if body is None:
        return False
    properties = set(body.get("properties", {}))
    return (body.get("type") == "array" or bool(properties & {"results", "features"})
            or operation["operationId"].endswith("_list"))


def list_operations():
    schema = load_schema()
    return schema, {
        item["get"]["operationId"]: (path, item["get"])
        for path, item in schema["paths"].items()
        if "get" in item and is_list(schema, item["get"])
    }


def test_every_list_operation_is_a_limit_offset_page():
    schema, operations = list_operations()
    assert len(operations) >= 8, sorted(operations)
    for operation_id, (path, operation) in operations.items():
        if operation_id in NOT_PAGES:
            continue
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"limit", "offset"} <= query, f"{path}: no limit/offset"
        body = ok_body(schema, operation)
        assert PAGE_PROPERTIES <= set(body.get("properties", {})), f"{path}: not a page"
        assert resolve(schema, body["properties"]["results"])["type"] == "array", path


def test_the_exceptions_are_real_lists_of_the_contract():
    _schema, operations = list_operations()
    for operation_id in NOT_PAGES:
        assert operation_id in operations, f"{operation_id} is no longer a list: drop it"


def test_lists_that_filter_document_their_filters():
    _schema, operations = list_operations()
    expected = {
        "v1_redemptions_list": {"place", "mediator", "service", "since", "until"},
        "v1_statements_list": {"state"},
    }
    for operation_id, filters in expected.items():
        _path, operation = operations[operation_id]
        query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert filters <= query, operation_id


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_address_the_api_does_not_know_answers_in_the_error_shape(client, settings, debug):
    settings.DEBUG = debug  # the demo runs with DEBUG on: partners meet it there first
    for url in ("/api/v1/orders/abc/", "/api/v1/nulle-part/", "/api/v1/statements/1.txt"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"code": "not_found", "detail": "Introuvable."}
    page = client.get("/nulle-part/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert client.get("/api/v1/services").status_code == 301  # the trailing slash is added


def test_a_crash_under_the_api_answers_in_the_error_shape(rf):
    response = server_error(rf.get("/api/v1/orders/"))
    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"
    assert server_error(rf.get("/commandes/"))["Content-Type"].startswith("text/html")
