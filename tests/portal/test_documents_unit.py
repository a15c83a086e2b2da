"""The parts of :mod:`portal.documents` that need no server: content type, file name, the PDF
active-content scanner and the image cleaner, each on files built here byte by byte."""

from __future__ import annotations

import io
import random
import resource
import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from portal.errors import InvalidInput
from portal.file_checks import (
    ACTIVE_NAMES,
    JPEG,
    PDF,
    PNG,
    clean_image,
    display_name,
    scan_pdf,
    sniff,
)

# -- building PDFs ------------------------------------------------------------------------------


def stream(number: int, entries: bytes, data: bytes, *, flate: bool = True) -> bytes:
    """An indirect stream object; ``data`` Flate-compressed unless told otherwise."""
    payload = zlib.compress(data) if flate else data
    filters = b"/Filter /FlateDecode " if flate else b""
    return (
        b"%d 0 obj\n<< %s%s/Length %d >>\nstream\n" % (number, entries, filters, len(payload))
        + payload
        + b"\nendstream\nendobj\n"
    )


def pdf(catalog: bytes = b"", *objects: bytes) -> bytes:
    """A small PDF: catalog, pages, one page, then ``objects``."""
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>\n"
        b"endobj\n" + b"".join(objects) + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def drawing(size: int) -> bytes:
    """A page content stream of about ``size`` bytes: plain PDF syntax, no names at all."""
    line = b"10 10 m 200 200 l S\n"
    return (line * (size // len(line) + 1))[:size]


def noise(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def verdict(tmp_path: Path, content: bytes, budget: int | None = None) -> str | None:
    """The code ``scan_pdf`` refuses ``content`` with, or None when it passes."""
    path = tmp_path / "scanned.pdf"
    path.write_bytes(content)
    try:
        if budget is None:
            scan_pdf(path)
        else:
            scan_pdf(path, budget)
    except InvalidInput as refused:
        field = refused.errors[0].field
        return refused.code if field == "file" else f"{refused.code} on {field}"
    return None


# -- the PDF scanner ----------------------------------------------------------------------------


def test_a_plain_pdf_passes(tmp_path: Path) -> None:
    content = pdf(b"", stream(4, b"", drawing(5000)))
    assert verdict(tmp_path, content) is None


@pytest.mark.parametrize("name", sorted(ACTIVE_NAMES))
def test_every_active_name_is_refused_in_the_open(tmp_path: Path, name: bytes) -> None:
    content = pdf(b"/Extra << /" + name + b" 9 0 R >>", stream(4, b"", drawing(100)))
    assert verdict(tmp_path, content) == "pdf_active_content"


@pytest.mark.parametrize(
    "spelled",
    [b"/J#61vaScript", b"/#4A#53", b"/Open#41ction", b"/#41#41", b"/Launc#68", b"/XF#41"],
)
def test_escaped_names_are_decoded(tmp_path: Path, spelled: bytes) -> None:
    content = pdf(b"", b"5 0 obj\n<< /S " + spelled + b" >>\nendobj\n", stream(4, b"", b""))
    assert verdict(tmp_path, content) == "pdf_active_content"


@pytest.mark.parametrize("near_miss", [b"/JSON", b"/AAA", b"/Launcher", b"/J#53X", b"/js"])
def test_longer_or_other_names_pass(tmp_path: Path, near_miss: bytes) -> None:
    content = pdf(b"/Extra " + near_miss, stream(4, b"", drawing(100)))
    assert verdict(tmp_path, content) is None


def test_javascript_inside_a_compressed_object_stream(tmp_path: Path) -> None:
    hidden = b"5 0 << /Type /Action /S /JavaScript /JS (app.alert(1)) >>"
    objects = stream(6, b"/Type /ObjStm /N 1 /First 4 ", hidden)
    content = pdf(b"/OpenAct#69on 5 0 R", objects, stream(4, b"", b""))
    assert verdict(tmp_path, content) == "pdf_active_content"
    # The same object stream with the catalog clean: found by decompressing alone.
    content = pdf(b"", objects, stream(4, b"", b""))
    assert verdict(tmp_path, content) == "pdf_active_content"


def test_an_object_stream_disguised_as_an_image_is_still_read(tmp_path: Path) -> None:
    # A binary string first, so it does not look like text; /First gives it away.
    binary = noise(8000).replace(b")", b"").replace(b"\\", b"")
    hidden = b"5 0 (" + binary + b") << /S /JavaScript >>"
    disguised = stream(6, b"/Subtype /Image /N 1 /First 4 ", hidden)
    assert verdict(tmp_path, pdf(b"", disguised, stream(4, b"", b""))) == "pdf_active_content"


def test_an_object_stream_without_its_type_is_known_by_its_table(tmp_path: Path) -> None:
    hidden = b"%" + noise(3000).replace(b"\r", b"").replace(b"\n", b"") + b"\n5 0 "
    hidden += b"<< /S /JavaScript >>"
    untyped = stream(6, b"/N 1 /First 3000 ", hidden)
    assert verdict(tmp_path, pdf(b"", untyped, stream(4, b"", b""))) == "pdf_active_content"


def test_an_uncompressed_object_stream_is_read(tmp_path: Path) -> None:
    # With a binary string first: read because it is an object stream, not because it is text.
    data = b"5 0 (" + noise(5000).replace(b")", b"") + b") << /S /Launch >>"
    plain = stream(6, b"/Type /ObjStm /N 1 /First 4 ", data, flate=False)
    assert verdict(tmp_path, pdf(b"", plain, stream(4, b"", b""))) == "pdf_active_content"


@pytest.mark.parametrize(
    "entries",
    [
        b"/Filter [/ASCIIHexDecode /FlateDecode] ",
        b"/Filter /LZWDecode ",
        b"/Filter [/FlateDecode /FlateDecode] ",
        b"/Filter /Crypt ",
    ],
)
def test_filters_we_cannot_see_through_are_refused(tmp_path: Path, entries: bytes) -> None:
    opaque = b"6 0 obj\n<< /Type /ObjStm /N 1 /First 4 %s/Length 4 >>\nstream\nxxxx\nendstream\n"
    content = pdf(b"", opaque % entries + b"endobj\n", stream(4, b"", b""))
    assert verdict(tmp_path, content) == "pdf_active_content"


def test_a_predictor_on_an_object_stream_is_refused(tmp_path: Path) -> None:
    predicted = stream(
        6, b"/Type /ObjStm /N 1 /First 4 /DecodeParms << /Predictor 12 /Columns 5 >> ", b"5 0 1"
    )
    assert verdict(tmp_path, pdf(b"", predicted, stream(4, b"", b""))) == "pdf_active_content"


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    content = pdf(b"", stream(4, b"", b"")).replace(
        b"<< /Root 1 0 R >>", b"<< /Root 1 0 R /Encrypt 9 0 R >>"
    )
    assert verdict(tmp_path, content) == "pdf_active_content"


def test_ordinary_structures_pass(tmp_path: Path) -> None:
    # Bookmarks (/First, /Last), an ICC profile (/N), a cross-reference stream with a
    # predictor and a JPEG image: all common, none active.
    xref_rows = b"".join(bytes([2, 1, 0, 0, n, 0]) for n in range(8))
    content = pdf(
        b"/Outlines 8 0 R",
        stream(4, b"", drawing(3000) + b"/Im0 Do\n"),
        b"8 0 obj\n<< /Type /Outlines /First 9 0 R /Last 9 0 R /Count 1 >>\nendobj\n",
        stream(5, b"/N 3 /Alternate /DeviceRGB ", noise(3000)),
        stream(
            6, b"/Type /XRef /W [1 3 1] /DecodeParms << /Columns 5 /Predictor 12 >> ", xref_rows
        ),
        stream(7, b"/Type /XObject /Subtype /Image /Filter /DCTDecode ", noise(5000), flate=False),
    )
    assert verdict(tmp_path, content) is None


def test_names_in_a_compressed_content_stream(tmp_path: Path) -> None:
    content = pdf(b"", stream(4, b"", drawing(2000) + b"/AA << >>\n" + drawing(2000)))
    assert verdict(tmp_path, content) == "pdf_active_content"


@pytest.mark.parametrize("offset", [4096 - 5, 4096 + 1024 * 1024 - 5, 4096 + 2 * 1024 * 1024 - 3])
def test_a_name_across_decompression_windows(tmp_path: Path, offset: int) -> None:
    data = drawing(offset) + b"/JavaScript " + drawing(100)
    assert verdict(tmp_path, pdf(b"", stream(4, b"", data))) == "pdf_active_content"


def test_a_window_edge_does_not_shorten_a_name(tmp_path: Path) -> None:
    # "/JS" ends exactly where the first window does; the name is /JSON.
    data = drawing(4096 - 3) + b"/JSON 1 Tf\n" + drawing(100)
    assert verdict(tmp_path, pdf(b"", stream(4, b"", data))) is None


def test_binary_streams_are_not_read_as_syntax(tmp_path: Path) -> None:
    # Random bytes spell names now and then; image samples and fonts must not trip the scan.
    samples = noise(300_000)
    for spurious in (b"/JS ", b"/AA\n", b"/XFA>"):
        samples = samples[:1000] + spurious + samples[1000:]
    content = pdf(
        b"",
        stream(4, b"", drawing(300)),
        stream(5, b"/Type /XObject /Subtype /Image /Width 100 /Height 100 ", samples),
        stream(6, b"/Subtype /Image /Filter /DCTDecode ", samples, flate=False),
    )
    assert verdict(tmp_path, content) is None


def test_an_object_hidden_in_stream_data_is_read(tmp_path: Path) -> None:
    # A reader rebuilding a broken cross-reference table would find object 9 in there.
    data = noise(2000) + b"\n9 0 obj\n<< /S /Launch /F (calc.exe) >>\nendobj\n" + noise(2000)
    content = pdf(b"", stream(4, b"", b""), stream(5, b"/Subtype /Image ", data, flate=False))
    assert verdict(tmp_path, content) == "pdf_active_content"


def test_a_wrong_length_does_not_hide_objects(tmp_path: Path) -> None:
    trap = (
        b"5 0 obj\n<< /Length 999999 >>\nstream\nxx\nendstream\nendobj\n"
        b"6 0 obj\n<< /S /JavaScript >>\nendobj\n"
    )
    assert verdict(tmp_path, pdf(b"", stream(4, b"", b""), trap)) == "pdf_active_content"


def test_running_out_of_budget_refuses(tmp_path: Path) -> None:
    content = pdf(b"", stream(4, b"", drawing(200_000)))
    assert verdict(tmp_path, content) is None
    assert verdict(tmp_path, content, budget=50_000) == "pdf_active_content"


def test_a_flate_bomb_is_scanned_in_bounded_time(tmp_path: Path) -> None:
    compressor = zlib.compressobj(9)
    bomb = b"".join(compressor.compress(b" " * (1 << 20)) for _ in range(64)) + compressor.flush()
    content = pdf(
        b"",
        stream(4, b"", b""),
        b"5 0 obj\n<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(bomb)
        + bomb
        + b"\nendstream\nendobj\n",
    )
    started = time.monotonic()
    assert verdict(tmp_path, content) == "pdf_active_content"
    assert time.monotonic() - started < 5


def test_damaged_flate_data_is_tolerated(tmp_path: Path) -> None:
    broken = zlib.compress(drawing(50_000))[:-200] + noise(200)
    content = pdf(
        b"",
        stream(4, b"", b""),
        b"5 0 obj\n<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(broken)
        + broken
        + b"\nendstream\nendobj\n",
    )
    assert verdict(tmp_path, content) is None


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.7\n1 0 obj << >> endobj\n", b"%PDX-1.7\n%%EOF\n"],
    ids=["no end marker", "no header"],
)
def test_malformed_pdf(tmp_path: Path, content: bytes) -> None:
    assert verdict(tmp_path, content) == "file_corrupt"


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
    with pytest.raises(InvalidInput) as refused:
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
