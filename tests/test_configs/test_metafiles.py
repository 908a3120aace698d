"""Model-zoo files: every config folder has a README.md and a metafile.yml
(mmdetection's format), every metafile parses, and every entry points at
things that exist."""
import os
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs')
FOLDERS = sorted(
    d for d in os.listdir(CONFIGS) if osp.isdir(osp.join(CONFIGS, d))
    and d != '_base_' and not d.startswith(('.', '__')))


def _load_yaml(path):
    yaml = pytest.importorskip('yaml')  # a dependency of mmengine
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def test_there_are_config_folders():
    assert {
        'camus', 'camus_thesis', 'meis', 'mnms', 'registration', 'runet',
        'temporal'
    } <= set(FOLDERS)


@pytest.mark.parametrize('folder', FOLDERS)
def test_folder_has_readme_and_metafile(folder):
    for name in ('README.md', 'metafile.yml'):
        assert osp.isfile(osp.join(CONFIGS, folder, name)), \
            f'configs/{folder}/{name} is missing'


@pytest.mark.parametrize('folder', FOLDERS)
def test_metafile_entries(folder):
    path = osp.join(CONFIGS, folder, 'metafile.yml')
    if not osp.isfile(path):
        pytest.fail(f'configs/{folder}/metafile.yml is missing')
    meta = _load_yaml(path)
    assert isinstance(meta, dict) and set(meta) <= {'Collections', 'Models'}
    collections = meta.get('Collections') or []
    models = meta.get('Models') or []
    assert collections and models, f'{folder}: no Collections or Models'

    names = [c['Name'] for c in collections]
    assert len(names) == len(set(names)), f'{folder}: duplicate collections'
    for c in collections:
        assert c['Metadata']['Training Data'], c['Name']
        assert c['Metadata']['Architecture'], c['Name']
        assert osp.isfile(osp.join(ROOT, c['README'])), \
            f'{c["Name"]}: README {c["README"]} does not exist'

    model_names = [m['Name'] for m in models]
    assert len(model_names) == len(set(model_names)), \
        f'{folder}: duplicate model names'
    for m in models:
        assert m['In Collection'] in names, \
            f'{m["Name"]}: collection {m["In Collection"]!r} not in {names}'
        config = m['Config']
        assert config.startswith(f'configs/{folder}/'), config
        assert osp.isfile(osp.join(ROOT, config)), \
            f'{m["Name"]}: {config} does not exist'
        assert m['Metadata']['Training Data'], m['Name']
        assert 'Weights' not in m, f'{m["Name"]}: no weights are published'
        for result in m.get('Results', []):
            assert {'Task', 'Dataset', 'Metrics'} <= set(result), m['Name']
            assert result['Metrics'], m['Name']
