"""The signed-in person as the domain knows them: built by authentication, taken by services."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CognitoUser:
    """The signed-in person, as the verified token says: never from the request body."""

    sub: str
    username: str
    groups: tuple[str, ...] = field(default_factory=tuple)

    # What Django and DRF ask of a request's user.
    is_authenticated = True
    is_anonymous = False

    @classmethod
    def from_claims(cls, claims: dict) -> CognitoUser:
        return cls(
            sub=claims["sub"],
            username=claims.get("username") or claims.get("cognito:username") or claims["sub"],
            groups=tuple(claims.get("cognito:groups") or ()),
        )
