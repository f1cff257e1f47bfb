"""The equivalent openstack command shown beside a form: options in order,
shell-quoted values, flags, repeated options, empty ones left out."""

from dashboard.views import cli_command


def test_words_and_options():
    assert cli_command('server', 'create', 'vm 1', flavor='m1.tiny', image=None,
                       network=['a', 'b'], wait=True, config_drive=False) == \
        "openstack server create 'vm 1' --flavor m1.tiny --network a --network b --wait"


def test_values_are_quoted_for_the_shell():
    cmd = cli_command('server', 'set', '--', description="it's $HOME; rm -rf /")
    assert cmd.endswith("""--description 'it'"'"'s $HOME; rm -rf /'""")
