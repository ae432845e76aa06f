"""The TOTP second factor under /api/v1/auth/mfa: its state, setting it up, turning it off."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from editor.openapi import extend_schema
from editor.services.auth import mfa, pool_rules
from editor.views.accounts import PASSWORD, client_address, request_access_token


class MfaCodeInput(serializers.Serializer):
    code = serializers.RegexField(
        r"^[0-9]{6}$", error_messages={"invalid": "Enter the 6 digits the app shows."}
    )


class ProofInput(serializers.Serializer):
    """What changing the factor asks for: the password, and the app's current code while a factor is on."""

    password = serializers.CharField(**PASSWORD)
    code = serializers.RegexField(
        r"^[0-9]{6}$", required=False, error_messages={"invalid": "Enter the 6 digits the app shows."}
    )


def _proof(request) -> dict:
    data = ProofInput(data=request.data)
    data.is_valid(raise_exception=True)
    return {
        "access_token": request_access_token(request),
        "username": request.user.username,
        "password": data.validated_data["password"],
        "code": data.validated_data.get("code"),
        "address": client_address(request),
    }


class MfaApi(APIView):
    """Is a second factor on; confirm a setup with a code; turn it off (password and current code)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: None}, description="Whether a second factor is on, and the pool's setting."
    )
    def get(self, request):
        enabled = mfa.account_mfa_enabled(access_token=request_access_token(request))
        return Response({"enabled": enabled, "pool": pool_rules.pool_settings().mfa})

    @extend_schema(request=MfaCodeInput, responses={200: None}, description="Finish setting up with a code.")
    def post(self, request):
        data = MfaCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        mfa.account_mfa_setup_verify(
            access_token=request_access_token(request),
            username=request.user.username,
            code=data.validated_data["code"],
            address=client_address(request),
        )
        return Response({"enabled": True})

    @extend_schema(
        request=ProofInput,
        responses={200: None},
        description="Turn the second factor off (pools where it is optional): send your password and "
        "the 6-digit code your app shows now.",
    )
    def delete(self, request):
        mfa.account_mfa_disable(**_proof(request))
        return Response({"enabled": False})


class MfaSetupApi(APIView):
    """Start setting up a TOTP second factor: a new secret, its otpauth:// URI and an SVG QR code."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ProofInput,
        responses={200: None},
        description="Start setting up: send your password (and, to replace a factor that is on, its "
        "current code); answers a new secret, its otpauth:// URI and an SVG QR code for the app.",
    )
    def post(self, request):
        return Response(mfa.account_mfa_setup_start(**_proof(request)))
