"""One route, one DRF view."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class Health(APIView):
    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("healthz", Health.as_view())]
