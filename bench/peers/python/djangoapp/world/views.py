from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from common import ADDED_FORTUNE, new_random_number, queries_param, random_id

from .models import Fortune, World


def plaintext(request):
    return HttpResponse(b"Hello, World!", content_type="text/plain")


def json(request):
    return JsonResponse({"message": "Hello, World!"})


def _world() -> World:
    return World.objects.get(id=random_id())


def db(request):
    w = _world()
    return JsonResponse({"id": w.id, "randomNumber": w.randomnumber})


def queries(request):
    n = queries_param(request.GET.get("queries"))
    worlds = [_world() for _ in range(n)]  # one query per row
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds], safe=False)


def fortunes(request):
    items = list(Fortune.objects.all())
    items.append(Fortune(id=0, message=ADDED_FORTUNE))
    items.sort(key=lambda f: f.message)
    return render(request, "fortunes.html", {"fortunes": items})


def updates(request):
    n = queries_param(request.GET.get("queries"))
    worlds = [_world() for _ in range(n)]
    for w in worlds:
        w.randomnumber = new_random_number(w.randomnumber)
    # One UPDATE for the request (TechEmpower allows a bulk update); ids sorted so concurrent
    # requests lock rows in the same order.
    World.objects.bulk_update(sorted(worlds, key=lambda w: w.id), ["randomnumber"])
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds], safe=False)
