"""Multi-task optimisation methods: weights against hand-computed values on
toy gradients (conflicting, aligned, orthogonal) and against straightforward
transcriptions of the papers' algorithms on the gradient vectors."""
import math

import numpy as np
import pytest
import torch

from mmmtl.engine.mtl_methods import (DBMTL, FAMO, MGDA, AlignedMTL,
                                      CAGrad, EqualWeighting,
                                      GeometricLossStrategy, GradNorm,
                                      GradVac, IMTLG, NashMTL, PCGrad,
                                      RandomLossWeighting, UPGrad)
from mmmtl.engine.mtl_methods.nash_mtl import nash_bargaining_weights
from mmmtl.registry import MTL_METHODS

CONFLICTING = torch.tensor([[1.0, 0.0], [-1.0, 1.0]], dtype=torch.float64)
ALIGNED = torch.tensor([[1.0, 1.0], [2.0, 1.0]], dtype=torch.float64)
ORTHOGONAL = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
THREE = torch.tensor([[1.0, 0.0, 0.5], [-0.8, 1.0, 0.0], [0.2, -1.0, 1.0]],
                     dtype=torch.float64)


def gram(g):
    return g @ g.T


def run(method, grads, losses=None):
    method.setup([f't{i}' for i in range(len(grads))])
    losses = torch.ones(len(grads), dtype=torch.float64) \
        if losses is None else losses
    return method.weights(gram(grads), losses)


def close(a, b, tol=1e-9):
    np.testing.assert_allclose(np.asarray(a, dtype=float),
                               np.asarray(b, dtype=float), atol=tol,
                               rtol=tol)


# --------------------------------------------------------------------- #
# Reference transcriptions (on gradient vectors, not Gram matrices)
# --------------------------------------------------------------------- #
def pcgrad_reference(grads, seed, step):
    """Algorithm 1 of Yu et al.: project g_i on the normal plane of each
    conflicting g_j, in the same random order the method draws."""
    torch.manual_seed(seed + step)
    out = torch.zeros(grads.shape[1], dtype=torch.float64)
    for i in range(len(grads)):
        order = torch.randperm(len(grads))
        g = grads[i].clone()
        for j in order.tolist():
            if j == i:
                continue
            dot = g @ grads[j]
            if dot < 0:
                g = g - dot / (grads[j] @ grads[j]) * grads[j]
        out = out + g
    return out


def imtlg_reference(grads):
    """Closed form of Liu et al. (ICLR 2021), Sec. 3.2: alpha_{2..T} =
    g_1 U^T (D U^T)^-1, alpha_1 = 1 - sum, U_t = u_1 - u_t, D_t = g_1 - g_t.
    """
    units = grads / grads.norm(dim=1, keepdim=True)
    d = grads[0:1] - grads[1:]
    u = units[0:1] - units[1:]
    rest = grads[0] @ u.T @ torch.linalg.inv(d @ u.T)
    return torch.cat([1 - rest.sum().reshape(1), rest])


def mgda_two_task_reference(g1, g2):
    """Min-norm point of the segment [g1, g2] (Sener and Koltun, Alg. 1)."""
    gamma = float((g2 - g1) @ g2 / ((g1 - g2) @ (g1 - g2)))
    gamma = min(max(gamma, 0.0), 1.0)
    return [gamma, 1 - gamma]


def cagrad_grid_reference(grads, c, steps=200001):
    """CAGrad for two tasks: the simplex weight by grid search, then
    d = (g0 + c|g0|/|gw| gw) / (1 + c^2)."""
    g = grads.numpy()
    g0 = g.mean(0)
    gamma = np.linspace(0.0, 1.0, steps)[:, None]
    gw = gamma * g[0] + (1 - gamma) * g[1]  # (steps, N)
    values = gw @ g0 + c * np.linalg.norm(g0) * np.linalg.norm(gw, axis=1)
    best = gw[np.argmin(values)]
    d = g0 + c * np.linalg.norm(g0) / np.linalg.norm(best) * best
    return d / (1 + c**2)


def aligned_reference(grads):
    """Algorithm 1 of Senushkin et al.: eigen-decompose G G^T, rescale every
    principal direction to the smallest singular value, average."""
    values, vectors = np.linalg.eigh(gram(grads).numpy())
    sigma = np.sqrt(values)
    balance = sigma.min() * vectors @ np.diag(1 / sigma) @ vectors.T
    aligned = balance @ grads.numpy()  # rows: aligned task gradients
    return aligned.mean(0)


