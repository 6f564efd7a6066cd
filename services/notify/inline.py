"""E-mail templates with their CSS inlined once per template and brand, not once per message.

Mail clients ignore <style>, so every element needs its styles in a style attribute. Running
css-inline on each rendered message parses and rewrites every e-mail; but the data a message
adds is escaped text and attribute values, never elements, so which styles land on which
element depends only on the template (and the brand colours in its CSS). So this module inlines
the template source itself:

1. flatten it: `{% extends %}`, its blocks and `{% include %}`s become one source, each block
   and include wrapped in `{% if true %}..{% endif %}` so that Jinja trims whitespace around
   them exactly as it did around the tags they replace;
2. render the <style> element with the brand alone, so the CSS holds real colours;
3. hide the Jinja syntax from the HTML parser: statements become comments (a comment stays in
   place inside tables, where the parser would move text), expressions become private-use
   markers, and then css-inline adds the styles and drops the <style> element;
4. put the Jinja syntax back, check that every piece came back once and in order, and compile.

What the CSS may use is therefore limited to what a template alone decides: element, class,
descendant and child selectors. A rule that depends on how many times a loop runs
(:first-child, :nth-*, siblings) or a class that Jinja decides inside a tag is refused when
the template is loaded, never silently inlined wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import css_inline
from jinja2 import Environment, Template

_TAG = re.compile(r"\{%-?\s*(\w+)(.*?)-?%\}", re.S)
_SYNTAX = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S | re.I)
_QUOTED = re.compile(r"""\s*['"]([^'"]+)['"]\s*$""")
_MARK = "\ue000{}\ue001"
_COMMENT = "<!--jinja:{}-->"
_BY_LOOPS = re.compile(r":(first|last|nth|only)-|:empty|[+~]")
_DECIDED_IN_TAG = re.compile(r"""\b(class|style)\s*=\s*(["'])[^"']*(\{%|\{\{)""")
_inliner = css_inline.CSSInliner(keep_style_tags=False)


def flatten(name: str, source_of: Callable[[str], str]) -> str:
    """The template `name` as one source: its parent's blocks filled in, its includes in place."""
    return _TAG.sub(lambda m: _include(m, source_of, name), _extend(name, source_of, {}))


def _extend(name: str, source_of: Callable[[str], str], children: dict[str, str]) -> str:
    """`name` with its blocks replaced by `children`'s (a child's blocks win over its parent's)."""
    source = source_of(name)
    if "{% raw" in source or "super()" in source:
        raise ValueError(f"{name}: raw blocks and super() cannot be flattened")
    first = _TAG.search(source)
    if first and first.group(1) == "extends":
        parent = _QUOTED.match(first.group(2))
        if parent is None:
            raise ValueError(f"{name}: only `extends` with a literal name can be flattened")
        return _extend(parent.group(1), source_of, dict(_blocks(source[first.end():], name)) | children)
    return _fill(source, children, name)


def _blocks(source: str, name: str) -> list[tuple[str, str]]:
    """(block name, body with its own tags as `{% if true %}` wrappers) of each top-level block."""
    found, depth, start, current = [], 0, 0, ""
    for m in _TAG.finditer(source):
        if m.group(1) == "block":
            if depth == 0:
                current, start = m.group(2).split()[0], m.start()
            depth += 1
        elif m.group(1) == "endblock":
            depth -= 1
            if depth == 0:
                found.append((current, _fill(source[start : m.end()], {}, name)))
    if depth:
        raise ValueError(f"{name}: unbalanced blocks")
    return found


def _fill(source: str, children: dict[str, str], name: str) -> str:
    """Replace each top-level block by the child's version (or keep its own body), wrapped."""
    out, depth, start, last, current = [], 0, 0, 0, ""
    for m in _TAG.finditer(source):
        if m.group(1) == "block":
            if depth == 0:
                current, start = m.group(2).split()[0], m.start()
                out.append(source[last:start])
            depth += 1
        elif m.group(1) == "endblock":
            depth -= 1
            if depth == 0:
                own = source[start : m.end()]
                body = children.get(current)
                if body is None:
                    open_tag = _TAG.match(own)
                    body = "{% if true %}" + _fill(own[open_tag.end() : own.rindex("{%")], {}, name) + "{% endif %}"  # type: ignore[union-attr]
                out.append("{% if true %}" + body + "{% endif %}")
                last = m.end()
    if depth:
        raise ValueError(f"{name}: unbalanced blocks")
    out.append(source[last:])
    return "".join(out)


def _include(m: re.Match[str], source_of: Callable[[str], str], name: str) -> str:
    if m.group(1) != "include":
        return m.group(0)
    target = _QUOTED.match(m.group(2))
    if target is None:
        raise ValueError(f"{name}: only `include` with a literal name can be flattened")
    included = flatten(target.group(1), source_of)
    if included.startswith("\n"):  # trim_blocks would eat it after the wrapper, not after an include
        raise ValueError(f"{target.group(1)}: an included template may not start with a newline")
    return "{% if true %}" + included + "{% endif %}"


def inline_source(source: str, env: Environment, context: dict[str, object]) -> str:
    """A flattened template source with the CSS of its <style> element inlined on its elements;
    `context` renders the <style> element (the brand), and nothing else."""
    if _DECIDED_IN_TAG.search(source):
        raise ValueError("a class or style attribute holds Jinja syntax: its styles cannot be inlined once")

    def css(m: re.Match[str]) -> str:
        rules = env.from_string(m.group(2)).render(**context)
        selectors = " ".join(re.findall(r"([^{}]+)\{", rules))
        if _BY_LOOPS.search(selectors):
            raise ValueError(f"a selector depends on the rendered structure: {selectors!r}")
        return m.group(1) + rules + m.group(3)

    source = _STYLE.sub(css, source)
    pieces: list[str] = []

    def hide(m: re.Match[str]) -> str:
        pieces.append(m.group(0))
        index = len(pieces) - 1
        return (_COMMENT if m.group(0).startswith("{%") or m.group(0).startswith("{#") else _MARK).format(index)

    inlined = _inliner.inline(_SYNTAX.sub(hide, source))
    order = [int(a or b) for a, b in re.findall("<!--jinja:(\\d+)-->|\ue000(\\d+)\ue001", inlined)]
    if order != list(range(len(pieces))):
        raise ValueError("the HTML parser moved template syntax; the template cannot be inlined once")
    hidden = _SYNTAX.sub(lambda m: "\ue002", source)  # the source with each piece as one mark, in order
    following = {i: after for i, after in enumerate(hidden.split("\ue002")[1:])}
    for m in re.finditer("<!--jinja:(\\d+)-->\\s*<(tbody|tr|html|head|body)[\\s>]", inlined):
        if not re.match(f"\\s*<{m.group(2)}[\\s>]", following[int(m.group(1))]):
            # the parser implied an element after a statement: a loop would repeat it
            raise ValueError(f"the HTML parser implied <{m.group(2)}> after a template statement; write it out")
    restored = re.sub(r"<!--jinja:(\d+)-->", lambda m: pieces[int(m.group(1))], inlined)
    return re.sub("\ue000(\\d+)\ue001", lambda m: pieces[int(m.group(1))], restored)


def inlined_template(env: Environment, name: str, context: dict[str, object]) -> Template:
    """The template `name`, flattened, its CSS inlined for `context` (the brand), compiled."""
    assert env.loader is not None
    source = flatten(name, lambda n: env.loader.get_source(env, n)[0])  # type: ignore[union-attr]
    return env.from_string(inline_source(source, env, context))
