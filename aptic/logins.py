"""Login attempts: which account a login names, and how fast anyone may guess its password.

- A login names one account whatever its case: an e-mail address compared case-folded, a
  user name looked up case-insensitively and used as stored. Every spelling of an account
  shares its counter, and so do its e-mail and its user name.
- Failures are counted per account, from every address. After LOGIN_FREE_FAILURES of them,
  each further attempt waits LOGIN_DELAY_BASE_SECONDS × 2^(failures − free failures), at
  most LOGIN_DELAY_MAX_SECONDS, from the last failure. A typo costs the owner seconds; an
  attacker gets a few guesses an hour, whatever addresses he uses. The owner is told by
  e-mail once per LOGIN_FAILURE_WINDOW_SECONDS.
- Failures are also counted per client address, across accounts: at most
  LOGIN_ADDRESS_FAILURE_LIMIT per LOGIN_ADDRESS_WINDOW_SECONDS, so that one address cannot try
  one password on every account. (The "login" rate of DRF limits attempts per address too.)
- An attempt refused for a delay never reaches the password check, so the right password is
  refused as well, and it does not lengthen the delay: a stranger cannot push the owner's
  wait beyond LOGIN_DELAY_MAX_SECONDS.
- An unknown login is delayed exactly like a real one, so that delays tell nothing about
  which accounts exist.

The authentication backend (aptic.backends) runs every attempt through `attempt()`, whatever
the door: the web form, the admin, the API's token endpoint. Counters live in the cache
(Redis).
"""

import hashlib
import math
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import audit
from .clients import client_ip
from .models import User
from .ratelimit import increment

# Long enough for one password check; a crashed worker frees the account after it.
EVALUATION_LOCK_SECONDS = 10


class LoginDelayed(Exception):
    """An attempt refused before its password was checked. Raised through Django's
    `authenticate()` (which only swallows PermissionDenied): every caller must answer it,
    with `message` and a 429 that says `seconds`."""

    def __init__(self, seconds, message):
        super().__init__(message)
        self.seconds = seconds
        self.message = message


def find_account(login):
    """The account `login` names: an e-mail address in any case, else a user name in any case,
    the exact spelling first (user names are unique as typed, so two may differ by case)."""
    login = login.strip()
    if not login:
        return None
    return (User.objects.filter(Q(email__iexact=login) | Q(username__iexact=login))
            .order_by(Case(When(email__iexact=login, then=Value(0)),
                           When(username=login, then=Value(1)), default=Value(2)), "pk")
            .first())


def _duration(seconds):
    if seconds < 60:
        return ngettext("%(count)d seconde", "%(count)d secondes", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def account_delayed(seconds):
    return LoginDelayed(seconds, _(
        "Trop d’essais de connexion ont échoué pour ce compte. Par sécurité, attendez "
        "%(wait)s avant de réessayer.") % {"wait": _duration(seconds)})


def address_delayed(seconds):
    return LoginDelayed(seconds, _(
        "Trop d’essais de connexion ont échoué depuis votre adresse. Réessayez dans "
        "%(wait)s.") % {"wait": _duration(seconds)})


def delay_after(failures):
    """The wait imposed after `failures` consecutive failures of one account."""
    beyond = failures - settings.LOGIN_FREE_FAILURES
    if beyond < 0:
        return 0
    # The exponent is bounded so that a long-running attack never builds a huge integer.
    return min(settings.LOGIN_DELAY_BASE_SECONDS * 2 ** min(beyond, 32),
               settings.LOGIN_DELAY_MAX_SECONDS)


class Attempt:
    """One login attempt: the account it names, the counters it is measured against."""

    def __init__(self, request, login):
        self.login = login.strip()
        self.account = find_account(self.login)
        if self.account is not None:
            name = f"user:{self.account.pk}"
        else:
            # Hashed: the cache keeps no list of the logins people typed.
            name = "login:" + hashlib.sha256(self.login.casefold().encode()).hexdigest()[:32]
        self.failures_key = f"login-failures:{name}"
        self.lock_key = f"login-evaluating:{name}"
        self.address = client_ip(request) if request is not None else ""
        self.succeeded = False

    # --- the account -----------------------------------------------------------------------

    def _record(self, now):
        record = cache.get(self.failures_key)
        if record and now - record["last"] < settings.LOGIN_FAILURE_WINDOW_SECONDS:
            return record
        return {"failures": 0, "last": now}

    def account_wait(self, now):
        record = self._record(now)
        return max(0, math.ceil(record["last"] + delay_after(record["failures"]) - now))

    # --- the address -----------------------------------------------------------------------

    def _address_bucket(self, now):
        window = settings.LOGIN_ADDRESS_WINDOW_SECONDS
        bucket = int(now // window)
        return f"login-failures:address:{self.address}:{bucket}", (bucket + 1) * window - now

    def address_wait(self, now):
        if not self.address:
            return 0
        key, left = self._address_bucket(now)
        if (cache.get(key) or 0) < settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return 0
        return max(1, math.ceil(left))

    # --- the gate and the outcome ----------------------------------------------------------

    def open(self):
        """Raise LoginDelayed unless the password may be checked now. One check at a time per
        account: parallel guesses would otherwise all pass before any failure is counted."""
        now = time.time()
        wait = self.address_wait(now)
        if wait:
            raise address_delayed(wait)
        if not cache.add(self.lock_key, 1, timeout=EVALUATION_LOCK_SECONDS):
            raise account_delayed(1)
        wait = self.account_wait(now)
        if wait:
            self.close()
            raise account_delayed(wait)

    def close(self):
        cache.delete(self.lock_key)

    def succeed(self):
        self.succeeded = True
        # Only the account's count: the address's stays, or an attacker signing in to his own
        # account between guesses would reset it.
        cache.delete(self.failures_key)

    def fail(self):
        now = time.time()
        record = self._record(now)
        record = {"failures": record["failures"] + 1, "last": now}
        cache.set(self.failures_key, record, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        if self.address:
            key, _left = self._address_bucket(now)
            increment(key, settings.LOGIN_ADDRESS_WINDOW_SECONDS)
        if (self.account is not None and record["failures"] >= settings.LOGIN_FREE_FAILURES
                and cache.add(f"login-alerted:user:{self.account.pk}", 1,
                              timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)):
            self._tell_owner(record["failures"])

    def _tell_owner(self, failures):
        with transaction.atomic():
            audit.record(None, self.account, "login.failures", failures=failures,
                         ip=self.address)
        send_mail(
            _("[#APTIC] Essais de connexion à votre compte"),
            _("Bonjour,\n\n"
              "Des essais de connexion à votre compte #APTIC ont échoué (%(failures)s de "
              "suite). Si c’était vous, attendez quelques minutes et réessayez : chaque "
              "nouvel essai est désormais retardé.\n\n"
              "Sinon, quelqu’un essaie peut-être de deviner votre mot de passe. Ces délais "
              "protègent votre compte ; choisissez un mot de passe long, que vous n’utilisez "
              "nulle part ailleurs, et prévenez l’opérateur #APTIC en cas de doute.\n\n"
              "%(link)s") % {"failures": failures,
                             "link": settings.SITE_URL + reverse("login")},
            None, [self.account.email], fail_silently=True,
        )


@contextmanager
def attempt(request, login):
    """Check a password inside `with attempt(request, login) as current:` and call
    `current.succeed()` when it is right. Raises LoginDelayed, before the block, when the
    attempt must wait; a block that ends without succeed() is a failure (one that raises
    is not counted)."""
    current = Attempt(request, login)
    current.open()
    try:
        yield current
        if not current.succeeded:
            current.fail()
    finally:
        current.close()