def upgrad_reference_two(g1, g2):
    """UPGrad for two tasks: each g_i projected onto the dual cone
    {x: x.g1 >= 0, x.g2 >= 0}; then the mean (Quinton and Rey, Eq. 5)."""
    def project(g, other):
        dot = g @ other
        return g if dot >= 0 else g - dot / (other @ other) * other
    return (project(g1, g2) + project(g2, g1)) / 2


def gradvac_reference(grads, targets, beta, seed, step):
    """Algorithm 1 of Wang et al. on the gradient vectors: for every task i
    and every other task j (in the order the method draws), raise the
    cosine of the modified g_i with g_j to the target phi_hat_ij when it
    is below it, then move the target towards the cosine. Returns the
    update (the sum of the modified gradients) and the new targets."""
    targets = targets.clone()
    torch.manual_seed(seed + step)
    num = len(grads)
    out = torch.zeros(grads.shape[1], dtype=torch.float64)
    for i in range(num):
        others = [j for j in range(num) if j != i]
        order = [others[k] for k in torch.randperm(num - 1).tolist()]
        g = grads[i].clone()
        for j in order:
            phi = (g @ grads[j]) / (g.norm() * grads[j].norm())
            phi_hat = targets[i, j]
            if phi < phi_hat:
                g = g + grads[j] * g.norm() * (
                    phi_hat * (1 - phi**2).sqrt() -
                    phi * (1 - phi_hat**2).sqrt()) / (
                        grads[j].norm() * (1 - phi_hat**2).sqrt())
            targets[i, j] = (1 - beta) * phi_hat + beta * phi
        out = out + g
    return out, targets


def dbmtl_reference(grad_steps, loss_steps, beta, sigma):
    """Algorithm 1 of Lin et al. (2023) on the gradient vectors: moving
    averages of the gradients of log L_t with rate beta / k^sigma, each
    scaled to the largest norm, summed. Returns the last update."""
    average = torch.zeros_like(grad_steps[0])
    for k, (grads, losses) in enumerate(zip(grad_steps, loss_steps), 1):
        rate = beta / k**sigma
        for t in range(len(grads)):
            log_grad = grads[t] / losses[t]  # grad log L_t
            average[t] = rate * average[t] + (1 - rate) * log_grad
        norms = [float(average[t].norm()) for t in range(len(grads))]
        update = sum(max(norms) / norms[t] * average[t]
                     for t in range(len(grads)))
    return update


# --------------------------------------------------------------------- #
# Gradient-based methods
# --------------------------------------------------------------------- #
def test_pcgrad_hand_values_and_reference():
    # conflicting: g1' = g1 + g2/2, g2' = g2 + g1  ->  w = (2, 1.5)
    close(run(PCGrad(), CONFLICTING), [2.0, 1.5])
    # aligned and orthogonal: no projection, the plain sum
    close(run(PCGrad(), ALIGNED), [1.0, 1.0])
    close(run(PCGrad(), ORTHOGONAL), [1.0, 1.0])
    method = PCGrad(seed=3)
    for step in range(4):  # three tasks: the random order matters
        weights = run(method, THREE)
        close(weights @ THREE, pcgrad_reference(THREE, 3, step))


def test_mgda_hand_values():
    # conflicting: gamma = ((g2-g1).g2)/|g1-g2|^2 = 3/5
    close(run(MGDA(epsilon=1e-12, max_iters=10000), CONFLICTING),
          [0.6, 0.4], tol=1e-6)
    for grads in (ALIGNED, ORTHOGONAL):
        close(run(MGDA(epsilon=1e-12, max_iters=10000), grads),
              mgda_two_task_reference(grads[0], grads[1]), tol=1e-6)
    # aligned: g1 = (1, 1) is the min-norm point itself
    close(run(MGDA(), ALIGNED), [1.0, 0.0], tol=1e-6)


def test_imtlg_hand_values_and_reference():
    # w ∝ M^-1 sqrt(diag M) = [[2,1],[1,1]] (1, sqrt 2)
    v = np.array([2 + math.sqrt(2), 1 + math.sqrt(2)])
    close(run(IMTLG(), CONFLICTING), v / v.sum())
    for grads in (CONFLICTING, ALIGNED, ORTHOGONAL, THREE):
        weights = run(IMTLG(), grads)
        close(weights, imtlg_reference(grads), tol=1e-9)
        d = weights @ grads  # equal projections on every unit gradient
        proj = (grads / grads.norm(dim=1, keepdim=True)) @ d
        close(proj, torch.full_like(proj, float(proj[0])), tol=1e-9)


