"""HeadOutputs: the typed result of a multi-task head's forward."""
import pytest
import torch

from mmmtl.structures import HeadOutputs


def test_defaults_are_empty_and_not_shared():
    a = HeadOutputs(preds={'depth': torch.zeros(1, 1, 2, 2)})
    b = HeadOutputs(preds={})
    assert a.feats == {} and a.feat_strides == {}
    assert a.deep_supervision == {} and a.extra_losses == {}
    a.deep_supervision['initial'] = {}
    assert b.deep_supervision == {}  # each instance owns its dicts


def test_feats_need_a_stride():
    feat = torch.zeros(1, 4, 2, 2)
    out = HeadOutputs(preds={}, feats={'depth': feat},
                      feat_strides={'depth': 4})
    assert out.feats['depth'] is feat and out.feat_strides == {'depth': 4}
    with pytest.raises(ValueError, match=r"\['semseg'\] without a "
                       'feat_strides entry'):
        HeadOutputs(preds={}, feats={'depth': feat, 'semseg': feat},
                    feat_strides={'depth': 4})

