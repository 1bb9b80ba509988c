"""Build the demo study's PDF, DOCX and HTML files from their Markdown sources.

The sample study ships in several formats so that `siteline demo` and the tests exercise
every parser; the generated files are committed, so the demo needs no build step. Run
this after editing a source in scripts/demo_sources/:

    .venv/bin/python scripts/build_demo_docs.py [--font-dir /usr/share/fonts/truetype/dejavu]

The sources use a small Markdown subset: `#` headings, paragraphs, `- ` bullets, `1. `
steps and pipe tables. Output is deterministic (fixed dates), so an unchanged source
rebuilds to the same bytes and the demo does not re-ingest it.
"""

from __future__ import annotations

import argparse
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "demo_sources"
OUT = ROOT / "siteline" / "demo_data"
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/Library/Fonts")]


@dataclass(frozen=True)
class Target:
    source: str
    output: str
    footer: str
    stamp: datetime  # fixed creation date: rebuilds are byte-identical


TARGETS = [
    Target(
        "ORION-301_Protocol_v2.0.md",
        "ORION-301/ORION-301_Protocol.pdf",
        "ORION-301 Protocol Version 2.0 - Effective 2026-02-01 - Helix Biotherapeutics, Inc. - Confidential",
        datetime(2026, 1, 20, tzinfo=UTC),
    ),
    Target(
        "ORION-301_Protocol_v1.0.md",
        "ORION-301/superseded/v1.0/ORION-301_Protocol.pdf",
        "ORION-301 Protocol Version 1.0 - Effective 2025-06-01 - Helix Biotherapeutics, Inc. - Confidential",
        datetime(2025, 5, 20, tzinfo=UTC),
    ),
    Target(
        "SOP-ORN-01_SAE_Reporting.md",
        "ORION-301/SOP-ORN-01_SAE_Reporting.docx",
        "SOP-ORN-01 Serious Adverse Event Reporting - Version 1.2 - Effective 2026-01-10",
        datetime(2026, 1, 5, tzinfo=UTC),
    ),
    Target(
        "SOP-ORN-02_IP_Storage.md",
        "ORION-301/SOP-ORN-02_IP_Storage.html",
        "SOP-ORN-02 Version 2.0 - Effective 2026-01-20",
        datetime(2026, 1, 15, tzinfo=UTC),
    ),
]


# ---------------------------------------------------------------- Markdown subset


@dataclass
class Block:
    kind: str  # heading | para | bullets | steps | table
    text: str = ""
    level: int = 0
    items: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


STEP = re.compile(r"^(\d+)\.\s+(.*)$")


