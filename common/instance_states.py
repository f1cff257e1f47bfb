"""Instance states, as Nova has them, and the one table of which action is
allowed when. An action outside the table is a 409 from one check.

vm_state is where the instance rests; task_state is what is being done to
it (None when nothing is); power_state is what the hypervisor last said.
"""

# vm_state
BUILDING = 'building'
ACTIVE = 'active'
STOPPED = 'stopped'
PAUSED = 'paused'
SUSPENDED = 'suspended'
RESIZED = 'resized'
ERROR = 'error'
DELETED = 'deleted'

# task_state
SCHEDULING = 'scheduling'
NETWORKING = 'networking'
BLOCK_DEVICE_MAPPING = 'block_device_mapping'
SPAWNING = 'spawning'
POWERING_OFF = 'powering-off'
POWERING_ON = 'powering-on'
REBOOTING = 'rebooting'
REBOOTING_HARD = 'rebooting_hard'
DELETING = 'deleting'
PAUSING = 'pausing'
UNPAUSING = 'unpausing'
SUSPENDING = 'suspending'
RESUMING = 'resuming'
REBUILDING = 'rebuilding'
REBUILD_SPAWNING = 'rebuild_spawning'
# A snapshot (createImage): the API sets IMAGE_SNAPSHOT, the agent moves on
# to IMAGE_PENDING_UPLOAD once the disk is copied and IMAGE_UPLOADING while
# the bytes go to the image service; vm_state (and so the status) stays.
IMAGE_SNAPSHOT = 'image_snapshot'
IMAGE_PENDING_UPLOAD = 'image_pending_upload'
IMAGE_UPLOADING = 'image_uploading'
IMAGE_TASK_STATES = (IMAGE_SNAPSHOT, IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING)
RESIZE_PREP = 'resize_prep'
RESIZE_MIGRATING = 'resize_migrating'
RESIZE_REVERTING = 'resize_reverting'
RESIZE_CONFIRMING = 'resize_confirming'
RESIZE_TASKS = {RESIZE_PREP, RESIZE_MIGRATING, RESIZE_REVERTING, RESIZE_CONFIRMING}
# A live migration: the guest runs throughout; status MIGRATING.
MIGRATING = 'migrating'

# power_state: see compute.virt.power_state (Nova's numbering)

