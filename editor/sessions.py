"""A Django session engine on DynamoDB (ImageEditSessionTable): Lambda containers share no memory."""

from __future__ import annotations

import time

from django.contrib.sessions.backends.base import CreateError, SessionBase
from pynamodb.exceptions import DoesNotExist, PutError

from editor.models import WebSession


class SessionStore(SessionBase):
    """Session data, signed and encoded by Django, kept in one DynamoDB item with a TTL."""

    def load(self) -> dict:
        try:
            item = WebSession.get(self.session_key, consistent_read=True) if self.session_key else None
        except DoesNotExist:
            item = None
        if item is None or item.expires_at.timestamp() <= time.time():
            self._session_key = None
            return {}
        return self.decode(item.session_data)

    def exists(self, session_key: str) -> bool:
        try:
            WebSession.get(session_key)
        except DoesNotExist:
            return False
        return True

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        item = WebSession(
            session_key=self._get_or_create_session_key(),
            session_data=self.encode(self._get_session(no_load=must_create)),
            expires_at=self.get_expiry_date(),
        )
        try:
            item.save(condition=WebSession.session_key.does_not_exist() if must_create else None)
        except PutError as exc:
            if must_create:
                raise CreateError from exc
            raise

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key:
            WebSession(session_key=session_key).delete()

    @classmethod
    def clear_expired(cls) -> None:
        """DynamoDB's TTL deletes expired sessions; load() ignores them until it does."""
