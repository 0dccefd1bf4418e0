"""An index page linking a workspace's rendered maps."""

from __future__ import annotations

import html
from pathlib import Path

from journeymap.version import __version__
from journeymap.model.document import JourneyMap


def render_index(title: str, entries: list[tuple[JourneyMap, Path]], out: Path) -> Path:
    """Write ``out``: a list of maps (title, type, persona, goal) linking their pages."""
    rows = "\n".join(
        f'<li><a href="{html.escape(page.name)}">{html.escape(m.title)}</a>'
        f'<div class="meta">{html.escape(m.type.value.replace("_", " "))} · '
        f"{html.escape(m.persona.name)} · {len(m.stages)} stages, {len(m.touchpoints)} touchpoints</div>"
        f'<div class="goal">{html.escape(m.goal.statement)}</div></li>'
        for m, page in entries
    )
    out.write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} — journey maps</title>
<style>
body {{ font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #1f2933;
       background: #f8fafc; margin: 0; padding: 28px; }}
h1 {{ font-size: 22px; }} ul {{ list-style: none; padding: 0; max-width: 860px; }}
li {{ background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 12px 16px; margin-bottom: 10px; }}
a {{ font-weight: 600; color: #2f5d8a; font-size: 17px; text-decoration: none; }}
.meta {{ color: #616e7c; font-size: 13px; }} .goal {{ margin-top: 4px; }}
</style></head>
<body><h1>{html.escape(title)} — journey maps</h1><ul>
{rows}
</ul><p class="meta">journeymap {__version__}</p></body></html>
""", encoding="utf-8")
    return out
