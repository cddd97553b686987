"""Where media bytes live, behind one small interface: a local directory by default, or an
S3-compatible bucket. Content-addressed (names come from service/media/presets.py): the same
bytes are stored once, and a name's bytes never change, so writes need no locking (two
writers of one name write the same bytes) and readers may cache forever."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Protocol

# How long anyone may keep a stored file: forever, as a name's bytes never change.
IMMUTABLE = "public, max-age=31536000, immutable"


class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None:
        """The whole object; None when there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Delete the object, if there is one."""
        ...


class LocalStorage:
    """Files under `root`, written to a temporary name and renamed into place, so a reader
    never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        # Keys are made by presets.py from a checked hash and fixed names; refuse anything
        # else rather than trust it.
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"not a media key: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)
