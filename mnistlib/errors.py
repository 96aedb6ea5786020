"""The exceptions mnistlib raises: one family, each naming what went wrong and where.

All derive from ``MnistlibError``; the data and shape errors are also ``ValueError``
and ``WriteError`` is also an ``OSError``, so generic ``except ValueError`` /
``except OSError`` code keeps working.
"""


class MnistlibError(Exception):
    """Base class of every error mnistlib raises on purpose."""


class DataError(MnistlibError, ValueError):
    """A data file or folder is missing, malformed or inconsistent.

    The message names the file and says what was expected and what was found.
    """


class ChecksumError(DataError):
    """A file's SHA-256 (of its decompressed bytes) is not the published one."""


class DownloadError(DataError):
    """No mirror delivered a verified copy of a file."""


class ShapeError(MnistlibError, ValueError):
    """An array does not have the shape an operation needs; the message names both shapes."""


class ModelFileError(DataError):
    """A saved model file is unreadable or does not match the architecture it claims."""


class WriteError(MnistlibError, OSError):
    """A file or folder could not be written (no such folder, a file in the way, no permission).

    The message names the path and says why (the OSError it wraps is its ``__cause__``).
    """


class TrainingDiverged(MnistlibError, FloatingPointError):
    """The loss or a parameter became NaN or infinite during training."""
