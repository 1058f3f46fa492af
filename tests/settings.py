"""Settings for the test suite: the production settings, fed a throw-away environment."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("JINDU_VAR_DIR", tempfile.mkdtemp(prefix="jindu-test-"))
os.environ.setdefault(
    "JINDU_SECRET_KEY",
    "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",  # noqa: E501
)
os.environ.setdefault("JINDU_DATA_KEY", "test-only-data-key-0123456789")
os.environ.setdefault(
    "JINDU_STATIC_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("JINDU_STATIC_FINDERS", "1")

from jindu.settings import *  # noqa: E402,F403

# Fast hashing keeps the suite quick; the password rules under test do not depend on it.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Background jobs run in the test's own process, right after the caller commits
# (tests of the worker turn this off and run it).
JOBS_INLINE = True

Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405
