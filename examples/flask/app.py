"""The tutorial's app in Flask: hello world at / and a file upload form at /upload.

Serve it on the reference server with
``gateway-serve --wsgi examples/flask/app.py:app``; uploads go to ``$UPLOAD_DIR``
(default ``./uploads``). It does nothing server-specific: any WSGI server runs it.
"""
import os

from flask import Flask, jsonify, request
from werkzeug.utils import secure_filename

app = Flask(__name__)
app.config["UPLOAD_FOLDER"] = os.environ.get("UPLOAD_DIR", "uploads")
app.config["MAX_CONTENT_LENGTH"] = 100 * 1024 * 1024

FORM = """<!doctype html>
<title>Upload a file</title>
<h1>Upload a file</h1>
<form method="post" enctype="multipart/form-data">
  <input type="file" name="file">
  <input type="submit" value="Upload">
</form>
"""


@app.route("/")
def hello():
    return "Hello, World!"


@app.route("/upload", methods=["GET", "POST"])
def upload():
    if request.method == "GET":
        return FORM
    file = request.files.get("file")
    if file is None or file.filename == "":
        return jsonify(status="error", message="no file in the form field 'file'"), 400
    name = secure_filename(file.filename)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    file.save(os.path.join(app.config["UPLOAD_FOLDER"], name))
    return jsonify(status="ok", message="file uploaded")
