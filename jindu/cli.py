"""The ``jindu`` command: everything ``manage.py`` does, plus jindu's own commands.

``jindu demo``, ``jindu backup FILE``, ``jindu restore FILE``, ``jindu audit verify``
and the rest are Django management commands in the apps.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jindu.settings")
    argv = list(sys.argv if argv is None else argv)
    # `jindu demo` works on its own database file, never on a production one.
    if len(argv) > 1 and argv[1] == "demo":
        os.environ.setdefault("JINDU_DEMO", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
