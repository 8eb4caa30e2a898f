"""CTAL affinity ops: dense reference vs loops, chunked vs dense, module."""
import pytest
import torch

from mmmtl.models.layers.affinity import (affinity_diffusion_chunked,
                                          affinity_diffusion_dense,
                                          cosine_affinity,
                                          interleave_affinities,
                                          normalize_columns)
from mmmtl.models.layers.cross_task_affinity import CrossTaskAffinity

B, N, C, D, H, W = 2, 3, 4, 3, 3, 4
P = H * W


def _inputs(groups, seed=0, bias=True, f=3):
    g = torch.Generator().manual_seed(seed)
    kw = dict(dtype=torch.float64, generator=g)
    feats = normalize_columns(torch.randn(B, N, C, P, **kw))
    projs = torch.randn(B, N, D, P, **kw)
    weight = torch.randn(groups, P, N, f, f, **kw)
    b = torch.randn(groups, P, **kw) if bias else None
    return feats, projs, weight, b


def _loop_reference(feats, projs, weight, bias, scale=1.0):
    """Paper formulas written with explicit loops (tiny sizes only)."""
    out = torch.zeros_like(projs)
    r = weight.shape[-1] // 2
    for b in range(B):
        aff = [feats[b, k].T @ feats[b, k] for k in range(N)]
        for t in range(N):
            g = t if weight.shape[0] > 1 else 0
            fused = torch.zeros(P, P, dtype=feats.dtype)
            for c in range(P):
                for p in range(P):
                    u, v = divmod(p, W)
                    acc = bias[g, c] if bias is not None else 0.0
                    for k in range(N):
                        for du in range(-r, r + 1):
                            for dv in range(-r, r + 1):
                                uu, vv = u + du, v + dv
                                if 0 <= uu < H and 0 <= vv < W:
                                    acc = acc + weight[g, c, k, du + r,
                                                       dv + r] * \
                                        aff[k][c, uu * W + vv]
                    fused[c, p] = acc
            out[b, t] = projs[b, t] @ fused.T * scale
    return out


def test_cosine_affinity_and_interleave():
    x = normalize_columns(torch.tensor([[[3., 0.], [4., 2.]]]))
    aff = cosine_affinity(x)  # columns (0.6, 0.8) and (0, 1)
    assert torch.allclose(aff, torch.tensor([[[1., 0.8], [0.8, 1.]]]))
    a0 = torch.arange(4.).view(1, 2, 2)
    a1 = 10 + a0
    joint = interleave_affinities([a0, a1], (1, 2))
    assert joint.shape == (1, 4, 1, 2)
    # channel r * N + k holds row r of task k
    assert joint[0, :, 0].tolist() == [[0, 1], [10, 11], [2, 3], [12, 13]]


@pytest.mark.parametrize('groups', [1, N])
def test_dense_matches_loop_reference(groups):
    feats, projs, weight, bias = _inputs(groups)
    expected = _loop_reference(feats, projs, weight, bias, scale=0.5)
    got = affinity_diffusion_dense(feats, projs, weight, bias, (H, W), 0.5)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize('groups,bias,chunk', [(1, True, 5), (N, True, 1),
                                               (N, False, 7),
                                               (N, True, P)])
def test_chunked_matches_dense_values_and_gradients(groups, bias, chunk):
    tensors = [t.clone().requires_grad_() if t is not None else None
               for t in _inputs(groups, seed=1, bias=bias)]
    leaves = [t for t in tensors if t is not None]
    dense = affinity_diffusion_dense(*tensors, (H, W), 1.0 / P)
    chunked = affinity_diffusion_chunked(*tensors, (H, W), 1.0 / P,
                                         chunk_size=chunk)
    torch.testing.assert_close(chunked, dense, rtol=1e-6, atol=1e-12)
    grad_out = torch.randn_like(dense)
    g_dense = torch.autograd.grad(dense, leaves, grad_out)
    g_chunk = torch.autograd.grad(chunked, leaves, grad_out)
    for a, b in zip(g_chunk, g_dense):
        assert a.abs().sum() > 0
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-12)


def test_chunked_gradients_through_normalisation():
    """Gradients w.r.t. the un-normalised features agree too."""
    raw = torch.randn(B, N, C, P, dtype=torch.float64, requires_grad=True)
    _, projs, weight, bias = _inputs(N, seed=2)
    outs = [fn(normalize_columns(raw), projs, weight, bias, (H, W))
            for fn in (affinity_diffusion_dense, affinity_diffusion_chunked)]
    grads = [torch.autograd.grad(o.square().sum(), raw)[0] for o in outs]
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-6, atol=1e-12)


