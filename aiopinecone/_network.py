"""Network options of the session the client creates: proxy, environment, TLS, aiohttp tracing.

Checked once, when the client is built (:func:`build_network`); applied once, when the session
is created (``Transport.session``). Nothing here runs per request. A session passed by the
caller is used as given: these options are then refused, not silently ignored.

**The clear-text rule.** The API key travels in a header. Over ``https`` a proxy only sees an
encrypted tunnel (``CONNECT``). A request to a plain ``http://`` origin, though, is handed to the
proxy as it is, key included; so a plain-http origin (only allowed for loopback hosts, or with
``allow_insecure_http=True``) may go through a proxy only when that proxy is itself on loopback
(:meth:`Network.clear_text_proxy` names the offending proxy, explicit or from the environment).
"""

from __future__ import annotations

import logging
import os
import ssl as _ssl
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

import aiohttp
import attrs
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from .exceptions import ValidationError

__all__ = ["Network", "build_network", "check_extra_headers", "source_tag_field"]

_log: Final = logging.getLogger("aiopinecone")
_RESERVED_HEADERS: Final = frozenset({"api-key", "x-pinecone-api-version", "authorization"})

SslOption = _ssl.SSLContext | str | os.PathLike[str] | bool | None


def _is_loopback(hostname: str) -> bool:
    from ._router import is_loopback  # the one home of the loopback rule

    return is_loopback(hostname)


@attrs.frozen(kw_only=True)
class Network:
    """What the session we create is built with (see :func:`build_network`)."""

    proxy: str | None = None
    """The proxy URL without credentials."""
    proxy_credentials: tuple[str, str] | None = attrs.field(default=None, repr=False)
    """``(login, password)`` for the proxy (sent in the URL given to aiohttp: its
    ``proxy_auth=`` is deprecated)."""
    trust_env: bool = False
    ssl: _ssl.SSLContext | bool = True
    """What ``TCPConnector(ssl=...)`` gets: ``True`` default verification, a context, ``False``."""
    trace_configs: tuple[aiohttp.TraceConfig, ...] = ()

    @property
    def is_default(self) -> bool:
        """Nothing asked: the session is built exactly as without network options."""
        return (
            self.proxy is None
            and not self.trust_env
            and self.ssl is True
            and not self.trace_configs
        )

    def session_options(self) -> dict[str, Any]:
        """Keyword arguments for ``aiohttp.ClientSession``."""
        options: dict[str, Any] = {}
        if self.proxy is not None:
            options["proxy"] = self.proxy_url_with_credentials()
        if self.trust_env:
            options["trust_env"] = True
        if self.trace_configs:
            options["trace_configs"] = list(self.trace_configs)
        return options

    def verify_setting(self) -> _ssl.SSLContext | bool | None:
        """The same TLS choice for another HTTP library (httpx's ``verify``); ``None``: default."""
        return None if self.ssl is True else self.ssl

    def proxy_url_with_credentials(self) -> str | None:
        """The proxy URL with its credentials in it (for another HTTP library); never log it."""
        if self.proxy is None or self.proxy_credentials is None:
            return self.proxy
        parts = urlsplit(self.proxy)
        login, password = self.proxy_credentials
        userinfo = f"{quote(login, safe='')}:{quote(password, safe='')}@"
        return parts._replace(netloc=userinfo + parts.netloc).geturl()

    def clear_text_proxy(self, origin: str) -> str | None:
        """The proxy a request to the plain-http ``origin`` would hand the API key to in clear
        text, when that proxy is not on loopback; ``None`` when the request would not."""
        if not origin.lower().startswith("http://"):
            return None
        proxy: str | None = self.proxy
        if proxy is None and self.trust_env:
            try:
                found, _ = get_env_proxy_for_url(URL(origin))
            except LookupError:
                return None
            proxy = str(found.with_user(None))
        if proxy is None:
            return None
        host = urlsplit(proxy).hostname or ""
        return None if _is_loopback(host) else proxy


def build_network(
    *,
    proxy: str | None = None,
    proxy_auth: aiohttp.BasicAuth | tuple[str, str] | None = None,
    trust_env: bool = False,
    ssl: SslOption = None,
    trace_configs: Iterable[aiohttp.TraceConfig] | None = None,
) -> Network:
    """Check the network options and build them once (``ValidationError`` when wrong)."""
    if not isinstance(trust_env, bool):
        raise ValidationError(f"trust_env must be True or False, got {trust_env!r}")
    proxy_url, auth = _proxy(proxy, proxy_auth)
    configs: tuple[aiohttp.TraceConfig, ...] = ()
    if trace_configs is not None:
        configs = tuple(trace_configs)
        for config in configs:
            if not isinstance(config, aiohttp.TraceConfig):
                raise ValidationError(
                    f"trace_configs must hold aiohttp.TraceConfig objects, got "
                    f"{type(config).__name__}"
                )
    return Network(
        proxy=proxy_url,
        proxy_credentials=auth,
        trust_env=trust_env,
        ssl=_ssl_option(ssl),
        trace_configs=configs,
    )


