"""Liveness check for load balancers and deploy scripts: no auth, no AWS calls."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})
