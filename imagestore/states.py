"""The image status state machine, declared in one place.

    queued --upload--> saving --finish--> active <--> deactivated
                         |  \\--fail--> queued  (the client's fault: bad data,
                         |                      too big, connection lost)
                         \\--kill--> killed     (ours: the store failed)
    any status but deleted --delete--> deleted

``next_status`` answers the status an event leads to, or raises a 409 that
says why the event is not allowed now. Every status change in the image
service goes through it (and through a compare-and-set in the database, so
two requests racing for one transition cannot both win).
"""

from common import exception

QUEUED = 'queued'
SAVING = 'saving'
ACTIVE = 'active'
KILLED = 'killed'
DELETED = 'deleted'
DEACTIVATED = 'deactivated'

ALL = (QUEUED, SAVING, ACTIVE, KILLED, DELETED, DEACTIVATED)

# (status, event) -> new status
TRANSITIONS = {
    (QUEUED, 'upload'): SAVING,
    (SAVING, 'finish'): ACTIVE,
    (SAVING, 'fail'): QUEUED,
    (SAVING, 'kill'): KILLED,
    (ACTIVE, 'deactivate'): DEACTIVATED,
    (DEACTIVATED, 'deactivate'): DEACTIVATED,
    (DEACTIVATED, 'reactivate'): ACTIVE,
    (ACTIVE, 'reactivate'): ACTIVE,
}
for _status in ALL:
    if _status != DELETED:
        TRANSITIONS[(_status, 'delete')] = DELETED

# What a refused event tells the client.
_WHY = {
    'upload': 'image data can only be uploaded to a queued image',
    'finish': 'the upload was not in progress any more',
    'fail': 'the upload was not in progress any more',
    'kill': 'the upload was not in progress any more',
    'deactivate': 'only an active image can be deactivated',
    'reactivate': 'only a deactivated image can be reactivated',
    'delete': 'the image is already deleted',
}


class InvalidImageStatus(exception.Conflict):
    msg_fmt = 'Image %(image_id)s is %(status)s: %(why)s.'


def next_status(image_id, status, event):
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidImageStatus(image_id=image_id, status=status,
                                 why=_WHY.get(event, 'not allowed now')) from None


def allowed(status, event):
    return (status, event) in TRANSITIONS
