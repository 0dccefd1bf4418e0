"""The journeymap command line: the group, its error handling, and the commands' registration.

Each command is one module in :mod:`journeymap.commands` (parse arguments, call the
workspace, print).

Errors a user can cause print one line on stderr and exit 1; ``--debug`` shows the
traceback.  Long work shows Rich progress bars (on stderr, so ``--json`` output on
stdout stays clean).
"""

from __future__ import annotations

from typing import Any

import click

from journeymap.version import __version__
from journeymap.errors import JourneymapError

#: The first words of the one line an error no user input should cause gets (a bug).
UNEXPECTED = "error: unexpected"


class JourneymapGroup(click.Group):
    """Turns a JourneymapError into one line on stderr and exit status 1.

    So does an :class:`OSError` about a file (``exc.filename``).  Any other exception is a
    bug, but still gets one line (no traceback on any input or option), starting with
    :data:`UNEXPECTED` and asking for ``--debug``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except JourneymapError as exc:
            if ctx.meta.get("journeymap.debug"):
                raise
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            if ctx.meta.get("journeymap.debug"):
                raise
            click.echo("interrupted: nothing was changed by the unfinished step", err=True)
            ctx.exit(130)
        except OSError as exc:
            # a file the user named cannot be written or read (no such folder, no
            # permission, a name too long, a full disk): theirs to fix, not a bug
            if ctx.meta.get("journeymap.debug"):
                raise
            if exc.filename:
                click.echo(f"error: {exc.filename}: {exc.strerror or _one_line(exc)}", err=True)
            else:
                _unexpected(exc)
            ctx.exit(1)
        except Exception as exc:
            if ctx.meta.get("journeymap.debug"):
                raise
            _unexpected(exc)
            ctx.exit(1)


def _unexpected(exc: Exception) -> None:
    click.echo(f"{UNEXPECTED} {type(exc).__name__}: {_one_line(exc)} (a bug: rerun with "
               "--debug for the traceback and report it)", err=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@click.group(cls=JourneymapGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="journeymap")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """journeymap — data-driven customer journey maps.

    Journey maps as code (maps/*.yaml) tied to your customers' events, surveys,
    transactions and conversations.
    """
    ctx.meta["journeymap.debug"] = debug


#: Every command: one module each in journeymap.commands, defining a command of its name.
COMMANDS = ("init", "ingest", "status", "compact", "validate", "schema", "new", "discover", "analyze",
            "segments", "clv", "render", "serve", "collect", "survey", "watch", "users", "demo")


def _register_commands() -> None:
    import importlib

    for name in COMMANDS:
        module = importlib.import_module(f"journeymap.commands.{name}")
        main.add_command(getattr(module, name))


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
