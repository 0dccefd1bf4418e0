"""The workspace's maps as the app sees them: files on disk, each with its versions.

The YAML files in ``maps/`` stay the truth (journey-as-code): the app writes the text
it is given, as given — comments and key order kept — and every save is a new
:class:`~journeymap.app.tables.MapVersion`.  A file changed on disk (an editor, ``git
pull``) becomes a version the next time the app looks (:meth:`MapLibrary.sync`); an
invalid file is recorded with its problems and never overwritten by a sync.

A save names the version it was based on; when the map has moved on since, it is a
:class:`Conflict` carrying both texts, and nothing is written.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from journeymap.app.tables import MapRow, MapVersion, WorkspaceRow
from journeymap.errors import JourneymapError, MapIssue, MapValidationError
from journeymap.model.diff import Change, diff_maps
from journeymap.model.document import JourneyMap
from journeymap.model.yamlio import load_map_quick
from journeymap.workspace import Workspace

REF_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


class NotFound(JourneymapError):
    """No such map or version in this workspace."""


@dataclass(frozen=True)
class Latest:
    """What a conflicting save is told about the version it missed."""

    number: int
    author: str
    created_at: Any
    text: str


class Conflict(JourneymapError):
    """A save based on a version that is no longer the latest."""

    def __init__(self, ref: str, base: int | None, latest: Latest, yours: str):
        self.ref, self.base, self.latest, self.yours = ref, base, latest, yours
        super().__init__(f"{ref}: changed since version {base} (now version {latest.number} by "
                         f"{latest.author}); nothing was saved — merge and save again")


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def problems_of(text: str, file: str) -> list[dict[str, Any]]:
    """The problems ``journeymap validate`` reports for this text (empty: valid)."""
    try:
        load_map_quick(text, file)
    except MapValidationError as exc:
        return [issue_dict(i) for i in exc.issues]
    return []


def issue_dict(issue: MapIssue) -> dict[str, Any]:
    return {"file": issue.file, "line": issue.line, "path": issue.path, "message": issue.message,
            "text": str(issue)}


@dataclass(frozen=True)
class MapSummary:
    row: MapRow
    latest: MapVersion
    versions: int

    @property
    def problems(self) -> list[dict[str, Any]]:
        return list(self.latest.problems or [])


class MapLibrary:
    """The maps of one workspace, with their history in the app's database."""

    def __init__(self, ws: Workspace, sessions: sessionmaker[Session]):
        self.ws = ws
        self.sessions = sessions
        self._lock = threading.RLock()  # one save or sync at a time
        with sessions.begin() as s:
            row = s.scalar(select(WorkspaceRow).where(WorkspaceRow.root == str(ws.root)))
            if row is None:
                row = WorkspaceRow(name=ws.config.name, root=str(ws.root))
                s.add(row)
                s.flush()
            self.workspace_id = row.id

    # -- reading ---------------------------------------------------------------
    def file_of(self, ref: str) -> Path:
        return self.ws.maps_dir / f"{ref}.yaml"

    def sync(self) -> list[str]:
        """Record every map file whose text differs from its latest version; mark files
        that went away as deleted.  Returns the refs that got a new version."""
        changed = []
        with self._lock, self.sessions.begin() as s:
            seen = set()
            for path in self.ws.map_paths():
                ref = path.stem
                seen.add(ref)
                if self._sync_file(s, ref, path):
                    changed.append(ref)
            for row in s.scalars(select(MapRow).where(MapRow.workspace_id == self.workspace_id,
                                                      MapRow.deleted.is_(False))):
                if row.ref not in seen:
                    row.deleted = True
        return changed

    def _sync_file(self, s: Session, ref: str, path: Path) -> bool:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            text = ""
            problems = [{"file": self._rel(path), "line": None, "path": "",
                         "message": f"cannot read the file: {exc}", "text": f"{self._rel(path)}: {exc}"}]
        else:
            problems = None
        row = self._row_for(s, ref, path)
        latest = self._latest(s, row)
        if latest is not None and latest.checksum == checksum(text):
            return False
        self._add_version(s, row, text, author="file on disk", source="disk",
                          message="changed on disk" if latest else "found on disk", problems=problems)
        return True

    def _row_for(self, s: Session, ref: str, path: Path) -> MapRow:
        """The map's row (made on first sight; a map that came back is no longer deleted)."""
        row = s.scalar(select(MapRow).where(MapRow.workspace_id == self.workspace_id, MapRow.ref == ref))
        if row is None:
            row = MapRow(workspace_id=self.workspace_id, ref=ref, file=self._rel(path), deleted=False)
            s.add(row)
            s.flush()
        row.deleted = False
        return row

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.ws.root))
        except ValueError:
            return str(path)

    def _latest(self, s: Session, row: MapRow) -> MapVersion | None:
        return s.scalar(select(MapVersion).where(MapVersion.map_pk == row.id)
                        .order_by(MapVersion.number.desc()).limit(1))

    def _row(self, s: Session, ref: str) -> MapRow:
        row = s.scalar(select(MapRow).where(MapRow.workspace_id == self.workspace_id, MapRow.ref == ref,
                                            MapRow.deleted.is_(False)))
        if row is None:
            raise NotFound(f"{ref}: no such map in this workspace")
        return row

    def maps(self) -> list[MapSummary]:
        with self.sessions() as s:
            rows = s.scalars(select(MapRow).where(MapRow.workspace_id == self.workspace_id,
                                                  MapRow.deleted.is_(False)).order_by(MapRow.ref)).all()
            counts = dict(s.execute(select(MapVersion.map_pk, func.count()).group_by(MapVersion.map_pk)).all())
            return [MapSummary(r, latest, counts.get(r.id, 0)) for r in rows
                    if (latest := self._latest(s, r)) is not None]

    def get(self, ref: str) -> MapSummary:
        with self.sessions() as s:
            row = self._row(s, ref)
            latest = self._latest(s, row)
            if latest is None:
                raise NotFound(f"{ref}: no version recorded")
            n = s.scalar(select(func.count()).select_from(MapVersion).where(MapVersion.map_pk == row.id))
            return MapSummary(row, latest, int(n or 0))

    def versions(self, ref: str) -> list[MapVersion]:
        with self.sessions() as s:
            row = self._row(s, ref)
            return list(s.scalars(select(MapVersion).where(MapVersion.map_pk == row.id)
                                  .order_by(MapVersion.number.desc())))

    def version(self, ref: str, number: int) -> MapVersion:
        if not 1 <= number <= 2**31 - 1:  # beyond the database's integer: no such version
            raise NotFound(f"{ref}: no version {number}")
        with self.sessions() as s:
            row = self._row(s, ref)
            v = s.scalar(select(MapVersion).where(MapVersion.map_pk == row.id, MapVersion.number == number))
            if v is None:
                raise NotFound(f"{ref}: no version {number}")
            return v

    def document(self, version: MapVersion) -> JourneyMap:
        """The map of a version (MapValidationError when that version is invalid)."""
        return load_map_quick(version.text, self._file_name(version))

    def _file_name(self, version: MapVersion) -> str:
        with self.sessions() as s:
            row = s.get(MapRow, version.map_pk)
            return row.file if row else "map"

    def diff(self, ref: str, old: int, new: int) -> list[Change]:
        a, b = self.version(ref, old), self.version(ref, new)
        for v in (a, b):
            if not v.valid:
                raise MapValidationError([MapIssue(**{k: p[k] for k in ("file", "line", "path", "message")})
                                          for p in v.problems])
        return diff_maps(self.document(a), self.document(b))

    # -- writing ---------------------------------------------------------------
    def save(self, ref: str, text: str, *, base: int | None, author: str, message: str = "",
             source: str = "app", restored_from: int | None = None) -> MapVersion:
        """Write ``text`` to the map's file and record it as a new version.

        ``base`` is the version the edit started from; a map changed since (in the app or
        on disk) raises :class:`Conflict` and writes nothing.  Invalid text raises
        :class:`MapValidationError` with the problems of ``journeymap validate``.
        """
        with self._lock:
            self.sync()
            with self.sessions.begin() as s:
                row = self._row(s, ref)
                latest = self._latest(s, row)
                if latest is not None and base != latest.number:
                    raise Conflict(ref, base, Latest(latest.number, latest.author, latest.created_at,
                                                     latest.text), text)
                if latest is not None and latest.checksum == checksum(text):
                    return latest  # nothing changed: no empty version
                jmap = load_map_quick(text, row.file)
                version = self._add_version(s, row, text, author=author, source=source, message=message,
                                            restored_from=restored_from, problems=[], jmap=jmap)
                _write_atomic(self.ws.root / row.file, text)
            return version

    def edit(self, ref: str, edits: list[dict[str, Any]], *, base: int | None, author: str,
             message: str = "") -> MapVersion:
        """Apply the editor's operations (:mod:`journeymap.model.edit`) to version ``base``
        and save the result as a new version (Conflict when ``base`` is not the latest)."""
        from journeymap.model.edit import apply_edits

        with self._lock:
            self.sync()
            latest = self.get(ref).latest
            if base != latest.number:
                raise Conflict(ref, base, Latest(latest.number, latest.author, latest.created_at, latest.text),
                               "")
            text = apply_edits(latest.text, edits, file=self.get(ref).row.file)
            return self.save(ref, text, base=base, author=author, message=message)

    def create(self, ref: str, text: str, *, author: str, message: str = "created") -> MapVersion:
        """A new map file ``maps/<ref>.yaml`` with ``text`` (its first version)."""
        if not ref or set(ref) - REF_CHARS or ref[0] in "-_":
            raise JourneymapError(f"'{ref}': a map name is lower-case letters, digits, '-' and '_'")
        with self._lock:
            path = self.file_of(ref)
            if path.exists():
                raise JourneymapError(f"{self._rel(path)}: exists; choose another name")
            jmap = load_map_quick(text, self._rel(path))
            with self.sessions.begin() as s:
                row = self._row_for(s, ref, path)
                version = self._add_version(s, row, text, author=author, source="app", message=message,
                                            problems=[], jmap=jmap)
                _write_atomic(path, text)
            return version

    def restore(self, ref: str, number: int, *, base: int | None, author: str) -> MapVersion:
        """Make version ``number`` the latest again (as a new version)."""
        old = self.version(ref, number)
        if not old.valid:
            raise JourneymapError(f"{ref}: version {number} is invalid and cannot be restored")
        return self.save(ref, old.text, base=base, author=author, source="restore",
                         message=f"restored version {number}", restored_from=number)

    def _add_version(self, s: Session, row: MapRow, text: str, *, author: str, source: str,
                     message: str, problems: list[dict[str, Any]] | None = None,
                     restored_from: int | None = None, jmap: JourneyMap | None = None) -> MapVersion:
        """A new version of ``row``; ``problems``/``jmap`` when the caller parsed the text."""
        if problems is None:
            problems = problems_of(text, row.file)
        latest = self._latest(s, row)
        version = MapVersion(map_pk=row.id, number=(latest.number + 1) if latest else 1, text=text,
                             checksum=checksum(text), author=author, message=message, source=source,
                             restored_from=restored_from, valid=not problems, problems=problems)
        s.add(version)
        if not problems:
            jmap = jmap or load_map_quick(text, row.file)
            row.map_id, row.title, row.persona = jmap.id, jmap.title, jmap.persona.name
            row.map_type, row.owner = jmap.type.value, (jmap.owners[0] if jmap.owners else None)
        s.flush()
        return version


def _write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so a reader sees the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