def test_aligned_mtl_hand_values_and_reference():
    # orthogonal (2,0), (0,1): B = diag(1/2, 1), w = B (1/2, 1/2)
    close(run(AlignedMTL(), ORTHOGONAL), [0.25, 0.5])
    for grads in (CONFLICTING, ALIGNED, THREE):
        close(run(AlignedMTL(), grads) @ grads, aligned_reference(grads),
              tol=1e-9)


def test_cagrad_hand_values_and_reference():
    # orthogonal unit gradients: w* = (1/2, 1/2), lambda = c
    eye = torch.eye(2, dtype=torch.float64)
    c = 0.4
    close(run(CAGrad(c=c), eye), [(1 + c) / (2 * (1 + c * c))] * 2, tol=1e-5)
    for grads in (CONFLICTING, ALIGNED, ORTHOGONAL):
        close(run(CAGrad(c=c), grads) @ grads,
              cagrad_grid_reference(grads, c), tol=2e-4)
    # c = 0: the mean gradient
    close(run(CAGrad(c=0.0, rescale=False), CONFLICTING), [0.5, 0.5],
          tol=1e-6)


def test_nash_mtl_hand_values_and_equation():
    # orthogonal: alpha_t = 1/sqrt(M'_tt), M' = diag(4, 1)/sqrt(17)
    root = 17**0.25
    close(run(NashMTL(), ORTHOGONAL), [root / 2, root], tol=1e-7)  # reg
    for grads in (CONFLICTING, ALIGNED, THREE):
        alpha = run(NashMTL(), grads)
        m = gram(grads) / torch.linalg.matrix_norm(gram(grads))
        close((m @ alpha) * alpha, torch.ones(len(grads)), tol=1e-7)
        assert bool((alpha > 0).all())


def test_nash_mtl_warm_start_and_update_every():
    method = NashMTL(update_every=2)
    first = run(method, CONFLICTING)
    second = method.weights(gram(ORTHOGONAL), torch.ones(2))  # reused
    close(second, first)
    third = method.weights(gram(ORTHOGONAL), torch.ones(2))
    close(third, [17**0.25 / 2, 17**0.25], tol=1e-7)
    cold = nash_bargaining_weights(gram(THREE))
    warm = nash_bargaining_weights(gram(THREE), init=cold * 1.3)
    close(cold, warm, tol=1e-8)


def test_upgrad_hand_values_and_reference():
    pytest.importorskip('quadprog')
    # conflicting: (g1 + g2/2 + g2 + g1) / 2 -> w = (1, 0.75)
    close(run(UPGrad(), CONFLICTING), [1.0, 0.75], tol=2e-3)
    close(run(UPGrad(), ALIGNED), [0.5, 0.5], tol=2e-3)
    for grads in (CONFLICTING, ALIGNED, ORTHOGONAL):
        close(run(UPGrad(), grads) @ grads,
              upgrad_reference_two(grads[0], grads[1]), tol=2e-3)


def test_gradnorm_hand_step():
    method = GradNorm(alpha=1.0, lr=0.1)
    losses = torch.tensor([2.0, 1.0], dtype=torch.float64)
    close(run(method, ORTHOGONAL, losses), [1.0, 1.0])  # current weights
    # norms (2, 1), G = (2, 1), r = (1, 1), target = 1.5 -> grad (2, -1)
    # w = (1 - 0.2, 1 + 0.1) renormalised to sum 2
    close(method.loss_weights, np.array([0.8, 1.1]) * 2 / 1.9)
    # losses halved for task 0 only: r = (0.5, 1) / 0.75
    w = method.weights(gram(ORTHOGONAL), torch.tensor([1.0, 1.0]))
    close(w, np.array([0.8, 1.1]) * 2 / 1.9)
    weighted = w.numpy() * np.array([2.0, 1.0])
    rates = np.array([0.5, 1.0]) / 0.75
    target = weighted.mean() * rates
    step = np.sign(weighted - target) * np.array([2.0, 1.0])
    new = np.maximum(w.numpy() - 0.1 * step, 1e-3)
    close(method.loss_weights, 2 * new / new.sum())


