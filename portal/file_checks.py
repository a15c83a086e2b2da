"""What an uploaded file is, judged by its content: type sniffing, PDFs judged by a real parser
(qpdf, through pikepdf) and stored as a rewritten copy, images re-encoded without metadata, and
safe display names.

Functions over files on disk, run in worker threads by :mod:`portal.documents`; the PDF check
runs in a child process with hard limits (``python -m portal.file_checks pdf SOURCE TARGET``).
"""

from __future__ import annotations

import errno
import functools
import io
import itertools
import json
import logging
import os
import re
import resource
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any, Final

import pikepdf
from PIL import Image, ImageCms, ImageOps

from portal.errors import (
    FieldError,
    InvalidInput,
    PayloadTooLarge,
    PortalError,
    StorageFull,
    UnsupportedMediaType,
)

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
PIECE: Final = 1024 * 1024
DISK_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
"""errno values that mean the documents' file system has no room left."""


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


# -- PDF: judged by a real parser, stored as a rewritten copy ---------------------------------
#
# The PDF is parsed by qpdf (through pikepdf) in a child process with hard limits on memory,
# CPU time and output size, so a decompression bomb in an object or cross-reference stream, or
# a parser bug met by a hostile file, costs one bounded child and never the hub (OWASP ASVS
# 12.1, "File Upload Cheat Sheet": process files in a sandbox). The child judges every object
# qpdf knows of, then writes a new file from what it judged; that copy, not the upload, is
# stored. Anything qpdf did not see (bytes between objects, objects hidden by an incremental
# update, a second document glued after %%EOF, unreferenced objects) is not in the copy.

MAX_PDF_PAGES: Final = 500
MAX_PDF_OBJECTS: Final = 50_000
MAX_PDF_WARNINGS: Final = 20
"""More than this many repairs qpdf had to make means a broken file: refused, not guessed at."""
PDF_CPU_SECONDS: Final = 10
PDF_WALL_SECONDS: Final = 30
PDF_MEMORY_BYTES: Final = 768 * 1024 * 1024
PDF_OUTPUT_BYTES: Final = 64 * 1024 * 1024

# Names that make a PDF do something by itself or carry another file, refused wherever they
# appear, as a key or a value (ISO 32000-1: 12.6.4 action types, 7.11.4 embedded files, 12.5.6.15
# file attachment annotations, 12.7.8 XFA, 13 multimedia and 3D; Adobe's RichMedia extension).
ACTIVE_NAMES: Final = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/EF",
        "/FileAttachment",
        "/XFA",
        "/RichMedia",
        "/RichMediaExecute",
        "/RichMediaContent",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/Rendition",
        "/Screen",
        "/Movie",
        "/Sound",
        "/3D",
        "/3DD",
        "/GoTo3DView",
    }
)
LINK_SCHEMES: Final = frozenset({"http", "https", "mailto"})
"""What a link a reader clicks may open (12.6.4.7): web pages and mail, never ``file:`` or
``javascript:``. A URI action is allowed only behind a click, never as an automatic action."""
_NAMED_PAGES: Final = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
"""The named actions every reader must support (12.6.4.11): moving between pages."""
_MAX_CHAIN: Final = 64


def clean_pdf(source: Path, target: Path) -> None:
    """Judge the PDF at ``source`` and write its rewritten copy to ``target``, or refuse it.

    Refusals: ``pdf_active_content`` and ``pdf_encrypted`` (415), ``pdf_too_complex`` (413:
    too many pages or objects, or the limits of the child were hit), ``file_corrupt`` (422:
    qpdf cannot read it without rebuilding its cross-reference table, or needs many repairs),
    ``storage_full`` (507: the copy could not be written).
    """
    command = [sys.executable, "-m", "portal.file_checks", "pdf", str(source), str(target)]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
            command,
            cwd=_PROJECT_ROOT,
            env={"PATH": os.defpath, "LC_ALL": "C.UTF-8"},  # no secrets into the sandbox
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PDF_WALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        log.info("refused a PDF: the check took more than %d s", PDF_WALL_SECONDS)
        raise _too_complex() from None
    if done.returncode < 0:
        # Killed by a signal: a limit (SIGKILL from the kernel, SIGXCPU) was hit.
        log.info("refused a PDF: the check was stopped by signal %d", -done.returncode)
        raise _too_complex()
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        verdict = json.loads(lines[-1]) if done.returncode == 0 and lines else None
    except ValueError:
        verdict = None
    if not isinstance(verdict, dict):
        # The parser failed in a way we did not foresee: what it could not read, we refuse.
        log.warning(
            "refused a PDF: the check failed (%d): %s",
            done.returncode,
            done.stderr.decode("utf-8", "replace")[-2000:],
        )
        raise invalid("file", "file_corrupt")
    code = verdict.get("code")
    if code is None:
        return
    log.info("refused a PDF: %s", verdict.get("why", code))
    raise _refusal(str(code))


