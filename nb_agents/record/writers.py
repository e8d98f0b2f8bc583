"""The three export writers (.ipynb via nbformat, .md, self-contained .html) over `export.Part`s.

Separate from `export.py` (which turns sources into Parts) so each format reads top to
bottom. Everything written is self-contained and inert: images are embedded (cell attachments,
display_data, data: URIs); agent and user text becomes sanitized HTML (`view.sanitize.markdown_to_html`)
or, in `.md` and `.ipynb`, markdown whose raw HTML is escaped and whose images are links
(`view.sanitize.inert_markdown`), so a shared file neither runs nor loads anything.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from ..view.sanitize import inert_markdown, markdown_to_html
from .parts import Part, bash_to_python, input_json, tool_summary

__all__ = ["write_html", "write_ipynb", "write_markdown"]

_ROLE = {"user": "You", "agent": "Agent"}


def _fence(text: str, lang: str = "") -> str:
    # A fence longer than any backtick run inside, so tool output cannot close it early.
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip(chr(10))}\n{ticks}"


def _ext(mime: str) -> str:
    return {"image/jpeg": "jpg", "image/gif": "gif", "image/svg+xml": "svg"}.get(mime, "png")


def _version() -> str:
    from .._version import __version__

    return __version__


# -- .ipynb ---------------------------------------------------------------------------------


def _markdown_cell(text: str, images: list[tuple[str, str]], stem: str) -> Any:
    from nbformat import v4

    attachments = {}
    lines = [text] if text else []
    for i, (mime, data) in enumerate(images):
        name = f"{stem}-{i}.{_ext(mime)}"
        attachments[name] = {mime: data}
        lines.append(f"![{name}](attachment:{name})")
    cell = v4.new_markdown_cell("\n\n".join(lines))
    if attachments:
        cell["attachments"] = attachments
    return cell


def _tool_cell(part: Part, stem: str) -> Any:
    from nbformat import v4

    if part.name != "bash":
        body = f"<details><summary>🔧 {html.escape(tool_summary(part))}</summary>\n\n{_fence(input_json(part), 'json')}"
        if part.output:
            body += f"\n\n{'**Error**' if part.is_error else 'Result'}:\n\n{_fence(part.output)}"
        return _markdown_cell(body + "\n\n</details>", part.images, stem)
    command = str(part.input.get("command", ""))
    code = bash_to_python(command)
    outputs = []
    if part.output:
        outputs.append(v4.new_output("stream", name="stderr" if part.is_error else "stdout", text=part.output))
    for mime, data in part.images:
        outputs.append(v4.new_output("display_data", data={mime: data, "text/plain": "<image>"}))
    source = code if code is not None else "%%bash\n" + command
    cell = v4.new_code_cell(source, outputs=outputs)
    cell.metadata["nb_agents"] = {"tool": "bash", "python": code is not None, "is_error": part.is_error}
    return cell


def write_ipynb(parts: list[Part], path: Path, *, title: str, metadata: dict[str, Any]) -> None:
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.update(metadata)
    nb.cells.append(v4.new_markdown_cell(f"# {_one_line(title)}\n\n_Exported by nb_agents {_version()}._"))
    for i, part in enumerate(parts):
        stem = f"part{i}"
        if part.kind == "tool":
            nb.cells.append(_tool_cell(part, stem))
        else:
            text = inert_markdown(part.text)
            head = f"**{_ROLE[part.kind]}:**\n\n{text}" if part.kind in _ROLE else text
            nb.cells.append(_markdown_cell(head, part.images, stem))
    nbformat.validate(nb)
    nbformat.write(nb, str(path))


# -- .md -------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """A title or name inside markdown: one line, inert."""
    return inert_markdown(" ".join(str(text).split()))


def _md_images(part: Part) -> list[str]:
    alt = re.sub(r"[\[\]\\<>`*_]", "", _one_line(part.name)) if part.kind == "image" and part.name else "image"
    return [f"![{alt}](data:{mime};base64,{data})" for mime, data in part.images]


def _md_part(part: Part) -> str:
    if part.kind in _ROLE:
        return "\n\n".join([f"**{_ROLE[part.kind]}:**", inert_markdown(part.text), *_md_images(part)]).rstrip()
    if part.kind == "image":
        return "\n\n".join(_md_images(part))
    if part.name == "bash":
        command = str(part.input.get("command", ""))
        code = bash_to_python(command)
        chunks = [_fence(code, "python") if code is not None else _fence(command, "bash")]
    else:
        chunks = [f"<details><summary>🔧 {html.escape(tool_summary(part))}</summary>", "",
                  _fence(input_json(part), "json")]
    if part.output:
        chunks.append(("**Error:**\n\n" if part.is_error else "") + _fence(part.output, "text"))
    chunks.extend(_md_images(part))
    if part.name != "bash":
        chunks.append("</details>")
    return "\n\n".join(chunks)


def write_markdown(parts: list[Part], path: Path, *, title: str, metadata: dict[str, Any]) -> None:
    body = [f"# {_one_line(title)}", f"_Exported by nb_agents {_version()}._"]
    body.extend(_md_part(p) for p in parts)
    if metadata:
        # `<` and `>` only occur inside JSON strings, where \u escapes keep the JSON: no `-->` can close the comment
        meta = json.dumps(metadata, indent=2).replace("<", "\\u003c").replace(">", "\\u003e")
        body.append("<!-- nb_agents provenance\n" + meta + "\n-->")
    path.write_text("\n\n".join(body) + "\n", encoding="utf-8")


# -- .html -----------------------------------------------------------------------------------

_CSS = """body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
.msg{margin:1rem 0;padding:.5rem 1rem;border-radius:8px}.user{background:#eef4ff}.agent{background:#f6f6f6}
.role{font-weight:600;font-size:.85em;color:#555}details{margin:.5rem 0;border:1px solid #ddd;border-radius:6px;
padding:.3rem .7rem}pre{background:#f4f4f4;padding:.5rem;overflow-x:auto;white-space:pre-wrap}
.error{color:#a00}img{max-width:100%}"""


def _img_tags(part: Part) -> str:
    return "".join(f'<img src="data:{html.escape(mime)};base64,{html.escape(data)}" alt="{html.escape(part.name)}">'
                   for mime, data in part.images if mime.startswith("image/") and mime != "image/svg+xml")


def _html_part(part: Part) -> str:
    if part.kind in _ROLE:
        return (f'<div class="msg {part.kind}"><div class="role">{_ROLE[part.kind]}</div>'
                f"{markdown_to_html(part.text)}{_img_tags(part)}</div>")
    if part.kind == "image":
        return f'<div class="msg">{_img_tags(part)}</div>'
    command = str(part.input.get("command", "")) if part.name == "bash" else None
    shown = command if command is not None else input_json(part)
    result = ""
    if part.output:
        cls = ' class="error"' if part.is_error else ""
        result = f"<pre{cls}>{html.escape(part.output)}</pre>"
    return (f"<details><summary>🔧 {html.escape(tool_summary(part))}</summary>"
            f"<pre>{html.escape(shown)}</pre>{result}{_img_tags(part)}</details>")


def write_html(parts: list[Part], path: Path, *, title: str, metadata: dict[str, Any]) -> None:
    meta = html.escape(json.dumps(metadata), quote=True) if metadata else ""
    head = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="generator" content="nb_agents {_version()}">'
            + (f'<meta name="nb_agents-provenance" content="{meta}">' if meta else "")
            + f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>")
    body = "\n".join(_html_part(p) for p in parts)
    path.write_text(f"{head}\n{body}\n</body></html>\n", encoding="utf-8")
