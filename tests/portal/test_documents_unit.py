"""The parts of :mod:`portal.documents` that need no server: content type, file name, the PDF
judge (qpdf through pikepdf, in its sandboxed child) and the image cleaner, each on files built
here byte by byte."""

from __future__ import annotations

import io
import random
import re
import resource
import struct
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from portal.errors import PortalError
from portal.file_checks import (
    JPEG,
    PDF,
    PNG,
    clean_image,
    clean_pdf,
    display_name,
    sniff,
)
from portal.pdf_check import (
    ACTIVE_NAMES,
    MAX_PDF_OBJECTS,
    MAX_PDF_PAGES,
    PdfRefused,
    judge_and_rewrite_pdf,
)

# -- building PDFs ------------------------------------------------------------------------------

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>"


def stream_object(
    entries: bytes, data: bytes, *, flate: bool = True, keyword: bytes = b"stream\n"
) -> bytes:
    """The body of a stream object; ``data`` Flate-compressed unless told otherwise."""
    payload = zlib.compress(data) if flate else data
    filters = b"/Filter /FlateDecode " if flate else b""
    return (
        b"<< %s%s/Length %d >>\n" % (entries, filters, len(payload))
        + keyword
        + payload
        + b"\nendstream"
    )


def zeros_after(prefix: bytes, mib: int) -> bytes:
    """Flate data of ``prefix`` then ``mib`` MiB of zero bytes, made without compressing them:
    after a full flush every MiB of zeros compresses to the same bytes (RFC 1950, 1951)."""
    compressor = zlib.compressobj(9)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = bytes(1 << 20)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()[:-4]
    # Adler-32 of prefix + zeros: zeros leave A alone and add A to B once per byte.
    checksum = zlib.adler32(prefix)
    low, high = checksum & 0xFFFF, checksum >> 16
    high = (high + low * (mib << 20)) % 65521
    return head + first + again * (mib - 1) + end + ((high << 16) | low).to_bytes(4, "big")


@dataclass
class RawPdf:
    """A PDF written byte by byte, with a correct cross-reference table or stream (7.5).

    ``objects`` are written as indirect objects; ``packed`` ones go into one object stream
    (7.5.7), which needs a cross-reference stream (7.5.8).
    """

    objects: dict[int, bytes] = field(default_factory=dict)
    packed: dict[int, bytes] = field(default_factory=dict)
    packed_zeros_mib: int = 0
    """MiB of zero bytes after the packed objects: an object stream that inflates hugely."""

    @classmethod
    def minimal(cls, catalog: bytes = b"", content: bytes = b"0 0 m 10 10 l S") -> RawPdf:
        """Catalog (with ``catalog`` entries), pages, one page and its content stream."""
        return cls(
            {1: CATALOG[:-2] + catalog + b" >>", 2: PAGES, 3: PAGE, 4: stream_object(b"", content)}
        )

    def page(self, entries: bytes) -> RawPdf:
        """The page object with more ``entries``."""
        self.objects[3] = PAGE[:-2] + entries + b" >>"
        return self

    def build(self, *, xref_stream: bool = False, trailer: bytes = b"") -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets: dict[int, int] = {}
        top = max([*self.objects, *self.packed])
        for number in sorted(self.objects):
            offsets[number] = len(out)
            out += b"%d 0 obj\n%s\nendobj\n" % (number, self.objects[number])
        inside: dict[int, tuple[int, int]] = {}
        if self.packed:
            top += 1
            table = body = b""
            for index, number in enumerate(sorted(self.packed)):
                table += b"%d %d " % (number, len(body))
                body += self.packed[number] + b"\n"
                inside[number] = (top, index)
            data = (
                zeros_after(table + body, self.packed_zeros_mib)
                if self.packed_zeros_mib
                else zlib.compress(table + body)
            )
            entries = b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode " % (
                len(self.packed),
                len(table),
            )
            offsets[top] = len(out)
            out += b"%d 0 obj\n<< %s/Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
                top,
                entries,
                len(data),
                data,
            )
        if not (xref_stream or self.packed):
            start = len(out)
            out += b"xref\n0 %d\n0000000000 65535 f \n" % (top + 1)
            for number in range(1, top + 1):
                out += (
                    b"%010d 00000 n \n" % offsets[number]
                    if number in offsets
                    else b"0000000000 00000 f \n"
                )
            out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
                top + 1,
                trailer,
                start,
            )
            return bytes(out)
        top += 1
        start = offsets[top] = len(out)
        rows = b"\x00" + bytes(4) + b"\xff\xff"
        for number in range(1, top + 1):
            if number in offsets:
                rows += b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00"
            elif number in inside:
                stream, index = inside[number]
                rows += b"\x02" + stream.to_bytes(4, "big") + index.to_bytes(2, "big")
            else:
                rows += b"\x00" + bytes(6)
        entries = b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R %s" % (top + 1, trailer)
        out += b"%d 0 obj\n%s\nendobj\n" % (top, stream_object(entries, rows))
        out += b"startxref\n%d\n%%%%EOF\n" % start
        return bytes(out)


