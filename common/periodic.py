"""Periodic tasks: mark a manager method, the service runner runs it."""


def periodic(spacing, run_immediately=False):
    """Run the decorated manager method every ``spacing`` seconds.

    ``spacing`` may be a number or a callable returning one (read from
    config at start-up).
    """
    def decorator(fn):
        fn._periodic_spacing = spacing
        fn._periodic_run_immediately = run_immediately
        return fn
    return decorator


def collect(manager):
    tasks = []
    for name in dir(type(manager)):
        fn = getattr(manager, name, None)
        spacing = getattr(fn, '_periodic_spacing', None)
        if spacing is None:
            continue
        if callable(spacing):
            spacing = spacing()
        tasks.append((name, fn, float(spacing), fn._periodic_run_immediately))
    return tasks
