"""MultiTaskOptimWrapper: per-task gradients, aggregation and the writes to
``.grad`` in both modes, a two-task problem where gradient methods provably
differ from equal weighting, auxiliary losses, bfloat16 autocast with loss
scaling, exact resume of method state, 2-process gloo equivalence."""
import copy
import io
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel

from mmmtl.engine.optim_wrappers import MultiTaskOptimWrapper, split_losses
from mmmtl.registry import MTL_METHODS

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
GRADIENT_METHODS = ['PCGrad', 'CAGrad', 'NashMTL', 'IMTLG', 'AlignedMTL',
                    'MGDA', 'UPGrad', 'GradNorm', 'GradVac']


class TinyMTL(BaseModel):
    """Linear encoder (shared) + one linear head per task, MSE losses.

    ``data_samples`` is a (B, T) tensor of targets. ``aux`` adds an
    auxiliary loss on the shared features (like CCR's ``aux.*``).
    """

    def __init__(self, tasks=('a', 'b', 'c'), aux=False, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.tasks = list(tasks)
        self.backbone = nn.Sequential(nn.Linear(3, 5), nn.Tanh())
        self.decode_head = nn.ModuleDict(
            {t: nn.Linear(5, 1) for t in self.tasks})
        self.aux = aux

    def forward(self, inputs, data_samples=None, mode='tensor'):
        z = self.backbone(inputs)
        outs = {t: head(z).squeeze(1) for t, head in self.decode_head.items()}
        if mode != 'loss':
            return outs
        losses = {f'{t}.loss_mse': ((outs[t] - data_samples[:, i])**2).mean()
                  for i, t in enumerate(self.tasks)}
        losses['a.unweighted'] = losses['a.loss_mse'].detach()
        if self.aux:
            losses['aux.loss_l2'] = 0.1 * z.pow(2).mean()
        return losses


def batch(seed=1, n=4, tasks=3):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.randn(n, 3, generator=g),
                data_samples=torch.randn(n, tasks, generator=g) * 3)


def make_wrapper(model, lr=1.0, **kwargs):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    return MultiTaskOptimWrapper(optimizer, **kwargs)


def params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def expected_update(model, data, method_cfg, mode, aux=False):
    """Reference: per-task gradients by plain autograd on a copy, weights
    from a fresh method, the aggregate through the encoder by hand."""
    model = copy.deepcopy(model)
    method = MTL_METHODS.build(method_cfg)
    method.setup(model.tasks)
    x, y = data['inputs'], data['data_samples']
    shared = list(model.backbone.parameters())
    heads = list(model.decode_head.parameters())
    z = model.backbone(x)
    if mode == 'representation':
        z_leaf = z.detach().requires_grad_()
        targets = [z_leaf]
    else:
        z_leaf = z
        targets = shared
    outs = {t: h(z_leaf).squeeze(1) for t, h in model.decode_head.items()}
    task_losses = [((outs[t] - y[:, i])**2).mean()
                   for i, t in enumerate(model.tasks)]
    rows = [torch.cat([g.reshape(-1) for g in torch.autograd.grad(
        loss, targets, retain_graph=True)]) for loss in task_losses]
    matrix = torch.stack(rows)
    weights = method.weights(matrix.double() @ matrix.double().T,
                             torch.stack(task_losses).detach().double())
    direction = weights.float() @ matrix
    coeffs = weights if method.weights_task_specific else torch.ones(3)
    head_loss = sum(float(c) * v for c, v in zip(coeffs, task_losses))
    aux_loss = 0.1 * z_leaf.pow(2).mean() if aux else None
    if aux_loss is not None:
        direction = direction + torch.cat([g.reshape(-1) for g in
                                           torch.autograd.grad(
                                               aux_loss, targets,
                                               retain_graph=True)])
    head_grads = torch.autograd.grad(head_loss, heads, retain_graph=True)
    if mode == 'representation':
        shared_grads = torch.autograd.grad(z, shared,
                                           direction.view_as(z))
    else:
        shared_grads = torch.split(direction, [p.numel() for p in shared])
    grads = {}
    names = [n for n, _ in model.backbone.named_parameters()]
    for name, p, g in zip(names, shared, shared_grads):
        grads[f'backbone.{name}'] = g.view_as(p)
    names = [n for n, _ in model.decode_head.named_parameters()]
    for name, g in zip(names, head_grads):
        grads[f'decode_head.{name}'] = g
    return grads, weights


