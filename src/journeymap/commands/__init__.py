"""Commands that live in their own modules, one per area; registered in journeymap.cli.

Each module defines click commands using the shared helpers in journeymap.commands.common.
"""
