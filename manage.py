#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    from django.core.management import execute_from_command_line

    from mes.bootstrap import prepare

    prepare()  # the laptop's secret key, broker folders and private PostgreSQL (a no-op where configured)

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
