"""Where inspection photos and letter scans live: a private folder under MEDIA_ROOT.

The folder has no URL. A file is answered only by the scoped views in
``jindu.inspections.views`` after the record it belongs to has been found inside
the user's scope, so a photo of a 乙镇 venue is a 404 to a 甲镇 cadre like the
venue itself.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils import timezone
from django.utils.functional import cached_property

PRIVATE_FOLDER = "private"


class PrivateStorage(FileSystemStorage):
    """MEDIA_ROOT/private, read from the settings when first used (tests move MEDIA_ROOT)."""

    @cached_property
    def base_location(self) -> str:
        return os.path.join(settings.MEDIA_ROOT, PRIVATE_FOLDER)

    def url(self, name: str | None) -> str:
        raise ValueError("private files have no public URL; serve them through a scoped view")


_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The storage of every inspection file (a callable, so that migrations name no path)."""
    return _storage


def dated_name(folder: str, extension: str) -> str:
    """A random file name under ``folder/yyyy/mm/``: nothing in it says what it shows."""
    today = timezone.localdate()
    return f"{folder}/{today:%Y}/{today:%m}/{secrets.token_hex(16)}.{extension}"


def photo_upload_to(instance: Any, filename: str) -> str:
    return dated_name("photos", filename.rsplit(".", 1)[-1])


def scan_upload_to(instance: Any, filename: str) -> str:
    return dated_name("letters", filename.rsplit(".", 1)[-1])
