"""Neutron's bulk create: POST /v2.0/<collection> with {"<collection>":
[{...}, ...]} makes every item or none. Each item is made as a single
create would make it; when one is refused, the ones already made are
deleted again and the refusal is the answer (as Neutron's emulated bulk
does). The answer lists the items made, in request order."""

from api import http
from api.network import query
from network import exception as ne


def create(kind, collection, create_one, delete_one):
    """The POST handler: ``create_one(data)`` makes one item from its
    attributes (data None: the request holds a single ``kind`` object) and
    returns it; ``delete_one(id)`` undoes one (the DELETE handler)."""
    body = http.json_body()
    if collection not in body or kind in body:
        return http.reply(query.show(kind, create_one(None)), status=201)
    items = body[collection]
    if not isinstance(items, list) or not items or not all(isinstance(i, dict)
                                                           for i in items):
        raise ne.HTTPBadRequest(msg="Invalid input for %s: a non-empty list of %s objects "
                                    'is needed' % (collection, kind))
    made = []
    try:
        for item in items:
            made.append(create_one(item))
    except Exception:
        for done in reversed(made):
            delete_one(done['id'])
        raise
    return http.reply({collection: [query.show(kind, item)[kind] for item in made]},
                      status=201)
