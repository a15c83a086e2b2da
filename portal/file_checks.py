"""What an uploaded file is, judged by its content: type sniffing, PDF active-content scanning,
image re-encoding without metadata, and safe display names.

Pure functions over files on disk, run in worker threads by :mod:`portal.documents`.
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import mmap
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from PIL import Image, ImageCms, ImageOps

from portal.errors import FieldError, InvalidInput, PortalError

log = logging.getLogger(__name__)

MAX_MEGAPIXELS: Final = 40
MAX_PIXELS: Final = MAX_MEGAPIXELS * 1_000_000
MAX_FILE_NAME: Final = 255

JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
PDF: Final = "application/pdf"
_MAGIC: Final = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"%PDF-", PDF))
SNIFF_BYTES: Final = 8
_EXTENSIONS: Final = {JPEG: (".jpg", ".jpeg"), PNG: (".png",), PDF: (".pdf",)}


def invalid(field: str, code: str, **params: Any) -> InvalidInput:
    """A one-field error whose problem ``code`` is the field's own, for a clear client switch."""
    return InvalidInput([FieldError(field, code, params)], code, **params)


# -- what a file is ---------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or None when it is none we accept."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def display_name(raw: str | None, content_type: str) -> str:
    """A safe name to show and to offer on download, never used as a path.

    The last path component only (``/`` and ``\\``), without control or format characters
    (NUL, bidi overrides that disguise an extension), leading dots or edge spaces, at most
    255 characters, and ending in an extension that matches the content.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip(" .")
    extensions = _EXTENSIONS[content_type]
    stem, dot, extension = name.rpartition(".")
    if not name.lower().endswith(extensions):
        known = any(f".{extension.lower()}" in ext for ext in _EXTENSIONS.values())
        name = (stem if dot and known else name).rstrip(" .")
        name += extensions[0]
    if name == extensions[0]:
        name = "document" + extensions[0]
    if len(name) > MAX_FILE_NAME:
        stem, _, extension = name.rpartition(".")
        name = stem[: MAX_FILE_NAME - len(extension) - 1].rstrip(" .") + "." + extension
    return name


# -- PDF: active content ----------------------------------------------------------------------

# Names that make a PDF do something on its own (ISO 32000-1: 12.6 actions, 12.6.3 trigger
# events, 7.11.4 embedded files, 12.7.8 XFA forms; Adobe's RichMedia extension).
ACTIVE_NAMES: Final = frozenset(
    {
        b"JavaScript",
        b"JS",
        b"OpenAction",
        b"AA",
        b"Launch",
        b"EmbeddedFile",
        b"EmbeddedFiles",
        b"XFA",
        b"RichMedia",
        b"SubmitForm",
        b"ImportData",
        b"GoToR",
        b"GoToE",
    }
)
INFLATE_BUDGET: Final = 32 * 1024 * 1024
"""Decompressed bytes a PDF may make us look at, over all its streams."""
# What we cannot see through: encryption (7.6) hides every stream, object streams included;
# these filters (7.4) we do not decode.
_OPAQUE: Final = frozenset(
    {
        b"Encrypt",
        b"Crypt",
        b"ASCIIHexDecode",
        b"AHx",
        b"ASCII85Decode",
        b"A85",
        b"LZWDecode",
        b"LZW",
        b"RunLengthDecode",
        b"RL",
    }
)
_FLATE: Final = frozenset({b"FlateDecode", b"Fl"})
_PREDICTED: Final = frozenset({b"DecodeParms", b"DP", b"Predictor"})
_WS = rb"[\x00\t\n\x0c\r ]"
# A name token (7.3.5): a solidus and regular characters, ``#xx`` escapes decoded later.
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb">>" + _WS + rb"*stream(?:\r\n|\n|\r)")
_LENGTH = re.compile(rb"/Length" + _WS + rb"+(\d+)(?!" + _WS + rb"+\d+" + _WS + rb"+R)")
_OBJECT = re.compile(rb"\d+" + _WS + rb"+\d+" + _WS + rb"+obj\b")
# An object stream (7.5.7) opens with pairs of integers, after blanks and comments.
_OBJECT_TABLE = re.compile(rb"(?:" + _WS + rb"|%[^\r\n]*[\r\n])*\d+" + _WS + rb"+\d+" + _WS)
PIECE = 1024 * 1024
_CLASSIFY = 4096
_OVERLAP = 64
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r\x0c"


class _Unverifiable(Exception):
    """Something the scan cannot see through: it could hide anything."""


def scan_pdf(path: Path, budget: int = INFLATE_BUDGET) -> None:
    """Refuse a PDF that is malformed, carries active content or cannot be inspected.

    Names are compared after decoding ``#xx`` escapes (``/J#61vaScript`` is ``/JavaScript``),
    in the file's own bytes, in object streams (compressed with Flate or not) and in text-like
    streams. Binary stream data (image samples, fonts) is not read as syntax: random bytes
    spell ``/JS`` in one 8 MB file in a few dozen. What cannot be inspected (encryption, other
    filters, predictors on object streams, more than ``budget`` decompressed bytes) is refused
    too; printing the file anew, which the message advises, yields a plain PDF.
    """
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:5] != b"%PDF-" or data.rfind(b"%%EOF") < 0:
            raise invalid("file", "file_corrupt")
        try:
            found = _PdfScan(data, budget).run()
        except _Unverifiable as opaque:
            found = f"unverifiable: {opaque}"
    if found is not None:
        log.info("refused a PDF: %s", found)
        raise invalid("file", "pdf_active_content")


class _PdfScan:
    """One pass over a PDF's bytes: the syntax between streams, then each stream's data."""

    def __init__(self, data: mmap.mmap, budget: int) -> None:
        self.data = data
        self.left = budget

    def run(self) -> str | None:
        data = self.data
        position = 0
        for match in _STREAM.finditer(data):
            if match.start() < position:
                continue  # "stream" inside data already skipped
            # The stream's dictionary lies in this stretch, after the previous stream's data.
            syntax = _survey(data, position, match.start())
            if syntax.active is not None:
                return syntax.active
            start = match.end()
            end = _stream_end(data, start)
            found = self._stream(start, end, syntax)
            if found is not None:
                return found
            position = end
        return _survey(data, position, len(data)).active

    def _stream(self, start: int, end: int, syntax: _Survey) -> str | None:
        data = self.data
        if syntax.flate > 1:
            raise _Unverifiable("filters")
        # A reader rebuilding a broken cross-reference table would find an object in here.
        if _OBJECT.search(data, start, end) is not None:
            found = _active(_names(data, start, end))
            if found is not None:
                return found
        pieces = self._inflate(start, end)
        first = next(pieces, b"")
        if not first:  # stored as it is
            sample = data[start : min(end, start + _CLASSIFY)]
            if syntax.object_stream or _OBJECT_TABLE.match(sample) or _textual(sample):
                return _active(_names(data, start, end))
            return None
        object_stream = syntax.object_stream or _OBJECT_TABLE.match(first) is not None
        if object_stream and syntax.predicted:
            raise _Unverifiable("predictor")
        if not (object_stream or _textual(first)):
            return None
        window = b""
        for piece in itertools.chain([first], pieces):
            window = window[-_OVERLAP:] + piece
            found = _active(_names(window, 0, len(window), whole=False))
            if found is not None:
                return found
        return _active(_names(window, 0, len(window)))

    def _inflate(self, start: int, end: int) -> Iterator[bytes]:
        inflater = zlib.decompressobj()
        offset, size = start, _CLASSIFY
        while True:
            if inflater.unconsumed_tail:
                compressed = inflater.unconsumed_tail
            elif offset < end:
                compressed = self.data[offset : min(end, offset + PIECE)]
                offset += len(compressed)
            else:
                return
            try:
                piece = inflater.decompress(compressed, size)
            except zlib.error:
                return  # not Flate, or damaged from here on, as for any reader
            self.left -= len(piece)
            if self.left < 0:
                raise _Unverifiable("budget")
            if piece:
                yield piece
            if inflater.eof:
                return
            size = PIECE


def _stream_end(data: mmap.mmap, start: int) -> int:
    """Where a stream's data ends: by a direct /Length that checks out, else at ``endstream``."""
    floor = max(0, start - 4096)
    header = data[max(floor, data.rfind(b"obj", floor, start)) : start]
    length = _LENGTH.search(header)
    if length is not None:
        end = start + int(length.group(1))
        if data[end : end + 48].lstrip(b"\r\n \t\x00\x0c").startswith(b"endstream"):
            return end
    found = data.find(b"endstream", start)
    return len(data) if found < 0 else found