@pytest.mark.parametrize('mode', ['representation', 'parameter'])
@pytest.mark.parametrize('method', GRADIENT_METHODS)
def test_update_equals_reference(method, mode):
    model = TinyMTL(aux=method == 'PCGrad')
    data = batch()
    grads, weights = expected_update(model, data, dict(type=method), mode,
                                     aux=model.aux)
    before = params(model)
    wrapper = make_wrapper(model, method=dict(type=method), mode=mode)
    model.train_step(data, wrapper)
    after = params(model)
    for name, grad in grads.items():
        torch.testing.assert_close(before[name] - after[name], grad,
                                   rtol=1e-4, atol=1e-5, msg=name)
    torch.testing.assert_close(wrapper.method.last_weights, weights,
                               rtol=1e-4, atol=1e-6)


def test_dbmtl_update_equals_reference_and_needs_parameter_mode():
    """Two steps of DB-MTL: shared parameters take the magnitude-balanced
    moving averages of the log-loss gradients, heads the gradient of the
    summed log losses."""
    model = TinyMTL(aux=True)
    reference = copy.deepcopy(model)
    wrapper = make_wrapper(model, lr=0.1, method=dict(type='DBMTL', beta=0.5),
                           mode='parameter')
    shared = list(reference.backbone.parameters())
    heads = list(reference.decode_head.parameters())
    average = None
    for step, seed in enumerate((1, 2), 1):
        data = batch(seed)
        x, y = data['inputs'], data['data_samples']
        z = reference.backbone(x)
        outs = [reference.decode_head[t](z).squeeze(1)
                for t in reference.tasks]
        losses = [((o - y[:, i])**2).mean() for i, o in enumerate(outs)]
        aux = 0.1 * z.pow(2).mean()
        rows = torch.stack([torch.cat([g.reshape(-1) for g in
                                       torch.autograd.grad(
                                           loss.log(), shared,
                                           retain_graph=True)])
                            for loss in losses])
        average = 0.5 * rows if average is None else \
            0.5 * average + 0.5 * rows
        norms = average.norm(dim=1)
        direction = (norms.max() / norms) @ average
        direction = direction + torch.cat([g.reshape(-1) for g in
                                           torch.autograd.grad(
                                               aux, shared,
                                               retain_graph=True)])
        head_grads = torch.autograd.grad(
            sum(loss.log() for loss in losses), heads)
        with torch.no_grad():
            for p, g in zip(shared, torch.split(
                    direction, [p.numel() for p in shared])):
                p -= 0.1 * g.view_as(p)
            for p, g in zip(heads, head_grads):
                p -= 0.1 * g
        model.train_step(data, wrapper)
        for (name, p), q in zip(model.named_parameters(),
                                reference.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6,
                                       msg=f'step {step} {name}')
    assert wrapper.method.steps == 2
    with pytest.raises(ValueError, match="needs mode='parameter'"):
        make_wrapper(TinyMTL(), method=dict(type='DBMTL'))