def _proxy(proxy: object, proxy_auth: object) -> tuple[str | None, tuple[str, str] | None]:
    auth: tuple[str, str] | None
    if proxy_auth is None:
        auth = None
    elif isinstance(proxy_auth, aiohttp.BasicAuth):
        auth = (proxy_auth.login, proxy_auth.password)
    elif (
        isinstance(proxy_auth, tuple)
        and len(proxy_auth) == 2
        and all(isinstance(part, str) for part in proxy_auth)
    ):
        auth = (proxy_auth[0], proxy_auth[1])
    else:
        raise ValidationError("proxy_auth must be a (login, password) tuple or aiohttp.BasicAuth")
    if auth is not None and ":" in auth[0]:
        raise ValidationError("the proxy login cannot contain ':' (RFC 7617)")
    if proxy is None:
        if auth is not None:
            raise ValidationError("proxy_auth needs proxy= (the proxy to authenticate to)")
        return None, None
    if not isinstance(proxy, str) or not proxy.strip():
        raise ValidationError("proxy must be a URL string such as http://proxy.example:3128")
    text = proxy.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError when the port is not a number
    except ValueError:
        raise ValidationError("proxy is not a valid URL (the value is not shown)") from None
    # Messages never quote the value: it may hold a password.
    if parts.scheme not in ("http", "https"):
        raise ValidationError(
            f"proxy must use http:// or https:// (aiohttp has no {parts.scheme}:// proxies)"
        )
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValidationError("proxy must be scheme://host[:port], with no path or query")
    if parts.username is not None or parts.password is not None:
        if auth is not None:
            raise ValidationError("give the proxy credentials once: in the URL or proxy_auth=")
        auth = (unquote(parts.username or ""), unquote(parts.password or ""))
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}", auth


def _ssl_option(value: object) -> _ssl.SSLContext | bool:
    if value is None or value is True:
        return True
    if value is False:
        _log.warning(
            "TLS certificate verification is OFF (ssl=False): anyone on the network path can "
            "impersonate the server and read the API key and every request; use ssl=<CA bundle "
            "path> for a private or TLS-inspecting CA instead"
        )
        return False
    if isinstance(value, _ssl.SSLContext):
        return value
    if isinstance(value, str | os.PathLike):
        path = os.fspath(value)
        try:
            if os.path.isdir(path):
                return _ssl.create_default_context(capath=path)
            return _ssl.create_default_context(cafile=path)
        except (OSError, _ssl.SSLError) as exc:
            raise ValidationError(
                f"ssl: cannot load the CA bundle {path!r}: {exc.strerror or exc}"
            ) from None
    raise ValidationError(
        "ssl must be an ssl.SSLContext, a CA bundle path, True (verify) or False (do not verify), "
        f"got {type(value).__name__}"
    )


def check_extra_headers(headers: object) -> dict[str, str]:
    """Extra headers for every request: strings, no line breaks, not the key or the version."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ValidationError(f"headers must be a mapping, got {type(headers).__name__}")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValidationError("headers must map strings to strings")
        if not name or any(ch in name for ch in ":\r\n ") or any(ch in value for ch in "\r\n\0"):
            raise ValidationError(f"header {name!r} has a bad name or value (line break?)")
        if name.lower() in _RESERVED_HEADERS:
            raise ValidationError(
                f"header {name!r} is set by the client (api_key=, api_version=); not in headers="
            )
        out[name] = value
    return out


def source_tag_field(source_tag: object) -> str:
    """``source_tag=<normalized>`` for the User-Agent, normalized as the official SDK does:
    lowercase, only ``[a-z0-9_ :]``, trimmed, runs of spaces as one underscore."""
    if not isinstance(source_tag, str):
        raise ValidationError(f"source_tag must be a string, got {type(source_tag).__name__}")
    tag = "".join(ch for ch in source_tag.lower() if ch in _TAG_CHARS)
    tag = "_".join(tag.split())
    if not tag:
        raise ValidationError(f"source_tag {source_tag!r} has no usable character ([a-z0-9_ :])")
    return f"source_tag={tag}"


_TAG_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_ :")