def parse_markdown(text: str) -> list[Block]:
    """Split the source into blocks; anything outside the subset is a paragraph."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("para", " ".join(para)))
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            flush()
            hashes = len(line) - len(line.lstrip("#"))
            blocks.append(Block("heading", line[hashes:].strip(), level=hashes))
        elif line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= {"-", ":", " "} for c in cells):
                continue  # the header separator row
            if not blocks or blocks[-1].kind != "table":
                blocks.append(Block("table"))
            blocks[-1].rows.append(cells)
        elif line.startswith("- ") or STEP.match(line):
            flush()
            kind = "bullets" if line.startswith("- ") else "steps"
            if not blocks or blocks[-1].kind != kind:
                blocks.append(Block(kind))
            blocks[-1].items.append(line[2:] if kind == "bullets" else line)
        else:
            para.append(line)
    flush()
    return blocks


# ---------------------------------------------------------------- PDF


class FontsMissing(RuntimeError):
    """The PDF font is not installed; the message says how to get it."""


def find_fonts(font_dir: Path | None) -> tuple[Path, Path]:
    """DejaVu Sans (regular and bold): it covers °, ±, ×, ® and superscripts, unlike the PDF core fonts."""
    for d in [font_dir] if font_dir else FONT_DIRS:
        regular, bold = d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            return regular, bold
    raise FontsMissing("DejaVuSans.ttf and DejaVuSans-Bold.ttf not found; install fonts-dejavu-core or pass --font-dir")


def build_pdf(blocks: list[Block], target: Target, fonts: tuple[Path, Path]) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("DejaVu", size=7.5)
            self.cell(0, 4, target.footer, align="L")
            self.set_x(self.l_margin)
            self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    pdf = Doc(format="A4")
    pdf.set_creation_date(target.stamp)
    pdf.set_title(blocks[0].text)
    pdf.set_author("Helix Biotherapeutics, Inc. (fictional)")
    pdf.add_font("DejaVu", "", str(fonts[0]))
    pdf.add_font("DejaVu", "B", str(fonts[1]))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    sizes = {1: 18, 2: 14, 3: 12, 4: 10.5}
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            if block.level == 2 and i > 1:
                pdf.add_page()  # each top-level section starts a page, as in a real protocol
            elif pdf.get_y() > pdf.h - 50:
                pdf.add_page()  # never strand a heading at the foot of a page
            pdf.ln(3 if block.level > 1 else 20)
            pdf.set_font("DejaVu", "B", sizes.get(block.level, 10))
            pdf.multi_cell(0, sizes.get(block.level, 10) * 0.5, block.text, align="L")
            pdf.ln(2)
        elif block.kind == "para":
            pdf.set_font("DejaVu", "B" if i == 1 else "", 12 if i == 1 else 10)
            pdf.multi_cell(0, 5, block.text, align="L")
            pdf.ln(2)
        elif block.kind in ("bullets", "steps"):
            pdf.set_font("DejaVu", "", 10)
            for item in block.items:
                text = f"• {item}" if block.kind == "bullets" else item
                pdf.set_x(pdf.l_margin + 5)
                lines = pdf.multi_cell(0, 5, text, align="L", dry_run=True, output="LINES")
                if pdf.get_y() + 5 * len(lines) > pdf.h - pdf.b_margin:
                    pdf.add_page()  # keep one list item on one page
                    pdf.set_x(pdf.l_margin + 5)
                pdf.multi_cell(0, 5, text, align="L")
                pdf.ln(1)
            pdf.ln(1)
        elif block.kind == "table":
            ncols = len(block.rows[0])
            size = 7 if ncols > 6 else 8.5
            widths = (46, *([11] * (ncols - 1))) if ncols > 6 else None
            pdf.set_font("DejaVu", "", size)
            with pdf.table(
                col_widths=widths,
                line_height=size * 0.55,
                headings_style=FontFace(emphasis="BOLD", fill_color=(225, 230, 240)),
                text_align="LEFT",
            ) as table:
                for row in block.rows:
                    table.row([c or "" for c in row])
            pdf.ln(3)
    pdf.alias_nb_pages()
    return bytes(pdf.output())


# ---------------------------------------------------------------- DOCX


def build_docx(blocks: list[Block], target: Target) -> bytes:
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    doc.core_properties.created = target.stamp.replace(tzinfo=None)
    doc.core_properties.modified = target.stamp.replace(tzinfo=None)
    doc.core_properties.title = blocks[0].text
    doc.core_properties.author = "Meridian Clinical (fictional)"
    doc.styles["Normal"].font.size = Pt(10.5)
    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = f"{target.footer} - Page "
    run = footer.add_run()
    for tag, attr in (("w:fldChar", "begin"), ("w:instrText", "PAGE"), ("w:fldChar", "end")):
        el = OxmlElement(tag)
        if tag == "w:fldChar":
            el.set(qn("w:fldCharType"), attr)
        else:
            el.text = attr
        run._r.append(el)
    for block in blocks:
        if block.kind == "heading":
            doc.add_heading(block.text, level=max(block.level - 1, 0))
        elif block.kind == "para":
            doc.add_paragraph(block.text)
        elif block.kind == "bullets":
            for item in block.items:
                doc.add_paragraph(item, style="List Bullet")
        elif block.kind == "steps":
            for item in block.items:
                doc.add_paragraph(item).paragraph_format.left_indent = Mm(6)
        elif block.kind == "table":
            table = doc.add_table(rows=0, cols=len(block.rows[0]), style="Table Grid")
            for r, row in enumerate(block.rows):
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=False):
                    cell.text = value
                    if r == 0:
                        for run_ in cell.paragraphs[0].runs:
                            run_.bold = True
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue(), target.stamp)


def _fixed_zip(data: bytes, stamp: datetime) -> bytes:
    """Rewrite the package with fixed member dates so the bytes depend only on the content."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# ---------------------------------------------------------------- HTML


def build_html(blocks: list[Block], target: Target) -> bytes:
    e = html.escape
    body: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            body.append(f"<h{block.level}>{e(block.text)}</h{block.level}>")
        elif block.kind == "para":
            body.append(f"<p>{e(block.text)}</p>")
        elif block.kind == "bullets":
            body.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in block.items) + "</ul>")
        elif block.kind == "steps":
            items = "".join(f"<li>{e(STEP.match(i).group(2))}</li>" for i in block.items)  # type: ignore[union-attr]
            body.append(f"<ol>{items}</ol>")
        elif block.kind == "table":
            head = "".join(f"<th>{e(c)}</th>" for c in block.rows[0])
            rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in block.rows[1:])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(blocks[0].text)}</title>
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.45}}
table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.3em .5em}}</style>
</head>
<body>
<main>
{chr(10).join(body)}
</main>
<footer><p>{e(target.footer)}</p></footer>
</body>
</html>
"""
    return page.encode("utf-8")


def render(target: Target, font_dir: Path | None = None) -> bytes:
    """The bytes of one generated file, from its Markdown source."""
    blocks = parse_markdown((SOURCES / target.source).read_text(encoding="utf-8"))
    suffix = Path(target.output).suffix
    if suffix == ".pdf":
        return build_pdf(blocks, target, find_fonts(font_dir))
    if suffix == ".docx":
        return build_docx(blocks, target)
    return build_html(blocks, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--font-dir", type=Path, help="folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf")
    args = parser.parse_args()
    for target in TARGETS:
        try:
            data = render(target, args.font_dir)
        except FontsMissing as exc:
            raise SystemExit(f"error: {exc}") from None
        out = OUT / target.output
        out.parent.mkdir(parents=True, exist_ok=True)
        changed = not out.exists() or out.read_bytes() != data
        out.write_bytes(data)
        print(f"{'wrote' if changed else 'unchanged'} {out.relative_to(ROOT)} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
