"""The pep3333 test apps wrapped in wsgiref.validate.validator, with its warnings
turned into errors, so a violation on either side is an exception (a 500)."""
import os
import sys
import warnings
from wsgiref.validate import validator

sys.path.insert(0, os.path.dirname(__file__))
import pep3333  # noqa: E402

warnings.simplefilter("error")

environ_app = validator(pep3333.environ_app)
lazy_app = validator(pep3333.lazy_app)
write_app = validator(pep3333.write_app)
list_app = validator(pep3333.list_app)
closing_app = validator(pep3333.closing_app)
file_app = validator(pep3333.file_app)
hello = validator(pep3333.hello)


def _read_n(environ, start_response):
    # The validator insists on exactly one argument to read() and readline().
    inp = environ["wsgi.input"]
    first = inp.readline(100)
    rest = inp.read(1000)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [first, b"|", rest]


input_app = validator(_read_n)
