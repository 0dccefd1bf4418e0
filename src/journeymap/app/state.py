"""What every route reaches through ``request.app.state.jm``: the workspace (the
service layer), the map library, the job worker, the CSRF token and the page cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import jinja2
from starlette.requests import Request

from journeymap.app.accounts import Accounts
from journeymap.app.comments import Comments
from journeymap.app.jobs import Jobs
from journeymap.app.library import MapLibrary
from journeymap.workspace import Workspace


class PageCache:
    """The last rendered map pages and analytics views, by (map, version, analysis[,
    filters, view]): a cached one is served without drawing it again (least recently
    used first out)."""

    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: Any, html: Any) -> None:
        with self._lock:
            self._items[key] = html
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass
class AppState:
    ws: Workspace
    library: MapLibrary
    jobs: Jobs
    secret: bytes
    accounts: Accounts
    comments: Comments
    templates: jinja2.Environment
    page_cache: PageCache = field(default_factory=PageCache)
    webhooks: Any = None  # journeymap.app.webhooks.Webhooks
    mailer: Any = None  # journeymap.app.mail.Mailer (disabled without [app.smtp])


def state_of(request: Request) -> AppState:
    return request.app.state.jm  # type: ignore[no-any-return]
