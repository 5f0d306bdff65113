"""The WSGI benchmark apps: `hello`, a bare callable, and `flask_app`, Flask's hello
world; both answer 13 bytes at `/`. Used by bench/wsgi.sh on every server."""
from flask import Flask


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, World!"]


flask_app = Flask(__name__)


@flask_app.route("/")
def index():
    return "Hello, World!"