@pytest.mark.parametrize('mode', ['representation', 'parameter'])
def test_equal_weighting_equals_plain_backward(mode):
    data = batch()
    plain = TinyMTL(aux=True)
    optimizer = torch.optim.SGD(plain.parameters(), lr=1.0)
    losses = plain(**data, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    optimizer.step()
    model = TinyMTL(aux=True)
    wrapper = make_wrapper(model, method=dict(type='EW'), mode=mode)
    model.train_step(data, wrapper)
    for (name, p), q in zip(model.named_parameters(), plain.parameters()):
        torch.testing.assert_close(p, q, msg=name)
    assert wrapper.method.last_weights.tolist() == [1.0] * 3


class QuadraticTwoTask(BaseModel):
    """theta in R^2 (the shared "encoder"), L_a = |theta - (4, 0)|^2 / 2,
    L_b = |theta - (-1, 1)|^2 / 2; at theta = 0: g_a = (-4, 0),
    g_b = (1, -1), conflicting (g_a . g_b = -4)."""

    def __init__(self):
        super().__init__()
        self.tasks = ['a', 'b']
        self.backbone = nn.Linear(1, 2, bias=False)
        nn.init.zeros_(self.backbone.weight)
        self.register_buffer('target_a', torch.tensor([4.0, 0.0]))
        self.register_buffer('target_b', torch.tensor([-1.0, 1.0]))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        theta = self.backbone(inputs)[0]
        losses = {'a.loss': 0.5 * (theta - self.target_a).pow(2).sum(),
                  'b.loss': 0.5 * (theta - self.target_b).pow(2).sum()}
        return losses if mode == 'loss' else theta


@pytest.mark.parametrize('mode', ['representation', 'parameter'])
def test_gradient_methods_provably_differ_from_ew(mode):
    """EW's direction d = g_a + g_b = (-3, -1) increases L_b to first order
    (d.g_b = -2); PCGrad (hand: d = (-2, -3), d.g_b = 1), CAGrad (c = 0.5,
    the authors' default radius: d.g_b = 0.094) and Nash-MTL (d.g_t =
    1/alpha_t > 0 by construction) decrease both losses."""
    data = dict(inputs=torch.ones(1, 1))
    lr = 0.05

    def step(method):
        model = QuadraticTwoTask()
        cfg = dict(type=method, c=0.5) if method == 'CAGrad' else \
            dict(type=method)
        wrapper = make_wrapper(model, lr=lr, method=cfg, mode=mode)
        before = model(**data, mode='loss')
        model.train_step(data, wrapper)
        after = model(**data, mode='loss')
        return model.backbone.weight.detach()[:, 0], \
            {k: float((after[k] - before[k]).detach()) for k in after}

    theta, change = step('EW')
    torch.testing.assert_close(theta, torch.tensor([3.0, 1.0]) * lr)
    assert change['b.loss'] > 0 and change['a.loss'] < 0
    theta, change = step('PCGrad')
    torch.testing.assert_close(theta, torch.tensor([2.0, 3.0]) * lr)
    for method in ('PCGrad', 'CAGrad', 'NashMTL'):
        theta, change = step(method)
        assert change['a.loss'] < 0 and change['b.loss'] < 0, (method,
                                                               change)
        assert not torch.allclose(theta, torch.tensor([3.0, 1.0]) * lr)


def test_split_losses_groups_tasks_and_extra():
    losses = {'a.loss_ce': torch.tensor(1.0), 'a.loss_ce_ds0':
              torch.tensor(0.5), 'a.unweighted': torch.tensor(9.0),
              'b.loss_l1': [torch.tensor(2.0), torch.tensor(1.0)],
              'aux.loss_ccr': torch.tensor(0.25),
              'ssl.rot.loss_ce': torch.tensor(0.125),
              'ssl.rot.acc': torch.tensor(50.0), 'weight.a': torch.tensor(1.)}
    task_losses, extra = split_losses(losses, ['a', 'b', 'c'])
    assert [None if v is None else float(v) for v in task_losses] == \
        [1.5, 3.0, None]
    assert float(extra) == 0.375


def test_bfloat16_autocast_with_loss_scaling_and_overflow():
    data = batch()
    results = []
    for loss_scale in (None, 1024.0):
        model = TinyMTL()
        wrapper = make_wrapper(model, method=dict(type='NashMTL'),
                               dtype='bfloat16', loss_scale=loss_scale)
        model.train_step(data, wrapper)
        results.append(params(model))
    for name in results[0]:
        torch.testing.assert_close(results[0][name], results[1][name],
                                   msg=name)
    # overflow: an infinite target -> the scaler skips the step and backs
    # off, as it would after one ordinary backward pass
    model = TinyMTL()
    wrapper = make_wrapper(model, method=dict(type='PCGrad'),
                           dtype='bfloat16', loss_scale='dynamic')
    bad = batch()
    bad['data_samples'][0, 1] = float('inf')
    before = params(model)
    model.train_step(bad, wrapper)
    assert wrapper.loss_scaler.get_scale() == 65536.0 * 0.5
    for name, value in params(model).items():
        assert torch.equal(value, before[name]), name
    assert wrapper.method.steps == 0  # no solver ran on inf/nan


@pytest.mark.parametrize('method,mode', [('GradVac', 'representation'),
                                         ('DBMTL', 'parameter')])
def test_stateful_methods_under_bfloat16_with_loss_scaling(method, mode):
    """GradVac's targets and DB-MTL's gradient averages see unscaled
    gradients: the same parameters and state with and without a scale."""
    results = []
    for loss_scale in (None, 1024.0):
        model = TinyMTL()
        wrapper = make_wrapper(model, lr=0.1, method=dict(type=method),
                               mode=mode, dtype='bfloat16',
                               loss_scale=loss_scale)
        for seed in (1, 2):
            model.train_step(batch(seed), wrapper)
        results.append((params(model), wrapper.method.state_dict()))
    (first, state), (second, scaled_state) = results
    for name in first:
        torch.testing.assert_close(first[name], second[name], msg=name)
    key = 'targets' if method == 'GradVac' else 'grad_average'
    torch.testing.assert_close(state[key], scaled_state[key])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('mode', ['representation', 'parameter'])
def test_float16_autocast_with_dynamic_loss_scale_on_cuda(mode):
    """float16 autocast + dynamic scale on the GPU: the same update (to
    float16 tolerance) as float32, and an overflow is skipped."""
    data = {k: v.cuda() for k, v in batch().items()}
    results = []
    for dtype, loss_scale in ((None, None), ('float16', 'dynamic')):
        model = TinyMTL().cuda()
        wrapper = make_wrapper(model, lr=0.1, method=dict(type='NashMTL'),
                               mode=mode, dtype=dtype,
                               loss_scale=loss_scale)
        model.train_step(data, wrapper)
        results.append(params(model))
    for name in results[0]:
        torch.testing.assert_close(results[0][name], results[1][name],
                                   rtol=2e-2, atol=2e-3, msg=name)
    model = TinyMTL().cuda()
    wrapper = make_wrapper(model, method=dict(type='PCGrad'), mode=mode,
                           dtype='float16', loss_scale='dynamic')
    bad = {k: v.clone() for k, v in data.items()}
    bad['data_samples'][0, 1] = float('inf')
    before = params(model)
    model.train_step(bad, wrapper)
    assert wrapper.loss_scaler.get_scale() == 65536.0 * 0.5
    for name, value in params(model).items():
        assert torch.equal(value, before[name]), name


@pytest.mark.parametrize('method', ['FAMO', 'NashMTL', 'GradNorm', 'RLW',
                                    'PCGrad', 'GLS', 'GradVac', 'DBMTL'])
def test_resume_is_exact(method):
    def run(model, wrapper, seeds):
        for seed in seeds:
            model.train_step(batch(seed), wrapper)

    model = TinyMTL()
    wrapper = make_wrapper(model, lr=0.05, method=dict(type=method),
                           mode='parameter')
    run(model, wrapper, [1, 2])
    buffer = io.BytesIO()
    torch.save(dict(model=model.state_dict(), optim=wrapper.state_dict()),
               buffer)
    run(model, wrapper, [3, 4, 5])
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)
    resumed = TinyMTL(seed=7)
    resumed.load_state_dict(checkpoint['model'])
    resumed_wrapper = make_wrapper(resumed, lr=0.05,
                                   method=dict(type=method),
                                   mode='parameter')
    resumed_wrapper.load_state_dict(checkpoint['optim'])
    run(resumed, resumed_wrapper, [3, 4, 5])
    for (name, p), q in zip(model.named_parameters(), resumed.parameters()):
        assert torch.equal(p, q), name
    assert str(wrapper.method.state_dict()) == \
        str(resumed_wrapper.method.state_dict())


