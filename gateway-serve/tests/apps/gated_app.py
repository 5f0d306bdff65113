"""A WSGI app whose import writes its pid to $LOADING_FILE, then waits (at most
30 s) for $GO_FILE; its atexit handler appends its pid to $ATEXIT_FILE. For the
test of a signal that arrives while the app loads."""
import atexit
import os
import time


def _at_exit():
    with open(os.environ["ATEXIT_FILE"], "a") as f:
        f.write(f"{os.getpid()}\n")


atexit.register(_at_exit)
with open(os.environ["LOADING_FILE"] + ".part", "w") as f:
    f.write(str(os.getpid()))
os.rename(os.environ["LOADING_FILE"] + ".part", os.environ["LOADING_FILE"])
_deadline = time.monotonic() + 30
while not os.path.exists(os.environ["GO_FILE"]) and time.monotonic() < _deadline:
    time.sleep(0.01)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
