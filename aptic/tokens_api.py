"""POST /api/v1/auth/token/: a partner's software trades an e-mail (or user name) and a
password for a personal API token, as the account page creates them."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from aptic.errors import DomainError

from . import tokens
from .forms import LoginForm
from .logins import LoginDelayed


class TokenCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="Adresse e-mail ou identifiant.")
    password = serializers.CharField(max_length=128, trim_whitespace=False,
                                     style={"input_type": "password"})
    name = serializers.CharField(max_length=100, default="API",
                                 help_text="Nom du jeton, pour vous souvenir de son usage.")


class TokenCreatedSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Le jeton, affiché cette fois seulement.")
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()


class TokenCreate(APIView):
    """Create a personal API token (shown once). Counted with the web login form in the
    "login" rate per address. After repeated failures for an account, from any address, each
    attempt waits a growing delay, as on the web form: 429 `locked_out` with Retry-After."""

    authentication_classes = []  # credentials are in the body; no session, hence no CSRF
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        operation_id="v1_auth_token_create", request=TokenCreateSerializer,
        responses={201: TokenCreatedSerializer},
    )
    def post(self, request):
        payload = TokenCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            user = authenticate(request._request, username=data["username"],
                                password=data["password"])
        except LoginDelayed as delayed:
            raise DomainError("locked_out", delayed.message,
                              retry_after=delayed.seconds) from None
        if user is None:
            raise DomainError("invalid_credentials", LoginForm.error_messages["invalid_login"])
        token, key = tokens.create_token(user=user, name=data["name"])
        body = TokenCreatedSerializer({"key": key, "name": token.name, "prefix": token.prefix,
                                       "created_at": token.created_at}).data
        return Response(body, status=status.HTTP_201_CREATED)