def _names(data: bytes | mmap.mmap, start: int, end: int, *, whole: bool = True) -> Iterator[bytes]:
    """The decoded name tokens of ``data[start:end]``, one at a time.

    Unless ``whole``, a name touching ``end`` is left out: it may be cut short (``/JS`` of
    ``/JSON``), and the next window sees it whole.
    """
    for match in _NAME.finditer(data, start, end):
        if whole or match.end() < end:
            yield _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))


def _active(names: Iterator[bytes]) -> str | None:
    for name in names:
        if name in ACTIVE_NAMES:
            return name.decode("latin-1")
    return None


@dataclass
class _Survey:
    """What the syntax before a stream says: its first active name, and about the stream."""

    active: str | None = None
    flate: int = 0
    object_stream: bool = False
    predicted: bool = False


def _survey(data: mmap.mmap, start: int, end: int) -> _Survey:
    survey = _Survey()
    for name in _names(data, start, end):
        if name in ACTIVE_NAMES:
            survey.active = name.decode("latin-1")
            break
        if name in _OPAQUE:
            raise _Unverifiable(name.decode("latin-1"))
        survey.flate += name in _FLATE
        survey.object_stream |= name == b"ObjStm"
        survey.predicted |= name in _PREDICTED
    return survey


def _textual(sample: bytes) -> bool:
    """Whether data looks like PDF syntax rather than samples or a font."""
    head = sample[:_CLASSIFY]
    binary = len(head.translate(None, _PRINTABLE))
    return binary <= 0.1 * len(head)


