"""Small input and output serializers for the API; no model serializers (there is no ORM)."""

from __future__ import annotations

from rest_framework import serializers


class SignInInput(serializers.Serializer):
    username = serializers.CharField(max_length=128)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class RefreshInput(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=8192)


class TokensOutput(serializers.Serializer):
    access_token = serializers.CharField()
    id_token = serializers.CharField()
    refresh_token = serializers.CharField(required=False)
    expires_in = serializers.IntegerField()
    token_type = serializers.CharField()


class MeOutput(serializers.Serializer):
    sub = serializers.CharField()
    username = serializers.CharField()
    groups = serializers.ListField(child=serializers.CharField())
