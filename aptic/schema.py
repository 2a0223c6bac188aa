"""OpenAPI descriptions of the project's own API building blocks (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "aptic.authentication.PersonalTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Jeton personnel : `Token <clé>` (créé sur la page « Mon compte »).",
        }


ERROR_SCHEMA = {
    "type": "object",
    "description": "Toute erreur de l’API : un code machine stable et un message en français.",
    "properties": {
        "code": {"type": "string", "description": (
            "Code machine : invalid, not_authenticated, authentication_failed, "
            "invalid_credentials, locked_out, "
            "permission_denied, forbidden, not_found, throttled, invalid_format, "
            "bad_check_character, bad_signature, unknown_cheque, not_activated, cancelled, "
            "expired, already_redeemed, service_not_allowed, territory_not_allowed, "
            "wrong_cheque_count (le panier ne paie pas un nombre entier de séances : "
            "`expected` donne les nombres de chèques admis), "
            "idempotency_key_reused, too_many_failures, server_error…")},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True,
                   "description": "Erreurs par champ (code « invalid »)."},
    },
    "required": ["code", "detail"],
}


class ErrorSerializer(serializers.Serializer):
    """The error body, for the statuses an operation adds to the common ones below
    (`extend_schema(responses={409: ErrorSerializer})`). Its component, `Error`, is replaced by
    ERROR_SCHEMA, the full description."""

    code = serializers.CharField()
    detail = serializers.CharField()


def error_responses(*statuses):
    """`responses={200: X, **error_responses(409)}`: statuses beyond the common ones."""
    return dict.fromkeys(statuses, ErrorSerializer)


DEFAULT_ERRORS = {
    "400": "Données invalides (code « invalid », détail par champ dans « errors »).",
    "401": "Authentification requise ou jeton invalide.",
    "403": "Action non autorisée pour cet utilisateur.",
    "404": "Introuvable (ou invisible pour cet utilisateur).",
    "429": "Trop de demandes.",
}


def add_error_responses(result, generator, request, public):
    """Every operation documents the common error body for the common error statuses."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in DEFAULT_ERRORS.items():
                responses.setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": reference}},
                })
    return result
