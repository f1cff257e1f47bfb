"""Instance states, as Nova has them, and the one table of which action is
allowed when. An action outside the table is a 409 from one check.

vm_state is where the instance rests; task_state is what is being done to
it (None when nothing is); power_state is what the hypervisor last said.
"""

# vm_state
BUILDING = 'building'
ACTIVE = 'active'
STOPPED = 'stopped'
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
# A snapshot (createImage): the API sets IMAGE_SNAPSHOT, the agent moves on
# to IMAGE_PENDING_UPLOAD once the disk is copied and IMAGE_UPLOADING while
# the bytes go to the image service; vm_state (and so the status) stays.
IMAGE_SNAPSHOT = 'image_snapshot'
IMAGE_PENDING_UPLOAD = 'image_pending_upload'
IMAGE_UPLOADING = 'image_uploading'
IMAGE_TASK_STATES = (IMAGE_SNAPSHOT, IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING)

# power_state (as reported by the hypervisor)
NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7

# action -> (vm_states it may start from, task_states it may start from,
#            task_state it sets)
ACTIONS = {
    'stop': ({ACTIVE, ERROR}, {None}, POWERING_OFF),
    'start': ({STOPPED}, {None}, POWERING_ON),
    'reboot': ({ACTIVE, STOPPED, ERROR}, {None}, REBOOTING),
    'reboot_hard': ({ACTIVE, STOPPED, ERROR},
                    {None, REBOOTING, REBOOTING_HARD, POWERING_ON, POWERING_OFF},
                    REBOOTING_HARD),
    'delete': ({BUILDING, ACTIVE, STOPPED, RESIZED, ERROR},
               {None, SCHEDULING, NETWORKING, BLOCK_DEVICE_MAPPING, SPAWNING,
                POWERING_OFF, POWERING_ON, REBOOTING, REBOOTING_HARD, DELETING,
                *IMAGE_TASK_STATES},
               DELETING),
    'console_output': ({ACTIVE, STOPPED, ERROR, BUILDING, RESIZED}, None, None),
    'serial_console': ({ACTIVE}, None, None),
    'attach_interface': ({ACTIVE, STOPPED}, {None}, None),
    'detach_interface': ({ACTIVE, STOPPED}, {None}, None),
    'attach_volume': ({ACTIVE, STOPPED}, {None}, None),
    'detach_volume': ({ACTIVE, STOPPED}, {None}, None),
    # Paused and suspended servers may be snapshotted too, once those
    # vm_states exist.
    'image_snapshot': ({ACTIVE, STOPPED}, {None}, IMAGE_SNAPSHOT),
}

_STATUS = {
    BUILDING: 'BUILD', ACTIVE: 'ACTIVE', STOPPED: 'SHUTOFF', RESIZED: 'VERIFY_RESIZE',
    ERROR: 'ERROR', DELETED: 'DELETED',
}
_TASK_STATUS = {REBOOTING: 'REBOOT', REBOOTING_HARD: 'HARD_REBOOT'}


def status(vm_state, task_state):
    """The API's status for a (vm_state, task_state) pair."""
    if task_state in _TASK_STATUS and vm_state == ACTIVE:
        return _TASK_STATUS[task_state]
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
