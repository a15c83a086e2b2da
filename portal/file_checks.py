"""What an uploaded file is, judged by its content: type sniffing, PDFs judged by a real parser
(qpdf, through pikepdf) and stored as a rewritten copy, images re-encoded without metadata, and
safe display names.

Functions over files on disk, run in worker threads by :mod:`portal.documents`; the PDF judge
(:mod:`portal.pdf_check`) runs in a child process with hard limits.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any, Final

from PIL import Image, ImageCms, ImageOps

from portal.errors import (
    FieldError,
    InvalidInput,
    PayloadTooLarge,
    PortalError,
    StorageFull,
    UnsupportedMediaType,
)
from portal.pdf_check import (
    MAX_PDF_OBJECTS,
    MAX_PDF_PAGES,
    PDF_WALL_SECONDS,
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


# -- PDF: judged by a real parser in a child process, stored as its rewritten copy ------------


def clean_pdf(source: Path, target: Path) -> None:
    """Judge the PDF at ``source`` and write its rewritten copy to ``target``, or refuse it.

    Refusals: ``pdf_active_content`` and ``pdf_encrypted`` (415), ``pdf_too_complex`` (413:
    too many pages or objects, or the limits of the child were hit), ``file_corrupt`` (422:
    qpdf cannot read it without rebuilding its cross-reference table, or needs many repairs),
    ``storage_full`` (507: the copy could not be written).
    """
    command = [sys.executable, "-m", "portal.pdf_check", "pdf", str(source), str(target)]
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