def test_gradvac_hand_values():
    method = GradVac(beta=0.5, eps=0.0)
    # zero targets: g1' = g1 + g2/2 (PCGrad's projection), g2' = g2 + g1
    close(run(method, CONFLICTING), [2.0, 1.5])
    phi = -1 / math.sqrt(2)
    close(method.targets, [[0.0, 0.5 * phi], [0.5 * phi, 0.0]])
    # orthogonal gradients are above the negative targets: no change
    close(method.weights(gram(ORTHOGONAL), torch.ones(2)), [1.0, 1.0])
    close(method.targets, [[0.0, 0.25 * phi], [0.25 * phi, 0.0]])
    # a positive target: g1' = (2, 0) + c (0, 1) with cos(g1', g2) = 0.5,
    # c = 2 (0.5 * 1 - 0 * sqrt(0.75)) / (1 * sqrt(0.75)) = 2 / sqrt(3)
    method = GradVac(beta=0.0, eps=0.0)
    method.setup(['a', 'b'])
    method.targets = torch.tensor([[0.0, 0.5], [0.5, 0.0]],
                                  dtype=torch.float64)
    weights = method.weights(gram(ORTHOGONAL), torch.ones(2))
    # g2' = (0, 1) + c' (2, 0), c' = 1 * 0.5 / (2 * sqrt(0.75))
    close(weights, [1 + 0.5 / (2 * math.sqrt(0.75)), 1 + 2 / math.sqrt(3)])
    modified = ORTHOGONAL[0] + 2 / math.sqrt(3) * ORTHOGONAL[1]
    close(modified @ ORTHOGONAL[1] / modified.norm(), 0.5)


def test_gradvac_reference_and_torchjd_over_steps():
    generator = torch.Generator().manual_seed(3)
    steps = [THREE] + [torch.randn(3, 6, generator=generator,
                                   dtype=torch.float64) for _ in range(3)]
    method = GradVac(beta=0.5, eps=0.0, seed=4)
    method.setup(['a', 'b', 'c'])
    targets = torch.zeros(3, 3, dtype=torch.float64)
    aggregation = pytest.importorskip('torchjd.aggregation')
    torchjd = aggregation.GradVacWeighting(beta=0.5, eps=0.0)
    for step, grads in enumerate(steps):
        weights = method.weights(gram(grads), torch.ones(3))
        expected, targets = gradvac_reference(grads, targets, 0.5, 4, step)
        close(weights @ grads, expected, tol=1e-9)
        close(method.targets, targets, tol=1e-12)
        # TorchJD's implementation draws the same orders from the same seed
        torch.manual_seed(4 + step)
        close(torchjd(gram(grads)), weights, tol=1e-9)


def test_dbmtl_hand_values_and_reference():
    method = DBMTL(beta=0.5, beta_sigma=0.0, eps=0.0)
    method.setup(['a', 'b'])
    # step 1: h = 0.5 * g / L = (0.5, 0), (0, 0.5): equal norms
    direction, scales = method.aggregate(ORTHOGONAL.float(),
                                         torch.tensor([2.0, 1.0]))
    close(direction, [0.5, 0.5], tol=1e-7)
    close(scales, [1.0, 1.0], tol=1e-7)
    # step 2: h = (0.75, 0), (-0.5, 0.75); |h| = 0.75, sqrt(0.8125)
    direction, scales = method.aggregate(CONFLICTING.float(),
                                         torch.ones(2, dtype=torch.float64))
    top = math.sqrt(0.8125)
    close(scales, [top / 0.75, 1.0], tol=1e-6)
    close(direction, [top - 0.5, 0.75], tol=1e-6)
    close(method.task_specific_weights(scales, torch.tensor([2.0, 4.0])),
          [0.5, 0.25])
    # the paper's schedule beta_k = beta / k^sigma, three tasks, four steps
    generator = torch.Generator().manual_seed(0)
    grad_steps = [torch.randn(3, 5, generator=generator, dtype=torch.float64)
                  for _ in range(4)]
    loss_steps = [torch.rand(3, generator=generator, dtype=torch.float64) + .5
                  for _ in range(4)]
    method = DBMTL(beta=0.9, beta_sigma=0.5, eps=0.0)
    method.setup(['a', 'b', 'c'])
    for grads, losses in zip(grad_steps, loss_steps):
        direction, _ = method.aggregate(grads.float(), losses)
    close(direction, dbmtl_reference(grad_steps, loss_steps, 0.9, 0.5),
          tol=1e-5)
    assert method.steps == 4


