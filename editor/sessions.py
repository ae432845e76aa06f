"""A Django session engine on DynamoDB (ImageEditSessionTable): Lambda containers share no memory."""

from __future__ import annotations

import time

from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from pynamodb.exceptions import DoesNotExist, PutError

from editor.models import WebSession, condition_failed


class SessionStore(SessionBase):
    """Session data, signed and encoded by Django, kept in one DynamoDB item with a TTL."""

    def _validate_session_key(self, key: str | None) -> bool:
        """Only keys this engine could have made (32 of [a-z0-9]): a forged cookie never reaches DynamoDB."""
        return bool(key) and len(key) == 32 and key.isascii() and key.isalnum() and key == key.lower()

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
        # Creating must not overwrite a session; saving must not bring back one signed out meanwhile.
        condition = (
            WebSession.session_key.does_not_exist() if must_create else WebSession.session_key.exists()
        )
        try:
            item.save(condition=condition)
        except PutError as exc:
            if not condition_failed(exc):
                raise
            raise CreateError if must_create else UpdateError from exc

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key:
            WebSession(session_key=session_key).delete()

    @classmethod
    def clear_expired(cls) -> None:
        """DynamoDB's TTL deletes expired sessions; load() ignores them until it does."""