def incremental(base: bytes, objects: dict[int, bytes]) -> bytes:
    """``base`` with an incremental update (7.5.6) that adds or replaces ``objects``."""
    previous = int(re.findall(rb"startxref\s+(\d+)", base)[-1])
    size = max(int(re.findall(rb"/Size (\d+)", base)[-1]), max(objects) + 1)
    out = bytearray(base)
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    start = len(out)
    out += b"xref\n"
    for number in sorted(objects):
        out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    out += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        previous,
        start,
    )
    return bytes(out)


def saved(document: pikepdf.Pdf, **options: Any) -> bytes:
    out = io.BytesIO()
    document.save(out, **options)
    return out.getvalue()


def drawing(size: int) -> bytes:
    """A page content stream of about ``size`` bytes: plain PDF syntax, no names at all."""
    line = b"10 10 m 200 200 l S\n"
    return (line * (size // len(line) + 1))[:size]


def noise(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def verdict(tmp_path: Path, content: bytes) -> str | None:
    """The code the PDF judge refuses ``content`` with (in this process), or None."""
    path = tmp_path / "judged.pdf"
    path.write_bytes(content)
    target = tmp_path / "copy.pdf"
    target.unlink(missing_ok=True)
    try:
        judge_and_rewrite_pdf(path, target)
    except PdfRefused as refused:
        assert not target.exists()
        return refused.code
    assert target.stat().st_size > 0
    return None


def through_child(tmp_path: Path, content: bytes) -> tuple[int, str] | bytes:
    """What :func:`clean_pdf` (the sandboxed child) makes of ``content``: the copy's bytes,
    or the refusal's status and code."""
    path = tmp_path / "upload.pdf"
    path.write_bytes(content)
    target = tmp_path / "copy.pdf"
    target.unlink(missing_ok=True)
    try:
        clean_pdf(path, target)
    except PortalError as refused:
        assert not target.exists() or target.stat().st_size == 0
        return refused.status, refused.code
    return target.read_bytes()


def stored_copy(content: bytes) -> bytes:
    """The bytes the hub stores for an accepted ``content``: qpdf's copy, which depends on the
    content alone (a deterministic /ID)."""
    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch) / "upload.pdf", Path(scratch) / "copy.pdf"
        source.write_bytes(content)
        clean_pdf(source, target)
        return target.read_bytes()


# -- the PDF judge ------------------------------------------------------------------------------


def test_a_plain_pdf_is_stored_as_the_copy_qpdf_writes(tmp_path: Path) -> None:
    original = RawPdf.minimal(content=drawing(5000)).build() + b"PK\x03\x04 a zip glued on\n"
    copy = through_child(tmp_path, original)
    assert isinstance(copy, bytes)
    assert copy != original and b"PK\x03\x04" not in copy
    assert stored_copy(original) == copy, "the copy is a function of the content alone"
    with pikepdf.open(io.BytesIO(copy)) as reopened:
        assert len(reopened.pages) == 1
        assert reopened.pages[0].Contents.read_bytes() == drawing(5000)


@pytest.mark.parametrize("name", sorted(ACTIVE_NAMES))
def test_every_active_name_is_refused_as_key_and_as_value(tmp_path: Path, name: str) -> None:
    as_key = RawPdf.minimal(b"/Extra << " + name.encode() + b" 1 >>").build()
    assert verdict(tmp_path, as_key) == "pdf_active_content"
    as_value = RawPdf.minimal(b"/Extra [ 1 " + name.encode() + b" ]").build()
    assert verdict(tmp_path, as_value) == "pdf_active_content"


@pytest.mark.parametrize(
    "spelled",
    [b"/J#61vaScript", b"/#4A#53", b"/Launc#68", b"/XF#41", b"/Embedded#46iles", b"/#45F"],
)
def test_escaped_names_are_decoded(tmp_path: Path, spelled: bytes) -> None:
    document = RawPdf.minimal()
    document.objects[5] = b"<< /S " + spelled + b" >>"
    assert verdict(tmp_path, document.build()) == "pdf_active_content"


@pytest.mark.parametrize("near_miss", [b"/JSON", b"/AAA", b"/Launcher", b"/J#53X", b"/js"])
def test_longer_or_other_names_pass(tmp_path: Path, near_miss: bytes) -> None:
    assert verdict(tmp_path, RawPdf.minimal(b"/Extra " + near_miss).build()) is None


@pytest.mark.parametrize("xref_stream", [False, True], ids=["xref table", "xref stream"])
def test_javascript_in_an_unreferenced_object(tmp_path: Path, xref_stream: bool) -> None:
    document = RawPdf.minimal()
    document.objects[5] = b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>"
    assert verdict(tmp_path, document.build(xref_stream=xref_stream)) == "pdf_active_content"


def test_javascript_inside_an_object_stream(tmp_path: Path) -> None:
    # Behind a string that holds ">>" and "stream", which a byte scanner could take for syntax.
    document = RawPdf.minimal()
    document.packed[5] = b"<< /T (a >> stream endstream) /S /JavaScript /JS (app.alert(1)) >>"
    assert verdict(tmp_path, document.build()) == "pdf_active_content"
    document.packed[5] = b"<< /T (a >> stream endstream) >>"
    assert verdict(tmp_path, document.build()) is None


def test_stream_keyword_followed_by_a_space(tmp_path: Path) -> None:
    document = RawPdf.minimal()
    document.objects[5] = stream_object(b"/S /JavaScript ", b"x", keyword=b"stream \n")
    assert verdict(tmp_path, document.build()) == "pdf_active_content"


def test_an_incremental_update_is_judged_and_flattened(tmp_path: Path) -> None:
    base = RawPdf.minimal().build()
    launch = incremental(base, {5: b"<< /S /Launch /F (calc.exe) >>"})
    assert verdict(tmp_path, launch) == "pdf_active_content"
    # An update that replaces the page: the old page is gone from the copy.
    page = PAGE[:-2] + b"/Rotate 90 >>"
    copy = through_child(tmp_path, incremental(base, {3: page}))
    assert isinstance(copy, bytes)
    assert copy.count(b"%%EOF") == 1
    with pikepdf.open(io.BytesIO(copy)) as reopened:
        assert reopened.pages[0].Rotate == 90


def test_an_object_hidden_in_stream_data_is_not_in_the_copy(tmp_path: Path) -> None:
    # A reader rebuilding a broken cross-reference table would find object 9 in there; qpdf
    # reads the file's own table and the copy compresses the stream.
    data = noise(2000) + b"\n9 0 obj\n<< /S /Launch /F (calc.exe) >>\nendobj\n" + noise(2000)
    document = RawPdf.minimal(b"/Extra 5 0 R")
    document.objects[5] = stream_object(b"/Subtype /Image ", data, flate=False)
    copy = through_child(tmp_path, document.build())
    assert isinstance(copy, bytes)
    assert b"calc.exe" not in copy and b"/Launch" not in copy


def test_a_wrong_length_does_not_hide_objects(tmp_path: Path) -> None:
    document = RawPdf.minimal()
    document.objects[5] = b"<< /Length 999999 >>\nstream\nxx\nendstream"
    assert verdict(tmp_path, document.build()) is None
    document.objects[6] = b"<< /S /JavaScript >>"
    assert verdict(tmp_path, document.build()) == "pdf_active_content"


@pytest.mark.parametrize(
    ("catalog", "expected"),
    [
        (b"/OpenAction [3 0 R /Fit]", None),
        (b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >>", None),
        (b"/OpenAction << /S /URI /URI (https://example.org/) >>", "pdf_active_content"),
        (b"/OpenAction << /S /Named /N /Print >>", "pdf_active_content"),
        (
            b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /ResetForm >> >>",
            "pdf_active_content",
        ),
        (b"/OpenAction 5 0 R", "pdf_active_content"),
        (b"/AA << /WC << /S /GoTo /D [3 0 R /Fit] >> >>", None),
        (b"/AA << /WC << /S /Hide /T (x) >> >>", "pdf_active_content"),
        (b"/AA [1 2]", "pdf_active_content"),
    ],
)
def test_automatic_actions_may_only_go_to_a_page(
    tmp_path: Path, catalog: bytes, expected: str | None
) -> None:
    document = RawPdf.minimal(catalog)
    document.objects[5] = b"<< /S /ResetForm >>"
    assert verdict(tmp_path, document.build()) == expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (b"<< /S /URI /URI (https://example.org/wyniki) >>", None),
        (b"<< /S /URI /URI (mailto:rejestracja@example.org) >>", None),
        (b"<< /S /Named /N /NextPage >>", None),
        (b"<< /S /URI /URI (javascript:app.alert(1)) >>", "pdf_active_content"),
        (b"<< /S /URI /URI (file:///etc/passwd) >>", "pdf_active_content"),
        (b"<< /S /URI /URI ( JAVASCRIPT:x) >>", "pdf_active_content"),
        (b"<< /S /URI >>", "pdf_active_content"),
        (b"<< /S /Named /N /Print >>", "pdf_active_content"),
        (b"<< /S /Hide /T (x) >>", "pdf_active_content"),
        (b"<< /S /URI /URI (https://example.org/) /Next << /S /Launch >> >>", "pdf_active_content"),
    ],
)
def test_a_link_may_open_the_web_or_mail(
    tmp_path: Path, action: bytes, expected: str | None
) -> None:
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A " + action + b" >>"
    document = RawPdf.minimal().page(b"/Annots [" + link + b"]")
    assert verdict(tmp_path, document.build()) == expected


def test_encrypted_pdfs_are_refused(tmp_path: Path) -> None:
    document = pikepdf.new()
    document.add_blank_page()
    for user in ("", "secret"):
        content = saved(document, encryption=pikepdf.Encryption(owner="owner", user=user))
        assert verdict(tmp_path, content) == "pdf_encrypted"
    assert through_child(tmp_path, content) == (415, "pdf_encrypted")


def test_ordinary_structures_pass(tmp_path: Path) -> None:
    # Bookmarks, an ICC-based colour space, a JPEG image, a link, object and xref streams.
    document = pikepdf.new()
    document.add_blank_page()
    page = document.pages[0]
    icc = document.make_stream(noise(3000), N=3, Alternate=pikepdf.Name.DeviceRGB)
    image = document.make_stream(
        noise(5000),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=10,
        Height=10,
        ColorSpace=pikepdf.Array([pikepdf.Name.ICCBased, icc]),
        BitsPerComponent=8,
        Filter=pikepdf.Name.DCTDecode,
    )
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = document.make_stream(drawing(3000) + b"/Im0 Do\n")
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[0, 0, 10, 10],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.org/")),
    )
    page.Annots = document.make_indirect(pikepdf.Array([link]))
    with document.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Wyniki", 0))
    content = saved(document, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    assert verdict(tmp_path, content) is None


def test_binary_streams_are_not_read_as_syntax(tmp_path: Path) -> None:
    # Random bytes spell names now and then; image samples must not trip the judge.
    samples = noise(300_000)
    for spurious in (b"/JS ", b"/AA\n", b"/XFA>"):
        samples = samples[:1000] + spurious + samples[1000:]
    document = RawPdf.minimal(b"/Extra [5 0 R 6 0 R]")
    document.objects[5] = stream_object(b"/Type /XObject /Subtype /Image ", samples)
    document.objects[6] = stream_object(
        b"/Subtype /Image /Filter /DCTDecode ", samples, flate=False
    )
    assert verdict(tmp_path, document.build()) is None


def test_names_in_a_content_stream_are_operands_not_actions(tmp_path: Path) -> None:
    # Content streams (8.2) draw; a name there cannot trigger anything, and they are not decoded.
    content = drawing(2000) + b"/JavaScript gs /AA Do\n"
    assert verdict(tmp_path, RawPdf.minimal(content=content).build()) is None


def test_a_flate_bomb_in_a_content_stream_is_copied_not_inflated(tmp_path: Path) -> None:
    bomb = zeros_after(b"0 0 m ", 2048)  # 2 GiB inflated, 2 MB as sent
    document = RawPdf.minimal()
    document.objects[4] = b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (
        len(bomb),
        bomb,
    )
    copy = through_child(tmp_path, document.build())
    assert isinstance(copy, bytes)
    assert len(copy) < len(bomb) + 10_000


def test_a_bomb_in_an_object_stream_meets_the_childs_limits(tmp_path: Path) -> None:
    # qpdf must inflate an object stream to read its objects: 2 GiB do not fit the child.
    document = RawPdf.minimal()
    document.packed[5] = b"<< /Note (nothing) >>"
    document.packed_zeros_mib = 2048
    assert through_child(tmp_path, document.build()) == (413, "pdf_too_complex")


def test_too_many_pages_or_objects(tmp_path: Path) -> None:
    document = pikepdf.new()
    for _ in range(MAX_PDF_PAGES + 1):
        document.add_blank_page()
    assert verdict(tmp_path, saved(document)) == "pdf_too_complex"
    many = RawPdf.minimal()
    many.objects.update(dict.fromkeys(range(5, MAX_PDF_OBJECTS + 10), b"0"))
    assert verdict(tmp_path, many.build()) == "pdf_too_complex"


def test_damaged_flate_data_is_copied_as_it_came(tmp_path: Path) -> None:
    broken = zlib.compress(drawing(50_000))[:-200] + noise(200)
    document = RawPdf.minimal()
    document.objects[4] = b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (
        len(broken),
        broken,
    )
    assert verdict(tmp_path, document.build()) is None


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n1 0 obj << >> endobj\n",
        b"%PDX-1.7\n%%EOF\n",
        # The old helper's files: no cross-reference table, which qpdf would have to rebuild.
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n",
        RawPdf.minimal().build().replace(b"startxref\n", b"startxref\n9"),
    ],
    ids=["no end marker", "no header", "no xref table", "startxref points nowhere"],
)
def test_broken_files_are_not_repaired(tmp_path: Path, content: bytes) -> None:
    assert verdict(tmp_path, content) == "file_corrupt"
    assert through_child(tmp_path, content) == (422, "file_corrupt")


