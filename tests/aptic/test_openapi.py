"""The API contract: the generated OpenAPI schema must equal the committed docs/openapi.yaml,
so that every change of the contract is deliberate (`make schema` rewrites the file)."""

import difflib
import io

from django.core.management import call_command

from tests.conftest import ROOT

COMMITTED = ROOT / "docs" / "openapi.yaml"


def generated_schema():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return out.getvalue()


def test_the_generated_schema_equals_the_committed_contract():
    generated = generated_schema()
    committed = COMMITTED.read_text()
    if generated != committed:
        diff = "".join(difflib.unified_diff(committed.splitlines(True),
                                            generated.splitlines(True),
                                            "docs/openapi.yaml", "generated", n=2))
        raise AssertionError(
            "The API contract changed; if it is deliberate, run `make schema`.\n" + diff[:6000])


def test_every_api_operation_is_described_with_its_error_body():
    import yaml

    schema = yaml.safe_load(COMMITTED.read_text())
    assert schema["info"]["title"] == "API #APTIC"
    operations = [(path, method) for path, item in schema["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}]
    assert all(path.startswith("/api/v1/") for path, _ in operations)
    assert len(operations) >= 20
    assert "tokenAuth" in schema["components"]["securitySchemes"]