def test_gradvac_dbmtl_bad_arguments_and_state():
    with pytest.raises(ValueError, match='GradVac.beta'):
        GradVac(beta=2.0)
    with pytest.raises(ValueError, match='DBMTL.beta '):
        DBMTL(beta=1.0)
    with pytest.raises(ValueError, match='DBMTL.beta_sigma'):
        DBMTL(beta_sigma=-1)
    method = DBMTL()
    method.setup(['a', 'b'])
    method.aggregate(torch.ones(2, 3), torch.ones(2, dtype=torch.float64))
    restored = DBMTL()
    restored.load_state_dict(method.state_dict())
    assert torch.equal(restored.grad_average, method.grad_average)
    with pytest.raises(ValueError, match='restored gradient average'):
        restored.aggregate(torch.ones(2, 4),
                           torch.ones(2, dtype=torch.float64))


# --------------------------------------------------------------------- #
# Loss-based methods
# --------------------------------------------------------------------- #
def test_ew_gls_rlw_weights():
    losses = torch.tensor([2.0, 8.0], dtype=torch.float64)
    ew = EqualWeighting()
    ew.setup(['a', 'b'])
    close(ew.loss_weights(losses), [1.0, 1.0])
    # GLS = sqrt(2 * 8) = 4; d GLS / d L_t = GLS / (T L_t)
    gls = GeometricLossStrategy()
    gls.setup(['a', 'b'])
    close(gls.loss_weights(losses), [4.0 / (2 * 2.0), 4.0 / (2 * 8.0)])
    leaf = losses.clone().requires_grad_()
    (grad, ) = torch.autograd.grad(leaf.prod().sqrt(), leaf)
    close(gls.loss_weights(losses), grad)
    rlw = RandomLossWeighting(seed=5)
    rlw.setup(['a', 'b'])
    state = rlw.state_dict()
    expected = torch.softmax(torch.randn(
        2, generator=torch.Generator().manual_seed(5),
        dtype=torch.float64), 0)
    close(rlw.loss_weights(losses), expected)
    assert not torch.equal(rlw.loss_weights(losses), expected)
    rlw.load_state_dict(state)
    close(rlw.loss_weights(losses), expected)


def test_famo_weights_and_logit_update():
    famo = FAMO(lr=0.1, gamma=0.0)
    famo.setup(['a', 'b'])
    losses = torch.tensor([2.0, 4.0], dtype=torch.float64)
    # z = (1/2, 1/2), c = 1/4 + 1/8 = 3/8: w = z / (c L) = (2/3, 1/3),
    # the gradient of sum_t (z_t / c) log L_t
    close(famo.loss_weights(losses), [2 / 3, 1 / 3], tol=1e-7)
    leaf = losses.clone().requires_grad_()
    (grad, ) = torch.autograd.grad((0.5 / 0.375 * leaf.log()).sum(), leaf)
    close(famo.loss_weights(losses), grad, tol=1e-7)
    # after the step: task a's log loss fell by log 2, b's by 0
    famo.after_step(torch.tensor([2.0, 4.0]), torch.tensor([1.0, 4.0]))
    # grad of xi = J_softmax^T delta = z * (delta - z.delta)
    delta = np.array([math.log(2), 0.0])
    g = 0.5 * (delta - 0.5 * delta.sum())
    # first Adam step moves each logit by -lr * sign(g)
    close(famo.logits.detach(), -0.1 * np.sign(g), tol=1e-6)
    z = torch.softmax(famo.logits.detach(), 0)
    assert z[0] < z[1]  # the task that improved loses weight


def test_registry_and_bad_arguments():
    for name in ('EW', 'RLW', 'GLS', 'FAMO', 'PCGrad', 'CAGrad', 'NashMTL',
                 'IMTLG', 'AlignedMTL', 'MGDA', 'GradNorm', 'GradVac',
                 'DBMTL'):
        assert MTL_METHODS.build(dict(type=name)) is not None
    with pytest.raises(ValueError, match='scale_mode'):
        AlignedMTL(scale_mode='max')
    with pytest.raises(ValueError, match='update_every'):
        NashMTL(update_every=0)
    with pytest.raises(ValueError, match='CAGrad.c'):
        CAGrad(c=-1)
    method = PCGrad()
    method.setup(['a', 'b'])
    with pytest.raises(ValueError, match="state is for tasks"):
        method.setup(['a', 'c'])