# -- type and name ------------------------------------------------------------------------------


def test_sniff() -> None:
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == JPEG
    assert sniff(b"\x89PNG\r\n\x1a\n\x00") == PNG
    assert sniff(b"%PDF-1.4\n") == PDF
    assert sniff(b"\x7fELF\x02\x01\x01\x00") is None
    assert sniff(b"GIF89a") is None
    assert sniff(b"\x89PNG\r\n") is None
    assert sniff(b"") is None


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("wyniki.pdf", PDF, "wyniki.pdf"),
        ("../../etc/passwd\x00.pdf", PDF, "passwd.pdf"),
        ("C:\\Users\\jan\\Pulpit\\skan.PDF", PDF, "skan.PDF"),
        ("zdjęcie.jpeg", JPEG, "zdjęcie.jpeg"),
        ("zdje\u0328cie.jpg", JPEG, "zdjęcie.jpg"),
        ("skan.pdf", PNG, "skan.png"),
        ("photo", JPEG, "photo.jpg"),
        ("raport.v2", PDF, "raport.v2.pdf"),
        ("invoice\u202efdp.exe", PDF, "invoicefdp.exe.pdf"),
        ("line\r\nbreak\t.png", PNG, "linebreak.png"),
        ("..", PDF, "document.pdf"),
        ("", PNG, "document.png"),
        (None, PDF, "document.pdf"),
        ("/", PDF, "document.pdf"),
        ("...hidden.pdf", PDF, "hidden.pdf"),
        ("  spaced .pdf ", PDF, "spaced .pdf"),
    ],
)
def test_display_name(raw: str | None, content_type: str, expected: str) -> None:
    assert display_name(raw, content_type) == expected


