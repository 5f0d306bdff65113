"""A WSGI app that sends the request body back, with the client's address and port,
the scheme, Host, X-Forwarded-For and the body framing it was given in headers, for
the tests behind nginx."""


def application(environ, start_response):
    stream = environ["wsgi.input"]
    chunks = []
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
    body = b"".join(chunks)
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(len(body))),
            ("X-Echo-Remote-Port", environ.get("REMOTE_PORT", "-")),
            ("X-Echo-Remote-Addr", environ.get("REMOTE_ADDR", "-")),
            ("X-Echo-Scheme", environ["wsgi.url_scheme"]),
            ("X-Echo-Host", environ.get("HTTP_HOST", "-")),
            ("X-Echo-Forwarded-For", environ.get("HTTP_X_FORWARDED_FOR", "-")),
            ("X-Echo-Transfer-Encoding", environ.get("HTTP_TRANSFER_ENCODING", "-")),
            ("X-Echo-Content-Length", environ.get("CONTENT_LENGTH", "-")),
        ],
    )
    return [body]
