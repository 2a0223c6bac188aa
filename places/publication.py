"""Open data: the qualified places, published once a day at stable public URLs (/donnees/).

- `lieux.csv`: the national standard v1.0.2 (places.standard.exporting), checked with
  frictionless against places/data/schema_v1.0.2.json;
- `lieux.json`: data.inclusion's structures and services (places.standard.inclusion), checked
  against its JSON Schemas (places/data/data-inclusion_v0_*.json).

Each file is written to a temporary file beside the published one, checked, then renamed
over it: a reader gets the old file or the new one, never half of one. A file that fails its
check is not published: the previous one stays, and the operator is told why (an e-mail to
its staff; the /donnees/ page shows operators the last failure). The files hold no time of
their own (a place's `date_maj` is the day it last changed), and a file whose bytes did not
change is left as it is, date included: the job run twice a day publishes the same bytes. A
place that loses its qualification is not in the next file.

The state of the publication (date and counts of each file, its last failure) is kept beside
the files in `.publication.json`, written the same way. The daily Celery beat job
(places.tasks.publish_open_data_task) and `manage.py publish_open_data` both call publish();
they act for the platform itself: no actor.
"""

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from .notifications import mail_operators
from .standard import exporting, inclusion
from .standard.vocabulary import V1

logger = logging.getLogger(__name__)

STATE_FILE = ".publication.json"
PROBLEMS_KEPT = 20  # errors told to the operator per file; the count says how many in all
LICENCE = "Licence Ouverte 2.0 (etalab-2.0)"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"

PUBLISHED, UNCHANGED, REFUSED = "published", "unchanged", "refused"


def _check_csv(path):
    return exporting.problems(path, limit=PROBLEMS_KEPT)


def _check_json(path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        return 1, [gettext("JSON illisible : %(error)s") % {"error": error}]
    return inclusion.problems(data, limit=PROBLEMS_KEPT)


@dataclass(frozen=True)
class Dataset:
    """One published file: its name (the last part of its URL), its media type, the schema
    it follows, how it is written (a function of a text stream that returns its counts) and
    checked (a function of its path that returns the number of errors and the first ones)."""

    name: str
    media_type: str
    format: str
    schema: str
    schema_url: str
    write: Callable = field(repr=False)
    check: Callable = field(repr=False)


DATASETS = [
    Dataset(
        name="lieux.csv", media_type="text/csv; charset=utf-8",
        format=_("CSV, UTF-8, colonnes séparées par des virgules"),
        schema=format_lazy(_("Standard national des lieux de médiation numérique, version "
                             "{version}"), version=V1),
        schema_url="https://github.com/LaMednum/standard-mediation-num/tree/v1.0.2",
        write=exporting.write_csv, check=_check_csv,
    ),
    Dataset(
        name="lieux.json", media_type="application/json",
        format=_("JSON, UTF-8 : structures et services"),
        schema=format_lazy(_("Schéma data.inclusion des structures et services, version "
                             "{version} ({package})"), version=inclusion.SCHEMA_VERSION,
                           package=inclusion.SCHEMA_PACKAGE),
        schema_url="https://github.com/gip-inclusion/data-inclusion-schema",
        write=inclusion.write_json, check=_check_json,
    ),
]
BY_NAME = {dataset.name: dataset for dataset in DATASETS}

FAILURE_MESSAGE = (
    gettext_noop("[#APTIC] Données ouvertes non publiées : %(files)s"),
    gettext_noop("La publication des lieux qualifiés n’a pas publié %(files)s : le fichier ne "
                 "respecte pas son schéma. Les fichiers publiés auparavant restent en ligne, "
                 "sans les changements d’aujourd’hui.\n\n%(problems)s\n\nCorrigez les lieux en "
                 "cause, puis relancez la publication (python manage.py publish_open_data) ou "
                 "attendez la prochaine, demain."),
)


@dataclass
class Outcome:
    """What one run did with one file."""

    name: str
    status: str
    counts: dict = field(default_factory=dict)
    errors: int = 0
    problems: list = field(default_factory=list)

    def as_dict(self):
        return {"name": self.name, "status": self.status, "counts": self.counts,
                "errors": self.errors, "problems": self.problems}


def root():
    return Path(settings.OPEN_DATA_ROOT)


def published_path(name):
    """The path of the published file `name` (one of DATASETS), or None for any other."""
    return root() / name if name in BY_NAME else None


def publish():
    """Write, check and publish every file of DATASETS; returns one Outcome per file. The
    operator's staff is mailed when a file could not be published."""
    directory = root()
    directory.mkdir(parents=True, exist_ok=True)
    state = read_state()
    now = timezone.now()
    outcomes = []
    for dataset in DATASETS:
        try:
            outcome = _publish(dataset, directory, state, now)
        except Exception as error:  # a crash must not stop the other files, and is told
            logger.exception("Publishing %s failed", dataset.name)
            outcome = Outcome(dataset.name, REFUSED, errors=1, problems=[
                gettext("erreur inattendue : %(error)r") % {"error": error}])
        if outcome.status == REFUSED:
            state["failures"][dataset.name] = {
                "at": now.isoformat(), "errors": outcome.errors, "problems": outcome.problems}
        else:
            state["failures"].pop(dataset.name, None)
        outcomes.append(outcome)
    state["checked_at"] = now.isoformat()
    text = json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    _replace(directory / STATE_FILE, text.encode(), now)
    refused = [outcome for outcome in outcomes if outcome.status == REFUSED]
    if refused:
        _tell_operator(refused)
    return outcomes


def _publish(dataset, directory, state, now):
    suffix = Path(dataset.name).suffix  # frictionless reads the format from it
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=directory, prefix=f".{dataset.name}.",
        suffix=suffix, delete=False)
    temporary = Path(handle.name)
    try:
        with handle:
            counts = dataset.write(handle)
        errors, problems = dataset.check(temporary)
        if errors:
            return Outcome(dataset.name, REFUSED, counts, errors, problems)
        content = temporary.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        target = directory / dataset.name
        previous = state["files"].get(dataset.name) or {}
        if _same_bytes(target, content):
            status = UNCHANGED
            published_at = (previous.get("published_at") if previous.get("sha256") == digest
                            else datetime.fromtimestamp(target.stat().st_mtime, UTC)
                            .isoformat())
        else:
            _move(temporary, target, now)
            status, published_at = PUBLISHED, now.isoformat()
        state["files"][dataset.name] = {"sha256": digest, "size": len(content),
                                        "published_at": published_at, "counts": counts}
        return Outcome(dataset.name, status, counts)
    finally:
        temporary.unlink(missing_ok=True)


