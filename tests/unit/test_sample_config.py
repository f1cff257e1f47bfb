"""etc/altostack.conf.sample is committed and generated, never written by
hand: every option Altostack defines (namespace altostack) stands in it,
in its group, with its default and help as the generator writes them.
After adding or changing an option: `tox -e genconfig` and commit the file."""

import os
import pathlib
import subprocess
import sys

SAMPLE = pathlib.Path(__file__).resolve().parents[2] / 'etc' / 'altostack.conf.sample'


def _sections(text):
    """{section: [lines]} of a sample config, blank lines dropped."""
    out, section = {}, None
    for line in text.splitlines():
        if line.startswith('[') and line.endswith(']'):
            section = line
            out.setdefault(section, [])
        elif line.strip() and section is not None:
            out[section].append(line)
    return out


def test_the_committed_sample_has_every_option_as_generated(tmp_path):
    gen = os.path.join(os.path.dirname(sys.executable), 'oslo-config-generator')
    ours = tmp_path / 'ours.conf'
    subprocess.run([gen, '--namespace', 'altostack', '--wrap-width', '79',
                    '--output-file', str(ours)], check=True, capture_output=True)
    committed = _sections(SAMPLE.read_text())
    for section, lines in _sections(ours.read_text()).items():
        assert section in committed, '%s is missing from %s: run tox -e genconfig' % (
            section, SAMPLE)
        have = '\n'.join(committed[section])
        want = '\n'.join(lines)
        assert want in have, ('%s of %s differs from the options: run tox -e genconfig'
                              % (section, SAMPLE))