# -- images: within a pixel budget, re-encoded without metadata --------------------------------


def clean_image(source: Path, target: Path, content_type: str) -> None:
    """Write ``source`` to ``target`` upright, in the same format, with no metadata at all.

    The pixel count is checked from the header, before a single pixel is decoded, so a small
    file that would inflate to gigabytes is refused at once and in bounded memory.
    """
    kind = "JPEG" if content_type == JPEG else "PNG"
    too_large = invalid("file", "image_too_large", max_megapixels=MAX_MEGAPIXELS)
    try:
        with Image.open(source, formats=[kind]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise too_large
            image.load()
            profile = image.info.get("icc_profile")
            upright = _in_srgb(ImageOps.exif_transpose(image), profile)
    except PortalError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard at open (above 89 or 179 megapixels) fires before ours can.
        raise too_large from None
    except Exception as error:
        # Pillow reports a damaged file as OSError, SyntaxError, ValueError, struct.error
        # and more; every one of them means "cannot be read", which is what the patient hears.
        log.info("refused an unreadable %s: %r", kind, error)
        raise invalid("file", "file_corrupt") from error
    # Keep only what the pixels need: EXIF (GPS), XMP, ICC (already applied), comments and
    # text chunks go.
    upright.info = {key: value for key, value in upright.info.items() if key == "transparency"}
    options: dict[str, Any] = {"quality": 90} if kind == "JPEG" else {}
    with target.open("xb") as out:
        upright.save(out, format=kind, **options)


_CONVERTIBLE: Final = frozenset({"RGB", "RGBA", "CMYK"})
"""Modes whose embedded colour profile is applied; others keep their pixels as they are."""


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _in_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """``image`` with its embedded ICC profile applied: the pixels in sRGB, the profile gone.

    Phones shoot in wide gamuts (an iPhone's photos carry Display P3); dropping the profile
    without converting would show a rash or a wound in the wrong colours, as every viewer takes
    untagged pixels for sRGB. A profile that cannot be read is dropped and the pixels kept, as
    before. CMYK becomes RGB (JPEG stays JPEG).
    """
    if not profile or image.mode not in _CONVERTIBLE:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, _srgb(), renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode=output
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        log.info("kept the pixels of an image whose colour profile is unusable: %r", error)
        return image
    assert converted is not None  # not in place
    return converted
