"""The benchmark routes of bench/run.sh as a standard-library WSGI app, the Python
peer of bench/gateway-app: the same answers as the reference server's bench app.

- ``GET /``: ``Hello, World!`` (13 bytes, Content-Length),
- ``POST /echo``: the request body, back, with its Content-Length,
- ``GET /stream``: 1 MiB in 64 KiB chunks with no declared length (chunked),
- anything else: 404.

Served by gunicorn (``-k gthread -w 2 --threads 4``) and waitress (``--threads=4``)
as ``bench_app:application``.
"""

HELLO = b"Hello, World!"
STREAM_CHUNK = b"x" * (64 * 1024)
STREAM_CHUNKS = 16
TEXT = ("Content-Type", "text/plain")


def _stream():
    for _ in range(STREAM_CHUNKS):
        yield STREAM_CHUNK


def application(environ, start_response):
    """The WSGI entry point."""
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO", "")
    if method == "GET" and path == "/":
        start_response("200 OK", [TEXT, ("Content-Length", str(len(HELLO)))])
        return [HELLO]
    if method == "POST" and path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        start_response("200 OK", [TEXT, ("Content-Length", str(len(body)))])
        return [body]
    if method == "GET" and path == "/stream":
        start_response("200 OK", [TEXT])
        return _stream()
    start_response("404 Not Found", [TEXT, ("Content-Length", "9")])
    return [b"Not Found"]
