"""`manage.py import_loanbook PATH...`: import loan book CSV files (contract section 2)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carloan.loanbook.kinds import KINDS
from carloan.loanbook.services import ImportRejected, ImportResult, loanbook_import_many

KIND_ORDER = list(KINDS)


class Command(BaseCommand):
    help = (
        "Import loan book CSV files, or folders holding them (*.csv). A file's name without "
        f"'.csv' names its kind: {', '.join(KINDS)}. "
        "All the files of one call are imported in ONE transaction: if any file has a bad row, "
        "nothing of any of them is stored, every bad row of that file is printed (line, column, "
        "reason) and the command exits non-zero; fix the file and run the same command again. "
        "Rows are upserted by their key, so re-running it is safe. Unless --no-refresh, the "
        "command returns once the metrics of the touched days have been recomputed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="CSV files, or folders holding *.csv files")
        parser.add_argument(
            "--no-refresh",
            action="store_true",
            help="Store the rows only; do not recompute the metrics of the touched days.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files = self._files([Path(p) for p in options["paths"]])
        unknown = [f for f in files if f.stem not in KINDS]
        if unknown:
            raise CommandError(
                "These file names name no kind: "
                + ", ".join(str(f) for f in unknown)
                + f". Name each file after its kind: {', '.join(f'{k}.csv' for k in KINDS)}."
            )
        verbosity = int(options["verbosity"])
        interactive = sys.stdout.isatty()

        def progress(name: str, count: int) -> None:
            if verbosity < 1:
                return
            if interactive:
                self.stdout.write(f"\r  {name}: {count:,} rows read", ending="")
                self.stdout.flush()
            elif count % 100_000 == 0:
                self.stdout.write(f"  {name}: {count:,} rows read")

        def done(result: ImportResult) -> None:
            if interactive and verbosity >= 1:
                self.stdout.write("\r", ending="")
            self._report(result, verbosity)

        try:
            results = loanbook_import_many(
                paths=files,
                refresh="none" if options["no_refresh"] else "now",
                progress=progress,
                on_file=done,
            )
        except ImportRejected as exc:
            if interactive:
                self.stdout.write("")
            self._print_rejection(exc)
            raise CommandError(
                f"{exc.file_name or 'a file'} was rejected ({exc.total_errors} "
                f"error{'s' if exc.total_errors != 1 else ''}); nothing was imported."
            ) from None
        rows = sum(r.rows for r in results)
        refreshed = "" if options["no_refresh"] else "; metrics refreshed"
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(results)} file(s), {rows:,} rows{refreshed}.")
        )

    def _files(self, paths: list[Path]) -> list[Path]:
        """Files as given; a folder's *.csv in kind order (leads before applications...)."""
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                found = sorted(
                    path.glob("*.csv"),
                    key=lambda f: (
                        KIND_ORDER.index(f.stem) if f.stem in KINDS else len(KINDS),
                        f.name,
                    ),
                )
                if not found:
                    raise CommandError(f"{path} holds no .csv file.")
                files.extend(found)
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{path} is neither a file nor a folder.")
        return files

    def _report(self, result: ImportResult, verbosity: int) -> None:
        if verbosity < 1:
            return
        days = f", days {result.first_day} to {result.last_day}" if result.first_day else ""
        self.stdout.write(
            f"{result.file_name}: {result.rows:,} rows, {result.created:,} created, "
            f"{result.updated:,} updated{days}"
        )
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))

    def _print_rejection(self, exc: ImportRejected) -> None:
        write = self.stderr.write
        write(f"{exc.file_name or 'The file'}: {exc.detail}")
        for warning in exc.warnings:
            write(f"  warning: {warning}")
        for item in exc.errors:
            column = f", column {item['column']}" if item["column"] else ""
            write(f"  line {item['line']}{column}: {item['reason']}")
        if exc.total_errors > len(exc.errors):
            write(f"  ... and {exc.total_errors - len(exc.errors)} more")
