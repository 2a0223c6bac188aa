from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from .models import User


class EmailOrUsernameBackend(ModelBackend):
    """Log in with the e-mail address; the user name works too (the demo accounts use it)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        login = (username or kwargs.get("email") or "").strip()
        if not login or password is None:
            return None
        user = User.objects.filter(Q(email__iexact=login) | Q(username=login)).first()
        if user is None:
            User().set_password(password)  # same cost as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
