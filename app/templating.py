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
* A page's constant texts, `{{ _("…") }}`, are translated when the template is compiled, once
  per language, instead of on every render: each call cost about twenty Python calls, and a
  page has dozens. The app's environment hands each template it loads to the environment of
  the current language (a Jinja overlay sharing its loader, globals and filters), which
  compiles the template with those texts as literals. Texts with values, `_("… %(x)s", x=…)`,
  and plurals are still translated when the page is rendered.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Hashable, MutableMapping
from functools import lru_cache
from typing import Any

from flask import Flask, has_app_context, has_request_context, request
from flask.templating import Environment
from flask_babel import force_locale
from jinja2 import Template, nodes
from jinja2.visitor import NodeTransformer

from app.i18n import catalogue, current_locale

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
    """Flask's template environment, with `_TemplateGlobals` for each template and each
    template's constant texts compiled in the current language (see the module's notes)."""

    #: The language this environment compiles its templates in: None for the app's own
    #: environment, which only hands templates on to one of these.
    compiled_locale: str | None = None
    #: That language's catalogue, as `app.i18n.catalogue` returns it.
    compiled_catalogue: Any = None

    def __init__(self, app: Flask, **options: Any) -> None:
        super().__init__(app, **options)
        #: Per language, its environment (shared with them: Jinja's overlays copy attributes).
        self.by_locale: dict[str, TemplateEnvironment] = {}

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _TemplateGlobals(d if d is not None else {}, self.globals)

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Template:
        # Jinja's one way in for templates by name: pages, their layouts, includes and imports.
        if self.compiled_locale is None and has_app_context():
            try:
                locale = current_locale()
            except RuntimeError:  # no request to choose a language from, and none forced
                return super()._load_template(name, globals)  # translated on each render
            return self.for_locale(locale)._load_template(name, globals)
        return super()._load_template(name, globals)

    def for_locale(self, locale: str) -> TemplateEnvironment:
        """The environment compiling templates in `locale`, made on its first page."""
        found = self.by_locale.get(locale)
        if found is None:
            # A cache of its own: the templates it holds differ from every other language's.
            found = self.overlay(cache_size=getattr(self.cache, "capacity", 400))
            found.compiled_locale = locale
            with force_locale(locale):
                found.compiled_catalogue = catalogue()
            self.by_locale[locale] = found
        return found

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        # A bytecode cache would hand one language's compiled texts to another.
        if self.compiled_catalogue is not None and self.bytecode_cache is None:
            _ConstantTexts(self, self.compiled_catalogue).visit(tree)
        return tree


class _ConstantTexts(NodeTransformer):
    """Replace each `_("constant")` with its translation, as the template's `_` would give it:
    safe text where the page escapes (the catalogue's own words), plain text elsewhere."""

    def __init__(self, environment: Environment, translations: Any) -> None:
        self.environment = environment
        self.translations = translations

    def visit_Call(self, node: nodes.Call) -> nodes.Node:  # Jinja calls it by the node type
        self.generic_visit(node)
        if not (
            isinstance(node.node, nodes.Name)
            and node.node.name == "_"
            and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const)
            and isinstance(node.args[0].value, str)
            and not node.kwargs
            and node.dyn_args is None
            and node.dyn_kwargs is None
        ):
            return node
        text = str(self.translations.ugettext(node.args[0].value))
        if "%" in text:  # the template's `_` formats such a text even without values
            try:
                text = text % {}
            except (KeyError, TypeError, ValueError):
                return node  # it fails on every render: leave that to the render, as before
        constant = nodes.MarkSafeIfAutoescape(
            nodes.Const(text, lineno=node.lineno), lineno=node.lineno
        )
        return constant.set_environment(self.environment)
