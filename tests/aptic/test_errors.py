"""One refusal type, one status per code: the same refusal answers the same everywhere."""

import ast
from pathlib import Path

from aptic.errors import STATUS, DomainError
from tests.conftest import ROOT

CODE = [path for app in ("aptic", "cheques", "places", "services")
        for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


def calls_of(name):
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                yield Path(path).relative_to(ROOT), node


def test_a_refusal_takes_its_status_from_its_code_only():
    explicit = [f"{path}:{node.lineno}" for path, node in calls_of("DomainError")
                if any(keyword.arg == "status" for keyword in node.keywords)]
    # The replay of an idempotent request gives back the status it first answered.
    assert explicit == ["cheques/redemption.py:" + str(replay_line())]


def replay_line():
    source = (ROOT / "cheques" / "redemption.py").read_text().splitlines()
    return next(number for number, line in enumerate(source, 1)
                if "DomainError(refusal.pop" in line)


def test_no_other_exception_type_carries_a_refusal():
    classes = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
               for path in CODE for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.ClassDef) and node.name.endswith("Error")
               and any(getattr(base, "id", "") == "Exception" for base in node.bases)]
    # Internal failures (a file that cannot be read, numbers running out), not refusals.
    assert all(name.split()[-1] in {"IssuanceError", "ImportFileError", "RowError",
                                    "LogoError", "SearchError", "DomainError"}
               for name in classes), classes


def test_codes_answer_their_status_and_unknown_codes_answer_400():
    assert DomainError("already_redeemed", "x").status == STATUS["already_redeemed"] == 409
    assert DomainError("unknown_cheque", "x").status == 404
    assert DomainError("something_new", "x").status == 400
    assert DomainError("throttled", "x", retry_after=30).body() == {
        "code": "throttled", "detail": "x"}
