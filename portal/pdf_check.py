"""The PDF judge that runs in a child process: qpdf (through pikepdf) reads the upload, every
object it knows of is judged, and the copy qpdf writes of them is the file the hub keeps.

Run as ``python -m portal.pdf_check pdf SOURCE TARGET`` by :func:`portal.file_checks.clean_pdf`,
which gives it no environment and reads its one-line JSON verdict. The child sets its own
limits (memory, CPU time, output size) before it reads a byte, so a decompression bomb in an
object or cross-reference stream, or a parser bug met by a hostile file, costs one bounded
process and never the hub (OWASP File Upload Cheat Sheet: process files in a sandbox). It
imports nothing heavy but pikepdf: it starts once per uploaded PDF.
"""

from __future__ import annotations

import errno
import itertools
import json
import resource
import sys
from pathlib import Path
from typing import Final

import pikepdf

# The copy holds what qpdf parsed and we judged, nothing else: bytes between objects, objects
# hidden inside stream data or by an incremental update, a document glued after %%EOF and
# unreferenced objects are not in it.

MAX_PDF_PAGES: Final = 500
MAX_PDF_OBJECTS: Final = 50_000
MAX_PDF_WARNINGS: Final = 20
"""More than this many repairs qpdf had to make means a broken file: refused, not guessed at."""
DISK_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
"""errno values that mean the documents' file system has no room left."""
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
            if error.errno == errno.EFBIG:
                raise PdfRefused("pdf_too_complex", "the copy outgrew its limit") from None
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
    """``python -m portal.pdf_check pdf SOURCE TARGET``: the sandboxed PDF check.

    Prints one JSON line: ``{}`` for a clean copy written to TARGET, else ``{"code", "why"}``.
    """
    if len(argv) != 3 or argv[0] != "pdf":
        print("usage: python -m portal.pdf_check pdf SOURCE TARGET", file=sys.stderr)
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


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
