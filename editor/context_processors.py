"""Template context: the signed-in person, if any."""

from editor.services.auth.web_sessions import session_user


def signed_in_user(request) -> dict:
    return {"cognito_user": session_user(request)}
