"""The browser app: ``journeymap serve`` (issue 11).

FastAPI with server-rendered Jinja2 pages and a little HTMX; every script and style
ships in the package.  The app calls the :class:`~journeymap.workspace.Workspace`
service layer like the CLI does, keeps its own metadata (map versions, cached
analyses, jobs) in a SQL database (SQLite in ``.journeymap/app.sqlite`` by default,
``[app] database_url`` for PostgreSQL), and runs analyses off the request path.
Every route passes :func:`journeymap.app.security.authorize`, the one
authorization point.
"""
