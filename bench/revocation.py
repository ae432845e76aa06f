"""Access that ends: the time the token-state check adds to an authenticated request, warm and cold.

Baseline (same run): the signature checks alone (access_token_verify), which every request already paid.
Budget: the check adds <= 2 ms p50 per authenticated request with a warm cache (design: issue 12).
"""

from __future__ import annotations

import time

from bench.common import figure, local_stack, smoke

N = 2000


def _timed(function, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run() -> list[dict]:
    with local_stack():
        from rest_framework.test import APIRequestFactory

        from editor.authentication import CognitoJWTAuthentication
        from editor.services.auth.cognito import cognito_sign_in, cognito_user_create
        from editor.services.auth.revocation import token_active_check, token_states
        from editor.services.auth.tokens import access_token_verify

        cognito_user_create(username="revocation-bench", password="Bench-password-1")
        token = cognito_sign_in(username="revocation-bench", password="Bench-password-1")["access_token"]
        claims = access_token_verify(token)
        request = APIRequestFactory().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        authentication = CognitoJWTAuthentication()

        def cold():
            token_states.clear()
            token_active_check(token=token, claims=claims)

        token_active_check(token=token, claims=claims)  # warm the cache
        n = 20 if smoke() else N
        signature = figure("  auth: signature checks only", _timed(lambda: access_token_verify(token), n))
        results = [
            figure(
                "auth: full authenticate, warm cache",
                _timed(lambda: authentication.authenticate(request), n),
                baseline=signature,
            ),
            signature,
            figure(
                "auth: token-state check alone, warm",
                _timed(lambda: token_active_check(token=token, claims=claims), n),
                max_p50=2.0,
            ),
            figure("auth: token-state check, cold (GetUser)", _timed(cold, 5 if smoke() else 200)),
        ]
        added = results[0]["p50"] - signature["p50"]
        print(f"added by the check per authenticated request (p50 difference, same run): {added:.3f} ms")
        return results


if __name__ == "__main__":
    run()
