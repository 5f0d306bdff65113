"""WSGI apps for gateway-wsgi's in-process tests: one per PEP 3333 point.

Results that the server would swallow (an exception's identity, close() counts)
are kept in STATE and read back through the `probe` app.
"""
import io
import json
import os
import sys
import threading

STATE = {}
os.environ["HTTP_LEAKED_FROM_OS"] = "x"


def _query(environ):
    out = {}
    for pair in environ.get("QUERY_STRING", "").split("&"):
        if "=" in pair:
            k, v = pair.split("=", 1)
            out[k] = v
    return out


def _json(start_response, value, status="200 OK"):
    body = json.dumps(value).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def probe(environ, start_response):
    key = _query(environ)["key"]
    return _json(start_response, STATE.get(key))


def environ_app(environ, start_response):
    described = {}
    for k, v in environ.items():
        if isinstance(v, str):
            described[k] = {"type": "str", "value": v}
        else:
            described[k] = {"type": type(v).__name__, "value": repr(v) if isinstance(v, (bool, tuple)) else None}
    leaked = [k for k in os.environ if k in environ]
    return _json(start_response, {"environ": described, "leaked": leaked,
                                  "key_types": sorted({type(k).__name__ for k in environ})})


def input_app(environ, start_response):
    inp = environ["wsgi.input"]
    results = []
    try:
        for op in _query(environ)["ops"].split(","):
            name, _, arg = op.partition("-")
            if name == "iter":
                results.append([line.decode("latin-1") for line in inp])
            elif name == "readlines":
                got = inp.readlines(int(arg)) if arg else inp.readlines()
                results.append([line.decode("latin-1") for line in got])
            else:
                method = getattr(inp, name)
                got = method(int(arg)) if arg else method()
                results.append(got.decode("latin-1"))
    except Exception as e:
        results.append("raised " + type(e).__name__)
    return _json(start_response, results)


def lazy_app(environ, start_response):
    def gen():
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("X-Lazy", "yes")])
        yield b"lazy "
        yield b"body"
    return gen()


def exc_before_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise ValueError("before the head")
    except ValueError:
        start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"replaced"]


def exc_after_app(environ, start_response):
    key = _query(environ)["key"]
    def gen():
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first"
        try:
            raise ValueError("after the head")
        except ValueError as original:
            try:
                start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
                STATE[key] = "start_response returned"
            except ValueError as again:
                STATE[key] = {"same": again is original, "has_tb": again.__traceback__ is not None}
                raise
    return gen()


def twice_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"second call accepted"]
    except Exception as e:
        return [("raised " + type(e).__name__).encode()]


def write_app(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written ")
    return [b"then ", b"returned"]


def bad_header_app(environ, start_response):
    kind = _query(environ)["kind"]
    headers = {"nonlatin": [("X-Bad", "\u0100")], "crlf": [("X-Bad", "a\r\nX-Injected: 1")],
               "bytes": [(b"X-Bad", b"1")], "tuple": (("X-Bad", "1"),),
               "latin": [("Content-Type", "text/plain"), ("X-Latin", "caf\xe9")],
               "badstatus": [("Content-Type", "text/plain")]}[kind]
    status = {"badstatus": "OK"}.get(kind, "200 OK")
    start_response(status, headers)
    return [b"sent anyway"]


def list_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    n = int(_query(environ).get("n", "1"))
    return [b"part%d " % i for i in range(n)]


class Closing:
    """An iterable whose close() is counted under STATE[key]."""

    def __init__(self, key, chunks, fail_at=None):
        self.key, self.chunks, self.fail_at = key, list(chunks), fail_at
        STATE[key] = 0

    def __iter__(self):
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("mid-body failure")
            yield chunk

    def close(self):
        STATE[self.key] += 1


def closing_app(environ, start_response):
    q = _query(environ)
    start_response("200 OK", [("Content-Type", "text/plain")])
    fail_at = int(q["fail_at"]) if "fail_at" in q else None
    return Closing(q["key"], [b"a" * 10, b"b" * 10, b"c" * 10], fail_at)


def empty_first_app(environ, start_response):
    def gen():
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b""
        try:
            raise KeyError("replace me")
        except KeyError:
            start_response("503 Replaced", [("Content-Type", "text/plain")], sys.exc_info())
        yield b"after an empty chunk"
    return gen()


def raise_app(environ, start_response):
    return 1 / 0


def file_app(environ, start_response):
    q = _query(environ)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    if q.get("kind") == "bytesio":
        f = io.BytesIO(b"from a BytesIO " * 1000)
    else:
        f = open(q["path"], "rb")
        f.seek(int(q.get("skip", "0")))
    STATE[q["key"]] = f
    return environ["wsgi.file_wrapper"](f, 4096)


def file_closed(environ, start_response):
    f = STATE[_query(environ)["key"]]
    return _json(start_response, f.closed)


_local = threading.local()


def local_app(environ, start_response):
    _local.count = getattr(_local, "count", 0) + 1
    return _json(start_response, {"count": _local.count, "thread": threading.get_ident()})


def slow_input_app(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, World!"]


class ThreadedStream:
    """A generator body that notes the thread of each step; close() is counted."""

    def __init__(self, key, n):
        self.key, self.n = key, n
        STATE[key] = {"threads": [], "closed": 0}

    def __iter__(self):
        for i in range(self.n):
            STATE[self.key]["threads"].append(threading.get_ident())
            yield b"chunk%d " % i

    def close(self):
        STATE[self.key]["closed"] += 1


def threaded_stream_app(environ, start_response):
    q = _query(environ)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ThreadedStream(q["key"], int(q.get("n", "3")))
