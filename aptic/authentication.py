from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from . import tokens


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`) with a personal API token."""

    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("En-tête d’autorisation mal formé."))
        try:
            key = header[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed(_("Jeton d’API invalide ou révoqué.")) from error
        token = tokens.authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Jeton d’API invalide ou révoqué."))
        return token.user, token

    def authenticate_header(self, request):
        return "Token"
