"""Paper text: a PDF (PyMuPDF) or a markdown conversion, as pages of numbered lines with sections.

Line numbers are page-relative and count printed lines as a reader does: fragments of one printed line that
PyMuPDF splits at inline math are re-joined; running headers, page numbers, the arXiv margin stamp, other
rotated text and labels inside figures are not body lines (they are kept in `PaperText.margin`). PyMuPDF's
default text order is used (`sort=True` scrambles two-column LaTeX), and annotations are deleted before
extracting (a FreeText note's text would otherwise read as page text). Extractions are cached by the sha256
of the file's bytes, under `<cache>/text/`, with FORMAT_VERSION in the key.
"""

from fidelity.papers.markdown import extract_markdown
from fidelity.papers.pdf import extract_pdf
from fidelity.papers.text import FORMAT_VERSION, Heading, Line, Margin, PaperSourceError, PaperText, cache_dir

__all__ = ["FORMAT_VERSION", "Heading", "Line", "Margin", "PaperSourceError", "PaperText", "cache_dir",
           "extract_markdown", "extract_pdf"]
