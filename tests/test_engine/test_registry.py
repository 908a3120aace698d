from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmecho.registry import (DATASETS, METRICS, MODEL_WRAPPERS, MODELS,
                             TRANSFORMS)


def test_mmecho_scope_reaches_mmdet_mmseg_and_own_components():
    from mmdet.datasets.transforms import LoadAnnotations as DetLoad
    from mmseg.datasets.transforms import LoadAnnotations as SegLoad
    assert DefaultScope.get_current_instance().scope_name == 'mmecho'
    assert MODELS.get('YOLACT').__module__.startswith('mmdet')
    assert MODELS.get('EncoderDecoder').__module__.startswith('mmseg')
    assert MODELS.get('UNet').__module__.startswith('mmseg')
    # on a name clash mmdet wins, mmseg's is reached by prefix
    assert TRANSFORMS.get('LoadAnnotations') is DetLoad
    assert TRANSFORMS.get('mmseg.LoadAnnotations') is SegLoad
    assert DATASETS.get('MEISDataset').__module__.startswith('mmecho')
    assert METRICS.get('IoUMetric').__module__.startswith('mmseg')
    assert MODEL_WRAPPERS.get('DeviceAwareDistributedDataParallel')
    assert MODELS.get('NoSuchModel') is None


def test_mmecho_components_from_other_scopes():
    from mmengine.registry import TRANSFORMS as ROOT
    from mmseg.registry import DATASETS as SEG_DATASETS
    assert ROOT.get('mmecho.LoadEchoFrame').__name__ == 'LoadEchoFrame'
    assert SEG_DATASETS.get('mmecho.CAMUSDataset').__name__ == \
        'CAMUSDataset'


def test_config_with_default_scope_builds_seg_model():
    cfg = Config.fromfile('configs/camus/fcn_unet-tiny_camus-phantom.py')
    assert cfg.default_scope == 'mmecho'
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'EncoderDecoder'


def test_version():
    import mmecho
    assert mmecho.__version__ == '.'.join(
        str(v) for v in mmecho.version_info[:3])
