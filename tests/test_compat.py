"""Our losses against the libraries users port from: TRL's GKD JSD and Liger's fused linear JSD (value, gradient)."""
import os
import warnings

import pytest
import torch

from distillnb.chunked import chunked_divergence
from distillnb.divergences import forward_kl, js, reverse_kl

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
BETAS = (0.0, 0.1, 0.5, 0.9, 1.0)


def pair(N=37, V=53, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(N, V, generator=g, dtype=dtype), 3 * torch.randn(N, V, generator=g, dtype=dtype)


@pytest.fixture(scope="module")
def trl_jsd():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from trl.experimental.gkd.gkd_trainer import GKDTrainer
    return GKDTrainer.generalized_jsd_loss


@pytest.mark.parametrize("beta", BETAS)
def test_js_equals_trl_generalized_jsd(trl_jsd, beta):
    "Same beta convention as TRL's GKDTrainer, endpoints included (forward KL at 0, reverse KL at 1): value and gradient."
    zs, zt = pair()
    for temperature in (1.0, 2.0):
        a, b = zs.clone().requires_grad_(), zs.clone().requires_grad_()
        ours = js(a, zt, beta=beta, temperature=temperature)
        theirs = trl_jsd(b, zt, beta=beta, temperature=temperature, reduction="batchmean")
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)
        ours.backward(); theirs.backward()
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-9, atol=1e-12)


def test_js_endpoints_are_never_a_silent_zero():
    zs, zt = pair()
    assert js(zs, zt, beta=0.0) > 0 and js(zs, zt, beta=1.0) > 0
    torch.testing.assert_close(js(zs, zt, beta=0.0), forward_kl(zs, zt))
    torch.testing.assert_close(js(zs, zt, beta=1.0), reverse_kl(zs, zt))
    # the scaled form equals them at the endpoints and is continuous there (its limits: tested in nbs/00_divergences)
    torch.testing.assert_close(js(zs, zt, beta=0.0, scaled=True), forward_kl(zs, zt))
    torch.testing.assert_close(js(zs, zt, beta=1.0, scaled=True), reverse_kl(zs, zt))


@pytest.mark.parametrize("beta", BETAS)
def test_chunked_js_with_hard_loss_equals_liger(beta):
    "Liger's LigerFusedLinearJSDLoss (its torch path): soft + hard loss from hidden states, value and gradients."
    from liger_kernel.chunked_loss import LigerFusedLinearJSDLoss
    g = torch.Generator().manual_seed(1)
    N, V, Hs, Ht = 29, 41, 12, 20
    hs, Ws = torch.randn(N, Hs, generator=g, dtype=torch.float64), torch.randn(V, Hs, generator=g, dtype=torch.float64) / 2
    ht, Wt = torch.randn(N, Ht, generator=g, dtype=torch.float64), torch.randn(V, Ht, generator=g, dtype=torch.float64) / 2
    y = torch.randint(0, V, (N,), generator=g); y[:5] = -100
    liger = LigerFusedLinearJSDLoss(weight_hard_loss=0.3, weight_soft_loss=0.7, beta=beta, temperature=1.5,
                                    compiled=False, chunk_size=8)
    a1, w1 = hs.clone().requires_grad_(), Ws.clone().requires_grad_()
    a2, w2 = hs.clone().requires_grad_(), Ws.clone().requires_grad_()
    theirs = liger(a1, w1, ht, Wt, y)
    ours = chunked_divergence(a2, w2, ht, Wt, labels=y, divergence="js", beta=beta, temperature=1.5, kd_weight=0.7,
                              ce_weight=0.3, chunk_size=8)
    torch.testing.assert_close(ours, theirs.to(ours.dtype), rtol=1e-6, atol=1e-9)  # Liger returns its loss in float32
    theirs.backward(); ours.backward()
    torch.testing.assert_close(a2.grad, a1.grad.to(a2.dtype), rtol=1e-5, atol=1e-8)  # Liger's chunks run in float32
    torch.testing.assert_close(w2.grad, w1.grad.to(w2.dtype), rtol=1e-5, atol=1e-8)
