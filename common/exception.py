"""One error hierarchy for every service.

Each error has an HTTP code and a message format. The API edges turn them
into the error shape of the API they serve (Keystone, Nova, Glance, ...).
Anything that is not an AltostackError is a bug: it is logged and answered
as a 500 without details.
"""


class AltostackError(Exception):
    code = 500
    msg_fmt = 'An unexpected error happened.'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                message = self.msg_fmt
        self.message = message
        super().__init__(message)


class BadRequest(AltostackError):
    code = 400
    msg_fmt = 'The request is not valid: %(reason)s'


class InvalidInput(BadRequest):
    msg_fmt = 'Invalid input received: %(reason)s'


class Unauthorized(AltostackError):
    code = 401
    msg_fmt = 'The request you have made requires authentication.'


class Forbidden(AltostackError):
    code = 403
    msg_fmt = 'You are not authorized to perform the requested action.'


class PolicyNotAuthorized(Forbidden):
    msg_fmt = 'You are not authorized to perform the requested action: %(action)s.'


class NotFound(AltostackError):
    code = 404
    msg_fmt = 'Could not find the resource.'


class ResourceNotFound(NotFound):
    msg_fmt = 'Could not find %(kind)s: %(id)s.'


class NotAcceptable(AltostackError):
    code = 406
    msg_fmt = '%(reason)s'


class Conflict(AltostackError):
    code = 409
    msg_fmt = 'Conflict: %(reason)s'


class OverQuota(AltostackError):
    """A project asked for more than its quota allows. Each API answers it
    with its own code (Nova 403, Neutron 409): a subclass also derives from
    the error that carries the code."""
    msg_fmt = 'Quota exceeded: %(reason)s'


class Duplicate(Conflict):
    msg_fmt = 'Conflict occurred attempting to store %(kind)s - %(reason)s.'


class ServiceUnavailable(AltostackError):
    code = 503
    msg_fmt = 'The service is not available: %(reason)s'


class DBDeadlock(ServiceUnavailable):
    """The database gave up a transaction to a deadlock (on Galera also a
    write set that lost certification to another node's)."""
    msg_fmt = ('The database gave up the transaction to a conflicting one; the request '
               'was not completed, try again.')


class DBConnectionError(ServiceUnavailable):
    """The connection to the database was lost or could not be made."""
    msg_fmt = ('The database could not be reached; the request was not completed, '
               'try again.')
