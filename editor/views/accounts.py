"""Account API: sign in and its challenge, refresh, who am I, sign up, codes, passwords, sign out, MFA."""

from __future__ import annotations

from django.http import Http404
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from editor.errors import ServiceError
from editor.flags import query_flag_read
from editor.openapi import OpenApiParameter, extend_schema, inline_serializer
from editor.serializers import MeOutput, RefreshInput, SignInInput, TokensOutput
from editor.services.auth import accounts, mfa, pool_rules
from editor.services.auth.cognito import cognito_refresh
from editor.services.auth.web_sessions import session_access_token

USERNAME = {"max_length": 128, "trim_whitespace": True}
PASSWORD = {"max_length": 256, "trim_whitespace": False, "style": {"input_type": "password"}}
CODE = {"max_length": 16, "trim_whitespace": True}


def client_address(request) -> str:
    """The caller's address: API Gateway's requestContext.identity.sourceIp, never a header.

    Under Lambda, Zappa fills REMOTE_ADDR from X-Forwarded-For, which the client writes; the proxy event
    it keeps in the environ carries the address API Gateway saw on the connection. Outside Lambda (tests,
    runserver) there is no event, and REMOTE_ADDR is the socket's peer.
    """
    event = request.META.get("lambda.event")
    if isinstance(event, dict):
        identity = (event.get("requestContext") or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "unknown")
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def request_access_token(request) -> str | None:
    """The access token this request was authenticated with (Bearer header or the web session)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return session_access_token(request._request)


def _self_sign_up_required() -> None:
    # When the pool does not let people sign up, the routes are absent, as the page is.
    if not pool_rules.pool_settings().self_sign_up:
        raise Http404


class _PublicApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def valid(self, serializer_class, request) -> dict:
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data


_CHALLENGE_OUTPUT = inline_serializer(
    "ChallengeOutput",
    {
        "challenge": serializers.CharField(),
        "session": serializers.CharField(),
        "username": serializers.CharField(),
    },
)


class SignInApi(_PublicApi):
    @extend_schema(
        request=SignInInput,
        responses={200: TokensOutput, 429: None},
        auth=[],
        description="Tokens, or {challenge: NEW_PASSWORD_REQUIRED, session, username} for a first sign-in "
        "with a temporary password (answer it at /auth/challenge).",
    )
    def post(self, request):
        data = self.valid(SignInInput, request)
        return Response(accounts.account_sign_in(**data, address=client_address(request)))


class ChallengeApi(_PublicApi):
    class ChallengeInput(serializers.Serializer):
        challenge = serializers.ChoiceField(
            choices=accounts.SUPPORTED_CHALLENGES, default="NEW_PASSWORD_REQUIRED"
        )
        username = serializers.CharField(**USERNAME)
        session = serializers.CharField(min_length=20, max_length=2048)
        new_password = serializers.CharField(required=False, **PASSWORD)
        code = serializers.RegexField(
            r"^[0-9]{6}$", required=False, error_messages={"invalid": "Six digits."}
        )

        def validate(self, data):
            needed = {"NEW_PASSWORD_REQUIRED": "new_password", "SOFTWARE_TOKEN_MFA": "code"}.get(
                data["challenge"]
            )
            if needed and needed not in data:
                raise serializers.ValidationError({needed: f"{data['challenge']} needs {needed}."})
            return data

    @extend_schema(
        request=ChallengeInput,
        responses={200: TokensOutput},
        auth=[],
        description="Answer the challenge /auth/token returned: NEW_PASSWORD_REQUIRED with new_password, "
        "SOFTWARE_TOKEN_MFA with the 6-digit code of the person's authenticator app; MFA_SETUP (the pool "
        "requires a second factor) first without a code (a secret and a new session), then with the app's "
        "first code and that session.",
    )
    def post(self, request):
        data = self.valid(self.ChallengeInput, request)
        common = {
            "username": data["username"],
            "session": data["session"],
            "address": client_address(request),
        }
        if data["challenge"] == "SOFTWARE_TOKEN_MFA":
            return Response(accounts.account_mfa_answer(code=data["code"], **common))
        if data["challenge"] == "MFA_SETUP":
            if "code" not in data:
                return Response(
                    mfa.account_mfa_setup_challenge_start(username=data["username"], session=data["session"])
                )
            return Response(mfa.account_mfa_setup_challenge_finish(code=data["code"], **common))
        return Response(accounts.account_new_password(new_password=data["new_password"], **common))


_POLICY_OUTPUT = inline_serializer(
    "PasswordPolicy", {"rules": serializers.ListField(), "self_sign_up": serializers.BooleanField()}
)


class PasswordPolicyApi(_PublicApi):
    @extend_schema(
        responses={
            200: inline_serializer(
                "PasswordPolicy",
                {"rules": serializers.ListField(), "self_sign_up": serializers.BooleanField()},
            )
        },
        auth=[],
    )
    def get(self, request):
        return Response(
            {"rules": pool_rules.password_rules(), "self_sign_up": pool_rules.pool_settings().self_sign_up}
        )


class SignUpApi(_PublicApi):
    class SignUpInput(serializers.Serializer):
        username = serializers.RegexField(
            r"^[^\s@]{1,128}$", error_messages={"invalid": "Use 1-128 characters, no spaces and no @."}
        )
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(**PASSWORD)

    @extend_schema(request=SignUpInput, responses={201: None}, auth=[])
    def post(self, request):
        _self_sign_up_required()
        data = self.valid(self.SignUpInput, request)
        result = accounts.account_sign_up(**data, address=client_address(request))
        return Response(result, status=status.HTTP_201_CREATED)


class ConfirmApi(_PublicApi):
    class ConfirmInput(serializers.Serializer):
        username = serializers.CharField(**USERNAME)
        code = serializers.CharField(**CODE)

    @extend_schema(request=ConfirmInput, responses={200: None}, auth=[])
    def post(self, request):
        _self_sign_up_required()
        data = self.valid(self.ConfirmInput, request)
        accounts.account_confirm(**data, address=client_address(request))
        return Response({"confirmed": True})


class UsernameInput(serializers.Serializer):
    username = serializers.CharField(**USERNAME)


class ResendApi(_PublicApi):
    @extend_schema(request=UsernameInput, responses={202: None}, auth=[])
    def post(self, request):
        _self_sign_up_required()
        data = self.valid(UsernameInput, request)
        accounts.account_code_resend(**data, address=client_address(request))
        return Response({"status": "code_sent_if_unconfirmed"}, status=status.HTTP_202_ACCEPTED)


class ForgotApi(_PublicApi):
    @extend_schema(request=UsernameInput, responses={202: None}, auth=[])
    def post(self, request):
        data = self.valid(UsernameInput, request)
        accounts.account_password_forgot(**data, address=client_address(request))
        return Response({"status": "code_sent_if_account_exists"}, status=status.HTTP_202_ACCEPTED)


class ResetApi(_PublicApi):
    class ResetInput(serializers.Serializer):
        username = serializers.CharField(**USERNAME)
        code = serializers.CharField(**CODE)
        password = serializers.CharField(**PASSWORD)

    @extend_schema(request=ResetInput, responses={200: None}, auth=[])
    def post(self, request):
        data = self.valid(self.ResetInput, request)
        accounts.account_password_reset(**data, address=client_address(request))
        return Response({"reset": True})


class PasswordApi(APIView):
    permission_classes = [IsAuthenticated]

    class PasswordInput(serializers.Serializer):
        old_password = serializers.CharField(**PASSWORD)
        new_password = serializers.CharField(**PASSWORD)

    @extend_schema(request=PasswordInput, responses={200: None})
    def post(self, request):
        data = self.PasswordInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = accounts.account_password_change(
            access_token=request_access_token(request),
            username=request.user.username,
            address=client_address(request),
            **data.validated_data,
        )
        # Every sign-in ended, this one too: its new tokens (or the second factor's challenge) follow.
        return Response({"changed": True, "signed_out": "everywhere", **result})


class SignOutApi(APIView):
    permission_classes = [AllowAny]

    class SignOutInput(serializers.Serializer):
        refresh_token = serializers.CharField(max_length=8192, required=False)

    @extend_schema(
        request=SignOutInput,
        parameters=[
            OpenApiParameter(
                "everywhere",
                bool,
                description="1 or true: end every sign-in (GlobalSignOut); 0 or false: this one only",
            )
        ],
        responses={200: None},
        description="Revoke a refresh token and the access tokens issued from it (RevokeToken), or with "
        "?everywhere=1 and a Bearer token end every sign-in of the person (GlobalSignOut).",
    )
    def post(self, request):
        everywhere = query_flag_read(query=request.query_params, name="everywhere")
        data = self.SignOutInput(data=request.data)
        data.is_valid(raise_exception=True)
        if everywhere:
            if request.user is None:
                raise ServiceError(
                    "not_authenticated", "Send your access token to sign out everywhere.", status=401
                )
            accounts.account_sign_out_everywhere(access_token=request_access_token(request))
            return Response({"signed_out": "everywhere"})
        if "refresh_token" not in data.validated_data:
            raise ServiceError("invalid_request", "refresh_token: send the refresh token to revoke.")
        accounts.account_sign_out(refresh_token=data.validated_data["refresh_token"])
        return Response({"signed_out": "this_sign_in"})


class RefreshApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=RefreshInput, responses={200: TokensOutput}, auth=[])
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(cognito_refresh(**data.validated_data))


class MeApi(APIView):
    @extend_schema(responses={200: MeOutput})
    def get(self, request):
        user = request.user
        return Response(
            MeOutput({"sub": user.sub, "username": user.username, "groups": list(user.groups)}).data
        )