def test_bad_configuration_errors():
    model = TinyMTL()
    with pytest.raises(ValueError, match='mode must be one of'):
        make_wrapper(model, mode='features')
    with pytest.raises(ValueError, match='dtype must be one of'):
        make_wrapper(model, dtype='float8')
    with pytest.raises(ValueError, match="loss_scale must be 'dynamic'"):
        make_wrapper(model, loss_scale=-1)
    wrapper = make_wrapper(model, method=dict(type='PCGrad'),
                           mode='parameter', shared_modules=['encoder'])
    with pytest.raises(ValueError, match="names 'encoder'"):
        model.train_step(batch(), wrapper)
    wrapper = make_wrapper(model, method=dict(type='PCGrad'))
    with pytest.raises(RuntimeError, match='found no loss dict'):
        wrapper.update_params(torch.tensor(1.0))


def test_two_gloo_processes_equal_one_process_full_batch():
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone',
         '--nproc_per_node=2', osp.join(HERE, 'mtl_dist_worker.py')],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert output.count('MTL-DIST-OK') == 2, output[-3000:]


def test_runner_trains_segmentor_and_checkpoints_method_state(
        tiny_synthetic_root, tmp_path, mode='representation'):
    """The demo config (tiny backbone) with Nash-MTL: MMEngine's runner
    trains through the wrapper, the weights and gradient cosines are
    logged, and the checkpoint (loadable with weights_only=True) carries
    Nash-MTL's previous solution."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmmtl.utils.checkpoint_safety import \
        install_safe_checkpoint_loading
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/hps/hps_resnet18_500it_synthetic-128x160.py'))
    cfg.work_dir = str(tmp_path)
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    cfg.model.decode_head.update(in_channels=[8, 16, 32, 64], channels=8)
    cfg.train_dataloader.update(batch_size=2, num_workers=0,
                                persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=tiny_synthetic_root,
                                        generate_if_missing=False)
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline[2].update(scale=(80, 64))
    pipeline[3].update(crop_size=(64, 80))
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.visualization = dict(
        type='MultiTaskVisualizationHook', draw=False)
    cfg.log_level = 'WARNING'
    cfg.optim_wrapper = dict(type='MultiTaskOptimWrapper',
                             optimizer=cfg.optim_wrapper.optimizer,
                             method=dict(type='NashMTL'), mode=mode)
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    tasks = runner.model.tasks
    assert len(hub.get_scalar(f'train/mtl_weight/{tasks[0]}').data[0]) == 2
    assert f'train/grad_cos/{tasks[0]}-{tasks[1]}' in hub.log_scalars
    install_safe_checkpoint_loading()
    checkpoint = torch.load(osp.join(str(tmp_path), 'iter_2.pth'),
                            weights_only=True)
    state = checkpoint['optimizer']['mtl_method']
    assert state['tasks'] == tasks and state['steps'] == 2
    assert torch.equal(state['prev_alpha'],
                       runner.optim_wrapper.method.prev_alpha)


METHOD_CONFIG_SETS = {
    # suffix: (optimizer, last shared layer of GradNorm)
    'resnet18_500it_synthetic-128x160': ('AdamW', 'backbone.layer4'),
    'hrnet18_20k_nyud-480x640': ('Adam', 'neck.fpn_convs'),
    'hrnet18_50k_pascal-context-512x512': ('Adam', 'neck.fpn_convs'),
}


@pytest.mark.parametrize('suffix', sorted(METHOD_CONFIG_SETS))
def test_method_configs_build(suffix):
    """Every configs/mtl_methods config of a set (the synthetic demo and the
    NYUD-v2 / PASCAL-Context HRNet-18 baselines) builds its wrapper and
    method: the equal-weighting parent and 16 methods; the GradNorm config's
    last shared layer exists in the model."""
    import glob

    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS
    optimizer, last_shared = METHOD_CONFIG_SETS[suffix]
    paths = sorted(glob.glob(
        osp.join(REPO, f'configs/mtl_methods/*_{suffix}.py')))
    assert len(paths) == 17
    assert any(p.endswith(f'/ew_{suffix}.py') for p in paths)
    for path in paths:
        cfg = Config.fromfile(path)
        assert cfg.optim_wrapper.type == 'MultiTaskOptimWrapper'
        assert cfg.optim_wrapper.optimizer.type == optimizer
        MTL_METHODS.build(cfg.optim_wrapper.method)
        if 'gradnorm' in path:
            cfg.model.backbone.init_cfg = None  # no download
            model = MODELS.build(cfg.model)
            wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
            wrapper._bind(model)
            assert wrapper.shared_modules == [last_shared]
            assert len(wrapper._shared) == len(list(
                model.get_submodule(last_shared).parameters()))


def test_every_method_config_belongs_to_a_set():
    import glob
    paths = glob.glob(osp.join(REPO, 'configs/mtl_methods/*.py'))
    assert len(paths) == 17 * len(METHOD_CONFIG_SETS)


def test_gram_over_column_blocks_equals_the_direct_product():
    """The float64 Gram matrix summed over column blocks (bounded memory)
    equals the product of the whole matrix, also when N is not a multiple
    of the block."""
    from mmmtl.engine.optim_wrappers.multitask_optim_wrapper import \
        MultiTaskOptimWrapper
    matrix = torch.randn(4, 1001, generator=torch.Generator().manual_seed(0))
    reference = matrix.double() @ matrix.double().T
    for chunk in (7, 1000, 1001, 1 << 18):
        gram = MultiTaskOptimWrapper._gram(matrix, chunk=chunk)
        assert gram.dtype == torch.float64
        torch.testing.assert_close(gram, reference, rtol=1e-12, atol=1e-12)


def test_flatten_into_writes_gradients_and_keeps_zeros_for_unused():
    from mmmtl.engine.optim_wrappers.multitask_optim_wrapper import \
        MultiTaskOptimWrapper
    like = [torch.zeros(2, 3), torch.zeros(4), torch.zeros(1, 2)]
    grads = [torch.arange(6.).view(2, 3), None,
             torch.tensor([[7., 8.]], dtype=torch.bfloat16)]
    row = torch.zeros(12)
    MultiTaskOptimWrapper._flatten_into(row, grads, like)
    expected = torch.cat([torch.arange(6.), torch.zeros(4),
                          torch.tensor([7., 8.])])
    assert torch.equal(row, expected)
    assert torch.equal(row, MultiTaskOptimWrapper._flatten(grads, like))
