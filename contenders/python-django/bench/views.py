import random

import requests
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import Fortune, World

IO_TIMEOUT_S = 15  # upstream delays are at most 10 s; 15 s in every contender

# One pooled keep-alive client per worker process.
http = requests.Session()


def query_count(request):
    """TechEmpower's rule: missing or invalid means 1, clamped to 1..500."""
    try:
        n = int(request.GET.get("queries", "1"))
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def int_param(request, name, default, low, high):
    try:
        value = int(request.GET.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


def as_dict(world):
    return {"id": world.id, "randomNumber": world.randomnumber}


@require_GET
def health(request):
    return JsonResponse({"status": "ok"})


@require_GET
def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain")


@require_GET
def json_view(request):
    return JsonResponse({"message": "Hello, World!"})


@require_GET
def single_query(request):
    world = World.objects.get(id=random.randint(1, 10000))
    return JsonResponse(as_dict(world))


@require_GET
def multiple_queries(request):
    worlds = [
        World.objects.get(id=random.randint(1, 10000)) for _ in range(query_count(request))
    ]
    return JsonResponse([as_dict(w) for w in worlds], safe=False)


@require_GET
def fortunes(request):
    items = list(Fortune.objects.all())
    items.append(Fortune(id=0, message="Additional fortune added at request time."))
    items.sort(key=lambda f: f.message)
    return render(request, "fortunes.html", {"fortunes": items})


@require_GET
def updates(request):
    # Distinct ids, so every returned row is exactly what is persisted.
    ids = random.sample(range(1, 10001), query_count(request))
    worlds = []
    for wid in ids:
        world = World.objects.get(id=wid)
        world.randomnumber = random.randint(1, 10000)
        worlds.append(world)
    # One UPDATE ... CASE statement in one transaction, rows in id order so
    # that concurrent requests lock them in the same order (no deadlock).
    World.objects.bulk_update(sorted(worlds, key=lambda w: w.id), ["randomnumber"])
    return JsonResponse([as_dict(w) for w in worlds], safe=False)


@require_GET
def io(request):
    ms = int_param(request, "ms", 0, 0, 10_000)
    try:
        resp = http.get(
            f"{settings.BAKEOFF_UPSTREAM}/delay", params={"ms": ms}, timeout=IO_TIMEOUT_S
        )
        resp.raise_for_status()
    except requests.RequestException as exc:
        return JsonResponse({"error": f"upstream call failed: {exc}"}, status=502)
    return JsonResponse(resp.json())


def count_primes(n):
    count = 0
    for i in range(2, n + 1):
        d = 2
        prime = True
        while d * d <= i:
            if i % d == 0:
                prime = False
                break
            d += 1
        if prime:
            count += 1
    return count


@require_GET
def cpu(request):
    n = int_param(request, "n", 10_000, 1, 10_000_000)
    return JsonResponse({"n": n, "primes": count_primes(n)})


@require_GET
def data(request):
    if not settings.BAKEOFF_DATA:
        return JsonResponse(
            {"error": "BAKEOFF_DATA is not set: this launch has no sales dataset"}, status=503
        )
    from . import sales  # loaded at start-up by BenchConfig.ready

    region = request.GET.get("region")
    if region not in sales.REGIONS:
        return JsonResponse({"error": f"unknown region: {region!r}"}, status=404)
    return JsonResponse({"region": region, "products": sales.summarize(region)})
