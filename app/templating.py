"""The template machinery every page goes through, made cheaper where it repeats itself.

* Templates' `url_for` remembers the links it built: a page builds the same dozen links on
  every request, and building one walks the URL map (about 20 µs; the site header alone has
  ten). A link depends only on its endpoint, its values and where the app is mounted (nothing
  in this app adds URL defaults per request), so a bounded cache keyed on those gives the text
  Flask would build. External links, anchors and schemes, and links built outside a request,
  are built as before.
* Each `{% from … import … %}` compares the page's globals with the imported template's, key by
  key through a `ChainMap` (about a hundred Python calls per import, every render). The
  environment below gives templates globals whose keys are a set, so that is one set operation.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Hashable, MutableMapping
from functools import lru_cache
from typing import Any

from flask import Flask, has_request_context, request
from flask.templating import Environment

#: Links with these keywords depend on more than the key below: always built afresh.
_UNCACHED_OPTIONS = frozenset({"_external", "_anchor", "_scheme", "_method"})


def install_link_cache(app: Flask, size: int = 4096) -> None:
    """Give the app's templates a `url_for` that remembers the links it built."""
    build: Callable[..., str] = app.url_for

    @lru_cache(maxsize=size)
    def remembered(
        script_root: str, blueprint: str | None, endpoint: str, values: tuple[Hashable, ...]
    ) -> str:
        return build(endpoint, **dict(values))  # type: ignore[arg-type]

    def url_for(endpoint: str, **values: Any) -> str:
        if not has_request_context() or not _UNCACHED_OPTIONS.isdisjoint(values):
            return build(endpoint, **values)
        # A relative endpoint (".case") names the current blueprint's view.
        blueprint = request.blueprint if endpoint.startswith(".") else None
        key = tuple(sorted(values.items()))
        try:
            return remembered(request.script_root, blueprint, endpoint, key)
        except TypeError:  # a value that cannot be a key (a list): build it afresh
            return build(endpoint, **values)

    app.jinja_env.globals["url_for"] = url_for


class _TemplateGlobals(ChainMap[str, Any]):
    """A template's globals over the environment's, whose `keys()` is a plain set."""

    def keys(self) -> set[str]:  # type: ignore[override]
        return set().union(*self.maps)


class TemplateEnvironment(Environment):
    """Flask's template environment, with `_TemplateGlobals` for each template."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _TemplateGlobals(d if d is not None else {}, self.globals)
