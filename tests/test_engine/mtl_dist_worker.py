"""Run by torchrun (2 processes) from test_multitask_optim_wrapper.py.

For gradient-based methods in both modes (DB-MTL: parameter mode only)
and FAMO: a tiny multi-task model wrapped
in MMEngine's MMDistributedDataParallel takes 3 steps on its half of each
batch; the parameters must be identical on both ranks and equal (to float
tolerance) to one process taking the same steps on the whole batches.
Prints MTL-DIST-OK and exits 0 on success.
"""
import os
import os.path as osp
import sys

import torch
import torch.distributed as dist

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, osp.dirname(osp.dirname(HERE)))

from mmengine.model import MMDistributedDataParallel  # noqa: E402

from test_multitask_optim_wrapper import (TinyMTL, batch,  # noqa: E402
                                          make_wrapper)


def run(method, mode, distributed):
    model = TinyMTL(aux=True)
    wrapper = make_wrapper(model, lr=0.1, method=dict(type=method),
                           mode=mode)
    rank, world = dist.get_rank(), dist.get_world_size()
    runner = MMDistributedDataParallel(model, device_ids=None) \
        if distributed else model
    for seed in (1, 2, 3):
        data = batch(seed, n=4)
        if distributed:
            half = slice(rank * 2, rank * 2 + 2)
            data = {k: v[half] for k, v in data.items()}
        runner.train_step(data, wrapper)
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def main() -> int:
    dist.init_process_group('gloo')
    torch.set_num_threads(1)
    for method in ('PCGrad', 'NashMTL', 'GradNorm', 'FAMO', 'GradVac',
                   'DBMTL'):
        # DB-MTL averages gradient vectors: parameter mode only
        modes = ('parameter', ) if method == 'DBMTL' else (
            'representation', 'parameter')
        for mode in modes:
            flat = run(method, mode, distributed=True)
            gathered = [torch.zeros_like(flat) for _ in range(2)]
            dist.all_gather(gathered, flat)
            assert torch.equal(gathered[0], gathered[1]), (method, mode)
            single = run(method, mode, distributed=False)
            torch.testing.assert_close(flat, single, rtol=1e-5, atol=1e-6,
                                       msg=f'{method} {mode}')
    print('MTL-DIST-OK', os.environ.get('RANK'))
    dist.destroy_process_group()
    return 0


if __name__ == '__main__':
    sys.exit(main())
