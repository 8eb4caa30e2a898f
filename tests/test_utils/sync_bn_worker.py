"""Run by torchrun (2 processes) from test_distributed_cpu.py.

Each rank normalises its half of a fixed batch with CPUSyncBatchNorm; the
output, input gradient, summed parameter gradients and running statistics
must equal plain BatchNorm on the whole batch. Exit code 0 on success.
"""
import importlib.util
import os.path as osp
import sys

import torch
import torch.distributed as dist
import torch.nn as nn

HERE = osp.dirname(osp.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    'mmmtl_distributed',
    osp.join(HERE, '..', '..', 'mmmtl', 'utils', 'distributed.py'))
distributed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(distributed)


def main() -> int:
    distributed.init_cpu_process_group('pytorch')
    rank, world = dist.get_rank(), dist.get_world_size()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 5, 6, generator=g, dtype=torch.float64) * 3 + 1
    weight = torch.randn(4, 3, 5, 6, generator=g, dtype=torch.float64)

    ref = nn.BatchNorm2d(3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        ref.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    sync = distributed.convert_sync_batchnorm_for_cpu(
        nn.SyncBatchNorm(3).double())
    assert isinstance(sync, distributed.CPUSyncBatchNorm)
    sync.load_state_dict(ref.state_dict())

    x_ref = x.clone().requires_grad_()
    ref_out = ref(x_ref)
    (ref_out * weight).sum().backward()

    half = slice(rank * 2, rank * 2 + 2)
    x_sync = x[half].clone().requires_grad_()
    out = sync(x_sync)
    (out * weight[half]).sum().backward()
    grads = torch.cat([sync.weight.grad, sync.bias.grad])
    dist.all_reduce(grads)  # DDP would average; the sum is the full batch's

    checks = dict(
        output=torch.allclose(out, ref_out.detach()[half], atol=1e-10),
        input_grad=torch.allclose(x_sync.grad, x_ref.grad[half],
                                  atol=1e-10),
        param_grad=torch.allclose(
            grads, torch.cat([ref.weight.grad, ref.bias.grad]), atol=1e-9),
        running_mean=torch.allclose(sync.running_mean, ref.running_mean,
                                    atol=1e-12),
        running_var=torch.allclose(sync.running_var, ref.running_var,
                                   atol=1e-12),
    )
    sync.eval()
    ref.eval()
    checks['eval'] = torch.allclose(sync(x[half]), ref(x[half]), atol=1e-12)
    print(f'rank {rank}/{world}: {checks}', flush=True)
    dist.destroy_process_group()
    return 0 if all(checks.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
