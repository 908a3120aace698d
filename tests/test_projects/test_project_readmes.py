# Copyright (c) mmecho contributors. All rights reserved.
"""projects/*/README.md: mmdet's project template, and each README's CI
command run as written (on a small phantom, at a short schedule)."""
import glob
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
READMES = sorted(glob.glob(osp.join(ROOT, 'projects', '*', 'README.md')))
SECTIONS = ['Description', 'Protocol', 'Usage', 'Results', 'Citation',
            'Checklist']
PAPERS = ('000', '001', '002', '003', '004')
IDS = [osp.basename(osp.dirname(p)) for p in READMES]


def test_one_project_per_paper():
    assert sorted(i[-3:] for i in IDS) == list(PAPERS)


@pytest.mark.parametrize('readme', READMES, ids=IDS)
def test_template_sections_in_order(readme):
    text = open(readme).read()
    heads = re.findall(r'^## (\w+)', text, flags=re.M)
    assert [h for h in heads if h in SECTIONS] == SECTIONS, heads
    assert '<!-- USAGE -->' not in text and '<!-- RESULTS -->' not in text
    assert '@' in text.split('## Citation')[1].split('## Checklist')[0]
    assert '../shared' not in text


@pytest.mark.parametrize('readme', READMES, ids=IDS)
def test_relative_links_resolve(readme):
    text = open(readme).read()
    folder = osp.dirname(readme)
    for target in re.findall(r'\]\(([^)#\s]+)', text):
        if '://' in target:
            continue
        assert osp.exists(osp.normpath(osp.join(folder, target))), target


def ci_block(readme):
    """The bash block after ``<!-- ci -->`` as argument lists (continuation
    lines joined), and the tables named by ``<!-- ci-tables: ... -->``."""
    text = open(readme).read()
    m = re.search(r'<!-- ci -->\s*```bash\n(.*?)```', text, flags=re.S)
    assert m, f'{readme}: no <!-- ci --> bash block'
    body = m.group(1).replace('\\\n', ' ')
    commands = [
        shlex.split(line, comments=True) for line in body.splitlines()
    ]
    tables = re.search(r'<!-- ci-tables: (.*?) -->', text)
    assert tables, f'{readme}: no <!-- ci-tables: ... --> line'
    return [c for c in commands if c], tables.group(1).split()


def _in_tmp(arg: str, tmp: str) -> str:
    return re.sub(r'(^|=)work_dirs/ci/', lambda m: m.group(1) + tmp + '/',
                  arg)


@pytest.mark.slow
@pytest.mark.parametrize('readme', READMES, ids=IDS)
def test_ci_command_writes_the_table(readme, tmp_path):
    """The README's own command, with ``work_dirs/ci/`` moved to a
    temporary folder: it must succeed and write the table it names, with
    at least one row of finite numbers."""
    commands, tables = ci_block(readme)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    for cmd in commands:
        assert cmd[0] == 'python', cmd
        for arg in cmd:
            assert not arg.startswith(('data/', 'work_dirs/')) or \
                arg.startswith('work_dirs/ci/'), \
                f'{arg}: CI commands write under work_dirs/ci/ only'
        args = [sys.executable] + [_in_tmp(a, str(tmp_path)) for a in cmd[1:]]
        out = subprocess.run(
            args, cwd=ROOT, capture_output=True, text=True, env=env,
            timeout=1500)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for table in tables:
        path = _in_tmp(table, str(tmp_path))
        lines = [ln for ln in open(path).read().splitlines()
                 if ln.startswith('|')]
        assert len(lines) >= 3, f'{table}: no data row'
        numbers = re.findall(r'-?\d+\.\d+', ' '.join(lines[2:]))
        assert numbers, f'{table}: no number in the rows'
