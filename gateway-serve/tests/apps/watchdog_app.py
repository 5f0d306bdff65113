"""A WSGI app for the --timeout tests: / answers with the process id, /busy runs
Python for 3 s (the GIL still changes hands), /wedge holds the GIL in a C call for
60 s (a wedged interpreter)."""
import ctypes
import os
import time


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/busy":
        until = time.monotonic() + 3
        while time.monotonic() < until:
            pass
    elif path == "/wedge":
        # PyDLL keeps the GIL during the call, unlike CDLL: nothing else in this
        # interpreter runs until libc's sleep returns.
        ctypes.PyDLL(None).sleep(60)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
