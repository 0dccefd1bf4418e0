"""The error answers every JSON API route may give, declared in ``/openapi.json`` so a
client (and the Schemathesis test) knows them: ``{"error": "..."}`` in the CLI's words,
with ``field`` for a wrong filter, ``problems`` for an invalid map (422, as ``journeymap
validate`` lists them), the versions on a conflict (409), or FastAPI's ``detail`` when a
request does not fit the schema (422)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    error: str | None = None
    field: str | None = None
    problems: list[dict[str, Any]] | None = None
    detail: Any = None


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("the request is wrong in journeymap's terms (the message says how)"),
    401: _error("sign in first, or send a valid API token"),
    403: _error("the role does not allow it, or the CSRF token is missing"),
    404: _error("no such map, version, job, thread, link or webhook"),
    409: _error("the map changed since base_version (latest and yours are in the answer)"),
    413: _error("the upload is over the size limit"),
    422: _error("the request does not fit the schema (detail), or the map is invalid (problems)"),
}


#: the largest id or version number the metadata database keeps (PostgreSQL's integer);
#: a bigger one in a path, query or body is a 422, not a database error
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
