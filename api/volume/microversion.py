"""Volume microversions we honour. A client that asks for more than MAX
(the SDK sends up to 3.71) is served at MAX, as a client that accepts a
range would be, instead of a 406: what it gets is still what it named as
acceptable, and the response header says which version answered.

3.0  - the base API
3.3  - messages: why an asynchronous volume operation failed
3.13 - volumes: group_id
3.21 - volumes: provider_id
3.41 - snapshots: user_id
3.42 - os-extend of an in-use volume
3.45 - volume lists: with_count
3.48 - volumes: service_uuid, shared_targets
3.61 - volumes: cluster_name (admin)
3.63 - volumes: volume_type_id
3.64 - volumes: encryption_key_id
"""

from api import microversion

MIN = '3.0'
MAX = '3.64'


class _ClampingNegotiator(microversion.Negotiator):
    def negotiate(self, headers):
        raw = self._requested(headers)
        if raw is not None and raw.strip().lower() != 'latest':
            try:
                if microversion.Version.parse(raw) > self.max:
                    return self.max
            except ValueError:
                pass  # the base class words the error
        return super().negotiate(headers)


negotiator = _ClampingNegotiator('volume', MIN, MAX)