def test_chunked_only_some_inputs_require_grad():
    feats, projs, weight, bias = _inputs(N, seed=3)
    weight.requires_grad_()
    out = affinity_diffusion_chunked(feats, projs, weight, bias, (H, W),
                                     chunk_size=4)
    ref = affinity_diffusion_dense(feats, projs, weight, bias, (H, W))
    ga = torch.autograd.grad(out.sum(), weight)[0]
    gb = torch.autograd.grad(ref.sum(), weight)[0]
    torch.testing.assert_close(ga, gb, rtol=1e-6, atol=1e-12)


def test_bad_arguments_are_refused():
    feats, projs, weight, bias = _inputs(N)
    with pytest.raises(ValueError, match='chunk_size'):
        affinity_diffusion_chunked(feats, projs, weight, bias, (H, W),
                                   chunk_size=0)
    with pytest.raises(ValueError, match='grid'):
        affinity_diffusion_dense(feats, projs, weight, bias, (H + 1, W))
    with pytest.raises(ValueError, match='fusion groups'):
        affinity_diffusion_dense(feats, projs, weight[:2], bias[:2], (H, W))


def test_grouped_conv_parameter_count_matches_paper():
    # 72 x 96 grid, N = 3 tasks, f = 3: 186,624 weights + 6,912 biases.
    module = CrossTaskAffinity(['semseg', 'depth', 'normals'], 4, (72, 96))
    for conv in module.fusion.values():
        assert conv.weight.numel() == 72 * 96 * 3 * 3 * 3 == 186624
        assert conv.bias.numel() == 72 * 96
        assert conv.groups == 72 * 96
    assert len(module.fusion) == 3
    shared = CrossTaskAffinity(['semseg', 'depth', 'normals'], 4, (72, 96),
                               shared_fusion=True)
    assert len(shared.fusion) == 1


def _module_pair(**kwargs):
    torch.manual_seed(0)
    dense = CrossTaskAffinity(['semseg', 'depth'], 4, (3, 4),
                              **kwargs).double()
    chunked = CrossTaskAffinity(['semseg', 'depth'], 4, (3, 4),
                                memory_efficient=True, chunk_size=5,
                                **kwargs).double()
    chunked.load_state_dict(dense.state_dict())
    return dense, chunked


@pytest.mark.parametrize('shared', [False, True])
def test_module_chunked_matches_dense(shared):
    dense, chunked = _module_pair(shared_fusion=shared, gamma=0.3)
    x = {t: torch.randn(2, 4, 3, 4, dtype=torch.float64, requires_grad=True)
         for t in ('semseg', 'depth')}
    outs = [m(x) for m in (dense, chunked)]
    for t in x:
        torch.testing.assert_close(outs[1][t], outs[0][t], rtol=1e-6,
                                   atol=1e-12)
    losses = [sum(o[t].square().sum() for t in o) for o in outs]
    for m, loss in zip((dense, chunked), losses):
        loss.backward()
    for (name, p1), (_, p2) in zip(dense.named_parameters(),
                                   chunked.named_parameters()):
        torch.testing.assert_close(p2.grad, p1.grad, rtol=1e-6, atol=1e-12,
                                   msg=name)


def test_module_blend_and_scale():
    torch.manual_seed(0)
    module = CrossTaskAffinity(['depth', 'edge'], 2, (2, 3), gamma=0.25,
                               scale_by_hw=True).double()
    x = {t: torch.randn(1, 2, 2, 3, dtype=torch.float64)
         for t in ('depth', 'edge')}
    out = module(x)
    weight, bias = module.fusion_parameters()
    normed = normalize_columns(torch.stack([x['depth'], x['edge']],
                                           1).flatten(3))
    projs = torch.stack([module.projections[t](x[t]) for t in x],
                        1).flatten(3)
    diffused = affinity_diffusion_dense(normed, projs, weight, bias,
                                        (2, 3)) / 6
    for i, t in enumerate(x):
        expected = 0.25 * diffused[:, i].view(1, 2, 2, 3) + 0.75 * x[t]
        torch.testing.assert_close(out[t], expected, rtol=1e-9, atol=1e-9)


def test_module_resamples_other_sizes():
    torch.manual_seed(0)
    module = CrossTaskAffinity(['depth', 'edge'], 2, (3, 4), gamma=0.0)
    x = {t: torch.randn(1, 2, 5, 7) for t in ('depth', 'edge')}
    out = module(x)
    for t in x:  # gamma = 0: exactly the input, at the input size
        assert out[t].shape == (1, 2, 5, 7)
        torch.testing.assert_close(out[t], x[t])
    module.gamma = 0.5
    out = module(x)
    assert out['depth'].shape == (1, 2, 5, 7)
    assert not torch.allclose(out['depth'], x['depth'])


def test_module_bad_config():
    with pytest.raises(ValueError, match='kernel_size'):
        CrossTaskAffinity(['depth'], 2, (3, 4), kernel_size=2)
    with pytest.raises(ValueError, match='grid_size'):
        CrossTaskAffinity(['depth'], 2, (0, 4))