# action -> (vm_states it may start from, task_states it may start from,
#            task_state it sets)
ACTIONS = {
    'stop': ({ACTIVE, ERROR}, {None}, POWERING_OFF),
    'start': ({STOPPED}, {None}, POWERING_ON),
    'reboot': ({ACTIVE, STOPPED, ERROR}, {None}, REBOOTING),
    'reboot_hard': ({ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR},
                    {None, REBOOTING, REBOOTING_HARD, POWERING_ON, POWERING_OFF},
                    REBOOTING_HARD),
    'delete': ({BUILDING, ACTIVE, STOPPED, PAUSED, SUSPENDED, RESIZED, ERROR},
               {None, SCHEDULING, NETWORKING, BLOCK_DEVICE_MAPPING, SPAWNING,
                POWERING_OFF, POWERING_ON, REBOOTING, REBOOTING_HARD, DELETING,
                PAUSING, UNPAUSING, SUSPENDING, RESUMING, REBUILDING, REBUILD_SPAWNING,
                *IMAGE_TASK_STATES} | RESIZE_TASKS,
               DELETING),
    'pause': ({ACTIVE}, {None}, PAUSING),
    'unpause': ({PAUSED}, {None}, UNPAUSING),
    'suspend': ({ACTIVE}, {None}, SUSPENDING),
    'resume': ({SUSPENDED}, {None}, RESUMING),
    'rebuild': ({ACTIVE, STOPPED, ERROR}, {None}, REBUILDING),
    # Resize and cold migration (a resize to the same flavor on another
    # host); a resized server (VERIFY_RESIZE) holds two claims, one on each
    # host, until it is confirmed or reverted.
    'resize': ({ACTIVE, STOPPED}, {None}, RESIZE_PREP),
    'migrate': ({ACTIVE, STOPPED}, {None}, RESIZE_PREP),
    'live_migrate': ({ACTIVE, PAUSED}, {None}, MIGRATING),
    # Rebuild elsewhere when the server's host is down.
    'evacuate': ({ACTIVE, STOPPED, ERROR}, {None}, REBUILDING),
    'confirmResize': ({RESIZED}, {None}, RESIZE_CONFIRMING),
    'revertResize': ({RESIZED}, {None}, RESIZE_REVERTING),
    'console_output': ({ACTIVE, STOPPED, ERROR, BUILDING, RESIZED}, None, None),
    'serial_console': ({ACTIVE}, None, None),
    'vnc_console': ({ACTIVE}, None, None),
    'attach_interface': ({ACTIVE, STOPPED}, {None}, None),
    'detach_interface': ({ACTIVE, STOPPED}, {None}, None),
    'attach_volume': ({ACTIVE, STOPPED, PAUSED}, {None}, None),
    'detach_volume': ({ACTIVE, STOPPED, PAUSED}, {None}, None),
    'image_snapshot': ({ACTIVE, STOPPED, PAUSED}, {None}, IMAGE_SNAPSHOT),
    # Server metadata changes (PUT/POST/DELETE .../metadata), as Nova allows.
    'update_metadata': ({ACTIVE, PAUSED, SUSPENDED, STOPPED}, {None}, None),
}
# The task_state each action sets.
TASK_OF = {action: task for action, (_vm, _tasks, task) in ACTIONS.items()}
# Actions a locked server still takes from anyone (every other one is an
# admin's only while the lock holds). lock/unlock are not in the table.
LOCK_EXEMPT = {'console_output'}

_STATUS = {
    BUILDING: 'BUILD', ACTIVE: 'ACTIVE', STOPPED: 'SHUTOFF', RESIZED: 'VERIFY_RESIZE',
    ERROR: 'ERROR', DELETED: 'DELETED', PAUSED: 'PAUSED', SUSPENDED: 'SUSPENDED',
}
_REBUILD = {REBUILDING: 'REBUILD', REBUILD_SPAWNING: 'REBUILD'}
_RESIZE = {RESIZE_PREP: 'RESIZE', RESIZE_MIGRATING: 'RESIZE'}
# vm_state -> {task_state: status} where the task shows through
_TASK_STATUS = {
    ACTIVE: dict(_REBUILD, **_RESIZE, **{REBOOTING: 'REBOOT', REBOOTING_HARD: 'HARD_REBOOT',
                                         MIGRATING: 'MIGRATING'}),
    STOPPED: dict(_REBUILD, **_RESIZE),
    RESIZED: {RESIZE_REVERTING: 'REVERT_RESIZE'},
    ERROR: dict(_REBUILD),
    PAUSED: {REBOOTING_HARD: 'HARD_REBOOT', MIGRATING: 'MIGRATING'},
}


def status(vm_state, task_state):
    """The API's status for a (vm_state, task_state) pair."""
    shown = _TASK_STATUS.get(vm_state, {}).get(task_state)
    if shown:
        return shown
    if task_state == DELETING and vm_state != DELETED:
        return _STATUS.get(vm_state, 'UNKNOWN')
    return _STATUS.get(vm_state, 'UNKNOWN')


def allowed(action, vm_state, task_state):
    vm_ok, task_ok, _next = ACTIONS[action]
    return vm_state in vm_ok and (task_ok is None or task_state in task_ok)


# For the API's status filter: status -> vm_states
STATUS_TO_VM_STATES = {}
for _vm, _st in _STATUS.items():
    STATUS_TO_VM_STATES.setdefault(_st, set()).add(_vm)
for _vm, _tasks in _TASK_STATUS.items():
    for _st in _tasks.values():
        STATUS_TO_VM_STATES.setdefault(_st, set()).add(_vm)
