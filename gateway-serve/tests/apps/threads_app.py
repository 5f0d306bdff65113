"""A WSGI app that tells which thread runs it, for tests/wsgi_threads.rs.

/local counts requests in a threading.local; /stream streams a large generator
body, noting the thread of each step and counting close(); /report tells both.
"""
import json
import threading

_local = threading.local()
STREAM = {"threads": [], "closed": 0}


def _thread_name():
    # The OS name of the thread ("gateway-worker-0"): Python names threads it did
    # not start "Dummy-N".
    with open("/proc/self/task/%d/comm" % threading.get_native_id()) as comm:
        return comm.read().strip()


def _json(start_response, value):
    body = json.dumps(value).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


class Stream:
    def __init__(self, chunks, size):
        self.chunks, self.size = chunks, size

    def __iter__(self):
        for i in range(self.chunks):
            STREAM["threads"].append(_thread_name())
            yield bytes([65 + i % 26]) * self.size

    def close(self):
        STREAM["closed"] += 1


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/local":
        _local.count = getattr(_local, "count", 0) + 1
        return _json(start_response, {"count": _local.count, "thread": _thread_name(),
                                      "multithread": environ["wsgi.multithread"]})
    if path == "/stream":
        query = dict(p.split("=") for p in environ["QUERY_STRING"].split("&") if p)
        STREAM["threads"], STREAM["closed"] = [], 0
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Stream(int(query["chunks"]), int(query["size"]))
    if path == "/report":
        return _json(start_response, {"threads": sorted(set(STREAM["threads"])),
                                      "steps": len(STREAM["threads"]), "closed": STREAM["closed"]})
    return _json(start_response, "hello")
