"""Read a PDF's text in a child process with bounded memory and CPU (run by ``extract._pdf``).

A PDF's streams are compressed, and pypdf inflates a stream whole: a 100 KB file can ask for
gigabytes (a decompression bomb), or keep a parser busy for minutes. So the text is read here, in
a separate interpreter started with ``python -I`` (no environment, no user site, nothing of the
workbench imported) whose address space and CPU time are capped before pypdf is imported. The
PDF comes on stdin; one JSON document goes to stdout:
``{"pages": [text, ...]}`` or ``{"error": "encrypted" | "pages" | "size" | "memory" | "damaged" |
"missing", "detail": "..."}``. The parent turns errors into typed ones.

Arguments: ``MEMORY_BYTES CPU_SECONDS MAX_TEXT_CHARS MAX_PAGES``.
"""

import json
import resource
import sys


def _out(doc) -> None:
    sys.stdout.write(json.dumps(doc))
    sys.stdout.flush()


def main(argv) -> int:
    memory, cpu, limit, max_pages = (int(a) for a in argv[1:5])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    data = sys.stdin.buffer.read()
    try:
        import io
        import logging

        logging.disable(logging.CRITICAL)  # pypdf reports what it repairs as warnings
        from pypdf import PdfReader
    except ImportError:
        _out({"error": "missing", "detail": "pypdf"})
        return 0
    try:
        reader = PdfReader(io.BytesIO(data))
        # owner-password-only PDFs (printing or copying restricted) open with the empty password
        if reader.is_encrypted and not reader.decrypt(""):
            _out({"error": "encrypted", "detail": ""})
            return 0
        count = len(reader.pages)
        if count > max_pages:
            _out({"error": "pages", "detail": str(count)})
            return 0
        pages, size = [], 0
        for page in reader.pages:
            text = page.extract_text() or ""
            size += len(text)
            if size > limit:
                _out({"error": "size", "detail": ""})
                return 0
            pages.append(text)
    except MemoryError:
        _out({"error": "memory", "detail": ""})
        return 0
    except RecursionError:
        _out({"error": "damaged", "detail": "RecursionError (nesting too deep)"})
        return 0
    except Exception as exc:  # noqa: BLE001 -- any parser error on a malformed file
        _out({"error": "damaged", "detail": type(exc).__name__})
        return 0
    _out({"pages": pages})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
