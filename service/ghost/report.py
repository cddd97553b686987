"""What an import did (or, in a dry run, would do), record by record."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["create", "update", "unchanged", "skip", "error"]


@dataclass
class Entry:
    """One record of the file: where it is, what it is, what happened to it and why."""

    path: str
    kind: str  # post, page, tag, user, settings
    name: str  # its slug or email, as a person would recognise it
    outcome: Outcome
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"{self.outcome:9} {self.kind:8} {self.name}  ({self.path})"
        return text + "".join(f"\n          - {note}" for note in self.notes)


class StrictStop(Exception):
    """--strict met a record it could not import: the whole import is rolled back."""


@dataclass
class Report:
    strict: bool = False
    entries: list[Entry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # about the file as a whole

    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        if entry.outcome == "error" and self.strict:
            raise StrictStop(entry.line())
        return entry

    @property
    def errors(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.outcome == "error"]

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((entry.kind, entry.outcome) for entry in self.entries)

    def summary(self) -> list[str]:
        """One line per kind of record: how many were created, updated, unchanged, ..."""
        counts = self.counts()
        lines = []
        for kind in ("post", "page", "tag", "user", "settings"):
            parts = [
                f"{counts[kind, outcome]} {outcome}"
                for outcome in ("create", "update", "unchanged", "skip", "error")
                if counts[kind, outcome]
            ]
            if parts:
                lines.append(f"{kind + 's' if kind != 'settings' else kind}: {', '.join(parts)}")
        return lines
