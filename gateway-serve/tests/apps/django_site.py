"""A one-file Django 5.2 site for gateway-serve's tests: a hello view, a
CSRF-protected form, a multipart upload and a raw-body view; no database."""
import hashlib

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="tests-only-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    INSTALLED_APPS=[],
    DATABASES={},
    DATA_UPLOAD_MAX_MEMORY_SIZE=None,
)

import django  # noqa: E402

django.setup()

from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


def hello(request):
    return HttpResponse("Hello from Django", content_type="text/plain")


def form(request):
    if request.method == "POST":
        return HttpResponse("thanks, " + request.POST.get("name", ""), content_type="text/plain")
    token = get_token(request)
    return HttpResponse(
        '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="%s">'
        '<input name="name"></form>' % token
    )


@csrf_exempt
def upload(request):
    f = request.FILES["file"]
    digest = hashlib.sha256()
    for chunk in f.chunks():
        digest.update(chunk)
    return JsonResponse({"name": f.name, "size": f.size, "sha256": digest.hexdigest()})


@csrf_exempt
def body(request):
    data = request.body
    return JsonResponse({"length": len(data), "sha256": hashlib.sha256(data).hexdigest()})


urlpatterns = [path("", hello), path("form", form), path("upload", upload), path("body", body)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