def _same_bytes(path, content):
    try:
        return path.stat().st_size == len(content) and path.read_bytes() == content
    except FileNotFoundError:
        return False


def _move(temporary, target, moment):
    """Put a checked file in place, readable by the web server, dated when published (its
    Last-Modified)."""
    os.chmod(temporary, 0o644)
    os.utime(temporary, (moment.timestamp(), moment.timestamp()))
    os.replace(temporary, target)


def _replace(target, content, moment):
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f"{target.name}.",
                                         delete=False)
    temporary = Path(handle.name)
    try:
        with handle:
            handle.write(content)
        _move(temporary, target, moment)
    finally:
        temporary.unlink(missing_ok=True)


def read_state():
    """The state of the publication: `files` (per name: sha256, size, published_at, counts),
    `failures` (per name: at, errors, problems) and `checked_at` (the last run)."""
    try:
        state = json.loads((root() / STATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        state = {}
    if not isinstance(state, dict):
        state = {}
    for key in ("files", "failures"):
        if not isinstance(state.get(key), dict):
            state[key] = {}
    return state


def status():
    """What the /donnees/ page shows: per dataset, its published file (None before the first
    publication) and its last failure (None when the last run published it); and when the
    publication last ran."""
    state = read_state()
    files = []
    for dataset in DATASETS:
        published = state["files"].get(dataset.name)
        if published and not (root() / dataset.name).exists():
            published = None
        failure = state["failures"].get(dataset.name)
        files.append({
            "dataset": dataset,
            "published": published and {**published,
                                        "published_at": _moment(published["published_at"])},
            "failure": failure and {**failure, "at": _moment(failure["at"])},
        })
    return files, _moment(state.get("checked_at"))


def refused_files():
    """The names of the files that the last run could not publish."""
    return sorted(read_state()["failures"])


def _moment(text):
    try:
        return datetime.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def _tell_operator(refused):
    params = {
        "files": ", ".join(outcome.name for outcome in refused),
        "problems": "\n\n".join(
            f"{outcome.name} ({outcome.errors}) :\n"
            + "\n".join(f"- {problem}" for problem in outcome.problems)
            for outcome in refused),
    }
    link = settings.SITE_URL + reverse("open-data")
    try:
        mail_operators(FAILURE_MESSAGE, params, link)
    except Exception:  # the page still tells; a mail server down must not hide the outcome
        logger.exception("The operator could not be mailed about the open-data publication")
