from django.contrib.auth.backends import ModelBackend

from . import logins
from .models import User


class EmailOrUsernameBackend(ModelBackend):
    """Log in with the e-mail address; the user name works too (the demo accounts use it).
    Every attempt goes through aptic.logins: the login names its account in any case, and
    failures delay the next attempts."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        login = username or kwargs.get("email") or ""
        if not login.strip() or password is None:
            return None
        with logins.attempt(request, login) as attempt:  # raises logins.LoginDelayed
            user = attempt.account
            if user is None:
                User().set_password(password)  # same cost as a real check: no timing oracle
            elif user.check_password(password) and self.user_can_authenticate(user):
                attempt.succeed()
                return user
        return None
