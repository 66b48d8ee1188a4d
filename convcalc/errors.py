"""The one exception hierarchy of convcalc."""

from __future__ import annotations


class ConvcalcError(Exception):
    """Base of every error convcalc raises on purpose."""


class SpecError(ConvcalcError):
    """An invalid spec: bad YAML, an unknown key or type, or a bad value."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def located(self, file: str | None) -> SpecError:
        """The same error, naming `file` if it named none."""
        return SpecError(self.message, file=self.file or file, line=self.line, column=self.column)

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        return f"{where}: error: {self.message}" if where else f"error: {self.message}"
