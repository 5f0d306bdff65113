"""A WSGI app that registers an atexit handler writing $ATEXIT_FILE, and prints
to stdout without a newline, for the test that the bridge runs both at exit."""
import atexit
import os
import sys


def _at_exit():
    with open(os.environ["ATEXIT_FILE"], "w") as f:
        f.write("ran")


atexit.register(_at_exit)
sys.stdout.write("buffered without a newline")


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