def _too_complex() -> PortalError:
    return PayloadTooLarge("pdf_too_complex", max_pages=MAX_PDF_PAGES, max_objects=MAX_PDF_OBJECTS)


def _refusal(code: str) -> PortalError:
    """The error of a code the child reported; an unknown one is a refusal too."""
    if code == "file_corrupt":
        return invalid("file", "file_corrupt")
    if code == "storage_full":
        return StorageFull("storage_full")
    if code == "pdf_too_complex":
        return _too_complex()
    if code == "pdf_encrypted":
        return UnsupportedMediaType("pdf_encrypted")
    return UnsupportedMediaType("pdf_active_content")


_PROJECT_ROOT: Final = str(Path(__file__).resolve().parents[1])


class PdfRefused(Exception):
    """Why the child refuses a PDF: a stable code and, for the log, what was found."""

    def __init__(self, code: str, why: str) -> None:
        super().__init__(why)
        self.code = code
        self.why = why


def judge_and_rewrite_pdf(source: Path, target: Path) -> None:
    """The child's work, in this process: judge every object, then write the clean copy.

    Raises :class:`PdfRefused` for a refusal. Stream data is never decoded here or on writing
    (``StreamDecodeLevel.none``): a content stream or an image is copied as it came. qpdf
    decodes only what it must to read objects (object streams, cross-reference streams), under
    the child's memory limit.
    """
    try:
        pdf = pikepdf.open(source, attempt_recovery=False, suppress_warnings=True)
    except pikepdf.PasswordError:
        raise PdfRefused("pdf_encrypted", "needs a password") from None
    except pikepdf.PdfError as error:
        raise PdfRefused("file_corrupt", f"unreadable without repair: {error}") from None
    with pdf:
        if pdf.is_encrypted:
            raise PdfRefused("pdf_encrypted", "encrypted")
        size: object = pdf.trailer.get("/Size")  # numbers come back as Python's
        if isinstance(size, int) and size > MAX_PDF_OBJECTS + 1:
            raise PdfRefused("pdf_too_complex", f"/Size {size}")
        try:
            objects = list(pdf.objects)
            if len(objects) > MAX_PDF_OBJECTS:
                raise PdfRefused("pdf_too_complex", f"{len(objects)} objects")
            if len(pdf.pages) > MAX_PDF_PAGES:
                raise PdfRefused("pdf_too_complex", f"{len(pdf.pages)} pages")
            for found in itertools.chain([pdf.trailer], objects):
                _judge_object(found)
        except pikepdf.PdfError as error:
            raise PdfRefused("file_corrupt", f"unreadable object: {error}") from None
        _judge_warnings(pdf.get_warnings())
        try:
            pdf.save(
                target,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                fix_metadata_version=False,
                deterministic_id=True,  # the copy depends on the content alone, not the clock
            )
        except OSError as error:
            if error.errno in DISK_FULL:
                raise PdfRefused("storage_full", "disk full") from None
            raise


def _judge_warnings(warnings: list[str]) -> None:
    """Refuse what qpdf read only in part: it makes an object it cannot decode null and says
    so in a warning, so a bomb that outgrew the child's memory would otherwise pass as a file
    with fewer objects."""
    for warning in warnings:
        if "bad_alloc" in warning:
            raise PdfRefused("pdf_too_complex", warning)
        if "error decoding stream data" in warning:
            raise PdfRefused("file_corrupt", warning)
    if len(warnings) > MAX_PDF_WARNINGS:
        raise PdfRefused("file_corrupt", f"{len(warnings)} repairs")


def _judge_object(top: pikepdf.Object) -> None:
    """Refuse active content in ``top`` and in the direct objects it holds.

    Indirect objects it refers to are judged on their own (every object qpdf knows of is), so
    the walk never follows a reference and cannot loop; actions are followed through
    references, as their meaning depends on where they hang.
    """
    pending = [top]
    while pending:
        item = pending.pop()
        if isinstance(item, pikepdf.Stream):
            item = item.stream_dict
        if isinstance(item, pikepdf.Name):
            if str(item) in ACTIVE_NAMES:
                raise PdfRefused("pdf_active_content", str(item))
        elif isinstance(item, pikepdf.Array):
            pending.extend(child for child in item if _direct(child))
        elif isinstance(item, pikepdf.Dictionary):
            for key, value in item.items():
                if key in ACTIVE_NAMES:
                    raise PdfRefused("pdf_active_content", key)
                _judge_entry(item, key, value)
                if _direct(value):
                    pending.append(value)


