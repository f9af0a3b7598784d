"""Markdown to DOCX, read back with python-docx."""

from __future__ import annotations

import io

import docx

from tftsr_kernel.documents.docx_render import markdown_to_docx

MD = """# RCA: checkout latency

## Summary

The pool was **exhausted** after `db_pool_max` was lowered. See [runbook](https://wiki.example/rb).

## Timeline

| Time (UTC) | Event |
|:--|--:|
| 14:02 | paged |
| 14:10 | rolled back |

## Actions

- Raise the pool
  - and alert on it
- Add a canary

1. first
2. second

```sh
kubectl rollout undo deploy/checkout
```

> blameless: the change was reviewed

<script>alert(1)</script> and a control \x07 char
"""


def read(data: bytes):
    return docx.Document(io.BytesIO(data))


def test_headings_tables_lists_code():
    d = read(markdown_to_docx(MD, title="RCA"))
    assert d.core_properties.title == "RCA"
    heads = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert heads == [("Heading 1", "RCA: checkout latency"), ("Heading 2", "Summary"), ("Heading 2", "Timeline"),
                     ("Heading 2", "Actions")]
    summary = next(p for p in d.paragraphs if p.text.startswith("The pool"))
    assert summary.text == ("The pool was exhausted after db_pool_max was lowered. "
                            "See runbook (https://wiki.example/rb).")
    assert any(r.bold and r.text == "exhausted" for r in summary.runs)
    assert any(r.font.name == "Courier New" and r.text == "db_pool_max" for r in summary.runs)
    (table,) = d.tables
    assert [[c.text for c in row.cells] for row in table.rows] == [["Time (UTC)", "Event"], ["14:02", "paged"],
                                                                  ["14:10", "rolled back"]]
    assert table.rows[0].cells[0].paragraphs[0].runs[0].bold
    styles = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("List")]
    assert styles == [("List Bullet", "Raise the pool"), ("List Bullet 2", "and alert on it"),
                      ("List Bullet", "Add a canary"), ("List Number", "first"), ("List Number", "second")]
    code = next(p for p in d.paragraphs if "kubectl" in p.text)
    assert code.text == "kubectl rollout undo deploy/checkout" and code.runs[0].font.name == "Courier New"
    quote = next(p for p in d.paragraphs if "blameless" in p.text)
    assert quote.style.name == "Quote"
    # raw HTML is literal text, control characters cannot break the XML
    tail = d.paragraphs[-1].text
    assert "<script>alert(1)</script>" in tail and "\x07" not in tail


def test_empty_and_odd_input():
    assert read(markdown_to_docx("")).paragraphs == []
    d = read(markdown_to_docx("text with a lone surrogate \udcff here"))
    assert d.paragraphs[0].text == "text with a lone surrogate \ufffd here"
