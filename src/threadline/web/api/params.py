"""Query and path parameters shared by the API's routes, with their bounds.

Bounds are declared on the parameter, so OpenAPI shows them and Litestar answers
an out-of-range value with 400 before a view runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import Parameter

__all__ = ["MAX_ID", "Before", "Cursor", "Id", "OptionalId", "page_size"]

MAX_ID = 2**63 - 1  # ids are BIGINT: SQLite cannot even bind a larger int (500 before)
NEXT_CURSOR = "X-Next-Cursor"

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]
Before = Annotated[
    int | None,
    Parameter(ge=1, le=MAX_ID, description="Only rows with a smaller id (cursor is preferred)."),
]
Cursor = Annotated[
    str | None,
    Parameter(
        max_length=200,
        description=f"Where the page starts: the {NEXT_CURSOR} header of the previous page.",
    ),
]


def page_size(default: int, most: int) -> Any:
    """A page size from 1 to ``most``: -1 once returned every row."""
    return Parameter(ge=1, le=most, description=f"Rows per page, 1 to {most}; {default} if absent.")