def test_display_name_is_at_most_255_characters_and_keeps_its_extension() -> None:
    name = display_name("ą" * 400 + ".pdf", PDF)
    assert len(name) == 255
    assert name.endswith("ą.pdf")


# -- the image cleaner --------------------------------------------------------------------------


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "received"
    path.write_bytes(content)
    return path


def refusal(source: Path, target: Path, content_type: str) -> str:
    with pytest.raises(PortalError) as refused:
        clean_image(source, target, content_type)
    assert not target.exists()
    return refused.value.code


def one_bit_png(width: int, height: int) -> bytes:
    """A valid white one-bit PNG, compressed row by row (never whole in memory)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    idat = b"".join(compressor.compress(row * 100) for _ in range(height // 100))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", idat + compressor.flush())
        + chunk(b"IEND", b"")
    )


def test_our_pixel_limit_comes_before_decoding(tmp_path: Path) -> None:
    # 42 megapixels: under Pillow's own guard (89), over ours (40).
    source = write(tmp_path, one_bit_png(7000, 6000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    assert refusal(source, tmp_path / "clean", PNG) == "image_too_large"
    assert time.monotonic() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20 * 1024


def test_the_header_alone_decides(tmp_path: Path) -> None:
    # Pixel data that could never be decoded: refused for its size, so it was never read.
    content = one_bit_png(7000, 6000)
    cut = content.index(b"IDAT") + 4
    source = write(tmp_path, content[:cut] + noise(5000) + content[-12:])
    assert refusal(source, tmp_path / "clean", PNG) == "image_too_large"
    small = one_bit_png(700, 600)
    cut = small.index(b"IDAT") + 4
    source = write(tmp_path, small[:cut] + noise(5000) + small[-12:])
    assert refusal(source, tmp_path / "clean", PNG) == "file_corrupt"


def test_within_the_limit_is_decoded(tmp_path: Path) -> None:
    source = write(tmp_path, one_bit_png(2000, 1000))
    clean_image(source, tmp_path / "clean", PNG)
    with Image.open(tmp_path / "clean") as image:
        assert image.size == (2000, 1000)


def test_png_text_and_exif_are_dropped_transparency_kept(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jan Nowicki")
    info.add_itxt("Comment", "Pacjent: Jan Nowicki, PESEL 85031441713")
    exif = Image.Exif()
    exif[0x010F] = "Telefon"
    out = io.BytesIO()
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] * 128)
    image.save(out, "PNG", pnginfo=info, exif=exif, transparency=0)
    source = write(tmp_path, out.getvalue())
    clean_image(source, tmp_path / "clean", PNG)
    cleaned = (tmp_path / "clean").read_bytes()
    for marker in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"Jan", b"Telefon"):
        assert marker not in cleaned
    with Image.open(tmp_path / "clean") as result:
        assert result.info.get("transparency") == 0
        assert result.getpixel((0, 0)) == 1


def test_jpeg_comment_and_exif_are_dropped(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 13.0, 37.0)})
    out = io.BytesIO()
    Image.new("RGB", (30, 10), (0, 128, 0)).save(out, "JPEG", exif=exif, comment=b"Jan N.")
    source = write(tmp_path, out.getvalue())
    clean_image(source, tmp_path / "clean", JPEG)
    with Image.open(tmp_path / "clean") as result:
        assert result.size == (10, 30)
        assert not result.getexif()
        assert "comment" not in result.info


# sRGB's primaries adapted to D50 (IEC 61966-2-1 through the ICC's Bradford adaptation).
SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)


def icc_profile(red: tuple[float, ...], green: tuple[float, ...], blue: tuple[float, ...]) -> bytes:
    """A minimal ICC v2 RGB display profile (ICC.1:2001-04): these primaries, gamma 2.2."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(2.2 * 256)) + bytes(2)
    text = b"test profile\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8 + 3 + 67)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(*red)),
        (b"gXYZ", xyz(*green)),
        (b"bXYZ", xyz(*blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table = data = b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (
        struct.pack(">I", offset + len(data))
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(48)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


# A display whose red and green are swapped: its "red" pixels are green in sRGB.
SWAPPED = icc_profile(SRGB_GREEN, SRGB_RED, SRGB_BLUE)


@pytest.mark.parametrize("kind", [JPEG, PNG])
def test_an_embedded_colour_profile_is_applied_then_dropped(tmp_path: Path, kind: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(
        out, "JPEG" if kind == JPEG else "PNG", icc_profile=SWAPPED
    )
    clean_image(write(tmp_path, out.getvalue()), tmp_path / "clean", kind)
    with Image.open(tmp_path / "clean") as result:
        assert "icc_profile" not in result.info
        red, green, blue = result.convert("RGB").getpixel((8, 8))
        assert green > 150 and red < 80 and blue < 80, (red, green, blue)


def test_an_srgb_profile_leaves_the_colours_and_alpha_as_they_are(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (200, 30, 30, 90)).save(
        out, "PNG", icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    )
    clean_image(write(tmp_path, out.getvalue()), tmp_path / "clean", PNG)
    with Image.open(tmp_path / "clean") as result:
        assert result.mode == "RGBA" and "icc_profile" not in result.info
        red, green, blue, alpha = result.getpixel((4, 4))
        assert alpha == 90
        assert abs(red - 200) <= 2 and abs(green - 30) <= 2 and abs(blue - 30) <= 2


def test_an_unreadable_profile_is_dropped_and_the_pixels_kept(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG", icc_profile=b"not a profile" * 20)
    clean_image(write(tmp_path, out.getvalue()), tmp_path / "clean", PNG)
    with Image.open(tmp_path / "clean") as result:
        assert "icc_profile" not in result.info
        assert result.getpixel((4, 4)) == (200, 30, 30)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        b"\xff\xd8\xff\xe0" + noise(500),
    ],
    ids=["png header only", "jpeg noise"],
)
def test_damaged_images(tmp_path: Path, content: bytes) -> None:
    kind = PNG if content.startswith(b"\x89") else JPEG
    assert refusal(write(tmp_path, content), tmp_path / "clean", kind) == "file_corrupt"


def test_truncated_png(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.frombytes("RGB", (64, 64), noise(64 * 64 * 3)).save(out, "PNG")
    content = out.getvalue()
    source = write(tmp_path, content[: len(content) // 2])
    assert refusal(source, tmp_path / "clean", PNG) == "file_corrupt"


def test_a_jpeg_is_not_read_as_png(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "JPEG")
    assert refusal(write(tmp_path, out.getvalue()), tmp_path / "clean", PNG) == "file_corrupt"
