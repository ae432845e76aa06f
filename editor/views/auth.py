"""Token API for REST clients: refresh, and who am I (sign-in is in views/accounts.py)."""

from __future__ import annotations

from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from editor.openapi import extend_schema
from editor.serializers import MeOutput, RefreshInput, TokensOutput
from editor.services.cognito import cognito_refresh


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
