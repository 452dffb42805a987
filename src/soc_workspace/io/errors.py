"""The one error (and warning) that the readers raise for a file they cannot turn into data."""

from __future__ import annotations


class SOCDataError(ValueError):
    """A file is not a readable CDF or FITS product; the message names the file and the problem.

    ``path`` is the file (path or URL) and ``problem`` the reason, so batch code can report
    both without parsing the message.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[type[SOCDataError], tuple[str, str]]:
        # Travels back from Dask workers with its two fields intact.
        return (type(self), (self.path, self.problem))


class SOCDataWarning(UserWarning):
    """A file was read, but something in it was not as its conventions say (it is named)."""