def _direct(value: object) -> bool:
    """Whether ``value`` is a direct PDF object worth walking (numbers come back as Python's)."""
    return isinstance(value, pikepdf.Object) and not value.is_indirect


def _judge_entry(holder: pikepdf.Dictionary, key: str, value: pikepdf.Object) -> None:
    """The actions hung on ``holder[key]``, by where they hang (12.6.2, 12.6.3)."""
    if key == "/OpenAction":
        # A destination (an array) only shows a page; an action must be a plain GoTo.
        if not isinstance(value, pikepdf.Array):
            _judge_action(value, automatic=True)
    elif key == "/AA":
        if not isinstance(value, pikepdf.Dictionary):
            raise PdfRefused("pdf_active_content", "/AA is not a dictionary")
        for trigger in value.values():
            _judge_action(trigger, automatic=True)
    elif key in ("/A", "/PA") and isinstance(value, pikepdf.Dictionary) and "/S" in value:
        _judge_action(value, automatic=False)
    elif key == "/Type" and str(value) == "/Action":
        _judge_action(holder, automatic=False)


def _judge_action(action: pikepdf.Object, *, automatic: bool) -> None:
    """Allow an action (and the ones chained after it by ``/Next``) only when it is harmless.

    Automatic ones (``/OpenAction``, ``/AA``) may only go to a page of this document; one a
    reader clicks may also follow a web or mail link, or turn a page.
    """
    chain, seen = [action], 0
    while chain:
        seen += 1
        if seen > _MAX_CHAIN:
            raise PdfRefused("pdf_active_content", "an endless chain of actions")
        current = chain.pop()
        if isinstance(current, pikepdf.Array):
            chain.extend(current)
            continue
        if not isinstance(current, pikepdf.Dictionary):
            raise PdfRefused("pdf_active_content", f"not an action: {current!r}"[:200])
        kind = str(current.get("/S", ""))
        if kind == "/GoTo":
            pass
        elif automatic:
            raise PdfRefused("pdf_active_content", f"automatic action {kind}")
        elif kind == "/URI":
            _judge_link(current.get("/URI"))
        elif kind == "/Named" and str(current.get("/N", "")) in _NAMED_PAGES:
            pass
        else:
            raise PdfRefused("pdf_active_content", f"action {kind or 'without /S'}")
        following = current.get("/Next")
        if following is not None:
            chain.append(following)


def _judge_link(uri: pikepdf.Object | None) -> None:
    if not isinstance(uri, pikepdf.String):
        raise PdfRefused("pdf_active_content", "a URI action without a URI")
    text = bytes(uri).decode("latin-1").strip()
    scheme, colon, _ = text.partition(":")
    if not colon or scheme.lower() not in LINK_SCHEMES:
        raise PdfRefused("pdf_active_content", f"a link to {scheme or text}:")


def _child(argv: list[str]) -> int:
    """``python -m portal.file_checks pdf SOURCE TARGET``: the sandboxed PDF check.

    Prints one JSON line: ``{}`` for a clean copy written to TARGET, else ``{"code", "why"}``.
    """
    if len(argv) != 3 or argv[0] != "pdf":
        print("usage: python -m portal.file_checks pdf SOURCE TARGET", file=sys.stderr)
        return 2
    resource.setrlimit(resource.RLIMIT_AS, (PDF_MEMORY_BYTES, PDF_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (PDF_CPU_SECONDS, PDF_CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (PDF_OUTPUT_BYTES, PDF_OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        judge_and_rewrite_pdf(Path(argv[1]), Path(argv[2]))
    except PdfRefused as verdict:
        print(json.dumps({"code": verdict.code, "why": verdict.why[:300]}))
        return 0
    except MemoryError:
        print(json.dumps({"code": "pdf_too_complex", "why": "memory limit"}))
        return 0
    print("{}")
    return 0


# -- images: within a pixel budget, re-encoded without metadata --------------------------------


def clean_image(source: Path, target: Path, content_type: str) -> None:
    """Write ``source`` to ``target`` upright, in the same format, with no metadata at all.

    The pixel count is checked from the header, before a single pixel is decoded, so a small
    file that would inflate to gigabytes is refused at once and in bounded memory.
    """
    kind = "JPEG" if content_type == JPEG else "PNG"
    too_large = PayloadTooLarge("image_too_large", max_megapixels=MAX_MEGAPIXELS)
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


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
